// DeepSpeed ≤ 0.12.4's partition_balanced (planner/layout/deepspeed-balanced.ts) and what
// bigscience's GPTModelPipe weighs under `partition_method parameters` (gpt-model-pipe.ts).
// The expected boundaries are those DeepSpeed v0.12.4's own deepspeed/runtime/utils.py
// (prefix_sum_inc, _lprobe, _rb_partition_balanced, partition_balanced) returns for the same
// weights, run under Python; the port agreed with it on 3,000 random cases.
import { describe, expect, it } from "vitest";
import { deepspeedBalancedBounds } from "../../planner/layout/deepspeed-balanced.js";
import { parametersSplit, pipeItemWeights, pipeLayerParams } from "../../planner/layout/gpt-model-pipe.js";
import type { ModelSpec } from "../../planner/types.js";

describe("partition_balanced of DeepSpeed 0.6.5–0.12.4", () => {
  it("returns DeepSpeed's boundaries, its greedy probe's quirks included", () => {
    // GPTModelPipe-like weights: a heavy embedding at each end, four layers, zero-weight functions.
    const pipe = [0, 309491056, 0, 867757909, 867757909, 867757909, 867757909, 0, 5720, 309491056, 0];
    expect(deepspeedBalancedBounds(pipe, 4)).toEqual([0, 4, 5, 6, 11]);
    // Random weights: the probe leaves the last two of 9 stages empty rather than spread 10 items.
    const w9 = [29025271, 564768179, 679232432, 135669026, 217195523, 811398978, 919281573, 369487824, 444105825, 349336977];
    expect(deepspeedBalancedBounds(w9, 9)).toEqual([0, 2, 4, 5, 6, 7, 9, 10, 10, 10]);
    const w7 = [812831995, 825343432, 569612276, 279556525, 849451278, 501702307, 664553192, 12003482, 871740680, 121040007, 494753803];
    expect(deepspeedBalancedBounds(w7, 7)).toEqual([0, 1, 2, 4, 5, 7, 10, 11]);
    // All weights zero: Python's weights[-1] (the last prefix) keeps the probe going; all on the last stage.
    expect(deepspeedBalancedBounds([0, 0, 0, 0, 0, 0], 5)).toEqual([0, 0, 0, 0, 0, 6]);
    // No more items than stages: one a stage from the first.
    expect(deepspeedBalancedBounds([5, 1], 4)).toEqual([0, 1, 2, 2, 2]);
  });

  it("weighs GPTModelPipe's type:transformer specs as DeepSpeed does: 64 layers on 9 stages are 7 × 8, 8", () => {
    const weights = [0, 0, 0, ...Array.from({ length: 64 }, () => 1), 0, 0, 0, 0];
    expect(deepspeedBalancedBounds(weights, 9)).toEqual([0, 10, 17, 24, 31, 38, 45, 52, 59, 71]);
  });
});

const bloom: ModelSpec = {
  name: "bloom", layers: 70, hidden: 14336, heads: 112, kvHeads: 112, ffnHidden: 57344, vocab: 250880,
  defaultSeqLen: 2048, mlp: "gelu", positional: "alibi", tiedEmbeddings: true, dropout: true,
};

describe("GPTModelPipe's specs weighed by their parameters (bigscience Megatron-DeepSpeed)", () => {
  it("counts one rank's layer as Megatron builds it: BLOOM's at tp 4 is (12h² + 7h)/4 + 6h", () => {
    const h = 14336;
    // QKV 3h² + 3h and the MLP's 4h² + 4h, weights and biases split; dense h² and 4h² split with
    // whole biases (h each); two LayerNorms (2h each).
    expect(pipeLayerParams(bloom, 4)).toBe((12 * h * h + 7 * h) / 4 + 6 * h);
    expect(pipeLayerParams(bloom, 4)).toBe(616_673_792);
  });

  it("weighs L + 7 specs, the tied embedding at each end", () => {
    const w = pipeItemWeights(bloom, { tp: 4, paddedVocab: 250880, positionRows: 0, embedNorm: false, tied: true }, true);
    expect(w).toHaveLength(77);
    expect(w[1]).toBe((250880 / 4) * 14336); // 899,153,920
    expect(w[75]).toBe(w[1]);
    expect(w[74]).toBe(2 * 14336); // the final LayerNorm
    expect([w[0], w[2], w[73], w[76]]).toEqual([0, 0, 0, 0]);
  });

  // Each split as DeepSpeed v0.12.4's partition_balanced gives it for these weights (run under Python).
  it("splits BLOOM's 70 layers on 12 stages as 5, 6 × 10, 5; a 24-layer learned-position model on 4 as 5, 7, 7, 5", () => {
    const w = { tp: 4, paddedVocab: 250880, positionRows: 0, embedNorm: false, tied: true };
    expect(parametersSplit(bloom, w, 12)).toEqual([5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5]);
    // The embedding LayerNorm (first-stage ranks only) moves nothing here: both views agree.
    expect(parametersSplit(bloom, { ...w, embedNorm: true }, 12)).toEqual([5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5]);
    const gpt: ModelSpec = { ...bloom, layers: 24, hidden: 2048, heads: 16, kvHeads: 16, ffnHidden: 8192, vocab: 50304, positional: "learned" };
    const g = { tp: 1, paddedVocab: 50304, positionRows: 2048, embedNorm: false, tied: true };
    expect(parametersSplit(gpt, g, 4)).toEqual([5, 7, 7, 5]);
    // On 8 stages the probe leaves the last without a layer.
    expect(parametersSplit(gpt, g, 8)).toEqual([1, 4, 4, 4, 4, 4, 3, 0]);
    // A SwiGLU model at tp 2 (the up projection twice the FFN width): even.
    const llama: ModelSpec = { ...bloom, layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffnHidden: 11008, vocab: 32000, mlp: "swiglu", positional: "rope" };
    expect(pipeLayerParams(llama, 2)).toBe(101_229_312);
    expect(parametersSplit(llama, { tp: 2, paddedVocab: 32000, positionRows: 0, embedNorm: false, tied: true }, 4)).toEqual([8, 8, 8, 8]);
  });

  it("where the first stage's ranks (which build --embed-layernorm) balance otherwise than the rest: \"disagree\"", () => {
    // A toy found by search: 5 layers of width 64, vocabulary 3,904, 4 stages. With the LayerNorm's
    // 128 parameters the embedding weighs 249,984 and DeepSpeed splits 0, 5, 0, 0; without, 249,856
    // and 0, 4, 1, 0.
    const toy: ModelSpec = { ...bloom, layers: 5, hidden: 64, heads: 1, kvHeads: 1, ffnHidden: 256, vocab: 3904 };
    const w = { tp: 1, paddedVocab: 3904, positionRows: 0, embedNorm: false, tied: true };
    expect(parametersSplit(toy, w, 4)).toEqual([0, 4, 1, 0]);
    expect(parametersSplit(toy, { ...w, embedNorm: true }, 4)).toBe("disagree");
  });
});
