// Memory per GPU of one stage of an uneven pipeline (Plan.stageLayers; layout/stages.ts): that
// stage's layers × their weights and activations, plus the embedding on the first stage and the
// output layer on the last; with virtual stages (vpp > 1) a rank's, summed over the virtual
// stages it holds (r, r + p, …). With uneven stages no single stage is the fullest by construction:
// under 1F1B the first stage holds p micro-batches in flight and the last one, so a middle stage
// with more layers can top both; every stage is checked. Same terms as cost/memory.ts, stage by
// stage; with an even split the first and last stages give exactly stageMemory's figures.
import type { Hardware, MemoryBreakdown, ModelSpec, Plan, Training } from "../types.js";
import { paddedVocab, stageParamSplit } from "../model.js";
import { moeLayersIn, mtpCount } from "../moe.js";
import { edpOf } from "../layout/groups.js";
import { inFlightPerChunk, rankStages, stageKind, stageLayerRange, stageSplit } from "../layout/stages.js";
import { activationOptions, layerActivationBytes, recomputeWorkingBytes } from "./activations.js";
import { blendedLayerBytes } from "./block-recompute.js";
import { bufferBytes, keptLogitBytes, modelStateBytes, reduceTransientBytes, totalBytes } from "./memory.js";
import { moeBufferBytes, moeLayerActivationBytes, moeRecomputeWorkingBytes } from "./moe-memory.js";
import { optimizerBytesOf } from "./moe-facts.js";
import { cpBufferBytes } from "./context.js";
import { headInputBytes, logitBytes, logitShards, stateBytes } from "./engine-terms.js";

/** Activation bytes rank `index` holds at its peak: for each of its virtual stages (one with
 *  vpp 1; rankStages, the looped placement, with vpp > 1) the micro-batches it holds in flight
 *  (layout/stages.ts inFlightPerChunk: the interleaved schedule's warm-up, Narayanan et al. 2021
 *  §2.2.2) × that stage's layers' bytes (Korthikanti et al. 2022 §4, cost/activations.ts), the
 *  embedding's dropout mask with the first virtual stage (one byte per element per micro-batch
 *  held, Korthikanti §4.3), the fp32 logits and final-norm input of one micro-batch with the last
 *  (4·s·b·V/t, Korthikanti §4.3; the engine's logitBytes per logit) and the outputs it keeps of
 *  every micro-batch (memory.ts keptLogitBytes), and the recompute working set. */
export function unevenStageActivationBytes(m: ModelSpec, training: Training, plan: Plan, index: number, terms: UnevenActivationTerms = unevenActivationTerms(m, training, plan)): number {
  const { split, held: heldOf, dense, moeLayer, tokens, spShare, head, kept, working, block } = terms;
  const stages = split.length;
  const own = stages === plan.pp ? [index] : rankStages(plan.pp, plan.vpp, index);
  const held = heldOf(own.length, index);
  let bytes = 0;
  let denseHeld = 0;
  let moeHeld = 0;
  for (let j = 0; j < own.length; j++) {
    const g = own[j]!;
    const range = stageLayerRange(split, g);
    const from = range[0];
    const to = range[1];
    const nMoe = moeLayersIn(m, from, to);
    const kind = stageKind(g, stages);
    // (block recompute: the chunk's first N layers keep their input, the others every tensor)
    const c = to - from;
    const d = block === undefined ? dense : blendedLayerBytes(plan, c, dense, block.dense);
    const x = block === undefined ? moeLayer : blendedLayerBytes(plan, c, moeLayer, block.moeLayer);
    bytes += held[j]! * ((c - nMoe) * d + nMoe * x);
    denseHeld += to - from - nMoe;
    moeHeld += nMoe;
    if ((kind === "first" || kind === "only") && m.dropout) bytes += held[j]! * tokens * m.hidden * spShare;
    if (kind === "last" || kind === "only") {
      bytes += head;
      // (the MTP modules' blocks come with the output layer: MoE layers in an MoE model)
      if (m.moe) moeHeld += mtpCount(m);
      else denseHeld += mtpCount(m);
    }
    // (a pipeline's last stage: the outputs the stack keeps of every micro-batch, memory.ts)
    if (kind === "last") bytes += kept;
  }
  // Context parallel: a cp rank holds its s/cp tokens' share of every tensor (as cost/memory.ts);
  // the recompute working set is the largest of the rank's layers' (an MoE layer's where it holds one).
  const w = Math.max(denseHeld > 0 ? working.dense : 0, moeHeld > 0 ? working.moe : 0);
  return (bytes + w) / plan.cp;
}

/** What unevenStageActivationBytes reads that does not depend on the stage: one layer's bytes
 *  (dense and MoE), the output layer's, the recompute working set. The search computes it once
 *  per layout and recompute mode, not once per candidate stage. */
export interface UnevenActivationTerms {
  split: readonly number[];
  /** Micro-batches in flight per virtual stage of a rank holding `chunks` of them. */
  held: (chunks: number, index: number) => readonly number[];
  dense: number;
  moeLayer: number;
  tokens: number;
  spShare: number;
  /** The fp32 logits and the final norm's input of one micro-batch (the last stage's). */
  head: number;
  /** The outputs of all the step's micro-batches the last stage keeps (memory.ts keptLogitBytes). */
  kept: number;
  /** The recompute working set of a dense layer and of an MoE layer (moe-memory.ts heldWorkingBytes). */
  working: { dense: number; moe: number };
  /** Under full recompute at a depth (Plan.recomputeLayers): a layer's bytes without recompute,
   *  for the layers each chunk keeps whole (the search tries depths on the same terms). */
  block?: { dense: number; moeLayer: number };
}

export function unevenActivationTerms(m: ModelSpec, training: Training, plan: Plan): UnevenActivationTerms {
  const { tp, pp, dp, microBatch, sequenceParallel } = plan;
  const microBatches = training.globalBatch / (dp * microBatch);
  const act = activationOptions(training, plan, m);
  const tokens = microBatch * training.seqLen;
  return {
    split: stageSplit(plan, m.layers),
    held: (chunks, index) => inFlightPerChunk(plan.schedule, pp, chunks, index, microBatches),
    dense: layerActivationBytes(m, microBatch, act),
    moeLayer: m.moe ? moeLayerActivationBytes(m, training, plan, act) : 0,
    tokens,
    spShare: sequenceParallel && tp > 1 ? 1 / tp : 1,
    head: (logitBytes(training.engine) * tokens * paddedVocab(m.vocab, tp)) / logitShards(training.engine, tp) + headInputBytes(m, tokens, tp, sequenceParallel, training.engine),
    kept: keptLogitBytes(m, training, tp, tokens, microBatches),
    working: { dense: recomputeWorkingBytes(m, microBatch, act), moe: m.moe ? moeRecomputeWorkingBytes(m, training, plan, act) : 0 },
    ...(plan.recompute === "full" && plan.recomputeLayers !== undefined ? { block: noneBytes(m, training, plan) } : {}),
  };
}

/** A layer's bytes without recompute (dense and MoE), which block recompute keeps on the layers
 *  past each chunk's first N (cost/block-recompute.ts). */
function noneBytes(m: ModelSpec, training: Training, plan: Plan): { dense: number; moeLayer: number } {
  const p = { ...plan, recompute: "none" as const };
  const act = activationOptions(training, p, m);
  return { dense: layerActivationBytes(m, plan.microBatch, act), moeLayer: m.moe ? moeLayerActivationBytes(m, training, p, act) : 0 };
}

/** Dense and routed-expert parameters one GPU of rank `index` holds (the sum over its virtual
 *  stages, the embedding with the first, the output layer with the last), and its layers. */
export function unevenStageParams(m: ModelSpec, training: Training, plan: Plan, index: number): { dense: number; expert: number; layers: number; moeLayers: number } {
  const split = stageSplit(plan, m.layers);
  const own = split.length === plan.pp ? [index] : rankStages(plan.pp, plan.vpp, index);
  let dense = 0;
  let expert = 0;
  let layers = 0;
  let moeLayers = 0;
  for (let k = 0; k < own.length; k++) {
    const g = own[k]!;
    const range = stageLayerRange(split, g);
    const kind = stageKind(g, split.length);
    const p = stageParamSplit(m, training.seqLen, plan.tp, plan.pp, split[g]!, kind, plan.ep, plan.etp, [range]);
    dense += p.dense;
    expert += p.expert;
    layers += split[g]!;
    moeLayers += moeLayersIn(m, range[0], range[1]) + (m.moe && (kind === "last" || kind === "only") ? mtpCount(m) : 0);
  }
  return { dense, expert, layers, moeLayers };
}

/** The ranks that can be the fullest: the first (embedding), the last (output layer), and of the
 *  middle ones the first with each (layers, MoE layers): the same layers hold the same states, and
 *  an earlier stage at least as many micro-batches in flight (inFlightMicroBatches does not grow
 *  with the index), so a 64-stage split has three or four candidates. With virtual stages
 *  (vpp > 1) every rank: each holds a different mix of chunks. */
export function memoryCandidateStages(m: ModelSpec, plan: Plan): number[] {
  const split = stageSplit(plan, m.layers);
  if (split.length !== plan.pp) return Array.from({ length: plan.pp }, (_, i) => i);
  const out = [0];
  const seen = new Set<number>();
  // (the stage's first layer kept as a running sum: stageLayerRange per stage made this O(pp²),
  // 18 of 25 s of a 10,000-layer model on 65,536 GPUs)
  let from = split[0]!;
  for (let i = 1; i < plan.pp - 1; from += split[i]!, i++) {
    const to = from + split[i]!;
    const key = split[i]! * 65536 + (m.moe ? moeLayersIn(m, from, to) : 0); // (layers, MoE layers): a model has ≤ 10,000 layers (schema/bounds.ts)
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(i);
  }
  if (plan.pp > 1) out.push(plan.pp - 1);
  return out;
}

/** The full breakdown of stage `index` (cost/memory.ts stageMemory, for any stage of any split). */
export function unevenStageMemory(m: ModelSpec, hw: Hardware, training: Training, plan: Plan, index: number): MemoryBreakdown {
  const { tp, dp, zero } = plan;
  const params = unevenStageParams(m, training, plan, index);
  const s = stateBytes(training, optimizerBytesOf(training));
  // ZeRO / FSDP shard dense states over dp·cp (groups.ts "shard"), as cost/memory.ts does.
  const dense = modelStateBytes(params.dense, zero, dp * plan.cp, s);
  const expert = modelStateBytes(params.expert, zero, edpOf(plan), s);
  const states = { weights: dense.weights + expert.weights, gradients: dense.gradients + expert.gradients, optimizer: dense.optimizer + expert.optimizer };
  const activations = unevenStageActivationBytes(m, training, plan, index);
  // (the all-to-all buffers only where the rank holds an MoE layer, an MTP module's among them)
  const moeBuffers = params.moeLayers > 0 ? moeBufferBytes(m, training, plan) : 0;
  const buffers = bufferBytes(m, tp, dp * plan.cp, zero, training, params.layers, plan.ep * plan.etp) + moeBuffers + cpBufferBytes(m, training, plan) + reduceTransientBytes(training, zero, params.dense, params.expert, dp * plan.cp, edpOf(plan), activations);
  const allocated = states.weights + states.gradients + states.optimizer + activations + buffers;
  const total = totalBytes(hw, allocated);
  const other = total - (states.weights + states.gradients + states.optimizer + activations);
  const experts = m.moe ? { experts: expert.weights + expert.gradients + expert.optimizer } : {};
  return { ...states, activations, other, total, capacity: hw.memory, ...experts };
}

/** The fullest stage of an uneven pipeline: every stage checked; ties go to the earlier stage. */
export function fullestStage(m: ModelSpec, hw: Hardware, training: Training, plan: Plan): { memory: MemoryBreakdown; index: number } {
  let best = { memory: unevenStageMemory(m, hw, training, plan, 0), index: 0 };
  for (const i of memoryCandidateStages(m, plan).slice(1)) {
    const memory = unevenStageMemory(m, hw, training, plan, i);
    if (memory.total > best.memory.total) best = { memory, index: i };
  }
  return best;
}
