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
import { addOp, type Graph, infoOf, newInfo, type OpInfo } from "./graph.js";
import type { CollectiveKind, Transfer } from "./costs.js";
import { linkId } from "./links.js";

/** Buckets of one pass (fillBuckets), in reused columns: bytes, the operation producing (backward)
 *  or first needing (forward) the bucket's last byte, and how far through that operation the
 *  bucket's last byte is, 0 … 1. */
export class Buckets {
  length = 0;
  bytes: number[] = [];
  op: number[] = [];
  fraction: number[] = [];
  push(bytes: number, op: number, fraction: number): void {
    this.bytes[this.length] = bytes;
    this.op[this.length] = op;
    this.fraction[this.length] = fraction;
    this.length++;
  }
}

/** Cut a pass's weights (operations first … last of `opBytes`, in execution order) into buckets
 *  of `cap` bytes (the last one smaller). */
export function fillBuckets(opBytes: Float64Array, first: number, last: number, cap: number, out = new Buckets()): Buckets {
  out.length = 0;
  let filled = 0;
  let lastOp = -1;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = opBytes[op]!;
    if (bytes <= 0) continue;
    lastOp = op;
    let used = 0;
    while (bytes - used >= cap - filled) {
      used += cap - filled;
      out.push(cap, op, used / bytes);
      filled = 0;
      if (used >= bytes) break;
    }
    filled += bytes - used;
  }
  if (filled > 0) out.push(filled, lastOp, 1);
  return out;
}

/** How far through its producing operation a bucket's last byte is produced, as a share of the
 *  operation's time, given `fraction`, how far through the operation's bytes it is: a layer's
 *  gradients start after its recompute (gradFrom) and accrue with its backward; an operation
 *  playing n identical layers (graph.ts coarse) produces them layer after layer. */
export function gradProgress(info: OpInfo, fraction: number): number {
  if (fraction >= 1) return 1;
  const n = info.layers ?? 1;
  if (n === 1) return info.gradFrom + fraction * (1 - info.gradFrom);
  const x = fraction * n;
  const layer = Math.max(0, Math.ceil(x) - 1); // the layer holding the byte (x = k: layer k − 1, at its end)
  const f = x - layer;
  return (layer + (f >= 1 ? 1 : info.gradFrom + f * (1 - info.gradFrom))) / n;
}

/** Bytes of the weights of a pass's operations first … last. */
function passBytes(opBytes: Float64Array, first: number, last: number): number {
  let bytes = 0;
  for (let op = first; op >= 0 && op <= last; op++) bytes += opBytes[op]!;
  return bytes;
}

/** The collectives of one kind under one label (a pass's buckets, a stage's ZeRO-3 gathers), and
 *  the cost, links and description of the last one added: most buckets have the same size. */
class Label {
  bytes = NaN;
  transfer: Transfer | null = null;
  links: readonly number[] = [];
  info = -1;
  constructor(
    readonly stage: number,
    readonly kind: CollectiveKind,
    readonly text: string,
    /** Collectives each operation's transfer stands for, each paying the latency (ZeRO-3's
     *  gatherCallsPerLayer for a layer); 1 elsewhere. */
    readonly calls = 1,
  ) {}
}

function collective(g: Graph, bytes: number, label: Label, index = -1): number {
  if (label.bytes !== bytes || label.transfer === null) {
    // Costs by kind and size and each stage's link pair are shared, not rebuilt per bucket.
    const m = g.dpMemo;
    const stage = label.stage;
    let byBytes = m.costs.get(label.kind);
    if (!byBytes) m.costs.set(label.kind, (byBytes = new Map()));
    let t = byBytes.get(bytes);
    if (!t) byBytes.set(bytes, (t = g.costs.dpCollective(label.kind, bytes)));
    let links = m.links.get(stage * 2 + (t.inter ? 1 : 0));
    if (!links) m.links.set(stage * 2 + (t.inter ? 1 : 0), (links = [linkId(stage, t.inter, false), linkId(stage, t.inter, true)]));
    label.bytes = bytes;
    label.transfer = t;
    label.links = links;
    label.info = newInfo(g, { stage, stream: "dp comm", label: label.text, parts: [["dpComm", label.calls * t.latency + t.work + t.post]], gradFrom: 0 });
  }
  const t = label.transfer;
  return addOp(g, g.streams.dp[label.stage]!, label.info, -1, index, 0, label.calls * t.latency, t.work, label.links, t.post);
}

/** Reduce the gradients of one backward pass: bucket by bucket as they are produced, or in one
 *  collective after `after` without overlap. Adds the collectives to `out`. */
function reducePass(g: Graph, stage: number, pass: number, kind: CollectiveKind, after: number | null, label: string, out: number[], scratch: Buckets): number {
  const first = g.firstOp[pass]!;
  const last = g.lastOp[pass]!;
  const opBytes = g.opBytes;
  if (after !== null) {
    const op = collective(g, passBytes(opBytes, first, last) * g.costs.gradScale, new Label(stage, kind, `${label}, all at once`));
    g.engine.dep(op, after);
    out.push(op);
    return op;
  }
  const buckets = fillBuckets(opBytes, first, last, g.costs.bucketBytes, scratch);
  const bucketLabel = new Label(stage, kind, `${label} bucket`);
  let op = -1;
  for (let k = 0; k < buckets.length; k++) {
    // Buckets hold a parameter count (Megatron-Core's 40M): their bytes follow the gradients' type.
    op = collective(g, buckets.bytes[k]! * g.costs.gradScale, bucketLabel, k);
    const producer = buckets.op[k]!;
    g.engine.dep(op, producer, gradProgress(infoOf(g, producer), buckets.fraction[k]!));
    out.push(op);
  }
  return op;
}

export function addDataParallel(g: Graph): void {
  const c = g.costs;
  // The buckets of the pass at hand, refilled pass after pass.
  const scratch = new Buckets();
  const P = c.pp;
  const V = c.vpp;
  const M = c.microBatches;
  const name = (ch: number) => (V > 1 ? ` chunk ${ch}` : "");
  if (c.dp > 1) {
    for (let s = 0; s < P; s++) {
      const red = g.reductions[s]!;
      const lastBackward = g.optimizerOp[s]! - 1;
      if (c.zero === 3) {
        addZero3(g, s);
        continue;
      }
      const kind: CollectiveKind = c.zero === 0 ? "allReduce" : "reduceScatter";
      const verb = c.zero === 0 ? "all-reduce" : "reduce-scatter";
      const reduceBackward = (pass: number) => {
        const ch = Math.floor(pass / M) % V;
        const mb = pass % M;
        const label = `${verb} gradients${name(ch)}${c.zero === 2 ? ` mb ${mb}` : ""}`;
        if (c.overlapGradReduce) reducePass(g, s, pass, kind, null, label, red, scratch);
        else if (c.zero === 2) {
          // Synchronous: the next compute operation waits for the reduction.
          const op = reducePass(g, s, pass, kind, g.lastOp[pass]!, label, red, scratch);
          g.engine.dep(g.lastOp[pass]! + 1, op);
        } else reducePass(g, s, pass, kind, lastBackward, label, red, scratch);
      };
      const order = g.order[s]!;
      for (let ch = 0; ch < V; ch++) {
        // The chunk's passes that produce weight gradients (full backwards, or the W of split
        // ones) in execution order: every one under ZeRO-2, else the last.
        let last = -1;
        for (let i = 0; i < order.length; i++) {
          const pass = order[i]!;
          if (g.gradPass[pass] !== 1 || Math.floor(pass / M) % V !== ch) continue;
          if (c.zero === 2) reduceBackward(pass);
          else last = pass;
        }
        if (c.zero !== 2 && last >= 0) reduceBackward(last);
      }
      if (c.zero >= 1) gatherWeights(g, s, scratch);
    }
  }
  if (c.tiedEmbedding && P > 1) {
    // Megatron-LM finalize_model_grads: after the data-parallel reductions, the first and last
    // stage all-reduce the embedding gradient, then step.
    const t = c.tiedEmbedding;
    const links = [0, P - 1].flatMap((s) => [linkId(s, t.inter, false), linkId(s, t.inter, true)]);
    const info = newInfo(g, {
      stage: 0,
      stream: "dp comm",
      label: `all-reduce tied embedding gradient with stage ${P - 1}`,
      parts: [["dpComm", t.latency + t.work + t.post]],
      gradFrom: 0,
    });
    const op = addOp(g, g.streams.dp[0]!, info, -1, -1, 0, t.latency, t.work, links, t.post);
    for (const s of [0, P - 1]) {
      g.engine.dep(op, g.optimizerOp[s]! - 1);
      for (const r of g.reductions[s]!) g.engine.dep(op, r);
    }
    g.reductions[0]!.push(op);
    g.reductions[P - 1]!.push(op);
  }
  for (let s = 0; s < P; s++) {
    const reductions = g.reductions[s]!;
    for (let i = 0; i < reductions.length; i++) g.engine.dep(g.optimizerOp[s]!, reductions[i]!);
  }
}

/** ZeRO-1/2: all-gather the updated weights, bucket by bucket ahead of each chunk's first forward
 *  (overlapped), or all at once after the optimizer step; where the stack reshards after every
 *  backward (regatherEachMicroBatch), again ahead of each later forward, once the chunk's backward
 *  before it has ended. */
function gatherWeights(g: Graph, s: number, scratch: Buckets): void {
  const c = g.costs;
  const V = c.vpp;
  const firstForward = new Int32Array(V).fill(-1);
  const order = g.order[s]!;
  for (let i = 0; i < order.length; i++) {
    const idx = order[i]!;
    const forward = Math.floor(idx / (V * c.microBatches)) % 3 === 0;
    const ch = Math.floor(idx / c.microBatches) % V;
    if (forward && firstForward[ch]! < 0) firstForward[ch] = idx;
  }
  const opBytes = g.opBytes;
  for (let ch = 0; ch < V; ch++) {
    const first = g.firstOp[firstForward[ch]!]!;
    const last = g.lastOp[firstForward[ch]!]!;
    const label = `all-gather weights${V > 1 ? ` chunk ${ch}` : ""}`;
    if (!c.overlapParamGather) {
      const op = collective(g, passBytes(opBytes, first, last) * c.weightGatherScale, new Label(s, "allGather", `${label} after the optimizer`));
      g.engine.dep(op, g.optimizerOp[s]!);
      continue;
    }
    gatherAhead(g, first, last, new Label(s, "allGather", `${label} bucket`), -1, scratch);
  }
  if (c.regatherEachMicroBatch) regather(g, s, scratch);
}

/** The later forwards' gathers under a stack that reshards after every backward (FSDP's
 *  SHARD_GRAD_OP): each forward's weights in the same buckets, none before the chunk's previous
 *  backward has ended (its first layers, which this forward needs first, are resharded last). */
function regather(g: Graph, s: number, scratch: Buckets): void {
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
    gatherAhead(g, g.firstOp[idx]!, g.lastOp[idx]!, label, lastBackward[ch]! >= 0 ? g.lastOp[lastBackward[ch]!]! : -1, scratch);
  }
}

/** A forward's weights (operations first … last) all-gathered in buckets, each operation waiting
 *  for the bucket holding its last byte; every bucket after operation `after` where it is one. */
function gatherAhead(g: Graph, first: number, last: number, label: Label, after: number, scratch: Buckets): void {
  const c = g.costs;
  const cap = c.bucketBytes;
  const buckets = fillBuckets(g.opBytes, first, last, cap, scratch);
  const bucketOp = new Int32Array(buckets.length);
  for (let k = 0; k < buckets.length; k++) {
    bucketOp[k] = collective(g, buckets.bytes[k]! * c.weightGatherScale, label, k);
    if (after >= 0) g.engine.dep(bucketOp[k]!, after);
  }
  let cum = 0;
  for (let op = first; op >= 0 && op <= last; op++) {
    const bytes = g.opBytes[op]!;
    if (bytes <= 0) continue;
    cum += bytes;
    // (at least the first: a few bytes in a bucket of gigabytes, cum/cap under the rounding
    // allowance, gave bucket −1 and a dependency on nothing that never resolved)
    const k = Math.max(0, Math.min(bucketOp.length - 1, Math.ceil(cum / cap - 1e-9) - 1));
    g.engine.dep(op, bucketOp[k]!);
  }
}

/** ZeRO-3: gather before every use, reduce-scatter after every backward. */
function addZero3(g: Graph, s: number): void {
  const c = g.costs;
  const opBytes = g.opBytes;
  // A layer's collectives are the engine's calls per layer, each paying its latency; the
  // embedding's and the head's one each (cost/gather-calls.ts).
  const gatherLabels = [new Label(s, "allGather", "all-gather weights for"), new Label(s, "allGather", "all-gather weights for", c.gatherCallsPerLayer)];
  const scatterLabels = [new Label(s, "reduceScatter", "reduce-scatter gradients of"), new Label(s, "reduceScatter", "reduce-scatter gradients of", c.gatherCallsPerLayer)];
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
      const bytes = opBytes[op]!;
      if (bytes <= 0) continue;
      // A backward under full recompute may gather part of its weights twice (cost/regather.ts):
      // once for the recomputed forward, again for the backward.
      const layer = g.opIndex[op]! >= 0 ? 1 : 0;
      const gather = collective(g, backward ? bytes * (1 + c.regather) : bytes, gatherLabels[layer]!, op);
      if (i >= lead) g.engine.dep(gather, prev[i % lead]!);
      g.engine.dep(op, gather);
      if (backward) {
        const rs = collective(g, bytes * c.gradScale, scatterLabels[layer]!, op);
        g.engine.dep(rs, op);
        if (!c.overlapGradReduce) g.engine.dep(op + 1, rs);
        g.reductions[s]!.push(rs);
      }
      prev[i % lead] = op;
      i++;
    }
  }
}
