// Data-parallel and ZeRO collectives on each stage's data-parallel stream, the tied-embedding
// all-reduce, and what the optimizer step waits for.
//
//  ZeRO-0 (DDP): gradients all-reduced in buckets as the last micro-batch's backward of each chunk
//    produces them (Li et al. 2020 §3.2.3; Megatron-LM --overlap-grad-reduce); without overlap,
//    one collective per chunk after the whole backward (Megatron sets bucket_size = None).
//  ZeRO-1 (distributed optimizer): the same buckets reduce-scattered; the updated 16-bit weights
//    all-gathered in buckets ahead of the first forward that uses them (--overlap-param-gather),
//    or after the optimizer step without overlap.
//  ZeRO-2: reduce-scatter after every micro-batch's backward (Rajbhandari et al. 2020 §5.2).
//  ZeRO-3 / FSDP: each weight-holding operation all-gathers its weights before every forward and
//    backward, prefetched one operation ahead (the gather for op i starts when op i−1 starts:
//    two unsharded layers, Zhao et al. 2023 §3.2), and reduce-scatters its gradients after every
//    backward (Rajbhandari et al. 2020 §7.2.2).
// Buckets fill as gradients are produced: a bucket is ready the moment its last byte is, part-way
// through the backward of the operation that produces it.
import type { Graph, ParamOp } from "./graph.js";
import type { CollectiveKind } from "./costs.js";
import { linkId } from "./links.js";

interface Bucket {
  bytes: number;
  /** Operation producing (backward) or first needing (forward) the bucket's last byte. */
  op: number;
  /** How far through that operation the bucket's last byte is, 0 … 1. */
  fraction: number;
}

/** Cut a pass's weights, in execution order, into buckets of `cap` bytes (the last one smaller). */
export function fillBuckets(items: readonly ParamOp[], cap: number): Bucket[] {
  const out: Bucket[] = [];
  let filled = 0;
  let last = -1;
  for (const { op, bytes } of items) {
    if (bytes <= 0) continue;
    last = op;
    let used = 0;
    while (bytes - used >= cap - filled) {
      used += cap - filled;
      out.push({ bytes: cap, op, fraction: used / bytes });
      filled = 0;
      if (used >= bytes) break;
    }
    filled += bytes - used;
  }
  if (filled > 0) out.push({ bytes: filled, op: last, fraction: 1 });
  return out;
}

function collective(g: Graph, stage: number, kind: CollectiveKind, bytes: number, label: string, index = -1): number {
  // Costs and parts by kind and size (most buckets have the same size) and each stage's link
  // pair are shared, not rebuilt per bucket.
  const m = g.dpMemo;
  const key = `${kind}:${bytes}`;
  let hit = m.costs.get(key);
  if (!hit) {
    const t = g.costs.dpCollective(kind, bytes);
    m.costs.set(key, (hit = [t, [["dpComm", t.latency + t.work + t.post]]]));
  }
  const [t, parts] = hit;
  let links = m.links.get(stage * 2 + (t.inter ? 1 : 0));
  if (!links) m.links.set(stage * 2 + (t.inter ? 1 : 0), (links = [linkId(stage, t.inter, false), linkId(stage, t.inter, true)]));
  const op = g.engine.add({ stream: g.streams.dp[stage]!, pre: t.latency, work: t.work, links, post: t.post });
  g.ops.push({ stage, stream: "dp comm", label, pass: -1, index, parts, gradFrom: 0 });
  return op;
}

/** Reduce the gradients of one backward pass: bucket by bucket as they are produced, or in one
 *  collective after `after` without overlap. */
function reducePass(g: Graph, stage: number, pass: number, kind: CollectiveKind, after: number | null, label: string): number[] {
  const items = g.paramOps[pass]!;
  const c = g.costs;
  if (after !== null) {
    const bytes = items.reduce((a, b) => a + b.bytes, 0);
    const op = collective(g, stage, kind, bytes, `${label}, all at once`);
    g.engine.dep(op, after);
    return [op];
  }
  const bucketLabel = `${label} bucket`;
  return fillBuckets(items, c.bucketBytes).map((b, k) => {
    const op = collective(g, stage, kind, b.bytes, bucketLabel, k);
    const info = g.ops[b.op]!;
    g.engine.dep(op, b.op, b.fraction >= 1 ? 1 : info.gradFrom + b.fraction * (1 - info.gradFrom));
    return op;
  });
}

export function addDataParallel(g: Graph): void {
  const c = g.costs;
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
      const backwards = g.order[s]!.filter((idx) => Math.floor(idx / (V * M)) % 2 === 1);
      for (let ch = 0; ch < V; ch++) {
        const ofChunk = backwards.filter((idx) => Math.floor(idx / M) % V === ch);
        const passes = c.zero === 2 ? ofChunk : ofChunk.slice(-1);
        for (const pass of passes) {
          const mb = pass % M;
          const label = `${verb} gradients${name(ch)}${c.zero === 2 ? ` mb ${mb}` : ""}`;
          if (c.overlapGradReduce) red.push(...reducePass(g, s, pass, kind, null, label));
          else if (c.zero === 2) {
            // Synchronous: the next compute operation waits for the reduction.
            const [op] = reducePass(g, s, pass, kind, g.lastOp[pass]!, label);
            g.engine.dep(g.lastOp[pass]! + 1, op!);
            red.push(op!);
          } else red.push(...reducePass(g, s, pass, kind, lastBackward, label));
        }
      }
      if (c.zero >= 1) gatherWeights(g, s);
    }
  }
  if (c.tiedEmbedding && P > 1) {
    // Megatron-LM finalize_model_grads: after the data-parallel reductions, the first and last
    // stage all-reduce the embedding gradient, then step.
    const t = c.tiedEmbedding;
    const links = [0, P - 1].flatMap((s) => [linkId(s, t.inter, false), linkId(s, t.inter, true)]);
    const op = g.engine.add({ stream: g.streams.dp[0]!, pre: t.latency, work: t.work, links, post: t.post });
    g.ops.push({ stage: 0, stream: "dp comm", label: `all-reduce tied embedding gradient with stage ${P - 1}`, pass: -1, index: -1, parts: [["dpComm", t.latency + t.work + t.post]], gradFrom: 0 });
    for (const s of [0, P - 1]) {
      g.engine.dep(op, g.optimizerOp[s]! - 1);
      for (const r of g.reductions[s]!) g.engine.dep(op, r);
    }
    g.reductions[0]!.push(op);
    g.reductions[P - 1]!.push(op);
  }
  for (let s = 0; s < P; s++) for (const r of g.reductions[s]!) g.engine.dep(g.optimizerOp[s]!, r);
}

/** ZeRO-1/2: all-gather the updated weights, bucket by bucket ahead of each chunk's first forward
 *  (overlapped), or all at once after the optimizer step. */
function gatherWeights(g: Graph, s: number): void {
  const c = g.costs;
  const V = c.vpp;
  const firstForward = new Map<number, number>();
  for (const idx of g.order[s]!) {
    const backward = Math.floor(idx / (V * c.microBatches)) % 2 === 1;
    const ch = Math.floor(idx / c.microBatches) % V;
    if (!backward && !firstForward.has(ch)) firstForward.set(ch, idx);
  }
  for (let ch = 0; ch < V; ch++) {
    const items = g.paramOps[firstForward.get(ch)!]!;
    const label = `all-gather weights${V > 1 ? ` chunk ${ch}` : ""}`;
    if (!c.overlapGradReduce) {
      const bytes = items.reduce((a, b) => a + b.bytes, 0);
      const op = collective(g, s, "allGather", bytes, `${label} after the optimizer`);
      g.engine.dep(op, g.optimizerOp[s]!);
      continue;
    }
    const cap = c.bucketBytes;
    const buckets = fillBuckets(items, cap).map((b, k) => collective(g, s, "allGather", b.bytes, `${label} bucket`, k));
    let cum = 0;
    for (const { op, bytes } of items) {
      if (bytes <= 0) continue;
      cum += bytes;
      const k = Math.min(buckets.length - 1, Math.ceil(cum / cap - 1e-9) - 1);
      g.engine.dep(op, buckets[k]!);
    }
  }
}

/** ZeRO-3: gather before every use, reduce-scatter after every backward. */
function addZero3(g: Graph, s: number): void {
  const c = g.costs;
  const seq: Array<ParamOp & { backward: boolean }> = [];
  for (const idx of g.order[s]!) {
    const backward = Math.floor(idx / (c.vpp * c.microBatches)) % 2 === 1;
    for (const p of g.paramOps[idx]!) if (p.bytes > 0) seq.push({ ...p, backward });
  }
  for (let i = 0; i < seq.length; i++) {
    const { op, bytes, backward } = seq[i]!;
    const gather = collective(g, s, "allGather", bytes, "all-gather weights for", op);
    const lead = c.overlapGradReduce ? 2 : 1;
    if (i >= lead) g.engine.dep(gather, seq[i - lead]!.op);
    g.engine.dep(op, gather);
    if (backward) {
      const rs = collective(g, s, "reduceScatter", bytes, "reduce-scatter gradients of", op);
      g.engine.dep(rs, op);
      if (!c.overlapGradReduce) g.engine.dep(op + 1, rs);
      g.reductions[s]!.push(rs);
    }
  }
}
