// ZeRO-3 holds the layer in use and the one prefetched whole (FSDP §3.2, §4.3). For an MoE layer
// that is its attention and shared experts over tp beside its local routed experts, E/(ep·etp) of
// them: at ep 1 DeepSeek-V3 gathers all 256 experts of a layer. The buffer counted only a dense
// layer's matrices, so DeepSeek-V3's default #1 on 2,048 H100s (tp 2 · ep 1 · ZeRO-3) was shown at
// 74 GiB where it needs ~42 GiB more, and the search ranked it first.
import { describe, expect, it } from "vitest";
import { bufferBytes, gatheredLayerParams } from "../../planner/cost/memory.js";
import { layerMatrixParams } from "../../planner/model.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import type { Training } from "../../planner/types.js";
import { hardware, preset } from "./fixtures.js";

describe("the layers ZeRO-3 gathers, MoE layers with their local routed experts", () => {
  const ds = preset("deepseek-v3");
  // one expert: 3 matrices (gated) × h 7168 × f 2048 = 44,040,192; 256 of them 11,274,289,152
  const routed = 256 * 3 * 7168 * 2048;

  it("DeepSeek-V3: ep 8 gathers 1/8 of the routed experts that ep 1 does, the rest unchanged", () => {
    expect(routed).toBe(11_274_289_152);
    expect(gatheredLayerParams(ds, 1, 1) - gatheredLayerParams(ds, 1, 8)).toBe(routed * (7 / 8));
    // tp 2 halves the attention and the shared expert, not the routed experts (ep·etp = 1)
    expect(gatheredLayerParams(ds, 1, 1) - gatheredLayerParams(ds, 2, 1)).toBeCloseTo((gatheredLayerParams(ds, 1, 1) - routed) / 2, 0);
    // the buffer: the layer in use and one prefetched (2 layers) × 2 bytes, over dp 2 (no engine:
    // Megatron-Core's, whose buckets live in the gradient buffer): ep 1 holds 2 × 2 × 7/8 of the
    // routed experts more than ep 8 = 39,460,012,032 bytes
    expect(bufferBytes(ds, 1, 2, 3, undefined, 4, 1) - bufferBytes(ds, 1, 2, 3, undefined, 4, 8)).toBe(39_460_012_032);
    // ZeRO 0–2 gather nothing
    expect(bufferBytes(ds, 1, 2, 1, undefined, 4, 1)).toBe(bufferBytes(ds, 1, 2, 1, undefined, 4, 8));
  });

  it("a dense model gathers a dense layer's matrices over tp, as before", () => {
    const llama = preset("llama3-8b");
    expect(gatheredLayerParams(llama, 2, 4)).toBe(layerMatrixParams(llama) / 2);
    expect(bufferBytes(llama, 2, 8, 3, undefined, 32)).toBe((2 * 2 * layerMatrixParams(llama)) / 2);
  });

  it("the former #1 on 2,048 H100s (tp 2 · dp 1024 · ep 1 · ZeRO-3, micro-batch 15, full recompute) no longer fits", () => {
    const t: Training = { gpus: 2048, globalBatch: 15360, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const hw = hardware("dgx-h100");
    const plan = { tp: 2, pp: 1, vpp: 1, dp: 1024, cp: 1, ep: 1, etp: 1, zero: 3 as const, microBatch: 15, recompute: "full" as const, sequenceParallel: true, schedule: "1f1b" as const };
    const r = evaluatePlan(ds, hw, t, plan);
    // It was shown at 74.20 GiB. Its buffer now holds two layers' local routed experts whole:
    // 2 layers × 2 B × 11,274,289,152 = 45.1e9 B, less the dense layer's (attention over tp 2 and
    // the 18,432-wide MLP: 2 × 2 × (MLA + 3·7168·18432)/2) it had counted, times the 5 % fragmentation.
    // And its gradient shard is fp32 (no engine: Megatron-Core's, whose Megatron-FSDP keeps the
    // shard in the reduce dtype, fp32 under bf16; megatron_fsdp/param_and_grad_buffer.py:1867 @
    // core_v0.14.0), 2 bytes a parameter more than the 16-bit one it was shown with: the rank's
    // routed experts, 59 MoE layers (58 and the MTP module's) × 11,274,289,152 = 665,183,059,968
    // over edp = tp·dp/ep = 2048, and its dense share over tp 2, 9,302,052,608 (model.ts
    // rankParamSplit), over dp 1024: 2 × (324,796,416 + 9,084,035.75) = 667,760,903.5 B, × 1.05.
    expect(r.memory.total).toBeGreaterThan(hw.memory);
    const gib = r.memory.total / 2 ** 30;
    expect(r.memory.gradients).toBeCloseTo(4 * (665_183_059_968 / 2048 + 9_302_052_608 / 1024), 0);
    const hand = 74.1963 + ((2 * 2 * (gatheredLayerParams(ds, 2, 1) - layerMatrixParams(ds) / 2)) * 1.05) / 2 ** 30 + (667_760_903.5 * 1.05) / 2 ** 30;
    expect(gib).toBeCloseTo(hand, 2);
  });
});
