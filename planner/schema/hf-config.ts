// HuggingFace transformers config.json (PretrainedConfig and the model families' configs) →
// the fields of a paraplan model file, then parseModelFile. Every key is modelled, known not to
// change the cost, or refused (hf-keys.ts); GPT-2's names are mapped onto the common ones.
import type { z } from "zod";
import { lazySchemas } from "./zod.js";
import type { ModelSpec } from "../types.js";
import { HF_REFUSED, classifyHfKey } from "./hf-keys.js";
import { MODEL_BOUNDS, boundedCount } from "./bounds.js";
import { hfExperts } from "./hf-moe.js";
import { parseModelFile } from "./model.js";
import { type Parsed, firstIssue } from "./result.js";

/** The sequence length a config.json is planned at unless --seq says otherwise:
 *  max_position_embeddings is the longest context the model accepts (131,072 for Qwen2.5,
 *  163,840 for DeepSeek-V3), not what it is trained at; 8192 is Llama 3's pre-training length
 *  (Llama Team 2024 §3.4.1). */
export const HF_DEFAULT_SEQ_CAP = 8192;

// Built with zod on first use (./zod.ts).
const schemas = lazySchemas((z) => {
  const optionalNumber = z.number().nullable().optional();

  const hf = z.object({
    num_hidden_layers: boundedCount(z, MODEL_BOUNDS.layers),
    hidden_size: boundedCount(z, MODEL_BOUNDS.hidden),
    num_attention_heads: boundedCount(z, MODEL_BOUNDS.heads),
    num_key_value_heads: boundedCount(z, MODEL_BOUNDS.kvHeads).nullable().optional(),
    head_dim: boundedCount(z, MODEL_BOUNDS.headDim).nullable().optional(),
    intermediate_size: boundedCount(z, MODEL_BOUNDS.ffnHidden).nullable().optional(),
    vocab_size: boundedCount(z, MODEL_BOUNDS.vocab),
    max_position_embeddings: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    hidden_act: z.string().optional(),
    hidden_activation: z.string().nullable().optional(),
    tie_word_embeddings: z.boolean().optional(),
    rope_theta: z.number().positive().optional(),
    rope_scaling: z.record(z.string(), z.unknown()).nullable().optional(),
    rms_norm_eps: z.number().positive().lt(1).optional(),
    layer_norm_eps: z.number().positive().lt(1).optional(),
    layer_norm_epsilon: z.number().positive().lt(1).optional(),
    sliding_window: boundedCount(z, MODEL_BOUNDS.slidingWindow).nullable().optional(),
    use_sliding_window: z.boolean().optional(),
    layer_types: z.array(z.string()).optional(),
    attention_dropout: optionalNumber,
    hidden_dropout: optionalNumber,
    resid_pdrop: optionalNumber,
    embd_pdrop: optionalNumber,
    attn_pdrop: optionalNumber,
    attention_bias: z.boolean().optional(),
    mlp_bias: z.boolean().optional(),
    model_type: z.string().optional(),
    _name_or_path: z.string().optional(),
  });
  return { hf };
});
const hfSchema = () => schemas().hf;

type HfConfig = z.infer<ReturnType<typeof hfSchema>>;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** A file is a HuggingFace config when it carries HF's key names (GPT-2's included). */
export function looksLikeHfConfig(raw: unknown): boolean {
  // A multimodal wrapper (Gemma 3, Llava: the text model under text_config) or any file naming its
  // model_type is one too, so that its refusal names the key rather than paraplan's own fields.
  return isObj(raw) && ["num_hidden_layers", "hidden_size", "n_layer", "n_embd", "model_type", "text_config", "vision_config", "audio_config"].some((k) => Object.hasOwn(raw, k));
}

/** GPT2Config names → the common ones (n_inner null means 4h), renamed wherever they appear
 *  (transformers' attribute_map makes them aliases: GPT2Config maps num_hidden_layers to n_layer).
 *  Both names of one pair with different values are refused naming both: which one a reader takes
 *  is a guess. */
const GPT2_ALIASES: ReadonlyArray<readonly [string, string]> = [
  ["n_layer", "num_hidden_layers"], ["n_embd", "hidden_size"], ["n_head", "num_attention_heads"],
  ["n_inner", "intermediate_size"], ["n_positions", "max_position_embeddings"], ["activation_function", "hidden_act"],
];

function fromGpt2(raw: Obj, origin: string): Parsed<Obj> {
  const gpt2Names = Object.hasOwn(raw, "n_layer") || Object.hasOwn(raw, "n_embd");
  const out: Obj = { ...raw };
  for (const [from, to] of GPT2_ALIASES) {
    if (!Object.hasOwn(raw, from)) continue;
    if (Object.hasOwn(raw, to) && JSON.stringify(raw[to]) !== JSON.stringify(raw[from]))
      return { ok: false, message: `${origin}: "${from}" ${JSON.stringify(raw[from])} and "${to}" ${JSON.stringify(raw[to])} disagree: they are two names of one setting (GPT2Config's attribute_map); keep one` };
    delete out[from];
    out[to] = raw[from];
  }
  delete out.n_ctx;
  if (gpt2Names && out.model_type === undefined) out.model_type = "gpt2";
  return { ok: true, value: out };
}

/** transformers 5's `rope_parameters` ({rope_type, rope_theta, and the scaling's own keys}) as the
 *  rope_theta and rope_scaling of earlier configs (modeling_rope_utils.py: "default" is no
 *  scaling). Beside either older key, or keyed by layer type (one set per attention kind), it is
 *  refused rather than read one way. */
function fromRopeParameters(raw: Obj, origin: string): Parsed<Obj> {
  const rp = raw.rope_parameters;
  if (rp === undefined || rp === null) return { ok: true, value: raw };
  const old = ["rope_theta", "rope_scaling"].find((k) => Object.hasOwn(raw, k) && raw[k] !== null);
  if (old) return { ok: false, message: `${origin}: "rope_parameters" and "${old}" both given: they are two forms of one setting (transformers 5 reads rope_parameters); keep one` };
  if (!isObj(rp) || typeof rp.rope_theta !== "number")
    return { ok: false, message: `${origin}: "rope_parameters": paraplan reads one set with a numeric rope_theta ({"rope_type": …, "rope_theta": …}), not one per layer type` };
  const { rope_parameters: _, ...out } = raw;
  out.rope_theta = rp.rope_theta;
  const type = rp.rope_type ?? rp.type ?? "default";
  if (type !== "default") out.rope_scaling = rp;
  return { ok: true, value: out };
}

/** What transformers builds for a model_type when a key is absent: the family's config class
 *  defaults (src/transformers/models/<family>/configuration_<family>.py) and whether its MLP is
 *  gated, which follows the architecture (the modeling file's MLP class), never the activation:
 *  LlamaMLP is down(act(gate(x)) · up(x)) whatever hidden_act names, GPT2MLP is c_proj(act(c_fc(x))).
 *  A model_type not listed is refused by name: paraplan cannot tell how its MLP is built. */
interface HfFamily {
  /** The config class, named in messages. */
  config: string;
  /** gate_proj/up_proj/down_proj (gated) rather than two matrices. */
  gated: boolean;
  /** hidden_act's default (hidden_activation's for Gemma 2/3). */
  act: string;
  /** tie_word_embeddings's default (PretrainedConfig's True where the class does not set it). */
  tied: boolean;
  /** num_key_value_heads's default: a number, or "heads" (None → num_attention_heads); absent:
   *  not stated here, so a config without the key is refused. */
  kvHeads?: number | "heads";
  /** head_dim's default where it is a number rather than hidden_size / num_attention_heads. */
  headDim?: number;
  /** sliding_window's default where the family uses it without use_sliding_window. */
  window?: number;
  /** intermediate_size's default ("4h": GPT-2's n_inner None); absent: refused when missing. */
  ffn?: number | "4h";
  /** The key naming the family's experts: a config of a mixture-of-experts family without it
   *  would be built by transformers with its default expert count. */
  experts?: string;
  /** Why the family is refused: something it always does that paraplan does not model. */
  refused?: string;
}

const HF_FAMILIES: ReadonlyMap<string, HfFamily> = new Map<string, HfFamily>([
  // configuration_llama.py: hidden_act "silu", tie False, num_key_value_heads None → heads, 11008
  ["llama", { config: "LlamaConfig", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 11008 }],
  // configuration_mistral.py: num_key_value_heads 8, intermediate_size 14336, sliding_window 4096,
  // tie False
  ["mistral", { config: "MistralConfig", gated: true, act: "silu", tied: false, kvHeads: 8, ffn: 14336, window: 4096 }],
  // configuration_mixtral.py: num_key_value_heads 8, experts of intermediate_size 14336, tie False
  ["mixtral", { config: "MixtralConfig", gated: true, act: "silu", tied: false, kvHeads: 8, ffn: 14336, experts: "num_local_experts" }],
  // configuration_qwen2.py: num_key_value_heads 32, intermediate_size 22016, tie False
  ["qwen2", { config: "Qwen2Config", gated: true, act: "silu", tied: false, kvHeads: 32, ffn: 22016 }],
  // configuration_qwen2_moe.py: tie False
  ["qwen2_moe", { config: "Qwen2MoeConfig", gated: true, act: "silu", tied: false, experts: "num_experts" }],
  // configuration_qwen3.py: num_key_value_heads 32, head_dim 128, intermediate_size 22016, tie False
  ["qwen3", { config: "Qwen3Config", gated: true, act: "silu", tied: false, kvHeads: 32, headDim: 128, ffn: 22016 }],
  // configuration_qwen3_moe.py: num_key_value_heads 4, intermediate_size 6144, tie False
  ["qwen3_moe", { config: "Qwen3MoeConfig", gated: true, act: "silu", tied: false, kvHeads: 4, ffn: 6144, experts: "num_experts" }],
  // configuration_gemma.py: hidden_act "gelu_pytorch_tanh", head_dim 256, num_key_value_heads 16,
  // intermediate_size 24576, tie True; GemmaMLP is gated (GeGLU)
  ["gemma", { config: "GemmaConfig", gated: true, act: "gelu_pytorch_tanh", tied: true, kvHeads: 16, headDim: 256, ffn: 24576 }],
  // configuration_gemma2.py / configuration_gemma3.py (Gemma3TextConfig): hidden_activation
  // "gelu_pytorch_tanh", head_dim 256, num_key_value_heads 4, intermediate_size 9216,
  // sliding_window 4096, tie True
  ["gemma2", { config: "Gemma2Config", gated: true, act: "gelu_pytorch_tanh", tied: true, kvHeads: 4, headDim: 256, ffn: 9216, window: 4096 }],
  ["gemma3_text", { config: "Gemma3TextConfig", gated: true, act: "gelu_pytorch_tanh", tied: true, kvHeads: 4, headDim: 256, ffn: 9216, window: 4096 }],
  // configuration_deepseek_v2.py / configuration_deepseek_v3.py: hidden_act "silu", tie False
  // (V3: num_key_value_heads 128, intermediate_size 18432)
  ["deepseek_v2", { config: "DeepseekV2Config", gated: true, act: "silu", tied: false, experts: "n_routed_experts" }],
  ["deepseek_v3", { config: "DeepseekV3Config", gated: true, act: "silu", tied: false, kvHeads: 128, ffn: 18432, experts: "n_routed_experts" }],
  // configuration_olmo.py, configuration_olmo2.py, configuration_olmoe.py (num_key_value_heads
  // None → heads, intermediate_size 2048): hidden_act "silu", tie False
  ["olmo", { config: "OlmoConfig", gated: true, act: "silu", tied: false }],
  ["olmo2", { config: "Olmo2Config", gated: true, act: "silu", tied: false }],
  ["olmoe", { config: "OlmoeConfig", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 2048, experts: "num_experts" }],
  // configuration_phi3.py: Phi3MLP's gate_up_proj is gated; num_key_value_heads None → heads,
  // intermediate_size 8192, tie False
  ["phi3", { config: "Phi3Config", gated: true, act: "silu", tied: false, kvHeads: "heads", ffn: 8192 }],
  // configuration_gpt2.py: activation_function "gelu_new", n_inner None → 4h, tie_word_embeddings
  // not set (PretrainedConfig's True; GPT2LMHeadModel ties lm_head to wte); GPT2MLP is not gated
  ["gpt2", { config: "GPT2Config", gated: false, act: "gelu_new", tied: true, kvHeads: "heads", ffn: "4h" }],
  // Not gated either, but each always does something paraplan does not model.
  ["gpt_neox", { config: "GPTNeoXConfig", gated: false, act: "gelu", tied: false, refused: "rotary embeddings on a quarter of each head and parallel attention and MLP blocks by default (GPTNeoXConfig: rotary_pct 0.25, use_parallel_residual true)" }],
  ["gptj", { config: "GPTJConfig", gated: false, act: "gelu_new", tied: false, refused: "parallel attention and MLP blocks (GPTJBlock always runs both on one norm's output) and partial rotary embeddings (rotary_dim)" }],
  ["bloom", { config: "BloomConfig", gated: false, act: "gelu", tied: true, refused: "ALiBi attention biases (BloomAttention always adds them)" }],
  ["falcon", { config: "FalconConfig", gated: false, act: "gelu", tied: true, refused: "parallel attention and MLP blocks and multi-query attention by default (FalconConfig: parallel_attn true, multi_query true, new_decoder_architecture)" }],
  ["opt", { config: "OPTConfig", gated: false, act: "relu", tied: true, refused: "its widths under ffn_dim and word_embed_proj_dim (a projection when it differs from hidden_size), keys paraplan does not read" }],
]);

const KNOWN_FAMILIES = [...HF_FAMILIES].filter(([, f]) => f.refused === undefined).map(([k]) => k).join(", ");

/** The family of a config, or the refusal naming model_type. */
function familyOf(raw: Obj, origin: string): Parsed<{ type: string; family: HfFamily }> {
  const type = raw.model_type;
  if (type === undefined || type === null)
    return { ok: false, message: `${origin}: field "model_type": missing (whether the MLP is gated, and the defaults of absent keys, follow the architecture; transformers writes it in every config.json)` };
  const family = typeof type === "string" ? HF_FAMILIES.get(type) : undefined;
  if (typeof type !== "string" || family === undefined)
    return { ok: false, message: `${origin}: "model_type" ${JSON.stringify(type)}: paraplan does not know how this architecture builds its MLP (gated or not) nor its defaults; it reads ${KNOWN_FAMILIES}` };
  if (family.refused !== undefined) return { ok: false, message: `${origin}: "model_type" "${type}": paraplan does not model ${family.refused}` };
  return { ok: true, value: { type, family } };
}

/** The family's defaults for absent keys, or the refusal of an absent key whose default is not
 *  stated here. A key given as null is not absent: it is None to the config class (no window;
 *  num_key_value_heads → num_attention_heads, even where the absent default is 8 as Mistral's). */
function withDefaults(c: Obj, type: string, f: HfFamily, origin: string): Parsed<Obj> {
  const out: Obj = { ...c };
  const absent = (k: string) => c[k] === undefined;
  if (absent("tie_word_embeddings")) out.tie_word_embeddings = f.tied;
  if (absent("num_key_value_heads")) {
    if (f.kvHeads === undefined)
      return { ok: false, message: `${origin}: field "num_key_value_heads": missing (model_type "${type}": ${f.config}'s default is not one paraplan states; add it)` };
    if (typeof f.kvHeads === "number") out.num_key_value_heads = f.kvHeads;
  }
  if (absent("head_dim") && f.headDim !== undefined) out.head_dim = f.headDim;
  if (absent("sliding_window") && f.window !== undefined) out.sliding_window = f.window;
  if (absent("intermediate_size")) {
    if (f.ffn === undefined)
      return { ok: false, message: `${origin}: field "intermediate_size": missing (model_type "${type}": ${f.config}'s default is not one paraplan states; add it)` };
    if (typeof f.ffn === "number") out.intermediate_size = f.ffn;
  }
  return { ok: true, value: out };
}

// Families whose MLP is gated (the table above); Gemma's gated GELU is GeGLU. Rotary families are
// those whose attention applies RoPE.
const GEMMA = ["gemma", "gemma2", "gemma3", "gemma3_text"];
const DEEPSEEK = ["deepseek_v2", "deepseek_v3"];
const ROPE_FAMILIES = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "phi3", "olmo", "olmo2", "olmoe", ...DEEPSEEK, ...GEMMA];

/** The MLP: gated or not by the family; the activation (the family's default when absent) names
 *  which gated MLP (SiLU → SwiGLU, GELU → GeGLU). An ungated MLP is two matrices whatever its
 *  elementwise activation (GELU, SiLU, ReLU, tanh: GPT2Config's list), "gelu" in paraplan's terms. */
function mlpOf(c: HfConfig, f: HfFamily): "gelu" | "swiglu" | "geglu" | string {
  const act = (c.hidden_activation ?? c.hidden_act ?? f.act).toLowerCase();
  if (!f.gated) return act.startsWith("gelu") || ["silu", "swish", "relu", "tanh"].includes(act) ? "gelu" : `hidden_act "${act}"`;
  if (act === "silu" || act === "swish" || act === "swiglu") return "swiglu";
  if (act.startsWith("gelu") || act === "geglu") return "geglu";
  return `hidden_act "${act}"`;
}

const LAYER_TYPES = ["full_attention", "sliding_attention"];

/** layer_types names every layer's attention: one entry per layer, each one paraplan models. */
function checkLayerTypes(c: HfConfig, origin: string): Parsed<void> {
  const t = c.layer_types;
  if (t === undefined) return { ok: true, value: undefined };
  const odd = t.findIndex((x) => !LAYER_TYPES.includes(x));
  if (odd >= 0)
    return { ok: false, message: `${origin}: "layer_types"[${odd}] ${JSON.stringify(t[odd])}: paraplan models "full_attention" and "sliding_attention" layers only` };
  if (t.length !== c.num_hidden_layers)
    return { ok: false, message: `${origin}: "layer_types" has ${t.length} entries for num_hidden_layers ${c.num_hidden_layers}: one per layer` };
  const local = t.filter((x) => x === "sliding_attention").length;
  if (local > 0 && (c.sliding_window ?? undefined) === undefined && c.use_sliding_window !== false)
    return { ok: false, message: `${origin}: "layer_types" lists ${local} "sliding_attention" layers without "sliding_window": the window is not stated` };
  return { ok: true, value: undefined };
}

/** Layers with a sliding window: layer_types when given; Gemma-2 alternates, even layers local
 *  (Gemma Team 2024 §2, Gemma2DecoderLayer); Mistral windows every layer (Jiang et al. 2023). */
function windowOf(c: HfConfig, origin: string): Parsed<{ slidingWindow?: number; slidingWindowLayers?: number }> {
  const w = c.sliding_window ?? undefined;
  if (w === undefined || c.use_sliding_window === false) return { ok: true, value: {} };
  if (c.layer_types !== undefined) {
    const local = c.layer_types.filter((t) => t === "sliding_attention").length;
    return { ok: true, value: { slidingWindow: w, slidingWindowLayers: local } };
  }
  if (c.model_type === "gemma2") return { ok: true, value: { slidingWindow: w, slidingWindowLayers: Math.ceil(c.num_hidden_layers / 2) } };
  if (c.model_type === "mistral") return { ok: true, value: { slidingWindow: w, slidingWindowLayers: c.num_hidden_layers } };
  return { ok: false, message: `${origin}: "sliding_window" ${w} without "layer_types": which layers use the window is not stated for model_type "${c.model_type ?? "(none)"}"; add "layer_types" or remove the key if no layer uses it` };
}

function ropeScalingOf(c: HfConfig, origin: string): Parsed<ModelSpec["ropeScaling"] | undefined> {
  const s = c.rope_scaling;
  if (s === null || s === undefined) return { ok: true, value: undefined };
  const type = s.rope_type ?? s.type;
  // DeepSeek-V2/V3 ship the YaRN scaling of their long-context extension (V3 report §4.3, after
  // pre-training at 4K): it rescales rotary frequencies, no work; paraplan plans pre-training.
  if (type === "yarn" && DEEPSEEK.includes(c.model_type ?? "")) return { ok: true, value: undefined };
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : NaN);
  const v = { factor: num("factor"), lowFreqFactor: num("low_freq_factor"), highFreqFactor: num("high_freq_factor"), originalMaxPositions: num("original_max_position_embeddings") };
  if (type !== "llama3") return { ok: false, message: `${origin}: "rope_scaling" of type ${JSON.stringify(type)}: paraplan models Llama 3.1's "llama3" scaling only` };
  if (Object.values(v).some((x) => !Number.isFinite(x) || x <= 0))
    return { ok: false, message: `${origin}: "rope_scaling" of type llama3 needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings` };
  return { ok: true, value: { type: "llama3", ...v } };
}

const REFUSED_ORDER = Object.keys(HF_REFUSED);
const rank = (k: string) => (REFUSED_ORDER.includes(k) ? REFUSED_ORDER.indexOf(k) : REFUSED_ORDER.length);

export function parseHfConfig(raw: unknown, origin: string, fallbackName: string): Parsed<ModelSpec> {
  if (!isObj(raw)) return { ok: false, message: `${origin}: a config.json is a JSON object` };
  const gpt2 = fromGpt2(raw, origin);
  if (!gpt2.ok) return gpt2;
  const v5 = fromRopeParameters(gpt2.value, origin);
  if (!v5.ok) return v5;
  const named = v5.value;
  // Keys refused by name first (in HF_REFUSED's order: Mixtral names num_local_experts), then
  // unknown architectural-looking ones; then an architecture paraplan does not know.
  const refusals = Object.entries(named)
    .map(([k, v]) => ({ k, verdict: classifyHfKey(k, v) }))
    .filter((x) => x.verdict.kind === "refused")
    .sort((a, b) => rank(a.k) - rank(b.k));
  const first = refusals[0];
  if (first && first.verdict.kind === "refused") return { ok: false, message: `${origin}: "${first.k}": ${first.verdict.reason}` };
  const fam = familyOf(named, origin);
  if (!fam.ok) return fam;
  const { type, family } = fam.value;
  const defaulted = withDefaults(named, type, family, origin);
  if (!defaulted.ok) return defaulted;
  const mapped = defaulted.value;
  const r = hfSchema().safeParse(mapped);
  if (!r.success) return { ok: false, message: `${origin}: ${firstIssue(r.error, mapped)}` };
  const c = r.data;
  const types = checkLayerTypes(c, origin);
  if (!types.ok) return types;
  const mlp = mlpOf(c, family);
  if (mlp !== "gelu" && mlp !== "swiglu" && mlp !== "geglu")
    return { ok: false, message: `${origin}: ${mlp}: paraplan models GELU, SiLU-gated (SwiGLU) and GELU-gated (GeGLU) MLPs` };
  const rope = c.rope_theta !== undefined || ROPE_FAMILIES.includes(c.model_type ?? "");
  if (rope && (c.attention_bias === true || c.mlp_bias === true))
    return { ok: false, message: `${origin}: "${c.attention_bias ? "attention_bias" : "mlp_bias"}": true: biases in a rotary (Llama-style) model are not modelled` };
  const window = windowOf(c, origin);
  if (!window.ok) return window;
  const scaling = ropeScalingOf(c, origin);
  if (!scaling.ok) return scaling;
  const experts = hfExperts(mapped, origin, { modelType: type, ...(family.experts ? { expertsKey: family.experts } : {}) });
  if (!experts.ok) return experts;
  const x = experts.value;
  const dropout = [c.attention_dropout, c.hidden_dropout, c.resid_pdrop, c.embd_pdrop, c.attn_pdrop].some((p) => typeof p === "number" && p > 0);
  const eps = c.rms_norm_eps ?? c.layer_norm_eps ?? c.layer_norm_epsilon;
  const seqLen = Math.min(c.max_position_embeddings, HF_DEFAULT_SEQ_CAP);
  const parsed = parseModelFile(
    {
      name: c._name_or_path || c.model_type || fallbackName,
      layers: c.num_hidden_layers,
      hidden: c.hidden_size,
      heads: c.num_attention_heads,
      kvHeads: c.num_key_value_heads ?? c.num_attention_heads,
      ...(c.head_dim != null ? { headDim: c.head_dim } : {}),
      ...(c.intermediate_size != null ? { ffnHidden: x.ffnHidden ?? c.intermediate_size } : {}),
      vocab: c.vocab_size,
      seqLen,
      mlp,
      positional: rope ? "rope" : "learned",
      tiedEmbeddings: c.tie_word_embeddings ?? family.tied,
      dropout,
      ...window.value,
      ...(rope && c.rope_theta !== undefined ? { ropeTheta: c.rope_theta } : {}),
      ...(scaling.value ? { ropeScaling: scaling.value } : {}),
      ...(eps !== undefined ? { normEps: eps } : {}),
      ...(x.moe ? { moe: x.moe } : {}),
      ...(x.mla ? { mla: x.mla } : {}),
      ...(x.mtpLayers ? { mtpLayers: x.mtpLayers } : {}),
    },
    origin,
  );
  if (!parsed.ok) return parsed;
  const why = c.max_position_embeddings > HF_DEFAULT_SEQ_CAP ? `min(max_position_embeddings ${c.max_position_embeddings}, ${HF_DEFAULT_SEQ_CAP})` : "max_position_embeddings";
  return { ok: true, value: { ...parsed.value, defaultSeqLenAssumed: `sequence ${seqLen} = ${why} of ${origin} (--seq to change)` } };
}
