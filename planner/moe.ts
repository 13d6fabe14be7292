// Mixture-of-experts and multi-head latent attention: which layers are MoE, and the parameters
// of their parts. Counts follow the DeepSeek-V3 technical report (DeepSeek-AI 2024, arXiv
// 2412.19437, §2.1.1 eqs. 1–11 and §2.1.2 eqs. 12–15) and deepseek-ai/DeepSeek-V3
// inference/model.py (classes MLA, Gate, Expert, MoE; commit 9b4e9788e4a3), as written out in
// shared/reference/formulas-scale.md §1.1–1.3; Mixtral, Qwen-MoE and OLMoE are the same layer with
// softmax routing, no shared experts (Qwen2-MoE: one) and standard attention.
import type { MlaSpec, ModelSpec, Plan } from "./types.js";
import { busiestRank, rankHoldings } from "./layout/stages.js";

/** Matrices of one expert's MLP: 3 for SwiGLU (gate, up, down), 2 for a plain MLP. */
const expertMatrices = (m: ModelSpec) => (m.mlp === "gelu" ? 2 : 3);

/** Whether layer i (0-based) is a mixture-of-experts layer (types.ts MoeSpec: i ≥ denseLayers and
 *  (i + 1) divisible by layerFreq, Qwen2-MoE's decoder_sparse_step convention). */
export function isMoeLayer(m: ModelSpec, i: number): boolean {
  const e = m.moe;
  return e !== undefined && i >= e.denseLayers && (i + 1) % e.layerFreq === 0;
}

/** MoE layers among layers [from, to). */
export function moeLayersIn(m: Pick<ModelSpec, "moe">, from: number, to: number): number {
  const e = m.moe;
  if (e === undefined) return 0;
  // Layers i in [max(from, denseLayers), to) with (i + 1) a multiple of layerFreq: the multiples
  // of layerFreq in (start, to].
  const start = Math.max(from, e.denseLayers);
  if (to <= start) return 0;
  return Math.floor(to / e.layerFreq) - Math.floor(start / e.layerFreq);
}

/** MoE layers among several ranges (a rank's virtual stages, layout/stages.ts rankHoldings). */
export function moeLayersInRanges(m: ModelSpec, ranges: readonly (readonly [number, number])[]): number {
  if (m.moe === undefined) return 0;
  let n = 0;
  for (let i = 0; i < ranges.length; i++) n += moeLayersIn(m, ranges[i]![0], ranges[i]![1]);
  return n;
}

/** MoE layers of the whole model (L_moe); the other L − L_moe are dense. */
export const moeLayerCount = (m: ModelSpec): number => moeLayersIn(m, 0, m.layers);

/** The layers [from, to) of one pipeline stage of n layers: "first" [0, n), "last" [L − n, L),
 *  "only" all of them. */
export function stageRange(m: ModelSpec, layersInStage: number, stage: "first" | "last" | "only"): [number, number] {
  if (stage === "only") return [0, m.layers];
  return stage === "first" ? [0, layersInStage] : [m.layers - layersInStage, m.layers];
}

/** The rank whose per-layer collectives set the step (layout/stages.ts busiestRank): its layers,
 *  its MoE layers among them (the multi-token-prediction modules with the output layer), and
 *  whether it holds the output layer — its own stages' (rankHoldings: even split the last rank's
 *  [L − L/p, L), in a V the two middle stages, looped the stages r, r + p, …). */
export function busiestRankLayers(m: ModelSpec, plan: Pick<Plan, "pp" | "vpp" | "stageLayers" | "schedule">): { layers: number; moeLayers: number; last: boolean } {
  return rankMoeLayers(m, plan, busiestRank(plan, m.layers));
}

/** Rank `rank`'s layers, MoE layers (with the MTP modules where it holds the output layer: they
 *  come after the last layer, Megatron-LM's layout "m|L") and whether it holds the output layer. */
export function rankMoeLayers(m: ModelSpec, plan: Pick<Plan, "pp" | "vpp" | "stageLayers" | "schedule">, rank: number): { layers: number; moeLayers: number; last: boolean } {
  const h = rankHoldings(plan, m.layers, rank);
  return { layers: h.layers, moeLayers: moeLayersInRanges(m, h.ranges) + (h.head ? mtpCount(m) : 0), last: h.head };
}

/** Parameters of one routed expert: P_exp = 3·h·f_e for SwiGLU (formulas-scale §1.1). */
export const expertParams = (m: ModelSpec): number => (m.moe ? expertMatrices(m) * m.hidden * m.moe.expertFfnHidden : 0);

/** All shared experts of one MoE layer (they run on every token, report eq. 12). */
export function sharedExpertParams(m: ModelSpec): number {
  const e = m.moe;
  if (!e || e.sharedExperts === 0) return 0;
  return e.sharedExperts * expertMatrices(m) * m.hidden * (e.sharedFfnHidden ?? e.expertFfnHidden);
}

/** The router: an E×h gate, plus E bias terms for DeepSeek-V3's aux-loss-free balancing (its
 *  sigmoid router's e_score_correction_bias; report §2.1.2 eq. 16; model.py Gate.bias). */
export function routerParams(m: ModelSpec): number {
  const e = m.moe;
  if (!e) return 0;
  return e.experts * m.hidden + (e.router === "sigmoid" ? e.experts : 0);
}

/** MLA projections split by tensor parallelism (Megatron-Core MLASelfAttention: the up-projections
 *  W_UQ/W_QR and W_UK/W_UV are column-parallel, W_O row-parallel): r_q·n_h·(d_n + d_r) (or
 *  h·n_h·(d_n + d_r) without query compression) + r_kv·n_h·(d_n + d_v) + n_h·d_v·h. */
export function mlaSplitParams(m: ModelSpec, a: MlaSpec): number {
  const n = m.heads;
  const qIn = a.qLoraRank > 0 ? a.qLoraRank : m.hidden;
  return qIn * n * (a.qkNopeHeadDim + a.qkRopeHeadDim) + a.kvLoraRank * n * (a.qkNopeHeadDim + a.vHeadDim) + n * a.vHeadDim * m.hidden;
}

/** MLA weights every tp rank holds whole (the down-projections W_DQ and W_DKV + W_KR and the two
 *  latent RMSNorms, duplicated across tp in Megatron-Core): h·r_q + r_q + h·(r_kv + d_r) + r_kv. */
export function mlaReplicatedParams(m: ModelSpec, a: MlaSpec): number {
  const q = a.qLoraRank > 0 ? m.hidden * a.qLoraRank + a.qLoraRank : 0;
  return q + m.hidden * (a.kvLoraRank + a.qkRopeHeadDim) + a.kvLoraRank;
}

/** Width of the attention scores' Q·Kᵀ and of the values, all heads (per token): a·d each for
 *  standard attention, n_h·(d_n + d_r) and n_h·d_v for MLA. */
export function attentionCoreWidths(m: ModelSpec): { qk: number; v: number } {
  const a = m.mla;
  if (a) return { qk: m.heads * (a.qkNopeHeadDim + a.qkRopeHeadDim), v: m.heads * a.vHeadDim };
  const w = m.heads * (m.headDim ?? m.hidden / m.heads);
  return { qk: w, v: w };
}

/** One MoE layer's parameters by how they are split across ranks, given the attention's own
 *  split and replicated parts: attention and shared experts over tp (shared experts use the
 *  attention's tp group, Megatron-Core moe/shared_experts.py), routed experts over ep·etp, the
 *  router and norms replicated. */
export interface MoeLayerParams {
  /** Split across tp (attention matrices, shared experts). */
  split: number;
  /** Held whole by every rank (router, norms, MLA down-projections). */
  replicated: number;
  /** All E routed experts of the layer (each rank holds 1/(ep·etp) of them). */
  routed: number;
}

export function moeLayerParams(m: ModelSpec, attentionSplit: number, small: number): MoeLayerParams {
  const e = m.moe!;
  return {
    split: attentionSplit + sharedExpertParams(m),
    replicated: small + routerParams(m),
    routed: e.experts * expertParams(m),
  };
}

/** Multi-token-prediction modules (DeepSeek-V3 report §2.2; model.py is inference-only, the
 *  module is one transformer block — a MoE block in V3 — plus the projection M_k of [h; h] → h and
 *  two RMSNorms; it shares the embedding and output head with the main model). */
export const mtpCount = (m: ModelSpec): number => m.mtpLayers ?? 0;

/** The projection and the two norms of one MTP module besides its transformer block. */
export const mtpExtraParams = (m: ModelSpec): number => 2 * m.hidden * m.hidden + 2 * m.hidden;

/** Group-limited routing that the router can run: Megatron-Core's group_limited_topk asserts
 *  the groups divide the experts and the groups a token may use are at most the groups
 *  (transformer_config.py:1246-1258 @ core_v0.14.0); and the open groups must hold top-k experts. */
export function routingGroupsProblem(e: { experts: number; topK: number; routingGroups?: number | undefined; groupsPerToken?: number | undefined }, name = { groups: '"moe.routingGroups"', perToken: '"moe.groupsPerToken"', experts: '"moe.experts"', topK: '"moe.topK"' }): string | null {
  const g = e.routingGroups;
  const m = e.groupsPerToken;
  if (g === undefined && m === undefined) return null;
  if (g === undefined || m === undefined) return `${g === undefined ? name.perToken : name.groups} needs ${g === undefined ? name.groups : name.perToken}: group-limited routing takes both`;
  if (e.experts % g !== 0) return `${name.groups} (${g}) must divide ${name.experts} (${e.experts}): the groups are equal runs of experts`;
  if (m > g) return `${name.perToken} (${m}) must be at most ${name.groups} (${g})`;
  if ((m * e.experts) / g < e.topK) return `${name.perToken} (${m}) groups of ${e.experts / g} experts hold fewer than ${name.topK} (${e.topK}) experts: a token could not reach its top-k`;
  return null;
}

/** The grouping as stated on a ModelSpec: only where it limits a token's groups (fewer than all). */
export const limitingGroups = (g: number | undefined, m: number | undefined): { routingGroups: number; groupsPerToken: number } | Record<string, never> =>
  g !== undefined && m !== undefined && m < g ? { routingGroups: g, groupsPerToken: m } : {};
