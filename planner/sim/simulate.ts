// Plan → simulated timeline of one training step, one representative rank per pipeline stage.
import type { Hardware, ModelSpec, Plan, Training } from "../types.js";
import { buildSimCosts, type SimCosts, type SimOptions } from "./costs.js";
import { addDataParallel } from "./dp.js";
import { buildGraph, sealGraph } from "./graph.js";
import { Arena } from "./heap.js";
import { buildTimeline, type SimSummary, type Timeline } from "./timeline.js";

export type { SimOptions, SimCosts } from "./costs.js";
export type { Segment, SimSummary, StageTimes, Timeline } from "./timeline.js";

/** The per-operation tables of every simulation, reused from one to the next (heap.ts: fresh
 *  memory is what a simulation spent most of its time on). Simulations run one at a time. */
const arena = new Arena();

/** Simulate one step from explicit per-operation costs (tests build these by hand). */
export function simulateCosts(costs: SimCosts, withSegments = true): Timeline {
  const g = buildGraph(costs, arena);
  addDataParallel(g);
  sealGraph(g);
  // The timeline keeps nothing of the graph or the engine's result (both in the arena).
  return buildTimeline(g, g.engine.run(), withSegments);
}

/** Simulate one step of a plan with the cost model's per-operation costs. */
export function simulate(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, opts: SimOptions = {}): Timeline {
  return simulateCosts(buildSimCosts(m, hw, t, plan, opts));
}

/** Step, bubble and exposed communication only (no segments, no critical path): for ranking. */
export function simulateSummary(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, opts: SimOptions = {}): SimSummary {
  return simulateCosts(buildSimCosts(m, hw, t, plan, opts), false).summary;
}
