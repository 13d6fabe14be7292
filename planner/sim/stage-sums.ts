// Each stage's breakdown of a simulated step, summed from the engine's result (timeline.ts): the
// columns it is summed in, the data-parallel overlap, and the ranking's one-pass sum (no segments).
import type { EngineResult } from "./events.js";
import type { Graph, SegmentKind } from "./graph.js";

/** StageTimes' fields in order; per stage they are summed in a Float64Array row (a field written
 *  through a computed key stores a freshly allocated number, which made this loop allocate
 *  megabytes a step) and copied into StageTimes at the end. */
export const FORWARD = 0;
export const BACKWARD = 1;
export const RECOMPUTE = 2;
export const TP = 3;
export const PP = 4;
export const DP = 5;
export const BUBBLE = 6;
export const OPTIMIZER = 7;
export const END = 8;
export const EP = 9;
export const CP = 10;
export const N = 11;

export function column(kind: SegmentKind): number {
  switch (kind) {
    case "forward":
      return FORWARD;
    case "backward":
    case "weightGrad":
      return BACKWARD;
    case "recompute":
      return RECOMPUTE;
    case "tpComm":
      return TP;
    case "epComm":
      return EP;
    case "cpComm":
      return CP;
    case "ppComm":
      return PP;
    case "dpComm":
      return DP;
    case "optimizer":
      return OPTIMIZER;
  }
}

/** Seconds each stage's compute stream ran while one of its data-parallel collectives did. A
 *  stream runs one operation at a time, so that is, summed over the collectives, the compute
 *  stream's busy time between each one's start and end: the difference of the stream's cumulative
 *  busy time, found by binary search over its operations (in index order, as sumStages reads
 *  them; their ends do not decrease). */
export function dpOverlap(g: Graph, r: EngineResult, P: number): Float64Array {
  const n = g.engine.opCount;
  const { start, end } = r;
  const { infos, opInfo } = g;
  // Compute operations of each stage, in order: offsets into one table (counting sort by stage).
  const first = new Int32Array(P + 1);
  for (let op = 0; op < n; op++) {
    const info = infos[opInfo[op]!]!;
    if (info.stream === "compute") first[info.stage + 1]!++;
  }
  for (let s = 0; s < P; s++) first[s + 1]! += first[s]!;
  const fill = first.slice(0, P);
  const from = new Float64Array(first[P]!);
  const to = new Float64Array(first[P]!);
  const busy = new Float64Array(first[P]!); // busy[k]: the stage's compute time until operation k ends
  for (let op = 0; op < n; op++) {
    const info = infos[opInfo[op]!]!;
    if (info.stream !== "compute") continue;
    const k = fill[info.stage]!++;
    from[k] = start[op]!;
    to[k] = Math.max(end[op]!, k > first[info.stage]! ? to[k - 1]! : 0);
  }
  // Cumulative busy time at each operation's end, per stage.
  for (let s = 0; s < P; s++) {
    let sum = 0;
    for (let k = first[s]!; k < first[s + 1]!; k++) {
      sum += Math.max(0, to[k]! - Math.max(from[k]!, k > first[s]! ? to[k - 1]! : -Infinity));
      busy[k] = sum;
    }
  }
  const out = new Float64Array(P);
  for (let op = 0; op < n; op++) {
    const info = infos[opInfo[op]!]!;
    if (info.stream !== "dp comm" || !(end[op]! > start[op]!)) continue;
    out[info.stage] = out[info.stage]! + busyUntil(first, from, to, busy, info.stage, end[op]!) - busyUntil(first, from, to, busy, info.stage, start[op]!);
  }
  return out;
}

/** Busy time of stage s's compute stream in [0, t]: its operations are first[s] … first[s+1]−1
 *  of from/to/busy (dpOverlap). */
function busyUntil(first: Int32Array, from: Float64Array, to: Float64Array, busy: Float64Array, s: number, t: number): number {
  let lo = first[s]!;
  let hi = first[s + 1]!; // first operation ending after t
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (to[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  const before = lo > first[s]! ? busy[lo - 1]! : 0;
  return lo < first[s + 1]! ? before + Math.max(0, t - Math.max(from[lo]!, lo > first[s]! ? to[lo - 1]! : -Infinity)) : before;
}

// Streams in the per-kind table of sumSummary.
const COMPUTE = 0;
const PP_COMM = 1;
const DP_COMM = 2;

/** sumStages and dpOverlap (given `overlap`) for the ranking's summary, without segments, in one
 *  pass over the operations; returns the first operation of the latest end. The same sums in the
 *  same order, to the bit (test/sim/stage-sums.test.ts): buildGraph adds every compute operation
 *  before any other, stage by stage (stage s's are those after stage s−1's optimizer step up to its
 *  own), so that each stage's compute operations are a range of indices, visited in index order,
 *  and the collectives come after all of them. Per kind of operation its stage, stream and parts
 *  are read from typed tables, not from its OpInfo. */
export function sumSummary(g: Graph, r: EngineResult, times: Float64Array, cursor: Float64Array, overlap: Float64Array | null): number {
  const { infos, opInfo, optimizerOp } = g;
  const P = g.costs.pp;
  const n = g.engine.opCount;
  const { start, end, binder } = r;
  const nInfos = infos.length;
  const stageOf = new Int32Array(nInfos);
  const streamOf = new Int32Array(nInfos);
  const partAt = new Int32Array(nInfos + 1);
  for (let i = 0; i < nInfos; i++) partAt[i + 1] = partAt[i]! + infos[i]!.parts.length;
  const col = new Int32Array(partAt[nInfos]!);
  const dur = new Float64Array(partAt[nInfos]!);
  for (let i = 0; i < nInfos; i++) {
    const info = infos[i]!;
    stageOf[i] = info.stage;
    streamOf[i] = info.stream === "compute" ? COMPUTE : info.stream === "pp comm" ? PP_COMM : DP_COMM;
    for (let k = 0; k < info.parts.length; k++) {
      col[partAt[i]! + k] = column(info.parts[k]![0]);
      dur[partAt[i]! + k] = info.parts[k]![1];
    }
  }
  const computeOps = P > 0 ? optimizerOp[P - 1]! + 1 : 0;
  const first = new Int32Array(P + 1); // stage s's compute operations: first[s] … first[s+1]−1
  for (let s = 0; s < P; s++) first[s + 1] = optimizerOp[s]! + 1;
  // Where the run lies in the WebAssembly engine's memory, the same pass there (wasm/summary.ts):
  // in a fresh process this loop ran interpreted for most of the steps simulated.
  if (r.wasm?.holds(r)) return r.wasm.summarize(r, { n, stages: P, opInfo, stageOf, streamOf, partAt, col, dur, first }, times, cursor, overlap);
  // Per compute operation (by index): its start, its stream's busy end so far, the stream's busy time.
  const from = overlap ? new Float64Array(computeOps) : null;
  const to = overlap ? new Float64Array(computeOps) : null;
  const busy = overlap ? new Float64Array(computeOps) : null;
  let lastOp = 0;
  for (let s = 0; s < P; s++) lastOp = sumComputeOps(stageOf, streamOf, partAt, col, dur, opInfo, start, end, binder, times, cursor, s, first[s]!, first[s + 1]!, lastOp, from, to, busy);
  return sumOtherOps(stageOf, streamOf, opInfo, start, end, times, computeOps, n, lastOp, overlap, first, from, to, busy);
}

/** sumSummary's pass over the other operations, computeOps … n−1 (sends, collectives): each
 *  stage's end, the overlap of its collectives; returns the first operation of the latest end,
 *  given `lastOp` before them. */
function sumOtherOps(
  stageOf: Int32Array,
  streamOf: Int32Array,
  opInfo: Int32Array,
  start: Float64Array,
  end: Float64Array,
  times: Float64Array,
  computeOps: number,
  n: number,
  lastOp: number,
  overlap: Float64Array | null,
  first: Int32Array,
  from: Float64Array | null,
  to: Float64Array | null,
  busy: Float64Array | null,
): number {
  let latest = end[lastOp]!;
  for (let op = computeOps; op < n; op++) {
    const i = opInfo[op]!;
    const s = stageOf[i]!;
    const e = end[op]!;
    if (e > latest) {
      latest = e;
      lastOp = op;
    }
    times[s * N + END] = Math.max(times[s * N + END]!, e);
    if (overlap !== null && streamOf[i] === DP_COMM && e > start[op]!)
      overlap[s] = overlap[s]! + busyUntil(first, from!, to!, busy!, s, e) - busyUntil(first, from!, to!, busy!, s, start[op]!);
  }
  return lastOp;
}

/** sumSummary's pass over stage s's compute operations lo … hi−1 (sumStages' arithmetic); returns
 *  the first operation of the latest end so far, given `lastOp` before them. */
function sumComputeOps(
  stageOf: Int32Array,
  streamOf: Int32Array,
  partAt: Int32Array,
  col: Int32Array,
  dur: Float64Array,
  opInfo: Int32Array,
  start: Float64Array,
  end: Float64Array,
  binder: Int32Array,
  times: Float64Array,
  cursor: Float64Array,
  s: number,
  lo: number,
  hi: number,
  lastOp: number,
  from: Float64Array | null,
  to: Float64Array | null,
  busy: Float64Array | null,
): number {
  const row = s * N;
  let latest = end[lastOp]!;
  let sum = 0;
  for (let op = lo; op < hi; op++) {
    const e = end[op]!;
    if (e > latest) {
      latest = e;
      lastOp = op;
    }
    times[row + END] = Math.max(times[row + END]!, e);
    // The gap before this compute operation, attributed to what released it.
    const gapStart = cursor[s]!;
    const gapEnd = start[op]!;
    if (gapEnd > gapStart) {
      const b = binder[op]!;
      const by = b >= 0 ? opInfo[b]! : -1;
      let comm = 0;
      let dp = false;
      if (by >= 0 && streamOf[by] === DP_COMM) {
        comm = gapEnd - gapStart;
        dp = true;
      } else if (by >= 0 && streamOf[by] === PP_COMM) {
        comm = stageOf[by] === s ? gapEnd - gapStart : Math.max(0, gapEnd - Math.max(gapStart, start[b]!));
      }
      const idle = gapEnd - gapStart - comm;
      const c = row + (dp ? DP : PP);
      times[c] = times[c]! + comm;
      times[row + BUBBLE] = times[row + BUBBLE]! + idle;
    }
    const i = opInfo[op]!;
    for (let k = partAt[i]!; k < partAt[i + 1]!; k++) {
      const c = row + col[k]!;
      times[c] = times[c]! + dur[k]!;
    }
    cursor[s] = e;
    if (from !== null) {
      const prev = op > lo ? to![op - 1]! : 0;
      from[op] = start[op]!;
      to![op] = Math.max(e, prev);
      sum += Math.max(0, to![op]! - Math.max(from[op]!, op > lo ? to![op - 1]! : -Infinity));
      busy![op] = sum;
    }
  }
  return lastOp;
}
