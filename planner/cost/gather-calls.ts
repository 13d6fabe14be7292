// ZeRO-3 / FSDP gather latency per call. The wire prices one ZeRO-3 all-gather per micro-batch and
// pass with one ring latency (n−1)·α; an engine issues one collective per gathered unit, each
// paying it: FSDP gathers one FlatParameter per wrapped block (Zhao et al. 2023, PyTorch FSDP
// §3.2.1), i.e. one call per layer; DeepSpeed's ZeRO-3 of 2021 gathered the parameters of a
// submodule one tensor at a time (deepspeed/runtime/zero/partition_parameters.py `_all_gather`
// looping `_allgather_param` per parameter, v0.3–0.5; coalesced gathers came later) — a GPT layer
// holds 12 such tensors (QKV, projection and two MLP weights and biases, two LayerNorms' weight and
// bias). A ring's latency grows with its ranks, so at thousands of ranks the calls, not the bytes,
// bound the step: the mechanism behind ZeRO-3's collapse in Narayanan et al. 2021 Table 2.

/** Default: one gather per layer and pass (FSDP's FlatParameter per block). */
export const GATHER_CALLS_PER_LAYER = 1;

/** Latency a ZeRO-3 gather or reduce-scatter of one micro-batch pass adds beyond the one ring
 *  latency the wire already charges: (layers · calls − 1) · (n − 1) · α. */
export function extraGatherLatency(layers: number, callsPerLayer: number, ranks: number, alpha: number): number {
  if (ranks <= 1) return 0;
  return Math.max(0, layers * callsPerLayer - 1) * (ranks - 1) * alpha;
}
