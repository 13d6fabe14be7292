// Which pipeline rank sets a mixture-of-experts model's step in the closed form. A pipeline
// advances at the pace of its slowest rank (Narayanan et al. 2021 §2.2; layout/stages.ts
// slowestStage), and a rank's time per micro-batch is its own layers' compute with their recompute
// plus the collectives each of its layers waits for: the tensor-parallel ones of every layer and
// the expert all-to-alls of its MoE layers only (formulas-scale §1.7, not overlapped: cost/time.ts).
// Its layers are its own stages' (layout/stages.ts rankHoldings): DeepSeek's first dense layers sit
// on rank 0, the multi-token-prediction modules (a MoE layer each) with the output layer, and with
// uneven stages the ranks hold different counts — so the rank with the most compute, the one with
// the most all-to-alls and the one with the output layer can differ, and the step is the largest
// of each rank's sum, not one rank's compute with another's all-to-alls.
import { moeLayersIn, mtpCount, rankMoeLayers } from "../moe.js";
import type { ModelSpec, Plan, Recompute } from "../types.js";
import type { HeadTimes, LayerTimes } from "./compute.js";
import { type LayerMix, averageLayer } from "./moe-time.js";
import { recomputedRankLayers } from "./block-recompute.js";

/** A rank's part of the step per micro-batch. */
export interface RankPace {
  index: number;
  /** Its layers. */
  layers: number;
  /** Its MoE layers with the MTP modules where it holds the output layer: its all-to-alls' count. */
  moeLayers: number;
  withHead: boolean;
  /** Its average layer (its dense and MoE layers; the MTP modules are in the head). */
  layer: LayerTimes;
  head: HeadTimes;
  fwd: number;
  bwd: number;
  /** Its recompute per micro-batch: its layers' and, with the output layer, the MTP blocks'. */
  recompute: number;
}

const NO_HEAD: HeadTimes = { forward: 0, backward: 0, weightGrad: 0 };

/** Recompute per micro-batch of `layers` average layers and, where held, the head's MTP blocks;
 *  under full recompute `recomputed` of them (the engine's block recompute, cost/block-recompute.ts). */
export function recomputeOf(recompute: Recompute, layers: number, layer: LayerTimes, head: HeadTimes, recomputed = layers): number {
  if (recompute === "full") return recomputed * layer.forward + (head.recompute?.full ?? 0);
  if (recompute === "selective") return layers * layer.selectiveRecompute + (head.recompute?.selective ?? 0);
  return 0;
}

/** Rank `rank`'s layers and their compute per micro-batch (`held`: its layers, MoE layers with the
 *  MTP modules, and whether it holds the output layer, moe.ts rankMoeLayers). */
export function rankPace(
  m: ModelSpec,
  plan: Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers" | "recompute" | "recomputeLayers">,
  mix: LayerMix,
  head: HeadTimes,
  rank: number,
  held: { layers: number; moeLayers: number; last: boolean } = rankMoeLayers(m, plan, rank),
): RankPace {
  const h = held.last ? head : NO_HEAD;
  const layer = averageLayer(mix, held.layers, held.moeLayers - (held.last ? mtpCount(m) : 0));
  const fwd = held.layers * layer.forward + h.forward;
  const bwd = held.layers * layer.backward + h.backward;
  return { index: rank, layers: held.layers, moeLayers: held.moeLayers, withHead: held.last, layer, head: h, fwd, bwd, recompute: recomputeOf(plan.recompute, held.layers, layer, h, recomputedRankLayers(plan, m.layers, rank)) };
}

/** Every rank's pace, first to last (one stage a rank with uneven stages: the split's running sum,
 *  not rankHoldings' O(rank) sum per rank; otherwise one per distinct holding). */
export function allRankPaces(m: ModelSpec, plan: Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers" | "recompute" | "recomputeLayers">, mix: LayerMix, head: HeadTimes): RankPace[] {
  const split = plan.stageLayers;
  if (split === undefined || split.length !== plan.pp) {
    // Ranks holding the same (layers, MoE layers, output layer) pace alike: one pace each, at the
    // latest such rank (pacingRank's ties), so an even split prices three or four, not p.
    const seen = new Map<number, RankPace>();
    for (let i = plan.pp - 1; i >= 0; i--) {
      const held = rankMoeLayers(m, plan, i);
      const key = (held.layers * 65536 + held.moeLayers) * 2 + (held.last ? 1 : 0);
      if (!seen.has(key)) seen.set(key, rankPace(m, plan, mix, head, i, held));
    }
    return [...seen.values()].reverse();
  }
  const out: RankPace[] = [];
  let from = 0;
  for (let i = 0; i < plan.pp; from += split[i]!, i++) {
    const last = i === plan.pp - 1;
    const held = { layers: split[i]!, moeLayers: moeLayersIn(m, from, from + split[i]!) + (last ? mtpCount(m) : 0), last };
    out.push(rankPace(m, plan, mix, head, i, held));
  }
  return out;
}

/** Per layer and pass, what the closed form charges on the critical path besides compute: the
 *  exposed tensor-parallel collectives of any layer, the expert collectives of an MoE layer. */
export interface LayerPassComm {
  tp: number;
  ep: number;
}

/** The rank with the largest compute, recompute and per-layer collectives per micro-batch (ties:
 *  the later, nearer the output layer, as layout/stages.ts slowestStage). Without `comm`: the rank
 *  with the most compute (the search's floor, cost/time.ts computeFloor). */
export function pacingRank(paces: readonly RankPace[], comm?: LayerPassComm, passes: { tp: number; ep: number } = { tp: 2, ep: 2 }, rankShare?: (rank: number) => number): RankPace {
  // (passes of each collective: 2, a third under full recompute, part of one where a selective
  // recompute re-runs an MLP or an MoE block: cost/module-recompute.ts; `rankShare`: each rank's
  // own part of a third under block recompute, cost/block-recompute.ts fullRecomputeShare)
  let best = paces[0]!;
  let most = -Infinity;
  for (let i = 0; i < paces.length; i++) {
    const r = paces[i]!;
    const x = rankShare ? rankShare(r.index) : 0;
    const s = r.fwd + r.bwd + r.recompute + (comm ? (passes.tp + x) * r.layers * comm.tp + (passes.ep + x) * r.moeLayers * comm.ep : 0);
    if (s >= most) [best, most] = [r, s];
  }
  return best;
}
