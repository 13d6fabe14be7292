// Which link each parallel group communicates over, as the planner's layout places it
// (planner/layout/groups.ts: tp innermost, then cp, then dp, then pp) and as the cost model
// prices it: a group stays on the node's link (NVLink or PCIe) when all its ranks share a node;
// one that crosses nodes runs at the network's pace, and so does a ring where only some groups do.
import { type Hardware, type Plan, type Span, degreesOf, groupShape, place } from "../../../planner/index.js";
import { span as spanOf } from "../../../planner/layout/groups.js";
import { bandwidth } from "../../format/units.js";

export type Group = "tp" | "pp" | "dp" | "ep";
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
  bandwidth: string;
}

/** A plan's degrees; cp, ep and etp absent are 1. */
type Dense = Pick<Plan, "tp" | "pp" | "dp"> & Partial<Pick<Plan, "cp" | "ep" | "etp">>;
const degrees = (p: Dense) => degreesOf({ cp: 1, ep: 1, etp: 1, ...p });

/** Whether the groups of one kind stay inside nodes of `gpusPerNode` ranks. */
export function groupSpan(plan: Dense, group: Group, gpusPerNode: number): Span {
  return spanOf(groupShape(degrees(plan), group), plan.tp * (plan.cp ?? 1) * plan.pp * plan.dp, gpusPerNode);
}

export function intraName(hw: Hardware): string {
  return hw.intra.kind === "nvlink" ? "NVLink" : "PCIe";
}

export function groupLink(hw: Hardware, plan: Dense, group: Group): GroupLink {
  const g = place(hw, degrees(plan))[group];
  const { size, stride, where } = g;
  const span = size <= 1 ? 1 : (size - 1) * stride + 1;
  if (where === "none") return { group, size, span, where, link: "—", bandwidth: "" };
  const bw = bandwidth(g.link!.bandwidth);
  if (where === "node") return { group, size, span, where, link: intraName(hw), bandwidth: bw };
  return { group, size, span, where, link: where === "mixed" ? "network (some groups)" : "network", bandwidth: bw };
}

/** tp, pp, dp, and the expert-parallel group when there is one (MoE plans with ep > 1). */
export const allGroupLinks = (hw: Hardware, plan: Dense): GroupLink[] =>
  ((plan.ep ?? 1) > 1 ? (["tp", "pp", "dp", "ep"] as const) : (["tp", "pp", "dp"] as const)).map((g) => groupLink(hw, plan, g));
