// The data-parallel collectives' bucket loops (dp.ts fillBuckets, gradProgress, reducePass's
// buckets and gatherAhead; the readable reference) in AssemblyScript, compiled into the engine's
// module (engine.ts re-exports it): the same buckets, collectives, dependencies and partial
// dependencies in the same order and the same f64 arithmetic, so that a graph built with them is
// the one dp.ts builds (test/sim/graph-wasm.test.ts). In TypeScript a fresh process ran these
// loops interpreted, a collective and a dependency or two per bucket, some 2,200 buckets a graph
// of gpt3-like's top 20 (issue 11, start-up).
//
// A collective's kind of operation and route stay the caller's (dp.ts Label, infos.ts): asked for
// through the imports dpKind and dpRoute whenever a bucket's bytes differ from the one before,
// as Label keeps the last one.
import { addOp, dep, graphOps, kindOf, partialDep } from "./graph";
import { f64At, i32At, setF64 } from "./memory";

// @ts-ignore: decorator
@external("env", "dpKind")
declare function dpKind(bytes: f64): i32;
// @ts-ignore: decorator
@external("env", "dpRoute")
declare function dpRoute(): i32;

// Per kind of operation (those of the compute operations): the layers it plays (OpInfo.layers,
// 1 when absent) and where its gradients start (OpInfo.gradFrom).
let kindLayers: usize = 0;
let kindGradFrom: usize = 0;
// Per partial dependency: how far through its producer's bytes the bucket's last byte is
// (graph.ts Graph.partBytes).
let partBytes: usize = 0;
// 0 where a bucket part-way through its producer became a whole dependency (Graph.reusable).
let reusable: i32 = 1;
// The label's last collective: its bytes, kind and route (dp.ts Label).
let lastBytes: f64 = NaN;
let lastKind: i32 = -1;
let lastRoute: i32 = -1;
// The stream, bytes per operation (Graph.opBytes or opExpertBytes) and scale of the loop at hand.
let stream: i32 = 0;
let scale: f64 = 1;

/** The kind tables, the partial dependencies' byte fractions, and the reusable flag set again. */
export function setDpTables(layers: usize, gradFrom: usize, bytes: usize): void {
  kindLayers = layers;
  kindGradFrom = gradFrom;
  partBytes = bytes;
  reusable = 1;
}

export function dpReusable(): i32 {
  return reusable;
}

/** dp.ts collective: a collective of `bytes` on the stream at hand, index `index`. */
function collective(bytes: f64, index: i32): i32 {
  if (bytes != lastBytes) {
    lastKind = dpKind(bytes);
    lastRoute = dpRoute();
    lastBytes = bytes;
  }
  return addOp(stream, lastKind, -1, index, 0, lastRoute);
}

/** dp.ts gradProgress for an operation of `n` layers whose gradients start at `gradFrom`. */
function gradProgress(n: f64, gradFrom: f64, fraction: f64): f64 {
  if (fraction >= 1) return 1;
  if (n == 1) return gradFrom + fraction * (1 - gradFrom);
  const x = fraction * n;
  const layer = Math.max(0, Math.ceil(x) - 1); // the layer holding the byte (x = k: layer k − 1, at its end)
  const f = x - layer;
  return (layer + (f >= 1 ? 1 : gradFrom + f * (1 - gradFrom))) / n;
}

/** reducePass's bucket k: its collective, waiting for `producer` to be `fraction` of its bytes
 *  through (a partial dependency), or for its end. */
function reduceBucket(bytes: f64, k: i32, producer: i32, fraction: f64): void {
  const op = collective(bytes * scale, k);
  const kind = kindOf(producer);
  const progress = gradProgress(f64At(kindLayers, kind), f64At(kindGradFrom, kind), fraction);
  if (progress < 1) {
    const e = partialDep(op, producer, progress);
    if (e >= 0) setF64(partBytes, e, fraction);
  } else {
    if (fraction < 1) reusable = 0;
    dep(op, producer);
  }
}

/** A gathering bucket k: its collective, after operation `after` where it is one. */
function gatherBucket(bytes: f64, k: i32, after: i32): void {
  const op = collective(bytes * scale, k);
  if (after >= 0) dep(op, after);
}

/** dp.ts fillBuckets over operations first … last of `opBytes` with buckets of `cap` bytes, each
 *  bucket made as it is cut (reduceBucket, or gatherBucket after `after` when `gather`); returns
 *  how many. */
function cut(opBytes: usize, first: i32, last: i32, cap: f64, gather: bool, after: i32): i32 {
  let count = 0;
  let filled: f64 = 0;
  let lastOp = -1;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = f64At(opBytes, op);
    if (bytes <= 0) continue;
    lastOp = op;
    let used: f64 = 0;
    while (bytes - used >= cap - filled) {
      used += cap - filled;
      if (gather) gatherBucket(cap, count, after);
      else reduceBucket(cap, count, op, used / bytes);
      count++;
      filled = 0;
      if (used >= bytes) break;
    }
    filled += bytes - used;
  }
  if (filled > 0) {
    if (gather) gatherBucket(filled, count, after);
    else reduceBucket(filled, count, lastOp, 1);
    count++;
  }
  return count;
}

/** dp.ts reducePass, overlapped: a backward pass's gradients (operations first … last, bytes in
 *  `opBytes`) reduced bucket by bucket on `dpStream`, each bucket's bytes times `gradScale`;
 *  returns how many (their operations are the next ones, one after another). */
export function reduceBuckets(dpStream: i32, opBytes: usize, first: i32, last: i32, cap: f64, gradScale: f64): i32 {
  stream = dpStream;
  scale = gradScale;
  lastBytes = NaN;
  return cut(opBytes, first, last, cap, false, -1);
}

/** dp.ts gatherAhead: a forward's weights (operations first … last) all-gathered in buckets of
 *  `cap`, each bucket's bytes times `gatherScale`, every bucket after operation `after` where it
 *  is one, each operation waiting for the bucket holding its last byte; returns how many. */
export function gatherBuckets(dpStream: i32, opBytes: usize, first: i32, last: i32, cap: f64, gatherScale: f64, after: i32): i32 {
  stream = dpStream;
  scale = gatherScale;
  lastBytes = NaN;
  const firstBucket = graphOps();
  const count = cut(opBytes, first, last, cap, true, after);
  let cum: f64 = 0;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = f64At(opBytes, op);
    if (bytes <= 0) continue;
    cum += bytes;
    // (at least the first: a few bytes in a bucket of gigabytes, cum/cap under the rounding
    // allowance, gave bucket −1)
    const k = Math.max(0, Math.min(<f64>(count - 1), Math.ceil(cum / cap - 1e-9) - 1));
    // (an index that is no number names no operation: dep() records it as out of range)
    dep(op, k == k ? firstBucket + <i32>k : -1);
  }
  return count;
}

/** reuse.ts refill's loops over a graph played again with other costs: each of the `nParts`
 *  partial dependencies' fraction from its producer's kind and its bytes' fraction (gradProgress;
 *  producers `partFrom`, byte fractions `partBytes`, into `partFraction`), then each of the `n`
 *  operations' times from its kind's (events.ts retime: `opInfo` into `opPre`, `opWork`,
 *  `opPost`). 0, and no time set, where a fraction is not below 1 (the graph is not the one
 *  these costs build). */
export function refillTimes(
  n: i32, nParts: i32, opInfo: usize, partFrom: usize, partBytes: usize, layers: usize, gradFrom: usize, partFraction: usize,
  pre: usize, work: usize, post: usize, opPre: usize, opWork: usize, opPost: usize,
): i32 {
  for (let k = 0; k < nParts; k++) {
    const kind = i32At(opInfo, i32At(partFrom, k));
    const fraction = gradProgress(f64At(layers, kind), f64At(gradFrom, kind), f64At(partBytes, k));
    if (!(fraction < 1)) return 0;
    setF64(partFraction, k, fraction);
  }
  for (let op = 0; op < n; op++) {
    const kind = i32At(opInfo, op);
    setF64(opPre, op, f64At(pre, kind));
    setF64(opWork, op, f64At(work, kind));
    setF64(opPost, op, f64At(post, kind));
  }
  return 1;
}
