// Messages about a HuggingFace config.json name the keys the user wrote: a check that
// parseModelFile makes on paraplan's fields ("hidden", "moe.topK") is said with the config's key
// (hidden_size, or GPT-2's n_embd when the file says n_embd; num_experts_per_tok), and a file that
// mixes paraplan's format with HuggingFace's is told so rather than read as one of them.

type Obj = Record<string, unknown>;

/** paraplan's model-file fields that no transformers config has. */
const PARAPLAN_FIELDS = [
  "layers", "hidden", "heads", "kvHeads", "headDim", "ffnHidden", "vocab", "seqLen", "mlp", "positional",
  "tiedEmbeddings", "slidingWindow", "slidingWindowLayers", "ropeTheta", "ropeScaling", "normEps", "moe",
  "mla", "mtpLayers", "globalBatch", "gpus",
];

/** A file with both paraplan's fields and a HuggingFace key: which one it is meant to be is a
 *  guess, so it is refused naming one key of each. */
export function mixedFormats(raw: Obj, hfKeys: readonly string[], origin: string): string | undefined {
  const own = PARAPLAN_FIELDS.find((k) => Object.hasOwn(raw, k));
  const hf = hfKeys.find((k) => Object.hasOwn(raw, k));
  if (own === undefined || hf === undefined) return undefined;
  return `${origin}: the file mixes paraplan's model format ("${own}") with a HuggingFace config.json ("${hf}"): write one or the other (README "Inputs")`;
}

/** A JSON object with none of paraplan's model-file fields (nor "name") and none of the keys
 *  that make a HuggingFace config (`hfKeys`): which format it was meant to be is unknown, so the
 *  message names what each expects rather than the first field of one of them. */
export function neitherFormat(raw: Obj, hfKeys: readonly string[], origin: string): string | undefined {
  if (Object.hasOwn(raw, "name") || PARAPLAN_FIELDS.some((k) => Object.hasOwn(raw, k)) || hfKeys.some((k) => Object.hasOwn(raw, k))) return undefined;
  return `${origin}: neither a paraplan model file (fields "name", "layers", "hidden", "heads", "vocab", "seqLen", …) nor a HuggingFace config.json ("model_type", "num_hidden_layers", "hidden_size", …; GPT-2's "n_layer", "n_embd"): it has none of their keys (README "Inputs")`;
}

/** The families' own names of the common keys, where a family keeps its own (hf-config.ts and
 *  hf-alibi.ts map them onto the common ones): GPT2Config's, MPT's (llm-foundry MPTConfig) and
 *  BLOOM's n_embed (BloomConfig's older hidden_size). */
const OWN_NAMES: Record<string, readonly string[]> = {
  num_hidden_layers: ["n_layer", "n_layers"], hidden_size: ["n_embd", "d_model", "n_embed"], num_attention_heads: ["n_head", "n_heads"],
  intermediate_size: ["n_inner", "expansion_ratio"], max_position_embeddings: ["n_positions", "max_seq_len"], hidden_act: ["activation_function"],
};

/** Where each of paraplan's fields came from in the config (the experts' width: intermediate_size
 *  for Mixtral and OLMoE, moe_intermediate_size elsewhere). */
function sources(raw: Obj, expertsKey: string | undefined, expertsOfIntermediate: boolean): Record<string, string> {
  const eps = ["rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon"].find((k) => Object.hasOwn(raw, k)) ?? "rms_norm_eps";
  return {
    layers: "num_hidden_layers", hidden: "hidden_size", heads: "num_attention_heads", kvHeads: "num_key_value_heads",
    headDim: "head_dim", ffnHidden: "intermediate_size", vocab: "vocab_size", seqLen: "max_position_embeddings",
    slidingWindow: "sliding_window", slidingWindowLayers: "layer_types", ropeTheta: "rope_theta",
    ropeScaling: "rope_scaling", normEps: eps, mtpLayers: "num_nextn_predict_layers",
    "moe.experts": expertsKey ?? "num_experts", "moe.topK": "num_experts_per_tok",
    "moe.expertFfnHidden": expertsOfIntermediate ? "intermediate_size" : "moe_intermediate_size",
    "moe.sharedFfnHidden": "shared_expert_intermediate_size", "moe.sharedExperts": "n_shared_experts",
    "moe.denseLayers": Object.hasOwn(raw, "mlp_only_layers") ? "mlp_only_layers" : "first_k_dense_replace",
    "moe.layerFreq": "decoder_sparse_step", mla: "kv_lora_rank", "mla.qLoraRank": "q_lora_rank",
    "mla.kvLoraRank": "kv_lora_rank", "mla.qkNopeHeadDim": "qk_nope_head_dim", "mla.qkRopeHeadDim": "qk_rope_head_dim",
    "mla.vHeadDim": "v_head_dim",
  };
}

/** The message with every quoted field name replaced by the config key the user wrote. GPT-2,
 *  MPT and BLOOM have no head_dim key, so the advice to give one is dropped for them. */
export function inUserNames(message: string, raw: Obj, opts: { expertsKey?: string | undefined; expertsOfIntermediate: boolean; noHeadDim: boolean }): string {
  const map = sources(raw, opts.expertsKey, opts.expertsOfIntermediate);
  const user = (hf: string) => (Object.hasOwn(raw, hf) ? hf : (OWN_NAMES[hf]?.find((k) => Object.hasOwn(raw, k)) ?? hf));
  const m = opts.noHeadDim ? message.replace(/, or give "headDim"/, "") : message;
  return m.replace(/"([A-Za-z_.]+)"/g, (all, name: string) => {
    const hf = Object.hasOwn(map, name) ? map[name]! : Object.hasOwn(OWN_NAMES, name) ? name : undefined;
    return hf === undefined ? all : `"${user(hf)}"`;
  });
}
