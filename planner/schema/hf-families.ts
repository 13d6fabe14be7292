// The model families paraplan reads from a HuggingFace config.json, as transformers builds them:
// which keys each family's config class (and modeling file) reads, the defaults of absent keys,
// and whether its MLP is gated. A key another family reads but this one does not is refused by
// name rather than applied (transformers would ignore it, so paraplan applying it would plan a
// model nobody trains). Sources: src/transformers/models/<family>/configuration_<family>.py.
import type { Parsed } from "./result.js";

type Obj = Record<string, unknown>;

/** What transformers builds for a model_type when a key is absent: the family's config class
 *  defaults and whether its MLP is gated, which follows the architecture (the modeling file's MLP
 *  class), never the activation: LlamaMLP is down(act(gate(x)) · up(x)) whatever hidden_act
 *  names, GPT2MLP is c_proj(act(c_fc(x))). A model_type not listed is refused by name. */
export interface HfFamily {
  /** The config class, named in messages. */
  config: string;
  /** gate_proj/up_proj/down_proj (gated) rather than two matrices. */
  gated: boolean;
  /** hidden_act's default (hidden_activation's for Gemma 2/3). */
  act: string;
  /** The MLP's activation is hidden_activation alone, hidden_act unread: Gemma2MLP and Gemma3MLP
   *  build ACT2FN[config.hidden_activation] (modeling_gemma2.py Gemma2MLP). */
  actIsHiddenActivation?: boolean;
  /** tie_word_embeddings's default (PretrainedConfig's True where the class does not set it). */
  tied: boolean;
  /** num_key_value_heads's default: a number, or "heads" (None → num_attention_heads); absent:
   *  not stated here, so a config without the key is refused. */
  kvHeads?: number | "heads";
  /** head_dim's default where it is a number rather than hidden_size / num_attention_heads
   *  (then head_dim null is refused: the attention is built from config.head_dim). */
  headDim?: number;
  /** sliding_window's default where the family uses it without use_sliding_window. */
  window?: number;
  /** Which layers a sliding_window applies to when layer_types is absent: "all" (the attention of
   *  every layer passes config.sliding_window), "alternate" (Gemma 2: even layers), "pattern"
   *  (Gemma 3: every sliding_window_pattern-th layer global), "flag" (Qwen: only with
   *  use_sliding_window, whose default is False). */
  windowLayers?: "all" | "alternate" | "pattern" | "flag";
  /** intermediate_size's default ("4h": GPT-2's n_inner None); absent: refused when missing. */
  ffn?: number | "4h";
  /** The key naming the family's experts: a config of a mixture-of-experts family without it
   *  would be built by transformers with its default expert count. */
  experts?: string;
  /** Defaults of the MoE and latent-attention keys (hf-moe.ts) when absent. */
  moeDefaults?: Readonly<Record<string, number>>;
  /** MoE and latent-attention keys the family cannot build with None (hf-moe.ts refuses null). */
  moeRequired?: readonly string[];
  /** The keys of hf-keys.ts's modelled list that this family reads beyond COMMON_KEYS. */
  reads: ReadonlySet<string>;
  /** Why the family is refused: something it always does that paraplan does not model, or what
   *  this config makes it do (its keys, else the class's defaults), so the message is true of it. */
  refused?: string | ((c: Obj) => string);
  /** Architecture the modeling file always builds, whatever the config says: Q/K/V biases alone
   *  (Qwen2Attention: q/k/v_proj bias=True, o_proj False) and query/key RMSNorms over each head
   *  (Qwen3Attention, Gemma3Attention q_norm/k_norm of head_dim) or over the whole projections
   *  (Olmo2Attention, OlmoeAttention). */
  qkvBias?: true;
  qkNorm?: "head" | "full";
  /** Norms the decoder layer always builds other than two with weights (ModelSpec.norms): Gemma 2
   *  and 3's four RMSNorms (Gemma2DecoderLayer, Gemma3DecoderLayer), OLMo's LayerNorms without
   *  weight or bias (OlmoLayerNorm: F.layer_norm(…, None, None)). */
  norms?: "sandwich" | "nonparametric";
}

/** Read by every family (GPT-2's own names are mapped onto these first). The norm epsilons do not
 *  change the cost, so which of them a class reads is moot. The activation's second name,
 *  hidden_activation, is Gemma's alone (GemmaConfig, Gemma2Config, Gemma3TextConfig): it decides
 *  SwiGLU or GeGLU, so on a Llama it is a key the class does not read (LlamaMLP is
 *  ACT2FN[config.hidden_act]; a "hidden_activation": "gelu" beside "hidden_act": "silu" was read as
 *  GeGLU, and export --format megatron refused the model; QA). */
export const COMMON_KEYS = new Set([
  "num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size", "vocab_size",
  "max_position_embeddings", "hidden_act", "tie_word_embeddings", "rms_norm_eps",
  "layer_norm_eps", "layer_norm_epsilon", "attention_bias", "mlp_bias", "model_type", "_name_or_path",
]);

const set = (...groups: ReadonlyArray<readonly string[]>) => new Set(groups.flat());
// Every Llama-derived attention: GQA heads, head_dim (config.head_dim, or the modeling file's
// getattr(config, "head_dim", hidden_size // num_attention_heads)), RoPE and its scaling.
const ROTARY = ["num_key_value_heads", "head_dim", "rope_theta", "rope_scaling", "attention_dropout"];
const QWEN_WINDOW = ["sliding_window", "use_sliding_window", "max_window_layers"];
const QWEN_MOE = ["num_experts", "num_experts_per_tok", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers"];
// DeepSeek's attention is always latent (DeepseekV2Attention/DeepseekV3Attention). The classes set
// head_dim to qk_rope_head_dim and DeepseekV3Config qk_head_dim to nope + rope, and configs saved
// by transformers carry them with rope_interleave: read (checked against the latent widths, then
// dropped) by hf-attention.ts's fromMlaSaved, never as the heads' width.
// moe_layer_freq, scoring_func and num_nextn_predict_layers are read by DeepSeek's own
// configuration_deepseek.py (the auto_map of the published configs), which paraplan follows.
const DEEPSEEK = [
  "num_key_value_heads", "rope_theta", "rope_scaling", "attention_dropout", "n_routed_experts", "n_shared_experts",
  "num_experts_per_tok", "moe_intermediate_size", "first_k_dense_replace", "moe_layer_freq", "scoring_func",
  "kv_lora_rank", "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "head_dim", "qk_head_dim", "rope_interleave",
  "topk_method", "n_group", "topk_group",
];
// Latent-attention defaults shared by DeepseekV2Config and DeepseekV3Config: kv_lora_rank 512,
// q_lora_rank 1536, qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128.
const MLA_DEFAULTS = { kv_lora_rank: 512, q_lora_rank: 1536, qk_rope_head_dim: 64, qk_nope_head_dim: 128, v_head_dim: 128 };
// Attention without them cannot be built (Linear(hidden, None + 64) raises); moe_intermediate_size
// and first_k_dense_replace likewise (layer_idx >= None raises).
const DEEPSEEK_REQUIRED = ["kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "moe_intermediate_size", "first_k_dense_replace"];

export const HF_FAMILIES: ReadonlyMap<string, HfFamily> = new Map<string, HfFamily>([
  // configuration_llama.py: hidden_act "silu", tie False, num_key_value_heads None → heads, 11008;
  // no sliding window (LlamaAttention has none)
  ["llama", { config: "LlamaConfig", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 11008, reads: set(ROTARY) }],
  // configuration_mistral.py: num_key_value_heads 8, intermediate_size 14336, sliding_window 4096
  // on every layer (MistralAttention), tie False; layer_types is not read (the class warns)
  ["mistral", { config: "MistralConfig", gated: true, act: "silu", tied: false, kvHeads: 8, ffn: 14336, window: 4096, windowLayers: "all", reads: set(ROTARY, ["sliding_window"]) }],
  // configuration_mixtral.py: num_key_value_heads 8, experts of intermediate_size 14336,
  // sliding_window None (every layer when set), tie False; attribute_map num_experts → num_local_experts
  ["mixtral", { config: "MixtralConfig", gated: true, act: "silu", tied: false, kvHeads: 8, ffn: 14336, windowLayers: "all", experts: "num_local_experts", reads: set(ROTARY, ["sliding_window", "num_local_experts", "num_experts", "num_experts_per_tok"]) }],
  // configuration_qwen2.py: num_key_value_heads 32, intermediate_size 22016, tie False,
  // use_sliding_window False (sliding_window is None unless it is True)
  ["qwen2", { config: "Qwen2Config", qkvBias: true, gated: true, act: "silu", tied: false, kvHeads: 32, ffn: 22016, windowLayers: "flag", reads: set(ROTARY, QWEN_WINDOW, ["layer_types"]) }],
  // configuration_qwen2_moe.py: tie False, use_sliding_window False; shared_expert_intermediate_size
  // 5632, decoder_sparse_step 1 (moe_intermediate_size and num_experts_per_tok: refused when absent)
  ["qwen2_moe", { config: "Qwen2MoeConfig", qkvBias: true, gated: true, act: "silu", tied: false, windowLayers: "flag", experts: "num_experts", moeDefaults: { shared_expert_intermediate_size: 5632, decoder_sparse_step: 1 }, moeRequired: ["moe_intermediate_size", "shared_expert_intermediate_size", "decoder_sparse_step"], reads: set(ROTARY, QWEN_WINDOW, QWEN_MOE, ["layer_types", "shared_expert_intermediate_size"]) }],
  // configuration_qwen3.py: num_key_value_heads 32, head_dim 128, intermediate_size 22016, tie
  // False, use_sliding_window False
  ["qwen3", { config: "Qwen3Config", qkNorm: "head", gated: true, act: "silu", tied: false, kvHeads: 32, headDim: 128, ffn: 22016, windowLayers: "flag", reads: set(ROTARY, QWEN_WINDOW, ["layer_types"]) }],
  // configuration_qwen3_moe.py: num_key_value_heads 4, intermediate_size 6144, tie False,
  // use_sliding_window False, decoder_sparse_step 1, no shared expert; attribute_map num_local_experts
  ["qwen3_moe", { config: "Qwen3MoeConfig", qkNorm: "head", gated: true, act: "silu", tied: false, kvHeads: 4, ffn: 6144, windowLayers: "flag", experts: "num_experts", moeDefaults: { decoder_sparse_step: 1 }, moeRequired: ["moe_intermediate_size", "decoder_sparse_step"], reads: set(ROTARY, QWEN_WINDOW, QWEN_MOE, ["num_local_experts"]) }],
  // configuration_gemma.py: hidden_act "gelu_pytorch_tanh", head_dim 256, num_key_value_heads 16,
  // intermediate_size 24576, tie True; GemmaMLP is gated (GeGLU); no sliding window
  ["gemma", { config: "GemmaConfig", gated: true, act: "gelu_pytorch_tanh", tied: true, kvHeads: 16, headDim: 256, ffn: 24576, reads: set(ROTARY, ["hidden_activation"]) }],
  // configuration_gemma2.py: hidden_activation "gelu_pytorch_tanh", head_dim 256, num_key_value_heads
  // 4, intermediate_size 9216, sliding_window 4096 on even layers, tie True
  ["gemma2", { config: "Gemma2Config", norms: "sandwich", gated: true, act: "gelu_pytorch_tanh", actIsHiddenActivation: true, tied: true, kvHeads: 4, headDim: 256, ffn: 9216, window: 4096, windowLayers: "alternate", reads: set(ROTARY, ["hidden_activation", "sliding_window", "sliding_window_size", "layer_types"]) }],
  // configuration_gemma3.py (Gemma3TextConfig): as Gemma 2, sliding_window_pattern 6 (layer i is
  // global when (i + 1) % pattern == 0, else sliding)
  ["gemma3_text", { config: "Gemma3TextConfig", qkNorm: "head", norms: "sandwich", gated: true, act: "gelu_pytorch_tanh", actIsHiddenActivation: true, tied: true, kvHeads: 4, headDim: 256, ffn: 9216, window: 4096, windowLayers: "pattern", reads: set(ROTARY, ["hidden_activation", "sliding_window", "sliding_window_pattern", "_sliding_window_pattern", "layer_types"]) }],
  // configuration_deepseek_v2.py: hidden_act "silu", tie False, num_key_value_heads None → heads,
  // intermediate_size 11008, first_k_dense_replace 0, n_shared_experts 2, the MLA defaults above;
  // attribute_map num_experts → n_routed_experts
  ["deepseek_v2", { config: "DeepseekV2Config", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 11008, experts: "n_routed_experts", moeDefaults: { ...MLA_DEFAULTS, first_k_dense_replace: 0, n_shared_experts: 2 }, moeRequired: DEEPSEEK_REQUIRED, reads: set(DEEPSEEK, ["num_experts"]) }],
  // configuration_deepseek_v3.py: num_key_value_heads 128, intermediate_size 18432,
  // first_k_dense_replace 3, n_shared_experts 1, the MLA defaults above, tie False; attribute_map
  // num_local_experts → n_routed_experts
  ["deepseek_v3", { config: "DeepseekV3Config", gated: true, act: "silu", tied: false, kvHeads: 128, ffn: 18432, experts: "n_routed_experts", moeDefaults: { ...MLA_DEFAULTS, first_k_dense_replace: 3, n_shared_experts: 1 }, moeRequired: DEEPSEEK_REQUIRED, reads: set(DEEPSEEK, ["num_local_experts", "num_nextn_predict_layers"]) }],
  // configuration_olmo.py, configuration_olmo2.py, configuration_olmoe.py (num_key_value_heads
  // None → heads, intermediate_size 2048; attribute_map num_local_experts → num_experts): tie False
  ["olmo", { config: "OlmoConfig", norms: "nonparametric", gated: true, act: "silu", tied: false, reads: set(ROTARY) }],
  ["olmo2", { config: "Olmo2Config", qkNorm: "full", gated: true, act: "silu", tied: false, reads: set(ROTARY) }],
  ["olmoe", { config: "OlmoeConfig", qkNorm: "full", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 2048, experts: "num_experts", reads: set(ROTARY, ["num_experts", "num_local_experts", "num_experts_per_tok"]) }],
  // configuration_phi3.py: Phi3MLP's gate_up_proj is gated; num_key_value_heads None → heads,
  // intermediate_size 8192, tie False, resid_pdrop and embd_pdrop, sliding_window None (every
  // layer's attention passes it when set: Phi-3-mini-4k's 2047)
  ["phi3", { config: "Phi3Config", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 8192, windowLayers: "all", reads: set(ROTARY, ["sliding_window", "resid_pdrop", "embd_pdrop"]) }],
  // configuration_gpt2.py: activation_function "gelu_new", n_inner None → 4h, tie_word_embeddings
  // not set (PretrainedConfig's True; GPT2LMHeadModel ties lm_head to wte); GPT2MLP is not gated;
  // learned positions, heads of n_embd / n_head (GPT2Attention): no GQA, head_dim or RoPE
  ["gpt2", { config: "GPT2Config", gated: false, act: "gelu_new", tied: true, kvHeads: "heads", ffn: "4h", reads: set(["resid_pdrop", "embd_pdrop", "attn_pdrop"]) }],
  // The ALiBi families (Press et al. 2022), their own key names translated by hf-alibi.ts first:
  // MPT (llm-foundry's MPTConfig: tied by default, GELU MLP; mptglu makes it gated there) and
  // BLOOM (configuration_bloom.py: tied, BloomMLP 4·hidden_size with GELU, no GQA).
  ["mpt", { config: "MPTConfig", gated: false, act: "gelu", tied: true, kvHeads: "heads", ffn: "4h", windowLayers: "all", reads: set(["num_key_value_heads", "head_dim", "sliding_window", "resid_pdrop", "embd_pdrop", "attn_pdrop"]) }],
  ["bloom", { config: "BloomConfig", gated: false, act: "gelu", tied: true, kvHeads: "heads", ffn: "4h", reads: set(["attention_dropout", "hidden_dropout"]) }],
  // Not gated either, but each always does something paraplan does not model.
  ["gpt_neox", { config: "GPTNeoXConfig", gated: false, act: "gelu", tied: false, reads: set(), refused: (c) => neoxRefusal(c) }],
  // modeling_gptj.py: GPTJBlock always runs attention and MLP on one norm's output; rotary on
  // rotary_dim dimensions of each head (default 64; None: all)
  ["gptj", { config: "GPTJConfig", gated: false, act: "gelu_new", tied: false, reads: set(), refused: (c) => `parallel attention and MLP blocks (GPTJBlock always runs both on one norm's output)${c.rotary_dim === null ? "" : `, nor rotary embeddings on part of each head (${c.rotary_dim === undefined ? "GPTJConfig's default rotary_dim 64" : `rotary_dim ${JSON.stringify(c.rotary_dim)}`})`}` }],
  ["falcon", { config: "FalconConfig", gated: false, act: "gelu", tied: true, reads: set(), refused: (c) => falconRefusal(c) }],
  ["opt", { config: "OPTConfig", gated: false, act: "relu", tied: true, reads: set(), refused: "its widths under ffn_dim and word_embed_proj_dim (a projection when it differs from hidden_size), keys paraplan does not read" }],
]);

/** What a GPT-NeoX config builds that paraplan does not model (configuration_gpt_neox.py:
 *  rotary_pct 0.25, use_parallel_residual True by default; modeling_gpt_neox.py: GPTNeoXMLP's
 *  dense_h_to_4h and dense_4h_to_h are nn.Linear with their default bias, whatever the config). */
function neoxRefusal(c: Obj): string {
  const said = (k: string, fallback: string) => (c[k] === undefined ? `GPTNeoXConfig's default ${k} ${fallback}` : `${k} ${JSON.stringify(c[k])}`);
  const parts: string[] = [];
  if ((c.rotary_pct ?? 0.25) !== 1) parts.push(`rotary embeddings on part of each head (${said("rotary_pct", "0.25")})`);
  if ((c.use_parallel_residual ?? true) !== false) parts.push(`parallel attention and MLP blocks (${said("use_parallel_residual", "true")})`);
  parts.push("biases on every MLP of a rotary model (GPTNeoXMLP's linears always have them)");
  return parts.join(", nor ");
}

/** What a Falcon config builds that paraplan does not model (configuration_falcon.py: parallel_attn
 *  True, new_decoder_architecture False, alibi False by default; modeling_falcon.py's
 *  FalconDecoderLayer adds the MLP's output to the attention's when new_decoder_architecture or
 *  parallel_attn). */
function falconRefusal(c: Obj): string {
  const parts: string[] = [];
  if (c.new_decoder_architecture === true) parts.push("parallel attention and MLP blocks (new_decoder_architecture true)");
  else if ((c.parallel_attn ?? true) !== false) parts.push(`parallel attention and MLP blocks (${c.parallel_attn === undefined ? "FalconConfig's default parallel_attn true" : "parallel_attn true"})`);
  if (c.alibi === true) parts.push("ALiBi in FalconAttention (alibi true)");
  if (parts.length === 0) parts.push("FalconConfig's own keys (multi_query, num_kv_heads, new_decoder_architecture, bias), which it does not read");
  return parts.join(", nor ");
}

const KNOWN_FAMILIES = [...HF_FAMILIES].filter(([, f]) => f.refused === undefined).map(([k]) => k).join(", ");

// GPT-2's key names, shared by other families (CTRLConfig, GPTJConfig, OpenAIGPTConfig): without
// model_type they do not say which one (transformers' AutoConfig guesses from the directory's name).
const GPT2_NAMES = ["n_layer", "n_embd", "n_head"];

/** The family of a config, or the refusal naming model_type: checked before any other key, so an
 *  architecture paraplan does not read is refused as one, not by one of its keys. `kind`: what
 *  the file's structure says it is (a multimodal wrapper, an encoder-decoder), told with an unknown
 *  model_type. */
export function familyOf(raw: Obj, origin: string, kind?: string): Parsed<{ type: string; family: HfFamily }> {
  const type = raw.model_type;
  if (type === undefined || type === null) {
    const gpt2 = GPT2_NAMES.find((k) => Object.hasOwn(raw, k));
    const hint = gpt2 === undefined ? "" : `; "${gpt2}" is GPT-2's name and also CTRL's, GPT-J's and OpenAI GPT's: add "model_type": "gpt2" if it is GPT-2`;
    return { ok: false, message: `${origin}: field "model_type": missing (whether the MLP is gated, and the defaults of absent keys, follow the architecture; transformers writes it in every config.json${hint})` };
  }
  const family = typeof type === "string" ? HF_FAMILIES.get(type) : undefined;
  if (typeof type !== "string" || family === undefined) {
    const what = kind === undefined ? "paraplan does not know how this architecture builds its MLP (gated or not) nor its defaults" : `${kind}; paraplan plans decoder-only language models`;
    return { ok: false, message: `${origin}: "model_type" ${JSON.stringify(type)}: ${what}; it reads ${KNOWN_FAMILIES}` };
  }
  if (family.refused !== undefined)
    return { ok: false, message: `${origin}: "model_type" "${type}": paraplan does not model ${typeof family.refused === "string" ? family.refused : family.refused(raw)}` };
  return { ok: true, value: { type, family } };
}

/** A value that states nothing: None, False, 0, an empty list; and a step of 1 (every layer). */
const inert = (key: string, v: unknown) =>
  v === null || v === false || v === 0 || (Array.isArray(v) && v.length === 0) || (v === 1 && (key === "decoder_sparse_step" || key === "moe_layer_freq"));

// Expert counts and top-k on a dense family are refused by hf-moe.ts with their own message.
const LEFT_TO_MOE = ["num_local_experts", "num_experts", "n_routed_experts", "num_experts_per_tok"];

/** Every modelled key this family's config does not read, unless its value states nothing, is
 *  refused naming the key: transformers builds the model without it. */
export function checkFamilyKeys(c: Obj, modelled: ReadonlySet<string>, type: string, f: HfFamily, origin: string): Parsed<void> {
  // use_sliding_window false does not turn off a window the family applies without the flag
  // (Mistral, Mixtral, Phi-3, Gemma 2/3 read sliding_window only).
  const window = c.sliding_window === undefined ? f.window : c.sliding_window;
  if (c.use_sliding_window === false && !f.reads.has("use_sliding_window") && f.reads.has("sliding_window") && window !== undefined && window !== null)
    return { ok: false, message: `${origin}: "use_sliding_window" false is not read by ${type}'s config (transformers ${f.config} applies sliding_window ${JSON.stringify(window)} whatever it says): remove it, or give "sliding_window": null for no window` };
  for (const [k, v] of Object.entries(c)) {
    // max_window_layers only places Qwen's window, which paraplan takes from layer_types alone; a
    // sliding_window the file itself turns off (use_sliding_window false) is no window either way.
    if (!modelled.has(k) || COMMON_KEYS.has(k) || f.reads.has(k) || inert(k, v) || k === "max_window_layers") continue;
    if (k === "sliding_window" && c.use_sliding_window === false) continue;
    if (f.experts === undefined && LEFT_TO_MOE.includes(k)) continue;
    const shown = JSON.stringify(v);
    const value = shown.length > 40 ? `${shown.slice(0, 37)}…` : shown;
    return { ok: false, message: `${origin}: "${k}" ${value} is not read by ${type}'s config (transformers ${f.config} builds the model without it): remove it, or name the model_type whose config reads it` };
  }
  // Gemma-2's published configs repeat sliding_window as sliding_window_size, which Gemma2Config
  // does not read: the same value is accepted, another is refused rather than guessed.
  if (c.sliding_window_size !== undefined && c.sliding_window_size !== null && c.sliding_window_size !== c.sliding_window)
    return { ok: false, message: `${origin}: "sliding_window_size" ${JSON.stringify(c.sliding_window_size)} and "sliding_window" ${JSON.stringify(c.sliding_window ?? null)} differ: ${f.config} reads sliding_window only; remove sliding_window_size` };
  return { ok: true, value: undefined };
}

/** The family's defaults for absent keys, or the refusal of an absent key whose default is not
 *  stated here. A key given as null is not absent: it is None to the config class (no window;
 *  num_key_value_heads → num_attention_heads, even where the absent default is 8 as Mistral's);
 *  intermediate_size None (GPT-2's n_inner aside) and a head_dim of a class that builds its
 *  attention from config.head_dim cannot be built, so they are refused. `assumed`: each default
 *  taken, as "key value", for the plan's assumed: line (a truncated config would otherwise plan
 *  a plausible model silently); keys the class does not have (BLOOM's K/V heads) are not said. */
export function withDefaults(c: Obj, type: string, f: HfFamily, origin: string): Parsed<{ config: Obj; assumed: string[] }> {
  const out: Obj = { ...c };
  const assumed: string[] = [];
  const absent = (k: string) => c[k] === undefined;
  const unbuildable = (k: string, why: string): Parsed<never> => ({ ok: false, message: `${origin}: field "${k}": null (model_type "${type}": ${f.config} cannot build a model with None here, ${why}); state it` });
  const gpt2 = type === "gpt2";
  // MPT's and BLOOM's own names were translated (hf-alibi.ts), which states their MLP itself.
  const ownNames = type === "mpt" || type === "bloom";
  if (absent("tie_word_embeddings")) {
    out.tie_word_embeddings = f.tied;
    assumed.push(`tie_word_embeddings ${f.tied}`);
  }
  if (absent("hidden_act") && absent("hidden_activation") && !ownNames)
    assumed.push(`${gpt2 ? "activation_function" : type === "gemma2" || type === "gemma3_text" ? "hidden_activation" : "hidden_act"} ${f.act}`);
  if (absent("num_key_value_heads")) {
    if (f.kvHeads === undefined)
      return { ok: false, message: `${origin}: field "num_key_value_heads": missing (model_type "${type}": ${f.config}'s default is not one paraplan states; add it)` };
    if (typeof f.kvHeads === "number") out.num_key_value_heads = f.kvHeads;
    if (f.reads.has("num_key_value_heads"))
      assumed.push(`num_key_value_heads ${typeof f.kvHeads === "number" ? f.kvHeads : `${JSON.stringify(c.num_attention_heads)} (= num_attention_heads)`}`);
  } else if (c.num_key_value_heads === null) assumed.push(`num_key_value_heads ${JSON.stringify(c.num_attention_heads)} (null: = num_attention_heads)`);
  if (c.head_dim === null && f.headDim !== undefined) return unbuildable("head_dim", "its attention's widths are config.head_dim");
  if (absent("head_dim") && f.headDim !== undefined) {
    out.head_dim = f.headDim;
    assumed.push(`head_dim ${f.headDim}`);
  }
  if (absent("sliding_window") && f.window !== undefined) {
    out.sliding_window = f.window;
    assumed.push(`sliding_window ${f.window}`);
  }
  if (c.intermediate_size === null && f.ffn !== "4h") return unbuildable("intermediate_size", "the MLP's width");
  if (absent("intermediate_size")) {
    if (f.ffn === undefined)
      return { ok: false, message: `${origin}: field "intermediate_size": missing (model_type "${type}": ${f.config}'s default is not one paraplan states; add it)` };
    if (typeof f.ffn === "number") {
      out.intermediate_size = f.ffn;
      assumed.push(`intermediate_size ${f.ffn}`);
    }
  }
  if (gpt2 && (c.intermediate_size ?? null) === null) assumed.push(`n_inner ${typeof c.hidden_size === "number" ? 4 * c.hidden_size : ""} (${c.intermediate_size === null ? "null: " : ""}4·n_embd)`);
  // GPT2Config's dropouts are 0.1 (resid_pdrop, embd_pdrop, attn_pdrop); every other family's 0.
  for (const k of gpt2 ? ["resid_pdrop", "embd_pdrop", "attn_pdrop"] : [])
    if (absent(k)) {
      out[k] = 0.1;
      assumed.push(`${k} 0.1`);
    }
  return { ok: true, value: { config: out, assumed } };
}
