// What one training step puts on the wire, built once per plan: every collective and
// point-to-point transfer with its group, kind, message size, how often it runs, the link it
// crosses and the compute it may hide behind. The closed form prices it (cost/time.ts), the
// simulator plays it out (sim/costs.ts), the executor sums it into its predicted volumes
// (executor/comms.ts) and the interactive planner shows it.
import { recomputeTpShare } from "../cost/module-recompute.js";
import type { Link, ModelSpec, Plan, Training } from "../types.js";
import type { GroupName, Span } from "../layout/groups.js";
import { gatedMlp, layerMatrixParams, layerSmallParams, stageParamSplit, stageParamsPerGpu } from "../model.js";
import { BYTES_16, paddedVocab } from "./facts.js";
import { expertWire } from "./expert-wire.js";
import { mtpCount } from "../moe.js";
import { busiestRank, rankLayers } from "../layout/stages.js";
import { cpCalls } from "../cost/context.js";
import { regatherFraction } from "../cost/regather.js";
import { normTensorCount } from "../cost/param-tensors.js";
import { bf16Optimizer, gradReduceBytes, zero1GatherScale, zero3Link } from "../cost/engine-terms.js";

export type WireKind = "allReduce" | "allGather" | "reduceScatter" | "p2p" | "allToAll";

export type WireId =
  | "tp-layer"
  | "tp-embedding"
  | "tp-head"
  | "tp-logits"
  | "tp-norm-grads"
  | "tp-input-grads"
  | "pp-activation"
  | "pp-gather"
  | "tied-embedding"
  | "dp-gradients"
  | "dp-weights"
  | "zero3-gather-forward"
  | "zero3-gather-backward"
  | "zero3-reduce-scatter"
  | "zero3-gather-recompute"
  | "ep-dispatch"
  | "ep-combine"
  | "etp-gather"
  | "etp-scatter"
  | "edp-gradients"
  | "edp-weights"
  | "cp-kv-gather"
  | "cp-dkv-scatter"
  | "cp-kv-ring"
  | "cp-a2a-q-out"
  | "cp-a2a-kv";

/** The unit a call belongs to: per layer and pass (forward, backward, recompute), per pass of the
 *  embedding or the output layer, per chunk boundary crossed by a micro-batch (each way), per
 *  micro-batch, or per step. */
export type WireUnit = "layer-pass" | "embedding-pass" | "head-pass" | "boundary" | "microbatch" | "step";

export interface WireItem {
  id: WireId;
  group: GroupName;
  kind: WireKind;
  /** One call's message M, bytes on one rank (all-reduce: the buffer; all-gather: the gathered
   *  output; reduce-scatter: the input; p2p: the tensor sent). */
  bytes: number;
  /** Ranks taking part in one call (2 for a transfer). */
  size: number;
  link: Link;
  where: Span;
  unit: WireUnit;
  /** Calls per unit. */
  perUnit: number;
  /** For the embedding, the output layer and the cp exchange: the pass that makes the call
   *  (a cp "forward" item runs again in a full recompute); others run in every pass of their unit. */
  pass: "forward" | "backward" | "every";
  /** Calls per step on one rank of the stage the closed form prices (the slowest: the last). */
  calls: number;
  /** Compute the call may overlap: none (on the critical path), the forward or the backward. */
  hides: "none" | "forward" | "backward";
  /** Whether the closed form charges it (false: only the simulator plays it; see cost/time.ts). */
  closedForm: boolean;
  /** Bytes per step summed over every rank that issues the call (the executor's convention:
   *  a send and its receive both count). The embedding's and output layer's tp collectives,
   *  which the closed form leaves out, are left out here too (0). */
  worldBytes: number;
}

/** The groups' placement the wire needs: link and span of each group (layout/groups.ts). */
/** cpRing: the link one send of the cp ring crosses (a ring's hop between nodes runs on one
 *  GPU's NIC, where the cp group's collectives spread over every NIC its ranks have); cpA2a: the
 *  link of Ulysses' all-to-alls (what leaves the node on each rank's own NIC, as the experts'). */
export type WireLinks = Record<"tp" | "cp" | "cpRing" | "cpA2a" | "pp" | "dp" | "ep" | "etp" | "edp", { link: Link; where: Span }>;
export type WireGroup = keyof WireLinks;

/** Parameters on one rank of each pipeline stage, summed over the stages (one tp rank each). */
export function paramsOverStages(m: ModelSpec, seqLen: number, tp: number, pp: number): number {
  const layers = m.layers / pp;
  if (pp === 1) return stageParamsPerGpu(m, seqLen, tp, 1, layers, "only");
  const middle = layers * (layerMatrixParams(m) / tp + layerSmallParams(m));
  return stageParamsPerGpu(m, seqLen, tp, pp, layers, "first") + stageParamsPerGpu(m, seqLen, tp, pp, layers, "last") + (pp - 2) * middle;
}

/** Routed-expert parameters on one rank of each stage, summed over the stages (ep·etp ranks share
 *  a layer's experts). */
export function expertParamsOverStages(m: ModelSpec, seqLen: number, plan: Plan): number {
  // Every stage's rank holds 1/(ep·etp) of its layers' experts: over the stages, that of all layers
  // (and the MTP modules), as one stage holding the whole model would.
  return stageParamSplit(m, seqLen, plan.tp, 1, m.layers, "only", plan.ep, plan.etp).expert;
}

export function wireOf(m: ModelSpec, t: Training, plan: Plan, links: WireLinks): WireItem[] {
  const { tp, pp, dp, vpp, zero, microBatch: b, sequenceParallel: sp, recompute } = plan;
  const cp = plan.cp;
  const microBatches = t.globalBatch / (dp * b);
  // The per-layer collectives of the rank with the most layers (uneven stages: the fullest, whose
  // compute also sets the pace, cost/time.ts; vpp > 1 its virtual stages together).
  const layersInStage = rankLayers(plan, m.layers, busiestRank(plan, m.layers));
  // One micro-batch's b·s·h activation, on one cp rank its s/cp tokens (context parallel splits
  // every tensor outside attention by sequence: Megatron-Core context_parallel.md).
  const act = (BYTES_16 * b * t.seqLen * m.hidden) / cp;
  const out: WireItem[] = [];
  // One object shape for every item (the search builds a wire for each plan it ranks).
  const item = (i: Omit<WireItem, "link" | "where" | "pass"> & { on: WireGroup; pass?: WireItem["pass"]; link?: Link }) => {
    const l = links[i.on];
    out.push({
      id: i.id, group: i.group, kind: i.kind, bytes: i.bytes, size: i.size, link: i.link ?? l.link, where: l.where, unit: i.unit,
      perUnit: i.perUnit, pass: i.pass ?? "every", calls: i.calls, hides: i.hides, closedForm: i.closedForm, worldBytes: i.worldBytes,
    });
  };

  if (tp > 1) {
    // Shoeybi et al. 2019 §3: 2 all-reduces of b·s·h per layer forward (f and g operators) and 2
    // backward, 2 more when the forward is recomputed; sequence parallelism turns each into an
    // all-gather plus a reduce-scatter of the same tensor, at the same ring cost (Korthikanti et
    // al. 2022 §4.2.2). On the critical path.
    // (a selective recompute's re-run MLP or shared experts: part of a pass, averaged over the
    // layers, cost/module-recompute.ts recomputeTpShare)
    const passes = 2 + recomputeTpShare(m, t.engine, plan);
    const calls = microBatches * layersInStage * passes * 2;
    const worldBytes = tp * cp * dp * m.layers * microBatches * passes * 2 * act;
    const kinds: WireKind[] = sp ? ["allGather", "reduceScatter"] : ["allReduce"];
    for (let k = 0; k < kinds.length; k++)
      item({ id: "tp-layer", group: "tp", on: "tp", kind: kinds[k]!, bytes: act, size: tp, unit: "layer-pass", perUnit: 2, calls, hides: "none", closedForm: true, worldBytes });
    // The input embedding all-reduces its output (reduce-scatters under sequence parallelism) and,
    // under sequence parallelism, all-gathers the gradient back; the output layer all-gathers its
    // input (SP) and all-reduces or reduce-scatters the input gradient (Megatron-LM
    // VocabParallelEmbedding, ColumnParallelLinear). The closed form leaves these out; the step's
    // volumes count them, each on its stage's t·cp·dp ranks every micro-batch.
    // (a learned-position model under a stack that adds the positions to the whole output first
    // all-reduces it, then splits it: Engine.tensorParallel.learnedEmbeddingAllReduce)
    const wholeEmbedding = m.positional === "learned" && t.engine?.tensorParallel.learnedEmbeddingAllReduce === true;
    const embed: [WireKind, "forward" | "backward"][] = sp ? [[wholeEmbedding ? "allReduce" : "reduceScatter", "forward"], ["allGather", "backward"]] : [["allReduce", "forward"]];
    const head: [WireKind, "forward" | "backward"][] = sp ? [["allGather", "forward"], ["reduceScatter", "backward"]] : [["allReduce", "backward"]];
    for (let k = 0; k < embed.length; k++)
      item({ id: "tp-embedding", group: "tp", on: "tp", kind: embed[k]![0], pass: embed[k]![1], bytes: act, size: tp, unit: "embedding-pass", perUnit: 1, calls: pp === 1 ? microBatches : 0, hides: "none", closedForm: false, worldBytes: tp * cp * dp * microBatches * act });
    for (let k = 0; k < head.length; k++)
      item({ id: "tp-head", group: "tp", on: "tp", kind: head[k]![0], pass: head[k]![1], bytes: act, size: tp, unit: "head-pass", perUnit: 1, calls: microBatches, hides: "none", closedForm: false, worldBytes: tp * cp * dp * microBatches * act });
    // A stack that gathers the logits to the whole vocabulary for its loss (Engine.tensorParallel
    // .gathersLogits: DTensor's Replicate output) all-gathers each micro-batch's 16-bit b·s·V on
    // the last stage, and nothing in the backward (the gradient's V/t slice is local). Charged by
    // the closed form on the stage with the output layer (cost/time.ts).
    if (t.engine?.tensorParallel.gathersLogits) {
      const logits = (BYTES_16 * b * t.seqLen * paddedVocab(m.vocab, tp)) / cp;
      item({ id: "tp-logits", group: "tp", on: "tp", kind: "allGather", pass: "forward", bytes: logits, size: tp, unit: "head-pass", perUnit: 1, calls: microBatches, hides: "none", closedForm: true, worldBytes: tp * cp * dp * microBatches * logits });
    }
    // Without sequence parallelism, a stack whose column-parallel linears each all-reduce their
    // input's gradient (Engine.tensorParallel.inputGradPerLinear) runs, per layer backward, one
    // for each of q, k, v and the MLP's input linears beyond the two the f operators count.
    if (!sp && t.engine?.tensorParallel.inputGradPerLinear) {
      const extra = 3 + (gatedMlp(m) ? 2 : 1) - 2;
      item({ id: "tp-input-grads", group: "tp", on: "tp", kind: "allReduce", pass: "backward", bytes: act, size: tp, unit: "layer-pass", perUnit: extra, calls: microBatches * layersInStage * extra, hides: "none", closedForm: true, worldBytes: tp * cp * dp * m.layers * microBatches * extra * act });
    }
    // Where the stack all-reduces each replicated norm tensor's partial gradient on its own once a
    // step (Engine.tensorParallel.normGradsPerTensor, under sequence parallelism): h elements at
    // the gradients' type.
    const g = gradReduceBytes(t);
    if (sp && t.engine?.tensorParallel.normGradsPerTensor) {
      const bytes = g * m.hidden;
      item({ id: "tp-norm-grads", group: "tp", on: "tp", kind: "allReduce", bytes, size: tp, unit: "step", perUnit: 1, calls: normTensorCount(m, layersInStage, pp === 1), hides: "none", closedForm: true, worldBytes: tp * cp * dp * normTensorCount(m, m.layers, true) * bytes });
    }
  }

  if (pp > 1) {
    // Narayanan et al. 2021 §2.2, §4.1: per micro-batch and virtual chunk the activation goes
    // forward and its gradient back; each tp rank sends 1/t of it and the tp group all-gathers it
    // on arrival (scatter/gather), unneeded under sequence parallelism (already split).
    const calls = 2 * vpp * microBatches;
    // In a V (zbv, dualpipev) the turn from stage pp−1 to pp stays on the last rank.
    const vShape = plan.schedule === "zbv" || plan.schedule === "dualpipev";
    const crossings = 2 * (pp * vpp - 1 - (vShape ? 1 : 0)) * microBatches * dp * cp; // boundaries × ways × micro-batches × replicas × cp ranks
    item({ id: "pp-activation", group: "pp", on: "pp", kind: "p2p", bytes: act / tp, size: 2, unit: "boundary", perUnit: 1, calls, hides: "none", closedForm: true,
      worldBytes: 2 * crossings * act });
    if (!sp && tp > 1)
      item({ id: "pp-gather", group: "tp", on: "tp", kind: "allGather", bytes: act, size: tp, unit: "boundary", perUnit: 1, calls, hides: "none", closedForm: true,
        worldBytes: crossings * tp * act });
    // Tied embeddings: the first and last stage all-reduce the embedding gradient once a step (in
    // a V, zbv and dualpipev, both are on rank 0: nothing crosses the wire), at the type the
    // gradient is kept in: Megatron-LM's main_grad (fp32 under bf16: training.py @ v2.6
    // allreduce of main_grad; finalize_model_grads in core), DeepSpeed BF16_Optimizer's fp32
    // _hp_grad (pipe/engine.py _exec_reduce_tied_grads @ v0.6.5).
    // (and the MTP stage's embedding copy, kept in sync the same way: model.ts stageParamSplit)
    if ((m.tiedEmbeddings || mtpCount(m) > 0) && plan.schedule !== "zbv" && plan.schedule !== "dualpipev") {
      const gradBytes = bf16Optimizer(t, zero) ? 4 : gradReduceBytes(t);
      const bytes = (gradBytes * paddedVocab(m.vocab, tp) * m.hidden) / tp;
      item({ id: "tied-embedding", group: "pp", on: "pp", kind: "allReduce", bytes, size: 2, unit: "step", perUnit: 1, calls: 1, hides: "none", closedForm: true,
        worldBytes: 2 * tp * cp * dp * bytes });
    }
  }

  // Expert parallel: the all-to-alls and the experts' own data-parallel collectives (expert-wire.ts).
  if (m.moe !== undefined) expertWire(m, t, plan, item, links.ep.link);

  // Context parallel: the K/V exchange of every layer on the cp group (cost/context.ts).
  if (cp > 1) {
    // forward passes per layer (full recompute runs it again; block recompute a share of layers)
    const passes = recompute === "full" ? 1 + recomputeTpShare(m, t.engine, plan) : 1;
    const layerPasses = microBatches * layersInStage;
    for (const c of cpCalls(m, t, plan)) {
      const id: WireId = c.what === "kv" ? (c.kind === "p2p" ? "cp-kv-ring" : "cp-kv-gather") : c.what === "dkv" ? "cp-dkv-scatter" : c.what === "q-out" ? "cp-a2a-q-out" : "cp-a2a-kv";
      // One item per pass (forward, re-run by full recompute; backward), as their counts differ.
      // A ring send counts once per sender (as pp-activation counts its sends).
      for (const pass of ["forward", "backward"] as const) {
        const perUnit = pass === "forward" ? c.forward : c.backward;
        if (perUnit === 0) continue;
        const perLayer = (pass === "forward" ? passes : 1) * perUnit;
        item({ id, group: "cp", on: c.kind === "p2p" ? "cpRing" : c.kind === "allToAll" ? "cpA2a" : "cp", kind: c.kind, pass, bytes: c.bytes, size: c.kind === "p2p" ? 2 : cp, unit: "layer-pass", perUnit, calls: layerPasses * perLayer,
          hides: c.kind === "p2p" ? pass : "none", closedForm: true,
          // every rank of every stage, each layer; a ring send and its receive both count
          worldBytes: tp * cp * dp * m.layers * microBatches * perLayer * c.bytes * (c.kind === "p2p" ? 2 : 1) });
      }
    }
  }

  // Gradient reduction and ZeRO sharding span dp·cp (the ranks that hold the same dense weights:
  // groups.ts "shard", Megatron-Core's dp-cp group); with cp = 1 it is the dp group.
  const dpcp = dp * cp;
  if (dpcp > 1) {
    // 16-bit gradients (and weights) of the stage: the last one for the closed form. The routed
    // experts' are reduced over edp instead (expert-wire.ts).
    const grad = BYTES_16 * stageParamSplit(m, t.seqLen, tp, pp, layersInStage, pp === 1 ? "only" : "last", plan.ep, plan.etp).dense;
    const world = dpcp * tp * BYTES_16 * (paramsOverStages(m, t.seqLen, tp, pp) - (m.moe ? expertParamsOverStages(m, t.seqLen, plan) : 0));
    // Gradients travel at the engine's reduce precision (fp32 under Megatron-LM's bf16 default,
    // arguments.py accumulate_allreduce_grads_in_fp32); weights at 16 bits.
    const g = gradReduceBytes(t) / BYTES_16;
    // ZeRO-3's collectives at the share of the link's rate the stack reaches (Engine.dataParallel).
    const link = zero === 3 ? zero3Link(links.dp.link, t.engine) : links.dp.link;
    const dpItem = (id: WireId, kind: WireKind, unit: WireUnit, n: number, hides: WireItem["hides"], scale = 1) =>
      item({ id, group: "dp", on: "dp", kind, bytes: scale * grad, size: dpcp, unit, perUnit: 1, calls: n, hides, closedForm: true, worldBytes: n * scale * world, link });
    if (zero === 0) {
      // DDP: one bucketed all-reduce of the gradients overlapping the last backward (Li et al. 2020).
      dpItem("dp-gradients", "allReduce", "step", 1, "backward", g);
      // DeepSpeed's BF16_Optimizer all-reduces its fp32 gradients cast to bf16 (engine.py
      // allreduce_bucket, communication_data_type), steps its shard and all-gathers the updated
      // bf16 weights (bf16_optimizer.py step, all_gather_dp_groups @ v0.6.5).
      if (bf16Optimizer(t, zero)) dpItem("dp-weights", "allGather", "step", 1, "forward");
    } else if (zero <= 2) {
      // ZeRO-1 reduce-scatters once a step, ZeRO-2 every micro-batch (Rajbhandari et al. 2020
      // §5.2); both all-gather the updated 16-bit weights ahead of the next forward.
      // (a stack that shards only the optimizer all-reduces them whole: ZeroRedundancyOptimizer
      // beside DDP, Engine.dataParallel.zero1AllReduce)
      const reduce = zero === 1 && t.engine?.dataParallel.zero1AllReduce === true ? "allReduce" : "reduceScatter";
      dpItem("dp-gradients", reduce, zero === 2 ? "microbatch" : "step", zero === 2 ? microBatches : 1, "backward", g);
      // A stack that shards per unit reshards after every backward (FSDP's SHARD_GRAD_OP; FSDP2's
      // reshard_after_backward), so each micro-batch's forward gathers the weights again.
      if (zero === 2 && t.engine?.dataParallel.shardedReducePerLayer === true) dpItem("dp-weights", "allGather", "microbatch", microBatches, "forward");
      else dpItem("dp-weights", "allGather", "step", 1, "forward", zero === 1 ? zero1GatherScale(t.engine) : 1);
    } else {
      // ZeRO-3 / FSDP: weights gathered for every forward and backward, gradients reduce-scattered
      // every micro-batch: 1.5× the all-reduce volume (Rajbhandari et al. 2020 §7.2.2).
      dpItem("zero3-gather-forward", "allGather", "microbatch", microBatches, "forward");
      dpItem("zero3-gather-backward", "allGather", "microbatch", microBatches, "backward");
      // Gathered again after a recomputed forward where the stack releases them (cost/regather.ts).
      const again = regatherFraction(m, tp, t.engine, recompute);
      if (again > 0)
        item({ id: "zero3-gather-recompute", group: "dp", on: "dp", kind: "allGather", bytes: again * grad, size: dpcp, unit: "microbatch", perUnit: 1, calls: microBatches, hides: "backward", closedForm: true, worldBytes: microBatches * again * world, link });
      dpItem("zero3-reduce-scatter", "reduceScatter", "microbatch", microBatches, "backward", g);
    }
  }
  return out;
}

/** Bytes of one step by collective kind over every rank (the executor's predicted volumes). */
export function worldVolumes(items: readonly WireItem[]): Partial<Record<WireKind, number>> {
  const out: Partial<Record<WireKind, number>> = {};
  for (const i of items) if (i.worldBytes > 0) out[i.kind] = (out[i.kind] ?? 0) + i.worldBytes;
  return out;
}

/** Links for a wire whose bytes alone are wanted (volumes do not depend on the links). */
const NOWHERE = { link: { kind: "network", bandwidth: 1, latency: 0, efficiency: 1 }, where: "none" } as const;
const UNPRICED: WireLinks = Object.freeze({ tp: NOWHERE, cp: NOWHERE, cpRing: NOWHERE, cpA2a: NOWHERE, pp: NOWHERE, dp: NOWHERE, ep: NOWHERE, etp: NOWHERE, edp: NOWHERE });

/** The plan's wire for its bytes alone (worldBytes, bytes), unpriced. */
export const stepWire = (m: ModelSpec, t: Training, plan: Plan) => wireOf(m, t, plan, UNPRICED);

/** One step's bytes by kind over every rank, from the plan's wire. */
export const stepVolumes = (m: ModelSpec, t: Training, plan: Plan) => worldVolumes(stepWire(m, t, plan));
