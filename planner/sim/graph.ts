// One training step as an operation graph: per stage a compute stream running its schedule
// (schedule.ts), a pipeline stream for its sends, a data-parallel stream for its collectives
// (dp.ts adds those), and the optimizer step.
import type { PassCost, SimCosts, Transfer } from "./costs.js";
import { Engine } from "./events.js";
import { Arena } from "./heap.js";
import { linkId } from "./links.js";
import { globalStage, stageOf, visitPasses } from "./schedule.js";
import { B, type PassKind, W } from "./zb-orders.js";

/** weightGrad: the weight-gradient half of a backward split in two (zero-bubble schedules' W). */
export type SegmentKind = "forward" | "backward" | "weightGrad" | "recompute" | "tpComm" | "epComm" | "cpComm" | "ppComm" | "dpComm" | "optimizer";
export type StreamName = "compute" | "tp comm" | "pp comm" | "dp comm";

export interface OpInfo {
  stage: number;
  stream: "compute" | "pp comm" | "dp comm";
  /** What it is ("layer", "send activation", "all-gather weights bucket"); timeline.ts opName()
   *  adds the pass and the index. Names are built only when a timeline is drawn (the ranking needs
   *  none). */
  label: string;
  /** Consecutive parts of a compute operation (a layer's kernels, then its tp collectives). */
  parts: Array<[SegmentKind, number]>;
  /** Where a backward's gradients start being produced, as a fraction of the operation (of each
   *  of its layers, when it plays several). */
  gradFrom: number;
  /** Identical layers the operation plays one after another (buildGraph's `coarse` graphs); 1
   *  when absent. */
  layers?: number;
}

export interface Graph {
  costs: SimCosts;
  engine: Engine;
  /** The distinct OpInfos (newInfo), and per operation the index of its own (infoOf): one OpInfo
   *  is shared by every operation of its kind on a stage. */
  infos: OpInfo[];
  opInfo: Int32Array;
  /** Per operation: the pass it belongs to (passIndex), or −1. */
  opPass: Int32Array;
  /** Per operation: a further number: the layer, the bucket, the peer stage, or the operation
   *  served; −1. */
  opIndex: Int32Array;
  /** Per operation: bytes of the dense weights a weight-holding operation holds (reduced and
   *  gathered over dp·cp), else 0. */
  opBytes: Float64Array;
  /** Per operation: bytes of the routed experts' weights it holds (over edp: SimCosts.expert),
   *  else 0. */
  opExpertBytes: Float64Array;
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
  optimizerOp: number[];
  /** Operations the optimizer of a stage waits for (its gradient reductions). */
  reductions: number[][];
  /** dp.ts's cache of collective costs by kind and size, and of link pairs by stage. */
  dpMemo: { costs: Map<string, Map<number, Transfer>>; links: Map<number, number[]> };
}

/** Register the description shared by a kind of operation; returns its index for addOp(). */
export function newInfo(g: Graph, info: OpInfo): number {
  g.infos.push(info);
  return g.infos.length - 1;
}

/** Add an operation on engine stream `stream`, described by `g.infos[info]`, of pass `pass`,
 *  with `index` (Graph.opIndex) and `bytes` of weights. */
export function addOp(
  g: Graph,
  stream: number,
  info: number,
  pass: number,
  index: number,
  bytes: number,
  pre: number,
  work = 0,
  links: readonly number[] | null = null,
  post = 0,
): number {
  const id = g.engine.op(stream, pre, work, links, post);
  if (id >= g.opInfo.length || id >= g.opPass.length || id >= g.opIndex.length || id >= g.opBytes.length || id >= g.opExpertBytes.length) {
    g.opInfo = g.arena.i32("graph.opInfo", id + 1, id);
    g.opPass = g.arena.i32("graph.opPass", id + 1, id);
    g.opIndex = g.arena.i32("graph.opIndex", id + 1, id);
    g.opBytes = g.arena.f64("graph.opBytes", id + 1, id);
    g.opExpertBytes = g.arena.f64("graph.opExpertBytes", id + 1, id);
  }
  g.opInfo[id] = info;
  g.opPass[id] = pass;
  g.opIndex[id] = index;
  g.opBytes[id] = bytes;
  g.opExpertBytes[id] = 0;
  return id;
}

/** Whether the step has data-parallel collectives: the dense weights' over dp·cp, or the routed
 *  experts' over edp (which may exceed 1 where dp·cp is 1: experts folded over tp ranks). */
export const hasDataParallel = (c: SimCosts): boolean => c.dp > 1 || c.expert !== null;

/** A compute operation playing `n` layers (buildGraph): its dense bytes in opBytes, its routed
 *  experts' in opExpertBytes. */
function addLayers(g: Graph, stream: number, info: number, pass: number, index: number, n: number, pre: number): number {
  const c = g.costs.layer;
  const expert = c.expertBytes ?? 0;
  const id = addOp(g, stream, info, pass, index, n * (c.bytes - expert), pre);
  g.opExpertBytes[id] = n * expert;
  return id;
}

/** The description of operation `op`. */
export function infoOf(g: Graph, op: number): OpInfo {
  return g.infos[g.opInfo[op]!]!;
}

/** A pass's cost less another (a backward less its weight gradient). */
function minus(a: PassCost, b: PassCost): PassCost {
  return { compute: Math.max(0, a.compute - b.compute), tp: a.tp - b.tp };
}

function passParts(kind: SegmentKind, p: PassCost): Array<[SegmentKind, number]> {
  const out: Array<[SegmentKind, number]> = [];
  if (p.compute > 0) out.push([kind, p.compute]);
  if (p.tp > 0) out.push(["tpComm", p.tp]);
  if (p.ep !== undefined && p.ep > 0) out.push(["epComm", p.ep]);
  if (p.cp !== undefined && p.cp > 0) out.push(["cpComm", p.cp]);
  return out;
}

/** Total time of consecutive parts. */
function partsTime(parts: ReadonlyArray<readonly [SegmentKind, number]>): number {
  let total = 0;
  for (const [, d] of parts) total += d;
  return total;
}

/** Parts of `n` identical operations played as one. */
function scaled(parts: ReadonlyArray<readonly [SegmentKind, number]>, n: number): Array<[SegmentKind, number]> {
  return parts.map(([kind, d]) => [kind, n * d]);
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
 *  chunk most of its compute operations. */
export function buildGraph(c: SimCosts, arena = new Arena(), coarse = false): Graph {
  const P = c.pp;
  const V = c.vpp;
  const M = c.microBatches;
  const lastChunk = P * V - 1;
  if (!Number.isInteger(M) || M < 1) throw new Error(`simulate: ${M} micro-batches per step is not a positive integer`);
  // Megatron-LM's interleaved schedule runs micro-batches in groups of p (checkSchedule).
  if (c.schedule === "interleaved" && V > 1 && M % P !== 0) throw new Error(`simulate: interleaved schedule needs the ${M} micro-batches divisible by pp ${P}`);
  // torch's ScheduleDualPipeV raises below 2p micro-batches (its steady state would run backwards).
  if (c.schedule === "dualpipev" && M < 2 * P) throw new Error(`simulate: dualpipev needs at least 2·pp = ${2 * P} micro-batches, not ${M}`);
  if ((c.schedule === "zbv" || c.schedule === "dualpipev") && V !== 2) throw new Error(`simulate: ${c.schedule} runs exactly 2 chunks per stage, not ${V}`);
  // Room for the compute operations and sends, and a quarter more for the collectives.
  const capacity = Math.ceil(1.25 * (P * (3 * V * M * (c.stageLayers ? Math.max(...c.stageLayers) : c.layersPerChunk) + 1) + 4 * M + 2 * (P * V - 1) * M));
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
    costs: c,
    engine,
    infos: [],
    opInfo: arena.i32("graph.opInfo", capacity),
    opPass: arena.i32("graph.opPass", capacity),
    opIndex: arena.i32("graph.opIndex", capacity),
    opBytes: arena.f64("graph.opBytes", capacity),
    opExpertBytes: arena.f64("graph.opExpertBytes", capacity),
    arena,
    streams,
    passIndex,
    gradPass: arena.i32("graph.gradPass", nPasses).subarray(0, nPasses).fill(0),
    firstOp: arena.i32("graph.firstOp", nPasses).subarray(0, nPasses).fill(-1),
    lastOp: arena.i32("graph.lastOp", nPasses).subarray(0, nPasses).fill(-1),
    order: [],
    optimizerOp: [],
    reductions: Array.from({ length: P }, () => []),
    dpMemo: { costs: new Map(), links: new Map() },
  };
  const { firstOp, lastOp } = g;

  // Parts shared by every operation of a kind (a layer's backward re-runs its recompute first).
  const parts = {
    embedF: passParts("forward", c.embedding.forward),
    embedB: passParts("backward", c.embedding.backward),
    layerF: passParts("forward", c.layer.forward),
    layerB: [...passParts("recompute", c.layer.recompute), ...passParts("backward", c.layer.backward)],
    headF: passParts("forward", c.head.forward),
    // (the output's own recompute, the MTP modules' blocks, before its backward as a layer's)
    headB: [...passParts("recompute", c.head.recompute), ...passParts("backward", c.head.backward)],
    // A split backward: the input gradient (B) now, the weight gradient (W) later.
    layerI: [...passParts("recompute", c.layer.recompute), ...passParts("backward", minus(c.layer.backward, c.layer.weightGrad))],
    layerW: passParts("weightGrad", c.layer.weightGrad),
    headI: [...passParts("recompute", c.head.recompute), ...passParts("backward", minus(c.head.backward, c.head.weightGrad))],
    headW: passParts("weightGrad", c.head.weightGrad),
  };
  const time = {
    embedF: partsTime(parts.embedF),
    embedB: partsTime(parts.embedB),
    layerF: partsTime(parts.layerF),
    layerB: partsTime(parts.layerB),
    headF: partsTime(parts.headF),
    headB: partsTime(parts.headB),
    layerI: partsTime(parts.layerI),
    layerW: partsTime(parts.layerW),
    headI: partsTime(parts.headI),
    headW: partsTime(parts.headW),
  };
  const rTime = c.layer.recompute.compute + c.layer.recompute.tp + (c.layer.recompute.ep ?? 0) + (c.layer.recompute.cp ?? 0);
  const gradFrom = rTime / (rTime + c.layer.backward.compute + c.layer.backward.tp + (c.layer.backward.ep ?? 0) + (c.layer.backward.cp ?? 0) || 1);
  const headR = c.head.recompute.compute;
  const headGradFrom = headR / (headR + c.head.backward.compute + c.head.backward.tp || 1);

  // Compute streams: every stage's passes in schedule order, each pass layer by layer.
  const passesPerStage = 3 * V * M;
  const orders = arena.i32("graph.order", P * passesPerStage);
  for (let s = 0; s < P; s++) {
    const info = (label: string, p: Array<[SegmentKind, number]>, from = 0) => newInfo(g, { stage: s, stream: "compute", label, parts: p, gradFrom: from });
    const embedF = info("embedding", parts.embedF);
    const embedB = info("embedding", parts.embedB);
    const layerF = info("layer", parts.layerF);
    const layerB = info("layer", parts.layerB, gradFrom);
    const headF = info("head", parts.headF);
    const headB = info("head", parts.headB, headGradFrom);
    const layerI = info("layer input gradient", parts.layerI, gradFrom);
    const layerW = info("layer weight gradient", parts.layerW);
    const headI = info("head input gradient", parts.headI, headGradFrom);
    const headW = info("head weight gradient", parts.headW);
    const stream = streams.compute[s]!;
    // Runs of n layers as one operation (coarse), one description per kind and n.
    const runs = new Map<number, number>();
    const run = (kind: number, label: string, p: Array<[SegmentKind, number]>, n: number, from = 0): number => {
      const key = kind * 1e6 + n;
      let id = runs.get(key);
      if (id === undefined) runs.set(key, (id = newInfo(g, { stage: s, stream: "compute", label, parts: scaled(p, n), gradFrom: from, layers: n })));
      return id;
    };
    const stageOrderIdx = orders.subarray(s * passesPerStage, (s + 1) * passesPerStage);
    // The schedule's order first, then its operations in a plain loop (one small callback).
    let k = 0;
    visitPasses(c.schedule, P, V, M, s, (kind, chunk, mb, full) => {
      const idx = passIndex(s, kind, chunk, mb);
      stageOrderIdx[k++] = idx;
      if (kind === W || (kind === B && full)) g.gradPass[idx] = 1;
    });
    // Where layers keep an operation each in a coarse graph (above): the passes of ZeRO-3, the
    // first forward of each chunk under overlapped ZeRO-1/2 weight gathers (dp.ts gatherWeights).
    // (every forward's layers too where ZeRO-2 gathers the weights again each micro-batch)
    const perLayer = !coarse || (hasDataParallel(c) && (c.zero === 3 || c.regatherEachMicroBatch));
    const firstForward = !perLayer && hasDataParallel(c) && c.gatherUpdatedWeights && c.overlapParamGather ? firstForwards(stageOrderIdx, k, V, M) : null;
    for (let i = 0; i < k; i++) {
      const idx = stageOrderIdx[i]!;
      const chunk = Math.floor(idx / M) % V;
      const kind = Math.floor(idx / (V * M)) % 3;
      const ch = globalStage(c.schedule, P, chunk, s);
      // Layers this chunk plays: its virtual stage's own count with uneven stages.
      const nLayers = c.stageLayers?.[ch] ?? c.layersPerChunk;
      const first = engine.opCount;
      // One operation for the pass's layers, or one each.
      const n = perLayer || nLayers < 2 || firstForward?.[chunk] === idx ? 1 : nLayers;
      if (kind === 0) {
        if (ch === 0) addOp(g, stream, embedF, idx, -1, c.embedding.bytes, time.embedF);
        if (n > 1) addLayers(g, stream, run(0, "layers", parts.layerF, n), idx, -1, n, n * time.layerF);
        else for (let l = 0; l < nLayers; l++) addLayers(g, stream, layerF, idx, l, 1, time.layerF);
        if (ch === lastChunk) addOp(g, stream, headF, idx, -1, c.head.bytes, time.headF);
      } else if (kind === B && g.gradPass[idx] === 1) {
        if (ch === lastChunk) addOp(g, stream, headB, idx, -1, c.head.bytes, time.headB);
        if (n > 1) addLayers(g, stream, run(1, "layers", parts.layerB, n, gradFrom), idx, -1, n, n * time.layerB);
        else for (let l = nLayers - 1; l >= 0; l--) addLayers(g, stream, layerB, idx, l, 1, time.layerB);
        if (ch === 0) addOp(g, stream, embedB, idx, -1, c.embedding.bytes, time.embedB);
      } else if (kind === B) {
        // Input gradient only; the embedding has no input to pass a gradient to, so its
        // (weight) gradient waits for W.
        if (ch === lastChunk) addOp(g, stream, headI, idx, -1, c.head.bytes, time.headI);
        if (n > 1) addLayers(g, stream, run(2, "layers input gradient", parts.layerI, n, gradFrom), idx, -1, n, n * time.layerI);
        else for (let l = nLayers - 1; l >= 0; l--) addLayers(g, stream, layerI, idx, l, 1, time.layerI);
      } else {
        if (ch === lastChunk) addOp(g, stream, headW, idx, -1, c.head.bytes, time.headW);
        if (n > 1) addLayers(g, stream, run(3, "layers weight gradient", parts.layerW, n), idx, -1, n, n * time.layerW);
        else for (let l = nLayers - 1; l >= 0; l--) addLayers(g, stream, layerW, idx, l, 1, time.layerW);
        if (ch === 0) addOp(g, stream, embedB, idx, -1, c.embedding.bytes, time.embedB);
      }
      if (engine.opCount > first) {
        firstOp[idx] = first;
        lastOp[idx] = engine.opCount - 1;
      }
    }
    g.order.push(stageOrderIdx.subarray(0, k));
    const optimizer: Array<[SegmentKind, number]> = [["optimizer", c.optimizer[s]!]];
    g.optimizerOp.push(addOp(g, stream, info("optimizer", optimizer), -1, -1, 0, partsTime(optimizer)));
  }

  // Point-to-point: each chunk's output activation to the next chunk, its input gradient back.
  if (P > 1) addSends(g, c, P, V, M);
  return g;
}

/** Per chunk, the first forward pass among a stage's first `k` passes in execution order (−1:
 *  none); dp.ts gatherWeights finds the same passes. */
function firstForwards(order: Int32Array, k: number, V: number, M: number): Int32Array {
  const first = new Int32Array(V).fill(-1);
  for (let i = 0; i < k; i++) {
    const idx = order[i]!;
    const ch = Math.floor(idx / M) % V;
    if (Math.floor(idx / (V * M)) % 3 === 0 && first[ch]! < 0) first[ch] = idx;
  }
  return first;
}

/** The sends between pipeline stages (buildGraph). Functions of the module, not closures made
 *  per graph: a CLI process builds some twenty graphs, and a closure made anew for each was a
 *  new call target to the compiled loop, which then fell back to the interpreter. */
function addSends(g: Graph, c: SimCosts, P: number, V: number, M: number): void {
  const lastChunk = P * V - 1;
  const { firstOp, lastOp, engine } = g;
  const sendParts: Array<[SegmentKind, number]> = [["ppComm", c.p2p.latency + c.p2p.work + c.p2p.post]];
  // One route per (from, to) pair of stages: the sender's link out, the receiver's link in.
  const routes: Array<number[] | undefined> = new Array<number[] | undefined>(P * P).fill(undefined);
  for (let s = 0; s < P; s++) {
    const activation = newInfo(g, { stage: s, stream: "pp comm", label: "send activation", parts: sendParts, gradFrom: 0 });
    const gradient = newInfo(g, { stage: s, stream: "pp comm", label: "send gradient", parts: sendParts, gradFrom: 0 });
    for (let ch = 0; ch < V; ch++) {
      // The chunk's neighbours in the model, the same for every micro-batch.
      const gc = globalStage(c.schedule, P, ch, s);
      const ahead = gc < lastChunk ? stageOf(c.schedule, P, gc + 1) : null;
      const behind = gc > 0 ? stageOf(c.schedule, P, gc - 1) : null;
      for (let mb = 0; mb < M; mb++) {
        if (ahead !== null) {
          const from = passIndexOf(V, M, s, 0, ch, mb);
          const next = firstOp[passIndexOf(V, M, ahead.stage, 0, ahead.chunk, mb)]!;
          // The V's turn (stage p−1 to p) stays on the rank: no transfer.
          if (ahead.stage === s) engine.dep(next, lastOp[from]!);
          else send(g, c, routes, s, activation, ahead.stage, lastOp[from]!, next, from);
        }
        if (behind !== null) {
          const from = passIndexOf(V, M, s, B, ch, mb);
          const next = firstOp[passIndexOf(V, M, behind.stage, B, behind.chunk, mb)]!;
          if (behind.stage === s) engine.dep(next, lastOp[from]!);
          else send(g, c, routes, s, gradient, behind.stage, lastOp[from]!, next, from);
        }
      }
    }
  }
}

/** One send of stage `from` to stage `to`, after operation `after` and before `before`. */
function send(g: Graph, c: SimCosts, routes: Array<number[] | undefined>, from: number, info: number, to: number, after: number, before: number, pass: number): void {
  const p = c.p2p;
  const P = c.pp;
  let links = routes[from * P + to];
  if (links === undefined) routes[from * P + to] = links = [linkId(from, p.inter, false), linkId(to, p.inter, true)];
  const op = addOp(g, g.streams.pp[from]!, info, pass, to, 0, p.latency, p.work, links, p.post);
  g.engine.dep(op, after);
  g.engine.dep(before, op);
  // A blocking send holds the sender: its next compute operation waits for it.
  if (c.blockingSends) g.engine.dep(after + 1, op);
}

/** Graph.passIndex as a function of the module: ((stage·3 + kind)·v + chunk)·m + mb. */
function passIndexOf(V: number, M: number, stage: number, kind: number, chunk: number, mb: number): number {
  return ((stage * 3 + kind) * V + chunk) * M + mb;
}
