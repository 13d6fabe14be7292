// DeepSpeed's BF16_Optimizer, what its engine runs at ZeRO stage 0 under bf16 (BLOOM's run;
// deepspeed/runtime/bf16_optimizer.py, pipe/engine.py _bf16_reduce_grads @ v0.6.5), against a hand
// count of what that code allocates and sends:
// - 16-bit weights (2Ψ) and gradients (2Ψ), an fp32 copy of every gradient (4Ψ,
//   fp32_groups_gradients_flat), the fp32 master and Adam moments partitioned over dp (12Ψ/d);
// - an all-reduce of the gradients cast to bf16 (2Ψ) after the last micro-batch, then an
//   all-gather of the updated bf16 weights (2Ψ);
// - each micro-batch's gradients added into the fp32 copy (update_hp_grads: hp.add_(lp.to(fp32)),
//   read 2 + write 4 for the cast, read 4 + 4 and write 4 for the add: 18 bytes a parameter).
// fp16 at stage 0 stays plain data parallelism (FP16_Optimizer), as does bf16 on other engines.
import { describe, expect, it } from "vitest";
import { hbm } from "../../planner/cost/compute.js";
import { stepFloor, stepTime } from "../../planner/cost/time.js";
import { stateBytes } from "../../planner/cost/engine-terms.js";
import { modelStateBytes, modelStateTotal, reduceTransientBytes } from "../../planner/cost/memory.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import { zeroCandidates } from "../../planner/space.js";
import { evaluatePlan, microBatchCosts } from "../../planner/evaluate.js";
import { wireOf } from "../../planner/wire/wire.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import { simulate } from "../../planner/sim/simulate.js";
import type { Plan, Precision, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const m = preset("gpt3-1.3b");
const hw = hardware("dgx-a100-80g");
const GB = 64;
const plan: Plan = { tp: 2, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 2, recompute: "full", sequenceParallel: false, schedule: "1f1b" };
const training = (precision: Precision, engine = "megatron-deepspeed"): Training => ({
  gpus: 16, globalBatch: GB, seqLen: 2048, precision, fusedAttention: false, overlapGradReduce: false, engine: loadEngine(engine, undefined),
});
// Ψ: the parameters on each GPU (tp 2, one stage)
const psi = stageParamsPerGpu(m, 2048, 2, 1, m.layers, "only");
const M = GB / (plan.dp * plan.microBatch);

describe("DeepSpeed's BF16_Optimizer at ZeRO stage 0", () => {
  it("holds 2Ψ weights, 2Ψ + 4Ψ gradients and 12Ψ/d optimizer states; fp16 at stage 0 holds ZeRO-0's 2Ψ, 2Ψ, 12Ψ", () => {
    const bf16 = evaluatePlan(m, hw, training("bf16"), plan).memory;
    expect(bf16.weights).toBeCloseTo(2 * psi, -2);
    expect(bf16.gradients).toBeCloseTo(6 * psi, -2);
    expect(bf16.optimizer).toBeCloseTo((12 * psi) / plan.dp, -2);
    const fp16 = evaluatePlan(m, hw, training("fp16"), plan).memory;
    expect([fp16.weights, fp16.gradients, fp16.optimizer].map((x) => x / psi)).toEqual([2, 2, 12].map((x) => expect.closeTo(x, 9)));
    // (ZeRO-1 of the same engine: 2Ψ, 2Ψ, 12Ψ/d; BF16_Optimizer is 4Ψ more)
    const z1 = evaluatePlan(m, hw, training("bf16"), { ...plan, zero: 1 }).memory;
    expect(bf16.weights + bf16.gradients + bf16.optimizer - (z1.weights + z1.gradients + z1.optimizer)).toBeCloseTo(4 * psi, -2);
  });

  it("all-reduces 2 bytes a gradient and all-gathers 2 bytes a weight once a step; fp16 all-reduces only", () => {
    const dpWire = (t: Training) => wireOf(m, t, plan, microBatchCosts(m, hw, t, plan).links).filter((i) => i.group === "dp");
    const wire = dpWire(training("bf16"));
    expect(wire.map((i) => [i.id, i.kind, i.calls])).toEqual([["dp-gradients", "allReduce", 1], ["dp-weights", "allGather", 1]]);
    for (const i of wire) expect(i.bytes).toBeCloseTo(2 * psi, -2);
    expect(dpWire(training("fp16")).map((i) => i.id)).toEqual(["dp-gradients"]);
    // another engine's bf16 ZeRO-0 is plain data parallelism
    expect(dpWire(training("bf16", "megatron-core")).map((i) => i.id)).toEqual(["dp-gradients"]);
    expect(evaluatePlan(m, hw, training("bf16", "megatron-core"), plan).memory.optimizer).toBeCloseTo(12 * psi, -2);
  });

  it("steps its shard and adds each micro-batch's gradients into fp32: 30 bytes a parameter over Ψ/d plus M × 18 bytes over Ψ", () => {
    const t = evaluatePlan(m, hw, training("bf16"), plan).time;
    expect(t.optimizer).toBeCloseTo(hbm(hw, (30 * psi) / plan.dp) + M * hbm(hw, 18 * psi), 9);
    expect(evaluatePlan(m, hw, training("fp16"), plan).time.optimizer).toBeCloseTo(hbm(hw, 30 * psi), 9);
  });

  it("the simulator runs the weights' gather after the optimizer and adds what the closed form adds over fp16's plain ZeRO-0", () => {
    const pp: Plan = { ...plan, pp: 4, dp: 2, tp: 2 };
    const closed = (p: Precision) => evaluatePlan(m, hw, training(p), pp).time.step;
    const bf16 = simulate(m, hw, training("bf16"), pp);
    const fp16 = simulate(m, hw, training("fp16"), pp);
    expect(bf16.segments.some((s) => s.name.startsWith("all-gather weights") && s.name.includes("after the optimizer"))).toBe(true);
    expect(fp16.segments.some((s) => s.name.startsWith("all-gather weights"))).toBe(false);
    // (the two differ by the gather and the fp32 work: a few percent of this step)
    const added = closed("bf16") - closed("fp16");
    expect(added / closed("fp16")).toBeGreaterThan(0.005);
    expect((bf16.step - fp16.step) / added).toBeCloseTo(1, 1);
  });
});

describe("BF16_Optimizer's edges", () => {
  it("the search's sum of states is the breakdown's: 8Ψ + 12Ψ/d, the same with --grad-reduce-in-fp32 (its 16-bit gradients stay 2 bytes)", () => {
    const s = stateBytes({ engine: loadEngine("megatron-deepspeed", undefined), precision: "bf16" }, 12);
    const b = modelStateBytes(1e9, 0, 8, s);
    expect(b).toEqual({ weights: 2e9, gradients: 6e9, optimizer: 12e9 / 8 });
    expect(modelStateTotal(1e9, 0, 8, s)).toBeCloseTo(8e9 + 12e9 / 8, 0);
    const fp32 = stateBytes({ engine: withOverrides(loadEngine("megatron-deepspeed", undefined), { gradReduceInFp32: true }), precision: "bf16" }, 12);
    expect(modelStateBytes(1e9, 0, 8, fp32).gradients).toBe(6e9);
    expect(modelStateTotal(1e9, 0, 8, fp32)).toBeCloseTo(8e9 + 12e9 / 8, 0);
  });

  it("the all-reduce's bf16 cast of the largest group counts where it exceeds the activations then freed; none in fp32; at fp16 FP16_Optimizer's flatten instead", () => {
    const bf16 = training("bf16");
    // 2 bytes × 1e9 parameters = 2e9 against 0.5e9 of activations: 1.5e9 more
    expect(reduceTransientBytes(bf16, 0, 1e9, 0, 8, 1, 0.5e9)).toBe(1.5e9);
    expect(reduceTransientBytes(bf16, 0, 1e9, 0, 8, 1, 3e9)).toBe(0);
    // (ZeRO-1: the ZeRO optimizer's own flatten, 8Ψ/d − 2Ψ, nothing at d = 8: fp16-optimizer.test.ts)
    expect(reduceTransientBytes(bf16, 1, 1e9, 0, 8, 1, 0)).toBe(0);
    // fp16 at stage 0 is FP16_Optimizer: its step's flatten, 8 bytes a parameter (fp16-optimizer.test.ts)
    expect(reduceTransientBytes(training("fp16"), 0, 1e9, 0, 8, 1, 0)).toBe(8e9);
    expect(reduceTransientBytes({ ...bf16, engine: withOverrides(bf16.engine!, { gradReduceInFp32: true }) }, 0, 1e9, 0, 8, 1, 0)).toBe(0);
  });

  it("at dp 1 the search tries ZeRO-1 (DeepSpeed's ZeRO optimizer) beside BF16_Optimizer's ZeRO-0; an engine of DeepSpeed 0.6–0.9 keeps ZeRO-0 alone beside a pipeline under bf16", () => {
    const e = loadEngine("megatron-deepspeed", undefined);
    expect(zeroCandidates({}, 1, 1, e, 1, "bf16")).toEqual([0, 1]);
    expect(zeroCandidates({}, 1, 1, e, 1, "fp16")).toEqual([0]);
    expect(zeroCandidates({}, 8, 4, e, 1, "bf16")).toEqual([0, 1]);
    const old = { ...e, supports: { ...e.supports, zeroWithPipelineUnderBf16: [0] as const } };
    expect(zeroCandidates({}, 8, 4, old, 1, "bf16")).toEqual([0]);
    expect(zeroCandidates({}, 8, 4, old, 1, "fp16")).toEqual([0, 1]);
    expect(zeroCandidates({ zero: 1 }, 8, 4, old, 1, "bf16")).toEqual([]);
  });

  it("the tied embedding's gradient crosses the pipeline in the type it is kept in: fp32 under BF16_Optimizer and Megatron's bf16, 16 bits at fp16", () => {
    const tied = { ...m, tiedEmbeddings: true };
    const pp: Plan = { ...plan, pp: 2, dp: 4 };
    const bytes = (t: Training) => wireOf(tied, t, pp, microBatchCosts(tied, hw, t, pp).links).find((i) => i.id === "tied-embedding")!.bytes;
    const fp16 = bytes(training("fp16"));
    expect(bytes(training("bf16")) / fp16).toBeCloseTo(2, 9);
    expect(bytes(training("bf16", "megatron-core")) / fp16).toBeCloseTo(2, 9);
    expect(bytes(training("bf16", "megatron-2021")) / fp16).toBeCloseTo(2, 9);
    expect(bytes(training("fp16", "megatron-2021")) / fp16).toBeCloseTo(1, 9);
  });
});

describe("the search's floor under BF16_Optimizer", () => {
  // ZeRO-0's tied gradient crosses the pipeline in fp32, ZeRO-1's in 16 bits: the floor the search
  // prunes by (cost/time.ts stepFloor) must stay under both (review: it had exceeded ZeRO-1's step).
  it("stays below the step of every ZeRO stage searched at dp 1", () => {
    const g = { ...preset("gpt3-1.3b"), tiedEmbeddings: true };
    const t: Training = { gpus: 64, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: false, overlapGradReduce: false, engine: loadEngine("megatron-deepspeed", undefined) };
    const layout: Plan = { ...plan, tp: 8, pp: 8, dp: 1, microBatch: 1, recompute: "none" };
    const costs = microBatchCosts(g, hw, t, layout);
    const floor = stepFloor(g, hw, t, layout, costs);
    for (const zero of [0, 1] as const) expect(floor).toBeLessThanOrEqual(stepTime(g, hw, t, { ...layout, zero }, costs).step);
  });
});
