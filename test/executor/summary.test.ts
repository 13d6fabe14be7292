import { describe, expect, it } from "vitest";
import { type Training, evaluatePlan, type Plan } from "../../planner/index.js";
import { loadModel, loadProfile } from "../../src/load.js";
import { commKind, compareComms, predictedVolumes } from "../../executor/comms.js";
import { buildSummary, errors, measuredMfu, predictedFigures, relativeError } from "../../executor/summary.js";
import { summaryText } from "../../src/format/execute-text.js";
import { comparisonRows } from "../../src/ui/core/run-view.js";

const tiny = loadModel("tiny");
const t: Training = { gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true };
const dp2: Plan = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

// tiny: L=4, h=64, f=256, V=256 (already a multiple of 128), s=32, B=8 → T = B·s = 256 tokens.
// Model FLOPs 72·L·T·h² + 12·L·T·s·h + 6·T·V·h = 301,989,888 + 25,165,824 + 25,165,824.
const MODEL_FLOPS = 352_321_536;
// One layer forward: 24·T·h² + 4·T·s·h = 25,165,824 + 2,097,152.
const LAYER_FWD = 27_262_976;

describe("predicted figures", () => {
  it("counts the hardware FLOPs of a step: model FLOPs plus recomputation", () => {
    const hw = loadProfile("cpu");
    for (const [recompute, extra] of [["none", 0], ["selective", 4 * 2_097_152], ["full", 4 * LAYER_FWD]] as const) {
      const r = evaluatePlan(tiny, hw, t, { ...dp2, recompute });
      const p = predictedFigures(tiny, t, r);
      expect(p.flopsPerStep).toBe(MODEL_FLOPS + extra);
      expect(p.stepTime).toBe(r.time.step);
      expect(p.tokensPerSecond).toBe(r.tokensPerSecond);
      expect(p.peakMemory).toBe(r.memory.total);
      expect(p.mfu).toBe(r.mfu);
    }
  });

  // QA: execute printed measured ÷ predicted − 1 (+71 % for a run calibrate called −41.5 %); the
  // one convention is calibrate's and the bench's, (predicted − measured)/measured.
  it("computes relative errors as (predicted − measured)/measured: + where the prediction is above", () => {
    // measured 0.3 s, predicted 0.2 s: predicted a third faster, −1/3
    expect(relativeError(0.3, 0.2)).toBeCloseTo(-1 / 3, 12);
    expect(relativeError(50, 200)).toBe(3);
    expect(relativeError(null, 1)).toBeNull();
    expect(relativeError(0, 1)).toBeNull();
    expect(relativeError(1, 0)).toBe(-1);
    expect(errors(
      { stepTime: 0.15, tokensPerSecond: 1000, mfu: null, peakMemory: 3e9, flopsPerStep: 4e8 },
      { stepTime: 0.1, tokensPerSecond: 2000, mfu: 0.1, peakMemory: 2e9, flopsPerStep: 5e8 },
    )).toEqual({ stepTime: expect.closeTo(-1 / 3, 12), tokensPerSecond: 1, mfu: null, peakMemory: expect.closeTo(-1 / 3, 12), flopsPerStep: 0.25 });
  });

  it("measures MFU on GPUs only: model FLOPs / (step time · GPUs · peak)", () => {
    // 352,321,536 FLOPs in 1 ms on 2 GPUs of 989 TFLOP/s
    expect(measuredMfu("cuda", MODEL_FLOPS, 1e-3, 2, 989e12)).toBeCloseTo(MODEL_FLOPS / (1e-3 * 2 * 989e12), 15);
    expect(measuredMfu("cuda", 1e12, 0.5, 4, 1e12)).toBe(0.5);
    expect(measuredMfu("cpu", 1e12, 0.5, 4, 1e12)).toBeNull();
  });
});

describe("collectives", () => {
  it("folds torch's names into the planner's kinds", () => {
    expect(commKind("all_reduce")).toBe("all_reduce");
    expect(commKind("c10d.allreduce_")).toBe("all_reduce");
    expect(commKind("all_gather_into_tensor")).toBe("all_gather");
    expect(commKind("reduce_scatter_tensor")).toBe("reduce_scatter");
    expect(commKind("isend")).toBe("send/recv");
    expect(commKind("recv")).toBe("send/recv");
    expect(commKind("broadcast")).toBe("broadcast");
  });

  it("predicts the data-parallel gradient volume of a step, all ranks together", () => {
    // Parameters of tiny on one rank: 4 layers × (49,152 matrices + 832 biases and norms)
    // + embedding 256·64 + positions 32·64 + final norm 128 = 218,496; 2 ranks. Weights travel in
    // 16 bits, gradients in fp32 (no engine: Megatron's bf16 rule, as the worker's fp32 parameters).
    const g = 2 * 2 * 218_496;
    const grads = 2 * g;
    expect(predictedVolumes(tiny, t, dp2)).toEqual({ all_reduce: grads });
    expect(predictedVolumes(tiny, t, { ...dp2, zero: 1 })).toEqual({ reduce_scatter: grads, all_gather: g });
    // ZeRO-2 reduce-scatters once per micro-batch: 8/(2·4) = 1 here, 4 with micro-batch 1.
    expect(predictedVolumes(tiny, t, { ...dp2, zero: 2, microBatch: 1 })).toEqual({ reduce_scatter: 4 * grads, all_gather: g });
    expect(predictedVolumes(tiny, t, { ...dp2, zero: 3, microBatch: 1 })).toEqual({ all_gather: 8 * g, reduce_scatter: 4 * grads });
  });

  it("predicts tensor- and pipeline-parallel activation traffic", () => {
    const t4 = { ...t, gpus: 4 };
    // tp 2, pp 2, dp 1, micro-batch 2 → 4 micro-batches; activation 2·(2·32·64) bytes.
    const p: Plan = { ...dp2, tp: 2, pp: 2, dp: 1, microBatch: 2 };
    const act = 2 * 2 * 32 * 64;
    expect(predictedVolumes(tiny, t4, p)).toEqual({
      // 4 ranks × 2 layers × 4 micro-batches × 2 passes × 2 all-reduces, plus the tied embedding's
      // gradient all-reduced by 2 stages × 2 tp ranks with 1/2 of 256·64 values each, fp32: the
      // worker's parameters, and so their .grad, are fp32 under autocast (pipeline.py
      // TiedEmbeddingSync sums weight.grad).
      // The embedding's output all-reduce (forward) and the output layer's input-gradient
      // all-reduce (backward), each by its stage's 2 tp ranks every micro-batch: Megatron's
      // VocabParallelEmbedding and ColumnParallelLinear, which the worker's DTensor plan runs too.
      all_reduce: 4 * 2 * 4 * 2 * 2 * act + 4 * ((4 * 256 * 64) / 2) + 2 * (2 * 4 * act),
      // 1 boundary × 2 directions × 4 micro-batches, each tp rank sending act/2; sends + recvs.
      "send/recv": 2 * (2 * 1 * 4 * 2 * (act / 2)),
      // Narayanan et al. 2021 §4.1 scatter/gather: on arrival the 2 tp ranks all-gather the whole
      // activation (no sequence parallel), 1 boundary × 2 directions × 4 micro-batches. The closed
      // form always charged it; the executor's own copy of the volumes had left it out.
      all_gather: 2 * 1 * 4 * 2 * act,
    });
  });

  it("lines measured kinds up with predicted ones", () => {
    const rows = compareComms(
      { all_reduce: { count: 3, bytes: 100 }, allreduce_coalesced: { count: 1, bytes: null }, broadcast: { count: 2, bytes: 8 } },
      { all_reduce: 400, all_gather: 10 },
    );
    expect(rows).toEqual([
      { kind: "all_reduce", count: 4, bytes: 100, predictedBytes: 400 },
      { kind: "broadcast", count: 2, bytes: 8, predictedBytes: null },
      { kind: "all_gather", count: null, bytes: null, predictedBytes: 10 },
    ]);
  });
});

describe("summary", () => {
  it("puts measured, predicted and error side by side", () => {
    const hw = loadProfile("dgx-h100");
    const r = evaluatePlan(tiny, hw, t, dp2);
    const s = buildSummary({
      model: tiny, hw, profile: "dgx-h100", training: t, result: r, device: "cuda", runDir: "/runs/x", steps: 2,
      worker: { stepTime: 2 * r.time.step, tokensPerSecond: r.tokensPerSecond / 2, peakMemory: r.memory.total * 1.1, flopsPerStep: MODEL_FLOPS, loss: [5.5, 5.4], comms: {}, extra: { stepTimes: [1, 2] } },
    });
    expect(Object.keys(s)).toEqual(expect.arrayContaining(["plan", "steps", "measured", "predicted", "error", "runDir"]));
    expect(s.plan).toEqual(dp2);
    expect(s.measured.mfu).toBeCloseTo(r.mfu / 2, 12);
    // measured twice the predicted step: predicted half of it, −50 %; half the tokens/s and MFU
    // measured: predicted twice, +100 %; 1.1× the memory measured: 1/1.1 − 1
    expect(s.error.stepTime).toBeCloseTo(-0.5, 12);
    expect(s.error.tokensPerSecond).toBeCloseTo(1, 12);
    expect(s.error.mfu).toBeCloseTo(1, 12);
    expect(s.error.peakMemory).toBeCloseTo(1 / 1.1 - 1, 12);
    expect(s.error.flopsPerStep).toBe(0);
    expect(s.measured.loss).toEqual([5.5, 5.4]);
    expect(s.worker).toEqual({ stepTimes: [1, 2] });
    // summary.json and execute --json name the unit of each figure: the step time predicted by
    // the planner is in seconds (tiny dp2 on an H100: well under one), memory in bytes (over a
    // GiB with the profile's 2 GiB reserve), FLOPs per step as counted (MODEL_FLOPS).
    expect(s.units).toMatchObject({ stepTime: "s", tokensPerSecond: "tokens/s", peakMemory: "bytes", flopsPerStep: "FLOP" });
    expect(s.units?.error).toBe("fraction, (predicted - measured) / measured");
    expect(s.predicted.stepTime).toBeLessThan(1);
    expect(s.predicted.peakMemory).toBeGreaterThan(2 ** 30);
    expect(JSON.parse(JSON.stringify(s)).units.mfu).toBe("fraction of the profile's peak FLOP/s (0-1)");
  });

  // QA: `execute --model tiny-moe --device cpu --gpus 2` printed "planner communication time per
  // step: tp 0, pp 0, exposed dp 325 us" and summary.json's predictedTime had no ep, though the
  // plan's prediction has epComm 0.404 ms: every group the plan communicates over is named.
  it("the planner's communication time names the experts' all-to-all and the cp exchange where the plan has them", () => {
    const hw = loadProfile("cpu");
    const worker = (r: { time: { step: number }; tokensPerSecond: number }) => ({ stepTime: r.time.step, tokensPerSecond: r.tokensPerSecond, peakMemory: null, flopsPerStep: null, loss: [5.5], comms: {}, extra: {} });
    const summary = (model: typeof tiny, plan: Plan) => {
      const r = evaluatePlan(model, hw, t, plan);
      return { r, s: buildSummary({ model, hw, profile: "cpu", training: t, result: r, device: "cpu", runDir: "/runs/x", steps: 3, worker: worker(r) }) };
    };
    const moe = summary(loadModel("tiny-moe"), { ...dp2, ep: 2 });
    expect(moe.r.time.epComm).toBeGreaterThan(0);
    expect(moe.s.collectives.predictedTime).toEqual({ tp: moe.r.time.tpComm, pp: moe.r.time.ppComm, ep: moe.r.time.epComm, dp: moe.r.time.dpComm });
    const cp = summary(tiny, { ...dp2, dp: 1, cp: 2, cpComm: "allgather", cpSplit: "zigzag" });
    expect(cp.r.time.cpComm).toBeGreaterThan(0);
    expect(cp.s.collectives.predictedTime).toEqual({ tp: 0, pp: 0, cp: cp.r.time.cpComm, dp: cp.r.time.dpComm });
    // A dense plan without cp: as before, tp, pp and exposed dp.
    expect(Object.keys(summary(tiny, dp2).s.collectives.predictedTime)).toEqual(["tp", "pp", "dp"]);
    // The text names them beside the others (it prints the line under the collectives table).
    const withRows = (s: typeof moe.s) => summaryText({ ...s, collectives: { ...s.collectives, rows: [{ kind: "all_to_all", count: 24, bytes: 1, predictedBytes: 1 }] } });
    const us = (x: number) => `${Math.round(x * 1e6)} us`;
    expect(withRows(moe.s)).toContain(`planner communication time per step: tp 0, pp 0, ep all-to-all ${us(moe.r.time.epComm)}, exposed dp ${us(moe.r.time.dpComm)}`);
    expect(withRows(cp.s)).toMatch(new RegExp(`planner communication time per step: tp 0, pp 0, cp exchange \\S+ \\S+, exposed dp`));
  });

  // QA: a zero-bubble run on CPU printed "peak memory — 479.8 MiB not comparable" with the footnote
  // "measured: the tensors MemTracker counts …" though the worker's peakMemorySource said
  // "none (MemTracker cannot follow a backward split …)": nothing was measured to compare.
  it("a peak the worker did not measure is 'not measured: <its reason>', not 'not comparable' for a reason about a measurement", () => {
    const hw = loadProfile("cpu");
    const r = evaluatePlan(tiny, hw, t, dp2);
    const why = "MemTracker cannot follow a backward split into input and weight gradients";
    const worker = { stepTime: r.time.step, tokensPerSecond: r.tokensPerSecond, peakMemory: null, flopsPerStep: MODEL_FLOPS, loss: [5.5], comms: {}, extra: { peakMemorySource: `none (${why})` } };
    const s = buildSummary({ model: tiny, hw, profile: "cpu", training: t, result: r, device: "cpu", runDir: "/runs/x", steps: 3, worker });
    expect(s.notMeasured).toEqual({ peakMemory: why });
    expect(s.notComparable?.peakMemory).toBeUndefined();
    const text = summaryText(s);
    expect(text).toMatch(/^peak memory\s+—\s+\S+ MiB\s+not measured$/m);
    expect(text).toContain(`(peak memory not measured: ${why})`);
    expect(text).not.toMatch(/MemTracker counts/);
    // A peak measured on CPU ranks keeps the MemTracker footnote and no "not measured".
    const measured = buildSummary({ model: tiny, hw, profile: "cpu", training: t, result: r, device: "cpu", runDir: "/runs/x", steps: 3, worker: { ...worker, peakMemory: 2 ** 20, extra: { peakMemorySource: "MemTracker" } } });
    expect([measured.notMeasured, measured.notComparable?.peakMemory]).toEqual([undefined, expect.stringMatching(/^measured: the tensors MemTracker counts/)]);
    // A worker that gives no reason: said so.
    expect(buildSummary({ model: tiny, hw, profile: "cpu", training: t, result: r, device: "cpu", runDir: "/runs/x", steps: 3, worker: { ...worker, extra: {} } }).notMeasured).toEqual({ peakMemory: "the worker reported no peak" });
    // The interactive planner's table says the same.
    const rows = comparisonRows(s.measured, s.predicted, s.error, s.notComparable, s.notMeasured);
    expect(rows.find((l) => l.startsWith("peak memory"))).toMatch(/not measured$/);
  });
});
