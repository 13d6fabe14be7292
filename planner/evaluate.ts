// One plan → its memory, time and throughput. Pure: (model, hardware, training, plan) → result.
import { headTimes } from "./cost/compute.js";
import { headWithMtp, moeLayerMix, stageLayerTimes } from "./cost/moe-time.js";
import { modelFlopsPerStep, recomputeFlopsPerStep } from "./cost/flops.js";
import { stageMemory } from "./cost/memory.js";
import { type MicroBatchCosts, stepTime } from "./cost/time.js";
import { paddedVocab } from "./model.js";
import { type GroupName, type Placement, linkOf, place } from "./layout/groups.js";
import { allToAllLink, nodeLink, scaleUp } from "./layout/fabric.js";
import { ranksPerNode } from "./layout/nic-share.js";
import { degreesOf } from "./layout/layout.js";
import type { WireLinks } from "./wire/wire.js";
import type { Hardware, MemoryBreakdown, ModelSpec, Plan, PlanResult, Training, WorstStage } from "./types.js";
import { fullestStage } from "./cost/stage-memory.js";
import { stageKind } from "./layout/stages.js";
import { eagerRun, runsAs } from "./eager.js";

/** Links of the plan's groups for the wire (layout/groups.ts): tp, pp, dp and the expert groups. */
export function wireLinks(hw: Hardware, placement: Placement): WireLinks {
  const at = (g: GroupName) => ({ link: linkOf(placement[g], hw), where: placement[g].where });
  // Gradients reduce over dp·cp, the "shard" group (the dp group when cp = 1).
  // The cp ring's sends: a hop that leaves the node (or NVLink domain) runs on one GPU's NIC
  // (Ring Attention §3 prices a host's link; hw.inter is one GPU's share of the network).
  // Inside the node a hop goes between two GPUs: on an Infinity Fabric mesh the one link between
  // them, not the ring's n − 1 (layout/fabric.ts nodeLink).
  const cp = at("cp");
  const cpRing = cp.where === "none" ? cp : cp.where === "node" ? { link: nodeLink(hw, placement.cp, true), where: cp.where } : { link: hw.inter, where: cp.where };
  // Ulysses' all-to-alls: what leaves the node (or NVLink domain) goes on each rank's own NIC, as
  // the experts' (cost/collectives.ts allToAllTime; the cp link spreads a ring over k NICs).
  const c = placement.cp;
  const cpA2a = cp.where === "node" || cp.where === "none" ? cp : { link: allToAllLink({ ...hw.inter, latency: cp.link.latency }, ranksPerNode(c.size, c.stride, scaleUp(hw))), where: cp.where };
  return { tp: at("tp"), cp, cpRing, cpA2a, pp: at("pp"), dp: at("shard"), ep: at("ep"), etp: at("etp"), edp: at("edp") };
}

export function microBatchCosts(
  m: ModelSpec,
  hw: Hardware,
  t: Training,
  plan: Plan,
  placement: Placement = place(hw, degreesOf(plan), plan.order),
): MicroBatchCosts {
  const { tp, microBatch } = plan;
  // The last (slowest) stage's average layer, dense and MoE layers together (cost/moe-time.ts);
  // its output layer with the multi-token-prediction modules after it. An MoE model's two layers
  // apart, for each rank's own mix (cost/pace.ts).
  const mix = moeLayerMix(m, hw, t, plan);
  return {
    layer: stageLayerTimes(m, hw, t, plan, mix),
    head: headWithMtp(m, hw, t, plan, headTimes(m, hw, t, tp, microBatch, plan.cp)),
    links: wireLinks(hw, placement),
    ...(mix !== undefined ? { mix } : {}),
  };
}

/** Worst stage for memory: with a pipeline the first stage holds the most activations and the
 *  embedding, the last the output head and logits; compare both. With uneven stages every stage
 *  is checked (cost/stage-memory.ts); `index` names it (0-based). */
export function worstStageMemory(
  m: ModelSpec,
  hw: Hardware,
  t: Training,
  plan: Plan,
): { memory: MemoryBreakdown; stage: WorstStage; index?: number } {
  if (plan.pp === 1) return { memory: stageMemory(m, hw, t, plan, "only"), stage: "only" };
  if (plan.stageLayers !== undefined) {
    const { memory, index } = fullestStage(m, hw, t, plan);
    return { memory, stage: stageKind(index, plan.pp) as WorstStage, index };
  }
  const first = stageMemory(m, hw, t, plan, "first");
  const last = stageMemory(m, hw, t, plan, "last");
  return first.total >= last.total ? { memory: first, stage: "first" } : { memory: last, stage: "last" };
}

/** Peak dense FLOP/s for the precision the matmuls run in (MFU's denominator, Chowdhery et al.
 *  2022 App. B). */
export function peakFlops(hw: Hardware, t: Training): number {
  if (t.precision === "fp8") return hw.peak.fp8 ?? hw.peak.bf16;
  return t.precision === "fp16" ? hw.peak.fp16 : hw.peak.bf16;
}

/** The plan's figures under `asked`, or under its engine's eager engine where that engine runs
 *  the plan eager (planner/eager.ts; then `eager` says so). `costs` and `memory`, where given,
 *  are the plan's as it runs (the search's). */
export function evaluatePlan(
  m: ModelSpec,
  hw: Hardware,
  asked: Training,
  plan: Plan,
  costs?: MicroBatchCosts,
  memory?: ReturnType<typeof worstStageMemory>,
): PlanResult {
  const t = runsAs(m, asked, plan);
  costs ??= microBatchCosts(m, hw, t, plan);
  memory ??= worstStageMemory(m, hw, t, plan);
  const eager = t === asked ? null : eagerRun(m, asked, plan);
  const time = stepTime(m, hw, t, plan, costs);
  const tokensPerSecond = (t.globalBatch * t.seqLen) / time.step;
  // Model FLOPs (Narayanan et al. 2021 Eq. 3 convention) with the padded vocabulary the GPUs
  // actually multiply by; hardware FLOPs add what recomputation re-runs (Korthikanti et al. §6).
  const modelFlops = modelFlopsPerStep(m, t, paddedVocab(m.vocab, plan.tp));
  const hwFlops = modelFlops + recomputeFlopsPerStep(m, t, plan.recompute, plan);
  const peak = peakFlops(hw, t);
  const perGpu = modelFlops / (time.step * t.gpus);
  return {
    ...plan,
    memory: memory.memory,
    time,
    tokensPerSecond,
    tflopsPerGpu: perGpu / 1e12,
    mfu: perGpu / peak,
    hfu: hwFlops / (time.step * t.gpus) / peak,
    worstStage: memory.stage,
    ...(memory.index !== undefined ? { worstStageIndex: memory.index } : {}),
    modelFlopsPerStep: modelFlops,
    ...(eager !== null ? { eager } : {}),
  };
}
