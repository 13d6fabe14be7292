// A step's compute operations and pipeline sends (graph.ts addPassOps, addLayers, addOp, addSends
// and send, with events.ts opOfKind, dep and edge; the readable reference) in AssemblyScript,
// compiled into the engine's module (engine.ts re-exports it): the same operations, in the same
// order, with the same dependencies in the same order, so that a graph built here is the one
// graph.ts builds (test/sim/graph-wasm.test.ts). In TypeScript a fresh process built its first
// graphs interpreted, most of a cold simulation (issue 11, start-up).
//
// The caller (graph-wasm.ts) lays the tables out in linear memory, passes byte offsets, and copies
// them into the Engine and the Graph afterwards. Kinds of operation stay the caller's (infos.ts):
// a run of n layers of a new length is asked for through the import runKind, as StageKinds.run.
import { f64At, i32At, setF64, setI32 } from "./memory";

// @ts-ignore: decorator
@external("env", "runKind")
declare function runKind(kind: i32, n: f64): i32;

// The engine's per-operation tables (events.ts), its edges, and per stream its last operation
// and whether it is ordered.
let opStream: usize = 0;
let opRoute: usize = 0;
let pending: usize = 0;
let head: usize = 0;
let tail: usize = 0;
let partHead: usize = 0;
let partTail: usize = 0;
let edgeTo: usize = 0;
let edgeNext: usize = 0;
let streamLast: usize = 0;
let streamOrdered: usize = 0;
// The graph's per-operation tables and per-pass tables (graph.ts Graph).
let opInfo: usize = 0;
let opPass: usize = 0;
let opIndex: usize = 0;
let opBytes: usize = 0;
let opExpertBytes: usize = 0;
let firstOp: usize = 0;
let lastOp: usize = 0;
let gradPass: usize = 0;
// The engine's partial dependencies (events.ts partialDep; the data-parallel buckets, dp.ts).
let partTo: usize = 0;
let partFrom: usize = 0;
let partNext: usize = 0;
let partFraction: usize = 0;
// Room the caller laid out for operations, edges and partial dependencies; 1 in `over` once a
// table would have gone past it (nothing written there: the caller builds the graph another way).
let opRoom: i32 = 0;
let edgeRoom: i32 = 0;
let partRoom: i32 = 0;
let over: i32 = 0;
// Counts, and the first dependency out of range (events.ts dep() throws for it, naming the
// operations then: the count then too).
let n: i32 = 0;
let nEdges: i32 = 0;
let nParts: i32 = 0;
let bad: i32 = 0;
let badOp: i32 = 0;
let badOn: i32 = 0;
let badN: i32 = 0;
// The stage at hand's kinds of a run of layers: the last one asked for each pass kind (0 F, 1 B,
// 2 I, 3 W), its length and its kind (StageKinds.run's own cache, in globals: no allocation).
let runN0: f64 = 0;
let runN1: f64 = 0;
let runN2: f64 = 0;
let runN3: f64 = 0;
let runK0: i32 = 0;
let runK1: i32 = 0;
let runK2: i32 = 0;
let runK3: i32 = 0;


/** The tables' offsets (graph-wasm.ts lays them out in this order). */
export function setGraphTables(
  a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize, a9: usize,
  a10: usize, a11: usize, a12: usize, a13: usize, a14: usize, a15: usize, a16: usize, a17: usize, a18: usize,
): void {
  opStream = a0; opRoute = a1; pending = a2; head = a3; tail = a4; partHead = a5; partTail = a6; edgeTo = a7;
  edgeNext = a8; streamLast = a9; streamOrdered = a10; opInfo = a11; opPass = a12; opIndex = a13; opBytes = a14;
  opExpertBytes = a15; firstOp = a16; lastOp = a17; gradPass = a18;
  n = 0;
  nEdges = 0;
  nParts = 0;
  bad = 0;
  over = 0;
  opRoom = 0x7fffffff;
  edgeRoom = 0x7fffffff;
  partRoom = 0;
}

/** The partial dependencies' tables and the room laid out for operations, edges and partial
 *  dependencies (after setGraphTables, where the data-parallel collectives are built here too). */
export function setPartTables(a0: usize, a1: usize, a2: usize, a3: usize, ops: i32, edges: i32, parts: i32): void {
  partTo = a0; partFrom = a1; partNext = a2; partFraction = a3;
  opRoom = ops;
  edgeRoom = edges;
  partRoom = parts;
}

export function graphParts(): i32 {
  return nParts;
}
/** 1 where the operations, edges or partial dependencies needed more room than was laid out. */
export function graphOver(): i32 {
  return over;
}

export function graphOps(): i32 {
  return n;
}
export function graphEdges(): i32 {
  return nEdges;
}
/** 1 where a dependency named an operation out of range (graphBadOp on graphBadOn, when there
 *  were graphBadN operations): the caller throws as dep() would have. */
export function graphBad(): i32 {
  return bad;
}
export function graphBadOp(): i32 {
  return badOp;
}
export function graphBadOn(): i32 {
  return badOn;
}
export function graphBadN(): i32 {
  return badN;
}

/** events.ts edge(): `op` waits for `on` to end, appended to `on`'s list. */
function edge(op: i32, on: i32): void {
  const e = nEdges++;
  if (e >= edgeRoom || op >= opRoom || on >= opRoom) {
    over = 1;
    return;
  }
  setI32(pending, op, i32At(pending, op) + 1);
  setI32(edgeTo, e, op);
  setI32(edgeNext, e, -1);
  const last = i32At(tail, on);
  if (last < 0) setI32(head, on, e);
  else setI32(edgeNext, last, e);
  setI32(tail, on, e);
}

/** Whether `op` and `on` name operations made so far; records the first that does not (events.ts
 *  dep() throws for it, the caller when it is done). */
function inRange(op: i32, on: i32): bool {
  if (on >= 0 && on < n && op >= 0 && op < n) return true;
  if (bad == 0) {
    bad = 1;
    badOp = op;
    badOn = on;
    badN = n;
  }
  return false;
}

/** events.ts dep() for a whole dependency, its check included (recorded, not thrown). */
export function dep(op: i32, on: i32): void {
  if (inRange(op, on)) edge(op, on);
}

/** dep() of `op` on each of the `count` operations listed at `ons`, in order (dp.ts: a stage's
 *  optimizer step on its reductions). */
export function depsOn(op: i32, ons: usize, count: i32): void {
  for (let i = 0; i < count; i++) dep(op, i32At(ons, i));
}

/** events.ts partialDep(): `op` waits for `on` to be `fraction` of the way through; returns its
 *  index (−1: none made, out of range or of room). (Its check
 *  that `on` takes a fixed time holds here: the data-parallel buckets' producers are compute
 *  operations, whose kinds have no work.) */
export function partialDep(op: i32, on: i32, fraction: f64): i32 {
  if (!inRange(op, on)) return -1;
  const e = nParts++;
  if (e >= partRoom || op >= opRoom || on >= opRoom) {
    over = 1;
    return -1;
  }
  setI32(pending, op, i32At(pending, op) + 1);
  setI32(partTo, e, op);
  setI32(partFrom, e, on);
  setI32(partNext, e, -1);
  setF64(partFraction, e, fraction);
  const last = i32At(partTail, on);
  if (last < 0) setI32(partHead, on, e);
  else setI32(partNext, last, e);
  setI32(partTail, on, e);
  return e;
}

/** The kind of operation `op` (graph.ts Graph.opInfo). */
export function kindOf(op: i32): i32 {
  return i32At(opInfo, op);
}

/** graph.ts addOp (with events.ts opOfKind, less the times: the caller sets them by kind). */
export function addOp(stream: i32, info: i32, pass: i32, index: i32, bytes: f64, route: i32): i32 {
  const id = n++;
  if (id >= opRoom) {
    over = 1;
    return id;
  }
  setI32(opStream, id, stream);
  setI32(opRoute, id, route);
  setI32(pending, id, 0);
  setI32(head, id, -1);
  setI32(tail, id, -1);
  setI32(partHead, id, -1);
  setI32(partTail, id, -1);
  const last = i32At(streamLast, stream);
  if (i32At(streamOrdered, stream) != 0 && last >= 0) edge(id, last);
  setI32(streamLast, stream, id);
  setI32(opInfo, id, info);
  setI32(opPass, id, pass);
  setI32(opIndex, id, index);
  setF64(opBytes, id, bytes);
  setF64(opExpertBytes, id, 0);
  return id;
}

// graph.ts StageKinds' order of its ten kinds in the `kinds` table.
const EMBED_F = 0;
const EMBED_B = 1;
const LAYER_F = 2;
const LAYER_B = 3;
const HEAD_F = 4;
const HEAD_B = 5;
const LAYER_I = 6;
const LAYER_W = 7;
const HEAD_I = 8;
const HEAD_W = 9;

/** StageKinds.run: the kind of a run of n layers of pass kind `kind` (0 F, 1 B, 2 I, 3 W). */
function run(kind: i32, layers: f64): i32 {
  if (kind == 0 && runN0 == layers) return runK0;
  if (kind == 1 && runN1 == layers) return runK1;
  if (kind == 2 && runN2 == layers) return runK2;
  if (kind == 3 && runN3 == layers) return runK3;
  const id = runKind(kind, layers);
  if (kind == 0) {
    runN0 = layers;
    runK0 = id;
  } else if (kind == 1) {
    runN1 = layers;
    runK1 = id;
  } else if (kind == 2) {
    runN2 = layers;
    runK2 = id;
  } else {
    runN3 = layers;
    runK3 = id;
  }
  return id;
}

/** graph.ts addLayers: `layers` layers as one operation, their dense and routed bytes. */
function addLayers(stream: i32, info: i32, pass: i32, index: i32, layers: f64, bytes: f64, expert: f64): i32 {
  const id = addOp(stream, info, pass, index, 0, -1);
  setF64(opBytes, id, layers * (bytes - expert));
  setF64(opExpertBytes, id, layers * expert);
  return id;
}

/** graph.ts addPassOps: stage's compute operations for its first `k` passes of `order`. */
export function stagePasses(
  stream: i32, order: usize, k: i32, V: i32, M: i32, lastChunk: i32, perLayer: i32, firstForward: usize, chOf: usize, layersOf: usize, kinds: usize,
  embedBytes: f64, headBytes: f64, layerBytes: f64, expertBytes: f64,
): void {
  runN0 = runN1 = runN2 = runN3 = 0; // a new stage: StageKinds of its own
  for (let i = 0; i < k; i++) {
    const idx = i32At(order, i);
    const chunk = (idx / M) % V;
    const kind = (idx / (V * M)) % 3;
    const ch = i32At(chOf, chunk);
    const nLayers = f64At(layersOf, chunk);
    const first = n;
    let last = -1;
    // One operation for the pass's layers, or one each.
    const one = perLayer != 0 || nLayers < 2 || (firstForward != 0 && i32At(firstForward, chunk) == idx);
    const layers: f64 = one ? 1 : nLayers;
    if (kind == 0) {
      if (ch == 0) last = addOp(stream, i32At(kinds, EMBED_F), idx, -1, embedBytes, -1);
      if (layers > 1) last = addLayers(stream, run(0, layers), idx, -1, layers, layerBytes, expertBytes);
      else for (let l: f64 = 0; l < nLayers; l++) last = addLayers(stream, i32At(kinds, LAYER_F), idx, <i32>l, 1, layerBytes, expertBytes);
      if (ch == lastChunk) last = addOp(stream, i32At(kinds, HEAD_F), idx, -1, headBytes, -1);
    } else if (kind == 1 && i32At(gradPass, idx) == 1) {
      if (ch == lastChunk) last = addOp(stream, i32At(kinds, HEAD_B), idx, -1, headBytes, -1);
      if (layers > 1) last = addLayers(stream, run(1, layers), idx, -1, layers, layerBytes, expertBytes);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(stream, i32At(kinds, LAYER_B), idx, <i32>l, 1, layerBytes, expertBytes);
      if (ch == 0) last = addOp(stream, i32At(kinds, EMBED_B), idx, -1, embedBytes, -1);
    } else if (kind == 1) {
      if (ch == lastChunk) last = addOp(stream, i32At(kinds, HEAD_I), idx, -1, headBytes, -1);
      if (layers > 1) last = addLayers(stream, run(2, layers), idx, -1, layers, layerBytes, expertBytes);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(stream, i32At(kinds, LAYER_I), idx, <i32>l, 1, layerBytes, expertBytes);
    } else {
      if (ch == lastChunk) last = addOp(stream, i32At(kinds, HEAD_W), idx, -1, headBytes, -1);
      if (layers > 1) last = addLayers(stream, run(3, layers), idx, -1, layers, layerBytes, expertBytes);
      else for (let l = nLayers - 1; l >= 0; l--) last = addLayers(stream, i32At(kinds, LAYER_W), idx, <i32>l, 1, layerBytes, expertBytes);
      if (ch == 0) last = addOp(stream, i32At(kinds, EMBED_B), idx, -1, embedBytes, -1);
    }
    if (last >= first) {
      setI32(firstOp, idx, first);
      setI32(lastOp, idx, last);
    }
  }
}

/** graph.ts addSends and send: each chunk's output activation to the next chunk and its input
 *  gradient back, per micro-batch. Per stage and chunk (s·V + ch) the next chunk's stage and
 *  chunk (`ahead`, two entries, stage −1: none) and the previous one's (`behind`); per stage its
 *  pipeline stream and its two kinds of send; the route of each (from, to) pair. */
export function sends(P: i32, V: i32, M: i32, ahead: usize, behind: usize, ppStream: usize, activation: usize, gradient: usize, routes: usize, blocking: i32): void {
  for (let s = 0; s < P; s++) {
    for (let ch = 0; ch < V; ch++) {
      const aStage = i32At(ahead, 2 * (s * V + ch));
      const aChunk = i32At(ahead, 2 * (s * V + ch) + 1);
      const bStage = i32At(behind, 2 * (s * V + ch));
      const bChunk = i32At(behind, 2 * (s * V + ch) + 1);
      const forward = passIndexOf(V, M, s, 0, ch);
      const forwardNext = aStage >= 0 ? passIndexOf(V, M, aStage, 0, aChunk) : -1;
      const backward = passIndexOf(V, M, s, 1, ch);
      const backwardNext = bStage >= 0 ? passIndexOf(V, M, bStage, 1, bChunk) : -1;
      for (let mb = 0; mb < M; mb++) {
        if (aStage >= 0) {
          const from = forward + mb;
          const next = i32At(firstOp, forwardNext + mb);
          if (aStage == s) dep(next, i32At(lastOp, from));
          else send(P, s, i32At(activation, s), aStage, i32At(lastOp, from), next, from, ppStream, routes, blocking);
        }
        if (bStage >= 0) {
          const from = backward + mb;
          const next = i32At(firstOp, backwardNext + mb);
          if (bStage == s) dep(next, i32At(lastOp, from));
          else send(P, s, i32At(gradient, s), bStage, i32At(lastOp, from), next, from, ppStream, routes, blocking);
        }
      }
    }
  }
}

/** graph.ts send: one send of stage `from` to stage `to`, after `after` and before `before`. */
function send(P: i32, from: i32, info: i32, to: i32, after: i32, before: i32, pass: i32, ppStream: usize, routes: usize, blocking: i32): void {
  const op = addOp(i32At(ppStream, from), info, pass, to, 0, i32At(routes, from * P + to));
  dep(op, after);
  dep(before, op);
  // A blocking send holds the sender: its next compute operation waits for it.
  if (blocking != 0) dep(after + 1, op);
}

/** graph.ts passIndexOf for micro-batch 0: ((stage·3 + kind)·v + chunk)·m. */
@inline function passIndexOf(V: i32, M: i32, stage: i32, kind: i32, chunk: i32): i32 {
  return ((stage * 3 + kind) * V + chunk) * M;
}

/** events.ts retime for the first `count` operations: their times from their kinds'. */
export function retimeOps(count: i32, pre: usize, work: usize, post: usize, opPre: usize, opWork: usize, opPost: usize): void {
  for (let op = 0; op < count; op++) {
    const k = i32At(opInfo, op);
    setF64(opPre, op, f64At(pre, k));
    setF64(opWork, op, f64At(work, k));
    setF64(opPost, op, f64At(post, k));
  }
}
