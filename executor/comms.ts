// Collective traffic of one step, all ranks together: the planner's volumes (the plan's wire,
// 16-bit activations and gradients, planner/wire/wire.ts) beside the worker's counts
// (its warm-up step, summed over ranks). A worker that keeps fp32 gradients moves twice the bytes.
import type { ModelSpec, Plan, Training, WireKind } from "../planner/index.js";
import { stepWire } from "../planner/wire/wire.js";
import type { Comms } from "./events.js";

/** Kinds as compared: torch's names folded into the four families the planner models. */
export type CommKind = "all_reduce" | "all_gather" | "reduce_scatter" | "send/recv" | string;

export function commKind(name: string): CommKind {
  const n = name.toLowerCase();
  if (n.includes("all_reduce") || n.includes("allreduce")) return "all_reduce";
  if (n.includes("all_gather") || n.includes("allgather")) return "all_gather";
  if (n.includes("reduce_scatter") || n.includes("reducescatter")) return "reduce_scatter";
  if (n.includes("all_to_all") || n.includes("alltoall")) return "all_to_all";
  if (/(^|_|i)(send|recv)/.test(n) || n.includes("p2p")) return "send/recv";
  return n;
}

/** The wire's names for the kinds (planner/wire/wire.ts) in the worker's convention. */
const KIND_NAME: Record<WireKind, CommKind> = { allReduce: "all_reduce", allGather: "all_gather", reduceScatter: "reduce_scatter", p2p: "send/recv", allToAll: "all_to_all" };

/**
 * Bytes of one step by kind, summed over every rank that calls the collective, each call counted
 * with its message M (all-reduce: the buffer; all-gather: the gathered output; reduce-scatter:
 * the input; send and recv: the tensor) — the worker's convention. The messages are the plan's
 * wire (planner/wire/wire.ts), the same the closed form prices and the simulator plays.
 */
export function predictedVolumes(m: ModelSpec, t: Training, plan: Plan): Record<CommKind, number> {
  const out: Record<CommKind, number> = {};
  // (ZeRO-1's weights sent one tensor at a time are torch's broadcasts, ZeroRedundancyOptimizer's
  // _sync_params: the same bytes as the gather the wire prices, under the name the worker counts)
  const broadcasts = plan.zero === 1 && t.engine?.dataParallel.zero1BroadcastPerTensor === true;
  for (const i of stepWire(m, t, plan)) {
    if (i.worldBytes <= 0) continue;
    const k = broadcasts && i.id === "dp-weights" ? "broadcast" : KIND_NAME[i.kind];
    out[k] = (out[k] ?? 0) + i.worldBytes;
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
