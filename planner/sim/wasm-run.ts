// Playing an Engine's operations out in WebAssembly (wasm/engine.ts, the rules of run.ts in
// AssemblyScript; engine-wasm.ts holds its bytes). A CLI process simulates some twenty steps
// and exits: in JavaScript the event loop ran interpreted for most of them, waiting for V8's
// optimising compiler (a cold simulation cost 3–4× a compiled one), while WebAssembly runs at
// compiled speed from its first event (issue 11, start-up). Same rules, same order, same f64
// arithmetic: the results are run.ts's to the bit (test/sim/wasm-engine.test.ts plays both).
//
// The tables are copied into the instance's linear memory, laid out one after another; the
// instance belongs to the Arena of the simulations that use it (one run at a time).
import { ENGINE_WASM } from "./engine-wasm.js";
import type { EngineResult, RunTables } from "./run.js";

// The WebAssembly API as this module uses it (TypeScript's declarations of it come with the DOM
// library, which this project does not compile against).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The graph builder's exports (wasm/graph.ts; graph-wasm.ts calls them). */
export interface GraphExports {
  setGraphTables(...offsets: number[]): void;
  stagePasses(stream: number, order: number, k: number, V: number, M: number, lastChunk: number, perLayer: number, firstForward: number, chOf: number, layersOf: number, kinds: number, embedBytes: number, headBytes: number, layerBytes: number, expertBytes: number): void;
  addOp(stream: number, info: number, pass: number, index: number, bytes: number, route: number): number;
  sends(P: number, V: number, M: number, ahead: number, behind: number, ppStream: number, activation: number, gradient: number, routes: number, blocking: number): void;
  retimeOps(count: number, pre: number, work: number, post: number, opPre: number, opWork: number, opPost: number): void;
  graphOps(): number;
  graphEdges(): number;
  graphBad(): number;
  graphBadOp(): number;
  graphBadOn(): number;
  graphBadN(): number;
  setPartTables(partTo: number, partFrom: number, partNext: number, partFraction: number, ops: number, edges: number, parts: number): void;
  dep(op: number, on: number): void;
  depsOn(op: number, ons: number, count: number): void;
  graphParts(): number;
  graphOver(): number;
  setDpTables(kindLayers: number, kindGradFrom: number, partBytes: number): void;
  reduceBuckets(stream: number, opBytes: number, first: number, last: number, cap: number, gradScale: number): number;
  gatherBuckets(stream: number, opBytes: number, first: number, last: number, cap: number, gatherScale: number, after: number): number;
  dpReusable(): number;
  refillTimes(n: number, nParts: number, opInfo: number, partFrom: number, partBytes: number, layers: number, gradFrom: number, partFraction: number, pre: number, work: number, post: number, opPre: number, opWork: number, opPost: number): number;
  stageOrder(schedule: number, pp: number, v: number, V: number, M: number, s: number, order: number, gradPass: number, firstForward: number, lastGrad: number): number;
}

interface Exports extends GraphExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  setTables(...offsets: number[]): void;
  setState(...offsets: number[]): void;
  run(n: number, nStreams: number, nLinks: number): number;
  latest(n: number): number;
  setSummaryTables(...offsets: number[]): void;
  summarize(n: number, stages: number): number;
}

/** A data-parallel collective's kind of operation for its bytes, and then its route. */
export interface CollectiveKinds {
  kind(bytes: number): number;
  route(): number;
}

/** What sumSummary (stage-sums.ts) hands the engine for its one pass: the first `n` operations'
 *  kinds (opInfo), per kind its stage, stream (0 compute, 1 pp, 2 dp) and parts (partAt[i] …
 *  partAt[i + 1] − 1: a column and a duration each), and each of the `stages` stages' first
 *  compute operation (first[s]; first[stages]: the first operation that is none). */
export interface SummaryTables {
  n: number;
  stages: number;
  opInfo: Int32Array;
  stageOf: Int32Array;
  streamOf: Int32Array;
  partAt: Int32Array;
  col: Int32Array;
  dur: Float64Array;
  first: Int32Array;
}

/** Where the layout starts: above anything the compiled module keeps in its memory. */
const BASE = 65536;
const PAGE = 65536;
/** Pages the module's memory starts with (asc --initialMemory, src/build-wasm.ts ASC_OPTIONS):
 *  24 MiB, more than the CLI's simulations lay out (gpt3-like's top 20 6.7 MiB, deepseek-v3 on
 *  2,048 GPUs 11.5 MiB), instantiated in ~0.1 ms (32 MiB took ~0.6 ms). Growing the memory
 *  detaches its ArrayBuffer, and the first ArrayBuffer a process detaches makes V8 throw away
 *  every optimised function that reads a typed array (its "array buffer detaching" protector):
 *  in a CLI process that was the search's and the graph building's compiled code, in the middle
 *  of the first simulation (issue 11, start-up). Pages are only reserved until written. A larger
 *  layout still grows the memory. */
export const INITIAL_PAGES = 384;

/** Bytes play() leaves after its layout for summarize()'s tables: 4 a kind of operation's index, 24
 *  the busy times of a compute operation, per kind its stage, stream and parts (kinds: at most one
 *  per operation and ten per stage more; parts: at most eight a kind), per stage its sums. */
function summaryRoom(n: number, nStreams: number): number {
  const kinds = n + 10 * nStreams + 64;
  return 8 * (Math.ceil((28 * n) / 8) + Math.ceil((12 * (kinds + 1) + 96 * kinds) / 8) + 128 * (nStreams + 1) + 16);
}

/** An instance of the engine and its memory. */
export class WasmEngine {
  private readonly x: Exports;
  /** Times the memory grew (INITIAL_PAGES): none for the CLI's simulations. */
  grows = 0;
  /** The last play's result, where its start, end and binder lie in memory, and where the
   *  memory it laid out ends: summarize() reads them in place. */
  private last: { result: EngineResult; start: number; end: number; binder: number; at: number } | null = null;

  /** The graph builder's import (wasm/graph.ts runKind): the stage's StageKinds.run. */
  private runKind: (kind: number, n: number) => number = () => {
    throw new Error("runKind: no stage being built");
  };

  constructor() {
    // (a plain loop: Uint8Array.from with a function called it per byte, ~1-2 ms in a fresh
    // process against ~0.3 ms)
    const text = atob(ENGINE_WASM);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const imports = {
      env: { runKind: (kind: number, n: number) => this.runKind(kind, n), dpKind: (bytes: number) => this.dp.kind(bytes), dpRoute: () => this.dp.route() },
    };
    this.x = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as unknown as Exports;
  }

  /** The graph builder's exports and `bytes` of memory from where it may lay its tables out
   *  (graph-wasm.ts): the last play's result no longer lies there (summarize() refuses it). */
  forBuilder(bytes: number): { x: GraphExports; buffer: ArrayBuffer; base: number } {
    this.last = null;
    const mem = this.x.memory;
    if (BASE + bytes > mem.buffer.byteLength) this.grow(Math.ceil((BASE + bytes - mem.buffer.byteLength) / PAGE));
    return { x: this.x, buffer: mem.buffer, base: BASE };
  }

  /** The bucket loops' imports dpKind and dpRoute (wasm/dp.ts): the kind of operation and the
   *  route of a collective of some bytes, under the label of the loop at hand (dp.ts Label). */
  private dp: CollectiveKinds = {
    kind: () => {
      throw new Error("dpKind: no collectives being built");
    },
    route: () => -1,
  };

  /** What the bucket loops' imports ask (graph-wasm.ts, for a dp.ts Label). */
  setCollectiveKinds(dp: CollectiveKinds): void {
    this.dp = dp;
  }

  /** What the builder's runKind import asks (the stage being built's StageKinds.run). */
  setRunKind(run: (kind: number, n: number) => number): void {
    this.runKind = run;
  }

  /** Play `t` out (run.ts Run.play's contract): when `shared`, the results are tables in this
   *  memory, valid until the next play (or build, forBuilder), else new. */
  play(t: RunTables, shared: boolean): EngineResult {
    const n = t.n;
    const nStreams = t.streamOrdered.length;
    // The routes as one list of distinct links per route (a link listed twice carries a flow once).
    const distinct = t.routes.map((ls) => ls.filter((l, i) => ls.indexOf(l) === i));
    const routeStart = new Int32Array(distinct.length + 1);
    for (let r = 0; r < distinct.length; r++) routeStart[r + 1] = routeStart[r]! + distinct[r]!.length;
    const routeLinks = Int32Array.from(distinct.flat());
    const nRouteLinks = routeLinks.length;
    let nLinks = 0;
    for (const l of routeLinks) nLinks = Math.max(nLinks, l + 1);
    const ordered = Int32Array.from(t.streamOrdered, (o) => (o ? 1 : 0));
    const nEdges = t.nEdges;
    const nParts = t.nParts;
    const events = n + nParts + 1; // at most one event per operation and per partial edge at once
    const flows = n + 1; // at most one flow per operation
    // Layout: [bytes per entry, entries] in the order setTables / setState take them.
    const inputs: Array<[number, number]> = [
      [4, n], [8, n], [8, n], [8, n], [4, n], [4, n], [4, n], [4, nEdges], [4, nEdges], [4, n],
      [4, nParts], [4, nParts], [4, nParts], [8, nParts], [4, routeStart.length], [4, nRouteLinks], [4, nStreams],
    ];
    const state: Array<[number, number]> = [
      [8, n], [8, n], [8, n], [4, n], [1, nStreams], [4, nStreams], [4, nStreams], [4, n],
      [16, events], // the heap's events: time, sequence, kind and payload (wasm/engine.ts)
      [4, flows], [4, flows], [8, flows], [8, flows], [8, flows], [8, flows], [4, flows], [4, nLinks], [4, nLinks],
    ];
    let at = BASE;
    const place = (bytes: number, count: number) => {
      const off = at;
      at += Math.ceil((bytes * Math.max(count, 1)) / 8) * 8;
      return off;
    };
    const inOff = inputs.map(([b, c]) => place(b, c));
    const stOff = state.map(([b, c]) => place(b, c));
    const mem = this.x.memory;
    // Room for summarize()'s tables after the layout too (summaryRoom), so that it does not grow
    // the memory under the result's tables.
    const room = at + summaryRoom(n, nStreams);
    if (room > mem.buffer.byteLength) this.grow(Math.ceil((room - mem.buffer.byteLength) / PAGE));
    const buf = mem.buffer;
    const i32 = (off: number, src: Int32Array, len: number) => new Int32Array(buf, off, len).set(src.subarray(0, len));
    const f64 = (off: number, src: Float64Array, len: number) => new Float64Array(buf, off, len).set(src.subarray(0, len));
    i32(inOff[0]!, t.opStream, n);
    f64(inOff[1]!, t.opPre, n);
    f64(inOff[2]!, t.opWork, n);
    f64(inOff[3]!, t.opPost, n);
    i32(inOff[4]!, t.opRoute, n);
    i32(inOff[5]!, t.pending, n);
    i32(inOff[6]!, t.head, n);
    i32(inOff[7]!, t.edgeTo, nEdges);
    i32(inOff[8]!, t.edgeNext, nEdges);
    i32(inOff[9]!, t.partHead, n);
    i32(inOff[10]!, t.partTo, nParts);
    i32(inOff[11]!, t.partFrom, nParts);
    i32(inOff[12]!, t.partNext, nParts);
    f64(inOff[13]!, t.partFraction, nParts);
    i32(inOff[14]!, routeStart, routeStart.length);
    i32(inOff[15]!, routeLinks, nRouteLinks);
    i32(inOff[16]!, ordered, nStreams);
    this.x.setTables(...inOff);
    this.x.setState(...stOff);
    const done = this.x.run(n, nStreams, nLinks);
    if (done !== n) throw new Error(`simulation deadlocked: ${n - done} of ${n} operations never ran`);
    // Shared (an arena's engine: valid until its next run), the result is the engine's own tables
    // in this memory, not copies: the ranking reads only its summary (summarize()), and copying
    // four tables of every step cost more than the reading.
    const out = (off: number) => (shared ? new Float64Array(buf, off, n) : new Float64Array(buf, off, n).slice());
    const start = out(stOff[0]!);
    const end = out(stOff[1]!);
    const ready = out(stOff[2]!);
    const binder = shared ? new Int32Array(buf, stOff[3]!, n) : new Int32Array(buf, stOff[3]!, n).slice();
    const result: EngineResult = { start, end, ready, binder, makespan: this.x.latest(n), wasm: this };
    this.last = { result, start: stOff[0]!, end: stOff[1]!, binder: stOff[3]!, at };
    return result;
  }

  /** The memory's buffer (replaced, the old one detached, when it grows). */
  get memoryBuffer(): ArrayBuffer {
    return this.x.memory.buffer;
  }

  private grow(pages: number): void {
    this.x.memory.grow(pages);
    this.grows++;
  }

  /** Whether `r` is this engine's last result, still in its memory (summarize() can read it). */
  holds(r: EngineResult): boolean {
    return this.last !== null && this.last.result === r;
  }

  /** stage-sums.ts sumSummary's pass over result `r` (holds(r)) in WebAssembly (wasm/summary.ts):
   *  the same sums into `times`, `cursor` and (given) `overlap`, to the bit; returns the first
   *  operation of the latest end. */
  summarize(r: EngineResult, k: SummaryTables, times: Float64Array, cursor: Float64Array, overlap: Float64Array | null): number {
    const last = this.last;
    if (last === null || last.result !== r) throw new Error("summarize: not this engine's last result");
    const P = k.stages;
    const computeOps = k.first[P]!;
    let at = last.at;
    const place = (bytes: number, count: number) => {
      const off = at;
      at += Math.ceil((bytes * Math.max(count, 1)) / 8) * 8;
      return off;
    };
    const nParts = k.partAt[k.partAt.length - 1]!;
    const off = {
      opInfo: place(4, k.n), stageOf: place(4, k.stageOf.length), streamOf: place(4, k.streamOf.length), partAt: place(4, k.partAt.length),
      col: place(4, nParts), dur: place(8, nParts), first: place(4, P + 1), times: place(8, times.length), cursor: place(8, P),
    };
    const over = overlap ? { overlap: place(8, P), from: place(8, computeOps), to: place(8, computeOps), busy: place(8, computeOps) } : { overlap: 0, from: 0, to: 0, busy: 0 };
    const mem = this.x.memory;
    if (at > mem.buffer.byteLength) {
      // (beyond play()'s room: the result's tables are copied out of the memory before it grows)
      r.start = r.start.slice();
      r.end = r.end.slice();
      r.ready = r.ready.slice();
      r.binder = r.binder.slice();
      this.grow(Math.ceil((at - mem.buffer.byteLength) / PAGE));
    }
    const buf = mem.buffer;
    new Int32Array(buf, off.opInfo, k.n).set(k.opInfo.subarray(0, k.n));
    new Int32Array(buf, off.stageOf, k.stageOf.length).set(k.stageOf);
    new Int32Array(buf, off.streamOf, k.streamOf.length).set(k.streamOf);
    new Int32Array(buf, off.partAt, k.partAt.length).set(k.partAt);
    new Int32Array(buf, off.col, nParts).set(k.col.subarray(0, nParts));
    new Float64Array(buf, off.dur, nParts).set(k.dur.subarray(0, nParts));
    new Int32Array(buf, off.first, P + 1).set(k.first.subarray(0, P + 1));
    this.x.setSummaryTables(off.opInfo, last.start, last.end, last.binder, off.stageOf, off.streamOf, off.partAt, off.col, off.dur, off.first, off.times, off.cursor, over.overlap, over.from, over.to, over.busy);
    const lastOp = this.x.summarize(k.n, P);
    times.set(new Float64Array(buf, off.times, times.length));
    cursor.set(new Float64Array(buf, off.cursor, P));
    if (overlap) overlap.set(new Float64Array(buf, over.overlap, P));
    return lastOp;
  }
}
