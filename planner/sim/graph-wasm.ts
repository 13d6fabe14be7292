// Building a step's compute operations and pipeline sends in WebAssembly (wasm/graph.ts, the rules
// of graph.ts addPassOps and addSends in AssemblyScript), for buildGraph: the tables laid out in
// the engine's memory, filled there, then copied into the Engine and the Graph. The kinds of
// operation are registered here as graph.ts registers them, in the same order, so that the graph
// is the one graph.ts builds, table for table (test/sim/graph-wasm.test.ts). A fresh process
// built its first graphs in the interpreter, most of a cold simulation (issue 11, start-up).
import type { SimCosts } from "./cost-types.js";
import type { Engine } from "./events.js";
import type { Graph } from "./graph.js";
import { addInfo } from "./infos.js";
import { linkId } from "./links.js";
import { globalStage, stageOf } from "./schedule.js";
import type { CollectiveKinds, GraphExports } from "./wasm-run.js";

/** What a stage's compute operations are made of (graph.ts StageKinds): its ten kinds, in the
 *  order wasm/graph.ts reads them, and its runs of n layers. */
export interface StageKindsLike {
  readonly embedF: number;
  readonly embedB: number;
  readonly layerF: number;
  readonly layerB: number;
  readonly headF: number;
  readonly headB: number;
  readonly layerI: number;
  readonly layerW: number;
  readonly headI: number;
  readonly headW: number;
  run(kind: number, n: number): number;
}

/** Room laid out for one graph's compute operations and sends, bounds of what they can take. */
export class WasmGraphBuilder {
  private readonly x: GraphExports;
  private readonly buf: ArrayBuffer;
  private readonly off: Record<string, number> = {};
  private readonly nPasses: number;

  /** Whether the data-parallel collectives are being added here (open()). */
  private opened = false;

  /** `maxLayers`: the most layers of a chunk (a pass's operations: that many, its embedding and
   *  its head); `dpRoom`: room for the data-parallel collectives made here (dataParallelRoom), 0
   *  where dp.ts adds them to the Engine after finish(). */
  constructor(
    private readonly g: Graph,
    maxLayers: number,
    private readonly dpRoom = 0,
  ) {
    const c = g.costs;
    const P = c.pp;
    const V = c.vpp;
    const M = c.microBatches;
    const e = g.engine;
    const passesPerStage = 3 * V * M;
    this.nPasses = P * passesPerStage;
    const sendsBound = 2 * P * V * M;
    const computeBound = P * (passesPerStage * (Math.ceil(maxLayers) + 2) + 1) + sendsBound;
    const opsBound = computeBound + dpRoom;
    // One edge per operation on an ordered stream, three per send, one per turn of a V; per
    // collective one on what it waits for, one for the optimizer or a later operation, and one
    // per gathered operation waiting for its bucket.
    const edgesBound = computeBound + 4 * sendsBound + (dpRoom > 0 ? 3 * dpRoom + computeBound + 4 * P + 16 : 0);
    const partsBound = dpRoom;
    const nStreams = e.streamCount;
    const layout: Array<[string, number, number]> = [
      ["opStream", 4, opsBound], ["opRoute", 4, opsBound], ["pending", 4, opsBound], ["head", 4, opsBound], ["tail", 4, opsBound],
      ["partHead", 4, opsBound], ["partTail", 4, opsBound], ["edgeTo", 4, edgesBound], ["edgeNext", 4, edgesBound],
      ["streamLast", 4, nStreams], ["streamOrdered", 4, nStreams], ["opInfo", 4, opsBound], ["opPass", 4, opsBound],
      ["opIndex", 4, opsBound], ["opBytes", 8, opsBound], ["opExpertBytes", 8, opsBound], ["firstOp", 4, this.nPasses],
      ["lastOp", 4, this.nPasses], ["gradPass", 4, this.nPasses],
      ["order", 4, passesPerStage], ["chOf", 4, V], ["layersOf", 8, V], ["firstForward", 4, V], ["kinds", 4, 10],
      ["ahead", 4, 2 * P * V], ["behind", 4, 2 * P * V], ["ppStream", 4, P], ["activation", 4, P], ["gradient", 4, P], ["routes", 4, P * P],
      ["opPre", 8, opsBound], ["opWork", 8, opsBound], ["opPost", 8, opsBound],
      ["chunkFirst", 4, P * V], ["chunkLast", 4, P * V], ["ons", 4, dpRoom],
      ["partTo", 4, partsBound], ["partFrom", 4, partsBound], ["partNext", 4, partsBound], ["partFraction", 8, partsBound], ["partBytes", 8, partsBound],
    ];
    let bytes = 0;
    for (const [, b, count] of layout) bytes += Math.ceil((b * Math.max(count, 1)) / 8) * 8;
    // (the kinds' times last: their count is known only at the end)
    const w = g.arena.engine().forBuilder(bytes + 3 * 8 * (g.infos.length + 64 + opsBound));
    this.x = w.x;
    let at = w.base;
    for (const [name, b, count] of layout) {
      this.off[name] = at;
      at += Math.ceil((b * Math.max(count, 1)) / 8) * 8;
    }
    this.off.kindTimes = at;
    this.buf = w.buffer;
    const { off, buf } = this;
    new Int32Array(buf, off.streamLast!, nStreams).fill(-1);
    const ordered = new Int32Array(buf, off.streamOrdered!, nStreams);
    for (let s = 0; s < nStreams; s++) ordered[s] = e.isOrdered(s) ? 1 : 0;
    new Int32Array(buf, off.firstOp!, this.nPasses).fill(-1);
    new Int32Array(buf, off.lastOp!, this.nPasses).fill(-1);
    const o = (k: string) => off[k]!;
    this.x.setGraphTables(o("opStream"), o("opRoute"), o("pending"), o("head"), o("tail"), o("partHead"), o("partTail"), o("edgeTo"), o("edgeNext"), o("streamLast"), o("streamOrdered"), o("opInfo"), o("opPass"), o("opIndex"), o("opBytes"), o("opExpertBytes"), o("firstOp"), o("lastOp"), o("gradPass"));
    this.x.setPartTables(o("partTo"), o("partFrom"), o("partNext"), o("partFraction"), opsBound, edgesBound, partsBound);
  }

  /** After the compute operations and sends: the graph's tables so far copied into the Graph (dp.ts
   *  reads them), and the data-parallel collectives to be added here (Graph.build: graph.ts addOp
   *  and dep, dp.ts's bucket loops), until finish(). */
  open(): void {
    const { g, off, buf, x } = this;
    const n = x.graphOps();
    this.copyGraphTables(n);
    // Per kind so far (the compute operations' kinds, the producers of gradients): its layers and
    // where its gradients start, where finish() will lay the kinds' times.
    const K = g.infos.length;
    writeKindGrads(g, new Float64Array(buf, off.kindTimes!, K), new Float64Array(buf, off.kindTimes! + 8 * K, K));
    x.setDpTables(off.kindTimes!, off.kindTimes! + 8 * K, off.partBytes!);
    this.opened = true;
    g.build = this;
  }

  /** graph.ts addOp, while open. */
  addOp(stream: number, info: number, pass: number, index: number, bytes: number, route: number): number {
    return this.x.addOp(stream, info, pass, index, bytes, route);
  }

  /** events.ts dep(), while open (out of range: finish() throws). */
  dep(op: number, on: number): void {
    this.x.dep(op, on);
  }

  /** events.ts dep() of `op` on each of `ons` in order, while open (wasm/graph.ts depsOn; `ons`
   *  no longer than the collectives' room). */
  depsOn(op: number, ons: readonly number[]): void {
    if (ons.length > this.dpRoom) {
      for (let i = 0; i < ons.length; i++) this.x.dep(op, ons[i]!);
      return;
    }
    new Int32Array(this.buf, this.off.ons!, ons.length).set(ons);
    this.x.depsOn(op, this.off.ons!, ons.length);
  }

  /** dp.ts reducePass's buckets (overlapped) of one side's weights (`expert`: Graph.opExpertBytes,
   *  else opBytes) of operations first … last, their kinds and routes from `kinds`: wasm/dp.ts
   *  reduceBuckets. Returns the first bucket's operation and how many there are (one after
   *  another). */
  reduceBuckets(stream: number, expert: boolean, first: number, last: number, cap: number, gradScale: number, kinds: CollectiveKinds): { first: number; count: number } {
    const x = this.x;
    this.g.arena.engine().setCollectiveKinds(kinds);
    const at = x.graphOps();
    return { first: at, count: x.reduceBuckets(stream, expert ? this.off.opExpertBytes! : this.off.opBytes!, first, last, cap, gradScale) };
  }

  /** dp.ts gatherAhead's buckets and dependencies: wasm/dp.ts gatherBuckets. */
  gatherBuckets(stream: number, expert: boolean, first: number, last: number, cap: number, gatherScale: number, after: number, kinds: CollectiveKinds): void {
    this.g.arena.engine().setCollectiveKinds(kinds);
    this.x.gatherBuckets(stream, expert ? this.off.opExpertBytes! : this.off.opBytes!, first, last, cap, gatherScale, after);
  }

  /** Stage `s`'s passes in schedule order into `order` (returns how many), each pass's gradient
   *  flag into g.gradPass and each chunk's first forward and last gradient pass into
   *  g.chunkFirstForward and chunkLastGrad, as buildGraph's visitor of schedule.ts visitPasses
   *  writes them: for GPipe, 1F1B and the interleaved schedule (wasm/order.ts); −1 for the
   *  zero-bubble ones, which buildGraph visits itself. */
  order(s: number, order: Int32Array): number {
    const { g, off, buf } = this;
    const c = g.costs;
    const sched = c.schedule === "gpipe" ? 0 : c.schedule === "1f1b" ? 1 : c.schedule === "interleaved" ? 2 : -1;
    if (sched < 0) return -1;
    const V = c.vpp;
    const M = c.microBatches;
    const perStage = 3 * V * M;
    const grad = new Int32Array(buf, off.gradPass! + 4 * s * perStage, perStage).fill(0);
    const first = new Int32Array(buf, off.chunkFirst! + 4 * s * V, V).fill(-1);
    const last = new Int32Array(buf, off.chunkLast! + 4 * s * V, V).fill(-1);
    const k = this.x.stageOrder(sched, c.pp, sched === 2 ? V : 1, V, M, s, off.order!, off.gradPass!, off.chunkFirst!, off.chunkLast!);
    order.set(new Int32Array(buf, off.order!, k));
    g.gradPass.set(grad, s * perStage);
    g.chunkFirstForward.set(first, s * V);
    g.chunkLastGrad.set(last, s * V);
    return k;
  }

  /** graph.ts addPassOps for stage `s` (its passes, their gradient flags in g.gradPass, already
   *  made by buildGraph). */
  stage(s: number, kinds: StageKindsLike, stream: number, order: Int32Array, k: number, perLayer: boolean, firstForward: Int32Array | null, chOf: Int32Array, layersOf: Float64Array): void {
    const { g, off, buf } = this;
    const c = g.costs;
    const V = c.vpp;
    const perStage = 3 * V * c.microBatches;
    new Int32Array(buf, off.gradPass! + 4 * s * perStage, perStage).set(g.gradPass.subarray(s * perStage, (s + 1) * perStage));
    new Int32Array(buf, off.order!, k).set(order.subarray(0, k));
    new Int32Array(buf, off.chOf!, V).set(chOf);
    new Float64Array(buf, off.layersOf!, V).set(layersOf);
    if (firstForward) new Int32Array(buf, off.firstForward!, V).set(firstForward);
    const table = new Int32Array(buf, off.kinds!, 10);
    table[0] = kinds.embedF;
    table[1] = kinds.embedB;
    table[2] = kinds.layerF;
    table[3] = kinds.layerB;
    table[4] = kinds.headF;
    table[5] = kinds.headB;
    table[6] = kinds.layerI;
    table[7] = kinds.layerW;
    table[8] = kinds.headI;
    table[9] = kinds.headW;
    g.arena.engine().setRunKind((kind, n) => kinds.run(kind, n));
    const expert = c.layer.expertBytes ?? 0;
    this.x.stagePasses(stream, off.order!, k, V, c.microBatches, c.pp * V - 1, perLayer ? 1 : 0, firstForward ? off.firstForward! : 0, off.chOf!, off.layersOf!, off.kinds!, c.embedding.bytes, c.head.bytes, c.layer.bytes, expert);
  }

  /** graph.ts addOp for an operation of kind `info` on `stream` with no pass, index or bytes
   *  (a stage's optimizer step). */
  op(stream: number, info: number): number {
    return this.x.addOp(stream, info, -1, -1, 0, -1);
  }

  /** graph.ts addSends: the kinds of send registered stage by stage and the routes made in the
   *  order addSends meets them (its first micro-batch), then the sends. */
  sends(): void {
    const { g, off, buf } = this;
    const c: SimCosts = g.costs;
    const P = c.pp;
    const V = c.vpp;
    const lastChunk = P * V - 1;
    const ahead = new Int32Array(buf, off.ahead!, 2 * P * V).fill(-1);
    const behind = new Int32Array(buf, off.behind!, 2 * P * V).fill(-1);
    const activation = new Int32Array(buf, off.activation!, P);
    const gradient = new Int32Array(buf, off.gradient!, P);
    const routes = new Int32Array(buf, off.routes!, P * P).fill(-1);
    new Int32Array(buf, off.ppStream!, P).set(g.streams.pp);
    const e: Engine = g.engine;
    const route = (from: number, to: number) => {
      if (routes[from * P + to]! < 0) routes[from * P + to] = e.routeOf([linkId(from, c.p2p.inter, false), linkId(to, c.p2p.inter, true)]);
    };
    for (let s = 0; s < P; s++) {
      activation[s] = addInfo(g, { k: "send", stage: s, label: "send activation" });
      gradient[s] = addInfo(g, { k: "send", stage: s, label: "send gradient" });
      for (let ch = 0; ch < V; ch++) {
        const gc = globalStage(c.schedule, P, ch, s);
        const i = 2 * (s * V + ch);
        if (gc < lastChunk) {
          const a = stageOf(c.schedule, P, gc + 1);
          ahead[i] = a.stage;
          ahead[i + 1] = a.chunk;
          if (a.stage !== s) route(s, a.stage);
        }
        if (gc > 0) {
          const b = stageOf(c.schedule, P, gc - 1);
          behind[i] = b.stage;
          behind[i + 1] = b.chunk;
          if (b.stage !== s) route(s, b.stage);
        }
      }
    }
    this.x.sends(P, V, c.microBatches, off.ahead!, off.behind!, off.ppStream!, off.activation!, off.gradient!, off.routes!, c.blockingSends ? 1 : 0);
  }

  /** The operations' times from their kinds', and every table copied into the Engine and the
   *  Graph (the engine's tables were empty). False, and nothing copied, where the tables needed
   *  more room than was laid out (only the data-parallel collectives' room is estimated:
   *  dataParallelRoom); the caller builds the graph again with dp.ts adding them. */
  finish(): boolean {
    const { g, off, x } = this;
    g.build = null;
    if (x.graphOver()) return false;
    if (x.graphBad()) {
      const n = x.graphBadN();
      throw new Error(`dependency of operation ${x.graphBadOp()} on ${x.graphBadOn()}, outside 0…${n - 1}`);
    }
    const n = x.graphOps();
    const nEdges = x.graphEdges();
    const nParts = x.graphParts();
    const K = g.infos.length;
    const times = off.kindTimes!;
    const buf = this.buf;
    new Float64Array(buf, times, K).set(g.infoPre.subarray(0, K));
    new Float64Array(buf, times + 8 * K, K).set(g.infoWork.subarray(0, K));
    new Float64Array(buf, times + 16 * K, K).set(g.infoPost.subarray(0, K));
    x.retimeOps(n, times, times + 8 * K, times + 16 * K, off.opPre!, off.opWork!, off.opPost!);
    const i32 = (name: string, count: number) => new Int32Array(buf, off[name]!, count);
    const f64 = (name: string, count: number) => new Float64Array(buf, off[name]!, count);
    const t = g.engine.bulkTables(n, nEdges, nParts);
    t.opStream.set(i32("opStream", n));
    t.opRoute.set(i32("opRoute", n));
    t.pending.set(i32("pending", n));
    t.head.set(i32("head", n));
    t.tail.set(i32("tail", n));
    t.partHead.set(i32("partHead", n));
    t.partTail.set(i32("partTail", n));
    t.edgeTo.set(i32("edgeTo", nEdges));
    t.edgeNext.set(i32("edgeNext", nEdges));
    t.opPre.set(f64("opPre", n));
    t.opWork.set(f64("opWork", n));
    t.opPost.set(f64("opPost", n));
    t.partTo.set(i32("partTo", nParts));
    t.partFrom.set(i32("partFrom", nParts));
    t.partNext.set(i32("partNext", nParts));
    t.partFraction.set(f64("partFraction", nParts));
    g.engine.adopt(n, nEdges, i32("streamLast", g.engine.streamCount), nParts);
    this.copyGraphTables(n);
    if (this.opened) {
      const partBytes = f64("partBytes", nParts);
      for (let k = 0; k < nParts; k++) g.partBytes.push(partBytes[k]!);
      if (!x.dpReusable()) g.reusable = false;
    }
    return true;
  }

  /** The graph's per-operation tables of its first `n` operations, and its per-pass ones, copied
   *  into the Graph. */
  private copyGraphTables(n: number): void {
    const { g, off, buf } = this;
    const i32 = (name: string, count: number) => new Int32Array(buf, off[name]!, count);
    const f64 = (name: string, count: number) => new Float64Array(buf, off[name]!, count);
    if (n > g.opRoom) growGraph(g, n);
    g.opInfo.set(i32("opInfo", n));
    g.opPass.set(i32("opPass", n));
    g.opIndex.set(i32("opIndex", n));
    g.opBytes.set(f64("opBytes", n));
    g.opExpertBytes.set(f64("opExpertBytes", n));
    g.firstOp.set(i32("firstOp", this.nPasses));
    g.lastOp.set(i32("lastOp", this.nPasses));
  }
}

/** Per kind of operation of `g`, the layers it plays (OpInfo.layers, 1 when absent) and where its
 *  gradients start (OpInfo.gradFrom), as wasm/dp.ts gradProgress reads them (here while the graph
 *  is open, reuse.ts refill when it is played again). */
export function writeKindGrads(g: Pick<Graph, "infos">, layers: Float64Array, gradFrom: Float64Array): void {
  for (let k = 0; k < g.infos.length; k++) {
    const info = g.infos[k]!;
    layers[k] = info.layers ?? 1;
    gradFrom[k] = info.gradFrom;
  }
}

/** Room for the data-parallel collectives of `c` made in WebAssembly (WasmGraphBuilder open()):
 *  at most a bucket per `bucketBytes` of a pass's weights and two more (its remainder, rounding)
 *  per reduction and gather (dp.ts: a pass's weights at most its `maxLayers` layers, embedding and
 *  head). 0 where dp.ts adds them itself: none (no data parallelism), ZeRO-3 (a gather and a
 *  reduce-scatter per operation), or a size no table should take. */
export function dataParallelRoom(c: SimCosts, maxLayers: number): number {
  if (!(c.dp > 1 || c.expert !== null) || c.zero === 3) return 0;
  const V = c.vpp;
  const M = c.microBatches;
  const passBytes = Math.ceil(maxLayers) * c.layer.bytes + c.embedding.bytes + c.head.bytes;
  const sides: Array<[number, boolean]> = [];
  if (c.dp > 1) sides.push([c.bucketBytes, false]);
  if (c.expert) sides.push([c.expert.bucketBytes, true]);
  let perStage = 0;
  for (const [cap, expert] of sides) {
    const perPass = Math.ceil(passBytes / cap) + 2;
    const reductions = V * (c.zero === 2 ? M : 1);
    const gathers = c.gatherUpdatedWeights ? V * (c.regatherEachMicroBatch && !expert ? M : 1) : 0;
    perStage += perPass * (reductions + gathers);
  }
  const room = c.pp * perStage + 16;
  return Number.isFinite(room) && room > 0 && room <= 4_000_000 ? room : 0;
}

/** The graph's per-operation tables with room for `n` operations (graph.ts addOp grows them). */
function growGraph(g: Graph, n: number): void {
  const a = g.arena;
  g.opInfo = a.i32("graph.opInfo", n);
  g.opPass = a.i32("graph.opPass", n);
  g.opIndex = a.i32("graph.opIndex", n);
  g.opBytes = a.f64("graph.opBytes", n);
  g.opExpertBytes = a.f64("graph.opExpertBytes", n);
  g.opRoom = Math.min(g.opInfo.length, g.opPass.length, g.opIndex.length, g.opBytes.length, g.opExpertBytes.length);
}
