// Every key of a HuggingFace config.json falls in one of three lists: modelled (read into the
// ModelSpec), known not to change the cost (accepted and ignored), or refused (exit 2 naming the
// key). A key on none of them is refused when its name looks architectural (ARCHITECTURAL below):
// it might change the work, and reading the file without it would be a confident wrong answer.
// Any other unknown key (metadata: tokenizer names, labels, generation settings) is accepted.

/** Read into the model (planner/schema/hf-config.ts says how). GPT-2's names are mapped first. */
export const HF_MODELLED = new Set([
  "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
  "intermediate_size", "vocab_size", "max_position_embeddings", "hidden_act", "hidden_activation",
  "tie_word_embeddings", "rope_theta", "rope_scaling", "rms_norm_eps", "layer_norm_eps",
  "layer_norm_epsilon", "sliding_window", "use_sliding_window", "max_window_layers", "layer_types",
  "attention_dropout", "hidden_dropout", "attention_bias", "mlp_bias", "model_type", "_name_or_path",
  // Gemma 3's pattern of global layers when layer_types is absent; Gemma 2's published copy of
  // sliding_window (accepted only when equal to it: hf-families.ts). Which family reads which of
  // these keys is hf-families.ts's table: a key the model_type's config does not read is refused.
  "sliding_window_pattern", "sliding_window_size",
  // Mixture of experts (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, DeepSeek-V2/V3; hf-moe.ts): experts,
  // top-k, shared experts and widths, which layers are MoE, the router's scoring (DeepSeek-V3's
  // sigmoid router carries a bias per expert); DeepSeek's latent attention ranks and head widths;
  // its multi-token-prediction modules (a layer's work in training).
  "num_local_experts", "num_experts", "n_routed_experts", "n_shared_experts", "num_experts_per_tok",
  "moe_intermediate_size", "shared_expert_intermediate_size", "moe_layer_freq", "first_k_dense_replace",
  "decoder_sparse_step", "mlp_only_layers", "scoring_func", "kv_lora_rank", "q_lora_rank",
  "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "num_nextn_predict_layers",
  // DeepSeek's group-limited routing (hf-moe.ts routingGroupsOf).
  "topk_method", "n_group", "topk_group",
  // DeepSeek configs saved by transformers: the class's derived widths and rotary layout, checked
  // against the latent-attention widths (hf-attention.ts); Gemma 3's saved pattern, checked
  // against layer_types (transformers ≥ 4.53).
  "qk_head_dim", "rope_interleave", "_sliding_window_pattern",
  // GPT-2 (transformers GPT2Config)
  "n_layer", "n_embd", "n_head", "n_inner", "n_positions", "n_ctx", "activation_function",
  "resid_pdrop", "embd_pdrop", "attn_pdrop",
]);

/** Known not to change the cost (FLOPs, bytes, parameters): accepted. Logit soft-capping and
 *  the query scale (Gemma-2) are elementwise on scores the attention computes anyway; token ids,
 *  initialisation, dtype of the checkpoint, caching and inference-only settings do not touch
 *  training work; pretraining_tp only splits Llama 2's reference matmuls for exact reproduction. */
export const HF_HARMLESS = new Set([
  "architectures", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
  "decoder_start_token_id", "initializer_range", "initializer_factor", "torch_dtype", "dtype",
  "transformers_version", "use_cache", "pretraining_tp", "attn_logit_softcapping",
  "final_logit_softcapping", "query_pre_attn_scalar", "cache_implementation", "auto_map",
  "tokenizer_class", "id2label", "label2id", "task_specific_params", "summary_type",
  "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
  "scale_attn_weights", "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn",
  "output_attentions", "output_hidden_states", "return_dict", "is_decoder", "problem_type",
  "embedding_dropout",
  // Rotary details that change frequencies, not work: Phi-3's length where LongRoPE switches
  // factors, Gemma 3's base of its local layers' RoPE. The attention kernel transformers picks.
  "original_max_position_embeddings", "rope_local_base_freq", "_attn_implementation",
  // Which attention kernel transformers loads the model with (eager, sdpa, flash_attention_2),
  // and whether it chose it itself (transformers 4.46–4.47 wrote _attn_implementation_autoset
  // into saved configs): the same model either way; the plan's kernel is the engine's.
  "attn_implementation", "_attn_implementation_autoset",
  // Routing settings that choose which experts a token goes to, or scale or balance their outputs,
  // without changing how many run or how wide they are: DeepSeek's output scale and top-k
  // normalisation (its group-limited selection, topk_method, n_group and topk_group, is read:
  // hf-moe.ts routingGroupsOf, a per-node dispatcher prices it),
  // the auxiliary-loss coefficients (a scalar loss per layer), Mixtral's router jitter and
  // whether the router logits are returned; OLMoE's clip_qkv clamps Q, K, V elementwise.
  "routed_scaling_factor", "norm_topk_prob", "aux_loss_alpha",
  "seq_aux", "router_aux_loss_coef", "router_z_loss_coef", "router_jitter_noise", "output_router_logits",
  "clip_qkv",
  // The expert-parallel size DeepSeek's inference code shards by (its modeling file; 1 in the
  // released configs): a parallel layout, not the model. The layout is paraplan's to choose.
  "ep_size",
  // A released checkpoint's storage format (DeepSeek-V3's fp8 block quantisation): training
  // precision is --precision.
  "quantization_config",
]);

/** Refused by name: architectures paraplan does not model (partial rotary, parallel blocks,
 *  ALiBi outside MPT and BLOOM, …). Other families' expert layouts (Llama 4's interleave_moe_layer_step, Jamba's
 *  expert_layer_period, DBRX's ffn_config) are refused by their architectural names below. A
 *  refused key whose value is null, false or 0 states the feature is off and is accepted, as is a
 *  rotary fraction of 1 (every dimension rotary). */
export const HF_REFUSED: Record<string, string> = {
  partial_rotary_factor: "rotary embeddings on part of each head",
  rotary_pct: "rotary embeddings on part of each head",
  parallel_attn: "parallel attention and MLP blocks",
  use_parallel_residual: "parallel attention and MLP blocks",
  alibi: "ALiBi biases stated by a top-level key (MPT states them in attn_config.alibi; BLOOM builds them whatever its config says)",
  multi_query: "multi-query attention stated outside num_key_value_heads",
  // paraplan plans text-only decoders: an encoder, a vision or audio tower, or a multimodal
  // wrapper whose text model sits under text_config (Gemma 3, Llava, Qwen2-VL) is not one.
  is_encoder_decoder: "encoder-decoder models (paraplan plans decoder-only language models)",
  text_config: "a multimodal model (its text model under text_config); pass the text model's own config.json",
  vision_config: "a vision encoder (paraplan plans text-only decoders)",
  audio_config: "an audio encoder (paraplan plans text-only decoders)",
};

/** Name fragments that make an unknown key architectural, so refused rather than ignored. */
export const ARCHITECTURAL = [
  "expert", "moe", "router", "lora", "window", "head_dim", "layer_types", "layers", "heads",
  "hidden", "intermediate", "ffn", "rope", "rotary", "position", "attention", "attn", "mlp", "kv",
  "dim", "norm", "latent", "mamba", "ssm", "conv", "sparse", "shared", "group", "block",
  "residual", "parallel", "gate",
  // Widths under other families' names: CTRL's dff, T5's d_ff and d_model, GPT-2's n_inner form,
  // embedding widths and projections, expansion ratios, state sizes (CTRLConfig, T5Config,
  // OPTConfig's word_embed_proj_dim, MambaConfig's expand and state_size).
  "dff", "d_ff", "feed_forward", "d_model", "inner", "emb", "expan", "state_size", "width",
  // An expert capacity (GShard/Switch capacity factor, Fedus et al. 2022 §2.2: tokens beyond
  // ceil(T·k/E·CF) dropped, or every expert padded to it) caps or pads each expert's rows, the
  // routed work paraplan prices with --moe-imbalance: a bare "capacity_factor" read as metadata
  // would leave the user's dropping unpriced.
  "capacity",
  // A head's width under other names (Transformer-XL's and XLNet's d_head), a padded or extra
  // vocabulary (ChatGLM's padded_vocab_size: the embedding and logits rows), a depth: each
  // changes the parameters or the work, and was read as metadata.
  "head", "vocab", "depth",
];

export type KeyVerdict = { kind: "modelled" | "harmless" | "unknown" } | { kind: "refused"; reason: string };

/** What paraplan does with one key of a config.json and its value. */
export function classifyHfKey(key: string, value: unknown): KeyVerdict {
  if (HF_MODELLED.has(key)) return { kind: "modelled" };
  if (HF_HARMLESS.has(key)) return { kind: "harmless" };
  // "__proto__", "constructor", "toString", …: no transformers config has them, and a lookup on a
  // plain object would find Object.prototype's member rather than nothing, so they are refused by
  // their own name before any such lookup.
  if (Object.hasOwn(Object.prototype, key))
    return { kind: "refused", reason: `a key named after a built-in property of JavaScript objects, not a transformers config key: paraplan refuses it rather than guess` };
  const off = value === null || value === false || value === 0;
  const refused = Object.hasOwn(HF_REFUSED, key) ? HF_REFUSED[key] : undefined;
  // Rotary embeddings on all of each head (factor 1.0) are ordinary rotary embeddings.
  if (value === 1 && (key === "partial_rotary_factor" || key === "rotary_pct")) return { kind: "harmless" };
  if (refused !== undefined) return off ? { kind: "harmless" } : { kind: "refused", reason: `paraplan does not model ${refused}` };
  const fragment = ARCHITECTURAL.find((f) => key.toLowerCase().includes(f));
  if (fragment !== undefined && !off)
    return {
      kind: "refused",
      reason: `an unknown key that looks architectural (it contains "${fragment}"): paraplan cannot tell whether it changes the work, so it refuses rather than ignore it`,
    };
  return { kind: "unknown" };
}
