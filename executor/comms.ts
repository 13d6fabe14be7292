// Collective traffic of one step, all ranks together: the planner's volumes (its cost model's
// messages, 16-bit activations and gradients, planner/cost/time.ts) beside the worker's counts
// (its warm-up step, summed over ranks). A worker that keeps fp32 gradients moves twice the bytes.
import { type ModelSpec, type Plan, type Training, paddedVocab, stageParamsPerGpu } from "../planner/index.js";
import { layerMatrixParams, layerSmallParams } from "../planner/model.js";
import type { Comms } from "./events.js";

/** Kinds as compared: torch's names folded into the four families the planner models. */
export type CommKind = "all_reduce" | "all_gather" | "reduce_scatter" | "send/recv" | string;

export function commKind(name: string): CommKind {
  const n = name.toLowerCase();
  if (n.includes("all_reduce") || n.includes("allreduce")) return "all_reduce";
  if (n.includes("all_gather") || n.includes("allgather")) return "all_gather";
  if (n.includes("reduce_scatter") || n.includes("reducescatter")) return "reduce_scatter";
  if (/(^|_|i)(send|recv)/.test(n) || n.includes("p2p")) return "send/recv";
  return n;
}

/** Parameters on one rank of each pipeline stage, summed over the stages (one tp rank each). */
function paramsOverStages(m: ModelSpec, seqLen: number, tp: number, pp: number): number {
  const layers = m.layers / pp;
  if (pp === 1) return stageParamsPerGpu(m, seqLen, tp, 1, layers, "only");
  const middle = layers * (layerMatrixParams(m) / tp + layerSmallParams(m));
  return stageParamsPerGpu(m, seqLen, tp, pp, layers, "first") + stageParamsPerGpu(m, seqLen, tp, pp, layers, "last") + (pp - 2) * middle;
}

/**
 * Bytes of one step by kind, summed over every rank that calls the collective, each call counted
 * with its message M (all-reduce: the buffer; all-gather: the gathered output; reduce-scatter:
 * the input; send and recv: the tensor) — the worker's convention. Messages are the planner's
 * (planner/cost/time.ts): 16-bit activations and gradients, pipeline activations split 1/tp.
 */
export function predictedVolumes(m: ModelSpec, t: Training, plan: Plan): Record<CommKind, number> {
  const out: Record<CommKind, number> = {};
  const add = (k: CommKind, bytes: number) => {
    if (bytes > 0) out[k] = (out[k] ?? 0) + bytes;
  };
  const { tp, pp, dp, vpp, zero, microBatch } = plan;
  const microBatches = t.globalBatch / (dp * microBatch);
  const act = 2 * microBatch * t.seqLen * m.hidden; // one micro-batch's b·s·h activation, 16-bit
  if (tp > 1) {
    // Every rank: 2 all-reduces per layer forward, 2 backward, 2 more with full recompute;
    // sequence parallel turns each into a reduce-scatter plus an all-gather of the same tensor.
    const passes = plan.recompute === "full" ? 3 : 2;
    const bytes = tp * dp * m.layers * microBatches * passes * 2 * act;
    if (plan.sequenceParallel) {
      add("reduce_scatter", bytes);
      add("all_gather", bytes);
    } else add("all_reduce", bytes);
  }
  if (pp > 1) {
    // pp·vpp − 1 stage boundaries, crossed forward and backward by every micro-batch of every
    // replica; each tp rank sends (and its peer receives) 1/tp of the activation.
    const sends = 2 * (pp * vpp - 1) * microBatches * dp * act;
    add("send/recv", 2 * sends);
    // Tied embeddings: the first and last stage ranks all-reduce the embedding gradient.
    if (m.tiedEmbeddings) add("all_reduce", 2 * dp * 2 * paddedVocab(m.vocab, tp) * m.hidden);
  }
  if (dp > 1) {
    const grads = dp * tp * 2 * paramsOverStages(m, t.seqLen, tp, pp);
    if (zero === 0) add("all_reduce", grads);
    else if (zero <= 2) {
      add("reduce_scatter", (zero === 2 ? microBatches : 1) * grads);
      add("all_gather", grads);
    } else {
      add("all_gather", 2 * microBatches * grads);
      add("reduce_scatter", microBatches * grads);
    }
  }
  return out;
}

export interface CommRow {
  kind: CommKind;
  count: number | null;
  bytes: number | null;
  predictedBytes: number | null;
}

/** One row per kind seen on either side; measured kinds are folded with commKind. */
export function compareComms(measured: Comms | null, predicted: Record<CommKind, number>): CommRow[] {
  const rows = new Map<CommKind, CommRow>();
  const row = (k: CommKind) => {
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { kind: k, count: null, bytes: null, predictedBytes: null }));
    return r;
  };
  for (const [name, v] of Object.entries(measured ?? {})) {
    const r = row(commKind(name));
    r.count = (r.count ?? 0) + v.count;
    if (v.bytes !== null) r.bytes = (r.bytes ?? 0) + v.bytes;
  }
  for (const [k, bytes] of Object.entries(predicted)) row(k).predictedBytes = bytes;
  return [...rows.values()];
}
