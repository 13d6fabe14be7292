// The two ALiBi families of HuggingFace configs (Press et al. 2022), whose config.json keeps its
// own key names: MPT (MosaicML) and BLOOM (BigScience). Each is translated onto the common keys
// hf-config.ts reads, with what the family's own code builds from a key decided here: what
// changes the work is read, what does not is dropped, the rest is refused naming the key.
//   MPT: llm-foundry's MPTConfig (llmfoundry/models/mpt/configuration_mpt.py), the code the
//        published configs name in auto_map. transformers' port (models/mpt/modeling_mpt.py)
//        builds one fixed model whatever the config says: ALiBi, an MLP of 4·d_model, no biases,
//        multi-head attention; a config without auto_map that states another is refused.
//   BLOOM: transformers' BloomConfig / modeling_bloom.py (ALiBi always, MLP of 4·hidden_size).
import type { Positional } from "../types.js";
import type { Parsed } from "./result.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** What the family's own keys decide beyond the common ones. */
export interface AlibiFamilyFacts {
  positional: Positional;
  /** A gated MLP (MPT's mptglu), where the family's is not. */
  gated?: boolean;
  /** Why the sequence planned is what it is, where the config states none (BLOOM). */
  seqFrom?: string;
}

const stated = (k: string, v: unknown) => `"${k}" ${JSON.stringify(v)}`;

/** attn_config keys that change neither the work nor the weights: the kernel (an engine's
 *  matter: --attention), the softmax scale, ALiBi's slope range, clipping Q/K/V elementwise,
 *  whether Q, K, V come from one matmul or three (the same FLOPs), rotary settings when rotary is
 *  off, the padding helper of flash attention. */
const ATTN_HARMLESS = new Set([
  "attn_impl", "softmax_scale", "alibi_bias_max", "clip_qkv", "fused_qkv", "rope_theta", "rope_impl",
  "rope_dail_config", "rope_hf_config", "flash_attn_padding_info", "attn_logit_softcapping", "attn_temperature_tuning",
]);
/** attn_config keys whose value true is a model paraplan does not build (false is accepted). */
const ATTN_REFUSED: Record<string, string> = {
  qk_ln: "a LayerNorm of the queries and keys",
  qk_gn: "a GroupNorm of the queries and keys",
  prefix_lm: "bidirectional attention over a prefix (a Prefix LM)",
  attn_uses_sequence_id: "attention restricted to each packed sequence (its work follows the packing)",
  rope: "rotary MPT variants",
  nope: "attention without any position encoding",
};
/** Top-level MPT keys that change neither the work nor the weights paraplan counts: the logit
 *  and embedding-gradient scales and the residual's scaling (elementwise), initialisation and
 *  device, the linear layers' implementation (torch or Transformer Engine: the same matmuls),
 *  the pad token's path, biases (counted as present: paraplan's GPT-style count, an upper bound
 *  of ~0.02 % of an MPT's weights, planner/model.ts layerSmallParams; attention_bias likewise),
 *  the norm's epsilon, the final logits' soft cap (elementwise). */
const MPT_HARMLESS = new Set([
  "logit_scale", "embedding_fraction", "init_config", "init_device", "verbose", "use_cache", "fc_type",
  "use_pad_tok_in_ffn", "no_bias", "residual_modification", "residual_coeff", "tokenizer_name", "name",
  "loss_fn", "layer_norm_epsilon", "norm_eps", "attention_bias", "final_logit_softcapping",
]);
const FFN_KEYS = new Set(["ffn_type", "ffn_hidden_size", "ffn_act_fn", "fc_type", "bias"]);

/** MPT's config.json → the common keys, or the refusal naming the key. */
export function fromMpt(raw: Obj, origin: string): Parsed<{ config: Obj; facts: AlibiFamilyFacts }> {
  const no = (message: string): Parsed<never> => ({ ok: false, message: `${origin}: ${message}` });
  // Published configs name llm-foundry's code; without it transformers builds its own port.
  const foundry = isObj(raw.auto_map);
  const portOnly = (key: string, v: unknown, what: string) =>
    no(`${stated(key, v)}: transformers' MptForCausalLM builds ${what} whatever this says; a config read with llm-foundry's MPT code names it in "auto_map"`);
  const attn = raw.attn_config ?? {};
  if (!isObj(attn)) return no(`"attn_config": an object (llm-foundry's attn_config), not ${JSON.stringify(attn)}`);
  const ffnCfg = raw.ffn_config ?? {};
  if (!isObj(ffnCfg)) return no(`"ffn_config": an object (llm-foundry's ffn_config), not ${JSON.stringify(ffnCfg)}`);
  for (const [k, v] of Object.entries(attn)) {
    if (ATTN_HARMLESS.has(k) || ["attn_type", "attn_pdrop", "alibi", "kv_n_heads", "sliding_window_size"].includes(k)) continue;
    // K/V heads narrower than the queries' (llm-foundry 2025): not modelled
    if (k === "kv_dim") {
      if (v !== null) return no(`"attn_config.kv_dim" ${JSON.stringify(v)}: K/V heads of another width than the queries', which paraplan does not model`);
      continue;
    }
    if (Object.hasOwn(ATTN_REFUSED, k)) {
      if (v === true) return no(`"attn_config.${k}" true: paraplan does not model ${ATTN_REFUSED[k]}`);
      continue;
    }
    return no(`"attn_config.${k}" ${JSON.stringify(v)}: an attention setting paraplan does not know; it refuses rather than ignore it`);
  }
  for (const k of Object.keys(ffnCfg)) if (!FFN_KEYS.has(k)) return no(`"ffn_config.${k}": a feed-forward setting paraplan does not model (mixture-of-experts FFNs are not read from MPT configs)`);
  if (raw.block_overrides !== undefined && raw.block_overrides !== null) return no(`"block_overrides": per-layer overrides, which paraplan does not model`);

  // MPTConfig has defaults for its widths (d_model 2048, n_heads 16, n_layers 24, vocab 50368): a
  // config without one is more likely cut than meant, so it is refused rather than defaulted.
  for (const k of ["d_model", "n_heads", "n_layers", "vocab_size"])
    if (raw[k] === undefined) return no(`field "${k}": missing (llm-foundry's MPTConfig would build its default; state it)`);
  // Positions: llm-foundry turns learned_pos_emb off under ALiBi (MPTConfig.__init__); its
  // attn_config default is alibi false, transformers' MptAttentionConfig's true: unstated, a guess.
  if (attn.alibi === undefined) return no(`"attn_config.alibi" not stated: llm-foundry's MPTConfig defaults it false (learned positions), transformers' MptConfig builds ALiBi always; state it`);
  const alibi = attn.alibi === true;
  if (!alibi && !foundry) return portOnly("attn_config.alibi", attn.alibi, "ALiBi");
  if (!alibi && raw.learned_pos_emb === false) return no(`"learned_pos_emb" false with "attn_config.alibi" false: no position encoding, which paraplan does not model`);

  // Attention heads (llm-foundry attention.py: multi-query is one K/V head, grouped-query kv_n_heads).
  const attnType = attn.attn_type ?? "multihead_attention";
  let kv: unknown = raw.n_heads;
  if (attnType === "multiquery_attention") kv = 1;
  else if (attnType === "grouped_query_attention") {
    if (attn.kv_n_heads === undefined) return no(`"attn_config.attn_type" "grouped_query_attention" without "attn_config.kv_n_heads": the K/V heads are not stated`);
    kv = attn.kv_n_heads;
  } else if (attnType !== "multihead_attention") return no(`${stated("attn_config.attn_type", attnType)}: paraplan models multihead, multiquery and grouped_query attention`);
  if (attnType !== "multihead_attention" && !foundry) return portOnly("attn_config.attn_type", attnType, "multi-head attention");

  // The MLP (llm-foundry ffn.py: mptmlp up/down of int(expansion_ratio·d_model), or ffn_hidden_size;
  // mptglu gated, its activation ffn_act_fn, GELU by default; te_ln_mlp is mptmlp with the norm fused).
  const ffnType = ffnCfg.ffn_type ?? "mptmlp";
  if (!["mptmlp", "mptglu", "te_ln_mlp"].includes(String(ffnType))) return no(`${stated("ffn_config.ffn_type", ffnType)}: paraplan models mptmlp, mptglu and te_ln_mlp`);
  if (ffnType !== "mptmlp" && !foundry) return portOnly("ffn_config.ffn_type", ffnType, "an MLP of up_proj and down_proj (mptmlp)");
  const ratio = raw.expansion_ratio ?? 4;
  if (typeof ratio !== "number" || !(ratio > 0)) return no(`${stated("expansion_ratio", ratio)}: a number above 0`);
  if (ratio !== 4 && !foundry) return portOnly("expansion_ratio", ratio, "an MLP of 4·d_model");
  const d = raw.d_model;
  const width = ffnCfg.ffn_hidden_size;
  if (width !== undefined && width !== null && !(Number.isInteger(width) && (width as number) > 0)) return no(`${stated("ffn_config.ffn_hidden_size", width)}: a whole number above 0`);
  const ffn = width ?? (typeof d === "number" ? Math.floor(ratio * d) : undefined);
  const act = isObj(ffnCfg.ffn_act_fn) ? String(ffnCfg.ffn_act_fn.name ?? "gelu") : "gelu";
  const window = attn.sliding_window_size;
  if (window !== undefined && window !== -1 && !(Number.isInteger(window) && (window as number) > 0)) return no(`${stated("attn_config.sliding_window_size", window)}: -1 (no window) or a whole number above 0`);
  if (window !== undefined && window !== -1 && !foundry) return portOnly("attn_config.sliding_window_size", window, "full attention");

  const config: Obj = {};
  for (const [k, v] of Object.entries(raw)) {
    if (MPT_HARMLESS.has(k)) continue;
    if (["d_model", "n_heads", "n_layers", "expansion_ratio", "max_seq_len", "attn_config", "ffn_config", "learned_pos_emb", "emb_pdrop", "norm_type", "block_overrides"].includes(k)) continue;
    config[k] = v;
  }
  const norm = raw.norm_type === undefined ? "low_precision_layernorm" : raw.norm_type;
  if (typeof norm !== "string" || !/layernorm|rmsnorm/.test(norm)) return no(`${stated("norm_type", raw.norm_type)}: paraplan models LayerNorm and RMSNorm`);
  Object.assign(config, {
    num_hidden_layers: raw.n_layers,
    hidden_size: d,
    num_attention_heads: raw.n_heads,
    num_key_value_heads: kv,
    intermediate_size: ffn,
    max_position_embeddings: raw.max_seq_len ?? 2048,
    hidden_act: ffnType === "mptglu" && /silu|swish/.test(act) ? "silu" : "gelu",
    ...(raw.emb_pdrop !== undefined ? { embd_pdrop: raw.emb_pdrop } : {}),
    ...(attn.attn_pdrop !== undefined ? { attn_pdrop: attn.attn_pdrop } : {}),
    // llm-foundry's window: keys within sliding_window_size of the query, causal (flash-attn 2.3+)
    ...(typeof window === "number" && window > 0 ? { sliding_window: window } : {}),
  });
  return { ok: true, value: { config, facts: { positional: alibi ? "alibi" : "learned", ...(ffnType === "mptglu" ? { gated: true } : {}) } } };
}

/** BLOOM's training length: BigScience Workshop 2022, "BLOOM: A 176B-Parameter Open-Access
 *  Multilingual Language Model", Table 3 (sequence length 2048 for every BLOOM model);
 *  BloomConfig states none (ALiBi has no table). */
export const BLOOM_SEQ = 2048;

/** BloomConfig keys of Megatron-DeepSpeed's kernels and of inference that change no work:
 *  fused softmax and bias-dropout kernels, the softmax's fp32 upcast, where a bias add happens,
 *  exact tensor-parallel reproduction, ALiBi's inference offset, and the residual taken after the
 *  norm rather than before it (the same operations). */
const BLOOM_HARMLESS = new Set([
  "attention_softmax_in_fp32", "masked_softmax_fusion", "bias_dropout_fusion", "skip_bias_add", "skip_bias_add_qkv",
  "slow_but_exact", "offset_alibi", "apply_residual_connection_post_layernorm", "unk_token_id",
]);

/** BLOOM's config.json → the common keys (n_layer, n_head and n_inner are mapped as GPT-2's are,
 *  before this; n_embed is BloomConfig's older name of hidden_size). Its word-embedding LayerNorm
 *  (2·hidden weights and an elementwise pass over the embeddings) is not counted: 28,672 of
 *  BLOOM-176B's 176,247,271,424 weights. */
export function fromBloom(raw: Obj, origin: string): Parsed<{ config: Obj; facts: AlibiFamilyFacts }> {
  // BloomConfig's defaults (hidden 64, 2 layers, 8 heads) are a toy, not a BLOOM: a width left out
  // is refused by the name BLOOM's configs use (n_layer and n_head are mapped already).
  const names: Array<[string, string]> = [["num_hidden_layers", "n_layer"], ["num_attention_heads", "n_head"], ["hidden_size", "hidden_size"], ["vocab_size", "vocab_size"]];
  for (const [k, said] of names)
    if (raw[k] === undefined && !(k === "hidden_size" && raw.n_embed !== undefined)) return { ok: false, message: `${origin}: field "${said}": missing (BloomConfig would build its default; state it)` };
  const config: Obj = {};
  for (const [k, v] of Object.entries(raw)) if (!BLOOM_HARMLESS.has(k) && k !== "n_embed") config[k] = v;
  if (raw.n_embed !== undefined) {
    if (raw.hidden_size !== undefined && raw.hidden_size !== raw.n_embed)
      return { ok: false, message: `${origin}: "n_embed" ${JSON.stringify(raw.n_embed)} and "hidden_size" ${JSON.stringify(raw.hidden_size)} disagree: they are two names of one setting (BloomConfig); keep one` };
    config.hidden_size = raw.n_embed;
  }
  // BloomMLP is dense_h_to_4h / dense_4h_to_h whatever n_inner says.
  const inner = config.intermediate_size;
  if (inner !== undefined && inner !== null && inner !== (config.hidden_size as number) * 4)
    return { ok: false, message: `${origin}: "${Object.hasOwn(raw, "n_inner") ? "n_inner" : "intermediate_size"}" ${JSON.stringify(inner)}: BloomMLP builds 4·hidden_size whatever it says; remove it` };
  delete config.intermediate_size;
  if (config.max_position_embeddings !== undefined) return { ok: false, message: `${origin}: "max_position_embeddings": BloomConfig has no such key (ALiBi has no position table); remove it` };
  config.max_position_embeddings = BLOOM_SEQ;
  return { ok: true, value: { config, facts: { positional: "alibi", seqFrom: `sequence ${BLOOM_SEQ}: BLOOM's training length (BigScience Workshop 2022, Table 3; BloomConfig states none)` } } };
}
