// The measured step time of a published run, from the metric and FLOP convention its source uses
// (bench/data/published-runs.README.md, "FLOP conventions"): compare step times, not TFLOP/s.

export type Csv = Record<string, string>;
export const num = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : Number(s));

/** H100 SXM dense bf16 peak, the denominator of MEG24's MFU (NVIDIA H100 datasheet 2023; the
 *  README's MFU/TFLOP/s ratio implies it). */
const H100_BF16_PEAK = 989e12;

/** Sequences per step: stated, else the local batch times dp (torchtitan's "local batch" is per
 *  data-parallel rank; the README flags rows where it is derived). */
export function globalBatchOf(r: Csv): number {
  const stated = num(r.global_batch);
  if (stated !== undefined) return stated;
  const local = num(r.micro_batch);
  const dp = num(r.dp);
  if (local === undefined || dp === undefined) throw new Error(`calibration row ${r.id}: no global batch and no local batch × dp`);
  return local * dp;
}

/** Narayanan et al. 2021 Eq. 3, with the recomputed forward: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)). */
export function meg21Flops(B: number, s: number, l: number, h: number, V: number): number {
  return 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
}

/** Model FLOPs without recompute (Megatron-Core's convention): 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)). */
export function modelFlops72(B: number, s: number, l: number, h: number, V: number): number {
  return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
}

/** Measured step time in seconds. MEG21/NAR21T2 TFLOP/s count the recomputed forward (Eq. 3);
 *  MEG24 TFLOP/s and MFU count model FLOPs (72-form, MFU against 989 TFLOP/s); DGXC states the
 *  step time; MPT and TT24 state tokens/s per GPU: step = B·s / (GPUs · tokens/s). */
export function measuredStepTime(r: Csv): number {
  const value = Number(r.measured_value);
  const [s, l, h, V, n] = [r.seq_len, r.layers, r.hidden, r.vocab, r.gpus].map(Number) as [number, number, number, number, number];
  const B = globalBatchOf(r);
  const meg24 = r.id!.startsWith("MEG24");
  switch (r.measured_metric) {
    case "iter_time_s":
      return value;
    case "tflops_per_gpu":
      return (meg24 ? modelFlops72(B, s, l, h, V) : meg21Flops(B, s, l, h, V)) / (n * value * 1e12);
    case "mfu":
      return modelFlops72(B, s, l, h, V) / (n * (value / 100) * H100_BF16_PEAK);
    case "tokens_per_s_per_gpu":
      return (B * s) / (n * value);
    default:
      throw new Error(`calibration row ${r.id}: unsupported metric ${r.measured_metric}`);
  }
}

/** Measured peak memory in bytes where the notes state it ("peak memory 82.4 GiB", torchtitan). */
export function measuredPeakMemory(r: Csv): number | undefined {
  const m = /peak memory ([\d.]+) GiB/.exec(r.notes ?? "");
  return m ? Number(m[1]) * 2 ** 30 : undefined;
}
