// The event engine of run.ts in AssemblyScript, compiled to WebAssembly by `npm run build:wasm`
// (engine-wasm.ts holds the bytes). The same rules, in the same order, in the same f64
// arithmetic, so it plays a step out exactly as run.ts's TypeScript did — but a fresh process
// runs it at compiled speed from the first event (V8's baseline WebAssembly compiler) instead
// of interpreting it until the optimising compiler catches up (issue 11, start-up).
//
// The caller (run.ts) lays every table out in linear memory and passes byte offsets; this module
// keeps no state between runs beyond its globals, which run() sets first.
import { f64At, i32At, setF64, setI32 } from "./memory";

// The ranking's summary of a run (summary.ts) is compiled into the same module.
export { setSummaryTables, summarize } from "./summary";
// And the building of a step's compute operations and sends (graph.ts).
export { addOp, dep, depsOn, graphBad, graphBadN, graphBadOn, graphBadOp, graphEdges, graphOps, graphOver, graphParts, retimeOps, sends, setGraphTables, setPartTables, stagePasses } from "./graph";
// And the data-parallel collectives' bucket loops (dp.ts).
export { dpReusable, gatherBuckets, reduceBuckets, refillTimes, setDpTables } from "./dp";
// And a stage's passes in schedule order (schedule.ts visitOrder).
export { stageOrder } from "./order";

// Event kinds; the payload is an operation (END, FLOW) or a partial edge (PARTIAL).
const END: i32 = 0;
const FLOW: i32 = 1;
const PARTIAL: i32 = 2;

// Inputs (i32 or f64 per entry).
let opStream: usize = 0;
let opPre: usize = 0;
let opWork: usize = 0;
let opPost: usize = 0;
let opRoute: usize = 0;
let pending: usize = 0;
let head: usize = 0;
let edgeTo: usize = 0;
let edgeNext: usize = 0;
let partHead: usize = 0;
let partTo: usize = 0;
let partFrom: usize = 0;
let partNext: usize = 0;
let partFraction: usize = 0;
let routeStart: usize = 0; // route r's distinct links are routeLinks[routeStart[r] .. routeStart[r + 1])
let routeLinks: usize = 0;
let ordered: usize = 0;
// Outputs.
let start: usize = 0;
let end: usize = 0;
let ready: usize = 0;
let binder: usize = 0;
// State: streams, the event heap, the flows on the links.
let busy: usize = 0;
let queueHead: usize = 0;
let queueTail: usize = 0;
let queueNext: usize = 0;
// The heap's events, 16 bytes each: time (f64), sequence (i32), kind | payload << 2 (i32); one
// record a move where four tables took four.
let heap: usize = 0;
let heapN: i32 = 0;
let heapCounter: i32 = 0;
let heapTime: f64 = 0;
let heapLastKind: i32 = 0;
let flowOp: usize = 0;
let flowRoute: usize = 0;
let flowRemaining: usize = 0;
let flowSince: usize = 0;
let flowRate: usize = 0;
let flowFinish: usize = 0;
let flowCount: i32 = 0;
let flowDone: usize = 0;
let onLink: usize = 0;
let touched: usize = 0;
let stamp: i32 = 1;
let nextFinish: f64 = Infinity;
let clock: f64 = 0;
let done: i32 = 0;


/** The tables' offsets, in the order run.ts lays them out (see wasm-run.ts). */
export function setTables(
  a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize, a9: usize,
  a10: usize, a11: usize, a12: usize, a13: usize, a14: usize, a15: usize, a16: usize,
): void {
  opStream = a0; opPre = a1; opWork = a2; opPost = a3; opRoute = a4; pending = a5; head = a6;
  edgeTo = a7; edgeNext = a8; partHead = a9; partTo = a10; partFrom = a11; partNext = a12;
  partFraction = a13; routeStart = a14; routeLinks = a15; ordered = a16;
}

export function setState(
  a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize, a9: usize,
  a10: usize, a11: usize, a12: usize, a13: usize, a14: usize, a15: usize, a16: usize, a17: usize,
): void {
  start = a0; end = a1; ready = a2; binder = a3; busy = a4; queueHead = a5; queueTail = a6;
  queueNext = a7; heap = a8; flowOp = a9; flowRoute = a10; flowRemaining = a11; flowSince = a12;
  flowRate = a13; flowFinish = a14; flowDone = a15; onLink = a16; touched = a17;
}

/** Play `n` operations on `nStreams` streams and `nLinks` link ids out; returns how many ran
 *  (fewer than n: a deadlock, which the caller reports). start/end/ready/binder and pending are
 *  initialised here as run.ts initialises them. */
export function run(n: i32, nStreams: i32, nLinks: i32): i32 {
  for (let i = 0; i < n; i++) {
    setF64(start, i, NaN);
    setF64(end, i, NaN);
    setF64(ready, i, NaN);
    setI32(binder, i, -1);
  }
  for (let s = 0; s < nStreams; s++) {
    store<u8>(busy + <usize>s, 0);
    setI32(queueHead, s, -1);
    setI32(queueTail, s, -1);
  }
  for (let l = 0; l < nLinks; l++) {
    setI32(onLink, l, 0);
    setI32(touched, l, 0);
  }
  heapN = 0;
  heapCounter = 0;
  heapTime = 0;
  heapLastKind = 0;
  flowCount = 0;
  stamp = 1;
  nextFinish = Infinity;
  clock = 0;
  done = 0;
  // Operations with no dependency become ready at time 0.
  for (let op = 0; op < n; op++) if (i32At(pending, op) == 0 && isNaN(f64At(ready, op))) becomeReady(op, -1);
  loop();
  return done;
}

/** run.ts latest() over the last run: the time the last of its `n` operations ends (in JavaScript
 *  this loop ran interpreted in a fresh process, once per step simulated). */
export function latest(n: i32): f64 {
  let makespan: f64 = 0;
  for (let i = 0; i < n; i++) makespan = Math.max(makespan, f64At(end, i));
  return makespan;
}

function loop(): void {
  while (true) {
    const tHeap = heapN > 0 ? load<f64>(heap) : Infinity;
    const tFlow = nextFinish;
    if (tHeap == Infinity && tFlow == Infinity) break;
    if (tFlow < tHeap) {
      const now = tFlow;
      clock = now;
      const finished = finishAt(now);
      for (let i = 0; i < finished; i++) {
        const op = i32At(flowDone, i);
        if (f64At(opPost, op) > 0) push(now + f64At(opPost, op), END, op);
        else finish(op);
      }
      continue;
    }
    const x = pop();
    clock = heapTime;
    const kind = heapLastKind;
    if (kind == END) finish(x);
    else if (kind == FLOW) addFlow(x, f64At(opWork, x), i32At(opRoute, x), clock);
    else release(i32At(partTo, x), i32At(partFrom, x)); // PARTIAL
  }
}

function begin(op: i32, by: i32): void {
  const now = clock;
  store<u8>(busy + <usize>i32At(opStream, op), 1);
  setF64(start, op, now);
  if (now > f64At(ready, op)) setI32(binder, op, by);
  const fixed = f64At(opPre, op) + f64At(opPost, op);
  for (let e = i32At(partHead, op); e >= 0; e = i32At(partNext, e)) push(now + f64At(partFraction, e) * fixed, PARTIAL, e);
  if (f64At(opWork, op) > 0) push(now + f64At(opPre, op), FLOW, op);
  else push(now + fixed, END, op);
}

function dequeue(s: i32, by: i32): void {
  const op = i32At(queueHead, s);
  setI32(queueHead, s, i32At(queueNext, op));
  if (i32At(queueHead, s) < 0) setI32(queueTail, s, -1);
  begin(op, by);
}

function becomeReady(op: i32, by: i32): void {
  setF64(ready, op, clock);
  setI32(binder, op, by);
  const s = i32At(opStream, op);
  if (i32At(ordered, s) == 1) begin(op, by);
  else {
    setI32(queueNext, op, -1);
    if (i32At(queueTail, s) < 0) setI32(queueHead, s, op);
    else setI32(queueNext, i32At(queueTail, s), op);
    setI32(queueTail, s, op);
    if (load<u8>(busy + <usize>s) == 0) dequeue(s, by);
  }
}

function release(op: i32, by: i32): void {
  const left = i32At(pending, op) - 1;
  setI32(pending, op, left);
  if (left == 0) becomeReady(op, by);
}

function finish(op: i32): void {
  setF64(end, op, clock);
  done++;
  const s = i32At(opStream, op);
  store<u8>(busy + <usize>s, 0);
  for (let e = i32At(head, op); e >= 0; e = i32At(edgeNext, e)) release(i32At(edgeTo, e), op);
  if (i32At(ordered, s) == 0 && load<u8>(busy + <usize>s) == 0 && i32At(queueHead, s) >= 0) dequeue(s, op);
}

// ---- the event heap (heap.ts EventHeap): a binary min-heap keyed by (time, sequence)

function push(time: f64, kind: i32, payload: i32): void {
  const s = heapCounter++;
  let i = heapN++;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const tp = eventTime(p);
    if (tp < time || (tp == time && eventSeq(p) < s)) break;
    moveEvent(p, i);
    i = p;
  }
  putEvent(i, time, s, kind | (payload << 2));
}

function pop(): i32 {
  heapTime = eventTime(0);
  const kp = load<i32>(heap, 12);
  heapLastKind = kp & 3;
  const n = --heapN;
  if (n > 0) {
    const lt = eventTime(n);
    const ls = eventSeq(n);
    const lkp = load<i32>(heap + (<usize>n << 4), 12);
    let i = 0;
    while (true) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n) {
        const tr = eventTime(r);
        const tc = eventTime(c);
        if (tr < tc || (tr == tc && eventSeq(r) < eventSeq(c))) c = r;
      }
      const tc = eventTime(c);
      if (lt < tc || (lt == tc && ls < eventSeq(c))) break;
      moveEvent(c, i);
      i = c;
    }
    putEvent(i, lt, ls, lkp);
  }
  return kp >> 2;
}

@inline function eventTime(i: i32): f64 {
  return load<f64>(heap + (<usize>i << 4));
}
@inline function eventSeq(i: i32): i32 {
  return load<i32>(heap + (<usize>i << 4), 8);
}

@inline function putEvent(i: i32, time: f64, seq: i32, kp: i32): void {
  const at = heap + (<usize>i << 4);
  store<f64>(at, time);
  store<i32>(at, seq, 8);
  store<i32>(at, kp, 12);
}

@inline function moveEvent(from: i32, to: i32): void {
  const a = heap + (<usize>from << 4);
  const b = heap + (<usize>to << 4);
  store<i64>(b, load<i64>(a));
  store<i64>(b, load<i64>(a, 8), 8);
}

// ---- the shared links (links.ts SharedLinks): processor sharing of each link's bandwidth

function addFlow(op: i32, work: f64, route: i32, now: f64): void {
  const i = flowCount++;
  setI32(flowOp, i, op);
  setI32(flowRoute, i, route);
  setF64(flowRemaining, i, work);
  setF64(flowSince, i, now);
  setF64(flowRate, i, 1);
  setF64(flowFinish, i, now + work);
  crossing(route, 1);
  rerate(now);
}

/** A flow joins (+1) or leaves (−1) the links of `route` (−1: none); they are touched by it. */
function crossing(route: i32, delta: i32): void {
  if (route < 0) return;
  const to = i32At(routeStart, route + 1);
  for (let j = i32At(routeStart, route); j < to; j++) {
    const l = i32At(routeLinks, j);
    setI32(onLink, l, i32At(onLink, l) + delta);
    setI32(touched, l, stamp);
  }
}

function finishAt(now: f64): i32 {
  const limit = now + 1e-12 * Math.max(now, 1e-30);
  let kept = 0;
  let out = 0;
  for (let i = 0; i < flowCount; i++) {
    if (f64At(flowFinish, i) <= limit) {
      setI32(flowDone, out++, i32At(flowOp, i));
      crossing(i32At(flowRoute, i), -1);
      continue;
    }
    if (kept < i) {
      setI32(flowOp, kept, i32At(flowOp, i));
      setI32(flowRoute, kept, i32At(flowRoute, i));
      setF64(flowRemaining, kept, f64At(flowRemaining, i));
      setF64(flowSince, kept, f64At(flowSince, i));
      setF64(flowRate, kept, f64At(flowRate, i));
      setF64(flowFinish, kept, f64At(flowFinish, i));
    }
    kept++;
  }
  flowCount = kept;
  rerate(now);
  return out;
}

function rerate(now: f64): void {
  let next = Infinity;
  for (let i = 0; i < flowCount; i++) {
    const route = i32At(flowRoute, i);
    let hit = false;
    let from = 0;
    let to = 0;
    if (route >= 0) {
      from = i32At(routeStart, route);
      to = i32At(routeStart, route + 1);
      for (let j = from; j < to; j++) if (i32At(touched, i32At(routeLinks, j)) == stamp) hit = true;
    }
    if (hit) {
      setF64(flowRemaining, i, f64At(flowRemaining, i) - f64At(flowRate, i) * (now - f64At(flowSince, i)));
      setF64(flowSince, i, now);
      let most: f64 = 1;
      for (let j = from; j < to; j++) most = Math.max(most, <f64>i32At(onLink, i32At(routeLinks, j)));
      // (alone on its links, the usual case: 1 / 1 and x / 1 are exact, the divisions skipped)
      if (most == 1) {
        setF64(flowRate, i, 1);
        setF64(flowFinish, i, now + Math.max(0, f64At(flowRemaining, i)));
      } else {
        const rate = 1 / most;
        setF64(flowRate, i, rate);
        setF64(flowFinish, i, now + Math.max(0, f64At(flowRemaining, i)) / rate);
      }
    }
    if (f64At(flowFinish, i) < next) next = f64At(flowFinish, i);
  }
  nextFinish = next;
  stamp++;
}
