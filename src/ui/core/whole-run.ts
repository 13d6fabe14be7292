// The plan detail's whole-run lines: per trillion tokens (the interactive planner asks no token
// count; `plan --tokens` gives a run's own), and checkpointing under failures at this size.
// Arithmetic in planner/run/ (through src/app/whole-run.ts), words here, none in the .tsx.
import type { Hardware, ModelSpec, PlanResult, Training } from "../../../planner/index.js";
import { wholeRun } from "../../app/whole-run.js";
import { duration } from "../../format/run-text.js";
import { compact, count, percent } from "../../format/units.js";
import { fit } from "./bars.js";

/** Tokens the detail's run is priced for. */
export const DETAIL_TOKENS = 1e12;

export function wholeRunLines(m: ModelSpec, hw: Hardware, t: Training, p: PlanResult, width: number): string[] {
  const w = wholeRun(m, hw, t, p, p.time.step, false, { tokens: DETAIL_TOKENS, price: null, power: "board", ckpt: "sync" });
  const e = w.estimate;
  const c = e.checkpoint;
  const energy = e.energyMWh === null ? "" : ` · ${count(e.energyMWh)} MWh (board power × PUE ${w.figures.pue.value})`;
  return [
    `per ${compact(DETAIL_TOKENS)} tokens: ${e.days.toFixed(1)} days · ${compact(e.gpuHours)} GPU-hours${energy}`,
    `failures: job MTBF ${duration(c.jobMtbf)} · checkpoint every ${duration(c.interval)} (Daly 2006), write ${duration(c.blocking)} · lost ${duration(c.lostPerFailure)} each · goodput ${percent(e.goodput)}`,
  ].map((l) => fit(l, width - 2));
}
