// The ranking's one pass over a run's operations (stage-sums.ts sumSummary, the readable
// reference) in AssemblyScript, compiled into the engine's module (engine.ts re-exports it): it
// reads the run's start, end and binder where engine.ts wrote them, in the same order and the
// same f64 arithmetic as sumComputeOps, sumOtherOps and busyUntil, so that its sums are
// sumSummary's to the bit (test/sim/stage-sums.test.ts). In TypeScript a fresh process ran this
// loop interpreted for most of the twenty steps it simulates (issue 11, start-up).
//
// The caller (wasm-run.ts WasmEngine.summarize) lays the tables out in linear memory and passes
// byte offsets; offsets of 0 for `overlap`, `from`, `to` and `busy`: no data-parallel slowdown.
import { f64At, i32At, setF64 } from "./memory";

// StageTimes' columns (stage-sums.ts).
const PP: i32 = 4;
const DP: i32 = 5;
const BUBBLE: i32 = 6;
const END: i32 = 8;
const N: i32 = 11;
// Streams in the per-kind table (stage-sums.ts).
const PP_COMM: i32 = 1;
const DP_COMM: i32 = 2;

// Per operation: its kind; the run's start, end and binder.
let opInfo: usize = 0;
let start: usize = 0;
let end: usize = 0;
let binder: usize = 0;
// Per kind: stage, stream, its parts partAt[i] … partAt[i + 1] − 1 (column and duration each).
let stageOf: usize = 0;
let streamOf: usize = 0;
let partAt: usize = 0;
let col: usize = 0;
let dur: usize = 0;
// Stage s's compute operations are first[s] … first[s + 1] − 1.
let first: usize = 0;
// Results: per stage a row of N columns, where its compute stream ends, its overlap.
let times: usize = 0;
let cursor: usize = 0;
let overlap: usize = 0;
// Per compute operation: its start, its stream's busy end so far, the stream's busy time.
let from: usize = 0;
let to: usize = 0;
let busy: usize = 0;

@inline function addF64(base: usize, i: i32, v: f64): void {
  store<f64>(base + (<usize>i << 3), load<f64>(base + (<usize>i << 3)) + v);
}

/** The tables' offsets (wasm-run.ts lays them out in this order). */
export function setSummaryTables(
  a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize, a7: usize, a8: usize, a9: usize,
  a10: usize, a11: usize, a12: usize, a13: usize, a14: usize, a15: usize,
): void {
  opInfo = a0; start = a1; end = a2; binder = a3; stageOf = a4; streamOf = a5; partAt = a6; col = a7;
  dur = a8; first = a9; times = a10; cursor = a11; overlap = a12; from = a13; to = a14; busy = a15;
}

/** sumSummary over `n` operations of `stages` stages: times, cursor (and overlap) zeroed, then
 *  summed; returns the first operation of the latest end. */
export function summarize(n: i32, stages: i32): i32 {
  for (let i = 0; i < stages * N; i++) setF64(times, i, 0);
  for (let s = 0; s < stages; s++) {
    setF64(cursor, s, 0);
    if (overlap != 0) setF64(overlap, s, 0);
  }
  let lastOp = 0;
  for (let s = 0; s < stages; s++) lastOp = computeOps(s, i32At(first, s), i32At(first, s + 1), lastOp);
  return otherOps(stages > 0 ? i32At(first, stages) : 0, n, lastOp);
}

/** stage-sums.ts sumComputeOps: stage s's compute operations lo … hi − 1. */
function computeOps(s: i32, lo: i32, hi: i32, lastOp: i32): i32 {
  const row = s * N;
  let latest = f64At(end, lastOp);
  let sum: f64 = 0;
  for (let op = lo; op < hi; op++) {
    const e = f64At(end, op);
    if (e > latest) {
      latest = e;
      lastOp = op;
    }
    setF64(times, row + END, Math.max(f64At(times, row + END), e));
    // The gap before this compute operation, attributed to what released it.
    const gapStart = f64At(cursor, s);
    const gapEnd = f64At(start, op);
    if (gapEnd > gapStart) {
      const b = i32At(binder, op);
      const by = b >= 0 ? i32At(opInfo, b) : -1;
      let comm: f64 = 0;
      let dp = false;
      if (by >= 0 && i32At(streamOf, by) == DP_COMM) {
        comm = gapEnd - gapStart;
        dp = true;
      } else if (by >= 0 && i32At(streamOf, by) == PP_COMM) {
        comm = i32At(stageOf, by) == s ? gapEnd - gapStart : Math.max(0, gapEnd - Math.max(gapStart, f64At(start, b)));
      }
      const idle = gapEnd - gapStart - comm;
      addF64(times, row + (dp ? DP : PP), comm);
      addF64(times, row + BUBBLE, idle);
    }
    const i = i32At(opInfo, op);
    const to_ = i32At(partAt, i + 1);
    for (let k = i32At(partAt, i); k < to_; k++) addF64(times, row + i32At(col, k), f64At(dur, k));
    setF64(cursor, s, e);
    if (from != 0) {
      const prev = op > lo ? f64At(to, op - 1) : 0;
      setF64(from, op, f64At(start, op));
      setF64(to, op, Math.max(e, prev));
      sum += Math.max(0, f64At(to, op) - Math.max(f64At(from, op), op > lo ? f64At(to, op - 1) : -Infinity));
      setF64(busy, op, sum);
    }
  }
  return lastOp;
}

/** stage-sums.ts sumOtherOps: the operations computeOps … n − 1 (sends, collectives). */
function otherOps(computeOps: i32, n: i32, lastOp: i32): i32 {
  let latest = f64At(end, lastOp);
  for (let op = computeOps; op < n; op++) {
    const i = i32At(opInfo, op);
    const s = i32At(stageOf, i);
    const e = f64At(end, op);
    if (e > latest) {
      latest = e;
      lastOp = op;
    }
    setF64(times, s * N + END, Math.max(f64At(times, s * N + END), e));
    if (overlap != 0 && i32At(streamOf, i) == DP_COMM && e > f64At(start, op))
      setF64(overlap, s, f64At(overlap, s) + busyUntil(s, e) - busyUntil(s, f64At(start, op)));
  }
  return lastOp;
}

/** stage-sums.ts busyUntil: busy time of stage s's compute stream in [0, t]. */
function busyUntil(s: i32, t: f64): f64 {
  const lo0 = i32At(first, s);
  const hi0 = i32At(first, s + 1);
  let lo = lo0;
  let hi = hi0; // first operation ending after t
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (f64At(to, mid) <= t) lo = mid + 1;
    else hi = mid;
  }
  const before = lo > lo0 ? f64At(busy, lo - 1) : 0;
  return lo < hi0 ? before + Math.max(0, t - Math.max(f64At(from, lo), lo > lo0 ? f64At(to, lo - 1) : -Infinity)) : before;
}
