// The simulator's event engine runs in WebAssembly (planner/sim/wasm/engine.ts, AssemblyScript;
// wasm-run.ts). It must be run.ts to the bit — the same start, end, ready time and binder of
// every operation — on the plans the planner simulates (every schedule, ZeRO stage, recompute,
// uneven stages, context and expert parallel) and on random graphs of streams, shared links
// and partial dependencies; and the committed bytes must be what asc makes of the source.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDataParallel } from "../../planner/sim/dp.js";
import { Engine, type EngineResult } from "../../planner/sim/events.js";
import { buildGraph } from "../../planner/sim/graph.js";
import { Arena } from "../../planner/sim/heap.js";
import { linkId } from "../../planner/sim/links.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { ENGINE_WASM } from "../../planner/sim/engine-wasm.js";
import { search } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { compileEngine } from "../../src/build-wasm.js";
import { Simulator, simulateCosts } from "../../planner/sim/simulate.js";
import { INITIAL_PAGES } from "../../planner/sim/wasm-run.js";
import { hardware, preset } from "../planner/fixtures.js";

/** The bytes of a table, for a bit-for-bit comparison (NaN payloads and signed zeros included). */
const bits = (a: Float64Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
/** The result's tables copied: with an arena, the next run (either engine) writes the same ones. */
const copyOf = (r: EngineResult): EngineResult => ({ ...r, start: r.start.slice(), end: r.end.slice(), ready: r.ready.slice(), binder: r.binder.slice() });
function expectSame(wasm: EngineResult, reference: EngineResult): void {
  expect(wasm.makespan).toBe(reference.makespan);
  for (const k of ["start", "end", "ready", "binder"] as const) expect(bits(wasm[k]), k).toBe(bits(reference[k]));
}

const h100 = hardware("dgx-h100");
const base: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const t = (gpus: number, globalBatch: number, seqLen = 2048): Training => ({ gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true });

describe("the WebAssembly engine plays a step out as run.ts does", () => {
  const gpt = preset("gpt3-1.3b");
  const cases: Array<[string, ReturnType<typeof preset>, Training, Plan]> = [
    ["1F1B pp 4, ZeRO-1", gpt, t(16, 64), { ...base, pp: 4, dp: 4, zero: 1 }],
    ["GPipe, ZeRO-2, full recompute", gpt, t(16, 64), { ...base, pp: 4, dp: 4, zero: 2, recompute: "full", schedule: "gpipe" }],
    ["interleaved v 3", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 3, schedule: "interleaved" }],
    ["tp 2 pp 2, ZeRO-3, selective", gpt, t(16, 64), { ...base, tp: 2, pp: 2, dp: 4, zero: 3, recompute: "selective", microBatch: 2 }],
    ["zero-bubble zb1p", gpt, t(16, 64), { ...base, pp: 4, dp: 4, schedule: "zb1p" }],
    ["zbv", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 2, schedule: "zbv" }],
    ["dualpipev", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 2, schedule: "dualpipev" }],
    ["uneven stages", gpt, t(12, 48), { ...base, pp: 3, dp: 4, stageLayers: [7, 9, 8] }],
    ["context parallel 2, ring", preset("llama3-8b"), t(16, 16, 32768), { ...base, tp: 2, cp: 2, dp: 4, sequenceParallel: true, cpComm: "ring" }],
    ["experts: ep 4, pp 2", preset("mixtral-8x7b"), t(64, 128, 4096), { ...base, tp: 2, pp: 2, dp: 16, ep: 4, zero: 1, sequenceParallel: true }],
  ];
  it.each(cases)("%s", (_, m, training, plan) => {
    const g = buildGraph(buildSimCosts(m, h100, training, plan), new Arena());
    addDataParallel(g);
    // (copied first: run(true) writes its result into the same arena tables)
    expectSame(copyOf(g.engine.run()), g.engine.run(true));
  });

  it("the top 20 of gpt3-like on 1,024 H100s, one arena for all", () => {
    const m = preset("gpt3-like");
    const training = t(1024, 1536);
    const plans = search(m, h100, training, {}, { top: 20 }).plans;
    expect(plans.length).toBe(20);
    const arena = new Arena();
    for (const p of plans) {
      const g = buildGraph(buildSimCosts(m, h100, training, p), arena);
      addDataParallel(g);
      expectSame(copyOf(g.engine.run()), g.engine.run(true));
    }
  });
});

describe("random graphs: streams, shared links, partial dependencies", () => {
  const graph = fc.record({
    streams: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    ops: fc.array(
      fc.record({
        stream: fc.nat(4),
        pre: fc.double({ min: 0, max: 5, noNaN: true }),
        work: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true })),
        post: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
        links: fc.array(fc.nat(5), { maxLength: 3 }),
        deps: fc.array(fc.tuple(fc.nat(40), fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }))), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  });
  it("the same times, binders and makespan (dependencies only on earlier operations: no cycle)", () => {
    fc.assert(
      fc.property(graph, ({ streams, ops }) => {
        const e = new Engine(4);
        const ids = streams.map((ordered) => e.addStream(ordered));
        const made: Array<{ id: number; fixed: boolean }> = [];
        for (const o of ops) {
          const links = o.links.map((l) => linkId(l >> 1, (l & 1) === 1, false));
          const id = e.add({ stream: ids[o.stream % ids.length]!, pre: o.pre, ...(o.work > 0 ? { work: o.work, links } : {}), post: o.post });
          for (const [on, fraction] of o.deps) {
            if (made.length === 0) break;
            const dep = made[on % made.length]!;
            e.dep(id, dep.id, dep.fixed ? fraction : 1); // part-way only through a fixed-time operation
          }
          made.push({ id, fixed: !(o.work > 0) });
        }
        expectSame(copyOf(e.run()), e.run(true));
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });
});

describe("the engine's memory", () => {
  it("is never grown by the top 20 of gpt3-like: a grown memory detaches its ArrayBuffer, and V8 then drops the process's optimised typed-array code", () => {
    const m = preset("gpt3-like");
    const training = t(1024, 1536);
    const plans = search(m, h100, training, {}, { top: 20 }).plans;
    const sim = new Simulator();
    const engine = sim.arena.engine();
    const buffer = engine.memoryBuffer;
    expect(buffer.byteLength).toBe(INITIAL_PAGES * 65536);
    for (const p of plans) simulateCosts(buildSimCosts(m, h100, training, p), false, sim);
    expect(engine.grows).toBe(0);
    expect(engine.memoryBuffer).toBe(buffer);
  });

  it("grows for a layout larger than it (the same results)", () => {
    const e = new Engine(4);
    const s = e.addStream(true);
    let last = -1;
    // ~200 bytes of layout an operation: 250,000 of them need more than INITIAL_PAGES' 24 MiB
    for (let i = 0; i < 250_000; i++) {
      const op = e.op(s, 1e-3);
      if (last >= 0) e.dep(op, last);
      last = op;
    }
    const r = e.run();
    expect(r.wasm!.grows).toBeGreaterThan(0);
    expectSame(r, e.run(true));
  });
});

describe("the committed engine", () => {
  it("is what asc makes of planner/sim/wasm/engine.ts (npm run build:wasm writes it)", async () => {
    const bytes = await compileEngine();
    expect(Buffer.from(bytes).toString("base64")).toBe(ENGINE_WASM);
  }, 60_000);
});
