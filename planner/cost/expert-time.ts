// The closed form's price of the expert-parallel wire items (wire/expert-wire.ts).
import type { WireId, WireItem } from "../wire/wire.js";
import { callTime } from "./collectives.js";
import { overlapCost } from "./overlap.js";

/** The items on the critical path of every MoE layer: all-to-alls and the etp gathers. */
export const EP_IDS: readonly WireId[] = ["ep-dispatch", "ep-combine", "etp-gather", "etp-scatter"];

const DENSE_DP: readonly WireId[] = ["dp-gradients", "dp-weights", "zero3-gather-forward", "zero3-gather-backward", "zero3-reduce-scatter"];

/** What the experts' data-parallel collectives add to the step: each hides behind the backward
 *  (gradients) or forward (weights) window that one call of the dense collectives hiding there
 *  leaves free (the two share the compute they overlap); the part that does not fit is exposed,
 *  and the compute it overlaps runs `slowdown` slower, as for the dense ones (cost/overlap.ts
 *  overlapCost, Lee et al. 2025). */
export function expertDpExposed(wire: readonly WireItem[], bwdWindow: number, fwdWindow: number, slowdown: number): number {
  let usedBwd = 0;
  let usedFwd = 0;
  for (const i of wire) {
    if (!DENSE_DP.includes(i.id)) continue;
    if (i.hides === "backward") usedBwd += callTime(i);
    else if (i.hides === "forward") usedFwd += callTime(i);
  }
  let out = 0;
  for (const i of wire) {
    if (i.id !== "edp-gradients" && i.id !== "edp-weights") continue;
    const window = i.hides === "backward" ? Math.max(0, bwdWindow - usedBwd) : Math.max(0, fwdWindow - usedFwd);
    out += i.calls * overlapCost(callTime(i), window, slowdown);
  }
  return out;
}
