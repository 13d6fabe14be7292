// Facts of the training frameworks that size what goes on the wire and into memory, in one cited
// place. (Engine profiles will make these per engine; today they describe the default stack,
// Megatron-Core, that the calibration runs of NVIDIA's recipes used.)

/** Bytes of one 16-bit value: weights, gradients and activations as they travel (bf16/fp16). */
export const BYTES_16 = 2;

/** Bytes per parameter of the model states with mixed-precision Adam (Rajbhandari et al. 2020 §3,
 *  Fig. 1): 16-bit weights and gradients, fp32 master weights, momentum and variance (K = 12). */
export const STATE_BYTES = { weights: 2, gradients: 2, optimizer: 12 } as const;

/** Gradient bucket of the data-parallel reduction, bytes: Megatron-Core's
 *  DistributedDataParallelConfig.bucket_size default, max(40M, 1M·dp) parameters
 *  (megatron/core/distributed/distributed_data_parallel.py), of 16-bit gradients. A bucket's
 *  collective starts as soon as its last gradient exists; the last bucket of the backward cannot
 *  hide behind it. */
export function gradientBucketBytes(dp: number): number {
  return BYTES_16 * Math.max(40e6, 1e6 * dp);
}

/** Megatron-LM pads the vocabulary to a multiple of 128·tp (`--make-vocab-size-divisible-by 128`,
 *  megatron/training/tokenizer: _vocab_size_with_padding), so each tp rank gets an equal slice. */
export function paddedVocab(vocab: number, tp: number): number {
  const multiple = 128 * tp;
  return Math.ceil(vocab / multiple) * multiple;
}
