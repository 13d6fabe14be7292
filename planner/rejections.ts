// Why a configuration is not a plan. Invalid configurations are values, never exceptions:
// the search counts them by code so the user can see why a plan is missing.

export const REJECTION_CODES = {
  tp_heads: "tp does not divide the attention heads",
  tp_kv_heads: "tp does not divide the key/value heads",
  tp_spans_nodes: "tp larger than the GPUs in a node (tensor parallel stays inside a node)",
  pp_layers: "pp does not divide the layers",
  vpp_layers: "pp·vpp does not divide the layers",
  batch_dp: "global batch not divisible by dp",
  microbatch_batch: "micro-batch does not divide the per-replica batch (global batch / dp)",
  interleaved_microbatches: "interleaved schedule needs the micro-batch count divisible by pp",
  out_of_memory: "does not fit in GPU memory",
} as const;

export type RejectionCode = keyof typeof REJECTION_CODES;

export interface Rejection {
  code: RejectionCode;
  /** How many configurations of the enumerated space this rejection covers. */
  count: number;
}

export type RejectionCounts = Partial<Record<RejectionCode, number>>;

export function addRejection(counts: RejectionCounts, code: RejectionCode, n = 1): void {
  counts[code] = (counts[code] ?? 0) + n;
}
