// HuggingFace transformers config.json (PretrainedConfig and the model families' configs) →
// the fields of a paraplan model file, then parseModelFile. Every key is modelled, known not to
// change the cost, or refused (hf-keys.ts); a modelled key the model_type's config class does not
// read is refused, and absent keys take that class's defaults (hf-families.ts); GPT-2's names are
// mapped onto the common ones, and messages name the keys the file wrote (hf-names.ts).
import type { z } from "zod";
import { lazySchemas } from "./zod.js";
import type { ModelSpec } from "../types.js";
import { HF_MODELLED, HF_REFUSED, classifyHfKey } from "./hf-keys.js";
import { checkLayerTypes, fromMlaSaved, ropeScalingOf, windowOf } from "./hf-attention.js";
import { type HfFamily, checkFamilyKeys, familyOf, withDefaults } from "./hf-families.js";
import { inUserNames, mixedFormats, neitherFormat } from "./hf-names.js";
import { MODEL_BOUNDS, boundedCount } from "./bounds.js";
import { hfExperts } from "./hf-moe.js";
import { type AlibiFamilyFacts, fromBloom, fromMpt } from "./hf-alibi.js";
import { parseModelFile } from "./model.js";
import { type Parsed, firstIssue } from "./result.js";

/** The sequence length a config.json is planned at unless --seq says otherwise:
 *  max_position_embeddings is the longest context the model accepts (131,072 for Qwen2.5,
 *  163,840 for DeepSeek-V3), not what it is trained at; 8192 is Llama 3's pre-training length
 *  (Llama Team 2024 §3.4.1). */
export const HF_DEFAULT_SEQ_CAP = 8192;

// Built with zod on first use (./zod.ts).
const schemas = lazySchemas((z) => {
  // A dropout probability: torch.nn.Dropout raises outside [0, 1] (and 1 drops everything).
  const notProbability = { message: "must be a dropout probability, from 0 to below 1" };
  const probability = z.number().min(0, notProbability).lt(1, notProbability).nullable().optional();

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
    // Gemma 3: every sliding_window_pattern-th layer is global (hf-attention.ts)
    sliding_window_pattern: z.number().int().positive().max(MODEL_BOUNDS.layers).optional(),
    _sliding_window_pattern: z.number().int().positive().max(MODEL_BOUNDS.layers).optional(),
    attention_dropout: probability,
    resid_pdrop: probability,
    embd_pdrop: probability,
    attn_pdrop: probability,
    hidden_dropout: probability,
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

// The keys that make a file a HuggingFace config.
const HF_MARKERS = ["num_hidden_layers", "hidden_size", "n_layer", "n_embd", "model_type", "text_config", "vision_config", "audio_config"];

/** A model file's object with none of either format's keys: the message saying so (hf-names.ts). */
export const unrecognisedModelFile = (raw: unknown, origin: string): string | undefined => (isObj(raw) ? neitherFormat(raw, HF_MARKERS, origin) : undefined);

/** A file is a HuggingFace config when it carries HF's key names (GPT-2's included). */
export function looksLikeHfConfig(raw: unknown): boolean {
  // A multimodal wrapper (Gemma 3, Llava: the text model under text_config) or any file naming its
  // model_type is one too, so that its refusal names the key rather than paraplan's own fields.
  return isObj(raw) && HF_MARKERS.some((k) => Object.hasOwn(raw, k));
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
  const out: Obj = { ...raw };
  for (const [from, to] of GPT2_ALIASES) {
    if (!Object.hasOwn(raw, from)) continue;
    if (Object.hasOwn(raw, to) && JSON.stringify(raw[to]) !== JSON.stringify(raw[from]))
      return { ok: false, message: `${origin}: "${from}" ${JSON.stringify(raw[from])} and "${to}" ${JSON.stringify(raw[to])} disagree: they are two names of one setting (GPT2Config's attribute_map); keep one` };
    delete out[from];
    out[to] = raw[from];
  }
  delete out.n_ctx;
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
  if (type !== "default") {
    // (the scaling's own keys: rope_theta is read above)
    const { rope_theta: _t, ...scaling } = rp;
    out.rope_scaling = scaling;
  }
  return { ok: true, value: out };
}

/** The MLP: gated or not by the family; the activation (the family's default when absent) names
 *  which gated MLP (SiLU → SwiGLU, GELU → GeGLU). An ungated MLP is two matrices whatever its
 *  elementwise activation (GELU, SiLU, ReLU, tanh: GPT2Config's list), "gelu" in paraplan's terms. */
function mlpOf(c: HfConfig, f: HfFamily): "gelu" | "swiglu" | "geglu" | string {
  // (hidden_activation only where the class reads it, Gemma's: elsewhere one that states nothing,
  // null; Gemma 2 and 3 read it alone, a hidden_act beside it builds nothing)
  const act = f.actIsHiddenActivation ? c.hidden_activation ?? f.act : (f.reads.has("hidden_activation") ? c.hidden_activation : undefined) ?? c.hidden_act ?? f.act;
  // transformers looks the name up as written (ACT2FN["SiLU"] raises KeyError): not a model.
  if (act !== act.toLowerCase()) return `hidden_act "${act}": transformers' activation names (ACT2FN) are lower case ("${act.toLowerCase()}"), and it cannot build this one;`;
  if (!f.gated) return act.startsWith("gelu") || ["silu", "swish", "relu", "tanh"].includes(act) ? "gelu" : `hidden_act "${act}"`;
  if (act === "silu" || act === "swish" || act === "swiglu") return "swiglu";
  if (act.startsWith("gelu") || act === "geglu") return "geglu";
  return `hidden_act "${act}"`;
}

const REFUSED_ORDER = Object.keys(HF_REFUSED);
const rank = (k: string) => (REFUSED_ORDER.includes(k) ? REFUSED_ORDER.indexOf(k) : REFUSED_ORDER.length);

/** What the file's structure says it is, told with an unknown model_type (these keys are refused
 *  by name too: hf-keys.ts). */
const STRUCTURAL: ReadonlyArray<readonly [string, string]> = [
  ["is_encoder_decoder", "an encoder-decoder model (is_encoder_decoder)"],
  ["text_config", "a multimodal model (its text model under text_config: pass that model's own config.json)"],
  ["vision_config", "a model with a vision encoder (vision_config)"],
  ["audio_config", "a model with an audio encoder (audio_config)"],
];
function structureOf(raw: Obj): string | undefined {
  return STRUCTURAL.find(([k]) => Object.hasOwn(raw, k) && raw[k] !== null && raw[k] !== false)?.[1];
}

/** Window defaults that decide which layers attend over a window (hf-attention.ts): Qwen's
 *  use_sliding_window False turning a stated window off, Gemma 3's sliding_window_pattern 6. */
function windowDefaults(c: HfConfig, f: HfFamily): string[] {
  const window = (c.sliding_window ?? undefined) !== undefined;
  if (f.windowLayers === "flag" && window && c.use_sliding_window === undefined) return ["use_sliding_window false"];
  if (f.windowLayers === "pattern" && window && c.layer_types === undefined && c.sliding_window_pattern === undefined) return ["sliding_window_pattern 6"];
  return [];
}

// Mixtral and OLMoE give their experts intermediate_size (hf-moe.ts).
const EXPERTS_OF_INTERMEDIATE = ["mixtral", "olmoe"];

export function parseHfConfig(raw: unknown, origin: string, fallbackName: string): Parsed<ModelSpec> {
  if (!isObj(raw)) return { ok: false, message: `${origin}: a config.json is a JSON object` };
  const mixed = mixedFormats(raw, HF_MARKERS, origin);
  if (mixed !== undefined) return { ok: false, message: mixed };
  // The family first (hf-families.ts): a model_type paraplan does not read is refused as such,
  // not by whichever of its keys comes first; a file without one is not guessed (GPT-2's names are
  // CTRL's and GPT-J's too: CTRL's dff would be ignored and its MLP taken as 4h).
  const fam = familyOf(raw, origin, structureOf(raw));
  if (!fam.ok) return fam;
  const { type } = fam.value;
  // (GPT-2's names are aliases in GPT2Config and, n_layer and n_head, BloomConfig only (hf-alibi.ts
  // fromBloom reads its own): LlamaConfig(n_layer=40) keeps num_hidden_layers 32 and n_layer as an
  // unread attribute, so elsewhere they are keys the family does not read, refused below rather
  // than planned as 40 layers; QA)
  const gpt2 = type === "gpt2" || type === "bloom" ? fromGpt2(raw, origin) : { ok: true as const, value: raw };
  if (!gpt2.ok) return gpt2;
  const v5 = fromRopeParameters(gpt2.value, origin);
  if (!v5.ok) return v5;
  // MPT and BLOOM keep their own key names (hf-alibi.ts).
  const own = v5.value.model_type === "mpt" ? fromMpt(v5.value, origin) : v5.value.model_type === "bloom" ? fromBloom(v5.value, origin) : undefined;
  if (own && !own.ok) return own;
  const named = own ? own.value.config : v5.value;
  const facts: AlibiFamilyFacts | undefined = own?.value.facts;
  // Keys refused by name first (in HF_REFUSED's order: Mixtral names num_local_experts), then
  // unknown architectural-looking ones; then a key another family reads but this one does not.
  const refusals = Object.entries(named)
    .map(([k, v]) => ({ k, verdict: classifyHfKey(k, v) }))
    .filter((x) => x.verdict.kind === "refused")
    .sort((a, b) => rank(a.k) - rank(b.k));
  const first = refusals[0];
  if (first && first.verdict.kind === "refused") return { ok: false, message: `${origin}: "${first.k}": ${first.verdict.reason}` };
  const family = facts?.gated ? { ...fam.value.family, gated: true } : fam.value.family;
  const foreign = checkFamilyKeys(named, HF_MODELLED, type, family, origin);
  if (!foreign.ok) return foreign;
  const mla = type.startsWith("deepseek") ? fromMlaSaved(named, family.moeDefaults ?? {}, origin) : undefined;
  if (mla && !mla.ok) return mla;
  const names = { expertsKey: family.experts, expertsOfIntermediate: EXPERTS_OF_INTERMEDIATE.includes(type), noHeadDim: type === "gpt2" || type === "mpt" || type === "bloom" };
  const said = <T>(p: Parsed<T>): Parsed<T> => (p.ok ? p : { ok: false, message: inUserNames(p.message, raw, names) });
  const defaulted = withDefaults(mla?.value ?? named, type, family, origin);
  if (!defaulted.ok) return said(defaulted);
  const mapped = defaulted.value.config;
  const r = hfSchema().safeParse(mapped);
  if (!r.success) return said({ ok: false, message: `${origin}: ${firstIssue(r.error, mapped)}` });
  const c = r.data;
  const types = checkLayerTypes(c, family, origin);
  if (!types.ok) return types;
  const mlp = mlpOf(c, family);
  if (mlp !== "gelu" && mlp !== "swiglu" && mlp !== "geglu")
    return { ok: false, message: `${origin}: ${mlp.endsWith(";") ? mlp : `${mlp}:`} paraplan models GELU, SiLU-gated (SwiGLU) and GELU-gated (GeGLU) MLPs` };
  // Rotary families are those whose config reads rope_theta (hf-families.ts): all but GPT-2 and
  // the ALiBi families, whose positions hf-alibi.ts decides.
  const rope = family.reads.has("rope_theta");
  const positional = facts?.positional ?? (rope ? "rope" : "learned");
  if (rope && (c.attention_bias === true || c.mlp_bias === true))
    return { ok: false, message: `${origin}: "${c.attention_bias ? "attention_bias" : "mlp_bias"}": true: biases in a rotary (Llama-style) model are not modelled` };
  const window = windowOf(c, family, origin);
  if (!window.ok) return window;
  const scaling = ropeScalingOf(c, origin);
  if (!scaling.ok) return scaling;
  const experts = hfExperts(mapped, origin, {
    modelType: type,
    ...(family.experts ? { expertsKey: family.experts } : {}),
    ...(family.moeDefaults ? { defaults: family.moeDefaults } : {}),
    ...(family.moeRequired ? { required: family.moeRequired } : {}),
  });
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
      positional,
      tiedEmbeddings: c.tie_word_embeddings ?? family.tied,
      dropout,
      ...window.value,
      ...(rope && c.rope_theta !== undefined ? { ropeTheta: c.rope_theta } : {}),
      ...(scaling.value && scaling.value.type === "llama3" ? { ropeScaling: scaling.value } : {}),
      ...(eps !== undefined ? { normEps: eps } : {}),
      ...(x.moe ? { moe: x.moe } : {}),
      ...(x.mla ? { mla: x.mla } : {}),
      ...(x.mtpLayers ? { mtpLayers: x.mtpLayers } : {}),
      ...(family.qkvBias ? { qkvBias: true } : {}),
      ...(family.qkNorm ? { qkNorm: family.qkNorm } : {}),
      ...(family.norms ? { norms: family.norms } : {}),
    },
    origin,
  );
  if (!parsed.ok) return said(parsed);
  const why = c.max_position_embeddings > HF_DEFAULT_SEQ_CAP ? `min(max_position_embeddings ${c.max_position_embeddings}, ${HF_DEFAULT_SEQ_CAP})` : "max_position_embeddings";
  // (BLOOM states no length: hf-alibi.ts says where its 2048 comes from)
  const seqFrom = facts?.seqFrom ?? `sequence ${seqLen} = ${why}`;
  // A learned position table has max_position_embeddings rows (GPT-2's n_positions = 1024): its
  // parameters whatever the sequence planned, and the longest one it trains (plan-request.ts).
  const learned = positional === "learned";
  if (learned && c.max_position_embeddings > MODEL_BOUNDS.seqLen)
    return { ok: false, message: `${origin}: "max_position_embeddings" ${c.max_position_embeddings} rows of learned positions is more than ${MODEL_BOUNDS.seqLen.toLocaleString("en-US")}` };
  const table = learned ? { positionTable: c.max_position_embeddings } : {};
  const assumed = [...defaulted.value.assumed, ...windowDefaults(c, family), ...x.assumed];
  const defaults = assumed.length === 0 ? {} : { defaultsAssumed: `${assumed.join(", ")}: ${origin} leaves ${assumed.length === 1 ? "it" : "them"} to ${family.config}'s defaults` };
  const unexported = scaling.value && scaling.value.type !== "llama3" ? { ropeScalingNotExported: scaling.value.type } : {};
  return { ok: true, value: { ...parsed.value, ...table, ...unexported, ...defaults, defaultSeqLenAssumed: `${seqFrom} of ${origin} (--seq to change)` } };
}
