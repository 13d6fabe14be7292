// The ranking's summary (timeline.ts buildTimeline without segments) sums each stage's breakdown
// and the data-parallel overlap in one pass over the operations (planner/sim/stage-sums.ts
// sumSummary), where the drawn timeline lists segments and sums them operation by operation
// (sumStages, dpOverlap). Both must give the same numbers to the bit, on the same graph: the
// per-stage times, the critical stage, the step and its summary. The drawn timeline's sums are
// the independent reference here.
import { describe, expect, it } from "vitest";
import { buildSimCosts, type SimCosts } from "../../planner/sim/costs.js";
import { addDataParallel } from "../../planner/sim/dp.js";
import { buildGraph } from "../../planner/sim/graph.js";
import { Arena } from "../../planner/sim/heap.js";
import { buildTimeline } from "../../planner/sim/timeline.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { dpCosts } from "./dp-costs.js";

const h100 = hardware("dgx-h100");
const t = (gpus: number, extra: Partial<Training> = {}): Training => ({ gpus, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...extra });
const base: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const gpt = preset("gpt3-1.3b");
const mixtral = preset("mixtral-8x7b");
const engine = (name: string) => loadEngine(name, undefined);

const cases: Array<[string, SimCosts]> = [
  ["pp 4 interleaved v 2, ZeRO-1, tied embedding", buildSimCosts(gpt, h100, t(16), { ...base, pp: 4, dp: 4, zero: 1, vpp: 2, schedule: "interleaved" })],
  ["pp 4 GPipe, ZeRO-2, full recompute", buildSimCosts(gpt, h100, t(16), { ...base, pp: 4, dp: 4, zero: 2, recompute: "full", schedule: "gpipe" })],
  ["pp 2, tp 2, ZeRO-3, selective recompute", buildSimCosts(gpt, h100, t(16), { ...base, tp: 2, pp: 2, dp: 4, zero: 3, recompute: "selective", microBatch: 2 })],
  ["pp 4 zb1p, torchtitan", buildSimCosts(gpt, h100, t(16, { engine: engine("torchtitan") }), { ...base, pp: 4, dp: 4, zero: 1, schedule: "zb1p" })],
  ["pp 2 dualpipev, FSDP", buildSimCosts(gpt, h100, t(16, { engine: engine("fsdp") }), { ...base, pp: 2, dp: 8, vpp: 2, zero: 2, schedule: "dualpipev" })],
  ["Mixtral tp 8 · ep 2, ZeRO-3", buildSimCosts(mixtral, h100, t(64, { seqLen: 4096 }), { ...base, tp: 8, dp: 8, ep: 2, zero: 3, sequenceParallel: true })],
  ["Mixtral tp 8 · pp 2 · ep 2, ZeRO-1", buildSimCosts(mixtral, h100, t(64, { seqLen: 4096 }), { ...base, tp: 8, pp: 2, dp: 4, ep: 2, zero: 1, sequenceParallel: true })],
  ["pp 4 1F1B, no data parallel", buildSimCosts(gpt, h100, t(4), { ...base, pp: 4, dp: 1 })],
  // one stage: buckets reduced beside the backward, slowed by 0.2 (critical-stage.test.ts)
  ["hand graph, ZeRO-1, dp slowdown 0.2", dpCosts(1, 0.5, 0, { dpSlowdown: 0.2 })],
  ["hand graph, ZeRO-0 without overlap", dpCosts(0, 0.5, 0, { overlapGradReduce: false, dpSlowdown: 0.3 })],
];

describe("the summary's one pass sums what the drawn timeline sums, to the bit", () => {
  it.each(cases)("%s", (_, c) => {
    for (const coarse of [true, false]) {
      const g = buildGraph(c, new Arena(), coarse);
      addDataParallel(g);
      const r = g.engine.run();
      const drawn = buildTimeline(g, r, true);
      expect(drawn.segments.length).toBeGreaterThan(0);
      const summary = buildTimeline(g, r, false);
      expect(summary).toEqual({ ...drawn, segments: [] });
    }
  });

  it("the slowdown is in the summary: the hand graph's step is 6.5 s of work plus 0.2 × the 1.5 s of backward its buckets overlap", () => {
    // dpCosts at ZeRO-0: F [0, 2], B [2, 6]; buckets reduce over [3, 3.5], [4, 4.5], [5, 5.5]
    // beside the backward and [6, 6.5] after it (critical-stage.test.ts): 6.5 + 0.2 · 1.5 = 6.8 s.
    const g = buildGraph(dpCosts(0, 0.5, 0, { dpSlowdown: 0.2 }), new Arena(), true);
    addDataParallel(g);
    expect(buildTimeline(g, g.engine.run(), false).step).toBeCloseTo(6.8, 12);
  });
});
