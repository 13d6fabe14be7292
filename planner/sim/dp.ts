// Data-parallel and ZeRO collectives on each stage's data-parallel stream, the tied-embedding
// all-reduce, and what the optimizer step waits for.
//
//  ZeRO-0 (DDP): gradients all-reduced in buckets as the last micro-batch's backward of each chunk
//    produces them (Li et al. 2020 §3.2.3; Megatron-LM --overlap-grad-reduce); without overlap,
//    one collective per chunk after the whole backward (Megatron sets bucket_size = None).
//  ZeRO-1 (distributed optimizer): the same buckets reduce-scattered; the updated 16-bit weights
//    all-gathered in buckets ahead of the first forward that uses them (--overlap-param-gather,
//    the engine's overlapParamGather), or after the optimizer step without overlap.
//  ZeRO-2: reduce-scatter after every micro-batch's backward (Rajbhandari et al. 2020 §5.2).
//  ZeRO-3 / FSDP: each weight-holding operation all-gathers its weights before every forward and
//    backward, prefetched the engine's prefetchLayers operations ahead (1: the gather for op i
//    starts when op i−1 starts: two unsharded layers, Zhao et al. 2023 §3.2), and reduce-scatters
//    its gradients after every backward (Rajbhandari et al. 2020 §7.2.2).
// Buckets fill as gradients are produced: a bucket is ready the moment its last byte is, part-way
// through the backward of the operation that produces it.
// The routed experts' weights (Graph.opExpertBytes) follow the same pattern in their own buckets
// over the expert-data-parallel group, edp ranks on its link (SimCosts.expert; Megatron-Core
// DistributedDataParallel keeps expert-parallel parameters in separate buffers reduced over
// expt_dp_group), on the same data-parallel stream; the dense weights (Graph.opBytes) over dp·cp.
// As the closed form prices them (wire/expert-wire.ts), the experts' weights are gathered once a
// step at ZeRO-1/2, and at ZeRO-3 with one collective per layer and pass and no regather.
import { Buckets, fillBuckets, gradProgress } from "./buckets.js";
import { addOp, type Graph, hasDataParallel, infoOf } from "./graph.js";
import type { CollectiveKind, Transfer } from "./costs.js";
import { addInfo, transferOf } from "./infos.js";
import { linkId } from "./links.js";
import type { CollectiveKinds } from "./wasm-run.js";

export { gradProgress } from "./buckets.js";

/** One kind of weights and its collectives: the dense ones over dp·cp, or the routed experts'
 *  over edp. */
interface Side {
  expert: boolean;
  /** Per operation, bytes of these weights (Graph.opBytes or opExpertBytes). */
  bytes: Float64Array;
  gradScale: number;
  weightGatherScale: number;
  bucketBytes: number;
  /** Word in the collectives' labels ("" or "expert "). */
  name: string;
}

/** The sides with collectives to run: the dense weights where dp·cp > 1, the experts' where
 *  edp > 1. */
function sidesOf(g: Graph): Side[] {
  const c = g.costs;
  const out: Side[] = [];
  if (c.dp > 1) out.push({ expert: false, bytes: g.opBytes, gradScale: c.gradScale, weightGatherScale: c.weightGatherScale, bucketBytes: c.bucketBytes, name: "" });
  if (c.expert) out.push({ expert: true, bytes: g.opExpertBytes, gradScale: c.expert.gradScale, weightGatherScale: c.expert.weightGatherScale, bucketBytes: c.expert.bucketBytes, name: "expert " });
  return out;
}

/** Bytes of the weights of a pass's operations first … last. */
function passBytes(opBytes: Float64Array, first: number, last: number): number {
  let bytes = 0;
  for (let op = first; op >= 0 && op <= last; op++) bytes += opBytes[op]!;
  return bytes;
}

/** The collectives of one kind under one label (a pass's buckets, a stage's ZeRO-3 gathers), and
 *  the cost, route and description of the last one added: most buckets have the same size. */
class Label {
  bytes = NaN;
  transfer: Transfer | null = null;
  route = -1;
  info = -1;
  constructor(
    readonly stage: number,
    readonly kind: CollectiveKind,
    readonly text: string,
    /** Collectives each operation's transfer stands for, each paying the latency (ZeRO-3's
     *  gatherCallsPerLayer for a layer); 1 elsewhere. */
    readonly calls = 1,
    /** Over the expert-data-parallel group (SimCosts.expert), else dp·cp. */
    readonly expert = false,
  ) {}
}

/** events.ts dep(), or the open WebAssembly builder's (graph.ts Graph.build). */
function dep(g: Graph, op: number, on: number): void {
  if (g.build !== null) g.build.dep(op, on);
  else g.engine.dep(op, on);
}

/** A collective of `bytes` on `label`'s stage's data-parallel stream, its kind and route the
 *  label's (labelKind). */
function collective(g: Graph, bytes: number, label: Label, index = -1): number {
  labelKind(g, bytes, label);
  return addOp(g, g.streams.dp[label.stage]!, label.info, -1, index, 0, label.route);
}

/** The kind of operation and the route of a collective of `bytes` under `label`, noted in it;
 *  for the WebAssembly bucket loops (wasm/dp.ts), asked for as they need them. */
const kindsOf = (g: Graph, label: Label): CollectiveKinds => ({ kind: (bytes) => (labelKind(g, bytes, label), label.info), route: () => label.route });

function labelKind(g: Graph, bytes: number, label: Label): void {
  if (label.bytes !== bytes || label.transfer === null) {
    // Costs by kind and size and each stage's link pair are shared, not rebuilt per bucket.
    const m = g.dpMemo;
    const stage = label.stage;
    const t = transferOf(g, label.kind, bytes, label.expert);
    let route = m.routes.get(stage * 2 + (t.inter ? 1 : 0));
    if (route === undefined) m.routes.set(stage * 2 + (t.inter ? 1 : 0), (route = g.engine.routeOf([linkId(stage, t.inter, false), linkId(stage, t.inter, true)])));
    label.bytes = bytes;
    label.transfer = t;
    label.route = route;
    label.info = addInfo(g, { k: "collective", stage, kind: label.kind, expert: label.expert, bytes, calls: label.calls, label: label.text, inter: t.inter });
  }
}

/** Reduce one side's gradients of one backward pass: bucket by bucket as they are produced, or in
 *  one collective after `after` without overlap. Adds the collectives to `out`. */
function reducePass(g: Graph, stage: number, pass: number, kind: CollectiveKind, after: number | null, label: string, out: number[], scratch: Buckets, side: Side): number {
  const first = g.firstOp[pass]!;
  const last = g.lastOp[pass]!;
  const opBytes = side.bytes;
  if (after !== null) {
    const op = collective(g, passBytes(opBytes, first, last) * side.gradScale, new Label(stage, kind, `${label}, all at once`, 1, side.expert));
    dep(g, op, after);
    out.push(op);
    return op;
  }
  const bucketLabel = new Label(stage, kind, `${label} bucket`, 1, side.expert);
  if (g.build !== null) {
    // the same loop in WebAssembly (wasm/dp.ts reduceBuckets): its buckets are the next operations
    const b = g.build.reduceBuckets(g.streams.dp[stage]!, side.expert, first, last, side.bucketBytes, side.gradScale, kindsOf(g, bucketLabel));
    for (let k = 0; k < b.count; k++) out.push(b.first + k);
    return b.count > 0 ? b.first + b.count - 1 : -1;
  }
  const buckets = fillBuckets(opBytes, first, last, side.bucketBytes, scratch);
  let op = -1;
  for (let k = 0; k < buckets.length; k++) {
    // Buckets hold a parameter count (Megatron-Core's 40M): their bytes follow the gradients' type.
    op = collective(g, buckets.bytes[k]! * side.gradScale, bucketLabel, k);
    const producer = buckets.op[k]!;
    const fraction = buckets.fraction[k]!;
    const progress = gradProgress(infoOf(g, producer), fraction);
    // A partial dependency: its byte fraction kept to make it again for other costs (reuse.ts).
    if (progress < 1) g.partBytes.push(fraction);
    else if (fraction < 1) g.reusable = false;
    if (progress < 1) g.engine.partialDep(op, producer, progress);
    else dep(g, op, producer);
    out.push(op);
  }
  return op;
}

export function addDataParallel(g: Graph): void {
  const c = g.costs;
  // The buckets of the pass at hand, refilled pass after pass.
  const scratch = new Buckets();
  const P = c.pp;
  if (hasDataParallel(c)) {
    const sides = sidesOf(g);
    for (let s = 0; s < P; s++) {
      if (c.zero === 3) addZero3(g, s, sides);
      else reduceStage(g, s, sides, scratch);
    }
  }
  if (c.tiedEmbedding && P > 1) {
    // Megatron-LM finalize_model_grads: after the data-parallel reductions, the first and last
    // stage all-reduce the embedding gradient, then step.
    const t = c.tiedEmbedding;
    const links = [0, P - 1].flatMap((s) => [linkId(s, t.inter, false), linkId(s, t.inter, true)]);
    const info = addInfo(g, { k: "tied", label: `all-reduce tied embedding gradient with stage ${P - 1}`, inter: t.inter });
    const op = addOp(g, g.streams.dp[0]!, info, -1, -1, 0, g.engine.routeOf(links));
    for (const s of [0, P - 1]) {
      dep(g, op, g.optimizerOp[s]! - 1);
      if (g.build !== null) g.build.depsOn(op, g.reductions[s]!);
      else for (const r of g.reductions[s]!) g.engine.dep(op, r);
    }
    g.reductions[0]!.push(op);
    g.reductions[P - 1]!.push(op);
  }
  for (let s = 0; s < P; s++) {
    const reductions = g.reductions[s]!;
    if (g.build !== null) g.build.depsOn(g.optimizerOp[s]!, reductions); // (the same loop in WebAssembly)
    else for (let i = 0; i < reductions.length; i++) g.engine.dep(g.optimizerOp[s]!, reductions[i]!);
  }
}

/** ZeRO-0/1/2: a stage's gradient reductions, chunk by chunk, and its updated weights' gathers.
 *  (Functions of the module, small enough for V8 to compile early: a closure per stage inside
 *  addDataParallel had it compile all of addDataParallel.) */
function reduceStage(g: Graph, s: number, sides: readonly Side[], scratch: Buckets): void {
  const c = g.costs;
  const V = c.vpp;
  const M = c.microBatches;
  // Chunk by chunk, the chunk's passes that produce weight gradients (full backwards, or the W of
  // split ones) in execution order: every one under ZeRO-2, else the last. (One look at the
  // order, not one per chunk: v·2vm passes a stage.)
  // (the last one of each chunk noted by buildGraph, Graph.chunkLastGrad)
  const every: number[][] | null = c.zero === 2 ? Array.from({ length: V }, () => []) : null;
  if (every) {
    const order = g.order[s]!;
    for (let i = 0; i < order.length; i++) {
      const pass = order[i]!;
      if (g.gradPass[pass] === 1) every[Math.floor(pass / M) % V]!.push(pass);
    }
  }
  for (let ch = 0; ch < V; ch++) {
    const last = g.chunkLastGrad[s * V + ch]!;
    if (every) for (const pass of every[ch]!) reduceBackward(g, s, pass, sides, scratch);
    else if (last >= 0) reduceBackward(g, s, last, sides, scratch);
  }
  if (c.gatherUpdatedWeights) for (const side of sides) gatherWeights(g, s, scratch, side);
}

/** The reductions of backward pass `pass` of stage `s`, each side's: bucket by bucket beside it
 *  (overlapped), else after it (ZeRO-2, the next compute waiting) or after the stage's last
 *  backward. */
function reduceBackward(g: Graph, s: number, pass: number, sides: readonly Side[], scratch: Buckets): void {
  const c = g.costs;
  const V = c.vpp;
  const M = c.microBatches;
  const whole = c.zero === 0 || (c.zero === 1 && c.zero1AllReduce === true);
  const kind: CollectiveKind = whole ? "allReduce" : "reduceScatter";
  const verb = whole ? "all-reduce" : "reduce-scatter";
  const red = g.reductions[s]!;
  const ch = Math.floor(pass / M) % V;
  const mb = pass % M;
  for (const side of sides) {
    const label = `${verb} ${side.name}gradients${V > 1 ? ` chunk ${ch}` : ""}${c.zero === 2 ? ` mb ${mb}` : ""}`;
    if (c.overlapGradReduce) reducePass(g, s, pass, kind, null, label, red, scratch, side);
    else if (c.zero === 2) {
      // Synchronous: the next compute operation waits for the reduction.
      const op = reducePass(g, s, pass, kind, g.lastOp[pass]!, label, red, scratch, side);
      dep(g, g.lastOp[pass]! + 1, op);
    } else reducePass(g, s, pass, kind, g.optimizerOp[s]! - 1, label, red, scratch, side);
  }
}

/** ZeRO-1/2: all-gather one side's updated weights, bucket by bucket ahead of each chunk's first
 *  forward (overlapped), or all at once after the optimizer step; where the stack reshards after
 *  every backward (regatherEachMicroBatch), the dense weights again ahead of each later forward,
 *  once the chunk's backward before it has ended. */
function gatherWeights(g: Graph, s: number, scratch: Buckets, side: Side): void {
  const c = g.costs;
  const V = c.vpp;
  for (let ch = 0; ch < V; ch++) {
    // each chunk's first forward in execution order (buildGraph notes it, Graph.chunkFirstForward)
    const pass = g.chunkFirstForward[s * V + ch]!;
    const first = g.firstOp[pass]!;
    const last = g.lastOp[pass]!;
    const label = `all-gather ${side.name}weights${V > 1 ? ` chunk ${ch}` : ""}`;
    if (!c.overlapParamGather) {
      const calls = side.expert ? 1 : (c.weightSyncCalls?.[s]?.[ch] ?? 1);
      const op = collective(g, passBytes(side.bytes, first, last) * side.weightGatherScale, new Label(s, "allGather", `${label} after the optimizer`, calls, side.expert));
      dep(g, op, g.optimizerOp[s]!);
      continue;
    }
    gatherAhead(g, first, last, new Label(s, "allGather", `${label} bucket`, 1, side.expert), -1, scratch, side);
  }
  if (c.regatherEachMicroBatch && !side.expert) regather(g, s, scratch, side);
}

/** The later forwards' gathers under a stack that reshards after every backward (FSDP's
 *  SHARD_GRAD_OP): each forward's weights in the same buckets, none before the chunk's previous
 *  backward has ended (its first layers, which this forward needs first, are resharded last). */
function regather(g: Graph, s: number, scratch: Buckets, side: Side): void {
  const c = g.costs;
  const V = c.vpp;
  const M = c.microBatches;
  const seen = new Uint8Array(V);
  const lastBackward = new Int32Array(V).fill(-1);
  const order = g.order[s]!;
  for (let i = 0; i < order.length; i++) {
    const idx = order[i]!;
    const ch = Math.floor(idx / M) % V;
    if (Math.floor(idx / (V * M)) % 3 !== 0) {
      lastBackward[ch] = idx;
      continue;
    }
    if (!seen[ch]) {
      seen[ch] = 1; // the first forward's gather: gatherWeights
      continue;
    }
    const label = new Label(s, "allGather", `all-gather weights${V > 1 ? ` chunk ${ch}` : ""} mb ${idx % M} bucket`);
    gatherAhead(g, g.firstOp[idx]!, g.lastOp[idx]!, label, lastBackward[ch]! >= 0 ? g.lastOp[lastBackward[ch]!]! : -1, scratch, side);
  }
}

/** A forward's weights of one side (operations first … last) all-gathered in buckets, each
 *  operation waiting for the bucket holding its last byte; every bucket after operation `after`
 *  where it is one. */
function gatherAhead(g: Graph, first: number, last: number, label: Label, after: number, scratch: Buckets, side: Side): void {
  const cap = side.bucketBytes;
  // (in WebAssembly where the graph is open: wasm/dp.ts gatherBuckets, the same loops)
  if (g.build !== null) return g.build.gatherBuckets(g.streams.dp[label.stage]!, side.expert, first, last, cap, side.weightGatherScale, after, kindsOf(g, label));
  const buckets = fillBuckets(side.bytes, first, last, cap, scratch);
  const bucketOp = new Int32Array(buckets.length);
  for (let k = 0; k < buckets.length; k++) {
    bucketOp[k] = collective(g, buckets.bytes[k]! * side.weightGatherScale, label, k);
    if (after >= 0) dep(g, bucketOp[k]!, after);
  }
  let cum = 0;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = side.bytes[op]!;
    if (bytes <= 0) continue;
    cum += bytes;
    // (at least the first: a few bytes in a bucket of gigabytes, cum/cap under the rounding
    // allowance, gave bucket −1 and a dependency on nothing that never resolved)
    const k = Math.max(0, Math.min(bucketOp.length - 1, Math.ceil(cum / cap - 1e-9) - 1));
    dep(g, op, bucketOp[k]!);
  }
}

/** ZeRO-3: gather before every use, reduce-scatter after every backward; each side of an
 *  operation's weights (dense over dp·cp, experts over edp) in its own collectives. */
function addZero3(g: Graph, s: number, sides: readonly Side[]): void {
  const c = g.costs;
  // A layer's dense collectives are the engine's calls per layer, each paying its latency; the
  // embedding's and the head's one each (cost/gather-calls.ts); the experts' one a layer (the
  // closed form's edp items pay one latency per call: wire/expert-wire.ts).
  const labels = sides.map((side) => {
    const calls = side.expert ? 1 : c.gatherCallsPerLayer;
    const l = (kind: CollectiveKind, text: string, n: number) => new Label(s, kind, `${text} ${side.name}${kind === "allGather" ? "weights for" : "gradients of"}`, n, side.expert);
    return { side, gather: [l("allGather", "all-gather", 1), l("allGather", "all-gather", calls)], scatter: [l("reduceScatter", "reduce-scatter", 1), l("reduceScatter", "reduce-scatter", calls)] };
  });
  // The gather for operation i waits for operation i − lead to end: `prefetchLayers` ahead of the
  // one computing (lead 1: none, it waits for the compute before it).
  const lead = 1 + c.prefetchLayers;
  // The weight-holding operations so far, a ring of the last `lead` (prefetch distance).
  const prev = new Int32Array(lead);
  let i = 0;
  const order = g.order[s]!;
  for (let k = 0; k < order.length; k++) {
    const idx = order[k]!;
    const backward = g.gradPass[idx] === 1;
    for (let op = g.firstOp[idx]!; op >= 0 && op <= g.lastOp[idx]!; op++) {
      let held = false;
      for (const { side } of labels) if (side.bytes[op]! > 0) held = true;
      if (!held) continue;
      const layer = g.opIndex[op]! >= 0 ? 1 : 0;
      for (const { side, gather: gl, scatter } of labels) {
        const bytes = side.bytes[op]!;
        if (bytes <= 0) continue;
        // A backward under full recompute may gather part of its dense weights twice
        // (cost/regather.ts): once for the recomputed forward, again for the backward.
        const gather = collective(g, backward ? bytes * (1 + (side.expert ? 0 : c.regather)) : bytes, gl[layer]!, op);
        if (i >= lead) dep(g, gather, prev[i % lead]!);
        dep(g, op, gather);
        if (backward) {
          const rs = collective(g, bytes * side.gradScale, scatter[layer]!, op);
          dep(g, rs, op);
          if (!c.overlapGradReduce) dep(g, op + 1, rs);
          g.reductions[s]!.push(rs);
        }
      }
      prev[i % lead] = op;
      i++;
    }
  }
}
