// The pipeline split DeepSpeed 0.16 gives the Megatron-DeepSpeed that `export --format deepspeed`
// writes for (deepspeedai/Megatron-DeepSpeed @207b2d5a, DeepSpeed 0.16). Its GPTModelPipe hands
// PipelineModule the partition_method "type:transformer" (megatron/model/gpt_model.py): every
// spec whose name matches /transformer/i weighs 1, the rest 0, and partition_balanced cuts the
// specs into the stages. From DeepSpeed 0.12.5 (deepspeedai/DeepSpeed#4312) partition_balanced
// solves the linear partition problem for the smallest spread, heaviest stage less lightest, by
// dynamic programming (deepspeed/runtime/utils.py @ v0.16.0), not the ≤ 0.12.4 bottleneck search
// the megatron-deepspeed engine follows (deepspeed-balanced.ts). The dynamic programme is
// followed step for step, its ties included (a later cut wins an equal spread): where the zero-
// weight specs at the ends fall decides which stages come out lighter.

/** GPTModelPipe's specs at 207b2d5a as partition weights: _to_float16, the embedding, the L
 *  ParallelTransformerLayerPipe, _calculate_moe_loss for a mixture of experts, the final norm, the
 *  output layer (LMHeadPipe, or the tied EmbeddingPipe), float16_to_fp32 (the export always trains
 *  with --bf16 or --fp16). */
export function gptModelPipeWeights(layers: number, moe: boolean): number[] {
  return [0, 0, ...Array.from({ length: layers }, () => 1), ...(moe ? [0] : []), 0, 0, 0];
}

/** DeepSpeed 0.16's partition_uniform: stage boundaries, ⌊n/p⌋ items a stage and the first
 *  n mod p stages one more; with no more items than stages, one item each from the first. */
export function partitionUniform(items: number, parts: number): number[] {
  if (items <= parts) return Array.from({ length: parts + 1 }, (_, p) => Math.min(p, items));
  const chunk = Math.floor(items / parts);
  const residual = items - chunk * parts;
  return Array.from({ length: parts + 1 }, (_, p) => p * chunk + Math.min(p, residual));
}

/** Inner steps the dynamic programme may take (n²·p/2 of them): some 0.3 s. A plan whose split
 *  would need more (about 1,000 layers on 100 stages) is answered "too large", not waited for. */
export const PARTITION_MAX_STEPS = 50_000_000;

/** DeepSpeed 0.16's partition_balanced(weights, parts): the p + 1 stage boundaries over the items,
 *  or null where the dynamic programme would take more than `maxSteps` steps. */
export function partitionBalanced(weights: readonly number[], parts: number, maxSteps = PARTITION_MAX_STEPS): number[] | null {
  const n = weights.length;
  const m = parts;
  if (n <= m) return partitionUniform(n, m);
  if ((n * n * m) / 2 > maxSteps) return null;
  const W = m + 1;
  // Rows i = 0 … n (items taken), columns j = 0 … m (stages used), as numpy's (n+1, m+1) arrays.
  const dpMax = new Float64Array((n + 1) * W).fill(Infinity);
  const dpMin = new Float64Array((n + 1) * W).fill(Infinity);
  const dpCost = new Float64Array((n + 1) * W).fill(Infinity);
  const position = new Int32Array((n + 1) * W);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + weights[i]!;
  dpMax[0] = 0;
  dpCost[0] = 0;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= Math.min(i, m); j++) {
      const at = i * W + j;
      for (let k = 0; k < i; k++) {
        const part = prefix[i]! - prefix[k]!;
        const maxSum = Math.max(dpMax[k * W + j - 1]!, part);
        const minSum = Math.min(dpMin[k * W + j - 1]!, part);
        const cost = maxSum - minSum;
        if (dpCost[at]! >= cost) {
          dpCost[at] = cost;
          dpMax[at] = maxSum;
          dpMin[at] = minSum;
          position[at] = k;
        }
      }
    }
  }
  const bounds = [n];
  for (let j = m; j >= 1; j--) bounds.push(position[bounds[bounds.length - 1]! * W + j]!);
  return bounds.reverse();
}

/** Transformer layers on each stage, first to last, as DeepSpeed 0.16 splits Megatron-DeepSpeed's
 *  GPT of `layers` layers over `pp` stages; null where that is too large to work out. */
export function deepspeed016Split(layers: number, pp: number, moe: boolean): number[] | null {
  const weights = gptModelPipeWeights(layers, moe);
  const bounds = partitionBalanced(weights, pp);
  if (bounds === null) return null;
  return Array.from({ length: pp }, (_, s) => {
    let sum = 0;
    for (let i = bounds[s]!; i < bounds[s + 1]!; i++) sum += weights[i]!;
    return sum;
  });
}
