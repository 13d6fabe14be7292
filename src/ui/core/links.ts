// Which link each parallel group communicates over. Placement is tp innermost, then dp, then pp
// (global rank = t + tp·(d + dp·p)), so a tp group is tp consecutive ranks, a dp group dp ranks
// tp apart, a pp group pp ranks tp·dp apart. A group stays on the node's link (NVLink or PCIe)
// when all its ranks share a node; one that crosses nodes runs at the network's pace.
import type { Hardware, Plan } from "../../../planner/index.js";
import { bandwidth } from "../../format/units.js";

export type Group = "tp" | "pp" | "dp";
export type Span = "none" | "node" | "network" | "mixed";

export interface GroupLink {
  group: Group;
  size: number;
  /** Distance from a group's first to its last rank, plus one. */
  span: number;
  /** none: a group of one; node: every group inside a node; network: every group crosses nodes;
   *  mixed: some do (a ring runs at its slowest link). */
  where: Span;
  link: string;
  bandwidth: string;
}

export function groupShape(plan: Pick<Plan, "tp" | "pp" | "dp">, group: Group): { size: number; stride: number } {
  if (group === "tp") return { size: plan.tp, stride: 1 };
  if (group === "dp") return { size: plan.dp, stride: plan.tp };
  return { size: plan.pp, stride: plan.tp * plan.dp };
}

/** Whether the groups stay inside nodes of `gpusPerNode` ranks: every group is checked (a group's
 *  ranks ascend, so its first and last share a node exactly when all of them do). */
export function groupSpan(plan: Pick<Plan, "tp" | "pp" | "dp">, group: Group, gpusPerNode: number): Span {
  const { size, stride } = groupShape(plan, group);
  if (size <= 1) return "none";
  const world = plan.tp * plan.pp * plan.dp;
  const block = size * stride;
  let inside = 0;
  let across = 0;
  for (let base = 0; base < world; base += block) {
    for (let o = 0; o < stride; o++) {
      const first = base + o;
      const last = first + (size - 1) * stride;
      if (Math.floor(first / gpusPerNode) === Math.floor(last / gpusPerNode)) inside++;
      else across++;
    }
  }
  return across === 0 ? "node" : inside === 0 ? "network" : "mixed";
}

export function intraName(hw: Hardware): string {
  return hw.intra.kind === "nvlink" ? "NVLink" : "PCIe";
}

export function groupLink(hw: Hardware, plan: Pick<Plan, "tp" | "pp" | "dp">, group: Group): GroupLink {
  const { size, stride } = groupShape(plan, group);
  const where = groupSpan(plan, group, hw.gpusPerNode);
  const span = size <= 1 ? 1 : (size - 1) * stride + 1;
  if (where === "none") return { group, size, span, where, link: "—", bandwidth: "" };
  if (where === "node") return { group, size, span, where, link: intraName(hw), bandwidth: bandwidth(hw.intra.bandwidth) };
  return { group, size, span, where, link: where === "mixed" ? "network (some groups)" : "network", bandwidth: bandwidth(hw.inter.bandwidth) };
}

export const allGroupLinks = (hw: Hardware, plan: Pick<Plan, "tp" | "pp" | "dp">): GroupLink[] =>
  (["tp", "pp", "dp"] as const).map((g) => groupLink(hw, plan, g));
