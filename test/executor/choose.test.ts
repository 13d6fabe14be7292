import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Devices, parseNvidiaSmi, presentDevices, profileForGpu } from "../../executor/devices.js";
import { DoesNotFit } from "../../executor/errors.js";
import { choosePlan } from "../../src/app/choose.js";
import { UserError } from "../../src/errors.js";
import { parseEndpoint, parseExecuteArgs } from "../../src/execute-args.js";
import { planFromJson, readPlanFile } from "../../src/plan-file.js";
import { tempDir } from "../tmp-dirs.js";
import { engineLimits } from "../../src/format/engine-limits.js";
import { header } from "../../src/format/plan-text.js";

const GiB = 2 ** 30;

describe("execute flags", () => {
  it("shares the plan flags with paraplan plan and adds the run's own", () => {
    const a = parseExecuteArgs(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--steps", "3", "--zero=1", "--json", "--no-sequence-parallel"]);
    expect(a.plan.model).toBe("tiny");
    expect(a.plan.gpus).toBe(2);
    expect(a.plan.fixed).toEqual({ zero: 1, sequenceParallel: false });
    expect(a).toMatchObject({ device: "cpu", steps: 3, json: true, nnodes: 1, nodeRank: 0, printLaunch: false });
    expect(parseExecuteArgs(["--model", "tiny"]).steps).toBe(10);
  });

  it("rejects bad input naming the flag", () => {
    const bad = (argv: string[], msg: RegExp) => expect(() => parseExecuteArgs(argv)).toThrow(msg);
    bad(["--model", "tiny", "--device", "tpu"], /--device: "tpu"/);
    bad(["--model", "tiny", "--steps", "0"], /--steps/);
    bad(["--model", "tiny", "--nnodes", "2"], /--rdzv-endpoint/);
    bad(["--model", "tiny", "--nnodes", "2", "--node-rank", "2", "--rdzv-endpoint", "h:1"], /--node-rank: 2/);
    bad(["--model", "tiny", "--rdzv-endpoint", "nohost"], /HOST:PORT/);
    bad(["--model", "tiny", "--bogus"], /bogus.*execute --help/);
    bad(["--model", "tiny", "--plan", "p.json", "--tp", "2"], /--plan fixes every dimension/);
    bad(["--model", "tiny", "--zero", "5"], /--zero/);
    expect(parseEndpoint("[::1]:29400")).toEqual({ host: "[::1]", port: 29400 });
  });
});

describe("devices", () => {
  it("reads nvidia-smi and picks the built-in profile by GPU name", () => {
    const gpus = parseNvidiaSmi("NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n\n");
    expect(gpus).toEqual([{ name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20 }, { name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20 }]);
    const cases: [string, number, string | null][] = [
      ["NVIDIA H100 80GB HBM3", 80, "dgx-h100"],
      ["NVIDIA H100 PCIe", 80, "h100-pcie"],
      ["NVIDIA H200", 141, "hgx-h200"],
      ["NVIDIA A100-SXM4-80GB", 80, "dgx-a100-80g"],
      ["NVIDIA A100-SXM4-40GB", 40, "dgx-a100-40g"],
      ["NVIDIA A100 80GB PCIe", 80, "a100-pcie"],
      ["NVIDIA L40S", 45, "l40s-pcie"],
      ["NVIDIA GeForce RTX 4090", 24, null],
      ["NVIDIA B200", 179, "dgx-b200"],
      ["NVIDIA GB200", 185, "gb200-nvl72"],
      ["NVIDIA H800", 80, "h800"],
      ["NVIDIA H800 PCIe", 80, null],
    ];
    for (const [name, gib, profile] of cases) expect(profileForGpu(name, gib * GiB), name).toBe(profile);
    expect(presentDevices(undefined, 1, gpus)).toMatchObject({ device: "cuda", present: 2 });
    expect(presentDevices(undefined, 3, [])).toEqual({ device: "cpu", present: 3, gpus: [] });
  });
});

const cpu = (n: number): Devices => ({ device: "cpu", present: n, gpus: [] });
const h100 = (n: number): Devices => ({ device: "cuda", present: n, gpus: Array.from({ length: n }, () => ({ name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20 })) });
const choose = (argv: string[], devices: Devices, extra: Partial<Parameters<typeof choosePlan>[0]> = {}) => {
  const a = parseExecuteArgs(argv);
  return choosePlan({ args: a.plan, devices, nnodes: a.nnodes, planFile: undefined, forOtherMachines: false, ...extra });
};

describe("plan choice", () => {
  it("plans CPU ranks with the cpu profile and a node of the ranks started", () => {
    const c = choose(["--model", "tiny", "--gpus", "2"], cpu(2));
    expect(c.req.profileName).toBe("cpu");
    expect(c.req.hw.gpusPerNode).toBe(2);
    expect(c.perNode).toBe(2);
    expect(c.result.tp * c.result.pp * c.result.dp).toBe(2);
    expect(c.req.assumed.join("; ")).toMatch(/profile cpu/);
    // plan flags fix dimensions as in paraplan plan
    expect(choose(["--model", "tiny", "--gpus", "2", "--tp", "2"], cpu(2)).result.tp).toBe(2);
  });

  it("splits the ranks over nodes and keeps tensor parallel inside one", () => {
    const c = choose(["--model", "tiny", "--gpus", "4", "--nnodes", "2", "--rdzv-endpoint", "127.0.0.1:1"], cpu(4));
    expect(c.perNode).toBe(2);
    expect(c.result.tp).toBeLessThanOrEqual(2);
    expect(() => choose(["--model", "tiny", "--gpus", "3", "--nnodes", "2", "--rdzv-endpoint", "h:1"], cpu(3))).toThrow(/multiple of --nnodes/);
  });

  it("plans the GPUs found with the profile of their name", () => {
    const c = choose(["--model", "gpt3-1.3b"], h100(8));
    expect(c.req.profileName).toBe("dgx-h100");
    expect(c.req.training.gpus).toBe(8);
    expect(c.req.hw.memory).toBe(81559 * 2 ** 20);
  });

  it("refuses plans that need more devices or memory than present (DoesNotFit)", () => {
    expect(() => choose(["--model", "tiny", "--gpus", "16"], h100(8))).toThrow(DoesNotFit);
    expect(() => choose(["--model", "tiny"], h100(0))).toThrow(/no CUDA GPU found/);
    expect(() => choose(["--model", "llama3-70b"], h100(1))).toThrow(/no plan fits in memory; the closest.*needs .* GiB per device/);
    // --print-launch prepares commands for other machines: no devices needed here
    expect(choose(["--model", "tiny", "--device", "cuda", "--gpus", "8", "--profile", "dgx-h100"], h100(0), { forOtherMachines: true }).perNode).toBe(8);
  });

  it("checks a --plan file against the devices present", () => {
    const plan = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none" as const, sequenceParallel: false, schedule: "1f1b" as const };
    const c = choose(["--model", "tiny", "--device", "cpu"], cpu(1), { planFile: plan });
    expect(c.req.training.gpus).toBe(2); // the plan's size when --gpus is not given
    expect(c.result.dp).toBe(2);
    expect(() => choose(["--model", "tiny", "--gpus", "1"], cpu(1), { planFile: plan })).toThrow(DoesNotFit);
    expect(() => choose(["--model", "tiny"], h100(1), { planFile: plan })).toThrow(/needs 2 GPUs on this node but 1 is present/);
    expect(() => choose(["--model", "tiny", "--gpus", "4"], cpu(4), { planFile: plan })).toThrow(UserError);
    expect(() => choose(["--model", "tiny"], cpu(3), { planFile: { ...plan, dp: 3 } })).toThrow(UserError); // batch 8 over dp 3
    expect(() => choose(["--model", "llama3-70b", "--gpus", "1"], h100(1), { planFile: { ...plan, dp: 1, microBatch: 1 } })).toThrow(
      /needs .* GiB per device, .* over the .* present/,
    );
  });
});

describe("worker limits", () => {
  it("skips plans the worker cannot run and refuses such a --plan", () => {
    // tiny, 4 ranks, batch 8: pp 4 with micro-batch 2 and dp 1 gives 4 micro-batches (runnable);
    // micro-batch 4 gives 2 < pp.
    const c = choose(["--model", "tiny", "--gpus", "4", "--pp", "4"], cpu(4));
    expect(c.req.training.globalBatch / (c.result.dp * c.result.microBatch)).toBeGreaterThanOrEqual(4);
    const plan = { tp: 1, pp: 4, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0 as const, microBatch: 4, recompute: "none" as const, sequenceParallel: false, schedule: "1f1b" as const };
    expect(() => choose(["--model", "tiny"], cpu(4), { planFile: plan })).toThrow(/at least pp = 4 micro-batches, the plan has 2/);
    expect(() => choose(["--model", "tiny", "--gpus", "4", "--pp", "4", "--micro-batch", "8"], cpu(4))).toThrow(UserError);
  });

  // `execute --pp 2 --recompute selective` picked ZB-V, whose split backward SAC cannot follow:
  // the run raised inside torchrun ("Trying to backward an extra time").
  it("never picks a zero-bubble schedule with recompute, and says why when it is asked for", () => {
    for (const recompute of ["selective", "full"]) {
      const c = choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--recompute", recompute], cpu(2));
      expect(["1f1b", "interleaved", "gpipe"]).toContain(c.result.schedule);
    }
    const asked = () => choose(["--model", "tiny", "--gpus", "2", "--pp", "2", "--vpp", "2", "--schedule", "zbv", "--recompute", "selective"], cpu(2));
    expect(asked).toThrow(UserError);
    // the worker's engine profile refuses the pair first (supports.recomputeWithZeroBubble), with
    // execute's advice: the engine is not the user's to pick
    expect(asked).toThrow(/--recompute: engine paraplan runs the zbv schedule without activation recompute only, not with selective \(.*split.*\); execute runs paraplan's worker: leave --recompute to the search$/);
  });

  it("names every distinct reason the best plans cannot run, not only the best plan's", () => {
    // tp 2 does not divide the MLP's 255 columns (every plan: the worker splits it evenly, which
    // the planner does not require); the best of them also has a micro-batch that leaves one
    // micro-batch for two stages. (Was sequence parallel over 1,023 tokens, which the planner now
    // refuses itself: layout rule sp_seq.)
    const dir = tempDir("paraplan-ffn-");
    const model = join(dir, "tiny-255.json");
    writeFileSync(model, JSON.stringify({ name: "tiny-255", layers: 4, hidden: 64, heads: 4, ffnHidden: 255, vocab: 256, seqLen: 32, mlp: "gelu", positional: "learned", tiedEmbeddings: true, globalBatch: 8, gpus: 1 }));
    const asked = () => choose(["--model", model, "--gpus", "4", "--pp", "2", "--tp", "2"], cpu(4));
    // each reason with the plan it is about (QA: with 64 CPU ranks three "need at least pp = N
    // micro-batches" read alike, for plans the message did not name)
    expect(asked).toThrow(/^the best plans cannot run: tp 2 · pp 2 · [^:]*micro-batch \d+[^:]*: tp = 2 does not divide the MLP width 255; tp 2 · pp 2 · [^:]*micro-batch \d+[^:]*: the worker's pipeline schedules need at least pp = 2 micro-batches, the plan has 1; fix .*--global-batch/);
    expect(() => choose(["--model", "tiny", "--gpus", "4", "--pp", "2", "--tp", "2", "--sequence-parallel", "--seq", "1023"], cpu(4))).toThrow(/--sequence-parallel: sequence parallel splits each rank's 1,023 tokens over tp 2/);
  });

  it("runs a context-parallel --plan with the exchange the device allows (issue 14)", () => {
    const plan = { tp: 1, pp: 1, dp: 2, cp: 2, ep: 1, etp: 1, vpp: 1, zero: 0 as const, microBatch: 2, recompute: "none" as const, sequenceParallel: false, schedule: "1f1b" as const };
    const c = choose(["--model", "tiny", "--device", "cpu"], cpu(1), { planFile: plan });
    expect(c.req.training.gpus).toBe(4); // tp·cp·dp·pp
    expect(c.perNode).toBe(4);
    expect(c.result.cp).toBe(2);
    expect(() => choose(["--model", "tiny", "--gpus", "2"], cpu(2), { planFile: plan })).toThrow(/tp·cp·dp·pp = 4 devices but 2/);
    const ring = { ...plan, cpComm: "ring" as const };
    expect(() => choose(["--model", "tiny"], cpu(4), { planFile: ring })).toThrow(/ring context parallel runs on CUDA only/);
    expect(choose(["--model", "tiny"], h100(4), { planFile: ring }).result.cpComm).toBe("ring");
    expect(() => choose(["--model", "tiny"], cpu(4), { planFile: { ...plan, cpComm: "a2a" as const } })).toThrow(/Ulysses/);
  });
});

describe("the search on CPU ranks", () => {
  // QA: on CPU the header said "searched as it runs: … ring only · bf16, fp8 only", the engine's
  // set (profiles/engines/paraplan.json: allgather and ring, bf16 and fp8), though the CPU worker
  // refuses ring (workerCpRefusal) and the cpu profile has no fp8 units.
  it("searches, and says it searches, what the CPU worker runs: no ring context parallel, no fp8", () => {
    const onCpu = choose(["--model", "tiny", "--gpus", "2"], cpu(2)).req;
    expect(header(onCpu)).toMatch(/\n {2}searched as it runs: context parallel allgather only · bf16 only\n/);
    expect(engineLimits(choose(["--model", "gpt3-1.3b"], h100(8)).req.training.engine)).toBe("context parallel allgather, ring only · bf16, fp8 only");
    // A cp plan searched on CPU ranks takes the all-gather exchange.
    expect(choose(["--model", "tiny", "--gpus", "2", "--cp", "2"], cpu(2)).result.cpComm).toBe("allgather");
  });
});

describe("plan files", () => {
  it("takes one plans entry, the whole plan --json output, or a sparse hand-written plan", () => {
    const entry = { tp: 2, pp: 2, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: true, schedule: "gpipe", mfu: 0.4 };
    const { mfu: _m, ...plan } = entry;
    expect(planFromJson(entry, "p")).toEqual(plan);
    expect(planFromJson({ model: {}, plans: [entry, { ...entry, tp: 8 }] }, "p")).toEqual(plan);
    expect(planFromJson({ tp: 1, pp: 1, dp: 2, microBatch: 4 }, "p")).toEqual({
      tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b",
    });
    expect(() => planFromJson({ plans: [] }, "p")).toThrow(/empty/);
    // "plans" that is not a list is the output corrupt, not a bare plan without "pp" (QA: "plans":
    // null was told field "pp" is missing).
    const listed = 'not a list of plans (plan --json writes "plans": [ … ])';
    expect(() => planFromJson({ model: "llama3-8b", plans: null }, "p")).toThrow(`--plan p: "plans" is null, ${listed}`);
    expect(() => planFromJson({ plans: { tp: 1, pp: 1, dp: 1, microBatch: 1 } }, "p")).toThrow(`--plan p: "plans" is an object, ${listed}`);
    expect(() => planFromJson({ plans: "x" }, "p")).toThrow(`--plan p: "plans" is a string, ${listed}`);
    expect(() => planFromJson({ tp: 0, pp: 1, dp: 1, microBatch: 1 }, "p")).toThrow(/"tp" must be a positive integer/);
    expect(() => planFromJson({ tp: 1, pp: 1, dp: 1, microBatch: 1, recompute: "some" }, "p")).toThrow(/recompute/);
    const dir = tempDir("paraplan-plan-");
    writeFileSync(join(dir, "bad.json"), "{");
    expect(() => readPlanFile(join(dir, "bad.json"))).toThrow(/malformed JSON/);
    expect(() => readPlanFile(join(dir, "missing.json"))).toThrow(/cannot be read/);
  });
});
