// torchrun and Slurm: one command per node with c10d rendezvous, the sbatch script with the NCCL
// hints that suit the profile's links, the worker's launch.json or the user's script.
import { onDomainsOf } from "../../src/domain-slice.js";
import { describe, expect, it } from "vitest";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { loadProfile } from "../../src/load.js";
import { loadEngine } from "../../src/load-engine.js";
import { LLAMA, cli, h100, model, pcie, plan, tempDir, training } from "./helpers.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const p = plan({ tp: 8, pp: 2, zero: 1 });

describe("torchrun", () => {
  it("64 GPUs on 8-GPU nodes: eight commands, node ranks 0-7, the worker reading launch.json", () => {
    const r = exportPlan("torchrun", model(LLAMA), p, training(), h100);
    expect(r.files.map((f) => f.name)).toEqual(["torchrun.sh", "launch.json"]);
    const lines = r.files[0]!.content.split("\n").filter((l) => l.startsWith("torchrun "));
    expect(lines.length).toBe(8);
    expect(lines[3]).toBe(
      `torchrun --nnodes 8 --nproc-per-node 8 --node-rank 3 --rdzv-backend c10d --rdzv-endpoint "$MASTER_ADDR:29500" --rdzv-id paraplan-llama3-70b -m executor.worker --spec launch.json`,
    );
    const spec = JSON.parse(r.files[1]!.content);
    expect(spec.plan).toEqual(p);
    expect(spec.training).toMatchObject({ globalBatch: 512, seqLen: 2048, precision: "bf16" });
    expect(spec.device).toBe("cuda");
  });
  it("on the cpu profile the worker runs on CPU ranks, eager, as execute --device cpu does, and the CLI prices it on paraplan (QA: the spec said cuda and compile on a CPU plan)", async () => {
    const cpu = loadProfile("cpu");
    const r = exportPlan("torchrun", model("tiny"), plan({ dp: 2 }), training({ gpus: 2, globalBatch: 8, seqLen: 32 }), cpu);
    const spec = JSON.parse(r.files[1]!.content);
    expect([spec.device, spec.execution.compile]).toEqual(["cpu", false]);
    // (the export's engine follows: paraplan, the eager worker, not paraplan-compile; plan --json of
    // the same request on paraplan gives the same tokens/s)
    const dir = join(tempDir(), "tiny-cpu");
    const out = await cli(["export", "--format", "torchrun", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--out", dir]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "launch.json"), "utf8")).device).toBe("cpu");
    const planned = await cli(["plan", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--engine", "paraplan", "--json", "--top", "1"]);
    const best = (JSON.parse(planned.stdout) as { plans: { tokensPerSecond: number }[] }).plans[0]!;
    expect(out.stdout).toContain(`predicted ${Math.round(best.tokensPerSecond).toLocaleString("en-US")} tokens/s`);
  });
  it("a user's script and endpoint replace the worker; no launch.json", () => {
    const r = exportPlan("torchrun", model(LLAMA), p, training(), h100, { script: "train.py --config run.yaml", rdzvEndpoint: "10.0.0.1:29400" });
    expect(r.files.map((f) => f.name)).toEqual(["torchrun.sh"]);
    const last = r.files[0]!.content.trim().split("\n").at(-1)!;
    expect(last).toBe(
      "torchrun --nnodes 8 --nproc-per-node 8 --node-rank 7 --rdzv-backend c10d --rdzv-endpoint 10.0.0.1:29400 --rdzv-id paraplan-llama3-70b train.py --config run.yaml",
    );
  });
  it("GPU counts that do not fill whole nodes are refused", () => {
    expect(() => exportPlan("torchrun", model(LLAMA), plan({ tp: 4, pp: 1 }), training({ gpus: 12 }), h100)).toThrow(ExportRefused);
  });
});

describe("the worker's compile rule (executor/compile-mode.ts)", () => {
  // launch.json asks the worker to compile on CUDA; it runs zero-bubble stages eager, and the
  // export predicts such a plan as execute does, with the eager engine
  const compiled = { ...training(), engine: loadEngine("paraplan-compile") };
  const zbv = plan({ tp: 8, pp: 2, vpp: 2, zero: 1, schedule: "zbv" });
  it("a zbv plan is predicted with engine paraplan, and says why; a 1F1B one keeps paraplan-compile", () => {
    const eager = exportPlan("torchrun", model(LLAMA), zbv, compiled, h100);
    expect(eager.training.engine?.name).toBe("paraplan");
    expect(eager.notes.join(" ")).toContain("paraplan's worker runs this plan eager (schedule zbv: torch cannot compile zero-bubble stages");
    expect(exportPlan("slurm", model(LLAMA), zbv, compiled, h100).training.engine?.name).toBe("paraplan");
    expect(exportPlan("torchrun", model(LLAMA), p, compiled, h100).training.engine?.name).toBe("paraplan-compile");
  });
});

describe("slurm", () => {
  const sbatch = (hw = h100, gpus = 64, script?: string) =>
    exportPlan("slurm", model(LLAMA), gpus === 8 ? plan({ tp: 8, pp: 1 }) : p, training({ gpus }), hw, script ? { script } : {}).files[0]!.content;

  it("DGX H100: 8 nodes, one torchrun task per node, NVLS on, NVLink P2P and InfiniBand hints commented", () => {
    const s = sbatch();
    for (const line of ["#SBATCH --nodes=8", "#SBATCH --ntasks-per-node=1", "#SBATCH --gpus-per-node=8", "export NCCL_NVLS_ENABLE=1", "# export NCCL_P2P_LEVEL=NVL", "# export NCCL_IB_HCA=mlx5", "# export NCCL_SOCKET_IFNAME=^lo,docker"])
      expect(s.split("\n"), line).toContain(line);
    expect(s).toContain(
      `srun bash -c 'torchrun --nnodes "$SLURM_NNODES" --nproc-per-node 8 --node-rank "$SLURM_NODEID" --rdzv-backend c10d --rdzv-endpoint "$MASTER_ADDR:$MASTER_PORT" --rdzv-id "$SLURM_JOB_ID" -m executor.worker --spec launch.json'`,
    );
    expect(s).toContain('export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)');
  });
  it("PCIe H100: no NVLS, P2P across PCIe switches suggested", () => {
    const s = sbatch(pcie);
    expect(s).not.toContain("NCCL_NVLS_ENABLE");
    expect(s.split("\n")).toContain("# export NCCL_P2P_LEVEL=PXB");
  });
  it("B200 and GB200 NVL72, whose NVLS the planner prices (fabric.nvls), get it on; the MI300X's Infinity Fabric does not", () => {
    for (const name of ["dgx-b200", "gb200-nvl72"]) expect(sbatch(loadProfile(name)).split("\n"), name).toContain("export NCCL_NVLS_ENABLE=1");
    const mi = sbatch(loadProfile("mi300x"));
    expect(mi).not.toContain("NVLS");
    expect(mi.split("\n")).toContain("# GPUs in a node talk over AMD Infinity Fabric (xGMI); RCCL picks it by itself and reads the same NCCL_* variables");
  });
  it("GB200 NVL72: the plan's NVLink groups need whole 72-GPU domains, 18 nodes of 4, in rank order: said; not on 8-GPU nodes", () => {
    const s = sbatch(loadProfile("gb200-nvl72"), 144);
    expect(s).toContain("# The plan prices groups inside 72-GPU NVLink domains on NVLink: the nodes must fill whole domains (18 nodes of 4) in rank order,");
    expect(sbatch(loadProfile("dgx-b200"))).not.toContain("NVLink domains");
    // a block topology's segment of 18 nodes, as a comment (sites without the plugin refuse it)
    expect(s.split("\n")).toContain("# #SBATCH --segment=18");
    expect(s.split("\n").filter((l) => l.startsWith("#SBATCH --segment"))).toEqual([]);
  });
  it("--gpus-per-domain 64 (src/domain-slice.ts): 16 nodes of 4 a domain, segments of 16", () => {
    const s = sbatch(onDomainsOf(loadProfile("gb200-nvl72"), 64, "gb200-nvl72"), 128);
    expect(s).toContain("# The plan prices groups inside 64-GPU NVLink domains on NVLink: the nodes must fill whole domains (16 nodes of 4) in rank order,");
    expect(s.split("\n")).toContain("# #SBATCH --segment=16");
  });
  it("A100 NVSwitch is not Hopper: no NVLS; one node: no network hints", () => {
    expect(sbatch(loadProfile("dgx-a100-80g"))).not.toContain("NCCL_NVLS_ENABLE");
    const one = sbatch(h100, 8);
    expect(one).toContain("#SBATCH --nodes=1");
    expect(one).not.toContain("NCCL_IB_HCA");
  });
  it("the cpu profile: the node's ranks are cores (--cpus-per-task), no GPUs asked and no NCCL hints (QA: --gpus-per-node=8 and NCCL P2P hints for CPU ranks)", () => {
    const s = exportPlan("slurm", model("tiny"), plan({ dp: 8 }), training({ gpus: 8, globalBatch: 8, seqLen: 32 }), loadProfile("cpu")).files[0]!.content;
    expect(s.split("\n")).toContain("#SBATCH --cpus-per-task=8");
    expect(s).not.toContain("--gpus-per-node");
    expect(s).not.toContain("NCCL_");
    expect(s).toContain("--nproc-per-node 8");
  });
  it("a script with single quotes survives bash -c quoting", () => {
    expect(sbatch(h100, 64, "train.py --name 'run a'")).toContain(`train.py --name '\\''run a'\\'''`);
  });
});
