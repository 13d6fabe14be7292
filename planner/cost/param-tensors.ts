// Parameter tensors a pipeline rank holds, counted as PyTorch modules hold them: one weight per
// nn.Linear and a bias where the model has biases, LayerNorm's weight and bias or RMSNorm's
// weight, the embedding tables. A stack that sends parameters one tensor at a time pays a
// collective's latency per tensor: torch's ZeroRedundancyOptimizer (paraplan's ZeRO-1,
// executor/worker/optim.py) broadcasts every parameter from the rank that owns it inside step()
// (torch/distributed/optim/zero_redundancy_optimizer.py _sync_params → _broadcast_params_from_rank:
// one dist.broadcast per parameter unless parameters_as_bucket_view), so a small model's step is
// bound by the calls, not the bytes (tiny on two gloo ranks: 68 broadcasts, ~30 ms of a 41 ms step).
//
// The block is the one executor/worker/model.py builds (and HuggingFace transformers' Llama, GPT-2
// with split projections): q, k, v and output projections apart; a gated MLP's three matrices,
// else two; routed experts stacked per matrix (executor/worker/moe.py ExpertBank w1, w2, w3) beside
// the router and the shared experts' own linears.
import { gatedMlp, gptStyleOf as gptStyle, normCount } from "../model.js";
import { moeLayersInRanges } from "../moe.js";
import type { ModelSpec } from "../types.js";
import type { RankHoldings } from "../layout/stages.js";

/** Tensors of one norm: LayerNorm weight + bias, RMSNorm weight, none when non-parametric. */
const normTensors = (m: ModelSpec) => (m.norms === "nonparametric" ? 0 : gptStyle(m) ? 2 : 1);

/** Norm tensors of `layers` layers, and of the final norm where `final`: what a sequence-parallel
 *  DTensor stack keeps replicated over the tensor-parallel ranks. */
export function normTensorCount(m: ModelSpec, layers: number, final: boolean): number {
  return (layers * normCount(m) + (final ? 1 : 0)) * normTensors(m);
}

/** Tensors of one MLP's linears: 2 or 3 weights, each with its bias in a GPT-style model. */
const mlpTensors = (m: ModelSpec) => (gatedMlp(m) ? 3 : 2) * (gptStyle(m) ? 2 : 1);

/** Attention's tensors: multi-head latent attention's seven (q_a, its norm, q_b — or one q
 *  without a query rank —, kv_a, its norm, kv_b, o: DeepSeek-V3 inference/model.py MLA); else
 *  q, k, v, o with GPT-style biases on all four or Qwen2's on q, k, v, and the query/key norms. */
function attentionTensors(m: ModelSpec): number {
  if (m.mla) return (m.mla.qLoraRank > 0 ? 3 : 1) + 4;
  const biases = gptStyle(m) ? 4 : m.qkvBias ? 3 : 0;
  return 4 + biases + (m.qkNorm !== undefined ? 2 : 0);
}

/** Tensors of one dense layer: its norms (two, four under sandwich norms), attention and MLP. */
export function denseLayerTensors(m: ModelSpec): number {
  return normCount(m) * normTensors(m) + attentionTensors(m) + mlpTensors(m);
}

/** Tensors of one MoE layer: the dense layer's less its MLP, plus the router, the routed
 *  experts' stacked matrices and each shared expert's linears (no biases in MoE models). */
export function moeLayerTensors(m: ModelSpec): number {
  const e = m.moe;
  if (e === undefined) return denseLayerTensors(m);
  const matrices = gatedMlp(m) ? 3 : 2;
  return denseLayerTensors(m) - mlpTensors(m) + 1 + matrices + (e.sharedExperts > 0 ? matrices : 0);
}

/** Tensors of each (virtual) stage a pipeline rank holds, in its order: the layers of the range,
 *  the token embedding (and a learned position table) with the range that starts the model, the
 *  final norm and an untied output layer with the one that ends it (a tied one too where pipeline
 *  stages keep their own copy of it, pp > 1). */
export function chunkTensors(m: ModelSpec, held: RankHoldings, pp: number): number[] {
  return held.ranges.map(([from, to]) => {
    const moe = moeLayersInRanges(m, [[from, to]]);
    let n = (to - from - moe) * denseLayerTensors(m) + moe * moeLayerTensors(m);
    if (from === 0 && held.embedding) n += 1 + (m.positional === "learned" ? 1 : 0);
    if (to === m.layers && held.head) n += normTensors(m) + (!m.tiedEmbeddings || pp > 1 ? 1 : 0);
    return n;
  });
}

/** Tensors one pipeline rank holds: the sum over its stages. */
export function rankTensors(m: ModelSpec, held: RankHoldings, pp: number): number {
  return chunkTensors(m, held, pp).reduce((a, b) => a + b, 0);
}

/** Latency of a ZeRO-1 weight sync sent one tensor at a time beyond the `charged` calls the wire
 *  and simulator already price: (tensors − charged) more calls, each a ring's (n − 1)·α (as
 *  cost/gather-calls.ts extraGatherLatency; NCCL's ring broadcast pipelines over n − 1 hops). */
export function perTensorSyncLatency(tensors: number, charged: number, ranks: number, alpha: number): number {
  if (ranks <= 1) return 0;
  return Math.max(0, tensors - charged) * (ranks - 1) * alpha;
}
