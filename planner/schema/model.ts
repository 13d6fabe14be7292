// Model files: paraplan's own format, or a HuggingFace config.json. Parsed JSON in, ModelSpec out.
import type { z } from "zod";
import type { ModelSpec } from "../types.js";
import { type Parsed, firstIssue } from "./result.js";
import { lazySchemas } from "./zod.js";

const schemas = lazySchemas((z) => {
  const count = z.number().int().positive();
  const modelFile = z
    .object({
      $schema: z.string().optional(),
      name: z.string().min(1),
      description: z.string().optional(),
      source: z.string().optional(),
      layers: count,
      hidden: count,
      heads: count,
      kvHeads: count.optional(),
      ffnHidden: count.optional(),
      vocab: count,
      seqLen: count,
      mlp: z.enum(["gelu", "swiglu"]).default("gelu"),
      positional: z.enum(["learned", "rope"]).default("learned"),
      tiedEmbeddings: z.boolean().optional(),
      dropout: z.boolean().optional(),
      globalBatch: count.optional(),
      gpus: count.optional(),
    })
    .strict();
  // HuggingFace transformers config.json: the keys read, others ignored.
  const hf = z.object({
    num_hidden_layers: count,
    hidden_size: count,
    num_attention_heads: count,
    num_key_value_heads: count.optional(),
    intermediate_size: count.optional(),
    vocab_size: count,
    max_position_embeddings: count,
    hidden_act: z.string().optional(),
    tie_word_embeddings: z.boolean().optional(),
    rope_theta: z.number().optional(),
    model_type: z.string().optional(),
    _name_or_path: z.string().optional(),
  });
  return { modelFile, hf };
});

/** paraplan's model file format. */
export const modelFileSchema = () => schemas().modelFile;

export type ModelFile = z.infer<ReturnType<typeof modelFileSchema>>;

/** Llama's SwiGLU width: 2/3 of 4h rounded up to a multiple of 256 (Touvron et al. 2023 §2.2;
 *  `multiple_of = 256` in Meta's reference code). GELU models use 4h (Vaswani et al. 2017). */
export function defaultFfnHidden(hidden: number, mlp: "gelu" | "swiglu"): number {
  if (mlp === "gelu") return 4 * hidden;
  return 256 * Math.ceil((2 * 4 * hidden) / 3 / 256);
}

function checkShape(spec: ModelSpec): string | null {
  if (spec.hidden % spec.heads !== 0) return `"hidden" (${spec.hidden}) must be a multiple of "heads" (${spec.heads})`;
  if (spec.heads % spec.kvHeads !== 0) return `"kvHeads" (${spec.kvHeads}) must divide "heads" (${spec.heads})`;
  return null;
}

export function parseModelFile(raw: unknown, origin: string): Parsed<ModelSpec> {
  const r = schemas().modelFile.safeParse(raw);
  if (!r.success) return { ok: false, message: `${origin}: ${firstIssue(r.error)}` };
  const f = r.data;
  const spec: ModelSpec = {
    name: f.name,
    layers: f.layers,
    hidden: f.hidden,
    heads: f.heads,
    kvHeads: f.kvHeads ?? f.heads,
    ffnHidden: f.ffnHidden ?? defaultFfnHidden(f.hidden, f.mlp),
    vocab: f.vocab,
    defaultSeqLen: f.seqLen,
    mlp: f.mlp,
    positional: f.positional,
    tiedEmbeddings: f.tiedEmbeddings ?? false,
    dropout: f.dropout ?? f.mlp === "gelu",
    ...(f.globalBatch !== undefined ? { globalBatch: f.globalBatch } : {}),
    ...(f.gpus !== undefined ? { gpus: f.gpus } : {}),
  };
  const shape = checkShape(spec);
  return shape ? { ok: false, message: `${origin}: ${shape}` } : { ok: true, value: spec };
}

/** A file is a HuggingFace config when it carries HF's key names. */
export function looksLikeHfConfig(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && ("num_hidden_layers" in raw || "hidden_size" in raw);
}

/** HuggingFace transformers config.json (PretrainedConfig): gated activations (silu/swish) mean a
 *  SwiGLU MLP as in LlamaMLP; rotary positions when rope_theta is set or the family is Llama-like;
 *  tie_word_embeddings defaults to true as in PretrainedConfig. */
export function parseHfConfig(raw: unknown, origin: string, fallbackName: string): Parsed<ModelSpec> {
  const r = schemas().hf.safeParse(raw);
  if (!r.success) return { ok: false, message: `${origin}: ${firstIssue(r.error)}` };
  const c = r.data;
  const act = (c.hidden_act ?? "gelu").toLowerCase();
  const mlp = act === "silu" || act === "swish" || act.includes("glu") ? "swiglu" : "gelu";
  const ropeFamilies = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo", "olmo2"];
  const rope = c.rope_theta !== undefined || ropeFamilies.includes(c.model_type ?? "");
  return parseModelFile(
    {
      name: c._name_or_path || c.model_type || fallbackName,
      layers: c.num_hidden_layers,
      hidden: c.hidden_size,
      heads: c.num_attention_heads,
      kvHeads: c.num_key_value_heads ?? c.num_attention_heads,
      ...(c.intermediate_size !== undefined ? { ffnHidden: c.intermediate_size } : {}),
      vocab: c.vocab_size,
      seqLen: c.max_position_embeddings,
      mlp,
      positional: rope ? "rope" : "learned",
      tiedEmbeddings: c.tie_word_embeddings ?? true,
      dropout: false,
    },
    origin,
  );
}
