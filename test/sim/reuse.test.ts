// One graph per shape (planner/sim/reuse.ts): a graph built for one plan's costs and played again
// with another plan's costs of the same shape must be, to the bit, the graph those costs build —
// the same times on every operation, the same fractions on every partial dependency, the same
// kinds of operation — so the engine's run and the timeline are the same numbers. The reference
// here is the independent computation: a graph built anew, in an arena of its own.
import { describe, expect, it } from "vitest";
import { buildSimCosts, type CollectiveKind, type PassCost, type SimCosts, type Transfer } from "../../planner/sim/costs.js";
import { addDataParallel } from "../../planner/sim/dp.js";
import type { EngineResult } from "../../planner/sim/events.js";
import { buildGraph, type Graph } from "../../planner/sim/graph.js";
import { Arena } from "../../planner/sim/heap.js";
import { simulateTop } from "../../planner/sim/rescore.js";
import { refill, shapeKey } from "../../planner/sim/reuse.js";
import { Simulator, simulateCosts, simulateSummary } from "../../planner/sim/simulate.js";
import { buildTimeline } from "../../planner/sim/timeline.js";
import { search } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { parsePlanArgs } from "../../src/plan-args.js";
import { buildRequest } from "../../src/plan-request.js";
import { SHAPE_CASES, base, gpt, h100, t } from "./shape-cases.js";
import { dpCosts } from "./dp-costs.js";


function built(c: SimCosts, coarse: boolean): Graph {
  const g = buildGraph(c, new Arena(), coarse);
  addDataParallel(g);
  return g;
}

/** The run's tables as bytes: equal only where every double is the same bit pattern. */
function bits(r: EngineResult): string[] {
  return [r.start, r.end, r.ready, r.binder].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")).concat(String(r.makespan));
}

/** Play `replayed` and a graph built anew for its costs, both engines; the same bits, the same
 *  kinds of operation, the same timeline. */
function expectSame(replayed: Graph, coarse: boolean): void {
  const fresh = built(replayed.costs, coarse);
  expect(replayed.infos).toEqual(fresh.infos);
  expect(bits(replayed.engine.run(true))).toEqual(bits(fresh.engine.run(true)));
  const a = replayed.engine.run();
  const wasm = bits(a);
  const b = fresh.engine.run();
  expect(wasm).toEqual(bits(b));
  expect(buildTimeline(replayed, a, !coarse)).toEqual(buildTimeline(fresh, b, !coarse));
}

/** Costs of the same shape, every time other: each pass's parts, the sends, the optimizer, the
 *  slowdown, the tied embedding, every collective (on the same link) scaled by `k` (a different
 *  factor per field, so that no two scale alike). */
function retimed(c: SimCosts, k: number): SimCosts {
  const pass = (p: PassCost, f: number): PassCost => ({ ...p, compute: p.compute * f * k, tp: p.tp * (f + 0.1) * k, ...(p.ep ? { ep: p.ep * 1.3 * k } : {}), ...(p.cp ? { cp: p.cp * 1.7 * k } : {}) });
  const op = (o: SimCosts["layer"], f: number) => ({ ...o, forward: pass(o.forward, f), backward: pass(o.backward, f + 0.2), recompute: pass(o.recompute, f + 0.4), weightGrad: pass(o.weightGrad, f + 0.3) });
  const tr = (t: Transfer, f: number): Transfer => ({ latency: t.latency * f * k, work: t.work * (f + 0.5) * k, post: t.post * (f + 0.7) * k, inter: t.inter });
  const dpCollective = (kind: CollectiveKind, bytes: number) => tr(c.dpCollective(kind, bytes), 1.11);
  const expert = c.expert ? { ...c.expert, collective: (kind: CollectiveKind, bytes: number) => tr(c.expert!.collective(kind, bytes), 1.19) } : null;
  return {
    ...c,
    layer: op(c.layer, 1.05),
    embedding: op(c.embedding, 1.21),
    head: op(c.head, 1.33),
    p2p: tr(c.p2p, 1.07),
    optimizer: c.optimizer.map((x, s) => x * (1.5 + s / 7) * k),
    dpSlowdown: c.dpSlowdown * 1.3,
    tiedEmbedding: c.tiedEmbedding ? tr(c.tiedEmbedding, 0.9) : null,
    dpCollective,
    expert,
  };
}

const cases = SHAPE_CASES;

describe("a graph played again with other costs of its shape is the graph those costs build", () => {
  it.each(cases)("%s", (_, c) => {
    const other = retimed(c, 1.7);
    expect(shapeKey(other, true)).toBe(shapeKey(c, true));
    // (refill's loops in WebAssembly, wasm/dp.ts refillTimes, and in TypeScript, its `reference`)
    for (const coarse of [true, false]) {
      for (const reference of [false, true]) {
        const g = built(c, coarse);
        expect(refill(g, other, reference)).toBe(true);
        expectSame(g, coarse);
        // and back: the first costs again
        expect(refill(g, c, reference)).toBe(true);
        expectSame(g, coarse);
      }
    }
  });

  it("a graph that carries no partial dependency (ZeRO-0 without overlap) and one stage", () => {
    const c = dpCosts(0, 0.5, 0, { overlapGradReduce: false });
    const g = built(c, true);
    expect(refill(g, retimed(c, 3))).toBe(true);
    expectSame(g, true);
  });
});

describe("what the shape is made of", () => {
  const c = buildSimCosts(gpt, h100, t(16), { ...base, pp: 4, dp: 4, zero: 1, vpp: 2, schedule: "interleaved" });
  it("times are not in it; bytes, counts, links and flags are", () => {
    const key = shapeKey(c, true);
    expect(shapeKey(retimed(c, 5), true)).toBe(key);
    expect(shapeKey(c, false)).not.toBe(key);
    expect(shapeKey({ ...c, layer: { ...c.layer, bytes: c.layer.bytes + 2 } }, true)).not.toBe(key);
    expect(shapeKey({ ...c, microBatches: c.microBatches * 2 }, true)).not.toBe(key);
    expect(shapeKey({ ...c, bucketBytes: c.bucketBytes / 2 }, true)).not.toBe(key);
    expect(shapeKey({ ...c, p2p: { ...c.p2p, inter: !c.p2p.inter } }, true)).not.toBe(key);
    expect(shapeKey({ ...c, blockingSends: !c.blockingSends }, true)).not.toBe(key);
    expect(shapeKey({ ...c, stageLayers: [7, 6, 6, 6, 6, 6, 6, 5] }, true)).not.toBe(key);
  });
  it("a plan and the same plan with selective recompute share it (the closed form's top 20 pairs)", () => {
    const p: Plan = { ...base, tp: 2, pp: 4, dp: 2, zero: 1, vpp: 2, schedule: "interleaved", sequenceParallel: true };
    const none = buildSimCosts(gpt, h100, t(16), p);
    const selective = buildSimCosts(gpt, h100, t(16), { ...p, recompute: "selective" });
    expect(selective.layer.recompute.compute).toBeGreaterThan(0);
    expect(shapeKey(selective, true)).toBe(shapeKey(none, true));
  });
});

describe("where the graph would not be the one the costs build, it is built anew", () => {
  it("a collective now on the other link: refill refuses, the Simulator builds", () => {
    const c = dpCosts(1, 0.5);
    const flipped: SimCosts = { ...c, dpCollective: (kind, bytes) => ({ ...c.dpCollective(kind, bytes), inter: false }) };
    expect(shapeKey(flipped, true)).toBe(shapeKey(c, true));
    expect(refill(built(c, true), flipped)).toBe(false);
    const sim = new Simulator();
    simulateCosts(c, false, sim);
    expect(simulateCosts(flipped, false, sim)).toEqual(simulateCosts(flipped, false));
  });
  it("a bucket now ready at its producer's very end (a partial dependency become whole): refused", () => {
    // 4 layers of 100 bytes in 100-byte buckets: each bucket is the whole of its layer, ready at
    // fraction 1 (a whole dependency); with 150-byte buckets the first ends half-way through the
    // second layer's bytes, at gradFrom + 0.5·(1 − gradFrom) of its time. A recompute of 1 s
    // before a backward of 1e-20 s makes gradFrom = 1/(1 + 1e-20) = 1 in doubles, so that point
    // is 1: a whole dependency where the first costs had a partial one. (Per-layer graph: a
    // coarse one plays the 4 layers as one operation, where that point is (1 + 1)/4.)
    const c = dpCosts(0, 0.5, 0, { bucketBytes: 150 });
    const late: SimCosts = { ...c, layer: { ...c.layer, recompute: { compute: 1, tp: 0 }, backward: { compute: 1e-20, tp: 0 } } };
    expect(shapeKey(late, false)).toBe(shapeKey(c, false));
    expect(refill(built(c, false), late)).toBe(false);
    expect(refill(built(c, false), late, true)).toBe(false);
    const sim = new Simulator();
    simulateCosts(c, true, sim);
    expect(simulateCosts(late, true, sim)).toEqual(simulateCosts(late, true));
    // the other way: built with that whole dependency, the graph is not replayed at all
    const g = built(late, false);
    expect(g.reusable).toBe(false);
    expect(refill(g, c)).toBe(false);
  });
});

describe("simulateTop: each plan's figures are its own simulation's, whatever shares its graph", () => {
  it("gpt3-like's top 20 (8 plans replay the graph of the plan of their shape before them)", () => {
    const req = buildRequest(parsePlanArgs(["--model", "gpt3-like"]));
    const { plans } = search(req.model, req.hw, req.training, req.fixed, { top: 20 });
    const keys = new Set(plans.map((p) => shapeKey(buildSimCosts(req.model, req.hw, req.training, p), true)));
    expect(plans.length - keys.size).toBeGreaterThan(0);
    const top = simulateTop(req.model, req.hw, req.training, plans);
    expect(top.simulated).toEqual(plans.map((p) => simulateSummary(req.model, req.hw, req.training, p)));
  });
});
