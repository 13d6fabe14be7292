// --no-grad-overlap (Training.overlapGradReduce false) moves the gradients' reduction after the
// backward, and nothing else: ZeRO-3's weight gathers stay prefetched behind the compute, as FSDP's
// backward_prefetch and DeepSpeed's stage3_prefetch_bucket_size run apart from how gradients are
// reduced. Before, the switch also exposed every gather (the forward's too). ZeRO-1/2's weight
// gather still goes with it: Megatron-LM asserts --overlap-param-gather needs --overlap-grad-reduce.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { simulate } from "../../planner/sim/simulate.js";
import { totalParams } from "../../planner/model.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const fsdp = loadEngine("fsdp", undefined);
const m = preset("llama3-8b");
const hw = hardware("dgx-h100");
// 8 GPUs in one node: dp 8 over NVLink, 16 sequences of 4,096 tokens = 2 micro-batches of 1.
const training = (overlap: boolean): Training => ({ gpus: 8, globalBatch: 16, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: overlap, engine: fsdp });
const plan: Plan = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

describe("ZeRO-3 under fsdp, llama3-8b on 8 H100s", () => {
  const on = evaluatePlan(m, hw, training(true), plan);
  const off = evaluatePlan(m, hw, training(false), plan);

  it("after the backward, only the reduce-scatter comes out from behind the compute", () => {
    // By hand: each micro-batch reduce-scatters every gradient in bf16 (fsdp's
    // gradReduceBytesPerParam 2) over 8 ranks on a ring: 2 bytes × 8.03e9 × 7/8 over
    // 450 GB/s × 0.8 (dgx-h100's NVLink and its collective efficiency) ≈ 39 ms.
    const reduce = (2 * totalParams(m, 4096) * 7) / 8 / (450e9 * 0.8);
    expect(reduce).toBeGreaterThan(0.038);
    expect(reduce).toBeLessThan(0.04);
    // Hidden, it cost its overlap slowdown (fsdp 0.5) of itself; exposed, all of it: 2 micro-batches
    // × (1 − 0.5) × 39 ms ≈ 39 ms more, not the gathers' too (before: 119 ms more).
    const more = off.time.dpComm - on.time.dpComm;
    expect(fsdp.overlapSlowdown).toBe(0.5);
    expect(more).toBeGreaterThan(2 * 0.5 * reduce * 0.95);
    expect(more).toBeLessThan(2 * 0.5 * reduce * 1.1);
    expect(off.time.compute).toBe(on.time.compute);
  });

  it("the simulation agrees: the step grows by about the reduce-scatters, the gathers stay hidden", () => {
    const reduce = (2 * totalParams(m, 4096) * 7) / 8 / (450e9 * 0.8);
    const simOn = simulate(m, hw, training(true), plan).step;
    const simOff = simulate(m, hw, training(false), plan).step;
    // At most both micro-batches' reduce-scatters in full (the last one's tail was exposed even
    // overlapped); the gathers, about as long again each way, would add more than twice that.
    expect(simOff - simOn).toBeGreaterThan(0);
    expect(simOff - simOn).toBeLessThan(2 * reduce * 1.05);
  });
});
