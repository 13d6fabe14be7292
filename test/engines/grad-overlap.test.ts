// --no-grad-overlap (Training.overlapGradReduce false) moves the gradients' reduction after the
// backward, and nothing else: ZeRO-3's weight gathers stay prefetched behind the compute, as FSDP's
// backward_prefetch and DeepSpeed's stage3_prefetch_bucket_size run apart from how gradients are
// reduced. Before, the switch also exposed every gather (the forward's too). ZeRO-1/2's weight
// gather goes with it only where the engine ties the two (overlapParamGatherNeedsGradOverlap:
// Megatron-LM asserts --overlap-param-gather needs --overlap-grad-reduce); FSDP's does not.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import { layerMatrixParams, totalParams } from "../../planner/model.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { dpCosts } from "../sim/dp-costs.js";

const fsdp = loadEngine("fsdp", undefined);
const m = preset("llama3-8b");
const hw = hardware("dgx-h100");
// 8 GPUs in one node: dp 8 over NVLink, 16 sequences of 4,096 tokens = 2 micro-batches of 1.
const training = (overlap: boolean, engine: Engine = fsdp): Training => ({ gpus: 8, globalBatch: 16, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: overlap, engine });
const plan: Plan = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const withDp = (e: Engine, d: Partial<Engine["dataParallel"]>): Engine => ({ ...e, dataParallel: { ...e.dataParallel, ...d } });

// By hand, dgx-h100's NVLink: 450 GB/s at 0.8 of it for collectives, 3 µs a ring step.
// A pass's ZeRO-3 collective over all 8.03e9 parameters in bf16 (fsdp's gradReduceBytesPerParam 2,
// as the gathered weights): one per layer (fsdp's gatherCallsPerLayer 1), 32 calls each paying the
// ring's 7 steps, and 2 bytes × P × 7/8 over 360 GB/s ≈ 39.71 ms. The forward gather, the backward
// gather and the reduce-scatter each cost that.
const P = totalParams(m, 4096);
const X = 32 * 7 * 3e-6 + (2 * P * 7) / 8 / 360e9;
// The first layer's gather, which nothing hides: its 2 × 218,103,808 bytes.
const first = 7 * 3e-6 + (2 * layerMatrixParams(m) * 7) / 8 / 360e9;
// Every one of them fits in the compute it hides behind (a micro-batch's forward ≈ 156 ms, its
// backward ≈ 313 ms), so a hidden one costs fsdp's overlap slowdown of itself, 0.5 × X.

describe("ZeRO-3 under fsdp, llama3-8b on 8 H100s", () => {
  it("the hand figures are the planner's", () => {
    expect(fsdp.overlapSlowdown).toBe(0.5);
    expect(P).toBe(8_030_261_248);
    expect(X).toBeCloseTo(0.039708, 6);
  });

  it("overlapped: per micro-batch both gathers and the reduce-scatter hidden, 1.5 X + the first layer", () => {
    expect(evaluatePlan(m, hw, training(true), plan).time.dpComm).toBeCloseTo(2 * (1.5 * X + first), 12);
  });

  it("--no-grad-overlap: the reduce-scatter exposed (X), both gathers still hidden (0.5 X each)", () => {
    const on = evaluatePlan(m, hw, training(true), plan);
    const off = evaluatePlan(m, hw, training(false), plan);
    expect(off.time.dpComm).toBeCloseTo(2 * (2 * X + first), 12);
    expect(off.time.compute).toBe(on.time.compute);
    // Before, the switch turned the prefetch off too: 3 X a micro-batch, as a stack that does not
    // prefetch (prefetchLayers 0) still costs.
    const noPrefetch = withDp(fsdp, { prefetchLayers: 0 });
    expect(evaluatePlan(m, hw, training(false, noPrefetch), plan).time.dpComm).toBeCloseTo(2 * (3 * X + first), 12);
  });

  it("the simulation keeps the engine's prefetch and the step grows by at most the reduce-scatters", () => {
    expect(buildSimCosts(m, hw, training(false), plan).prefetchLayers).toBe(1);
    expect(buildSimCosts(m, hw, training(false), plan).overlapGradReduce).toBe(false);
    const simOn = simulate(m, hw, training(true), plan).step;
    const simOff = simulate(m, hw, training(false), plan).step;
    // At most both micro-batches' reduce-scatters in full (the last one's tail was exposed even
    // overlapped); the gathers exposed too would add about twice that again.
    expect(simOff - simOn).toBeGreaterThan(0);
    expect(simOff - simOn).toBeLessThan(2 * X);
  });
});

describe("the simulator on a hand-sized ZeRO-3 step", () => {
  // dpCosts: one stage, one micro-batch, four layers (forward 0.5 s, backward 1 s); every gather
  // and reduce-scatter 0.25 s, one layer prefetched ahead.
  // Overlapped (simulate.test.ts): forwards end at 2.25; backwards 2.25 … 6.25, each layer's
  // gather done beforehand, each reduce-scatter behind the next backward; the last one to 6.5.
  // After the backward: each backward waits for the reduce-scatter before it (3 × 0.25), the
  // next layer's gather, issued one layer ahead, is already there: 7.25 = 6.5 + 0.75.
  // Without the prefetch (the switch's old effect): each gather too waits, 9 s.
  it("overlapped 6.5 s, reduce after the backward 7.25 s, no prefetch 9 s", () => {
    expect(simulateCosts(dpCosts(3, 0.25, 0, { prefetchLayers: 1, overlapGradReduce: true })).step).toBe(6.5);
    expect(simulateCosts(dpCosts(3, 0.25, 0, { prefetchLayers: 1, overlapGradReduce: false })).step).toBe(7.25);
    expect(simulateCosts(dpCosts(3, 0.25, 0, { prefetchLayers: 0, overlapGradReduce: false })).step).toBe(9);
  });
});

describe("ZeRO-1/2's weight gather: with the reduction where the engine ties them", () => {
  const zero2 = { ...plan, zero: 2 as const };
  // The updated weights' all-gather: 2 × P bytes, one collective a layer under FSDP's
  // SHARD_GRAD_OP (one FlatParameter a block), so 32 calls each paying the ring's 7 steps — X.
  const W = X;
  it("fsdp (ZeRO-2): still behind each forward under --no-grad-overlap; Megatron's rule would expose (1 − 0.5) W more for each of the 2 micro-batches' gathers", () => {
    expect(fsdp.dataParallel.overlapParamGatherNeedsGradOverlap).toBe(false);
    expect(buildSimCosts(m, hw, training(false), zero2).overlapParamGather).toBe(true);
    const free = evaluatePlan(m, hw, training(false), zero2).time.dpComm;
    const tied = evaluatePlan(m, hw, training(false, withDp(fsdp, { overlapParamGatherNeedsGradOverlap: true })), zero2).time.dpComm;
    // SHARD_GRAD_OP reshards after each backward: each of the 2 micro-batches gathers again.
    expect(tied - free).toBeCloseTo(2 * 0.5 * W, 12);
  });
  it("megatron-core (ZeRO-1): after the optimizer without the reduction overlapped", () => {
    const mc = loadEngine("megatron-core", undefined);
    expect(mc.dataParallel.overlapParamGatherNeedsGradOverlap).toBe(true);
    expect(buildSimCosts(m, hw, training(true, mc), { ...plan, zero: 1 }).overlapParamGather).toBe(true);
    expect(buildSimCosts(m, hw, training(false, mc), { ...plan, zero: 1 }).overlapParamGather).toBe(false);
  });
  it("paraplan (ZeRO-1 is torch's ZeroRedundancyOptimizer): the fp32 broadcast inside step() is exposed, not hidden behind the next forward", () => {
    // (its one broadcast a tensor aside: test/engines/zero-redundancy.test.ts)
    const pp = withDp(loadEngine("paraplan", undefined), { zero1BroadcastPerTensor: false });
    expect(pp.dataParallel.zero1GatherInStep).toBe(true);
    expect(pp.dataParallel.zero1GatherBytes).toBe(4);
    const zero1 = { ...plan, zero: 1 as const };
    // The same engine with the gather apart from the step (Megatron's distributed optimizer's way).
    const apart = withDp(pp, { zero1GatherInStep: false });
    const inStep = evaluatePlan(m, hw, training(true, pp), zero1).time.dpComm;
    const hidden = evaluatePlan(m, hw, training(true, apart), zero1).time.dpComm;
    // One all-gather of 4 bytes a parameter (fp32 weights), 7 ring steps on NVLink: exposed in the
    // step, else costing the engine's overlap slowdown of itself behind the first forward.
    const W4 = 7 * 3e-6 + (4 * P * 7) / 8 / 360e9;
    expect(inStep - hidden).toBeCloseTo((1 - pp.overlapSlowdown!) * W4, 9);
    // The simulator plays the same: the gather after the optimizer, at twice the 16-bit bytes.
    const sim = buildSimCosts(m, hw, training(true, pp), zero1);
    expect(sim.overlapParamGather).toBe(false);
    expect(sim.weightGatherScale).toBe(2);
    // ZeRO-2 (FSDP2, reshard_after_forward=False) keeps FSDP's prefetched gather in 16 bits.
    const z2 = buildSimCosts(m, hw, training(false, pp), { ...plan, zero: 2 });
    expect(z2.overlapParamGather).toBe(true);
    expect(z2.weightGatherScale).toBe(1);
  });
});
