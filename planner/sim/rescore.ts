// Re-rank the closed form's best plans by simulated step time. The search stays closed-form (it
// ranks hundreds of thousands of configurations); the simulation settles the close calls among
// the top K: uneven stages, the schedule's real op order, overlap, shared links.
import type { Hardware, ModelSpec, PlanResult, Training } from "../types.js";
import type { SimOptions } from "./costs.js";
import { Simulator, simulateSummary } from "./simulate.js";
import type { SimSummary } from "./timeline.js";

/** Default number of the closed form's best plans that are simulated. */
export const SIMULATE_TOP = 20;

export interface Rescored {
  /** The first `keep` plans in simulated order. */
  plans: PlanResult[];
  /** Simulation of each plan in `plans`. */
  simulated: SimSummary[];
  /** Each plan's rank in the closed form's order, from 0. */
  closedFormRank: number[];
  /** Whether the listed plans differ (in membership or order) from the closed form's first `keep`. */
  reranked: boolean;
}

/** Simulate `plans` (ranked by the closed form, best first), order them by simulated step time
 *  (ties keep the closed form's order) and keep the first `keep`. */
export function rescore(
  m: ModelSpec,
  hw: Hardware,
  t: Training,
  plans: readonly PlanResult[],
  keep: number,
  opts: SimOptions = {},
): Rescored {
  const sim = new Simulator();
  const sims = plans.map((p) => simulateSummary(m, hw, t, p, opts, sim));
  const order = plans.map((_, i) => i);
  order.sort((a, b) => {
    const d = sims[a]!.step - sims[b]!.step;
    return Math.abs(d) > 1e-9 * Math.max(sims[a]!.step, sims[b]!.step) ? d : a - b;
  });
  const kept = order.slice(0, Math.min(keep, order.length));
  return {
    plans: kept.map((i) => plans[i]!),
    simulated: kept.map((i) => sims[i]!),
    closedFormRank: kept,
    reranked: kept.some((rank, i) => rank !== i),
  };
}
