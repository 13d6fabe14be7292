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
import { N, sumSummary } from "../../planner/sim/stage-sums.js";
import type { EngineResult } from "../../planner/sim/events.js";
import type { Graph } from "../../planner/sim/graph.js";
import { search } from "../../planner/index.js";
import type { Training } from "../../planner/types.js";
import { preset } from "../planner/fixtures.js";
import { dpCosts } from "./dp-costs.js";
import { SHAPE_CASES, base, gpt, h100, t } from "./shape-cases.js";

const cases: Array<[string, SimCosts]> = [
  ...SHAPE_CASES,
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

describe("the one pass in WebAssembly (wasm/summary.ts) sums what sumSummary's TypeScript sums, to the bit", () => {
  const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
  /** sumSummary on `r` as it is (in the engine's memory: the WebAssembly pass) and on a copy the
   *  engine does not hold (the TypeScript pass): the same times, ends, overlaps and last operation. */
  function expectBothPasses(g: Graph, r: EngineResult): void {
    const P = g.costs.pp;
    expect(r.wasm?.holds(r)).toBe(true); // else both calls below would run the TypeScript
    for (const withOverlap of [true, false]) {
      const run = (res: EngineResult) => {
        const times = new Float64Array(P * N);
        const cursor = new Float64Array(P);
        const overlap = withOverlap ? new Float64Array(P) : null;
        const lastOp = sumSummary(g, res, times, cursor, overlap);
        return { lastOp, times: bits(times), cursor: bits(cursor), overlap: overlap && bits(overlap) };
      };
      const wasm = run(r);
      const ts = run({ ...r, wasm: undefined });
      expect(wasm).toEqual(ts);
      expect(wasm.times).not.toBe(bits(new Float64Array(P * N))); // summed something
    }
  }

  it.each(cases)("%s", (_, c) => {
    for (const coarse of [true, false]) {
      const g = buildGraph(c, new Arena(), coarse);
      addDataParallel(g);
      expectBothPasses(g, g.engine.run());
    }
  });

  it("the top 20 of gpt3-like on 1,024 H100s (coarse, one arena: the CLI's ranking)", () => {
    const m = preset("gpt3-like");
    const training: Training = { gpus: 1024, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const plans = search(m, h100, training, {}, { top: 20 }).plans;
    expect(plans.length).toBe(20);
    const arena = new Arena();
    for (const p of plans) {
      const g = buildGraph(buildSimCosts(m, h100, training, p), arena, true);
      addDataParallel(g);
      expectBothPasses(g, g.engine.run());
    }
  });
});
