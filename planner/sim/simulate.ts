// Plan → simulated timeline of one training step, one representative rank per pipeline stage.
import type { Hardware, ModelSpec, Plan, Training } from "../types.js";
import { buildSimCosts, type SimCosts, type SimOptions } from "./costs.js";
import { addDataParallel } from "./dp.js";
import { buildGraph } from "./graph.js";
import { Arena } from "./heap.js";
import { buildTimeline, type SimSummary, type Timeline } from "./timeline.js";

export type { SimOptions, SimCosts } from "./costs.js";
export type { Segment, SimSummary, StageTimes, Timeline } from "./timeline.js";

/** What one simulation after another reuses: the per-operation tables (heap.ts Arena: fresh
 *  memory is what a simulation spent most of its time on). Whoever simulates several plans
 *  (rescore.ts, the bench) makes one and passes it to each; a result depends on nothing left in
 *  it. One simulation at a time per Simulator. */
export class Simulator {
  readonly arena = new Arena();
}

/** Simulate one step from explicit per-operation costs (tests build these by hand). */
export function simulateCosts(costs: SimCosts, withSegments = true, sim = new Simulator()): Timeline {
  const g = buildGraph(costs, sim.arena);
  addDataParallel(g);
  // The timeline keeps nothing of the graph or the engine's result (both in the arena).
  return buildTimeline(g, g.engine.run(), withSegments);
}

/** Simulate one step of a plan with the cost model's per-operation costs. */
export function simulate(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, opts: SimOptions = {}, sim = new Simulator()): Timeline {
  return simulateCosts(buildSimCosts(m, hw, t, plan, opts), true, sim);
}

/** Step, bubble and exposed communication only (no segments, no critical path): for ranking. */
export function simulateSummary(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, opts: SimOptions = {}, sim = new Simulator()): SimSummary {
  return simulateCosts(buildSimCosts(m, hw, t, plan, opts), false, sim).summary;
}
