// A HuggingFace config's attention facts beyond its widths: which layers attend over a sliding
// window (layer_types, or the family's own rule when it is absent) and the rotary scaling.
import type { ModelSpec } from "../types.js";
import type { HfFamily } from "./hf-families.js";
import type { Parsed } from "./result.js";

/** The keys of a config.json this file reads (hf-config.ts's schema has checked their types). */
export interface HfAttentionKeys {
  model_type?: string | undefined;
  num_hidden_layers: number;
  sliding_window?: number | null | undefined;
  use_sliding_window?: boolean | undefined;
  layer_types?: string[] | undefined;
  sliding_window_pattern?: number | undefined;
  _sliding_window_pattern?: number | undefined;
  rope_scaling?: Record<string, unknown> | null | undefined;
}

const LAYER_TYPES = ["full_attention", "sliding_attention"];

/** The window is in force: Qwen's classes keep sliding_window only when use_sliding_window is
 *  True (its default False: Qwen2Config, Qwen2MoeConfig, Qwen3Config, Qwen3MoeConfig set
 *  sliding_window to None otherwise); every other family that reads sliding_window when it is not
 *  None (use_sliding_window false there is refused by hf-families.ts: those classes do not read
 *  it); never in a family without windows (Llama, Gemma, DeepSeek, OLMo, GPT-2). */
const windowOn = (c: HfAttentionKeys, f: HfFamily) =>
  f.reads.has("sliding_window") && (c.sliding_window ?? undefined) !== undefined && (f.windowLayers !== "flag" || c.use_sliding_window === true);

/** Gemma 3's global layers: every pattern-th (layer i is global when (i + 1) % pattern == 0). */
const gemma3Types = (pattern: number, layers: number) =>
  Array.from({ length: layers }, (_, i) => ((i + 1) % pattern === 0 ? "full_attention" : "sliding_attention"));

/** Gemma3TextConfig (transformers ≥ 4.53, configuration_gemma3.py) saves `_sliding_window_pattern`
 *  beside layer_types: it builds layer_types from the sliding_window_pattern keyword (default 6)
 *  when absent, and only keeps the underscored key as an attribute. It states nothing when it
 *  agrees with the layers built; one that contradicts them is refused rather than read one way. */
function checkSavedPattern(c: HfAttentionKeys, origin: string): Parsed<void> {
  const p = c._sliding_window_pattern;
  if (p === undefined) return { ok: true, value: undefined };
  if (c.layer_types === undefined) {
    const built = c.sliding_window_pattern ?? 6;
    if (p === built) return { ok: true, value: undefined };
    const said = c.sliding_window_pattern === undefined ? "Gemma3TextConfig's default sliding_window_pattern 6" : `"sliding_window_pattern" ${built}`;
    return { ok: false, message: `${origin}: "_sliding_window_pattern" ${p} and ${said} disagree: transformers builds the layers from sliding_window_pattern; remove _sliding_window_pattern or state "layer_types"` };
  }
  const want = gemma3Types(p, c.num_hidden_layers);
  const at = c.layer_types.findIndex((t, i) => t !== want[i]);
  if (at < 0) return { ok: true, value: undefined };
  return { ok: false, message: `${origin}: "_sliding_window_pattern" ${p} and "layer_types"[${at}] ${JSON.stringify(c.layer_types[at])} disagree (pattern ${p} makes layer ${at} ${want[at]}): transformers builds the layers layer_types names; remove _sliding_window_pattern or correct it` };
}

/** layer_types names every layer's attention: one entry per layer, each one paraplan models. */
export function checkLayerTypes(c: HfAttentionKeys, f: HfFamily, origin: string): Parsed<void> {
  const t = c.layer_types;
  if (t === undefined) return checkSavedPattern(c, origin);
  const odd = t.findIndex((x) => !LAYER_TYPES.includes(x));
  if (odd >= 0)
    return { ok: false, message: `${origin}: "layer_types"[${odd}] ${JSON.stringify(t[odd])}: paraplan models "full_attention" and "sliding_attention" layers only` };
  if (t.length !== c.num_hidden_layers)
    return { ok: false, message: `${origin}: "layer_types" has ${t.length} entries for num_hidden_layers ${c.num_hidden_layers}: one per layer` };
  const local = t.filter((x) => x === "sliding_attention").length;
  const off = f.windowLayers === "flag" && c.use_sliding_window !== true;
  if (local > 0 && (c.sliding_window ?? undefined) === undefined && !off)
    return { ok: false, message: `${origin}: "layer_types" lists ${local} "sliding_attention" layers without "sliding_window": the window is not stated` };
  return checkSavedPattern(c, origin);
}

/** Layers with a sliding window: layer_types when given, else the family's rule (hf-families.ts):
 *  Mistral, Mixtral and Phi-3 window every layer (their attention passes config.sliding_window;
 *  Jiang et al. 2023); Gemma 2 alternates, even layers local (Gemma Team 2024 §2); Gemma 3 makes
 *  every sliding_window_pattern-th layer global (Gemma3TextConfig, default 6: 5 local to 1
 *  global: Gemma Team 2025, the Gemma 3 technical report); Qwen's layer pattern without layer_types differs between
 *  transformers versions, so it is refused. */
export function windowOf(c: HfAttentionKeys, f: HfFamily, origin: string): Parsed<{ slidingWindow?: number; slidingWindowLayers?: number }> {
  if (!windowOn(c, f)) return { ok: true, value: {} };
  const w = c.sliding_window!;
  const layers = c.num_hidden_layers;
  if (c.layer_types !== undefined) {
    const local = c.layer_types.filter((t) => t === "sliding_attention").length;
    return { ok: true, value: { slidingWindow: w, slidingWindowLayers: local } };
  }
  if (f.windowLayers === "all") return { ok: true, value: { slidingWindow: w, slidingWindowLayers: layers } };
  if (f.windowLayers === "alternate") return { ok: true, value: { slidingWindow: w, slidingWindowLayers: Math.ceil(layers / 2) } };
  if (f.windowLayers === "pattern") {
    const pattern = c.sliding_window_pattern ?? 6;
    return { ok: true, value: { slidingWindow: w, slidingWindowLayers: layers - Math.floor(layers / pattern) } };
  }
  return { ok: false, message: `${origin}: "sliding_window" ${w} without "layer_types": which layers use the window is not stated for model_type "${c.model_type ?? "(none)"}"; add "layer_types" or remove the key if no layer uses it` };
}

/** DeepSeek-V2/V3 configs saved by transformers (DeepseekV3Config.__init__ in 4.5x:
 *  self.qk_head_dim = qk_nope_head_dim + qk_rope_head_dim, self.head_dim = qk_rope_head_dim,
 *  rope_interleave default True; DeepseekV2Config sets head_dim = qk_rope_head_dim likewise): the
 *  class's own derived widths and its rotary layout (which dimensions pair up: no work). Accepted
 *  where they agree with the latent-attention widths (the class's defaults where those are absent:
 *  `defaults`) and removed, so head_dim is not read as the heads' width; a value that disagrees
 *  would build another rotary width (the rotary embedding reads config.head_dim) and is refused. */
export function fromMlaSaved(c: Readonly<Record<string, unknown>>, defaults: Readonly<Record<string, number>>, origin: string): Parsed<Record<string, unknown>> {
  const width = (k: string) => (typeof c[k] === "number" ? (c[k] as number) : defaults[k]);
  const rope = width("qk_rope_head_dim");
  const nope = width("qk_nope_head_dim");
  const said = (k: string) => `"${k}" ${c[k] !== undefined ? JSON.stringify(c[k]) : `${defaults[k]} (the class's default)`}`;
  const checks: ReadonlyArray<readonly [string, number | undefined, string]> = [
    ["head_dim", rope, `${said("qk_rope_head_dim")}: the config class sets head_dim to qk_rope_head_dim`],
    ["qk_head_dim", rope !== undefined && nope !== undefined ? rope + nope : undefined, `${said("qk_nope_head_dim")} + ${said("qk_rope_head_dim")}: the config class sets qk_head_dim to their sum`],
  ];
  for (const [k, want, why] of checks) {
    const v = c[k];
    if (v === undefined || v === null || v === want) continue;
    return { ok: false, message: `${origin}: "${k}" ${JSON.stringify(v)} is not ${why}; remove it or make it agree` };
  }
  if (c.rope_interleave !== undefined && c.rope_interleave !== null && typeof c.rope_interleave !== "boolean")
    return { ok: false, message: `${origin}: "rope_interleave" ${JSON.stringify(c.rope_interleave)}: true or false (DeepseekV3Config's rotary layout)` };
  const { head_dim: _h, qk_head_dim: _q, rope_interleave: _r, ...out } = c;
  return { ok: true, value: out };
}

/** Scalings that change the rotary frequencies (and YaRN's and LongRoPE's elementwise attention
 *  scale), not the work: modeling_rope_utils.py's ROPE_INIT_FUNCTIONS less "llama3", which
 *  paraplan carries; "su" is Phi-3's old name of longrope (Phi3Config). */
const FREQUENCY_ONLY = ["default", "linear", "dynamic", "yarn", "longrope", "su"];

/** The scaling: llama3's, which paraplan carries into exports; another frequency-only one by its
 *  type alone (no work: the plan's figures do not depend on it, but an export cannot write it). */
export type HfRopeScaling = NonNullable<ModelSpec["ropeScaling"]> | { type: string };

/** The keys a llama3 rope_scaling holds (modeling_rope_utils.py _validate_llama3_parameters). */
const LLAMA3_KEYS = ["rope_type", "type", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"];
const SNAKE: Record<string, string> = { factor: "factor", lowFreqFactor: "low_freq_factor", highFreqFactor: "high_freq_factor", originalMaxPositions: "original_max_position_embeddings" };

export function ropeScalingOf(c: HfAttentionKeys, origin: string): Parsed<HfRopeScaling | undefined> {
  const s = c.rope_scaling;
  if (s === null || s === undefined) return { ok: true, value: undefined };
  const type = s.rope_type ?? s.type;
  if (type === undefined || type === null)
    return { ok: false, message: `${origin}: "rope_scaling" has no "rope_type" (nor "type"): state which scaling (${[...FREQUENCY_ONLY.slice(0, 5), "llama3"].join(", ")}), or remove the key (null) for none` };
  // A factor transformers would refuse (rope_config_validation: linear, dynamic, yarn and llama3
  // need a float factor ≥ 1) is bad input, not frequencies paraplan need not price.
  const factor = s.factor;
  if (type !== "default" && factor !== undefined && factor !== null && (typeof factor !== "number" || !(factor >= 1)))
    return { ok: false, message: `${origin}: "rope_scaling" factor ${JSON.stringify(factor)}: must be a number of at least 1 (transformers' rope_config_validation)` };
  if (typeof type === "string" && FREQUENCY_ONLY.includes(type)) return { ok: true, value: type === "default" ? undefined : { type } };
  if (type !== "llama3")
    return { ok: false, message: `${origin}: "rope_scaling" of type ${JSON.stringify(type)}: paraplan reads ${[...FREQUENCY_ONLY.slice(0, 5), "llama3"].join(", ")} (rotary frequencies only, no work)` };
  // llama3's keys, exported as they are read: one more would be dropped from the export unsaid.
  const extra = Object.keys(s).filter((k) => !LLAMA3_KEYS.includes(k));
  if (extra.length > 0)
    return { ok: false, message: `${origin}: "rope_scaling" of type llama3 has "${extra[0]}", which paraplan does not carry (it reads ${LLAMA3_KEYS.join(", ")}); remove it` };
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : NaN);
  const v = { factor: num("factor"), lowFreqFactor: num("low_freq_factor"), highFreqFactor: num("high_freq_factor"), originalMaxPositions: num("original_max_position_embeddings") };
  const missing = Object.entries(v).filter(([, x]) => Number.isNaN(x));
  if (missing.length > 0)
    return { ok: false, message: `${origin}: "rope_scaling" of type llama3 needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings` };
  const bad = Object.entries(v).find(([, x]) => !Number.isFinite(x) || x <= 0);
  if (bad) return { ok: false, message: `${origin}: "rope_scaling" ${SNAKE[bad[0]]} ${bad[1]}: must be a positive number` };
  return { ok: true, value: { type: "llama3", ...v } };
}
