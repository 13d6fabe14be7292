// What DeepSpeed ≤ 0.12.4 balances when Megatron-DeepSpeed of 2021–23 hands its GPTModelPipe to
// PipelineModule (megatron/model/gpt_model.py @ bigscience-workshop/Megatron-DeepSpeed 8387ae17;
// deepspeedai/Megatron-DeepSpeed kept the same specs from 8a132ced, 2021-06, to 53db2b14, 2023-07):
// L + 7 specs under 16-bit training,
//   _to_float16 (a function) · EmbeddingPipe · a transpose (a function) · L ParallelTransformerLayerPipe ·
//   undo (a function) · the final LayerNorm · the tied EmbeddingPipe again (the logits; untied,
//   deepspeedai's LMHeadPipe) · float16_to_fp32 (a function),
// weighed by the partition_method (deepspeed/runtime/pipe/module.py _partition_layers):
// "type:REGEX" gives 1 to each spec whose class name matches and 0 to the rest; "parameters"
// gives each the trainable parameters it builds on one tensor-parallel rank (_count_layer_params).
// deepspeed-balanced.ts then balances the weights over the stages.
import type { ModelSpec } from "../types.js";
import { deepspeedBalancedBounds } from "./deepspeed-balanced.js";
import { partitionBalanced, partitionUniform } from "./deepspeed-016-split.js";

/** Which DeepSpeed's partition_balanced cuts the specs (EngineSupports.stageSplit's two DeepSpeed
 *  rules): "first-heavy" the ≤ 0.12.4 bottleneck search (deepspeed-balanced.ts), "min-spread" the
 *  smallest-spread dynamic programme of 0.12.5 on (deepspeed-016-split.ts). */
export type DeepSpeedBalance = "first-heavy" | "min-spread";

/** Stage boundaries under the rule; null where ≤ 0.12.4's probe fails (DeepSpeed asserts) or where
 *  0.12.5's programme is too large to work out (PARTITION_MAX_STEPS). */
function balancedBounds(weights: readonly number[], stages: number, balance: DeepSpeedBalance): number[] | null {
  return balance === "first-heavy" ? deepspeedBalancedBounds(weights, stages) : partitionBalanced(weights, stages);
}

export interface PipeWeighing {
  /** Tensor-parallel degree: the column- and row-parallel weights are split t ways. */
  tp: number;
  /** Megatron's padded vocabulary (tokenizer.py _vocab_size_with_padding): rows of the word
   *  embedding, split t ways (VocabParallelEmbedding). */
  paddedVocab: number;
  /** Rows of the learned position table (--max-position-embeddings); 0 for ALiBi and rotary. */
  positionRows: number;
  /** --embed-layernorm: a LayerNorm inside EmbeddingPipe, built only on first-stage ranks. */
  embedNorm: boolean;
  /** Tied embeddings (bigscience's GPTModelPipe always ties); untied, the last weighted spec is
   *  the Megatron-DeepSpeed LMHeadPipe, a column-parallel vocabulary projection without bias. */
  tied: boolean;
}

/** Parameters of one ParallelTransformerLayer on one rank (megatron/model/transformer.py):
 *  two LayerNorms (2h each); query_key_value, column-parallel, weight and bias split t ways;
 *  dense, row-parallel, weight split and bias whole (h); dense_h_to_4h, column-parallel, twice
 *  the FFN width under a GLU (--glu-activation); dense_4h_to_h, row-parallel. */
export function pipeLayerParams(m: ModelSpec, tp: number): number {
  const h = m.hidden;
  const hd = m.headDim ?? h / m.heads;
  const qkv = (m.heads + 2 * m.kvHeads) * hd;
  const up = m.mlp === "gelu" ? m.ffnHidden : 2 * m.ffnHidden;
  const split = qkv * h + qkv + m.heads * hd * h + up * h + up + m.ffnHidden * h;
  return split / tp + 2 * h + 2 * 2 * h;
}

/** EmbeddingPipe on one rank: the word embedding's share, the position table (not split), the
 *  embedding LayerNorm where this rank builds it. */
function embeddingParams(m: ModelSpec, w: PipeWeighing, firstStage: boolean): number {
  return (w.paddedVocab / w.tp) * m.hidden + w.positionRows * m.hidden + (w.embedNorm && firstStage ? 2 * m.hidden : 0);
}

/** The L + 7 item weights as a rank of the first stage (firstStage) or of another counts them. */
export function pipeItemWeights(m: ModelSpec, w: PipeWeighing, firstStage: boolean): number[] {
  const e = embeddingParams(m, w, firstStage);
  const head = w.tied ? e : (w.paddedVocab / w.tp) * m.hidden;
  const layer = pipeLayerParams(m, w.tp);
  return [0, e, 0, ...Array.from({ length: m.layers }, () => layer), 0, 2 * m.hidden, head, 0];
}

/** Transformer layers per stage from stage boundaries over the L + 7 specs (the layers are the
 *  specs 3 … L + 2), or null where partition_balanced found none (DeepSpeed asserts). */
function layersPerStage(bounds: readonly number[] | null, layers: number, stages: number): number[] | null {
  if (bounds === null) return null;
  return Array.from({ length: stages }, (_, k) => Math.max(0, Math.min(bounds[k + 1]!, 3 + layers) - Math.max(bounds[k]!, 3)));
}

/** Layers per stage under "type:transformer" (ends 0: GPTModelPipe's default) or
 *  "type:transformer|embedding" (bigscience's BLOOM: ends 2 with tied embeddings, 1 untied, where
 *  the output layer is an LMHeadPipe), by DeepSpeed ≤ 0.12.4's rule unless `balance` says 0.12.5's.
 *  Stages may come out empty: DeepSpeed's pipeline then does not run (GPTModelPipe's caveat), which
 *  the callers refuse. Null only under "min-spread", where the split is too large to work out. */
export function typeSplit(layers: number, stages: number, ends: 0 | 1 | 2, balance: DeepSpeedBalance = "first-heavy"): number[] | null {
  const weights = [0, ends > 0 ? 1 : 0, 0, ...Array.from({ length: layers }, () => 1), 0, 0, ends > 1 ? 1 : 0, 0];
  // Unit weights: the bottleneck search ends on a whole number of units, which the probe packs.
  return layersPerStage(balancedBounds(weights, stages, balance), layers, stages);
}

/** bigscience's "uniform" under DeepSpeed 0.10.1 and later (deepspeedai/DeepSpeed#4053):
 *  partition_uniform's ⌊n/p⌋ items a stage, the first n mod p one more, over the L + 7 specs. */
export function uniformSplit016(layers: number, stages: number): number[] {
  return layersPerStage(partitionUniform(layers + 7, stages), layers, stages)!;
}

/** Transformer layers per stage under `partition_method parameters`, or a reason it has none:
 *  "disagree" where the first stage's ranks (which count --embed-layernorm) and the others
 *  balance differently — DeepSpeed builds a different pipeline on each, which does not run. Null
 *  as balancedBounds. */
export function parametersSplit(m: ModelSpec, w: PipeWeighing, stages: number, balance: DeepSpeedBalance = "first-heavy"): number[] | "disagree" | null {
  const split = (firstStage: boolean) => layersPerStage(balancedBounds(pipeItemWeights(m, w, firstStage), stages, balance), m.layers, stages);
  const first = split(true);
  const other = w.embedNorm ? split(false) : first;
  if (first === null || other === null) return null;
  return first.every((n, k) => n === other[k]) ? first : "disagree";
}
