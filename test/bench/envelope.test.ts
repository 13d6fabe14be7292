// The calibration envelope (profiles/calibration.json) and what `plan` says of a request against
// it (src/calibration-standing.ts). The committed file must be what the published runs give; the
// spans are checked against the CSV read directly, and the standing against requests inside and
// outside by hand.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrationEnvelope, engineAccuracy, envelopeText, outOfSample } from "../../bench/calibration/envelope.js";
import { predictRow, profileCache } from "../../bench/calibration/predict.js";
import { loadCalibrationRows, readCalibrationCsv } from "../../bench/calibration/rows.js";
import { calibrationStanding, envelopePath, planOutside, readEnvelope, standingLine } from "../../src/calibration-standing.js";
import { loadModel, packageRoot } from "../../src/load.js";
import type { Plan, Training } from "../../planner/index.js";
import { runCli } from "../cli/helpers.js";
import { predictNemo } from "../../bench/validation/nemo.js";
import { ownRuns } from "../../bench/calibration/own-runs.js";

describe("profiles/calibration.json", () => {
  it("is what the published runs give (rerun `node dist/bench/calibration/envelope.js` after changing them)", () => {
    // The in-sample errors recomputed here, from the committed profiles; the leave-one-source-out
    // ones need the folds' fits (npm run bench checks them), so they are taken as committed.
    const rows = loadCalibrationRows();
    const profile = profileCache();
    const inSample = rows.map((r) => predictRow(r, { profile }));
    const committed = readEnvelope().engines;
    const loso = inSample.map((p) => ({ ...p, error: committed[p.row.engine]!.accuracy.losoMean }));
    expect(readFileSync(envelopePath(), "utf8")).toBe(envelopeText(calibrationEnvelope(rows, engineAccuracy(inSample, loso), outOfSample(), ownRuns())));
  });

  it("megatron-core's errors are its 21 rows' own: mean and worst |predicted − measured| / measured", () => {
    const profile = profileCache();
    const errs = loadCalibrationRows()
      .filter((r) => /^(MEG24|DGXC)/.test(r.id))
      .map((r) => Math.abs(predictRow(r, { profile }).error!));
    const a = readEnvelope().engines["megatron-core"]!.accuracy;
    expect(errs).toHaveLength(21);
    expect(a.mean).toBeCloseTo(errs.reduce((x, y) => x + y) / 21, 3);
    expect(a.max).toBeCloseTo(Math.max(...errs), 3);
    // Left out by source, a stack's runs are predicted worse than in-sample, and still within the
    // issue's 10% target (the bench prints the per-source figures).
    expect(a.losoMean).toBeGreaterThan(a.mean);
    expect(a.losoMean).toBeLessThanOrEqual(0.1);
  });

  it("megatron-core's span is the MEG24 and DGXC rows' own columns", () => {
    const csv = readCalibrationCsv().filter((r) => /^(MEG24|DGXC)/.test(r.id!));
    const e = readEnvelope().engines["megatron-core"]!;
    expect(e.runs).toBe(csv.length);
    expect(e.runs).toBe(21); // 11 MEG24 + 10 DGXC
    expect(e.seqLen).toEqual([Math.min(...csv.map((r) => Number(r.seq_len))), Math.max(...csv.map((r) => Number(r.seq_len)))]);
    expect(e.seqLen).toEqual([2048, 4096]);
    expect(e.gpus).toEqual([48, 6144]);
    expect(e.profiles).toEqual(["dgx-h100"]);
    expect(e.moe).toBe(false);
    // No published run is on a B200, an MI300X or a PCIe H100.
    expect(Object.keys(readEnvelope().profiles).sort()).toEqual(["dgx-a100-40g", "dgx-a100-80g", "dgx-h100", "h100-96g-500w"]);
    expect(JSON.parse(readFileSync(join(packageRoot(), "profiles", "calibration.json"), "utf8")).engines.paraplan).toBeUndefined();
  });
});

describe("a request against the envelope", () => {
  const gpt3 = loadModel("gpt3-175b");
  const training = (over: Partial<Training>): Training => ({ gpus: 512, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...over });
  const ask = (over: Partial<Parameters<typeof calibrationStanding>[0]> = {}, t: Partial<Training> = {}) =>
    calibrationStanding({ engine: "megatron-core", engineIsFile: false, profile: "dgx-h100", profileIsFile: false, model: gpt3, training: training(t), ...over });

  // (3.7%: the bench's in-sample means, DGXC 2.9% over 10 runs and MEG24 4.4% over 11, weighted;
  // 12.4%: MEG24's worst row, MEG24-01)
  it("GPT-3 175B on 512 H100s at 2,048 tokens is inside megatron-core's runs (DGXC ran it on 128–2,048)", () => {
    const s = ask();
    expect(s.outside).toEqual([]);
    expect(standingLine(s)).toBe("calibration: megatron-core fitted on 21 published runs (DGXC, MEG24), on dgx-h100, 2,048–4,096 tokens, 48–6,144 GPUs, 1.5B–459B parameters, bf16/fp8, dense; step time off by 3.7% on average on them, 12.4% at worst, 5.0% when fitted without the run's own source; this request is within them");
  });

  it("names each way a request lies outside, and whether in degree (a span the runs vary) or in kind (none of them has it)", () => {
    const ways = (x: ReturnType<typeof ask>) => x.outside.map((o) => `${o.kind}: ${o.words}`);
    expect(ways(ask({}, { seqLen: 131072 }))).toEqual(["degree: sequence of 131,072 tokens"]);
    expect(ways(ask({}, { gpus: 16384 }))).toEqual(["degree: 16,384 GPUs"]);
    expect(ways(ask({}, { precision: "fp16" }))).toEqual(["kind: fp16 training"]);
    expect(ways(ask({ profile: "dgx-b200" }))).toEqual(["kind: dgx-b200: no published run on this hardware (its figures are the profile's priors)"]);
    expect(ways(ask({ profile: "dgx-a100-80g" }))).toEqual(["kind: megatron-core has no run on dgx-a100-80g"]);
    expect(ways(ask({ profile: "mine.json", profileIsFile: true }))).toEqual(["kind: profile mine.json is a file of your own: no published run was on it"]);
    expect(ways(ask({ model: loadModel("deepseek-v3") }))).toEqual(["degree: 671B parameters", "kind: a mixture of experts (its runs are dense models)"]);
    expect(ways(ask({ model: loadModel("gpt3-125m") }))).toEqual(["degree: 0.1B parameters"]);
  });

  it("outside the runs it adds what runs nothing was fitted to showed: megatron-core on NVIDIA's own tables", () => {
    // (the record is the NeMo rows' own errors, recomputed: bench/validation/nemo.ts)
    const rows = predictNemo();
    const errs = rows.map((r) => Math.abs(r.error!));
    const v = readEnvelope().engines["megatron-core"]!.validation!;
    expect(v.runs).toBe(14);
    expect(v.seqLen).toEqual([4096, 1048576]);
    expect(v.mean).toBeCloseTo(errs.reduce((a, b) => a + b) / errs.length, 3);
    expect(v.max).toBeCloseTo(Math.max(...errs), 3);
    const long = ask({}, { seqLen: 131072 });
    expect(long.validation).toEqual(v);
    expect(standingLine(long)).toMatch(/; outside them here: sequence of 131,072 tokens; on NVIDIA's Megatron-Core tables \(NeMo 24\.03 and 24\.07, Llama at fp8 on DGX-H100\), which nothing was fitted to: step time off by \d+\.\d% on average, \d+\.\d% at worst \(14 runs, 4,096–1,048,576 tokens\)$/);
    // inside the runs the line stays as it was; an engine without such runs says nothing of them
    expect(standingLine(ask())).not.toContain("nothing was fitted to");
    expect(standingLine(ask({ engine: "fsdp", profile: "dgx-h100" }, { seqLen: 131072 }))).not.toContain("nothing was fitted to");
  });

  it("an engine no run calibrates, and files of one's own", () => {
    // (the engine files of a stack no published run used and no run of this project measured)
    const noRuns = { ...readEnvelope(), ownRuns: {} };
    expect(calibrationStanding({ engine: "paraplan", engineIsFile: false, profile: "dgx-h100", profileIsFile: false, model: gpt3, training: training({}) }, noRuns)).toEqual({ runs: 0, span: "paraplan: no published run calibrates this engine (its figures are priors)", outside: [] });
    const mine = ask({ engine: "my-stack.json", engineIsFile: true, profile: "my-h100.json", profileIsFile: true });
    expect(standingLine(mine)).toBe("calibration: engine file my-stack.json: no published run calibrates it (its figures are the file's and those it extends); profile my-h100.json is a file of your own: no published run was on it");
  });

  it("one figure where the runs have one: torchtitan's two eager runs are the 8B at 8,192 tokens", () => {
    const s = ask({ engine: "torchtitan", profile: "h100-96g-500w", model: loadModel("llama3-8b") }, { seqLen: 8192, gpus: 64 });
    expect(s.span).toBe("torchtitan fitted on 2 published runs (TT24), on h100-96g-500w, 8,192 tokens, 8–128 GPUs, 8B parameters, bf16, dense");
    expect(s.outside).toEqual([]);
  });

  it("export notes a prediction outside the runs, and says nothing where it is inside", async () => {
    const tt = await runCli(["export", "--model", "llama3-8b", "--format", "torchtitan"]);
    expect(tt.code, tt.stderr).toBe(0);
    expect(tt.stderr + tt.stdout).toContain("note: calibration: torchtitan fitted on 2 published runs (TT24)");
    expect(tt.stderr + tt.stdout).toContain("outside them here: torchtitan has no run on dgx-h100");
    const meg = await runCli(["export", "--model", "gpt3-175b", "--gpus", "512", "--format", "megatron"]);
    expect(meg.code, meg.stderr).toBe(0);
    expect(meg.stderr + meg.stdout).not.toContain("calibration");
  });

  it("what a plan uses that no run of its engine did: context parallel, a pipeline, a zero-bubble schedule", () => {
    const plan = (cp: number, pp: number, schedule: Plan["schedule"]) => ({ cp, pp, schedule });
    const core = ask();
    const words = (o: ReturnType<typeof planOutside>) => o.map((x) => `${x.kind}: ${x.words}`);
    expect(words(planOutside(plan(16, 1, "1f1b"), core))).toEqual(["kind: context parallel"]);
    expect(planOutside(plan(1, 8, "interleaved"), core)).toEqual([]);
    expect(words(planOutside(plan(1, 8, "zbv"), core))).toEqual(["kind: the ZB-V zero-bubble schedule"]);
    // llm-foundry ran no pipeline; torchtitan's 405B runs did, and context parallel at 32k–256k.
    expect(words(planOutside(plan(1, 2, "1f1b"), ask({ engine: "fsdp" })))).toEqual(["kind: a pipeline"]);
    expect(planOutside(plan(8, 8, "1f1b"), ask({ engine: "torchtitan-compile" }))).toEqual([]);
    expect(planOutside(plan(8, 8, "1f1b"), ask({ engine: "paraplan" }))).toEqual([]); // said once, in the header
  });

  it("plan prints it under the header and --json carries it", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "1024", "--global-batch", "1024", "--engine", "fsdp", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    // llm-foundry's runs reach 512 GPUs (and 65,536 tokens: Llama 3's 8,192 is inside).
    expect(j.calibration.runs).toBe(216);
    expect(j.calibration.outside).toEqual(["1,024 GPUs"]);
    const long = await runCli(["plan", "--model", "llama3-8b", "--seq", "131072", "--top", "1", "--simulate-top", "0"]);
    expect(long.stdout).toMatch(/best plan: tp \d+ · cp \d+[^\n]*\n(  .*\n)*  calibration: no published run of this engine used context parallel\n/);
    const text = await runCli(["plan", "--model", "gpt3-175b", "--gpus", "512", "--global-batch", "1536", "--top", "1", "--simulate-top", "0"]);
    expect(text.stdout.split("\n")).toContain("calibration: megatron-core fitted on 21 published runs (DGXC, MEG24), on dgx-h100, 2,048–4,096 tokens, 48–6,144 GPUs, 1.5B–459B parameters, bf16/fp8, dense; step time off by 3.7% on average on them, 12.4% at worst, 5.0% when fitted without the run's own source; this request is within them");
  });
});
