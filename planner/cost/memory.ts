// Memory per GPU for one pipeline stage.
import type { Hardware, MemoryBreakdown, ModelSpec, Plan, Training } from "../types.js";
import { layerMatrixParams, paddedVocab, stageParamsPerGpu } from "../model.js";
import { layerActivationBytes, recomputeWorkingBytes } from "./activations.js";
import { inFlightLayers } from "./pipeline.js";
import { V_SCHEDULES } from "../layout/rules.js";
import { gradientBucketBytes } from "../wire/facts.js";

/** Bytes per parameter of model states under ZeRO stage z (Rajbhandari et al. 2020, §3 and
 *  Fig. 1): 16-bit weights 2Ψ, 16-bit gradients 2Ψ, fp32 Adam states (master, momentum,
 *  variance) 12Ψ. Stage 1 shards the optimizer states over d, stage 2 the gradients too,
 *  stage 3 the weights too: 16Ψ, 4Ψ + 12Ψ/d, 2Ψ + 14Ψ/d, 16Ψ/d. */
export function modelStateBytes(params: number, zero: number, dp: number) {
  const weights = zero >= 3 ? (2 * params) / dp : 2 * params;
  const gradients = zero >= 2 ? (2 * params) / dp : 2 * params;
  const optimizer = zero >= 1 ? (12 * params) / dp : 12 * params;
  return { weights, gradients, optimizer };
}

/** Sum of modelStateBytes, without building the object (search loop). */
export function modelStateTotal(params: number, zero: number, dp: number): number {
  if (zero === 0) return 16 * params;
  if (zero === 1) return 4 * params + (12 * params) / dp;
  if (zero === 2) return 2 * params + (14 * params) / dp;
  return (16 * params) / dp;
}

/** Layers on the last pipeline rank in flight at its peak (Narayanan et al. 2021 §2.2: the last
 *  rank starts backward right after each forward; interleaved warm-up there is (v−1)·p chunks). */
function lastStageInFlightLayers(plan: Plan, layers: number, microBatches: number): number {
  const { pp, vpp, schedule } = plan;
  if (pp === 1) return layers;
  const perStage = layers / pp;
  if (schedule === "gpipe") return microBatches * perStage;
  if (schedule === "1f1b") return perStage;
  // zb1p's last rank delays its W by p−1 steps (torch num_1f1b_microbatches = rank), so it holds
  // as many chunks as the first (cost/pipeline.ts); in a V the last rank holds the middle stages,
  // its peak the same 2p (zbv) or 2p + 1 (dualpipev) chunks as every rank.
  if (schedule === "zb1p" || schedule === "zbv" || schedule === "dualpipev") return inFlightLayers(schedule, layers, pp, vpp, microBatches);
  const chunks = Math.min(microBatches * vpp, (vpp - 1) * pp + 1);
  return (chunks * perStage) / vpp;
}

/** Activation bytes a GPU of this stage holds at its peak: in-flight layers, the embedding's
 *  dropout mask (first stage), the logits (last stage) and the recompute working set. */
export function stageActivationBytes(
  m: ModelSpec,
  training: Training,
  plan: Plan,
  stage: "first" | "last" | "only",
): number {
  const { tp, pp, dp, microBatch, sequenceParallel, recompute } = plan;
  const microBatches = training.globalBatch / (dp * microBatch);
  const layersInStage = m.layers / pp;
  const act = { seqLen: training.seqLen, tp, sequenceParallel, recompute, fusedAttention: training.fusedAttention };
  const perLayer = layerActivationBytes(m, microBatch, act);
  const tokens = microBatch * training.seqLen;
  const spShare = sequenceParallel && tp > 1 ? 1 / tp : 1;
  let activations: number;
  if (stage === "last") {
    activations = lastStageInFlightLayers(plan, m.layers, microBatches) * perLayer;
  } else {
    const layersHeld = inFlightLayers(plan.schedule, m.layers, pp, plan.vpp, microBatches);
    activations = layersHeld * perLayer;
    // Embedding dropout mask, one byte per element, per micro-batch in flight (Korthikanti §4.3).
    const microBatchesHeld = Math.ceil(layersHeld / layersInStage);
    if (m.dropout) activations += microBatchesHeld * tokens * m.hidden * spShare;
  }
  if (stage !== "first" || (pp > 1 && V_SCHEDULES.has(plan.schedule))) {
    // Output head of one micro-batch at a time: fp32 logits for the vocab-parallel cross-entropy,
    // 4·s·b·V/t bytes (Korthikanti et al. 2022 §4.3), plus the final norm's input.
    activations += (4 * tokens * paddedVocab(m.vocab, tp)) / tp + 2 * tokens * m.hidden * spShare;
  }
  return activations + recomputeWorkingBytes(m, microBatch, act);
}

/** Communication buffers: two gradient buckets (one reducing while the next fills; the bucket size
 *  is the wire's, wire/facts.ts) for every stage with dp > 1; ZeRO-3 (FSDP) adds the unsharded 16-bit weights of the layer in use
 *  and of the one prefetched (Zhao et al. 2023, PyTorch FSDP §3.2 and §4.3). */
export function bufferBytes(m: ModelSpec, tp: number, dp: number, zero: number): number {
  if (dp === 1) return 0;
  return 2 * gradientBucketBytes(dp) + (zero === 3 ? (2 * 2 * layerMatrixParams(m)) / tp : 0);
}

/** Everything allocated, plus the allocator's fragmentation on it and the fixed reserve for the
 *  CUDA context, NCCL and cuBLAS workspaces (both figures from the hardware profile). */
export function totalBytes(hw: Hardware, allocated: number): number {
  return allocated * (1 + hw.fragmentation) + hw.reserve;
}

/** Whose parameters the first (or last) pipeline rank holds: in a V (zbv, dualpipev) rank 0 holds
 *  the first and the last stage, the embedding and the output layer (torch
 *  generate_stage_to_rank_mapping style "v"), as one rank without a pipeline does. */
export function stageHolds(plan: Plan, stage: "first" | "last" | "only"): "first" | "last" | "only" {
  return plan.pp > 1 && V_SCHEDULES.has(plan.schedule) && stage === "first" ? "only" : stage;
}

export function stageMemory(
  m: ModelSpec,
  hw: Hardware,
  training: Training,
  plan: Plan,
  stage: "first" | "last" | "only",
): MemoryBreakdown {
  const { tp, pp, dp, zero } = plan;
  const params = stageParamsPerGpu(m, training.seqLen, tp, pp, m.layers / pp, stageHolds(plan, stage));
  const states = modelStateBytes(params, zero, dp);
  const activations = stageActivationBytes(m, training, plan, stage);
  const buffers = bufferBytes(m, tp, dp, zero);
  const allocated = states.weights + states.gradients + states.optimizer + activations + buffers;
  const total = totalBytes(hw, allocated);
  const other = total - (states.weights + states.gradients + states.optimizer + activations);
  return { ...states, activations, other, total, capacity: hw.memory };
}
