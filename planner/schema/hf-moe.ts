// The mixture-of-experts, latent-attention and multi-token-prediction keys of a HuggingFace
// config.json → paraplan's `moe`, `mla` and `mtpLayers` fields. Families and their names
// (transformers' configuration_*.py):
//   Mixtral       num_local_experts, num_experts_per_tok; experts of width intermediate_size
//   Qwen2-MoE     num_experts, num_experts_per_tok, moe_intermediate_size, one shared expert of
//                 shared_expert_intermediate_size, decoder_sparse_step, mlp_only_layers
//   Qwen3-MoE     as Qwen2-MoE without the shared expert
//   OLMoE         num_experts, num_experts_per_tok; experts of width intermediate_size
//   DeepSeek-V2/3 n_routed_experts, n_shared_experts, num_experts_per_tok, moe_intermediate_size,
//                 first_k_dense_replace, moe_layer_freq, scoring_func; kv_lora_rank, q_lora_rank,
//                 qk_nope_head_dim, qk_rope_head_dim, v_head_dim; num_nextn_predict_layers
// An absent key takes the family's config-class default (hf-families.ts passes them: DeepSeek's
// latent attention is on without its keys, as transformers builds it), or is refused as missing.
import type { MlaSpec, MoeSpec } from "../types.js";
import { MODEL_BOUNDS, formatBound } from "./bounds.js";
import { limitingGroups, routingGroupsProblem } from "../moe.js";
import type { Parsed } from "./result.js";

type Obj = Record<string, unknown>;

export interface HfExperts {
  moe?: Omit<MoeSpec, "sharedExperts" | "denseLayers" | "layerFreq" | "router"> & Partial<MoeSpec>;
  mla?: MlaSpec;
  mtpLayers?: number;
  /** The width of the dense layers' MLP when the experts take intermediate_size (Mixtral, OLMoE):
   *  no dense layer exists there, and it is stated as the experts' width. */
  ffnHidden?: number;
  /** The config class's defaults taken for absent keys, as "key value" (the plan's assumed: line). */
  assumed: string[];
}

/** A whole number in [min, bound] under its own key, or a message naming the key. */
function count(c: Obj, key: string, bound: number, min = 1): Parsed<number | undefined> {
  const v = c[key];
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > bound)
    return { ok: false, message: `field "${key}": must be a whole number from ${min} to ${formatBound(bound)} (paraplan's bound, README "Inputs")` };
  return { ok: true, value: v };
}

const missing = (origin: string, key: string, why: string): Parsed<never> => ({ ok: false, message: `${origin}: field "${key}": missing (${why})` });

/** What the config's family says about its experts (hf-config.ts's table). */
export interface HfExpertsFamily {
  /** The config's model_type. */
  modelType?: string;
  /** The key of the family's expert count (Mixtral num_local_experts, Qwen-MoE and OLMoE
   *  num_experts, DeepSeek n_routed_experts); absent: the family has no experts. */
  expertsKey?: string;
  /** The config class's values of absent keys (hf-families.ts: DeepSeek's latent-attention ranks,
   *  first_k_dense_replace and n_shared_experts; Qwen2-MoE's shared_expert_intermediate_size). */
  defaults?: Readonly<Record<string, number>>;
  /** Keys the family cannot build with None: null is refused naming the key. */
  required?: readonly string[];
}

/** Transformers' names of one count: MixtralConfig and Qwen3MoeConfig map num_experts to
 *  num_local_experts, OlmoeConfig num_local_experts to num_experts, DeepseekV3Config
 *  num_local_experts to n_routed_experts (their attribute_map). */
const EXPERT_COUNTS = ["num_local_experts", "num_experts", "n_routed_experts"];
/** Families whose experts take intermediate_size (MixtralSparseMoeBlock, OlmoeSparseMoeBlock);
 *  every other family states moe_intermediate_size, with its own default. */
const EXPERTS_OF_INTERMEDIATE = ["mixtral", "olmoe"];
/** The routers paraplan models: softmax (every family but DeepSeek-V3) and DeepSeek-V3's sigmoid
 *  with a bias per expert (scoring_func; transformers' DeepseekV3TopkRouter always scores by
 *  sigmoid, so a deepseek_v3 config without the key is sigmoid). */
const ROUTERS = ["softmax", "sigmoid"];

/** Read the MoE, MLA and MTP keys; nothing when the config states none of them (a dense model). */
export function hfExperts(c: Obj, origin: string, family: HfExpertsFamily = {}): Parsed<HfExperts> {
  const read: Record<string, number | undefined> = {};
  const assumed: string[] = [];
  const specs: [string, number, number?][] = [
    ["num_local_experts", MODEL_BOUNDS.experts, 0], ["num_experts", MODEL_BOUNDS.experts, 0], ["n_routed_experts", MODEL_BOUNDS.experts, 0],
    ["num_experts_per_tok", MODEL_BOUNDS.topK], ["n_shared_experts", MODEL_BOUNDS.sharedExperts, 0],
    ["moe_intermediate_size", MODEL_BOUNDS.expertFfnHidden], ["shared_expert_intermediate_size", MODEL_BOUNDS.expertFfnHidden, 0],
    ["intermediate_size", MODEL_BOUNDS.ffnHidden], ["first_k_dense_replace", MODEL_BOUNDS.layers, 0],
    ["moe_layer_freq", MODEL_BOUNDS.layerFreq], ["decoder_sparse_step", MODEL_BOUNDS.layerFreq],
    ["kv_lora_rank", MODEL_BOUNDS.loraRank, 0], ["q_lora_rank", MODEL_BOUNDS.loraRank, 0],
    ["qk_nope_head_dim", MODEL_BOUNDS.mlaHeadDim], ["qk_rope_head_dim", MODEL_BOUNDS.mlaHeadDim], ["v_head_dim", MODEL_BOUNDS.mlaHeadDim],
    ["num_nextn_predict_layers", MODEL_BOUNDS.mtpLayers, 0], ["n_group", MODEL_BOUNDS.experts], ["topk_group", MODEL_BOUNDS.experts],
  ];
  for (const [key, bound, min] of specs) {
    if (c[key] === null && family.required?.includes(key))
      return { ok: false, message: `${origin}: field "${key}": null (model_type "${family.modelType}" cannot be built with None there); state it` };
    const r = count(c, key, bound, min);
    if (!r.ok) return { ok: false, message: `${origin}: ${r.message}` };
    const fallback = family.defaults !== undefined && Object.hasOwn(family.defaults, key) ? family.defaults[key] : undefined;
    read[key] = c[key] === undefined ? fallback : r.value;
    if (c[key] === undefined && fallback !== undefined) assumed.push(`${key} ${fallback}`);
  }
  // DeepSeek's attention is always latent (DeepseekV2Attention, DeepseekV3Attention): a zero rank
  // is not "no latent attention" there.
  if (family.required?.includes("kv_lora_rank") && read.kv_lora_rank === 0)
    return { ok: false, message: `${origin}: field "kv_lora_rank": 0: model_type "${family.modelType}" always compresses keys and values (latent attention); state its rank` };
  const out: HfExperts = { assumed };
  // The expert count under two names with two values: which one transformers keeps depends on the
  // order it sets them, so neither is taken.
  const stated = EXPERT_COUNTS.filter((k) => read[k] !== undefined);
  const other = stated.find((k) => read[k] !== read[stated[0]!]);
  if (other !== undefined)
    return { ok: false, message: `${origin}: "${stated[0]}" ${read[stated[0]!]} and "${other}" ${read[other]} disagree: they name one count (the config classes' attribute_map); keep one` };
  const scoring = c.scoring_func;
  if (scoring !== undefined && scoring !== null && !(typeof scoring === "string" && ROUTERS.includes(scoring)))
    return { ok: false, message: `${origin}: "scoring_func" ${JSON.stringify(scoring)}: paraplan models softmax and sigmoid routers only` };
  const expertsKey = EXPERT_COUNTS.find((k) => (read[k] ?? 0) > 0);
  if (expertsKey !== undefined && family.modelType !== undefined && family.expertsKey === undefined)
    return { ok: false, message: `${origin}: "${expertsKey}" ${read[expertsKey]}: model_type "${family.modelType}" is not a mixture of experts (its transformers model builds no experts); paraplan reads experts for mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek_v2 and deepseek_v3` };
  // Absent, not null: null is None to the config class (DeepSeek's dense model), absent its default.
  if (family.expertsKey !== undefined && !EXPERT_COUNTS.some((k) => Object.hasOwn(c, k)))
    return missing(origin, family.expertsKey, `model_type "${family.modelType}" is a mixture of experts; its config class's default count would be used`);
  if (expertsKey === undefined && stated.length === 0 && read.num_experts_per_tok !== undefined)
    return { ok: false, message: `${origin}: "num_experts_per_tok" ${read.num_experts_per_tok} without an expert count ("num_local_experts", "num_experts" or "n_routed_experts"): top-k of no stated experts; add the count, or remove the key for a dense model` };
  if (expertsKey !== undefined) {
    const experts = read[expertsKey]!;
    const topK = read.num_experts_per_tok;
    if (topK === undefined) return missing(origin, "num_experts_per_tok", `"${expertsKey}" ${experts} needs the experts each token goes to`);
    if (topK > experts)
      return { ok: false, message: `${origin}: "num_experts_per_tok" ${topK} is more than "${expertsKey}" ${experts}` };
    // Mixtral and OLMoE give their experts intermediate_size (no dense MLP exists there); the other
    // families' experts have their own width, moe_intermediate_size.
    const ofIntermediate = family.modelType === undefined || EXPERTS_OF_INTERMEDIATE.includes(family.modelType);
    const width = read.moe_intermediate_size ?? (ofIntermediate ? read.intermediate_size : undefined);
    if (width === undefined) return missing(origin, "moe_intermediate_size", `"${expertsKey}" needs the experts' width`);
    // DeepSeek's moe_layer_freq counts from layer 0 (layer i is MoE when i % freq == 0), Qwen's
    // decoder_sparse_step from 1 ((i + 1) % step == 0, paraplan's convention): they agree at 1,
    // the only value released DeepSeek configs use.
    if ((read.moe_layer_freq ?? 1) !== 1)
      return { ok: false, message: `${origin}: "moe_layer_freq" ${read.moe_layer_freq}: paraplan models DeepSeek configs with an MoE layer every layer after first_k_dense_replace (moe_layer_freq 1) only` };
    const dense = denseLayersOf(c, read.first_k_dense_replace, origin);
    if (!dense.ok) return dense;
    // At least one layer must be a mixture of experts (layer i is when i ≥ the dense layers and
    // (i + 1) is a multiple of decoder_sparse_step; planner/moe.ts): else the "MoE" model is dense.
    const layers = typeof c.num_hidden_layers === "number" ? c.num_hidden_layers : undefined;
    const freq = read.decoder_sparse_step ?? 1;
    if (layers !== undefined && Math.floor(layers / freq) - Math.floor(Math.min(dense.value, layers) / freq) <= 0) {
      const key = freq > 1 ? "decoder_sparse_step" : read.first_k_dense_replace !== undefined ? "first_k_dense_replace" : "mlp_only_layers";
      const value = key === "decoder_sparse_step" ? freq : key === "first_k_dense_replace" ? read.first_k_dense_replace : JSON.stringify(c.mlp_only_layers);
      return { ok: false, message: `${origin}: "${key}" ${value} with num_hidden_layers ${layers}: no layer is a mixture of experts, though "${expertsKey}" states ${experts} experts` };
    }
    const sharedWidth = read.shared_expert_intermediate_size;
    const shared = read.n_shared_experts ?? ((sharedWidth ?? 0) > 0 ? 1 : 0);
    out.moe = {
      experts,
      topK,
      sharedExperts: shared,
      expertFfnHidden: width,
      ...(sharedWidth !== undefined && sharedWidth > 0 ? { sharedFfnHidden: sharedWidth } : {}),
      denseLayers: dense.value,
      layerFreq: read.decoder_sparse_step ?? 1,
      // DeepSeek-V3's sigmoid gate (scoring_func "sigmoid", its default); other families softmax.
      router: (typeof scoring === "string" ? scoring : family.modelType === "deepseek_v3" ? "sigmoid" : "softmax") as "softmax" | "sigmoid",
    };
    if (typeof scoring !== "string" && family.modelType === "deepseek_v3") assumed.push("scoring_func sigmoid");
    const groups = routingGroupsOf(c, read, family.modelType, origin, experts, topK, assumed);
    if (!groups.ok) return groups;
    Object.assign(out.moe, groups.value);
    if (read.moe_intermediate_size === undefined && read.intermediate_size !== undefined) out.ffnHidden = read.intermediate_size;
  }
  // Latent attention: stated by kv_lora_rank, or always on in DeepSeek (the class's defaults).
  if ((read.kv_lora_rank ?? 0) > 0) {
    for (const k of ["qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"])
      if (read[k] === undefined) return missing(origin, k, `"kv_lora_rank" describes latent attention, which needs it`);
    out.mla = {
      qLoraRank: read.q_lora_rank ?? 0,
      kvLoraRank: read.kv_lora_rank!,
      qkNopeHeadDim: read.qk_nope_head_dim!,
      qkRopeHeadDim: read.qk_rope_head_dim!,
      vHeadDim: read.v_head_dim!,
    };
  } else {
    const stray = ["q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"].find((k) => (read[k] ?? 0) > 0);
    if (stray !== undefined) return missing(origin, "kv_lora_rank", `"${stray}" belongs to latent attention`);
  }
  if ((read.num_nextn_predict_layers ?? 0) > 0) out.mtpLayers = read.num_nextn_predict_layers!;
  return { ok: true, value: out };
}

/** The dense layers before the first MoE one: DeepSeek's first_k_dense_replace, or Qwen's
 *  mlp_only_layers when it lists the first k layers (any other set is not one paraplan models). */
function denseLayersOf(c: Obj, firstK: number | undefined, origin: string): Parsed<number> {
  const only = c.mlp_only_layers;
  if (only === undefined || only === null || (Array.isArray(only) && only.length === 0)) return { ok: true, value: firstK ?? 0 };
  const prefix = Array.isArray(only) && only.every((x, i) => x === i);
  if (!prefix || firstK !== undefined)
    return { ok: false, message: `${origin}: "mlp_only_layers" ${JSON.stringify(only)}: paraplan models dense layers only as the first k layers (0, 1, …, k−1)` };
  return { ok: true, value: only.length };
}

/** topk_method values of DeepSeek's configuration_deepseek.py (the auto_map of the published
 *  configs): "greedy" routes over every expert; "group_limited_greedy" (DeepSeek-V2, device-limited
 *  routing, report §2.1.3) and "noaux_tc" (DeepSeek-V3, node-limited routing, report §2.1.2,
 *  §3.2.2) choose a token's top-k within its topk_group best of n_group groups. Its MoEGate builds
 *  no other (V2 leaves topk_idx unset, V3 raises NotImplementedError). */
const TOPK_METHODS = ["greedy", "group_limited_greedy", "noaux_tc"];
const GROUPED_METHODS = ["group_limited_greedy", "noaux_tc"];
/** DeepseekV3Config's defaults (transformers configuration_deepseek_v3.py, whose
 *  DeepseekV3TopkRouter always limits groups; DeepSeek's own class: topk_method "noaux_tc"). */
const V3_GROUPS = { n_group: 8, topk_group: 4 };

/** The config's group-limited routing (types.ts MoeSpec.routingGroups), stated where it limits. */
function routingGroupsOf(c: Obj, read: Record<string, number | undefined>, modelType: string | undefined, origin: string, experts: number, topK: number, assumed: string[]): Parsed<Partial<MoeSpec>> {
  const method = c.topk_method;
  if (method !== undefined && method !== null && !(typeof method === "string" && TOPK_METHODS.includes(method)))
    return { ok: false, message: `${origin}: "topk_method" ${JSON.stringify(method)}: DeepSeek's MoEGate builds ${TOPK_METHODS.join(", ")} only (configuration_deepseek.py, modeling_deepseek.py)` };
  const v3 = modelType === "deepseek_v3";
  const grouped = typeof method === "string" ? GROUPED_METHODS.includes(method) : v3;
  if (!grouped) return { ok: true, value: {} };
  let g = read.n_group;
  let m = read.topk_group;
  if (v3 && g === undefined) assumed.push(`n_group ${(g = V3_GROUPS.n_group)}`);
  if (v3 && m === undefined) assumed.push(`topk_group ${(m = V3_GROUPS.topk_group)}`);
  const why = `topk_method ${typeof method === "string" ? `"${method}"` : "noaux_tc (DeepseekV3's)"} routes within groups`;
  if (g === undefined) return missing(origin, "n_group", why);
  if (m === undefined) return missing(origin, "topk_group", why);
  const problem = routingGroupsProblem({ experts, topK, routingGroups: g, groupsPerToken: m }, { groups: '"n_group"', perToken: '"topk_group"', experts: '"n_routed_experts"', topK: '"num_experts_per_tok"' });
  if (problem) return { ok: false, message: `${origin}: ${problem}` };
  return { ok: true, value: limitingGroups(g, m) };
}
