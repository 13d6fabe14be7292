// A --plan file's bad value is named as the file's field ("--plan FILE: field "tp": …"), not as a flag the user
// never gave ("--tp: 3 does not divide…" read as if --tp had been typed), under export and execute
// alike; the sentences name dimensions (vpp 2), not flags (--vpp 2). Flags still name themselves.
import { describe, expect, it } from "vitest";
import { runCli, tempFile } from "./helpers.js";
import { run, tmp } from "../executor/e2e-helpers.js";

const file = (name: string, plan: object) => tempFile(name, JSON.stringify(plan));

describe("errors in a --plan file", () => {
  const tp3 = file("tp3.json", { tp: 3, pp: 1, dp: 2, microBatch: 2 });
  const split = file("split.json", { tp: 1, pp: 2, dp: 1, microBatch: 2, stageLayers: [1, 2] });
  const zbv = file("zbv.json", { tp: 1, pp: 2, dp: 1, microBatch: 1, schedule: "zbv", recompute: "none" });

  it("export names the file and the field (tiny: 4 heads, 4 layers)", async () => {
    const cases: [string, string][] = [
      [tp3, `--plan ${tp3}: field "tp": 3 does not divide the 4 attention heads`],
      [split, `--plan ${split}: field "stageLayers": 1,2 sums to 3, not the model's 4 layers`],
      [zbv, `--plan ${zbv}: field "schedule": zbv runs exactly two stages per rank in a V`],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`paraplan: ${message}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("execute too (--print-launch: nothing runs)", async () => {
    // (the CLI as a process: in-process, execute leaves its exit status to the process)
    const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--plan", split, "--print-launch"], { cwd: tmp() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`paraplan: --plan ${split}: field "stageLayers": 1,2 sums to 3, not the model's 4 layers`);
  });

  it("a trainer's configuration given as --plan is pointed at plan --from (a ds_config was told field \"pp\" is missing)", async () => {
    const ds = file("ds_config.json", { train_batch_size: 16, train_micro_batch_size_per_gpu: 1, gradient_accumulation_steps: 8, bf16: { enabled: true }, zero_optimization: { stage: 1 } });
    const args = tempFile("megatron-args.txt", "--tensor-model-parallel-size 2\n--micro-batch-size 1\n");
    const worker = tempFile("torchrun.sh", "torchrun --nproc-per-node 8 -m executor.worker --spec launch.json\n");
    const cases: [string, string][] = [
      [ds, `--plan ${ds} is a DeepSpeed ds_config, not a paraplan plan (plan --json's output, an entry of its "plans", or a launch.json); a trainer's configuration is read by plan --from: give it as plan --from ${ds} (with the Megatron-DeepSpeed arguments as a second --from where the run has them)`],
      [args, `--plan ${args} is not JSON, so not a paraplan plan (plan --json's output, an entry of its "plans", or a launch.json); a trainer's configuration is read by plan --from: give it as plan --from ${args}`],
      [worker, `--plan ${worker} launches paraplan's worker (a paraplan export); give its launch.json to --plan`],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", path]);
      expect([r.code, r.stderr.trim()]).toEqual([2, `paraplan: ${message}`]);
    }
    const e = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--plan", ds, "--print-launch"], { cwd: tmp() });
    expect([e.code, e.stderr.trim()]).toEqual([2, `paraplan: ${cases[0]![1]}`]);
  });

  // QA: summary.json and trace.json were told field "pp" is missing, metrics.jsonl malformed JSON.
  it("a run's other files given as --plan are said to be what they are, pointing at plan.json", async () => {
    const summary = file("summary.json", { plan: { tp: 1, pp: 1, dp: 2, microBatch: 4 }, steps: 5, measured: { stepTime: 0.1 }, predicted: { stepTime: 0.1 } });
    const trace = file("trace.json", { traceEvents: [], displayTimeUnit: "ms" });
    const error = file("error.json", { failure: { kind: "interrupted", signal: "SIGINT" }, steps: 3 });
    const metrics = tempFile("metrics.jsonl", '{"step":1,"loss":5.5,"stepTime":0.3,"tokensPerSecond":600}\n{"step":2,"loss":5.4,"stepTime":0.3,"tokensPerSecond":600}\n');
    const tail = "not a plan; give the run's plan.json (or its launch.json) to --plan";
    const cases: [string, string][] = [
      [summary, `--plan ${summary} is a run's measured summary (summary.json), ${tail}`],
      [trace, `--plan ${trace} is a Chrome trace (a run's trace.json, or plan --trace-out's), ${tail}`],
      [error, `--plan ${error} is a run's failure record (error.json), ${tail}`],
      [metrics, `--plan ${metrics} is a run's step metrics (metrics.jsonl), ${tail}`],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", path]);
      expect([r.code, r.stderr.trim()]).toEqual([2, `paraplan: ${message}`]);
    }
    const e = await run(["--model", "tiny", "--device", "cpu", "--gpus", "2", "--plan", summary, "--print-launch"], { cwd: tmp() });
    expect([e.code, e.stderr.trim()]).toEqual([2, `paraplan: ${cases[0]![1]}`]);
  });

  it("the same dimension given as a flag still names the flag", async () => {
    const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--gpus", "6", "--tp", "3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --tp: 3 does not divide the 4 attention heads/);
  });

  // A plan flag named anywhere in a line about a file that gave the value (the user typed none).
  const PLAN_FLAG = /--(tp|pp|dp|cp|ep|etp|vpp|zero|micro-batch|schedule|recompute|stage-layers|cp-comm|cp-split|sequence-parallel)\b/;

  it("export: the rules' sentences name dimensions, not flags; an engine's refusal says to change the file", async () => {
    const interleaved = file("il.json", { tp: 1, pp: 2, dp: 1, schedule: "interleaved", microBatch: 1 });
    // tiny's global batch 8 in micro-batches of 8: 1 micro-batch, which pp 2 does not divide.
    const fewMicro = file("ilmb.json", { tp: 1, pp: 2, dp: 1, vpp: 2, schedule: "interleaved", microBatch: 8 });
    const zero3 = file("z3pp.json", { tp: 1, pp: 2, dp: 1, zero: 3, microBatch: 1 });
    const cases: [string, string][] = [
      [interleaved, `--plan ${interleaved}: field "schedule": interleaved needs vpp > 1`],
      [fewMicro, `--plan ${fewMicro}: field "microBatch": the interleaved schedule needs the micro-batch count (1) divisible by pp = 2 [interleaved_microbatches]`],
      [zero3, `--plan ${zero3}: field "zero": engine megatron-core runs ZeRO stages 0, 1 beside a pipeline, not 3 (`],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`paraplan: ${message}`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(PLAN_FLAG);
    }
    const z = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", zero3]);
    expect(z.stderr.trim()).toMatch(/; change the file or pick another --format$/);
  });

  it("export: a file's size is tp·cp·pp·dp (cp counted); with --gpus the degrees name their fields", async () => {
    // cp 2 · tp 1 · pp 1 · dp 1 = 2 GPUs (it was sized tp·pp·dp = 1: "cp 2 does not divide the 1 GPUs").
    const cp2 = file("cp2.json", { tp: 1, pp: 1, dp: 1, cp: 2, microBatch: 1 });
    const ok = await runCli(["export", "--format", "megatron", "--model", "tiny", "--plan", cp2]);
    expect(ok.code, ok.stderr).toBe(0);
    const tp2 = file("tp2.json", { tp: 2, pp: 1, dp: 1, microBatch: 1 });
    const r = await runCli(["export", "--format", "megatron", "--model", "tiny", "--gpus", "4", "--plan", tp2]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`paraplan: --plan ${tp2}: fields "tp", "pp", "dp": tp·pp·dp = 2 but there are 4 GPUs; they must multiply to the GPU count`);
  });

  it("execute: the worker's limits, its engine and the rank count name the file (and its field)", async () => {
    const exec = (path: string, ...more: string[]) => run(["--model", "tiny", "--device", "cpu", "--plan", path, "--print-launch", ...more], { cwd: tmp() });
    // pp 4 with micro-batches of 4: 8 / 4 = 2 micro-batches, fewer than the 4 stages.
    const pp4 = file("pp4.json", { tp: 1, pp: 4, dp: 1, microBatch: 4 });
    const zero3 = file("z3pp-exec.json", { tp: 1, pp: 2, dp: 1, zero: 3, microBatch: 1 });
    const dp3 = file("dp3.json", { tp: 1, pp: 1, dp: 3, microBatch: 1 });
    const cases: [string[], number, RegExp][] = [
      [[pp4], 2, /^paraplan: --plan \S+pp4\.json: field "microBatch": the worker's pipeline schedules need at least pp = 4 micro-batches, the plan has 2$/],
      [[zero3], 2, /^paraplan: --plan \S+z3pp-exec\.json: field "zero": engine paraplan runs ZeRO stages 0, 1 beside a pipeline, not 3 \(.*; execute runs paraplan's worker$/],
      // 3 ranks (the file's, no --gpus given) over 2 nodes
      [[dp3, "--nnodes", "2", "--rdzv-endpoint", "10.0.0.1:29500"], 2, /^paraplan: --plan \S+dp3\.json: its tp·cp·pp·dp = 3 ranks are not a multiple of --nnodes 2$/],
      // more ranks than --gpus: does not fit (exit 1), named by the file
      [[dp3, "--gpus", "2"], 1, /^paraplan: --plan \S+dp3\.json: the plan needs tp·cp·dp·pp = 3 devices but 2 are present$/],
    ];
    for (const [[path, ...more], code, line] of cases) {
      const r = await exec(path!, ...more);
      expect(r.code, r.stderr).toBe(code);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("CPU ranks on"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(lines[0]!.replace(/--(nnodes|gpus) \d/, "")).not.toMatch(PLAN_FLAG);
    }
  });
});


describe("a --plan file's missing fields", () => {
  it("tp, pp, dp or microBatch missing is exit 2 naming the field as missing, and the fields that default", async () => {
    const path = tempFile("no-tp.json", JSON.stringify({ pp: 1, dp: 8, microBatch: 1 }));
    const r = await runCli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--plan", path]);
    expect(r.code).toBe(2);
    expect(r.errCalls).toEqual([`paraplan: --plan ${path}: field "tp" is missing: it must be a positive integer (only cp, ep, etp, vpp (1), zero (0), recompute ("none"), sequenceParallel (false) and schedule (1F1B; interleaved with vpp > 1) have defaults)`]);
  });

  it("zero missing is ZeRO-0, as the schema documents (planner/schema/plan.ts)", async () => {
    // tp 4 · dp 2, full recompute: fits at ZeRO-0; the export says ZeRO-0 in its plan line.
    const path = tempFile("no-zero.json", JSON.stringify({ tp: 4, pp: 1, dp: 2, microBatch: 1, recompute: "full", sequenceParallel: true }));
    const r = await runCli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--plan", path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.errCalls[0]).toMatch(/^paraplan: megatron \(core_r0\.14\): tp 4 · pp 1 · dp 2 · ZeRO-0 · /);
  });
});
