// One training step as an operation graph: per stage a compute stream running its schedule
// (schedule.ts), a pipeline stream for its sends, a data-parallel stream for its collectives
// (dp.ts adds those), and the optimizer step.
import type { SimCosts } from "./costs.js";
import { Engine } from "./events.js";
import { Arena } from "./heap.js";
import { addInfo, type InfoTables, type OpInfo, type PassPart, type PassTables, passTables } from "./infos.js";
import { dataParallelRoom, WasmGraphBuilder } from "./graph-wasm.js";
import { linkId } from "./links.js";
import { globalStage, stageOf, visitPasses } from "./schedule.js";
import { B, F, type PassKind, W } from "./zb-orders.js";

export type { OpInfo, SegmentKind, StreamName } from "./infos.js";

/** The operations of one step. Its kinds of operation (infos.ts InfoTables: one OpInfo is shared
 *  by every operation of its kind on a stage, made from a recipe with the operations' times) and
 *  per operation the index of its own (opInfo, infoOf). */
export interface Graph extends InfoTables {
  engine: Engine;
  opInfo: Int32Array;
  /** Per operation: the pass it belongs to (passIndex), or −1. */
  opPass: Int32Array;
  /** Per operation: the layer, the bucket, the peer stage, or the operation served; −1. */
  opIndex: Int32Array;
  /** Per operation: bytes of the dense weights a weight-holding operation holds (reduced and
   *  gathered over dp·cp), else 0. */
  opBytes: Float64Array;
  /** Per operation: bytes of the routed experts' weights it holds (over edp), else 0. */
  opExpertBytes: Float64Array;
  /** Operations those five tables have room for (the shortest's length). */
  opRoom: number;
  /** Where the per-operation tables live (heap.ts): reused from one graph to the next. */
  arena: Arena;
  streams: { compute: number[]; pp: number[]; dp: number[] };
  /** Index of a pass in the tables below: ((stage·3 + kind)·v + chunk)·m + mb, kind F 0, B 1, W 2. */
  passIndex: (stage: number, kind: PassKind, chunk: number, mb: number) => number;
  /** Per pass: 1 when it produces weight gradients (a full backward, or a split one's W). */
  gradPass: Int32Array;
  /** A pass's weight-holding operations are firstOp … lastOp, in execution order (−1: none). */
  firstOp: Int32Array;
  lastOp: Int32Array;
  /** Each stage's passes in execution order (pass indices). */
  order: Int32Array[];
  /** Per stage and local chunk (stage·v + chunk): its first forward pass in execution order, and
   *  its last pass producing weight gradients (−1: none), noted as the order is made (dp.ts read
   *  them from three more passes over each stage's order). */
  chunkFirstForward: Int32Array;
  chunkLastGrad: Int32Array;
  optimizerOp: number[];
  /** Operations the optimizer of a stage waits for (its gradient reductions). */
  reductions: number[][];
  /** Per partial dependency (the engine's, in order): how far through its producer's bytes the
   *  bucket's last byte is (dp.ts reducePass), from which reuse.ts makes its fraction again. */
  partBytes: number[];
  /** Whether reuse.ts may play the graph again with other costs: false where a bucket part-way
   *  through its producer became a whole dependency (its last byte at the producer's very end). */
  reusable: boolean;
  /** The builder addOp and dp.ts hand collectives to while it is open (buildGraph `open`). */
  build: WasmGraphBuilder | null;
}

/** Add an operation of kind `info` (its times: infos.ts) on engine stream `stream`, of pass
 *  `pass`, with `index` (Graph.opIndex) and `bytes` of weights, its work on `route` (the
 *  engine's routeOf; −1: none). */
export function addOp(g: Graph, stream: number, info: number, pass: number, index: number, bytes: number, route = -1): number {
  if (g.build !== null) return g.build.addOp(stream, info, pass, index, bytes, route);
  const id = g.engine.opOfKind(stream, info, g.infoPre, g.infoWork, g.infoPost, route);
  if (id >= g.opRoom) {
    g.opInfo = g.arena.i32("graph.opInfo", id + 1, id);
    g.opPass = g.arena.i32("graph.opPass", id + 1, id);
    g.opIndex = g.arena.i32("graph.opIndex", id + 1, id);
    g.opBytes = g.arena.f64("graph.opBytes", id + 1, id);
    g.opExpertBytes = g.arena.f64("graph.opExpertBytes", id + 1, id);
    g.opRoom = opRoom(g);
  }
  g.opInfo[id] = info;
  g.opPass[id] = pass;
  g.opIndex[id] = index;
  g.opBytes[id] = bytes;
  g.opExpertBytes[id] = 0;
  return id;
}

const opRoom = (g: Graph): number => Math.min(g.opInfo.length, g.opPass.length, g.opIndex.length, g.opBytes.length, g.opExpertBytes.length); // (tables' room)

/** Whether the step has data-parallel collectives: the dense weights' over dp·cp, or the routed
 *  experts' over edp (which may exceed 1 where dp·cp is 1: experts folded over tp ranks). */
export const hasDataParallel = (c: SimCosts): boolean => c.dp > 1 || c.expert !== null;

/** A compute operation playing `n` layers (buildGraph): its dense bytes in opBytes, its routed
 *  experts' in opExpertBytes. */
function addLayers(g: Graph, stream: number, info: number, pass: number, index: number, n: number): number {
  const c = g.costs.layer;
  const expert = c.expertBytes ?? 0;
  // (the bytes stored here, not passed: a number passed to a call V8 does not inline is boxed)
  const id = addOp(g, stream, info, pass, index, 0);
  g.opBytes[id] = n * (c.bytes - expert);
  g.opExpertBytes[id] = n * expert;
  return id;
}

/** The description of operation `op`. */
export function infoOf(g: Graph, op: number): OpInfo {
  return g.infos[g.opInfo[op]!]!;
}

/** The operation graph of one step; its tables come from `arena` (one graph at a time).
 *
 *  `coarse` (the ranking's summary, which lists no segment): a pass's run of layers is one
 *  operation wherever nothing outside the pass waits for or on a single layer of it — the layers
 *  run back to back on the stage's compute stream, so the run ends when its last layer would,
 *  and gradient buckets that become ready part-way through it depend on the fraction of the run
 *  at which their last byte is produced (dp.ts gradProgress). Layers stay one operation each
 *  where their own collectives attach: every pass under ZeRO-3 (a gather before, a
 *  reduce-scatter after each layer) and a chunk's first forward under ZeRO-1/2 with overlapped
 *  weight gathers (each layer waits for the bucket holding its weights). The step, its per-stage
 *  breakdown and the summary are those of the per-layer graph up to rounding (test/sim/
 *  coarse.test.ts); a pipeline of few layers per chunk gains little, one of many layers per
 *  chunk most of its compute operations.
 *
 *  The compute operations and sends are made in WebAssembly (graph-wasm.ts, wasm/graph.ts);
 *  `reference` makes them with addPassOps and addSends below, the same graph table for table
 *  (test/sim/graph-wasm.test.ts). `open`: the graph is left open for dp.ts's collectives to be
 *  made there too where they can (Graph.build; the caller then calls its finish()). */
export function buildGraph(c: SimCosts, arena = new Arena(), coarse = false, reference = false, open = false): Graph {
  const P = c.pp;
  const V = c.vpp;
  const M = c.microBatches;
  if (!Number.isInteger(M) || M < 1) throw new Error(`simulate: ${M} micro-batches per step is not a positive integer`);
  // Megatron-LM's interleaved schedule runs micro-batches in groups of p (checkSchedule).
  if (c.schedule === "interleaved" && V > 1 && M % P !== 0) throw new Error(`simulate: interleaved schedule needs the ${M} micro-batches divisible by pp ${P}`);
  // torch's ScheduleDualPipeV raises below 2p micro-batches (its steady state would run backwards).
  if (c.schedule === "dualpipev" && M < 2 * P) throw new Error(`simulate: dualpipev needs at least 2·pp = ${2 * P} micro-batches, not ${M}`);
  if ((c.schedule === "zbv" || c.schedule === "dualpipev") && V !== 2) throw new Error(`simulate: ${c.schedule} runs exactly 2 chunks per stage, not ${V}`);
  // Room for the compute operations and sends, and a quarter more for the collectives.
  const maxLayers = c.stageLayers ? Math.max(...c.stageLayers) : c.layersPerChunk;
  const capacity = Math.ceil(1.25 * (P * (3 * V * M * maxLayers + 1) + 4 * M + 2 * (P * V - 1) * M));
  const engine = new Engine(capacity, arena);
  const streams = { compute: [] as number[], pp: [] as number[], dp: [] as number[] };
  for (let s = 0; s < P; s++) {
    streams.compute.push(engine.addStream(true));
    streams.pp.push(engine.addStream(false));
    streams.dp.push(engine.addStream(false));
  }
  const passIndex = (stage: number, kind: PassKind, chunk: number, mb: number) => passIndexOf(V, M, stage, kind, chunk, mb);
  const nPasses = P * 3 * V * M;
  const g: Graph = {
    // (null first, then the costs and the engine: so V8 has these fields mutable and of any type
    // from the first graph on; fields compiled code relied on, written again by the next plan or
    // reuse.ts, made V8 throw addPassOps, addLayers, addOp and send away mid-simulation.)
    costs: null as unknown as SimCosts,
    passes: null as unknown as PassTables,
    engine: null as unknown as Engine,
    infos: [],
    recipes: [],
    infoPre: arena.f64("info.pre", 64),
    infoWork: arena.f64("info.work", 64),
    infoPost: arena.f64("info.post", 64),
    opInfo: arena.i32("graph.opInfo", capacity),
    opPass: arena.i32("graph.opPass", capacity),
    opIndex: arena.i32("graph.opIndex", capacity),
    opBytes: arena.f64("graph.opBytes", capacity),
    opExpertBytes: arena.f64("graph.opExpertBytes", capacity),
    opRoom: 0,
    arena,
    streams,
    passIndex,
    gradPass: arena.i32("graph.gradPass", nPasses).subarray(0, nPasses).fill(0),
    firstOp: arena.i32("graph.firstOp", nPasses).subarray(0, nPasses).fill(-1),
    lastOp: arena.i32("graph.lastOp", nPasses).subarray(0, nPasses).fill(-1),
    order: [],
    chunkFirstForward: arena.i32("graph.chunkFirstForward", P * V).subarray(0, P * V).fill(-1),
    chunkLastGrad: arena.i32("graph.chunkLastGrad", P * V).subarray(0, P * V).fill(-1),
    optimizerOp: [],
    reductions: Array.from({ length: P }, () => []),
    dpMemo: { costs: new Map(), routes: new Map() },
    partBytes: [],
    reusable: true,
    build: null,
  };
  g.costs = c;
  g.passes = passTables(c);
  g.engine = engine;
  g.opRoom = opRoom(g);
  // The compute operations and sends made in WebAssembly (graph-wasm.ts), the same ones as
  // addPassOps and addSends below make (`reference`: those, as the tests compare).
  const dpRoom = open && !reference ? dataParallelRoom(c, maxLayers) : 0;
  const builder = reference ? null : new WasmGraphBuilder(g, maxLayers, dpRoom);

  // Compute streams: every stage's passes in schedule order, each pass layer by layer.
  const passesPerStage = 3 * V * M;
  const orders = arena.i32("graph.order", P * passesPerStage);
  for (let s = 0; s < P; s++) {
    const kinds = new StageKinds(g, s);
    const stream = streams.compute[s]!;
    const stageOrderIdx = orders.subarray(s * passesPerStage, (s + 1) * passesPerStage);
    // The schedule's order first (GPipe's, 1F1B's and interleaved in WebAssembly: wasm/order.ts,
    // the same as this visitor writes), then its operations in a plain loop (one small callback).
    let k = builder ? builder.order(s, stageOrderIdx) : -1;
    const { chunkFirstForward, chunkLastGrad } = g;
    if (k < 0) {
      k = 0;
      visitPasses(c.schedule, P, V, M, s, (kind, chunk, mb, full) => {
        const idx = ((s * 3 + kind) * V + chunk) * M + mb; // passIndexOf, written out (a call a pass)
        stageOrderIdx[k++] = idx;
        if (kind === W || (kind === B && full)) {
          g.gradPass[idx] = 1;
          chunkLastGrad[s * V + chunk] = idx;
        } else if (kind === F && chunkFirstForward[s * V + chunk]! < 0) chunkFirstForward[s * V + chunk] = idx;
      });
    }
    // Where layers keep an operation each in a coarse graph (above): the passes of ZeRO-3, the
    // first forward of each chunk under overlapped ZeRO-1/2 weight gathers (dp.ts gatherWeights).
    // (every forward's layers too where ZeRO-2 gathers the weights again each micro-batch)
    const perLayer = !coarse || (hasDataParallel(c) && (c.zero === 3 || c.regatherEachMicroBatch));
    const firstForward = !perLayer && hasDataParallel(c) && c.gatherUpdatedWeights && c.overlapParamGather ? chunkFirstForward.subarray(s * V, (s + 1) * V) : null;
    // Per local chunk: its global stage and the layers it plays (its virtual stage's own count
    // with uneven stages).
    const chOf = new Int32Array(V);
    const layersOf = new Float64Array(V);
    for (let chunk = 0; chunk < V; chunk++) {
      chOf[chunk] = globalStage(c.schedule, P, chunk, s);
      layersOf[chunk] = c.stageLayers?.[chOf[chunk]!] ?? c.layersPerChunk;
    }
    if (builder) builder.stage(s, kinds, stream, stageOrderIdx, k, perLayer, firstForward, chOf, layersOf);
    else addPassOps(g, kinds, stream, stageOrderIdx, k, perLayer, firstForward, chOf, layersOf);
    g.order.push(stageOrderIdx.subarray(0, k));
    const optimizer = addInfo(g, { k: "optimizer", stage: s });
    g.optimizerOp.push(builder ? builder.op(stream, optimizer) : addOp(g, stream, optimizer, -1, -1, 0));
  }

  // Point-to-point: each chunk's output activation to the next chunk, its input gradient back.
  if (P > 1) {
    if (builder) builder.sends();
    else addSends(g, c, P, V, M);
  }
  if (builder && dpRoom > 0) builder.open();
  else builder?.finish(); // (room only for what it made: it always fits)
  return g;
}

/** The kinds of compute operation of one stage (infos.ts recipes), and its runs of n layers as one
 *  operation (coarse): one kind per pass kind (0 F, 1 B, 2 input gradient, 3 weight gradient)
 *  and n, the last one asked for each pass kind kept at hand (n changes only between uneven
 *  chunks). */
class StageKinds {
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
  private readonly runs = new Map<number, number>();
  private readonly lastRun = [0, 0, 0, 0];
  private readonly lastRunId = [-1, -1, -1, -1];

  constructor(
    private readonly g: Graph,
    private readonly s: number,
  ) {
    const info = (label: string, which: PassPart, grad: 0 | 1 | 2 = 0) => addInfo(g, { k: "pass", stage: s, which, n: 0, label, grad });
    this.embedF = info("embedding", "embedF");
    this.embedB = info("embedding", "embedB");
    this.layerF = info("layer", "layerF");
    this.layerB = info("layer", "layerB", 1);
    this.headF = info("head", "headF");
    this.headB = info("head", "headB", 2);
    this.layerI = info("layer input gradient", "layerI", 1);
    this.layerW = info("layer weight gradient", "layerW");
    this.headI = info("head input gradient", "headI", 2);
    this.headW = info("head weight gradient", "headW");
  }

  /** The kind of a run of `n` layers of pass kind `kind`. */
  run(kind: number, n: number): number {
    if (this.lastRun[kind] === n) return this.lastRunId[kind]!;
    const key = kind * 1e6 + n;
    let id = this.runs.get(key);
    if (id === undefined) this.runs.set(key, (id = addInfo(this.g, { k: "pass", stage: this.s, which: RUN_PART[kind]!, n, label: RUN_LABEL[kind]!, grad: kind === 1 || kind === 2 ? 1 : 0 })));
    this.lastRun[kind] = n;
    this.lastRunId[kind] = id;
    return id;
  }
}

const RUN_PART: readonly PassPart[] = ["layerF", "layerB", "layerI", "layerW"];
const RUN_LABEL: readonly string[] = ["layers", "layers", "layers input gradient", "layers weight gradient"];

/** A stage's compute operations, pass after pass of its first `k` passes in `order` (buildGraph):
 *  a function of its own, small enough for V8 to compile early (the loop inside buildGraph had it
 *  compile all of buildGraph, several times). */
function addPassOps(g: Graph, kinds: StageKinds, stream: number, order: Int32Array, k: number, perLayer: boolean, firstForward: Int32Array | null, chOf: Int32Array, layersOf: Float64Array): void {
  const c = g.costs;
  const { engine, firstOp, lastOp } = g;
  const V = c.vpp;
  const M = c.microBatches;
  const lastChunk = c.pp * V - 1;
  for (let i = 0; i < k; i++) {
    const idx = order[i]!;
    const chunk = Math.floor(idx / M) % V;
    const kind = Math.floor(idx / (V * M)) % 3;
    const ch = chOf[chunk]!;
    const nLayers = layersOf[chunk]!;
    // (the pass's first operation from the engine's count once, its last from the ids added: the
    // count is a getter, a call per read until V8 compiles this loop)
    const first = engine.opCount;
    let last = -1;
    // One operation for the pass's layers, or one each. (Compared only where there is a table:
    // `undefined === idx` in a function compiled on integers threw its code away, ZeRO-0's plans.)
    const n = perLayer || nLayers < 2 || (firstForward !== null && firstForward[chunk] === idx) ? 1 : nLayers;
    if (kind === 0) {
      if (ch === 0) last = addOp(g, stream, kinds.embedF, idx, -1, c.embedding.bytes);
      if (n > 1) last = addLayers(g, stream, kinds.run(0, n), idx, -1, n);
      else for (let l = 0; l < nLayers; l++) last = addLayers(g, stream, kinds.layerF, idx, l, 1);
      if (ch === lastChunk) last = addOp(g, stream, kinds.headF, idx, -1, c.head.bytes);
    } else if (kind === B && g.gradPass[idx] === 1) {
      if (ch === lastChunk) last = addOp(g, stream, kinds.headB, idx, -1, c.head.bytes);
      if (n > 1) last = addLayers(g, stream, kinds.run(1, n), idx, -1, n);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(g, stream, kinds.layerB, idx, l, 1);
      if (ch === 0) last = addOp(g, stream, kinds.embedB, idx, -1, c.embedding.bytes);
    } else if (kind === B) {
      // Input gradient only; the embedding has no input to pass a gradient to, so its
      // (weight) gradient waits for W.
      if (ch === lastChunk) last = addOp(g, stream, kinds.headI, idx, -1, c.head.bytes);
      if (n > 1) last = addLayers(g, stream, kinds.run(2, n), idx, -1, n);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(g, stream, kinds.layerI, idx, l, 1);
    } else {
      if (ch === lastChunk) last = addOp(g, stream, kinds.headW, idx, -1, c.head.bytes);
      if (n > 1) last = addLayers(g, stream, kinds.run(3, n), idx, -1, n);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(g, stream, kinds.layerW, idx, l, 1);
      if (ch === 0) last = addOp(g, stream, kinds.embedB, idx, -1, c.embedding.bytes);
    }
    if (last >= first) {
      firstOp[idx] = first;
      lastOp[idx] = last;
    }
  }
}

/** The sends between pipeline stages (buildGraph). Functions of the module, not closures made
 *  per graph: a CLI process builds some twenty graphs, and a closure made anew for each was a
 *  new call target to the compiled loop, which then fell back to the interpreter. */
function addSends(g: Graph, c: SimCosts, P: number, V: number, M: number): void {
  const lastChunk = P * V - 1;
  const { firstOp, lastOp, engine } = g;
  // One route per (from, to) pair of stages: the sender's link out, the receiver's link in.
  const routes = new Int32Array(P * P).fill(-1);
  for (let s = 0; s < P; s++) {
    const activation = addInfo(g, { k: "send", stage: s, label: "send activation" });
    const gradient = addInfo(g, { k: "send", stage: s, label: "send gradient" });
    for (let ch = 0; ch < V; ch++) {
      // The chunk's neighbours in the model, the same for every micro-batch.
      const gc = globalStage(c.schedule, P, ch, s);
      const ahead = gc < lastChunk ? stageOf(c.schedule, P, gc + 1) : null;
      const behind = gc > 0 ? stageOf(c.schedule, P, gc - 1) : null;
      // Pass indices of micro-batch 0 (passIndexOf: mb is their last term), for each direction.
      const forward = passIndexOf(V, M, s, 0, ch, 0);
      const forwardNext = ahead !== null ? passIndexOf(V, M, ahead.stage, 0, ahead.chunk, 0) : -1;
      const backward = passIndexOf(V, M, s, B, ch, 0);
      const backwardNext = behind !== null ? passIndexOf(V, M, behind.stage, B, behind.chunk, 0) : -1;
      for (let mb = 0; mb < M; mb++) {
        if (ahead !== null) {
          const from = forward + mb;
          const next = firstOp[forwardNext + mb]!;
          // The V's turn (stage p−1 to p) stays on the rank: no transfer.
          if (ahead.stage === s) engine.dep(next, lastOp[from]!);
          else send(g, c, routes, s, activation, ahead.stage, lastOp[from]!, next, from);
        }
        if (behind !== null) {
          const from = backward + mb;
          const next = firstOp[backwardNext + mb]!;
          if (behind.stage === s) engine.dep(next, lastOp[from]!);
          else send(g, c, routes, s, gradient, behind.stage, lastOp[from]!, next, from);
        }
      }
    }
  }
}

/** One send of stage `from` to stage `to`, after operation `after` and before `before`. */
function send(g: Graph, c: SimCosts, routes: Int32Array, from: number, info: number, to: number, after: number, before: number, pass: number): void {
  const p = c.p2p;
  const P = c.pp;
  let route = routes[from * P + to]!;
  if (route < 0) routes[from * P + to] = route = g.engine.routeOf([linkId(from, p.inter, false), linkId(to, p.inter, true)]);
  const op = addOp(g, g.streams.pp[from]!, info, pass, to, 0, route);
  g.engine.dep(op, after);
  g.engine.dep(before, op);
  // A blocking send holds the sender: its next compute operation waits for it.
  if (c.blockingSends) g.engine.dep(after + 1, op);
}

/** Graph.passIndex as a function of the module: ((stage·3 + kind)·v + chunk)·m + mb. */
function passIndexOf(V: number, M: number, stage: number, kind: number, chunk: number, mb: number): number {
  return ((stage * 3 + kind) * V + chunk) * M + mb;
}
