// Step time of a plan: compute, recompute, tensor/pipeline/data-parallel communication, bubble
// and optimizer, for the slowest pipeline stage.
import type { Hardware, ModelSpec, Plan, TimeBreakdown, Training } from "../types.js";
import { layerMatrixParams, paddedVocab, stageParamsPerGpu } from "../model.js";
import { allGatherTime, allReduceTime, groupLink, p2pTime, reduceScatterTime } from "./collectives.js";
import { type HeadTimes, type LayerTimes, optimizerTime } from "./compute.js";
import { bubbleFraction } from "./pipeline.js";

/** Per-micro-batch costs that depend only on (tp, micro-batch, sequence parallel); the search
 *  memoises them. */
export interface MicroBatchCosts {
  layer: LayerTimes;
  head: HeadTimes;
}

/** Tensor-parallel communication of one layer for one micro-batch (Shoeybi et al. 2019 §3;
 *  Korthikanti et al. 2022 §4.2.2): 2 all-reduces of the b·s·h activation forward and 2 backward
 *  (f and g operators), 2 more when the forward is recomputed. Sequence parallelism replaces each
 *  all-reduce by a reduce-scatter + all-gather of the same volume and the same ring cost. */
function tpCommPerLayer(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, passes: number): number {
  const bytes = 2 * plan.microBatch * t.seqLen * m.hidden;
  return passes * 2 * allReduceTime(bytes, plan.tp, groupLink(hw, plan.tp));
}

export function stepTime(
  m: ModelSpec,
  hw: Hardware,
  training: Training,
  plan: Plan,
  costs: MicroBatchCosts,
): TimeBreakdown {
  const { tp, pp, dp, vpp, zero, microBatch, recompute } = plan;
  const microBatches = training.globalBatch / (dp * microBatch);
  const layersInStage = m.layers / pp;
  const { layer, head } = costs;
  const tokens = microBatch * training.seqLen;

  // Slowest stage: the last one carries the logits and cross-entropy (Narayanan et al. 2021 §3.2
  // balances layers only). Per micro-batch:
  const fwd = layersInStage * layer.forward + head.forward;
  const bwd = layersInStage * layer.backward + head.backward;
  const recomputeOne =
    recompute === "full" ? layersInStage * layer.forward : recompute === "selective" ? layersInStage * layer.attentionCore : 0;
  const tpPasses = recompute === "full" ? 3 : 2;
  const tpOne = layersInStage * tpCommPerLayer(m, hw, training, plan, tpPasses);

  const compute = microBatches * (fwd + bwd);
  const recomputeTime = microBatches * recomputeOne;
  const tpComm = microBatches * tpOne;

  // Pipeline: per micro-batch and virtual chunk, the activation goes forward and its gradient back
  // (Narayanan et al. 2021 §2.2); the scatter/gather optimisation sends 1/t of it per tp rank and
  // all-gathers it over the tensor-parallel group on arrival (§4.1) — with sequence parallelism
  // the activation is already split and no gather is needed.
  let ppComm = 0;
  if (pp > 1) {
    const link = groupLink(hw, tp * dp * pp);
    const activation = 2 * tokens * m.hidden;
    const gather = plan.sequenceParallel ? 0 : allGatherTime(activation, tp, groupLink(hw, tp));
    ppComm = 2 * vpp * microBatches * (p2pTime(activation / tp, link) + gather);
    // Tied embeddings: the first and last stage all-reduce the embedding gradient once per step.
    if (m.tiedEmbeddings) ppComm += allReduceTime((2 * paddedVocab(m.vocab, tp) * m.hidden) / tp, 2, link);
  }
  // The bubble idles each rank for (p−1)/(v·m) of the ideal pipeline time, which includes the
  // point-to-point transfers that chain the stages.
  const bubble = bubbleFraction(plan.schedule, pp, vpp, microBatches) * (compute + recomputeTime + tpComm + ppComm);

  // Data parallel (the group spans tp·dp consecutive ranks). Gradients are 16-bit (2Ψ bytes).
  let dpComm = 0;
  const params = stageParamsPerGpu(m, training.seqLen, tp, pp, layersInStage, pp === 1 ? "only" : "last");
  if (dp > 1) {
    const link = groupLink(hw, tp * dp);
    const grad = 2 * params;
    const bwdWindow = training.overlapGradReduce ? bwd + recomputeOne + (tpOne * (tpPasses - 1)) / tpPasses : 0;
    const fwdWindow = training.overlapGradReduce ? fwd : 0;
    if (zero === 0) {
      // DDP: bucketed all-reduce overlapping the last micro-batch's backward (Li et al. 2020 §3.2.3);
      // the last bucket cannot overlap.
      const t = allReduceTime(grad, dp, link);
      dpComm = Math.max(t - bwdWindow, allReduceTime(Math.min(grad, 25 * 1024 * 1024), dp, link));
    } else if (zero <= 2) {
      // ZeRO-1 (Megatron distributed optimizer): one reduce-scatter per step overlapping the last
      // backward; ZeRO-2 (DeepSpeed) reduce-scatters every micro-batch because gradients are
      // partitioned (Rajbhandari et al. 2020 §5.2). Both all-gather the updated 16-bit weights,
      // overlapped with the next step's first forward (Megatron-LM --overlap-param-gather).
      const rs = reduceScatterTime(grad, dp, link);
      const ag = allGatherTime(grad, dp, link);
      const reductions = zero === 2 ? microBatches : 1;
      dpComm = reductions * Math.max(0, rs - bwdWindow) + Math.max(0, ag - fwdWindow);
    } else {
      // ZeRO-3 / FSDP: every micro-batch all-gathers the weights for forward and again for
      // backward and reduce-scatters the gradients: 1.5× the all-reduce volume per micro-batch
      // (Rajbhandari et al. 2020 §7.2.2), prefetched one layer ahead so only the excess over the
      // compute it hides behind is exposed, plus the first layer's gather that nothing hides.
      const ag = allGatherTime(grad, dp, link);
      const rs = reduceScatterTime(grad, dp, link);
      const firstLayer = allGatherTime((2 * layerMatrixParams(m)) / tp, dp, link);
      dpComm = microBatches * (Math.max(0, ag - fwdWindow) + Math.max(0, ag + rs - bwdWindow) + firstLayer);
    }
  }

  const localParams = zero >= 1 ? params / dp : params;
  const optimizer = optimizerTime(hw, localParams);
  const step = compute + recomputeTime + tpComm + ppComm + bubble + dpComm + optimizer;
  return { compute, recompute: recomputeTime, tpComm, ppComm, bubble, dpComm, optimizer, step };
}
