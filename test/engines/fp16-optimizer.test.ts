// DeepSpeed's FP16_Optimizer, what its engine runs at ZeRO stage 0 under fp16 (engine.py
// _configure_fp16_optimizer @ v0.6.5, over Megatron-DeepSpeed's fused Adam). Its step builds each
// parameter group's fp32 gradient as
//   _flatten_dense_tensors([p.grad.to(fp32) for p in group])
// (deepspeed/runtime/fp16/fused_optimizer.py step @ v0.6.5): the list of per-tensor fp32 copies
// (4 bytes a parameter) and the flat tensor they are concatenated into (4 more) live together,
// after the last backward has freed the activations. Nearly every parameter is in the first
// (weight-decayed) group, so the step's peak is 8Ψ over the model states where that exceeds the
// activations.
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
const plan: Plan = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" };
const training = (precision: Precision, engine = ds): Training => ({ gpus: 8, globalBatch: 64, seqLen: 2048, precision, fusedAttention: false, overlapGradReduce: false, engine });
// Ψ: every parameter of the model on each GPU (tp 1, pp 1): 1.3 billion, 8Ψ ≈ 10.5 GB
const psi = stageParamsPerGpu(m, 2048, 1, 1, m.layers, "only");

describe("DeepSpeed's FP16_Optimizer at ZeRO stage 0", () => {
  it("adds max(0, 8Ψ − activations) at the step, times the allocator's fragmentation", () => {
    const withFlatten = evaluatePlan(m, hw, training("fp16"), plan).memory;
    const plain = evaluatePlan(m, hw, training("fp16", without), plan).memory;
    // full recompute, micro-batch 1: about 1 GB of activations, far below 8Ψ
    expect(withFlatten.activations).toBeLessThan(2e9);
    const added = (8 * psi - withFlatten.activations) * (1 + hw.fragmentation);
    expect(withFlatten.total - plain.total).toBeCloseTo(added, -3);
    expect(added).toBeGreaterThan(8e9);
  });

  it("nothing where the activations already exceed it, at ZeRO-1 (the ZeRO optimizer) or under bf16 (BF16_Optimizer)", () => {
    expect(reduceTransientBytes(training("fp16"), 0, 1e9, 9e9)).toBe(0);
    expect(reduceTransientBytes(training("fp16"), 0, 1e9, 7e9)).toBe(1e9);
    expect(reduceTransientBytes(training("fp16"), 1, 1e9, 0)).toBe(0);
    // BF16_Optimizer's transient is its bf16 cast of the fp32 gradients, 2 bytes a parameter
    expect(reduceTransientBytes(training("bf16"), 0, 1e9, 0)).toBe(2e9);
    // other engines' fp16 stage 0 is not FP16_Optimizer: Megatron-Core's fp32 copy is 4Ψ
    expect(reduceTransientBytes(training("fp16", loadEngine("megatron-core", undefined)), 0, 1e9, 0, 1e9)).toBe(4e9);
  });
});
