// The closed form's price of the expert-parallel wire items (wire/expert-wire.ts).
import type { WireId, WireItem } from "../wire/wire.js";
import { callTime } from "./collectives.js";

/** The items on the critical path of every MoE layer: all-to-alls and the etp gathers. */
export const EP_IDS: readonly WireId[] = ["ep-dispatch", "ep-combine", "etp-gather", "etp-scatter"];

const DENSE_DP: readonly WireId[] = ["dp-gradients", "dp-weights", "zero3-gather-forward", "zero3-gather-backward", "zero3-reduce-scatter"];

/** The experts' data-parallel collectives that their compute windows do not hide: each hides
 *  behind the backward (gradients) or forward (weights) window that one call of the dense
 *  collectives hiding there leaves free (the two share the compute they overlap). */
export function expertDpExposed(wire: readonly WireItem[], bwdWindow: number, fwdWindow: number): number {
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
    out += i.calls * Math.max(0, callTime(i) - window);
  }
  return out;
}
