// `plan --from`: a value the script or config gives that cannot form a plan is named where the file
// states it (file, its own flag or key, line), never as a paraplan flag the user did not type
// ("--tp: 3 does not divide…", "--precision: … no fp8"). A value the user gave on paraplan's
// command line still names that flag. Llama 3 8B: 32 layers, 32 heads, 8 K/V heads.
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempFile } from "./helpers.js";

afterAll(removeTemp);

let n = 0;
const file = (ext: string, text: string) => tempFile(`from-errors-${n++}.${ext}`, text);
const nameOf = (path: string) => path.split("/").pop()!;

/** paraplan's own flags for what a configuration states (a file gave them; the user did not). */
const PARAPLAN_FLAG = /--(tp|pp|dp|cp|ep|vpp|zero|micro-batch|global-batch|seq|precision|schedule|recompute|stage-layers|cp-comm|moe-imbalance)(?![\w-])/;

/** Exit 2 with one line (warnings aside), which is returned. */
async function refused(argv: string[]): Promise<string> {
  const r = await cli(["plan", ...argv]);
  const lines = r.errLines.filter((l) => !l.startsWith("paraplan: warning:"));
  expect(r.code, `${argv.join(" ")}\n${r.stdout}`).toBe(2);
  expect(lines, argv.join(" ")).toHaveLength(1);
  expect(lines[0]!.includes("\n")).toBe(false);
  return lines[0]!;
}

describe("a Megatron-LM launch script", () => {
  // Line 1 the launcher (8 GPUs), line 2 the sequence and precision, line 3 the case's flags.
  const script = (flags: string) => file("sh", `torchrun --nproc-per-node 8 pretrain_gpt.py \\\n  --seq-length 8192 --bf16 \\\n  ${flags}\n`);
  // The same flags without a launcher (--gpus gives the count): the case's flags on line 3.
  const args = (flags: string) => file("txt", `# pretrain_gpt.py arguments\n--seq-length 8192 --bf16\n${flags}\n`);

  it("a layout rule's dimension is the script's flag and line", async () => {
    const cases: [string, string, string][] = [
      // tp 3 on 24 GPUs: 3 ∤ 32 heads
      ["24", "--tensor-model-parallel-size 3 --micro-batch-size 1 --global-batch-size 512", "--tensor-model-parallel-size 3 (line 3): 3 does not divide the 32 attention heads (the plan read: tp 3 · pp 1 · dp 8"],
      // tp 16 on 16 GPUs: 16 ∤ 8 K/V heads
      ["16", "--tensor-model-parallel-size 16 --micro-batch-size 1 --global-batch-size 512", "--tensor-model-parallel-size 16 (line 3): 16 does not divide the 8 key/value heads"],
      // pp 64 on 64 GPUs: more stages than the 32 layers
      ["64", "--pipeline-model-parallel-size 64 --micro-batch-size 1 --global-batch-size 512", "--pipeline-model-parallel-size 64 (line 3): 64 stages for 32 layers: every stage needs at least one"],
      // cp 3, zig-zag: 2·3 = 6 ∤ 8192
      ["24", "--context-parallel-size 3 --micro-batch-size 1 --global-batch-size 512", "--context-parallel-size 3 (line 3): 2·cp = 6 does not divide the sequence length 8192"],
    ];
    for (const [gpus, flags, says] of cases) {
      const path = args(flags);
      const line = await refused(["--model", "llama3-8b", "--gpus", gpus, "--from", path]);
      expect(line).toContain(`paraplan: ${nameOf(path)}: ${says}`);
      expect(line).not.toMatch(PARAPLAN_FLAG);
    }
  });

  it("the GPU and batch arithmetic names the flags that make it, with their lines", async () => {
    // 8 GPUs from torchrun: tp 3 leaves no whole dp; micro-batch 3 × dp 8 = 24 ∤ 512
    const tp3 = script("--tensor-model-parallel-size 3 --micro-batch-size 1 --global-batch-size 512");
    expect(await refused(["--model", "llama3-8b", "--from", tp3])).toBe(
      `paraplan: ${nameOf(tp3)}: --tensor-model-parallel-size 3 (line 3) × pipeline 1 = 3 does not divide the 8 GPUs (${nameOf(tp3)} (torchrun --nproc-per-node 8)); tp·pp·dp must be the GPU count`,
    );
    const mb3 = script("--micro-batch-size 3 --global-batch-size 512");
    const line = await refused(["--model", "llama3-8b", "--from", mb3]);
    expect(line).toBe(`paraplan: ${nameOf(mb3)}: --micro-batch-size 3 (line 3) × dp 8 = 24 does not divide the global batch, --global-batch-size 512 (line 3)`);
    expect(line).not.toMatch(PARAPLAN_FLAG);
    const negative = script("--micro-batch-size -1 --global-batch-size 512");
    expect(await refused(["--model", "llama3-8b", "--from", negative])).toBe(`paraplan: ${nameOf(negative)}:3: --micro-batch-size "-1" is not a positive integer`);
  });

  it("the request's checks name the script's flag: fp8 on a GPU without it, a forced balance on a dense model, a launcher's partial node", async () => {
    const fp8 = script("--fp8-format hybrid --micro-batch-size 1 --global-batch-size 512");
    const noFp8 = await refused(["--model", "llama3-8b", "--profile", "dgx-a100-80g", "--from", fp8]);
    expect(noFp8).toBe(`paraplan: ${nameOf(fp8)}: --fp8-format hybrid (line 3): A100 SXM4 80GB has no fp8 tensor cores; use bf16 or fp16`);
    const balanced = script("--moe-router-force-load-balancing --micro-batch-size 1 --global-batch-size 512");
    expect(await refused(["--model", "llama3-8b", "--from", balanced])).toBe(
      `paraplan: ${nameOf(balanced)}: --moe-router-force-load-balancing (line 3): llama3-8b is a dense model (no experts); pass the --model the configuration trains`,
    );
    // torchrun starts 12 ranks: not whole 8-GPU nodes
    const twelve = file("sh", "torchrun --nproc-per-node 12 pretrain_gpt.py \\\n  --seq-length 8192 --bf16 --micro-batch-size 1 --global-batch-size 12\n");
    expect(await refused(["--model", "llama3-8b", "--from", twelve])).toBe(
      `paraplan: ${nameOf(twelve)} (torchrun --nproc-per-node 12): 12 is not a whole number of dgx-h100's 8-GPU nodes; use 8 or 16, or a profile with the node size you have`,
    );
  });

  it("values the user gave on paraplan's command line keep naming the flag", async () => {
    const plain = script("--micro-batch-size 1 --global-batch-size 12");
    expect(await refused(["--model", "llama3-8b", "--gpus", "12", "--from", plain])).toMatch(/^paraplan: .*makes 8 GPUs but --gpus is 12; they must agree$/);
    const fp8 = script("--fp8-format hybrid --micro-batch-size 1 --global-batch-size 512");
    expect(await refused(["--model", "llama3-8b", "--precision", "bf16", "--from", fp8])).toBe(`paraplan: --precision bf16 but ${nameOf(fp8)} has fp8; drop the flag or change the file`);
    const flat = file("txt", "--micro-batch-size 1\n--global-batch-size 12\n--seq-length 8192\n--bf16\n");
    expect(await refused(["--model", "llama3-8b", "--gpus", "12", "--from", flat])).toMatch(/^paraplan: --gpus: 12 is not a whole number of dgx-h100's 8-GPU nodes/);
  });
});

describe("a ds_config.json", () => {
  const ds = (text: string) => file("json", text);

  it("names the key and its line", async () => {
    // 8 GPUs, dp 8: micro-batch 3 × 8 = 24 ∤ 512
    const mb3 = ds('{\n  "train_batch_size": 512,\n  "train_micro_batch_size_per_gpu": 3,\n  "bf16": {"enabled": true}\n}\n');
    const line = await refused(["--model", "llama3-8b", "--gpus", "8", "--from", mb3]);
    expect(line).toContain(`paraplan: ${nameOf(mb3)}: train_micro_batch_size_per_gpu 3 (line 3) × dp 8 = 24 does not divide the global batch, train_batch_size 512 (line 2)`);
    const negative = ds('{\n  "train_batch_size": 512,\n  "train_micro_batch_size_per_gpu": -1,\n  "bf16": {"enabled": true}\n}\n');
    expect(await refused(["--model", "llama3-8b", "--gpus", "8", "--from", negative])).toBe(`paraplan: ${nameOf(negative)}: train_micro_batch_size_per_gpu -1 (line 3): must be a positive integer`);
    const stage5 = ds('{\n  "train_micro_batch_size_per_gpu": 1,\n  "zero_optimization": {\n    "stage": 5\n  },\n  "bf16": {"enabled": true}\n}\n');
    expect(await refused(["--model", "llama3-8b", "--gpus", "8", "--from", stage5])).toBe(`paraplan: ${nameOf(stage5)}: zero_optimization.stage 5 (line 4): must be 0, 1, 2 or 3`);
  });
});

describe("a torchtitan job", () => {
  const HEAD = '[training]\nlocal_batch_size = 2\nseq_len = 4096\n\n[activation_checkpoint]\nmode = "full"\n\n[parallelism]\n';

  it("a TOML file names section.key and its line", async () => {
    const cases: [string, string, string][] = [
      ["24", "tensor_parallel_degree = 3\n", 'parallelism.tensor_parallel_degree = 3 (line 9): 3 does not divide the 32 attention heads (the plan read: tp 3'],
      ["8", 'pipeline_parallel_degree = 2\npipeline_parallel_schedule = "Foo"\n', 'parallelism.pipeline_parallel_schedule = "Foo" (line 10): "foo" is not a torch.distributed.pipelining schedule'],
      // 64 stages of 32 layers: torchtitan's generate_llm_fqn_per_model_part raises ("Number of
      // stages (64) cannot be greater than effective layers (34)", 32 + the default weights 1 + 1)
      ["64", "pipeline_parallel_degree = 64\n", "parallelism.pipeline_parallel_degree = 64 (line 9), with torchtitan's default pipeline_parallel_first_stage_less_layers 1 and pipeline_parallel_last_stage_less_layers 1: 64 stages cannot hold 32 layers"],
    ];
    for (const [gpus, extra, says] of cases) {
      const path = file("toml", HEAD + extra);
      const line = await refused(["--model", "llama3-8b", "--gpus", gpus, "--from", path]);
      expect(line).toContain(`paraplan: ${nameOf(path)}: ${says}`);
      expect(line).not.toMatch(PARAPLAN_FLAG);
    }
    const negative = file("toml", "[training]\nlocal_batch_size = -2\n");
    expect(await refused(["--model", "llama3-8b", "--gpus", "8", "--from", negative])).toBe(`paraplan: ${nameOf(negative)}: training.local_batch_size = -2 (line 2): must be an integer ≥ 1`);
  });

  it("override lines name the override and its line", async () => {
    const path = file("sh", "torchrun --nproc-per-node 8 -m torchtitan.train --training.local_batch_size 2 --activation_checkpoint.mode full \\\n  --parallelism.tensor_parallel_degree 3\n");
    const line = await refused(["--model", "llama3-8b", "--gpus", "24", "--from", path]);
    expect(line).toContain(`paraplan: ${nameOf(path)}: --parallelism.tensor_parallel_degree 3 (line 2): 3 does not divide the 32 attention heads`);
  });
});
