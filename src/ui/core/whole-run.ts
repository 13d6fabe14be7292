// The plan detail's whole-run lines: the tokens the user set (`w`; a trillion until then, as
// `plan --tokens` gives a run's own) and its cost at the price set (`$`; none until then, as
// `plan --price`), and checkpointing under failures at this size.
// Arithmetic in planner/run/ (through src/app/whole-run.ts), words here, none in the .tsx.
import type { Hardware, ModelSpec, PlanResult, Training } from "../../../planner/index.js";
import { runStall } from "../../../planner/run/index.js";
import { wholeRun } from "../../app/whole-run.js";
import { duration, priceText, usd, wallClock } from "../../format/run-text.js";
import { compact, count, percent, seconds } from "../../format/units.js";
import { fit, wrapGroups } from "./bars.js";
import { DEFAULT_RUN, type RunChoice } from "./run-settings.js";

/** The whole run's lines, each whole (wholeRunRows breaks them for the screen). */
export function wholeRunLines(m: ModelSpec, hw: Hardware, t: Training, p: PlanResult, run: RunChoice = DEFAULT_RUN): string[] {
  const w = wholeRun(m, hw, t, p, p.time.step, false, { tokens: run.tokens, price: run.price, power: "board", ckpt: "sync" });
  const e = w.estimate;
  // As `plan --tokens` refuses it: a run under 1% goodput is priced by its failure settings.
  const stall = runStall(e, w.inputs.restartTime);
  if (stall) return [`for ${compact(run.tokens)} tokens: ${stall.message}`];
  const c = e.checkpoint;
  const energy = e.energyMWh === null ? "" : ` · ${count(e.energyMWh)} MWh (board power × PUE ${w.figures.pue.value})`;
  const cost = e.cost === null ? "" : ` · cost ${usd(e.cost)} at $${priceText(run.price!)}/GPU-hour`;
  return [
    // (timed by the step this screen's header shows, the closed form's: the interactive planner
    // simulates nothing; `plan --tokens` times a run by its simulated step where it was
    // simulated. Both name the step from the run they time, as format/run-text.ts does.)
    `for ${compact(run.tokens)} tokens at ${seconds(w.step)} a step (${w.stepFrom}): ${wallClock(e)} · ${compact(e.gpuHours)} GPU-hours${energy}${cost}`,
    `goodput ${percent(e.goodput)} · job MTBF ${duration(c.jobMtbf)} · ${c.written ? `checkpoint every ${duration(c.interval)} (Daly 2006)` : "no checkpoint (none pays over the run: Daly 2006)"}, write ${duration(c.blocking)} · ${Number.isNaN(c.lostPerFailure) ? "no interruptions expected (a failure rate of 0)" : `lost ${duration(c.lostPerFailure)} per failure`}`,
  ];
}

/** A line over rows of at most `width` columns, broken between its " · " parts ("· " opens a row
 *  that continues one, so that the rows joined by a space are the line), a part wider than a row
 *  cut: QA saw the energy and the checkpoint's write cut off at 80 columns. */
export function wrapParts(line: string, width: number): string[] {
  const groups = wrapGroups(line.split(" · "), (x) => x, width - 2, " · ");
  return groups.map((g, i) => fit(`${i > 0 ? "· " : ""}${g.join(" · ")}`, width));
}
