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

/** Keys per query a causal flash kernel computes over a sliding window of `window` keys (each
 *  query attends to itself and the window − 1 before it): query tile r reads key tiles
 *  r − ⌈(w − 1)/B⌉ … r, fewer near the start, so with n = ⌈s/B⌉ tiles and k = ⌈(w − 1)/B⌉ the
 *  kernel computes Σ_r (min(r, k) + 1) = (k+1)(k+2)/2 + (n − 1 − k)(k + 1) tiles (n(n+1)/2 where
 *  the window spans the sequence), of s/n keys each (flash-attn's local mask skips the tiles
 *  outside [i − w + 1, i], Dao 2023 and flash-attn's window_size). */
export function windowKeys(seqLen: number, window: number): number {
  const n = Math.ceil(seqLen / FLASH_BLOCK);
  const k = Math.ceil((window - 1) / FLASH_BLOCK);
  const tiles = k >= n - 1 ? (n * (n + 1)) / 2 : ((k + 1) * (k + 2)) / 2 + (n - 1 - k) * (k + 1);
  return (tiles * seqLen) / (n * n);
}

/** Keys per query a causal flash kernel computes, averaged over queries and layers: with
 *  n = ⌈s/B⌉ tiles per side the lower triangle and the diagonal are n(n+1)/2 of n² tiles, i.e.
 *  s·(n+1)/(2n) keys; a sliding-window layer its window's tiles (windowKeys). */
export function causalKeysPerQuery(m: ModelSpec, seqLen: number): number {
  const full = causalKeys(seqLen);
  if (m.slidingWindow === undefined) return full;
  const share = (m.slidingWindowLayers ?? m.layers) / m.layers;
  return (1 - share) * full + share * windowKeys(seqLen, m.slidingWindow);
}

/** Share of the reported (convention) attention FLOPs a kernel actually computes: the causal
 *  share under flash attention, 1 with materialised scores. */
export function attentionWorkShare(m: ModelSpec, t: Pick<Training, "seqLen" | "fusedAttention">): number {
  if (!t.fusedAttention) return 1;
  return causalKeysPerQuery(m, t.seqLen) / keysPerQuery(m, t.seqLen);
}
