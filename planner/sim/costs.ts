// Per-operation costs of one plan, from the same functions the closed form uses
// (planner/cost/compute.ts layerTimes, headTimes, optimizerTime; planner/cost/collectives.ts).
// The simulator plays these out (graph.ts); tests build SimCosts by hand (uniformCosts).
import { recomputeEpPasses, recomputeTpShare } from "../cost/module-recompute.js";
import { regatherFraction } from "../cost/regather.js";
import { callTime, p2pTime } from "../cost/collectives.js";
import { latencyFree } from "../cost/tuner.js";
import { wireLinks } from "../evaluate.js";
import { place } from "../layout/groups.js";
import { degreesOf } from "../layout/layout.js";
import { bf16Optimizer, engineBucketBytes, exposedTensorParallel, gathersUpdatedWeights, gradReduceBytes, overlapsGradReduce, overlapsWeightGather, prefetchLayers, zero1GatherScale, zero3Link } from "../cost/engine-terms.js";
import { GATHER_CALLS_PER_LAYER } from "../cost/gather-calls.js";
import { type WireId, type WireItem, wireOf } from "../wire/wire.js";
import { attentionBackwardFactor, fp32AccumulateTime, headTimes, optimizerTime } from "../cost/compute.js";
import { headWithMtp, moeLayerMix, stageLayerTimes } from "../cost/moe-time.js";
import { epPassCalls, epPassExposed, overlapsAllToAll, overlapsSharedExperts } from "../cost/dispatch.js";
import { EP_IDS } from "../cost/expert-time.js";
import { type CpCall, cpCallExposed, cpCallWindow } from "../cost/context.js";
import { OVERLAP_SLOWDOWN } from "../cost/overlap.js";
import { edpOf } from "../layout/groups.js";
import { rankHoldings, rankLayers } from "../layout/stages.js";
import { fullRecomputeShare } from "../cost/block-recompute.js";
import { chunkTensors, normTensorCount } from "../cost/param-tensors.js";
import { finalNormParams, layerMatrixParams, layerSmallParams, paddedVocab, positionRows, stageParamSplit } from "../model.js";
import { vShaped } from "./schedule.js";
import type { Hardware, Link, ModelSpec, Plan, Schedule, Training } from "../types.js";

export type { CollectiveKind, ExpertDataParallel, ParamOpCost, PassCost, SimCosts, SimOptions, Transfer } from "./cost-types.js";
import type { CollectiveKind, ParamOpCost, PassCost, SimCosts, SimOptions, Transfer } from "./cost-types.js";
import { runsAs } from "../eager.js";

const ZERO_PASS: PassCost = { compute: 0, tp: 0 };

/** A layer's recompute pass under full recompute: its forward, collectives included, times the
 *  share of layers re-run (1 without block recompute). */
const fullRecomputePass = (share: number, forward: number, tp: number, ep: number, cp: number): PassCost => ({ compute: share * forward, tp: share * tp, ep: share * ep, cp: share * cp });

/** Whether a group's traffic shares the network link of its ranks (else the NVLink / PCIe one):
 *  outside the node's span, unless the link is still NVLink (an NVLink domain beyond the node). */
const crossesNetwork = (l: { link: Link; where: string }) => l.where !== "node" && (l.where === "none" || l.link.kind === "network");

/** Split an α–β time into its latency and bandwidth terms through the public cost functions:
 *  the bandwidth term is the same call on the link with α = 0. */
export function transfer(time: (link: Link) => number, link: Link, inter: boolean, post = 0): Transfer {
  const work = time(latencyFree(link));
  return { latency: time(link) - work, work, post, inter };
}

function hbm(hw: Hardware, bytes: number): number {
  return bytes / (hw.memoryBandwidth * hw.memoryBandwidthEfficiency);
}

/** Time of one call of each item the predicate picks, times its calls per unit. */
function unitTime(wire: readonly WireItem[], pick: (i: WireItem) => boolean): number {
  let t = 0;
  for (const i of wire) if (pick(i)) t += i.perUnit * callTime(i);
  return t;
}

export function buildSimCosts(m: ModelSpec, hw: Hardware, asked: Training, plan: Plan, opts: SimOptions = {}): SimCosts {
  // (a plan its engine runs eager is simulated with the eager engine, as evaluatePlan prices it)
  const t = runsAs(m, asked, plan);
  const { tp, pp, dp, microBatch, sequenceParallel: sp, recompute } = plan;
  const vpp = pp > 1 ? plan.vpp : 1;
  const vShape = pp > 1 && vShaped(plan.schedule);
  const microBatches = t.globalBatch / (dp * microBatch);
  // The last stage's average layer (dense and MoE layers) and its output with the MTP modules, as
  // the closed form (cost/moe-time.ts); every stage plays it (uniform layers).
  // (the dense and MoE layers apart once: the average layer, and the MoE layer's passes and shared
  // experts where the engine overlaps its all-to-alls)
  const mix = moeLayerMix(m, hw, t, plan);
  const layer = stageLayerTimes(m, hw, t, plan, mix);
  const head = headWithMtp(m, hw, t, plan, headTimes(m, hw, t, tp, microBatch, plan.cp));
  const T = microBatch * t.seqLen;
  const h = m.hidden;
  // What goes on the wire (wire/wire.ts), on the links of the layout's groups.
  const links = wireLinks(hw, place(hw, degreesOf(plan), plan.order));
  const wire = wireOf(m, t, plan, links);
  const byId = (id: WireId) => wire.filter((i) => i.id === id);
  const vPad = paddedVocab(m.vocab, tp);
  const extras = !opts.closedFormOnly;
  const spShare = sp && tp > 1 ? 1 / tp : 1;
  // Tensor parallel per layer and pass (wire "tp-layer": 2 all-reduces of b·s·h, or their
  // sequence-parallel all-gathers and reduce-scatters), less what the engine hides behind GEMMs,
  // as the closed form charges it (cost/engine-terms.ts exposedTensorParallel).
  const tpLayer = exposedTensorParallel(unitTime(wire, (i) => i.id === "tp-layer"), t.engine);
  // Expert parallel per (average) layer and pass: the all-to-alls on the ep group's link.
  // (an engine that overlaps them with another micro-batch's compute: each MoE layer pass's
  // exposed part, as the closed form, cost/dispatch.ts epPassExposed)
  const epItems = wire.filter((i) => EP_IDS.includes(i.id));
  // (or the shared experts beside the same micro-batch's all-to-alls: the mean exposed part of a
  // pass, as the closed form, cost/dispatch.ts sharedExpertExposed)
  const epLayer = m.moe !== undefined && epItems.length > 0 && (overlapsAllToAll(t, plan) || overlapsSharedExperts(m, t, plan))
    ? epItems[0]!.perUnit * epPassExposed(epItems.reduce((s, i) => s + callTime(i), 0), mix, m, t, plan, () => epPassCalls(epItems))
    : unitTime(wire, (i) => EP_IDS.includes(i.id));
  // Context parallel per layer and pass: the cp items of that pass on the cp group's link, each
  // call's exposed part as the closed form prices it (cost/context.ts cpCallExposed).
  const attentionStep = layer.attentionCore / plan.cp;
  // The slowdown of compute beside an overlapped collective (cost/overlap.ts): the override, the
  // engine's figure, else Lee et al.'s average; cp's here, dp's in the timeline (timeline.ts).
  const cpSlowdown = t.overlapSlowdown ?? t.engine?.overlapSlowdown ?? OVERLAP_SLOWDOWN;
  const cpPass = (pass: "forward" | "backward") => {
    let x = 0;
    for (const i of wire)
      if (i.group === "cp" && i.pass === pass) {
        const window = cpCallWindow({ kind: i.kind as CpCall["kind"], pass: i.pass, perUnit: i.perUnit }, attentionStep, plan.cp, attentionBackwardFactor(t));
        x += i.perUnit * cpCallExposed(i.kind as CpCall["kind"], callTime(i), window, cpSlowdown, t.engine?.contextParallel.gatherOverlapsStep);
      }
    return x;
  };
  const [cpFwd, cpBwd] = [cpPass("forward"), cpPass("backward")];
  const tpOf = (id: WireId, pass: "forward" | "backward") => (extras ? unitTime(wire, (i) => i.id === id && i.pass === pass) : 0);

  // Embedding (first stage): lookup read + write 2·2Th; learned positions read 2·2Th, write 2Th;
  // dropout read 2Th, write 2Th + a Th mask. Backward: read the 2Th gradient, scatter-add into the
  // rows (read + write 2·2Th), positions 2Th more. Its tp collectives: wire "tp-embedding".
  const embedFwd = 4 * T * h + ((m.positional === "learned" ? 6 : 0) + (m.dropout ? 5 : 0)) * T * h * spShare;
  const embedBwd = 6 * T * h + (m.positional === "learned" ? 2 * T * h : 0);
  const embedding: ParamOpCost = {
    forward: extras ? { compute: hbm(hw, embedFwd), tp: tpOf("tp-embedding", "forward") } : ZERO_PASS,
    backward: extras ? { compute: hbm(hw, embedBwd), tp: tpOf("tp-embedding", "backward") } : ZERO_PASS,
    recompute: ZERO_PASS,
    weightGrad: ZERO_PASS,
    bytes: 2 * ((vPad * h) / tp + (m.positional === "learned" ? positionRows(m, t.seqLen) * h : 0)),
  };
  // Output layer: its tp collectives are wire "tp-head"; the closed form leaves them out.
  const headOut: ParamOpCost = {
    // (the logits' all-gather where the stack gathers them, charged by the closed form too)
    forward: { compute: head.forward, tp: tpOf("tp-head", "forward") + unitTime(wire, (i) => i.id === "tp-logits") },
    backward: { compute: head.backward, tp: tpOf("tp-head", "backward") },
    // The MTP modules' blocks re-run before their backward, as the layers' (cost/moe-time.ts headWithMtp).
    recompute: recompute === "full" && head.recompute ? { compute: head.recompute.full, tp: 0 } : recompute === "selective" && head.recompute ? { compute: head.recompute.selective, tp: 0 } : ZERO_PASS,
    weightGrad: { compute: head.weightGrad, tp: 0 },
    bytes: 2 * ((m.tiedEmbeddings && pp === 1 ? 0 : (vPad * h) / tp) + finalNormParams(m)),
  };
  // (block recompute: each stage's share of its layers re-run, SimCosts.recomputeShare, infos.ts)
  const recomputePass: PassCost =
    recompute === "full" ? fullRecomputePass(1, layer.forward, tpLayer, epLayer, cpFwd) : recompute === "selective" ? { compute: layer.selectiveRecompute, tp: recomputeTpShare(m, t.engine, plan) * tpLayer, ...(recomputeEpPasses(m, t.engine, plan) === 3 ? { ep: epLayer } : {}) } : ZERO_PASS;
  // A layer's weights on this GPU: the stage's (dense and its share of the experts) per layer.
  const stageSplit = stageParamSplit(m, t.seqLen, tp, pp, m.layers / pp, pp === 1 ? "only" : "last", plan.ep, plan.etp);
  // (the layers alone: the stage less a stage of no layers, which holds only the output and MTP)
  const ends = stageParamSplit(m, t.seqLen, tp, pp, 0, "last", plan.ep, plan.etp);
  const layerBytes = m.moe
    ? (2 * (stageSplit.dense + stageSplit.expert - ends.dense - ends.expert - (pp === 1 ? embedding.bytes / 2 : 0))) / (m.layers / pp)
    : 2 * (layerMatrixParams(m) / tp + layerSmallParams(m));
  // Of which the routed experts' (1/(ep·etp) of each MoE layer's), reduced over edp, not dp·cp.
  const layerExpertBytes = m.moe ? (2 * (stageSplit.expert - ends.expert)) / (m.layers / pp) : 0;
  const layerCost: ParamOpCost = {
    forward: { compute: layer.forward, tp: tpLayer, ep: epLayer, cp: cpFwd },
    // (and, where the stack's column-parallel linears each reduce their input's gradient, those)
    backward: { compute: layer.backward, tp: tpLayer + exposedTensorParallel(unitTime(wire, (i) => i.id === "tp-input-grads"), t.engine), ep: epLayer, cp: cpBwd },
    recompute: recomputePass,
    weightGrad: { compute: layer.weightGrad, tp: 0 },
    bytes: layerBytes,
    expertBytes: layerExpertBytes,
  };

  // Pipeline: wire "pp-activation" on the pp group's link, then "pp-gather" on arrival.
  const ppInter = crossesNetwork(links.pp);
  const gather = unitTime(wire, (i) => i.id === "pp-gather");
  const [act] = byId("pp-activation");
  const p2p = act ? transfer((l) => p2pTime(act.bytes, l), act.link, ppInter, gather) : transfer(() => 0, links.pp.link, ppInter, gather);

  // ZeRO-3's collectives at the engine's share of the link's rate (wire.ts).
  const dpLink = plan.zero === 3 ? zero3Link(links.dp.link, t.engine) : links.dp.link;
  const dpInter = crossesNetwork(links.dp);
  // Gradients and ZeRO collectives span dp·cp (wire/wire.ts).
  const dpcp = dp * plan.cp;
  const dpCollective = (kind: CollectiveKind, bytes: number): Transfer =>
    transfer((l) => callTime({ kind, bytes, size: dpcp, link: l }), dpLink, dpInter);
  // (ZeRO-1/2 under FSDP: a reduce-scatter per unit, a layer's gradients, not 25 MB DDP buckets
  // each paying the ring's latency beside the backward — FSDP2 reduces per module whether or not
  // it reshards; the closed form's ZeRO-1 reduction is one collective, cost/time.ts. ZeRO-2 alone
  // gathers the weights again for every micro-batch.)
  const shardsPerLayer = t.engine?.dataParallel.shardedReducePerLayer === true;
  const perLayerBuckets = (plan.zero === 1 || plan.zero === 2) && shardsPerLayer;
  const regatherEachMicroBatch = plan.zero === 2 && shardsPerLayer;
  // The routed experts' collectives over edp, on the link and at the group size the wire gives
  // them (wire/expert-wire.ts; present where edp > 1).
  const [edpItem] = byId("edp-gradients");
  const expert: SimCosts["expert"] =
    edpItem && layerExpertBytes > 0
      ? {
          size: edpItem.size,
          collective: (kind, bytes) => transfer((l) => callTime({ kind, bytes, size: edpItem.size, link: l }), edpItem.link, crossesNetwork(links.edp)),
          gradScale: gradReduceBytes(t) / 2,
          weightGatherScale: 1,
          bucketBytes: opts.bucketBytes ?? (perLayerBuckets ? layerExpertBytes : engineBucketBytes(t.engine, dpcp)),
        }
      : null;
  const [tied] = byId("tied-embedding");
  // In a V both the embedding and the output layer sit on rank 0: nothing to all-reduce.
  const tiedEmbedding = tied && !vShape ? transfer((l) => callTime({ ...tied, link: l }), tied.link, ppInter) : null;

  const layersPerChunk = m.layers / (pp * vpp);
  const optimizer: number[] = [];
  const [normGrads] = byId("tp-norm-grads");
  for (let s = 0; s < pp; s++) {
    let bytes = (plan.stageLayers ? rankLayers(plan, m.layers, s) : layersPerChunk * vpp) * layerCost.bytes;
    if (s === 0) bytes += embedding.bytes;
    if (s === (vShape ? 0 : pp - 1)) bytes += headOut.bytes;
    const params = bytes / 2;
    // Experts' states shard over edp, not dp: a ZeRO rank owns 1/edp of its experts.
    const edp = edpOf({ tp, cp: plan.cp, dp, pp, ep: plan.ep, etp: plan.etp });
    const expertShare = m.moe ? stageSplit.expert / (stageSplit.dense + stageSplit.expert) : 0;
    // (BF16_Optimizer: its ZeRO-1-like shard and every micro-batch's fp32 accumulation, cost/time.ts)
    const bf16Opt = bf16Optimizer(t, plan.zero);
    const accumulate = bf16Opt ? fp32AccumulateTime(hw, params, microBatches) : 0;
    // (before the step, the stage's norm gradients all-reduced one tensor at a time: wire.ts tp-norm-grads)
    const held = rankHoldings(plan, m.layers, s);
    const norms = normGrads ? normTensorCount(m, held.layers, held.head) * callTime(normGrads) : 0;
    optimizer.push(optimizerTime(hw, plan.zero >= 1 || bf16Opt ? (params * (1 - expertShare)) / dpcp + (params * expertShare) / edp : params) + accumulate + norms);
  }
  return {
    schedule: pp === 1 ? "1f1b" : plan.schedule,
    pp,
    vpp,
    microBatches,
    layersPerChunk,
    ...(recompute === "full" && plan.recomputeLayers !== undefined ? { recomputeShare: Array.from({ length: pp }, (_, s) => fullRecomputeShare(plan, m.layers, s)) } : {}),
    ...(plan.stageLayers && pp > 1 ? { stageLayers: plan.stageLayers } : {}),
    layer: layerCost,
    embedding,
    head: headOut,
    p2p,
    dp: dpcp,
    zero: plan.zero,
    gatherUpdatedWeights: gathersUpdatedWeights(t, plan.zero),
    regather: plan.zero === 3 ? regatherFraction(m, plan.tp, t.engine, plan.recompute) : 0,
    overlapGradReduce: overlapsGradReduce(t, plan),
    // (ZeRO-1/2's weight gather overlaps with the reduction where the engine ties them, as
    // Megatron-LM asserts --overlap-param-gather needs --overlap-grad-reduce; ZeRO-3's prefetch is
    // the stack's own, apart from how it reduces gradients: FSDP's backward_prefetch, DeepSpeed's
    // stage3_prefetch_bucket_size)
    overlapParamGather: overlapsWeightGather(t, plan),
    prefetchLayers: prefetchLayers(t.engine),
    gatherCallsPerLayer: t.gatherCallsPerLayer ?? t.engine?.dataParallel.gatherCallsPerLayer ?? GATHER_CALLS_PER_LAYER,
    dpSlowdown: cpSlowdown,
    bucketBytes: opts.bucketBytes ?? (perLayerBuckets ? layerBytes - layerExpertBytes : engineBucketBytes(t.engine, dpcp)),
    gradScale: gradReduceBytes(t) / 2,
    weightGatherScale: plan.zero === 1 ? zero1GatherScale(t.engine) : 1,
    ...(plan.zero === 1 && t.engine?.dataParallel.zero1AllReduce === true ? { zero1AllReduce: true } : {}),
    ...(plan.zero === 1 && t.engine?.dataParallel.zero1BroadcastPerTensor === true ? { weightSyncCalls: Array.from({ length: pp }, (_, s) => chunkTensors(m, rankHoldings(plan, m.layers, s), pp)) } : {}),
    regatherEachMicroBatch,
    dpCollective,
    expert,
    tiedEmbedding,
    optimizer,
    blockingSends: opts.blockingSends ?? true,
  };
}

/** Uniform stages for checking schedules: every layer forward f, backward b (seconds), no
 *  embedding or head cost, no communication, no data parallelism, no optimizer time. */
export function uniformCosts(o: {
  schedule: Schedule;
  pp: number;
  vpp?: number;
  microBatches: number;
  forward: number;
  backward: number;
  /** The weight-gradient part of `backward` (default: half of it). */
  weightGrad?: number;
  layersPerChunk?: number;
}): SimCosts {
  const free: Transfer = { latency: 0, work: 0, post: 0, inter: true };
  const end: ParamOpCost = { forward: ZERO_PASS, backward: ZERO_PASS, recompute: ZERO_PASS, weightGrad: ZERO_PASS, bytes: 0 };
  return {
    schedule: o.schedule,
    pp: o.pp,
    vpp: o.schedule === "zbv" || o.schedule === "dualpipev" ? 2 : o.schedule === "interleaved" || o.schedule === "zb1p" ? (o.vpp ?? 1) : 1,
    microBatches: o.microBatches,
    layersPerChunk: o.layersPerChunk ?? 1,
    layer: {
      forward: { compute: o.forward, tp: 0 },
      backward: { compute: o.backward, tp: 0 },
      recompute: ZERO_PASS,
      weightGrad: { compute: o.weightGrad ?? o.backward / 2, tp: 0 },
      bytes: 0,
    },
    embedding: end,
    head: end,
    p2p: free,
    dp: 1,
    zero: 0,
    gatherUpdatedWeights: false,
    regather: 0,
    overlapGradReduce: true,
    overlapParamGather: true,
    prefetchLayers: 1,
    gatherCallsPerLayer: 1,
    dpSlowdown: 0,
    bucketBytes: Infinity,
    gradScale: 1,
    weightGatherScale: 1,
    regatherEachMicroBatch: false,
    dpCollective: () => free,
    expert: null,
    tiedEmbedding: null,
    optimizer: Array.from({ length: o.pp }, () => 0),
    blockingSends: true,
  };
}
