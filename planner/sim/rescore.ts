// Simulate the closed form's best plans step by step. The search stays closed-form (it ranks
// hundreds of thousands of configurations, and the interactive planner sorts, filters and charts
// all of them by it), so the ranking is the closed form's everywhere; the simulation is a second
// opinion on the top K — uneven stages, the schedule's real op order, overlap, shared links —
// shown beside it, with the plan it finds fastest named (issue 17: one ranking, and a row's
// figures are those of the order it is in).
import type { Hardware, ModelSpec, PlanResult, Training } from "../types.js";
import { buildSimCosts, type SimOptions } from "./costs.js";
import { shapeKey } from "./reuse.js";
import { Simulator, simulateCosts } from "./simulate.js";
import type { SimSummary } from "./timeline.js";

/** Default number of the closed form's best plans that are simulated. */
export const SIMULATE_TOP = 20;

export interface Simulated {
  /** Simulation of each plan, in the closed form's order. */
  simulated: SimSummary[];
  /** Index of the plan with the shortest simulated step (ties: the closed form's first). */
  fastest: number;
  /** Whether the simulated steps order these plans differently from the closed form. */
  orderDiffers: boolean;
}

/** Simulate `plans` (ranked by the closed form, best first), keeping their order. */
export function simulateTop(m: ModelSpec, hw: Hardware, t: Training, plans: readonly PlanResult[], opts: SimOptions = {}): Simulated {
  const sim = new Simulator(); // tables reused across the plans
  const costs = plans.map((p) => buildSimCosts(m, hw, t, p, opts));
  // The plans of one shape one after another (shapes in the order of their first plan): the
  // Simulator builds each shape's graph once and plays it again with the others' costs (reuse.ts).
  // A simulation depends on nothing before it, so the order changes no result.
  const keys = costs.map((c) => shapeKey(c, true));
  const first = new Map<string, number>();
  keys.forEach((k, i) => first.has(k) || first.set(k, i));
  const order = plans.map((_, i) => i).sort((a, b) => first.get(keys[a]!)! - first.get(keys[b]!)! || a - b);
  const sims: SimSummary[] = new Array<SimSummary>(plans.length);
  for (const i of order) sims[i] = simulateCosts(costs[i]!, false, sim).summary;
  const faster = (a: number, b: number) => {
    const d = sims[a]!.step - sims[b]!.step;
    return Math.abs(d) > 1e-9 * Math.max(sims[a]!.step, sims[b]!.step) ? d : a - b;
  };
  const ranked = plans.map((_, i) => i).sort(faster);
  return { simulated: sims, fastest: ranked[0] ?? 0, orderDiffers: ranked.some((rank, i) => rank !== i) };
}
