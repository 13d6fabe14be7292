// A row beyond the per-row bound, against the rows of its own sweep. The published tables are
// sweeps: one model on one GPU and stack, with the GPU count or the sequence length changed and
// the rest held. Where the prediction follows a row's sweep and only that row departs, the
// row's measurement departs from its own neighbours, which no figure shared by the sweep can
// follow without a per-row factor (the calibration allows none). The bench prints this beside
// its per-row target so that a miss shows which of the two it is.
import { count } from "../../src/format/units.js";
import type { CalibrationRow } from "./rows.js";

/** What a sweep holds fixed: source, model, GPU profile, engine, precision and the stated
 *  model-parallel and recompute settings. Micro-batch, global batch and context parallel follow
 *  the swept GPU count or sequence in these tables, so they may differ. */
function sweepKey(r: CalibrationRow): string {
  const f = r.fixed;
  return [r.source, r.model.name, r.profile, r.engine, r.training.precision, f.tp ?? "", f.pp ?? "", f.recompute ?? ""].join("|");
}

export interface Neighbour {
  id: string;
  /** What differs from the row: "64 GPUs" or "4,096 tokens". */
  differs: string;
  /** (predicted − measured) / measured; null: no prediction. */
  error: number | null;
}

/** The rows of `row`'s sweep that differ from it in exactly one of GPU count and sequence length,
 *  in the rows' order. */
export function sweepNeighbours(row: CalibrationRow, rows: readonly CalibrationRow[], errorOf: (id: string) => number | null): Neighbour[] {
  const key = sweepKey(row);
  const out: Neighbour[] = [];
  for (const r of rows) {
    if (r.id === row.id || sweepKey(r) !== key) continue;
    const gpus = r.training.gpus !== row.training.gpus;
    const seq = r.training.seqLen !== row.training.seqLen;
    if (gpus === seq) continue;
    out.push({ id: r.id, differs: gpus ? `${count(r.training.gpus)} GPUs` : `${count(r.training.seqLen)} tokens`, error: errorOf(r.id) });
  }
  return out;
}
