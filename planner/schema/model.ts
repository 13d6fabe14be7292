// Model files: paraplan's own format (a HuggingFace config.json is read by hf-config.ts into the
// same fields). Parsed JSON in, ModelSpec out.
import type { z } from "zod";
import { lazySchemas } from "./zod.js";
import type { Mlp, ModelSpec } from "../types.js";
import { type BoundedKey, MODEL_BOUNDS, boundedCount } from "./bounds.js";
import { type Parsed, firstIssue } from "./result.js";
import { limitingGroups, moeLayerCount, routingGroupsProblem } from "../moe.js";

export { MODEL_BOUNDS, boundedCount };

// The schemas, built with zod on first use (./zod.ts: zod loads only when a file is validated).
const schemas = lazySchemas((z) => {
  const count = (key: BoundedKey) => boundedCount(z, MODEL_BOUNDS[key]);

  const ropeScalingSchema = z
    .object({
      type: z.literal("llama3"),
      factor: z.number().positive(),
      lowFreqFactor: z.number().positive(),
      highFreqFactor: z.number().positive(),
      originalMaxPositions: count("seqLen"),
    })
    .strict();

  // Mixture-of-experts layers (types.ts MoeSpec) and DeepSeek's latent attention (MlaSpec).
  const moeSchema = z
    .object({
      experts: count("experts"),
      topK: count("topK"),
      sharedExperts: z.number().int().min(0).max(MODEL_BOUNDS.sharedExperts).optional(),
      expertFfnHidden: count("expertFfnHidden"),
      sharedFfnHidden: count("expertFfnHidden").optional(),
      denseLayers: z.number().int().min(0).max(MODEL_BOUNDS.layers).optional(),
      layerFreq: count("layerFreq").optional(),
      router: z.enum(["softmax", "sigmoid"]).optional(),
      routingGroups: count("experts").optional(),
      groupsPerToken: count("experts").optional(),
    })
    .strict();
  const mlaSchema = z
    .object({
      qLoraRank: z.number().int().min(0).max(MODEL_BOUNDS.loraRank).optional(),
      kvLoraRank: count("loraRank"),
      qkNopeHeadDim: count("mlaHeadDim"),
      qkRopeHeadDim: count("mlaHeadDim"),
      vHeadDim: count("mlaHeadDim"),
    })
    .strict();

  const modelFile = z
    .object({
      $schema: z.string().optional(),
      name: z.string().min(1),
      description: z.string().optional(),
      source: z.string().optional(),
      layers: count("layers"),
      hidden: count("hidden"),
      heads: count("heads"),
      kvHeads: count("kvHeads").optional(),
      headDim: count("headDim").optional(),
      ffnHidden: count("ffnHidden").optional(),
      vocab: count("vocab"),
      seqLen: count("seqLen"),
      mlp: z.enum(["gelu", "swiglu", "geglu"]).default("gelu"),
      positional: z.enum(["learned", "rope", "alibi"]).default("learned"),
      tiedEmbeddings: z.boolean().optional(),
      dropout: z.boolean().optional(),
      slidingWindow: count("slidingWindow").optional(),
      slidingWindowLayers: z.number().int().min(0).max(MODEL_BOUNDS.layers).optional(),
      ropeTheta: z.number().positive().max(1e12).optional(),
      ropeScaling: ropeScalingSchema.optional(),
      normEps: z.number().positive().lt(1).optional(),
      moe: moeSchema.optional(),
      mla: mlaSchema.optional(),
      mtpLayers: z.number().int().min(0).max(MODEL_BOUNDS.mtpLayers).optional(),
      qkvBias: z.boolean().optional(),
      qkNorm: z.enum(["head", "full"]).optional(),
      norms: z.enum(["sandwich", "nonparametric"]).optional(),
      globalBatch: count("globalBatch").optional(),
      gpus: count("gpus").optional(),
    })
    .strict();
  return { modelFile };
});

/** paraplan's model file format. */
export const modelFileSchema = () => schemas().modelFile;

export type ModelFile = z.infer<ReturnType<typeof modelFileSchema>>;

/** RoPE's base when a rotary model file states none: 10,000 (Su et al. 2021, RoFormer §3.2.2;
 *  also HuggingFace LlamaConfig's rope_theta default). */
export const DEFAULT_ROPE_THETA = 10_000;
/** Normalisation epsilon when none is stated: 1e-5 (PyTorch LayerNorm's and Megatron-LM's
 *  --norm-epsilon default; Llama 2 and 3 use it too). */
export const DEFAULT_NORM_EPS = 1e-5;

/** Llama's SwiGLU width: 2/3 of 4h rounded up to a multiple of 256 (Touvron et al. 2023 §2.2;
 *  `multiple_of = 256` in Meta's reference code), used for any gated MLP. GELU models use 4h
 *  (Vaswani et al. 2017). */
export function defaultFfnHidden(hidden: number, mlp: Mlp): number {
  if (mlp === "gelu") return 4 * hidden;
  return 256 * Math.ceil((2 * 4 * hidden) / 3 / 256);
}

function checkShape(spec: ModelSpec, f: ModelFile): string | null {
  if (spec.headDim === undefined && spec.hidden % spec.heads !== 0)
    return `"hidden" (${spec.hidden}) must be a multiple of "heads" (${spec.heads}), or give "headDim"`;
  if (spec.heads % spec.kvHeads !== 0) return `"kvHeads" (${spec.kvHeads}) must divide "heads" (${spec.heads})`;
  if (spec.positional === "rope" && (spec.headDim ?? spec.hidden / spec.heads) % 2 !== 0)
    return spec.headDim !== undefined
      ? `rotary positions need an even head dimension, and "headDim" is ${spec.headDim}`
      : `rotary positions need an even head dimension, and "hidden" / "heads" is ${spec.hidden} / ${spec.heads} = ${spec.hidden / spec.heads}`;
  if (spec.positional !== "rope" && (f.ropeTheta !== undefined || f.ropeScaling !== undefined))
    return `"ropeTheta" and "ropeScaling" need "positional": "rope"`;
  if (f.slidingWindowLayers !== undefined && f.slidingWindow === undefined) return `"slidingWindowLayers" needs "slidingWindow"`;
  if (f.slidingWindowLayers !== undefined && f.slidingWindowLayers > spec.layers)
    return `"slidingWindowLayers" (${f.slidingWindowLayers}) must be at most "layers" (${spec.layers})`;
  // (the file's grouping as written: the spec keeps it only where it limits)
  const grouping = f.moe ? routingGroupsProblem({ experts: f.moe.experts, topK: f.moe.topK, routingGroups: f.moe.routingGroups, groupsPerToken: f.moe.groupsPerToken }) : null;
  return grouping ?? checkExperts(spec);
}

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st, 111th… */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** The mixture-of-experts and latent-attention fields agree with the rest of the model. */
function checkExperts(spec: ModelSpec): string | null {
  const e = spec.moe;
  if (e) {
    if (e.topK > e.experts) return `"moe.topK" (${e.topK}) must be at most "moe.experts" (${e.experts})`;
    if (e.denseLayers >= spec.layers) return `"moe.denseLayers" (${e.denseLayers}) must be below "layers" (${spec.layers}): no layer would be MoE`;
    // Layer i is MoE when i ≥ denseLayers and layerFreq divides i + 1 (moe.ts isMoeLayer): a
    // frequency past the last layer left a "mixture of experts" of dense layers, priced as such.
    if (moeLayerCount(spec) === 0)
      return `"moe.layerFreq" (${e.layerFreq}) leaves no layer of the ${spec.layers}${e.denseLayers > 0 ? ` after "moe.denseLayers" (${e.denseLayers})` : ""} a mixture of experts: every ${ordinal(e.layerFreq)} layer is one`;
    if (e.sharedFfnHidden !== undefined && e.sharedExperts === 0) return `"moe.sharedFfnHidden" needs "moe.sharedExperts"`;
  }
  const a = spec.mla;
  if (a) {
    if (spec.kvHeads !== spec.heads) return `"mla": latent attention has no grouped key/value heads ("kvHeads" must equal "heads")`;
    if (spec.positional === "rope" && a.qkRopeHeadDim % 2 !== 0) return `"mla.qkRopeHeadDim" must be even for rotary positions`;
  }
  return null;
}

/** The architecture fields the README lists as a model file's that `raw` leaves to a default, with
 *  the value taken (GPT-3's conventions, Brown et al. 2020 §2.1): the numbers follow them, so a
 *  user's file says so on the plan's `assumed:` line (src/load.ts). Undefined when it states all. */
export function modelDefaults(raw: unknown, spec: ModelSpec): string | undefined {
  const given = (k: string) => typeof raw === "object" && raw !== null && Object.hasOwn(raw, k);
  const defaults = [
    given("mlp") ? "" : `mlp ${spec.mlp}`,
    given("positional") ? "" : `positional ${spec.positional}`,
    given("kvHeads") ? "" : `kvHeads ${spec.kvHeads} (= heads)`,
    given("ffnHidden") ? "" : `ffnHidden ${spec.ffnHidden}`,
    given("tiedEmbeddings") ? "" : "tiedEmbeddings false",
  ].filter((d) => d !== "");
  if (defaults.length === 0) return undefined;
  return `${defaults.join(", ")}: the model file leaves ${defaults.length === 1 ? "it" : "them"} to paraplan's defaults`;
}

export function parseModelFile(raw: unknown, origin: string): Parsed<ModelSpec> {
  const r = modelFileSchema().safeParse(raw);
  if (!r.success) return { ok: false, message: `${origin}: ${firstIssue(r.error, raw)}` };
  const f = r.data;
  const rope = f.positional === "rope";
  const spec: ModelSpec = {
    name: f.name,
    layers: f.layers,
    hidden: f.hidden,
    heads: f.heads,
    kvHeads: f.kvHeads ?? f.heads,
    // Stated only when it differs from hidden/heads, so that equal models compare equal.
    ...(f.headDim !== undefined && f.headDim * f.heads !== f.hidden ? { headDim: f.headDim } : {}),
    ffnHidden: f.ffnHidden ?? defaultFfnHidden(f.hidden, f.mlp),
    vocab: f.vocab,
    defaultSeqLen: f.seqLen,
    mlp: f.mlp,
    positional: f.positional,
    tiedEmbeddings: f.tiedEmbeddings ?? false,
    dropout: f.dropout ?? f.mlp === "gelu",
    ...(f.slidingWindow !== undefined ? { slidingWindow: f.slidingWindow, slidingWindowLayers: f.slidingWindowLayers ?? f.layers } : {}),
    ...(rope ? { ropeTheta: f.ropeTheta ?? DEFAULT_ROPE_THETA } : {}),
    ...(f.ropeScaling !== undefined ? { ropeScaling: f.ropeScaling } : {}),
    normEps: f.normEps ?? DEFAULT_NORM_EPS,
    ...(f.moe !== undefined
      ? {
          moe: {
            experts: f.moe.experts,
            topK: f.moe.topK,
            sharedExperts: f.moe.sharedExperts ?? 0,
            expertFfnHidden: f.moe.expertFfnHidden,
            ...(f.moe.sharedFfnHidden !== undefined && f.moe.sharedFfnHidden !== f.moe.expertFfnHidden ? { sharedFfnHidden: f.moe.sharedFfnHidden } : {}),
            denseLayers: f.moe.denseLayers ?? 0,
            layerFreq: f.moe.layerFreq ?? 1,
            router: f.moe.router ?? "softmax",
            ...limitingGroups(f.moe.routingGroups, f.moe.groupsPerToken),
          },
        }
      : {}),
    ...(f.mla !== undefined ? { mla: { qLoraRank: f.mla.qLoraRank ?? 0, kvLoraRank: f.mla.kvLoraRank, qkNopeHeadDim: f.mla.qkNopeHeadDim, qkRopeHeadDim: f.mla.qkRopeHeadDim, vHeadDim: f.mla.vHeadDim } } : {}),
    ...(f.mtpLayers ? { mtpLayers: f.mtpLayers } : {}),
    // Stated only where they add something: a GPT-style model has every bias already.
    ...(f.qkvBias && f.positional === "rope" ? { qkvBias: true } : {}),
    ...(f.qkNorm !== undefined ? { qkNorm: f.qkNorm } : {}),
    ...(f.norms !== undefined ? { norms: f.norms } : {}),
    ...(f.globalBatch !== undefined ? { globalBatch: f.globalBatch } : {}),
    ...(f.gpus !== undefined ? { gpus: f.gpus } : {}),
  };
  const shape = checkShape(spec, f);
  return shape ? { ok: false, message: `${origin}: ${shape}` } : { ok: true, value: spec };
}

export { looksLikeHfConfig, parseHfConfig, unrecognisedModelFile } from "./hf-config.js";
