// What a context-parallel layer keeps for backward beyond the per-token tensors of its engine's
// list (cost/activations.ts), where the engine's all-gather attention keeps more than the rank's
// own K/V chunk (Engine.contextParallel.allgatherKeeps). Megatron-Core keeps only that chunk and
// gathers again in backward (cost/context.ts cpCalls), so nothing is added for it.
// paraplan's worker (executor/worker/context.py) attends each of the rank's query chunks to the
// keys [0, chunk end) of the gathered, sequence-ordered K and V under a lower-right causal bias
// (no mask tensor on CUDA), so per layer and micro-batch its attention keeps:
//   "gathered-kv"    the whole sequence's K and V, 2·2·s·b·h_kv/t bytes at 16 bits (each chunk's
//                    keys are views of them), at the key/value heads (enable_gqa): in place of
//                    the rank's own K and V that the tensor list counts per token (repeated to
//                    the query heads in the eager list, where GQA was repeated without cp);
//   "chunk-outputs"  each chunk's output, saved by its attention kernel, beside their
//                    concatenation (the output projection's input, which the list counts): one
//                    more copy of the rank's attention output, 2·(s/c)·b·h_q/t, where the rank
//                    holds more than one chunk (zig-zag).
// The full gathered K/V is the rank's share times c: formulas-scale §2.1 (the all-gather's output,
// 2·s·b·h_kv·β/t) and §2.3 (per-token tensors fall by c; these do not).
import { attentionWidth, headDim } from "../model.js";
import type { Engine } from "../engine.js";
import { cpCommOf, cpSplitOf } from "./context.js";
import type { ModelSpec, Plan } from "../types.js";

/** Bytes per element of the worker's attention tensors under bf16 autocast. */
const BYTES = 2;

export type CpSavedPlan = Pick<Plan, "tp" | "microBatch"> & Partial<Pick<Plan, "cp" | "cpComm" | "cpSplit">>;

/** Bytes per token (of the rank's s/c) the engine's tensor list counts for K and V of one layer,
 *  before tp: 2·2·h_kv, or 2·2·h_q where the eager list repeats grouped K/V to the query heads
 *  (activations.ts autocastEagerCoefficients). */
export function listedKvBytesPerToken(m: ModelSpec, tensors: Engine["activationTensors"] | undefined): number {
  const kvWidth = m.kvHeads * headDim(m);
  const repeated = (tensors === "autocast-eager" || tensors === "autocast-compiled") && m.kvHeads < m.heads;
  return 2 * BYTES * (repeated ? attentionWidth(m) : kvWidth);
}

/** The bytes one layer keeps beyond the tensor list for one micro-batch on one GPU of the cp
 *  group, at recompute "none" (recomputed layers re-gather; what a layer under recompute holds
 *  again in its backward follows from the difference, activations.ts recomputeWorkingBytes).
 *  0 without cp, for the ring and Ulysses variants, and where the engine keeps nothing more. */
export function cpKeptLayerBytes(m: ModelSpec, seqLen: number, engine: Engine | undefined, p: CpSavedPlan): number {
  const c = p.cp ?? 1;
  const keeps = engine?.contextParallel.allgatherKeeps ?? [];
  if (c <= 1 || cpCommOf(p) !== "allgather" || keeps.length === 0) return 0;
  const b = p.microBatch;
  const t = p.tp;
  const localTokens = (seqLen / c) * b;
  let bytes = 0;
  if (keeps.includes("gathered-kv"))
    bytes += (2 * BYTES * seqLen * b * m.kvHeads * headDim(m)) / t - (localTokens * listedKvBytesPerToken(m, engine?.activationTensors)) / t;
  if (keeps.includes("chunk-outputs") && cpSplitOf(p) === "zigzag") bytes += (BYTES * localTokens * attentionWidth(m)) / t;
  return bytes;
}
