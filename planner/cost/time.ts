// Step time of a plan: compute, recompute, tensor/pipeline/data-parallel communication, bubble
// and optimizer, for the slowest pipeline stage. Communication is priced from the plan's wire
// (wire/wire.ts): every item the closed form charges, at its link's α–β cost.
import type { Hardware, ModelSpec, Plan, TimeBreakdown, Training } from "../types.js";
import { layerMatrixParams, rankParamSplit, stageParamSplit } from "../model.js";
import { type WireItem, type WireLinks, wireOf } from "../wire/wire.js";
import { bf16Optimizer, engineBucketBytes, exposedTensorParallel, gradReduceBytes, overlapsGradReduce, overlapsWeightGather, prefetchLayers } from "./engine-terms.js";
import { allGatherTime, allReduceTime, callTime } from "./collectives.js";
import { type HeadTimes, type LayerTimes, attentionBackwardFactor, fp32AccumulateTime, optimizerTime } from "./compute.js";
import { OVERLAP_SLOWDOWN, overlapCost } from "./overlap.js";
import { GATHER_CALLS_PER_LAYER, extraGatherLatency } from "./gather-calls.js";
import { regatherFraction } from "./regather.js";
import { bubbleFraction } from "./pipeline.js";
import { EP_IDS, expertDpExposed } from "./expert-time.js";
import { epPassCalls, epPassExposed, overlapsAllToAll, overlapsSharedExperts } from "./dispatch.js";
import { edpOf } from "../layout/groups.js";
import { rankHoldings, slowestStage, stageKind } from "../layout/stages.js";
import { perTensorSyncLatency, rankTensors } from "./param-tensors.js";
import { unevenStageParams } from "./stage-memory.js";
import type { LayerMix } from "./moe-time.js";
import { type LayerPassComm, allRankPaces, pacingRank, recomputeOf } from "./pace.js";
import { recomputeEpPasses, recomputeTpShare } from "./module-recompute.js";
import { fullRecomputeShare, recomputedRankLayers } from "./block-recompute.js";
import { busiestRankLayers } from "../moe.js";

/** A stage without the output layer (uneven stages whose slowest is not the last). */
const NO_HEAD: HeadTimes = { forward: 0, backward: 0, weightGrad: 0 };
import { type CpCall, cpCallExposed, cpCallWindow } from "./context.js";

/** Per-micro-batch costs that depend only on (tp, micro-batch, sequence parallel), and the links
 *  of the layout's groups; the search memoises them. */
export interface MicroBatchCosts {
  layer: LayerTimes;
  head: HeadTimes;
  links: WireLinks;
  /** An MoE model's dense and MoE layers apart (cost/moe-time.ts moeLayerMix): each rank's own mix
   *  sets its pace (cost/pace.ts). Absent for a dense model. */
  mix?: LayerMix;
}

/** Time of the calls a step makes of the closed form's items with these ids. */
function charged(wire: readonly WireItem[], ids: readonly string[]): number {
  let t = 0;
  for (let k = 0; k < wire.length; k++) {
    const i = wire[k]!;
    if (i.closedForm && ids.includes(i.id)) t += i.calls * callTime(i);
  }
  return t;
}

const find = (wire: readonly WireItem[], id: string) => wire.find((i) => i.id === id);

/** Time of one layer (or one unit) of the closed form's items with these ids: perUnit calls each. */
function perUnit(wire: readonly WireItem[], ids: readonly string[]): number {
  let t = 0;
  for (const i of wire) if (i.closedForm && ids.includes(i.id)) t += i.perUnit * callTime(i);
  return t;
}

/** Time of one call of each of the closed form's items with these ids (the expert items: one call
 *  per MoE layer and pass). */
function perCall(wire: readonly WireItem[], ids: readonly string[]): number {
  let t = 0;
  for (const i of wire) if (i.closedForm && ids.includes(i.id)) t += callTime(i);
  return t;
}

/** The slowest stage's compute per micro-batch and over the step. Slowest stage: with an even
 *  split the last one, which carries the logits and cross-entropy (Narayanan et al. 2021 §3.2
 *  balances layers only); with uneven stages the rank whose layers (the sum of its virtual stages'
 *  with vpp > 1) and output layer take longest (layout/stages.ts slowestStage). The interleaved
 *  bubble stays (p−1)/(v·m) of this rank's ideal time (cost/pipeline.ts bubbleFraction): exact for
 *  equal chunks; with unequal ones the warm-up and cool-down pass chunks of different lengths, and
 *  taking the slowest rank's average chunk (its layers / v) is the approximation. */
function slowestCompute(m: ModelSpec, training: Training, plan: Plan, costs: MicroBatchCosts, comm?: LayerPassComm) {
  const microBatches = training.globalBatch / (plan.dp * plan.microBatch);
  const { layer: layer0, head: head0, mix } = costs;
  if (mix !== undefined) {
    // An MoE model: the rank whose compute, recompute and per-layer collectives (`comm`) take
    // longest, each rank with its own dense and MoE layers (cost/pace.ts).
    // (block recompute: each rank's own share of a third pass, cost/block-recompute.ts)
    const paces = allRankPaces(m, plan, mix, head0);
    const r = plan.recompute === "full" && plan.recomputeLayers !== undefined
      ? pacingRank(paces, comm, { tp: 2, ep: 2 }, (i) => fullRecomputeShare(plan, m.layers, i))
      : pacingRank(paces, comm, { tp: 2 + recomputeTpShare(m, training.engine, plan), ep: recomputeEpPasses(m, training.engine, plan) });
    const slow = { index: r.index, layers: r.layers, withHead: r.withHead };
    return { microBatches, slow, layersInStage: r.layers, layer: r.layer, head: r.head, fwd: r.fwd, bwd: r.bwd, compute: microBatches * (r.fwd + r.bwd), moeLayers: r.moeLayers };
  }
  const slow = slowestStage(plan, m.layers, layer0.forward + layer0.backward, head0.forward + head0.backward);
  const layersInStage = slow.layers;
  const head = slow.withHead ? head0 : NO_HEAD;
  const fwd = layersInStage * layer0.forward + head.forward;
  const bwd = layersInStage * layer0.backward + head.backward;
  return { microBatches, slow, layersInStage, layer: layer0, head, fwd, bwd, compute: microBatches * (fwd + bwd), moeLayers: undefined };
}

/** A lower bound of stepTime(…).step over every recompute mode and ZeRO stage of this layout:
 *  the slowest stage's compute and the bubble's share of it without recompute. Every other term
 *  of the step is ≥ 0, and the bubble fraction does not fall with recompute (zero-bubble: the
 *  input-gradient share grows with it, cost/pipeline.ts). Cheap: no wire. */
export function computeFloor(m: ModelSpec, training: Training, plan: Plan, costs: MicroBatchCosts): number {
  if (costs.mix !== undefined) return moeComputeFloor(m, training, plan, costs, costs.mix);
  const { microBatches, layersInStage, layer, head, fwd, bwd, compute } = slowestCompute(m, training, plan, costs);
  const weightGrad = layersInStage * layer.weightGrad + head.weightGrad;
  const fbw = { forward: fwd, inputGrad: bwd - weightGrad, weightGrad };
  return compute * (1 + bubbleFraction(plan.schedule, plan.pp, plan.vpp, microBatches, fbw));
}

/** An MoE model's floor: the most compute of any rank, with the smallest bubble share of any rank
 *  (the rank that sets the step adds its all-to-alls to a compute no larger, and its bubble share
 *  is one of these: cost/pace.ts). */
function moeComputeFloor(m: ModelSpec, training: Training, plan: Plan, costs: MicroBatchCosts, mix: LayerMix): number {
  const microBatches = training.globalBatch / (plan.dp * plan.microBatch);
  const paces = allRankPaces(m, { ...plan, recompute: "none" }, mix, costs.head);
  let compute = 0;
  let share = Infinity;
  for (const r of paces) {
    compute = Math.max(compute, microBatches * (r.fwd + r.bwd));
    const weightGrad = r.layers * r.layer.weightGrad + r.head.weightGrad;
    share = Math.min(share, bubbleFraction(plan.schedule, plan.pp, plan.vpp, microBatches, { forward: r.fwd, inputGrad: r.bwd - weightGrad, weightGrad }));
  }
  return compute * (1 + share);
}

/** A tighter lower bound over the layout's recompute modes and ZeRO stages: its step without
 *  recompute, less the data-parallel communication and the optimizer (the only terms a ZeRO stage
 *  changes). Recompute only adds: its own time, a third tp pass, the ep and cp exchanges of the
 *  re-run forward, and a bubble fraction that does not fall (above); none of these terms depends
 *  on the ZeRO stage. One stepTime per layout instead of one per (recompute, ZeRO). */
export function stepFloor(m: ModelSpec, hw: Hardware, training: Training, plan: Plan, costs: MicroBatchCosts): number {
  // (under DeepSpeed's BF16_Optimizer ZeRO-0's tied-embedding gradient crosses the pipeline in
  // fp32, ZeRO-1's in 16 bits (wire.ts): the floor is ZeRO-1's there, the lesser)
  const t = stepTime(m, hw, training, { ...plan, recompute: "none", zero: bf16Optimizer(training, 0) ? 1 : 0 }, costs);
  return t.step - t.dpComm - t.optimizer;
}

export function stepTime(
  m: ModelSpec,
  hw: Hardware,
  training: Training,
  plan: Plan,
  costs: MicroBatchCosts,
): TimeBreakdown {
  const { tp, pp, dp, zero, recompute } = plan;
  // Data-parallel collectives span dp·cp (wire/wire.ts; groups.ts "shard").
  const dpcp = dp * plan.cp;
  const wire = wireOf(m, training, plan, costs.links);
  // An MoE model's ranks differ in their MoE layers: each rank's per-layer collectives go with its
  // own compute (cost/pace.ts), one call of each per layer (tp) or MoE layer (ep) and pass.
  // (an engine that overlaps the all-to-alls with another micro-batch's compute: each MoE layer
  // pass's exposed part, cost/dispatch.ts epPassExposed)
  // (or the shared experts beside the same micro-batch's all-to-alls: overlapsSharedExperts)
  const overlapsEp = costs.mix !== undefined && (overlapsAllToAll(training, plan) || overlapsSharedExperts(m, training, plan));
  const comm = costs.mix !== undefined ? { tp: exposedTensorParallel(perUnit(wire, ["tp-layer"]), training.engine), ep: epPassExposed(perCall(wire, EP_IDS), costs.mix, m, training, plan, () => epPassCalls(wire)) } : undefined;
  const { microBatches, slow, layersInStage, layer, head, fwd, bwd, compute, moeLayers } = slowestCompute(m, training, plan, costs, comm);
  // Passes of each layer's collectives: forward, backward and, under full recompute, the forward
  // again; a selective recompute's modules run part of the tp ones again (module-recompute.ts).
  // (the pacing rank's passes: under block recompute its own share of a third, cost/block-recompute.ts)
  const tpPasses = 2 + recomputeTpShare(m, training.engine, plan, slow.index);
  const epPasses = recomputeEpPasses(m, training.engine, plan, slow.index);
  // (the output layer's MTP blocks re-run with the layers: cost/moe-time.ts headWithMtp)
  // (block recompute: the first N layers of each of the rank's chunks, cost/block-recompute.ts)
  const recomputeOne = recomputeOf(recompute, layersInStage, layer, head, recomputedRankLayers(plan, m.layers, slow.index));

  const recomputeTime = microBatches * recomputeOne;
  // The wire's per-layer items count the rank with the most layers (wire.ts, expert-wire.ts); an
  // MoE model's pacing rank may hold fewer, or fewer MoE layers.
  const busy = moeLayers !== undefined ? busiestRankLayers(m, plan) : undefined;
  // Tensor parallel: on the critical path (Shoeybi et al. 2019 §3; wire "tp-layer").
  // The engine may hide part of it behind GEMMs (cost/engine-terms.ts exposedTensorParallel).
  // (and the logits' all-gather on the stage with the output layer and the norms' gradients once
  // a step, where the stack runs them: wire.ts tp-logits, tp-norm-grads)
  const tpComm =
    (busy && comm && busy.layers !== layersInStage ? microBatches * tpPasses * layersInStage * comm.tp : exposedTensorParallel(charged(wire, ["tp-layer", "tp-input-grads"]), training.engine)) +
    (slow.withHead ? charged(wire, ["tp-logits"]) : 0) +
    charged(wire, ["tp-norm-grads"]);
  const tpOne = tpComm / microBatches;
  // Pipeline: activations and gradients between chunks, the tp all-gather on arrival and the tied
  // embedding's gradient all-reduce (Narayanan et al. 2021 §2.2, §4.1).
  const ppComm = charged(wire, ["pp-activation", "pp-gather", "tied-embedding"]);
  // Expert parallel: the all-to-alls (and etp gathers) of every MoE layer and pass, on the
  // critical path unless the engine overlaps them with another micro-batch's compute (Megatron-
  // Core's --overlap-moe-expert-parallel-comm, DualPipe: Engine.moe.overlap; formulas-scale §1.7:
  // 30–40 % of a step when not overlapped); the pacing rank's MoE layers.
  const epComm = busy && comm && moeLayers !== undefined && (busy.moeLayers !== moeLayers || overlapsEp) ? microBatches * epPasses * moeLayers * comm.ep : charged(wire, EP_IDS);
  // Context parallel: the K/V exchange of every layer and pass (cost/context.ts), the ring's sends
  // only beyond the attention step each overlaps.
  const attentionStep = layer.attentionCore / plan.cp;
  let cpComm = 0;
  // (a hidden ring send slows the attention beside it by the engine's overlap slowdown)
  const cpSlowdown = training.overlapSlowdown ?? training.engine?.overlapSlowdown ?? OVERLAP_SLOWDOWN;
  for (let k = 0; k < wire.length; k++) {
    const i = wire[k]!;
    if (i.group === "cp") cpComm += i.calls * cpCallExposed(i.kind as CpCall["kind"], callTime(i), cpCallWindow({ kind: i.kind as CpCall["kind"], pass: i.pass, perUnit: i.perUnit }, attentionStep, plan.cp, attentionBackwardFactor(training)), cpSlowdown, training.engine?.contextParallel.gatherOverlapsStep);
  }
  // The bubble idles each rank for (p−1)/(v·m) of the ideal pipeline time, which includes the
  // point-to-point transfers that chain the stages; zero-bubble schedules fill part of it with
  // weight gradients (cost/pipeline.ts: the stage's forward, input- and weight-gradient split).
  const weightGrad = layersInStage * layer.weightGrad + head.weightGrad;
  const fbw = { forward: fwd, inputGrad: bwd - weightGrad + recomputeOne, weightGrad };
  const bubble = bubbleFraction(plan.schedule, pp, plan.vpp, microBatches, fbw) * (compute + recomputeTime + tpComm + ppComm + epComm + cpComm);

  // Data parallel: each collective hides behind the compute its wire item names, only the excess
  // counted. The backward window is the last micro-batch's backward with its recompute and tp
  // communication; the forward window the first micro-batch's forward.
  let dpComm = 0;
  const overlapped = overlapsGradReduce(training, plan);
  // The slowdown of compute beside a hidden collective (cost/overlap.ts): the override
  // (Training.overlapSlowdown), else the engine's figure, else Lee et al.'s average.
  const slowdown = training.overlapSlowdown ?? training.engine?.overlapSlowdown ?? OVERLAP_SLOWDOWN;
  if (dpcp > 1) {
    // The compute a collective can hide behind. The gradients' reduction hides there only where
    // it overlaps (--no-grad-overlap: after the backward); ZeRO-1/2's weight gather with it where
    // the engine ties the two (Megatron-LM asserts --overlap-param-gather needs
    // --overlap-grad-reduce; cost/engine-terms.ts overlapsWeightGather); ZeRO-3's gathers are
    // prefetched by the stack itself whatever the reduction does (FSDP's backward_prefetch,
    // DeepSpeed's stage3_prefetch_bucket_size).
    const bwdCompute = bwd + recomputeOne + (tpOne * (tpPasses - 1)) / tpPasses;
    const bwdWindow = overlapped ? bwdCompute : 0;
    // What overlaps is the engine's: the updated weights' gather, the ZeRO-3 prefetch depth, the
    // bucket, and the slowdown a hidden collective inflicts (cost/engine-terms.ts).
    const e = training.engine;
    const gatherWindow = overlapsWeightGather(training, plan) ? fwd : 0;
    const prefetched = prefetchLayers(e) > 0;
    const one = (id: string) => {
      const i = find(wire, id);
      return i ? callTime(i) : 0;
    };
    const grads = find(wire, zero === 3 ? "zero3-reduce-scatter" : "dp-gradients")!;
    // What an overlapped collective costs: its excess over the window plus the slowdown of the
    // compute it overlaps (cost/overlap.ts).
    const cost = (comm: number, window: number) => overlapCost(comm, window, slowdown);
    if (zero === 0) {
      // DDP: bucketed all-reduce overlapping the last micro-batch's backward (Li et al. 2020 §3.2.3);
      // the last bucket cannot overlap.
      // The bucket holds a parameter count: its bytes follow the gradients' type (wire.ts).
      const lastBucket = allReduceTime(Math.min(grads.bytes, (engineBucketBytes(e, dpcp) * gradReduceBytes(training)) / 2), dpcp, grads.link);
      const all = one("dp-gradients");
      dpComm = Math.max(all - bwdWindow, lastBucket) + slowdown * Math.max(0, Math.min(all - lastBucket, bwdWindow));
      // BF16_Optimizer's gather of the updated weights after its step (wire.ts dp-weights).
      const weights = find(wire, "dp-weights");
      if (weights) dpComm += weights.calls * cost(callTime(weights), gatherWindow);
    } else if (zero <= 2) {
      // ZeRO-1 (Megatron distributed optimizer): one reduce-scatter per step overlapping the last
      // backward; ZeRO-2 (DeepSpeed) every micro-batch because gradients are partitioned
      // (Rajbhandari et al. 2020 §5.2). Both all-gather the updated 16-bit weights, overlapped with
      // the next step's first forward (Megatron-LM --overlap-param-gather).
      // A stack that shards per unit (FSDP's SHARD_GRAD_OP, one FlatParameter a block: Zhao et
      // al. 2023 §3.2) runs each of these as one collective a layer, each paying the ring's
      // latency (n − 1)·α (cost/gather-calls.ts), as ZeRO-3's per-layer calls do; the
      // simulator's per-layer buckets (sim/costs.ts bucketBytes) the same.
      const perLayer = zero === 2 && e?.dataParallel.shardedReducePerLayer === true ? extraGatherLatency(layersInStage, 1, dpcp, grads.link.latency) : 0;
      // (and gathers the weights again for every micro-batch's forward, each behind that forward:
      // wire.ts dp-weights; other stacks once a step)
      const weights = find(wire, "dp-weights")!;
      // (a ZeRO-1 that sends the weights one tensor at a time: a call per tensor of the rank,
      // cost/param-tensors.ts; its wire item prices one call a step)
      const perTensor = zero === 1 && e?.dataParallel.zero1BroadcastPerTensor === true ? perTensorSyncLatency(rankTensors(m, rankHoldings(plan, m.layers, slow.index), pp), weights.calls, dpcp, weights.link.latency) : 0;
      dpComm = grads.calls * cost(one("dp-gradients") + perLayer, bwdWindow) + weights.calls * cost(callTime(weights) + perLayer + perTensor, gatherWindow);
    } else {
      // ZeRO-3 / FSDP: prefetched one layer ahead so only the excess over the compute each
      // collective hides behind is exposed, plus the first layer's gather that nothing hides
      // (Zhao et al. 2023 §3.2).
      const firstLayer = allGatherTime((2 * layerMatrixParams(m)) / tp, dpcp, grads.link);
      // One collective per layer (or per tensor) and pass, each with its ring latency; without
      // prefetch (depth 0) the gathers wait for the compute before them.
      const calls = extraGatherLatency(layersInStage, training.gatherCallsPerLayer ?? e?.dataParallel.gatherCallsPerLayer ?? GATHER_CALLS_PER_LAYER, dpcp, grads.link.latency);
      const fw = one("zero3-gather-forward") + calls;
      // (a stack that releases weights after a recomputed forward gathers part of them again:
      // cost/regather.ts; its share of the gather calls' latency with it)
      const again = regatherFraction(m, tp, e, recompute);
      const bw = one("zero3-gather-backward") + one("zero3-gather-recompute") + one("zero3-reduce-scatter") + (2 + again) * calls;
      const fwHidden = prefetched ? cost(fw, fwd) : fw;
      const gathersBw = one("zero3-gather-backward") + one("zero3-gather-recompute") + (1 + again) * calls;
      const reduce = one("zero3-reduce-scatter") + calls;
      // Prefetched gathers and an overlapped reduction share the backward; a reduction after the
      // backward is all exposed, the gathers still hidden where prefetched.
      const bwHidden = prefetched
        ? overlapped
          ? cost(bw, bwdCompute)
          : cost(gathersBw, bwdCompute) + reduce
        : gathersBw + cost(reduce, bwdWindow);
      dpComm = microBatches * (fwHidden + bwHidden + firstLayer);
    }
  }

  // The routed experts' collectives over edp, hidden behind what the dense ones leave of the
  // windows and slowing the compute they overlap, by the dense ones' rules: the gradients behind
  // the backward where the reduction overlaps, the weights behind the forward where the engine
  // overlaps ZeRO-1/2's gather (overlapsWeightGather) or prefetches ZeRO-3's.
  if (m.moe !== undefined) {
    const window = overlapped ? bwd + recomputeOne : 0;
    const gathersHide = zero === 3 ? prefetchLayers(training.engine) > 0 : overlapsWeightGather(training, plan);
    dpComm += expertDpExposed(wire, window, gathersHide ? fwd : 0, slowdown);
  }

  // The slowest rank's parameters: with uneven stages the sum over its own (virtual) stages.
  const split =
    plan.stageLayers !== undefined
      ? unevenStageParams(m, training, plan, slow.index)
      : costs.mix !== undefined
        ? rankParamSplit(m, training.seqLen, plan, slow.index)
        : stageParamSplit(m, training.seqLen, tp, pp, layersInStage, stageKind(slow.index, pp), plan.ep, plan.etp);
  const edp = edpOf({ tp, cp: plan.cp, dp, pp, ep: plan.ep, etp: plan.etp });
  // (BF16_Optimizer steps its ZeRO-1-like shard, and adds every micro-batch's gradients into
  // its whole fp32 copy: compute.ts fp32AccumulateTime)
  const sharded = zero >= 1 || bf16Optimizer(training, zero);
  const localParams = sharded ? split.dense / dpcp + split.expert / edp : split.dense + split.expert;
  const optimizer = optimizerTime(hw, localParams) + (bf16Optimizer(training, zero) ? fp32AccumulateTime(hw, split.dense + split.expert, microBatches) : 0);
  const step = compute + recomputeTime + tpComm + ppComm + epComm + cpComm + bubble + dpComm + optimizer;
  return { compute, recompute: recomputeTime, tpComm, ppComm, bubble, dpComm, epComm, cpComm, optimizer, step };
}
