// FLOPs of the matmuls of one transformer layer and of the logits, per micro-batch, per GPU.
// Convention (Narayanan et al. 2021, Eq. 3, and its derivation in §5.1): 2 FLOPs per
// multiply-accumulate; backward = 2 × forward; attention scores and values counted over the full
// s×s square (no causal halving), so that for a GPT with a 4h GELU MLP the total is exactly
//   72·B·s·L·h²·(1 + s/(6h) + V/(12·L·h))  (model FLOPs), and with full recompute
//   96·B·s·L·h²·(1 + s/(6h) + V/(16·L·h))  (hardware FLOPs).
import { attentionWidth, keysPerQuery, mlpMatrices, qkvWidth } from "../model.js";
import { attentionCoreWidths, moeLayerCount, mtpCount } from "../moe.js";
import type { ModelSpec, Plan, Training } from "../types.js";
import { mlaGemms, moeLayerForwardFlops, mtpForwardFlops } from "./moe-flops.js";
import { opSacRecomputeGemms } from "./op-sac.js";
import { DEFAULT_RECOMPUTE_MODULES, recomputeModulesOf } from "../recompute-modules.js";
import { moduleRecomputeFlops } from "./module-recompute.js";
import { recomputedModelLayers } from "./block-recompute.js";

/** What the step-level counts need of the training: b·s tokens per step. */
export type Tokens = Pick<Training, "globalBatch" | "seqLen">;

/** One GEMM (m×k)·(k×n): its shape is what sets its efficiency. */
export interface Gemm {
  m: number;
  n: number;
  k: number;
  /** How many times it runs per layer forward. */
  count: number;
}

export function gemmFlops(g: Gemm): number {
  return 2 * g.m * g.n * g.k * g.count;
}

/** The forward GEMMs of one layer on one tensor-parallel rank, tokens = b·s.
 *  Shapes (Megatron-LM column/row parallel linear layers, Shoeybi et al. 2019 §3):
 *   QKV   [b·s, h] × [h, (a·d + 2·g·d)/t]
 *   proj  [b·s, a·d/t] × [a·d/t, h]   (a·d = h unless the model states its head width)
 *   MLP   [b·s, h] × [h, f/t] (×2 for SwiGLU gate and up), [b·s, f/t] × [f/t, h] */
export function layerGemms(m: ModelSpec, tp: number, tokens: number): Gemm[] {
  const h = m.hidden;
  const f = m.ffnHidden;
  const up = mlpMatrices(m) - 1;
  return [
    ...attentionGemms(m, tp, tokens),
    { m: tokens, n: f / tp, k: h, count: up },
    { m: tokens, n: h, k: f / tp, count: 1 },
  ];
}

/** The attention's projections: QKV and the output projection, or MLA's (moe-flops.ts). */
export function attentionGemms(m: ModelSpec, tp: number, tokens: number): Gemm[] {
  if (m.mla) return mlaGemms(m, m.mla, tp, tokens);
  return [
    { m: tokens, n: qkvWidth(m) / tp, k: m.hidden, count: 1 },
    { m: tokens, n: m.hidden, k: attentionWidth(m) / tp, count: 1 },
  ];
}

/** Attention core forward FLOPs of one layer per tp rank: Q·Kᵀ and softmax·V,
 *  2·(2·b·s²·h)/t = 4·b·s²·h/t (Narayanan et al. 2021 §5.1), with a·d for h and, for sliding-window
 *  layers, min(s, w) keys per query instead of s (keysPerQuery). GQA does not change it:
 *  every query head still attends over its keys of width d. */
export function attentionFlops(m: ModelSpec, seqLen: number, tp: number, microBatch: number): number {
  // 2·b·s·keys·(width of Q·Kᵀ + width of the values): 4·b·s·keys·a·d for standard attention,
  // 2·b·s·keys·n_h·(d_n + d_r + d_v) for MLA (formulas-scale §1.2, full square as above).
  const w = attentionCoreWidths(m);
  return (2 * microBatch * seqLen * keysPerQuery(m, seqLen) * (w.qk + w.v)) / tp;
}

/** Logits forward FLOPs per tp rank: [b·s, h] × [h, V/t]. */
export function logitsGemm(m: ModelSpec, tp: number, tokens: number, vocabPadded: number): Gemm {
  return { m: tokens, n: vocabPadded / tp, k: m.hidden, count: 1 };
}

/** Forward FLOPs of one layer (all tp ranks together) for `tokens` tokens in sequences of seqLen. */
export function layerForwardFlops(m: ModelSpec, seqLen: number, tokens: number): number {
  const gemms = layerGemms(m, 1, tokens).reduce((sum, g) => sum + gemmFlops(g), 0);
  return gemms + attentionFlops(m, seqLen, 1, tokens / seqLen);
}

/** Model FLOPs of one training step (forward + backward = 3 × forward, no recompute). */
export function modelFlopsPerStep(m: ModelSpec, t: Tokens, vocabPadded: number): number {
  const tokens = t.globalBatch * t.seqLen;
  const logits = gemmFlops(logitsGemm(m, 1, tokens, vocabPadded));
  // Multi-token-prediction modules are trained with the model: a layer, a projection and a logits
  // pass each (formulas-scale §1.4, Megatron num_floating_point_operations counts them).
  const mtp = mtpCount(m) > 0 ? mtpCount(m) * (mtpForwardFlops(m, t.seqLen, tokens) + logits) : 0;
  return 3 * (layersForwardFlops(m, t.seqLen, tokens) + logits + mtp);
}

/** Forward FLOPs of all layers: the dense ones and, with their active experts and router, the
 *  MoE ones (moe-flops.ts). */
export function layersForwardFlops(m: ModelSpec, seqLen: number, tokens: number): number {
  const nMoe = moeLayerCount(m);
  const dense = (m.layers - nMoe) * layerForwardFlops(m, seqLen, tokens);
  return nMoe === 0 ? dense : dense + nMoe * moeLayerForwardFlops(m, seqLen, tokens);
}

/** Extra FLOPs per step that recomputation adds (Korthikanti et al. 2022 §5):
 *  full recompute re-runs every layer's forward; selective re-runs the attention core (or on
 *  Megatron the modules it names; per-op SAC its unsaved matmuls). The
 *  multi-token-prediction modules' projection and block are recomputed with them (Megatron-Core
 *  MultiTokenPredictionLayer checkpoints _proj_and_transformer_layer under full recompute,
 *  multi_token_prediction.py @ core_r0.14.0; the block's own selective recompute inside). */
export function recomputeFlopsPerStep(
  m: ModelSpec,
  t: Tokens & Partial<Pick<Training, "engine">>,
  recompute: "none" | "selective" | "full",
  chunks?: Pick<Plan, "pp" | "vpp" | "stageLayers" | "recomputeLayers">,
): number {
  const tokens = t.globalBatch * t.seqLen;
  const mtp = mtpCount(m);
  // (block recompute: the first N layers of each chunk, cost/block-recompute.ts; the layers' mean)
  const share = chunks?.recomputeLayers !== undefined ? recomputedModelLayers(chunks, m.layers) / m.layers : 1;
  if (recompute === "full") return share * layersForwardFlops(m, t.seqLen, tokens) + (mtp > 0 ? mtp * mtpForwardFlops(m, t.seqLen, tokens) : 0);
  // torchtitan's per-op SAC re-runs the unsaved matmuls instead (cost/op-sac.ts).
  if (recompute === "selective" && t.engine?.selectiveRecompute === "alternate-matmuls")
    return (m.layers + mtp) * opSacRecomputeGemms(m, 1, tokens).reduce((sum, g) => sum + gemmFlops(g), 0);
  // Megatron's: the attention cores where its modules name them, and the GEMMs of the others
  // (cost/module-recompute.ts; the MTP blocks' own modules left out).
  if (recompute === "selective") {
    const modules = recomputeModulesOf(t.engine) ?? DEFAULT_RECOMPUTE_MODULES;
    const core = modules.includes("core_attn") ? (m.layers + mtp) * attentionFlops(m, t.seqLen, 1, t.globalBatch) : 0;
    return core + moduleRecomputeFlops(m, modules, tokens);
  }
  return 0;
}
