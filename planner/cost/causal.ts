// The attention work a causal mask leaves to a flash-attention kernel. FLOP reporting conventions
// (flops.ts: the full s×s square, Narayanan et al. 2021 §5.1; MFU as PaLM and MPT count it) stay;
// only time follows the work done. FlashAttention tiles the s×s scores in blocks and, with a causal
// mask, skips every block above the diagonal (Dao 2023, FlashAttention-2 §3.1.1 "Causal masking":
// about half the blocks are skipped, a 1.7–1.8× speed-up over the unmasked kernel).
// Materialised scores (Megatron's fused scale-mask-softmax) compute the whole square and mask it.
import { keysPerQuery } from "../model.js";
import type { ModelSpec, Training } from "../types.js";

/** Query/key tile of FlashAttention-2's forward on A100/H100 (Dao 2023 §3.3: 128 × 64–128;
 *  flash-attn's kBlockM = 128). */
export const FLASH_BLOCK = 128;

/** Keys per query a causal flash kernel computes over a full causal square of `seqLen`. */
export function causalKeys(seqLen: number): number {
  const n = Math.ceil(seqLen / FLASH_BLOCK);
  return (seqLen * (n + 1)) / (2 * n);
}

/** Keys per query a causal flash kernel computes, averaged over queries and layers: with
 *  n = ⌈s/B⌉ tiles per side the lower triangle and the diagonal are n(n+1)/2 of n² tiles, i.e.
 *  s·(n+1)/(2n) keys; a sliding-window layer computes its window plus the partly masked diagonal
 *  tile, min(w + B, that). */
export function causalKeysPerQuery(m: ModelSpec, seqLen: number): number {
  const full = causalKeys(seqLen);
  if (m.slidingWindow === undefined) return full;
  const share = (m.slidingWindowLayers ?? m.layers) / m.layers;
  return (1 - share) * full + share * Math.min(full, m.slidingWindow + FLASH_BLOCK);
}

/** Share of the reported (convention) attention FLOPs a kernel actually computes: the causal
 *  share under flash attention, 1 with materialised scores. */
export function attentionWorkShare(m: ModelSpec, t: Pick<Training, "seqLen" | "fusedAttention">): number {
  if (!t.fusedAttention) return 1;
  return causalKeysPerQuery(m, t.seqLen) / keysPerQuery(m, t.seqLen);
}
