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
  return isObj(raw) && ["num_hidden_layers", "hidden_size", "n_layer", "n_embd"].some((k) => k in raw);
}

/** GPT2Config names → the common ones (n_inner null means 4h; activation_function is GELU). */
function fromGpt2(raw: Obj): Obj {
  if (!("n_layer" in raw || "n_embd" in raw)) return raw;
  const out: Obj = { ...raw };
  const rename: Record<string, string> = {
    n_layer: "num_hidden_layers", n_embd: "hidden_size", n_head: "num_attention_heads",
    n_inner: "intermediate_size", n_positions: "max_position_embeddings",
    activation_function: "hidden_act", layer_norm_epsilon: "layer_norm_epsilon",
  };
  for (const [from, to] of Object.entries(rename))
    if (from in raw) {
      delete out[from];
      out[to] = raw[from];
    }
  delete out.n_ctx;
  if (out.model_type === undefined) out.model_type = "gpt2";
  return out;
}

// Families whose MLP is gated: LlamaMLP-style down(act(gate(x)) · up(x)) with SiLU, Gemma's with
// GELU-tanh (GemmaMLP, Gemma2MLP). Rotary families are those whose attention applies RoPE.
const GEMMA = ["gemma", "gemma2", "gemma3", "gemma3_text"];
const DEEPSEEK = ["deepseek_v2", "deepseek_v3"];
const ROPE_FAMILIES = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "phi3", "olmo", "olmo2", "olmoe", ...DEEPSEEK, ...GEMMA];

function mlpOf(c: HfConfig): "gelu" | "swiglu" | "geglu" | string {
  const act = (c.hidden_activation ?? c.hidden_act ?? "gelu").toLowerCase();
  if (act === "silu" || act === "swish" || act === "swiglu") return "swiglu";
  if (act.startsWith("gelu")) return GEMMA.includes(c.model_type ?? "") ? "geglu" : "gelu";
  if (act === "geglu") return "geglu";
  return `hidden_act "${act}"`;
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
  const mapped = fromGpt2(raw);
  // Keys refused by name first (in HF_REFUSED's order: Mixtral names num_local_experts), then
  // unknown architectural-looking ones.
  const refusals = Object.entries(mapped)
    .map(([k, v]) => ({ k, verdict: classifyHfKey(k, v) }))
    .filter((x) => x.verdict.kind === "refused")
    .sort((a, b) => rank(a.k) - rank(b.k));
  const first = refusals[0];
  if (first && first.verdict.kind === "refused") return { ok: false, message: `${origin}: "${first.k}": ${first.verdict.reason}` };
  const r = hfSchema().safeParse(mapped);
  if (!r.success) return { ok: false, message: `${origin}: ${firstIssue(r.error, mapped)}` };
  const c = r.data;
  const mlp = mlpOf(c);
  if (mlp !== "gelu" && mlp !== "swiglu" && mlp !== "geglu")
    return { ok: false, message: `${origin}: ${mlp}: paraplan models GELU, SiLU-gated (SwiGLU) and GELU-gated (GeGLU) MLPs` };
  const rope = c.rope_theta !== undefined || ROPE_FAMILIES.includes(c.model_type ?? "");
  if (rope && (c.attention_bias === true || c.mlp_bias === true))
    return { ok: false, message: `${origin}: "${c.attention_bias ? "attention_bias" : "mlp_bias"}": true: biases in a rotary (Llama-style) model are not modelled` };
  const window = windowOf(c, origin);
  if (!window.ok) return window;
  const scaling = ropeScalingOf(c, origin);
  if (!scaling.ok) return scaling;
  const experts = hfExperts(mapped, origin);
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
      tiedEmbeddings: c.tie_word_embeddings ?? true,
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
