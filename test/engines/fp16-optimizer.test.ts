// DeepSpeed's optimizers build the fp32 gradient they step by flattening the 16-bit ones, after
// the last backward has freed the activations (deepspeed @ v0.6.5):
// - ZeRO-0 under fp16 is FP16_Optimizer (engine.py _configure_fp16_optimizer, over
//   Megatron-DeepSpeed's fused Adam): _flatten_dense_tensors([p.grad.to(fp32) for p in group])
//   (fp16/fused_optimizer.py step) holds the per-tensor fp32 copies (4 bytes a parameter) and the
//   flat tensor (4 more) together: 8G for the largest group G;
// - ZeRO-1/2: flatten(averaged_gradients).to(fp32) (zero/stage_1_and_2.py step) holds the 16-bit
//   flat shard (2G/d) and its fp32 cast (4G/d): 6G/d over ZeRO-2's states; ZeRO-1 has first freed
//   the whole 16-bit gradients outside its partition (2G(1 − 1/d)): 8G/d − 2G, none from d = 4.
// Megatron-DeepSpeed's groups are the weight-decayed parameters (nearly all) then the biases and
// norms, so G is about every parameter of the rank.
import { describe, expect, it } from "vitest";
import { reduceTransientBytes } from "../../planner/cost/memory.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import type { Plan, Precision, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const m = preset("gpt3-1.3b");
const hw = hardware("dgx-a100-80g");
const ds = loadEngine("megatron-deepspeed", undefined);
const without = { ...ds, dataParallel: { ...ds.dataParallel, fp32GradFlattenAtStep: false } };
const plan = (zero: 0 | 1 | 2, dp: number): Plan => ({ tp: 1, pp: 1, dp, cp: 1, ep: 1, etp: 1, vpp: 1, zero, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" });
const training = (precision: Precision, dp: number, engine = ds): Training => ({ gpus: dp, globalBatch: 8 * dp, seqLen: 2048, precision, fusedAttention: false, overlapGradReduce: false, engine });
// Ψ: every parameter of the model on each GPU (tp 1, pp 1): 1.3 billion, 8Ψ ≈ 10.5 GB
const psi = stageParamsPerGpu(m, 2048, 1, 1, m.layers, "only");
const added = (precision: Precision, zero: 0 | 1 | 2, dp: number) =>
  evaluatePlan(m, hw, training(precision, dp), plan(zero, dp)).memory.total - evaluatePlan(m, hw, training(precision, dp, without), plan(zero, dp)).memory.total;
const acts = (zero: 0 | 1 | 2, dp: number) => evaluatePlan(m, hw, training("fp16", dp), plan(zero, dp)).memory.activations;

describe("DeepSpeed's fp32 gradient flatten at the step", () => {
  it("FP16_Optimizer (ZeRO-0, fp16) adds max(0, 8Ψ − activations), times the allocator's fragmentation", () => {
    // full recompute, micro-batch 1: about 1 GB of activations, far below 8Ψ ≈ 10.5 GB
    expect(acts(0, 8)).toBeLessThan(2e9);
    expect(added("fp16", 0, 8)).toBeCloseTo((8 * psi - acts(0, 8)) * (1 + hw.fragmentation), -3);
    expect(added("fp16", 0, 8)).toBeGreaterThan(8e9);
  });

  it("ZeRO-2 adds 6Ψ/d, under fp16 and bf16 alike (16-bit partitions either way)", () => {
    for (const p of ["fp16", "bf16"] as const) expect(added(p, 2, 2)).toBeCloseTo(((6 * psi) / 2 - acts(2, 2)) * (1 + hw.fragmentation), -3);
  });

  it("ZeRO-1 adds 8Ψ/d − 2Ψ: 2Ψ at d = 2, nothing at d = 8", () => {
    expect(added("fp16", 1, 2)).toBeCloseTo((2 * psi - acts(1, 2)) * (1 + hw.fragmentation), -3);
    expect(added("fp16", 1, 8)).toBe(0);
  });

  it("nothing where the activations already exceed it; under bf16 at ZeRO-0 BF16_Optimizer's cast instead; Megatron's copy on Megatron-Core", () => {
    const t = training("fp16", 8);
    expect(reduceTransientBytes(t, 0, 1e9, 0, 8, 1, 9e9)).toBe(0);
    expect(reduceTransientBytes(t, 0, 1e9, 0, 8, 1, 7e9)).toBe(1e9);
    // the groups in DeepSpeed's order, the dense ones then the experts': at ZeRO-2 the dense
    // shard's fp32 gradient (4 · 1e8 / 8 = 5e7) stays while the experts' flatten (6 · 1e9 / 2)
    expect(reduceTransientBytes(t, 2, 1e8, 1e9, 8, 2, 0)).toBeCloseTo(5e7 + 3e9, 0);
    // ZeRO-0: the dense group's flat fp32 gradient less its freed 16-bit ones (2 · 1e9), then the
    // experts' copies and flat tensor (8 · 2e9); the dense group's own 8 · 1e9 is the smaller
    expect(reduceTransientBytes(t, 0, 1e9, 2e9, 8, 2, 0)).toBe(2e9 + 16e9);
    expect(reduceTransientBytes(t, 0, 1e9, 1e8, 8, 2, 0)).toBe(8e9);
    // BF16_Optimizer's transient is its bf16 cast of the fp32 gradients, 2 bytes a parameter
    expect(reduceTransientBytes(training("bf16", 8), 0, 1e9, 0, 8, 1, 0)).toBe(2e9);
    // Megatron-Core's fp16 stage 0 is not FP16_Optimizer: its fp32 copy is 4Ψ
    expect(reduceTransientBytes(training("fp16", 8, loadEngine("megatron-core", undefined)), 0, 1e9, 0, 8, 1, 0)).toBe(4e9);
  });
});
