// Which link each parallel group communicates over, as the planner's layout places it
// (planner/layout/groups.ts: tp innermost, then cp, then dp, then pp, or pp before dp in the
// plan's other order) and as the cost model
// prices it: a group stays on the node's link (NVLink or PCIe) when all its ranks share a node;
// one that crosses nodes runs at the network's pace, and so does a ring where only some groups do.
import { type Hardware, type Plan, type Span, degreesOf, groupShape, place } from "../../../planner/index.js";
import { type GroupPlacement, span as spanOf } from "../../../planner/layout/groups.js";
import { intraCap, ranksPerNode } from "../../../planner/layout/nic-share.js";
import { bandwidth, linkName } from "../../format/units.js";
import type { LinkKind } from "../../../planner/types.js";

export type Group = "tp" | "cp" | "pp" | "dp" | "ep";
export type { Span };

export interface GroupLink {
  group: Group;
  size: number;
  /** Distance from a group's first to its last rank, plus one. */
  span: number;
  /** none: a group of one; node: every group inside a node; network: every group crosses nodes;
   *  mixed: some do (a ring runs at its slowest link, and is priced so). */
  where: Span;
  link: string;
  /** Per GPU, as the plan's header says the network ("50.0 GB/s network per GPU"): "8×50.0 GB/s"
   *  where a group's k ranks on each node run over their k NICs together. */
  bandwidth: string;
}

/** A plan's degrees and rank order; cp, ep and etp absent are 1. */
type Dense = Pick<Plan, "tp" | "pp" | "dp" | "order"> & Partial<Pick<Plan, "cp" | "ep" | "etp">>;
const degrees = (p: Dense) => degreesOf({ cp: 1, ep: 1, etp: 1, ...p });

/** Whether the groups of one kind stay inside nodes of `gpusPerNode` ranks (in the plan's order). */
export function groupSpan(plan: Dense, group: Group, gpusPerNode: number): Span {
  return spanOf(groupShape(degrees(plan), group, plan.order), plan.tp * (plan.cp ?? 1) * plan.pp * plan.dp, gpusPerNode);
}

export function intraName(hw: Hardware): string {
  return linkName(hw.intra.kind as LinkKind);
}

export function groupLink(hw: Hardware, plan: Dense, group: Group): GroupLink {
  // With cp > 1 the gradients reduce over dp·cp (the "shard" group, planner/layout/groups.ts):
  // the dp row shows that group, the one the cost model prices.
  const g = place(hw, degrees(plan), plan.order)[group === "dp" && (plan.cp ?? 1) > 1 ? "shard" : group];
  const { size, stride, where } = g;
  const span = size <= 1 ? 1 : (size - 1) * stride + 1;
  if (where === "none") return { group, size, span, where, link: "—", bandwidth: "" };
  if (where === "node") return { group, size, span, where, link: intraName(hw), bandwidth: bandwidth(g.link!.bandwidth) };
  const bw = where === "network" ? networkBandwidth(hw, g) : bandwidth(g.link!.bandwidth);
  // A fabric's tiers (planner/layout/fabric.ts): the level the group crosses.
  const tier = g.level === "leaf" || g.level === "pod" ? ` (inside a ${g.level})` : hw.fabric?.pod ? " (across pods)" : "";
  return { group, size, span, where, link: (where === "mixed" ? "network (some groups)" : "network") + tier, bandwidth: bw };
}

/** A group across nodes, per GPU: a ring or tree with k ranks on each node runs over their k NICs
 *  together (planner/layout/nic-share.ts networkLink, fabric.ts fabricLink), said "8×50.0 GB/s",
 *  k times each GPU's, not their sum "400 GB/s" (QA read it against the header's 50.0 GB/s per
 *  GPU); capped by the node's link, the sum and why. A pipeline's p2p and the experts'
 *  all-to-all send on each GPU's own NIC. */
function networkBandwidth(hw: Hardware, g: GroupPlacement): string {
  const bw = g.link!.bandwidth;
  const k = g.name === "pp" || g.name === "ep" ? 1 : ranksPerNode(g.size, g.stride, hw.gpusPerNode);
  if (k === 1) return bandwidth(bw);
  const cap = intraCap(hw, k);
  if (bw === cap && cap < k * hw.inter.bandwidth) return `${bandwidth(bw)} (${k} NICs, capped by ${intraName(hw)})`;
  return `${k}×${bandwidth(bw / k)}`;
}

/** tp, cp when there is one (cp > 1: it may cross nodes, Llama 3 ran tp 8 × cp 16), pp, dp, and
 *  the expert-parallel group when there is one (MoE plans with ep > 1). */
export const allGroupLinks = (hw: Hardware, plan: Dense): GroupLink[] =>
  ([...((plan.cp ?? 1) > 1 ? (["tp", "cp"] as const) : (["tp"] as const)), "pp", "dp", ...((plan.ep ?? 1) > 1 ? (["ep"] as const) : [])] as Group[]).map((g) => groupLink(hw, plan, g));
