// The search's full-recompute depth (Plan.recomputeLayers, planner/search-memory.ts leastDepth):
// on a stack that runs Megatron-Core's --recompute-method block, full recompute re-runs only the
// first N layers of each stage, the least N that fits; checked against evaluatePlan's memory of
// N and N − 1 (the independent per-stage sums), and the rules that keep a depth honest.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import { checkLayout } from "../../planner/space.js";
import { unsupportedByEngine } from "../../planner/constraints.js";
import { workerRefusal } from "../../planner/layout/capabilities.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import type { Engine, Fixed } from "../../planner/index.js";
import type { Plan, PlanResult, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const llama = preset("llama3-70b"); // 80 layers
const core = loadEngine("megatron-core", undefined);
const training = (e: Engine): Training => ({ gpus: 64, globalBatch: 64, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
// tp 8 · pp 8 (10 layers a stage), 1F1B, micro-batch 4: 16 micro-batches of 4 sequences
const layout: Fixed = { tp: 8, pp: 8, dp: 1, vpp: 1, zero: 0, microBatch: 4, sequenceParallel: true, schedule: "1f1b" };
const stage: Plan = { ...ONE_PLAN, tp: 8, pp: 8, microBatch: 4, sequenceParallel: true, recompute: "full" };
const all = (e: Engine, fixed: Fixed = layout) => search(llama, H100, training(e), fixed, { top: 10, keepAll: true }).all!;
const memory = (p: Plan) => evaluatePlan(llama, H100, training(core), p).memory.total;
const fullOf = (plans: PlanResult[]) => plans.find((p) => p.recompute === "full")!;

describe("full recompute's depth in the search (Megatron-Core)", () => {
  const plans = all(core);
  const full = fullOf(plans);
  it("no recompute does not fit this layout; full recompute fits at a depth below the stage's 10 layers", () => {
    expect(plans.some((p) => p.recompute === "none")).toBe(false);
    expect(memory({ ...stage, recompute: "none" })).toBeGreaterThan(H100.memory);
    expect(full.recomputeLayers).toBeGreaterThanOrEqual(1);
    expect(full.recomputeLayers).toBeLessThan(10);
  });
  it("the least depth that fits: N fits, N − 1 does not (evaluatePlan's memory of each)", () => {
    const n = full.recomputeLayers!;
    expect(full.memory.total).toBe(memory({ ...stage, recomputeLayers: n }));
    expect(full.memory.total).toBeLessThanOrEqual(H100.memory);
    if (n > 1) expect(memory({ ...stage, recomputeLayers: n - 1 })).toBeGreaterThan(H100.memory);
  });
  it("faster than full recompute of every layer by the forwards it skips: (10 − N)/10 of the recompute time", () => {
    const every = evaluatePlan(llama, H100, training(core), stage);
    expect(full.time.recompute / every.time.recompute).toBeCloseTo(full.recomputeLayers! / 10, 9);
    expect(full.time.step).toBeLessThan(every.time.step);
  });
  it("counts one configuration per recompute mode and ZeRO stage, as before depths were searched", () => {
    const r = search(llama, H100, training(core), layout, { top: 10 });
    // none, selective and full at ZeRO-0 (dp 1: one ZeRO stage)
    expect(r.searched).toBe(3);
  });
  it("a fixed depth (--recompute-num-layers) is each stage's cap; one at or above a stage's layers is every layer", () => {
    expect(fullOf(all(core, { ...layout, recomputeLayers: 9 })).recomputeLayers).toBe(9);
    expect(fullOf(all(core, { ...layout, recomputeLayers: 10 })).recomputeLayers).toBeUndefined();
    expect(fullOf(all(core, { ...layout, recomputeLayers: 10 })).time.recompute).toBeCloseTo(evaluatePlan(llama, H100, training(core), stage).time.recompute, 9);
  });
  it("a fixed --recompute full is every layer (Megatron's uniform method), unless a depth is fixed too", () => {
    expect(fullOf(all(core, { ...layout, recompute: "full" })).recomputeLayers).toBeUndefined();
    const n = fullOf(all(core)).recomputeLayers!;
    expect(fullOf(all(core, { ...layout, recompute: "full", recomputeLayers: n })).recomputeLayers).toBe(n);
  });
  it("where no recompute fits, full recompute keeps every layer (no depth is faster than none)", () => {
    const roomy = all(core, { ...layout, microBatch: 1 });
    expect(roomy.some((p) => p.recompute === "none")).toBe(true);
    expect(fullOf(roomy).recomputeLayers).toBeUndefined();
  });
});

describe("stacks without the block method, and paraplan's worker with it", () => {
  // (torchtitan re-runs every N-th layer instead, at the depths that gives: nth-recompute.test.ts)
  it("Megatron-DeepSpeed searches full recompute of every layer only", () => {
    const e = loadEngine("megatron-deepspeed", undefined);
    const plans = search(llama, H100, training(e), {}, { top: 10, keepAll: true }).all!;
    // (78 of its 79 plans that fit recompute fully)
    expect(plans.filter((p) => p.recompute === "full").length).toBeGreaterThan(50);
    expect(plans.every((p) => p.recomputeLayers === undefined)).toBe(true);
  });
  it("a depth fixed on them is exit 2 naming --recompute-num-layers", () => {
    const issue = unsupportedByEngine({ recomputeLayers: 2 }, loadEngine("megatron-deepspeed", undefined));
    expect(issue?.code).toBe("engine_unsupported");
    expect(issue?.flag).toBe("--recompute-num-layers");
    expect(unsupportedByEngine({ recomputeLayers: 2 }, core)).toBeNull();
  });
  it("paraplan's worker runs a depth (executor/worker/parallel.py apply_ac), and its engine searches one", () => {
    const ctx = { precision: "bf16" as const, globalBatch: 64, seqLen: 8192, ffnHidden: llama.ffnHidden, gpus: 64, gpusPerNode: 8 };
    expect(workerRefusal({ ...stage, recomputeLayers: 2 }, ctx)).toBeNull();
    const paraplan = loadEngine("paraplan", undefined);
    expect(unsupportedByEngine({ recomputeLayers: 2 }, paraplan)).toBeNull();
    const plans = search(llama, H100, training(paraplan), {}, { top: 10, keepAll: true }).all!;
    expect(plans.some((p) => p.recomputeLayers !== undefined)).toBe(true);
  });
});

describe("a plan's depth (layout rule recompute_layers)", () => {
  const check = (p: Plan) => checkLayout(llama, training(core), 8, p)?.code ?? null;
  it("below the largest stage's layers, under full recompute only", () => {
    expect(check({ ...stage, recomputeLayers: 9 })).toBeNull();
    expect(check({ ...stage, recomputeLayers: 10 })).toBe("recompute_layers");
    expect(check({ ...stage, recompute: "selective", recomputeLayers: 2 })).toBe("recompute_layers");
    // interleaved, pp 4 · vpp 2: virtual stages of 10 layers
    expect(check({ ...stage, pp: 4, dp: 2, vpp: 2, schedule: "interleaved", recomputeLayers: 10 })).toBe("recompute_layers");
    // uneven stages: the largest is 12
    expect(check({ ...stage, pp: 8, stageLayers: [8, 10, 10, 10, 10, 10, 10, 12], recomputeLayers: 11 })).toBeNull();
  });
});
