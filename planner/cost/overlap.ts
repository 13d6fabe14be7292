// Communication that overlaps compute is not free: NCCL kernels occupy SMs (one CTA per channel,
// up to 16 SMs on a DGX; NVIDIA/nccl issue #689) and contend for HBM bandwidth (each NVLink byte
// costs 2–3 HBM bytes; NVIDIA/nccl issue #1428: an A100 GEMM 1.18 → 2.08 ms beside an all-gather).
// Lee et al. 2025 (arXiv 2507.03114, abstract) measured compute overlapped with communication
// 18.9% slower on average (max 40%) than compute alone, on A100, H100, MI250 and MI210 with GPT and
// LLaMA training. So the compute a collective hides behind runs that much longer.

/** Average slowdown of compute while an overlapped collective runs (Lee et al. 2025). An engine
 *  profile may carry its own (Training.overlapSlowdown). */
export const OVERLAP_SLOWDOWN = 0.189;

/** Time a collective of `comm` seconds adds when it overlaps `window` seconds of compute: the part
 *  that does not fit in the window, plus the slowdown of the compute it overlaps. */
export function overlapCost(comm: number, window: number, slowdown = OVERLAP_SLOWDOWN): number {
  const hidden = Math.max(0, Math.min(comm, window));
  return comm - hidden + slowdown * hidden;
}
