// Materialised attention (Megatron-LM 2021's baddbmm / bmm over per-head Q, K, V and the s×s scores)
// is priced as batched GEMMs through the matmul table and HBM's roofline (cost/compute.ts
// materialisedAttentionTime), not at an attention efficiency. Hand computations on the shapes of
// Narayanan et al. 2021 Table 1's 1.7B model (h 2304, 24 heads of 96, s 2048, micro-batch 16).
import { describe, expect, it } from "vitest";
import { hbm, layerTimes, materialisedAttentionTime } from "../../planner/cost/compute.js";
import { recomputeWorkingBytes } from "../../planner/cost/activations.js";
import type { ModelSpec, Training } from "../../planner/index.js";
import { hardware } from "./fixtures.js";

const gpt17: ModelSpec = {
  name: "megatron-1.7b", layers: 24, hidden: 2304, heads: 24, kvHeads: 24, ffnHidden: 9216, vocab: 51200, seqLen: 2048,
  mlp: "gelu", positional: "learned", tiedEmbeddings: true, dropout: true,
};
const a100 = hardware("dgx-a100-80g");
const training = (over: Partial<Training> = {}): Training => ({
  gpus: 32, globalBatch: 512, seqLen: 2048, precision: "fp16", fusedAttention: false, overlapGradReduce: false, ...over,
});

describe("materialised attention as batched GEMMs", () => {
  it("head dim 96 on an A100: both GEMMs stream their operands and the scores through HBM", () => {
    // Q·Kᵀ: 16·24 = 384 GEMMs of 2048×96 by 96×2048 → 2 bytes × (2·2048·96 + 2048²) each, and
    // P·V the same bytes (2048×2048 by 2048×96 → 2048×96). Arithmetic intensity 2·2048²·96 /
    // (2·(2·2048·96 + 2048²)) = 87 FLOP/byte: at 0.85 × 2,039 GB/s that is 151 TFLOP/s, below the
    // table's ~71 % of 312 at 3.1e11 FLOPs — memory-bound, so the time is the bytes alone.
    const bytes = 2 * 384 * 2 * (2 * 2048 * 96 + 2048 * 2048);
    const t = materialisedAttentionTime(gpt17, a100, 2048, 2048, 1, 16);
    expect(t).toBeCloseTo(bytes / (2039e9 * 0.85), 12);
    expect(t * 1e3).toBeCloseTo(4.07, 2);
    // tp 4 splits the heads: a quarter of the GEMMs.
    expect(materialisedAttentionTime(gpt17, a100, 2048, 2048, 4, 16)).toBeCloseTo(t / 4, 12);
  });

  it("an engine's GEMM library scales the compute side, not a memory-bound batch", () => {
    const library = (gemmEfficiency: number) => ({ gemmEfficiency }) as Parameters<typeof materialisedAttentionTime>[6];
    const t = materialisedAttentionTime(gpt17, a100, 2048, 2048, 1, 16);
    // Compute at 0.9 of the table: 1.39 / 0.9 = 1.54 ms a GEMM batch, still under its 2.03 ms of bytes.
    expect(materialisedAttentionTime(gpt17, a100, 2048, 2048, 1, 16, library(0.9))).toBeCloseTo(t, 12);
    // At half the table the compute (2.8 ms a batch) is the longer side.
    expect(materialisedAttentionTime(gpt17, a100, 2048, 2048, 1, 16, library(0.5))).toBeGreaterThan(t * 1.3);
  });

  it("the layer's attention core is the GEMMs plus the softmax and dropout bytes, whatever the attention efficiency", () => {
    const base = layerTimes(gpt17, a100, training(), 1, 16, false);
    const other = layerTimes(gpt17, { ...a100, attentionEfficiency: 0.1 }, training(), 1, 16, false);
    expect(other.forward).toBe(base.forward);
    // Softmax (read 2, write 2) and dropout (read 2, write 2 + a 1-byte mask) per score.
    const softmax = hbm(a100, 9 * 24 * 2048 * 16 * 2048);
    expect(base.attentionCore).toBeCloseTo(materialisedAttentionTime(gpt17, a100, 2048, 2048, 1, 16) + softmax, 12);
    // A fused kernel still runs at its efficiency.
    const fused = layerTimes(gpt17, { ...a100, attentionEfficiency: 0.1 }, training({ fusedAttention: true }), 1, 16, false);
    expect(fused.forward).toBeGreaterThan(layerTimes(gpt17, a100, training({ fusedAttention: true }), 1, 16, false).forward);
  });
});

describe("one attention price for dense and MoE layers", () => {
  it("an MoE layer's attention core is compute.ts attentionTime plus the scores' softmax, materialised or fused", async () => {
    const { moeLayerTimes } = await import("../../planner/cost/moe-time.js");
    const { attentionTime } = await import("../../planner/cost/compute.js");
    const { preset } = await import("./fixtures.js");
    const m = preset("mixtral-8x7b");
    const h100 = hardware("dgx-h100");
    const p = { tp: 2, ep: 4, etp: 1, microBatch: 1, sequenceParallel: true };
    for (const fusedAttention of [false, true]) {
      const t = training({ gpus: 64, globalBatch: 128, seqLen: 4096, precision: "bf16", fusedAttention });
      const softmax = fusedAttention ? 0 : hbm(h100, (4 * m.heads * 4096 * 4096) / 2);
      expect(moeLayerTimes(m, h100, t, p).attentionCore).toBeCloseTo(attentionTime(m, h100, t, 2, 1) + softmax, 12);
    }
    // Materialised: the batched GEMMs, not a kernel efficiency.
    const t = training({ gpus: 64, globalBatch: 128, seqLen: 4096, precision: "bf16", fusedAttention: false });
    expect(attentionTime(m, h100, t, 2, 1)).toBeCloseTo(materialisedAttentionTime(m, h100, 4096, 4096, 2, 1), 15);
  });
});

// The scores a recomputed layer re-creates (Korthikanti et al. 2022 §4.2: 5as²b bytes a layer with
// dropout, over t), one layer at a time: QA found an unfused plan at 32k tokens reported as fitting
// while its selective recompute re-made some 32 GiB of scores.
describe("unfused attention's scores while a recomputed layer runs its backward", () => {
  const o = (recompute: "selective" | "full" | "none", fusedAttention = false) => ({ seqLen: 2048, tp: 4, sequenceParallel: false, recompute, fusedAttention });
  it("selective recompute re-creates exactly the scores: 5 · 24 heads · 2048² · 16 / 4 bytes", () => {
    expect(recomputeWorkingBytes(gpt17, 16, o("selective"))).toBeCloseTo((5 * 24 * 2048 * 2048 * 16) / 4, 0);
    expect(recomputeWorkingBytes(gpt17, 16, o("selective", true))).toBe(0);
    expect(recomputeWorkingBytes(gpt17, 16, o("none"))).toBe(0);
  });
  it("full recompute re-creates the layer, its scores included", () => {
    const sbh = 2048 * 16 * 2304;
    const fused = recomputeWorkingBytes(gpt17, 16, o("full", true));
    // Korthikanti's 34 bytes a token and unit of h (10 replicated, 24 split over t) less the 2sbh input kept
    expect(fused).toBeCloseTo(sbh * (10 + 24 / 4) - 2 * sbh, 0);
    expect(recomputeWorkingBytes(gpt17, 16, o("full"))).toBeCloseTo(fused + (5 * 24 * 2048 * 2048 * 16) / 4, 0);
  });
});
