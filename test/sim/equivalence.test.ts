// A Simulator reuses its per-operation tables from one simulation to the next (planner/sim/heap.ts
// Arena). A plan's timeline must not depend on that: the same as with tables of its own, and the
// same whatever was simulated before it (bigger or smaller graphs, other ZeRO stages, schedules);
// and the summary that ranks plans (a coarse graph: graph.ts, test/sim/coarse.test.ts) is the
// full timeline's up to rounding.
import { describe, expect, it } from "vitest";
import { addDataParallel } from "../../planner/sim/dp.js";
import { buildGraph } from "../../planner/sim/graph.js";
import { Arena } from "../../planner/sim/heap.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { Simulator, simulate, simulateSummary } from "../../planner/sim/simulate.js";
import { buildTimeline } from "../../planner/sim/timeline.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "../planner/fixtures.js";

const h100 = hardware("dgx-h100");
const m = preset("gpt3-1.3b");
const t: Training = { gpus: 16, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
const base: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const plans: Array<[string, Plan]> = [
  ["pp 4 1F1B, ZeRO-1", { ...base, pp: 4, dp: 4, zero: 1 }],
  ["pp 4 GPipe, ZeRO-2, full recompute", { ...base, pp: 4, dp: 4, zero: 2, recompute: "full", schedule: "gpipe" }],
  ["pp 4 interleaved v 3, ZeRO-0", { ...base, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 3, schedule: "interleaved" }],
  ["pp 2, tp 2, ZeRO-3, selective recompute", { ...base, tp: 2, pp: 2, dp: 4, zero: 3, recompute: "selective", microBatch: 2 }],
  ["pp 1, dp 16, ZeRO-1", { ...base, zero: 1, microBatch: 4 }],
];

/** The timeline from tables of its own (a fresh arena); coarse: the ranking's graph, no segments. */
function alone(plan: Plan, coarse = false) {
  const g = buildGraph(buildSimCosts(m, h100, t, plan), new Arena(), coarse);
  addDataParallel(g);
  return buildTimeline(g, g.engine.run(), !coarse);
}

describe("reused tables: a plan simulates the same whatever ran before it", () => {
  it.each(plans)("%s: same as with tables of its own, before and after every other plan", (_, plan) => {
    const expected = alone(plan);
    const summary = alone(plan, true).summary;
    for (const [k, v] of Object.entries(expected.summary)) expect(summary[k as keyof typeof summary]).toBeCloseTo(v, 12);
    const sim = new Simulator();
    expect(simulate(m, h100, t, plan, {}, sim)).toEqual(expected);
    expect(simulateSummary(m, h100, t, plan, {}, sim)).toEqual(summary);
    for (const [, other] of plans) {
      simulate(m, h100, t, other, {}, sim);
      expect(simulate(m, h100, t, plan, {}, sim)).toEqual(expected);
      simulateSummary(m, h100, t, other, {}, sim);
      expect(simulateSummary(m, h100, t, plan, {}, sim)).toEqual(summary);
    }
  });
});
