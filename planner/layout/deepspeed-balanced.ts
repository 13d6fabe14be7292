// DeepSpeed's PipelineModule balance over weighted items, as the megatron-deepspeed engine's
// DeepSpeed ran it: deepspeed/runtime/utils.py partition_balanced @ v0.6.5 … v0.12.4 (before the
// min-max-difference rewrite of v0.12.5, deepspeedai/DeepSpeed#4312). A binary search for the
// smallest bottleneck B (the heaviest stage's weight, to within eps) that the greedy probe
// `_lprobe` packs into the stages, then that probe's split. Ported step by step — the probe's
// bucketed bisection does not always find the first item reaching a stage's target, and the split
// is the one the engine builds only if that is kept — for `partition_method parameters`
// (module.py _partition_layers: every spec weighed by its trainable parameters) and for the
// "type:" methods' unit weights (gpt-model-pipe.ts). The search ends on a bottleneck within eps
// of the true one, which the probe's strict "below the target" test makes matter: 4 unit items
// on 3 stages come out 1, 1, 2, not 2, 2, 0.

/** Inclusive prefix sums (utils.py prefix_sum_inc). */
function prefixSums(weights: readonly number[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const w of weights) out.push((s += w));
  return out;
}

/** Python's bisect_left over a[lo, hi). */
function bisectLeft(a: readonly number[], x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** _lprobe: boundaries of the greedy split under `bottleneck`, and whether it holds every item. */
function probe(prefix: readonly number[], parts: number, bottleneck: number): [number[], boolean] {
  const n = prefix.length;
  const total = prefix[n - 1]!;
  const bounds = [0, ...Array.from({ length: parts }, () => n)];
  let target = bottleneck; // running sum the pth stage may reach
  const chunk = Math.floor(n / parts);
  let step = chunk;
  for (let p = 1; p < parts; p++) {
    // Jump to the next bucket, then bisect inside it.
    while (step < n && prefix[step]! < target) step += chunk;
    bounds[p] = bisectLeft(prefix, target, step - chunk, Math.min(step, n));
    if (bounds[p] === n) return [bounds, total - prefix[bounds[p - 1]!]! < bottleneck];
    target = prefix.at(bounds[p]! - 1)! + bottleneck; // index −1 is the last, as in Python (weights all 0)
  }
  return [bounds, target >= total];
}

/** partition_uniform for items ≤ stages: one item a stage from the first (both eras agree). */
function fewItems(n: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, p) => Math.min(p, n));
}

/** Stage boundaries (parts + 1 item indices, first 0, last the item count) of partition_balanced
 *  over `weights`; null where the probe fails on the bottleneck it found (DeepSpeed asserts). */
export function deepspeedBalancedBounds(weights: readonly number[], parts: number, eps = 1e-3): number[] | null {
  const n = weights.length;
  if (n <= parts) return fewItems(n, parts);
  const prefix = prefixSums(weights);
  // _rb_partition_balanced: bisect the bottleneck between the mean stage and the whole.
  let lower = prefix[n - 1]! / parts;
  let upper = prefix[n - 1]!;
  while (upper > lower + eps) {
    const mid = lower + (upper - lower) / 2;
    if (probe(prefix, parts, mid)[1]) upper = mid;
    else lower = mid + eps;
  }
  const [bounds, ok] = probe(prefix, parts, upper);
  return ok ? bounds : null;
}
