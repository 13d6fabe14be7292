// buildGraph makes a step's compute operations and sends in WebAssembly (planner/sim/wasm/graph.ts,
// graph-wasm.ts); graph.ts addPassOps and addSends (buildGraph's `reference`) are the readable
// reference. Both must give the same graph, table for table: every operation's stream, route,
// kind, pass, index, bytes and times, every dependency in the same order, every kind of
// operation, each pass's first and last operation — before the data-parallel collectives and
// after dp.ts has added them to it (which appends to the lists the builder made), and with the
// collectives' bucket loops run in WebAssembly too (buildGraph `open`, wasm/dp.ts), as the
// Simulator builds its graphs.
import { describe, expect, it } from "vitest";
import { buildSimCosts, type SimCosts } from "../../planner/sim/costs.js";
import { addDataParallel } from "../../planner/sim/dp.js";
import { buildGraph, type Graph } from "../../planner/sim/graph.js";
import { dataParallelRoom } from "../../planner/sim/graph-wasm.js";
import { Arena } from "../../planner/sim/heap.js";
import { search } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { preset } from "../planner/fixtures.js";
import { SHAPE_CASES, base, engine, gpt, h100, t } from "./shape-cases.js";

const llama8b = preset("llama3-8b");
const cases: Array<[string, SimCosts]> = [
  ...SHAPE_CASES,
  ["pp 4 1F1B, ZeRO-0, no data parallel", buildSimCosts(gpt, h100, t(4), { ...base, pp: 4, dp: 1 })],
  ["pp 4 zbv, torchtitan", buildSimCosts(gpt, h100, t(16, { engine: engine("torchtitan") }), { ...base, pp: 4, dp: 4, vpp: 2, schedule: "zbv" })],
  ["pp 3 uneven stages 7 · 9 · 8", buildSimCosts(gpt, h100, t(12, { globalBatch: 48 }), { ...base, pp: 3, dp: 4, stageLayers: [7, 9, 8] })],
  ["pp 2 v 2 uneven virtual stages", buildSimCosts(gpt, h100, t(16), { ...base, pp: 2, dp: 8, vpp: 2, schedule: "interleaved", stageLayers: [5, 7, 7, 5] })],
  ["context parallel 2, ring", buildSimCosts(llama8b, h100, t(16, { globalBatch: 16, seqLen: 32768 }), { ...base, tp: 2, cp: 2, dp: 4, sequenceParallel: true, cpComm: "ring" })],
  ["pp 4 1F1B, ZeRO-1, no overlap", buildSimCosts(gpt, h100, t(16, { overlapGradReduce: false }), { ...base, pp: 4, dp: 4, zero: 1 })],
  ["pp 2 1F1B, ZeRO-2, no overlap", buildSimCosts(gpt, h100, t(16, { overlapGradReduce: false }), { ...base, pp: 2, dp: 8, zero: 2 })],
];

/** A table's first `n` entries as bytes (doubles bit for bit). */
const bits = (a: Int32Array | Float64Array, n: number) => Buffer.from(a.buffer, a.byteOffset, Math.min(n, a.length) * a.BYTES_PER_ELEMENT).toString("hex");

function expectSameGraph(wasm: Graph, ref: Graph): void {
  const a = wasm.engine.runTables();
  const b = ref.engine.runTables();
  expect(a.n).toBe(b.n);
  expect(a.nEdges).toBe(b.nEdges);
  expect(a.nParts).toBe(b.nParts);
  expect(a.routes).toEqual(b.routes);
  expect(a.streamOrdered).toEqual(b.streamOrdered);
  for (const k of ["opStream", "opPre", "opWork", "opPost", "opRoute", "pending", "head", "partHead"] as const) expect(bits(a[k], a.n), k).toBe(bits(b[k], b.n));
  for (const k of ["edgeTo", "edgeNext"] as const) expect(bits(a[k], a.nEdges), k).toBe(bits(b[k], b.nEdges));
  for (const k of ["partTo", "partFrom", "partNext", "partFraction"] as const) expect(bits(a[k], a.nParts), k).toBe(bits(b[k], b.nParts));
  for (const k of ["opInfo", "opPass", "opIndex", "opBytes", "opExpertBytes"] as const) expect(bits(wasm[k], a.n), k).toBe(bits(ref[k], b.n));
  for (const k of ["firstOp", "lastOp", "gradPass", "chunkFirstForward", "chunkLastGrad"] as const) expect(bits(wasm[k], wasm[k].length), k).toBe(bits(ref[k], ref[k].length));
  expect(wasm.infos).toEqual(ref.infos);
  expect(wasm.recipes).toEqual(ref.recipes);
  expect(bits(wasm.infoPre, wasm.infos.length)).toBe(bits(ref.infoPre, ref.infos.length));
  expect(wasm.optimizerOp).toEqual(ref.optimizerOp);
  expect(wasm.order.map((o) => Array.from(o))).toEqual(ref.order.map((o) => Array.from(o)));
  expect(wasm.reductions).toEqual(ref.reductions);
  expect(wasm.partBytes).toEqual(ref.partBytes);
  expect(wasm.reusable).toBe(ref.reusable);
}

/** Build `c` both ways (separate arenas), compare, add the collectives to both, compare again,
 *  and play both: the same step. Then left open for the collectives (their bucket loops in
 *  WebAssembly), the same graph again; returns whether it was left open (dataParallelRoom). */
function expectBothWays(c: SimCosts, coarse: boolean): boolean {
  const wasm = buildGraph(c, new Arena(), coarse);
  const ref = buildGraph(c, new Arena(), coarse, true);
  expect(wasm.engine.opCount).toBeGreaterThan(0);
  expectSameGraph(wasm, ref);
  addDataParallel(wasm);
  addDataParallel(ref);
  expectSameGraph(wasm, ref);
  expect(wasm.engine.run().makespan).toBe(ref.engine.run().makespan);
  const open = buildGraph(c, new Arena(), coarse, false, true);
  const opened = open.build !== null;
  addDataParallel(open);
  if (open.build) expect(open.build.finish()).toBe(true);
  expect(open.build).toBeNull();
  expectSameGraph(open, ref);
  expect(open.engine.run().makespan).toBe(ref.engine.run().makespan);
  return opened;
}

describe("the WebAssembly graph builder makes graph.ts's graph", () => {
  it.each(cases)("%s", (_, c) => {
    // left open wherever there are collectives other than ZeRO-3's (dp.ts adds those)
    const open = (c.dp > 1 || c.expert !== null) && c.zero !== 3;
    for (const coarse of [true, false]) expect(expectBothWays(c, coarse)).toBe(open);
  });

  it("GPipe's, 1F1B's and the interleaved schedule's order (wasm/order.ts) on every stage: warm-up, steady, cool-down", () => {
    // 1F1B with fewer micro-batches than stages (warm-up min(p − i − 1, m) = m on the first
    // stages), the interleaved schedule with m = p (all m·v forwards first) and m = 2p, 3 chunks
    const plans: Array<[number, number, Plan["schedule"], number]> = [
      [4, 1, "1f1b", 2], [4, 1, "1f1b", 8], [4, 1, "gpipe", 4], [4, 2, "interleaved", 4], [4, 2, "interleaved", 8], [2, 3, "interleaved", 4], [8, 3, "interleaved", 16],
    ];
    for (const [pp, vpp, schedule, m] of plans) {
      const c = buildSimCosts(gpt, h100, t(16 * pp, { globalBatch: 16 * m }), { ...base, pp, vpp, dp: 16, schedule });
      expect(c.microBatches).toBe(m);
      expectBothWays(c, true);
    }
  });

  it("the top 20 of gpt3-like on 1,024 H100s", () => {
    const m = preset("gpt3-like");
    const training: Training = { gpus: 1024, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const plans = search(m, h100, training, {}, { top: 20 }).plans;
    expect(plans.length).toBe(20);
    for (const p of plans) expect(expectBothWays(buildSimCosts(m, h100, training, p), true)).toBe(true);
  });

  it("the collectives' room is a bound: what they make fits it; past it, finish() copies nothing", () => {
    for (const [, c] of cases) {
      const maxLayers = c.stageLayers ? Math.max(...c.stageLayers) : c.layersPerChunk;
      const g = buildGraph(c, new Arena(), false);
      const before = g.engine.opCount;
      addDataParallel(g);
      // ops made by dp.ts (its collectives and the tied embedding's all-reduce) ≤ the room
      if (dataParallelRoom(c, maxLayers) > 0) expect(g.engine.opCount - before).toBeLessThanOrEqual(dataParallelRoom(c, maxLayers));
    }
    const c = cases[0]![1];
    const g = buildGraph(c, new Arena(), true, false, true);
    const room = dataParallelRoom(c, c.layersPerChunk);
    expect(room).toBeGreaterThan(0);
    const build = g.build!;
    // more operations than the room and the compute operations' (pp 4 · v 2 · 16 micro-batches of
    // 3 layers: at most 4·(3·2·16·(3 + 2) + 1) + 2·4·2·16 = 2,180): refused, nothing copied
    expect(c.pp * c.vpp * c.microBatches * c.layersPerChunk).toBe(4 * 2 * 16 * 3);
    for (let i = 0; i < room + 2180; i++) build.addOp(g.streams.dp[0]!, 0, -1, i, 0, -1);
    expect(build.finish()).toBe(false);
    expect(g.engine.opCount).toBe(0);
    expect(g.build).toBeNull();
  });

  it("a graph whose tables need more than the engine's first 24 MiB: the memory grows, the same graph", () => {
    // 4,096 micro-batches on pp 4, one operation a layer: room for ~430,000 operations laid out
    const c = buildSimCosts(gpt, h100, t(16, { globalBatch: 16384 }), { ...base, pp: 4, dp: 4 });
    expect(c.microBatches).toBe(4096);
    const arena = new Arena();
    const wasm = buildGraph(c, arena, false);
    expect(arena.engine().grows).toBeGreaterThan(0);
    expectSameGraph(wasm, buildGraph(c, new Arena(), false, true));
  });

  it("one arena for both, one graph after the other (the builder's memory is the engine's)", () => {
    // the WebAssembly builder lays its tables out where the engine plays: a graph built after a
    // run must not find the run's result still held (WasmEngine.holds), nor the run the graph's
    const c = cases[0]![1];
    const arena = new Arena();
    const first = buildGraph(c, arena, true);
    addDataParallel(first);
    const r = first.engine.run();
    expect(r.wasm!.holds(r)).toBe(true);
    const second = buildGraph(c, arena, true);
    expect(r.wasm!.holds(r)).toBe(false);
    addDataParallel(second);
    expect(second.engine.run().makespan).toBe(r.makespan);
  });
});
