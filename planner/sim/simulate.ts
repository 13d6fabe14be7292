// Plan → simulated timeline of one training step, one representative rank per pipeline stage.
import type { Hardware, ModelSpec, Plan, Training } from "../types.js";
import { engineBucketBytes, gathersUpdatedWeights } from "../cost/engine-terms.js";
import { totalParams } from "../model.js";
import { buildSimCosts, type SimCosts, type SimOptions } from "./costs.js";
import { addDataParallel } from "./dp.js";
import { buildGraph, type Graph } from "./graph.js";
import { Arena } from "./heap.js";
import { refill, shapeKey } from "./reuse.js";
import { buildTimeline, type SimSummary, type Timeline } from "./timeline.js";

export type { SimOptions, SimCosts } from "./costs.js";
export type { Segment, SimSummary, StageTimes, Timeline } from "./timeline.js";

/** What one simulation after another reuses: the per-operation tables (heap.ts Arena: fresh
 *  memory is what a simulation spent most of its time on). Whoever simulates several plans
 *  (rescore.ts, the bench) makes one and passes it to each; a result depends on nothing left in
 *  it. One simulation at a time per Simulator. */
export class Simulator {
  readonly arena = new Arena();
  /** The last graph built in the arena, and its shape (reuse.ts): costs of the same shape play it
   *  again with their own times instead of building it anew. */
  private last: { key: string; graph: Graph } | null = null;

  /** `reuse` false: build every graph anew (a warm-up that should compile the building code). */
  constructor(private readonly reuse = true) {}

  /** The graph of `costs` (with its collectives): the last one replayed where the shape is the
   *  same, else built in the arena. Valid until the next call. */
  graph(costs: SimCosts, coarse: boolean): Graph {
    const key = this.reuse ? shapeKey(costs, coarse) : "";
    const last = this.last;
    if (last !== null && last.key === key && refill(last.graph, costs)) return last.graph;
    this.last = null;
    // The data-parallel collectives made with the rest in WebAssembly where they can be (graph.ts
    // buildGraph `open`), else, or where they needed more room than was laid out, by dp.ts.
    let g = buildGraph(costs, this.arena, coarse, false, true);
    addDataParallel(g);
    if (g.build !== null && !g.build.finish()) {
      g = buildGraph(costs, this.arena, coarse);
      addDataParallel(g);
    }
    if (this.reuse && g.reusable) this.last = { key, graph: g };
    return g;
  }
}

/** Simulate one step from explicit per-operation costs (tests build these by hand). */
export function simulateCosts(costs: SimCosts, withSegments = true, sim = new Simulator()): Timeline {
  // Without segments, a pass's layers are one operation where nothing attaches to one of them
  // (graph.ts coarse): the same step in fewer operations.
  const g = sim.graph(costs, !withSegments);
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

/** Operations a simulated step of the plan has (as graph.ts sizes its tables): 2 per layer and
 *  micro-batch in each direction's pass, the sends between stages, the embedding and head, the
 *  data-parallel buckets. The simulation's work is proportional to it; callers keep it under
 *  MAX_SIMULATED_OPS. */
export function simulationOps(m: ModelSpec, t: Training, plan: Plan): number {
  const V = plan.pp > 1 ? plan.vpp : 1;
  const M = t.globalBatch / (plan.dp * plan.microBatch);
  // Zero-bubble schedules run each layer's backward as two operations (B and W).
  const passes = plan.pp > 1 && (plan.schedule === "zb1p" || plan.schedule === "zbv" || plan.schedule === "dualpipev") ? 3 : 2;
  // Data-parallel buckets (dp.ts fillBuckets): one collective per bucket of a rank's 16-bit
  // weights, per reduction (every micro-batch under ZeRO-2), and again for ZeRO-1/2's gathered
  // weights; counted from all the weights over tp·pp, more than a rank of an MoE model holds.
  let buckets = 0;
  const dpcp = plan.dp * plan.cp;
  if (plan.zero <= 2 && dpcp > 1) {
    const perPass = Math.ceil((2 * totalParams(m, t.seqLen)) / (plan.tp * plan.pp) / engineBucketBytes(t.engine, dpcp));
    buckets = perPass * (plan.zero === 2 ? M : 1) * (gathersUpdatedWeights(t, plan.zero) ? 2 : 1);
  }
  return passes * M * m.layers + 4 * M + 2 * plan.pp * V * M + plan.pp + buckets;
}

/** The most operations one `paraplan plan` simulates, all plans together (the default gpt3-like
 *  search simulates about 410,000 by this count, some 220,000 as built): bounds the work of a huge --global-batch. */
export const MAX_SIMULATED_OPS = 1_000_000;

/** How many of `plans`, from the first, fit in `budget` simulated operations together. */
export function simulablePrefix(m: ModelSpec, t: Training, plans: readonly Plan[], budget = MAX_SIMULATED_OPS): number {
  let used = 0;
  for (let i = 0; i < plans.length; i++) {
    used += simulationOps(m, t, plans[i]!);
    if (used > budget) return i;
  }
  return plans.length;
}
