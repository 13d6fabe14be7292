// Parameter counts of a decoder-only transformer, as laid out by Megatron-LM
// (Shoeybi et al. 2019, §3; Narayanan et al. 2021, §3.1 for the 12·l·h² count).
import type { ModelSpec, Plan } from "./types.js";
import { paddedVocab } from "./wire/facts.js";
import {
  expertParams, mlaReplicatedParams, mlaSplitParams, moeLayerCount, moeLayerParams, moeLayersIn, mtpCount, mtpExtraParams,
  moeLayersInRanges, routerParams, sharedExpertParams, stageRange,
} from "./moe.js";
import { holdingsKind, rankHeld, rankHoldings } from "./layout/stages.js";

export { paddedVocab };

/** d: hidden/heads unless the model states its own (Gemma: 256 ≠ 3584/16; Gemma Team 2024,
 *  "Gemma 2", Table 1). */
export function headDim(m: ModelSpec): number {
  return m.headDim ?? m.hidden / m.heads;
}

/** a·d: width of all query heads together (= h when d = h/a). */
export function attentionWidth(m: ModelSpec): number {
  return m.heads * headDim(m);
}

/** Width of the fused Q,K,V projection output: a·d for Q plus 2·g·d for grouped K and V
 *  (Ainslie et al. 2023, GQA). Equals 3h when kvHeads = heads and d = h/a. */
export function qkvWidth(m: ModelSpec): number {
  return attentionWidth(m) + 2 * m.kvHeads * headDim(m);
}

/** Gated MLPs (SwiGLU, GeGLU; Shazeer 2020) have a gate and an up projection. */
export function gatedMlp(m: ModelSpec): boolean {
  return m.mlp !== "gelu";
}

/** Matrices of the MLP: 2 for GELU (h→f→h), 3 for SwiGLU and GeGLU (gate, up, down; Shazeer 2020). */
export function mlpMatrices(m: ModelSpec): number {
  return gatedMlp(m) ? 3 : 2;
}

/** Keys one query attends to, averaged over the layers: s for full attention, min(s, w) for the
 *  layers with a sliding window w (Beltagy et al. 2020; Gemma-2 alternates local layers of
 *  w = 4096 with global ones, Gemma Team 2024 §2). */
export function keysPerQuery(m: ModelSpec, seqLen: number): number {
  if (m.slidingWindow === undefined) return seqLen;
  const share = (m.slidingWindowLayers ?? m.layers) / m.layers;
  return (1 - share) * seqLen + share * Math.min(seqLen, m.slidingWindow);
}

/** Attention weights split across tensor-parallel ranks: QKV and the output projection a·d → h,
 *  or MLA's up- and output projections (moe.ts mlaSplitParams). */
export function attentionSplitParams(m: ModelSpec): number {
  if (m.mla) return mlaSplitParams(m, m.mla);
  return m.hidden * qkvWidth(m) + attentionWidth(m) * m.hidden;
}

/** Weights split across tensor-parallel ranks, per dense layer (attention, MLP). */
export function layerMatrixParams(m: ModelSpec): number {
  return attentionSplitParams(m) + mlpMatrices(m) * m.hidden * m.ffnHidden;
}

/** GPT-style models (learned positions, or ALiBi as MPT keeps GPT's LayerNorm and GELU) carry
 *  LayerNorm; Llama-style (rotary) ones RMSNorm. */
export const gptStyleOf = (m: ModelSpec) => m.positional !== "rope";

/** Biases and norm weights per layer. GPT-style (learned positions, GELU) models carry biases and
 *  LayerNorm (weight + bias); Llama-style ones carry no biases and RMSNorm (weight only). ALiBi
 *  models count as GPT-style (an upper bound: MPT's no_bias drops the biases, ~0.1% of a layer). */
export function layerSmallParams(m: ModelSpec): number {
  const h = m.hidden;
  const gptStyle = gptStyleOf(m);
  const norms = normCount(m) * normWeights(m);
  const biases = gptStyle ? qkvWidth(m) + h + (mlpMatrices(m) - 1) * m.ffnHidden + h : m.qkvBias ? qkvWidth(m) : 0;
  return norms + biases + qkNormParams(m) + (m.mla ? mlaReplicatedParams(m, m.mla) : 0);
}

/** The query and key norms' weights (ModelSpec.qkNorm): one per channel of a head, shared by the
 *  heads (Qwen3 q_norm/k_norm of head_dim), or one per channel of the projections (OLMo 2). */
function qkNormParams(m: ModelSpec): number {
  if (m.qkNorm === undefined) return 0;
  return m.qkNorm === "head" ? 2 * headDim(m) : qkvWidth(m) - m.kvHeads * headDim(m);
}

export function layerParams(m: ModelSpec): number {
  return layerMatrixParams(m) + layerSmallParams(m);
}

export function finalNormParams(m: ModelSpec): number {
  return normWeights(m);
}

/** Weights of one norm: LayerNorm's weight and bias (2h) in a GPT-style model, RMSNorm's weight
 *  (h) in a Llama-style one, none where the norms are non-parametric (ModelSpec.norms: OLMo-1). */
function normWeights(m: ModelSpec): number {
  if (m.norms === "nonparametric") return 0;
  return gptStyleOf(m) ? 2 * m.hidden : m.hidden;
}

/** Norms a layer holds: before attention and before the MLP, and after each too under Gemma 2/3's
 *  sandwich (ModelSpec.norms; Gemma Team 2024, "Gemma 2", §2: "post-norm and pre-norm with
 *  RMSNorm"). */
export const normCount = (m: ModelSpec) => (m.norms === "sandwich" ? 4 : 2);

/** Total trainable parameters with the unpadded vocabulary (what a model card reports); learned
 *  positions have one row per position of the sequence length seqLen. */
export function totalParams(m: ModelSpec, seqLen: number): number {
  const embed = m.vocab * m.hidden;
  const pos = m.positional === "learned" ? positionRows(m, seqLen) * m.hidden : 0;
  const out = m.tiedEmbeddings ? 0 : m.vocab * m.hidden;
  return layersParams(m, false) + embed + pos + out + finalNormParams(m);
}

/** Parameters of all transformer layers, each MoE layer with all its experts or (active) with
 *  the k routed experts a token goes to (formulas-scale §1.1: replace E + E_s by k + E_s).
 *  Multi-token-prediction modules are not part of the model (DeepSeek-V3 counts 671B without
 *  them) and are left out. */
export function layersParams(m: ModelSpec, active: boolean): number {
  const nMoe = moeLayerCount(m);
  const dense = (m.layers - nMoe) * layerParams(m);
  if (nMoe === 0) return dense;
  const p = moeLayerParams(m, attentionSplitParams(m), layerSmallParams(m));
  const routed = active ? m.moe!.topK * expertParams(m) : p.routed;
  return dense + nMoe * (p.split + p.replicated + routed);
}

/** Parameters active per token. Convention: every weight a token's forward pass multiplies by —
 *  attention, dense MLPs, the shared and the top-k routed experts, the router, the norms and the
 *  output head — and not the input embedding, whose lookup reads one row (DeepSeek's convention:
 *  "36.7B" for V3 in its README_WEIGHTS.md). Mistral, Qwen and OLMoE count the input embedding
 *  too: `inputEmbedding: true`. Learned positions are a lookup as well (counted with it). */
export function activeParams(m: ModelSpec, seqLen: number, o: { inputEmbedding?: boolean } = {}): number {
  // A tied matrix is one set of weights: counted once, as the head.
  const embed = o.inputEmbedding ? (m.tiedEmbeddings ? 0 : m.vocab * m.hidden) + (m.positional === "learned" ? positionRows(m, seqLen) * m.hidden : 0) : 0;
  return layersParams(m, true) + embed + m.vocab * m.hidden + finalNormParams(m);
}

/** Parameters held by one GPU of a pipeline stage under tensor parallelism t.
 *  Matrices are split t ways; norms and (for simplicity, row-parallel) biases are replicated.
 *  The first stage adds the vocab-parallel embedding (V/t·h) and positions (replicated);
 *  the last adds the output layer: its own matrix, or with tied embeddings and p > 1 a copy of
 *  the input embedding (Megatron-LM keeps one on the last stage and all-reduces its gradient). */
export function stageParamsPerGpu(
  m: ModelSpec,
  seqLen: number,
  tp: number,
  pp: number,
  layersInStage: number,
  stage: "first" | "last" | "only",
  ep = 1,
  etp = 1,
): number {
  const s = stageParamSplit(m, seqLen, tp, pp, layersInStage, stage, ep, etp);
  return s.dense + s.expert;
}

/** Rows of the learned position table: the model's own (a config.json's n_positions), else the
 *  sequence planned (a table made for it). */
export const positionRows = (m: ModelSpec, seqLen: number): number => m.positionTable ?? seqLen;

/** A stage's parameters on one GPU, split into the dense ones (sharded by ZeRO over dp·cp) and
 *  the routed experts' (1/(ep·etp) of each MoE layer's experts, sharded over edp; Megatron-Core
 *  MoE parallel folding, formulas-scale §1.5). The last stage also holds the multi-token-
 *  prediction modules (Megatron-LM places them after the last layer, its layout's "m|L"). */
export function stageParamSplit(
  m: ModelSpec,
  seqLen: number,
  tp: number,
  pp: number,
  layersInStage: number,
  stage: "first" | "last" | "only" | "middle",
  ep = 1,
  etp = 1,
  /** The layers [from, to) the stage (or rank: one range per virtual stage it holds) holds, where
   *  they are not the first or last L/p (layout/stages.ts rankHoldings); needed for "middle". */
  ranges?: readonly (readonly [number, number])[],
): { dense: number; expert: number } {
  const vPad = paddedVocab(m.vocab, tp);
  const layer = layerMatrixParams(m) / tp + layerSmallParams(m);
  // (indexed, not destructured: the search calls this for every layout it prices, and array
  // destructuring runs the iterator protocol until V8 compiles the function)
  let nMoe: number;
  if (ranges !== undefined) nMoe = moeLayersInRanges(m, ranges);
  else {
    const r = stageRange(m, layersInStage, stage === "middle" ? "first" : stage);
    nMoe = moeLayersIn(m, r[0], r[1]);
  }
  let dense = (layersInStage - nMoe) * layer;
  let expert = 0;
  const last = stage === "last" || stage === "only";
  if (m.moe !== undefined) {
    const moeDense = (attentionSplitParams(m) + sharedExpertParams(m)) / tp + layerSmallParams(m) + routerParams(m);
    const moeRouted = (m.moe.experts * expertParams(m)) / (ep * etp);
    const mtp = last ? mtpCount(m) : 0;
    dense += (nMoe + mtp) * moeDense + mtp * mtpExtraParams(m);
    expert += (nMoe + mtp) * moeRouted;
  } else if (last) dense += mtpCount(m) * (layer + mtpExtraParams(m));
  const embed = (vPad * m.hidden) / tp + (m.positional === "learned" ? positionRows(m, seqLen) * m.hidden : 0);
  // Tied embeddings: one matrix where a rank holds both ends ("only": no pipeline, or rank 0 of a
  // V schedule, zbv and dualpipev, layout/stages.ts rankHoldings); a copy on each end otherwise.
  const output = m.tiedEmbeddings && (pp === 1 || stage === "only") ? 0 : (vPad * m.hidden) / tp;
  if (stage === "first" || stage === "only") dense += embed;
  if (last) dense += output + finalNormParams(m);
  // Multi-token prediction embeds its shifted input: the stage holding the MTP modules builds an
  // embedding of its own where the first stage's is elsewhere (GPTModel builds it `if
  // self.pre_process or self.mtp_process`, megatron/core/models/gpt/gpt_model.py @d98e8a64; its
  // gradient all-reduced with the first stage's, finalize_model_grads.py
  // _get_shared_word_embedding_weight; formulas-scale.md §1.3). A tied output layer is that copy.
  if (stage === "last" && mtpCount(m) > 0 && !m.tiedEmbeddings) dense += embed;
  return { dense, expert };
}

const NO_RANGES: readonly (readonly [number, number])[] = [];

/** The parameters one GPU of pipeline rank `rank` holds (stageParamSplit over the layers, the
 *  embedding and the output layer of its own stages: layout/stages.ts rankHoldings). */
export function rankParamSplit(
  m: ModelSpec,
  seqLen: number,
  plan: Pick<Plan, "tp" | "pp" | "vpp" | "schedule" | "stageLayers" | "ep" | "etp">,
  rank: number,
): { dense: number; expert: number } {
  // (a dense model: no ranges, stageParamSplit counts no MoE layer in them)
  if (m.moe === undefined) {
    const h = rankHeld(plan, m.layers, rank);
    return stageParamSplit(m, seqLen, plan.tp, plan.pp, h.layers, holdingsKind(h), plan.ep, plan.etp, NO_RANGES);
  }
  const h = rankHoldings(plan, m.layers, rank);
  return stageParamSplit(m, seqLen, plan.tp, plan.pp, h.layers, holdingsKind(h), plan.ep, plan.etp, h.ranges);
}
