// Which ranks form each parallel group, and which link each group's traffic crosses.
//
// Dense groups fold the world as tp innermost, then cp, then dp, then pp (Megatron-Core's
// RankGenerator order "tp-cp-ep-dp-pp" without ep; Llama 3 §3.3.2 places its 4D layout the same
// way, tp inside a node and dp outermost but for pp):
//   rank = t + tp·(c + cp·(d + dp·p)),   world = tp·cp·dp·pp
// Expert groups fold the same ranks again, etp innermost, then ep, then edp (Megatron-Core's MoE
// parallel folding, Liu et al. 2025 "MoE Parallel Folding", §3; torchtitan's expert parallel
// borrows dp·cp ranks the same way):
//   rank = et + etp·(e + ep·(ed + edp·p)),   world = etp·ep·edp·pp, so etp·ep·edp = tp·cp·dp
// Sharding groups: ZeRO / FSDP shard dense parameters over dp·cp (the ranks that hold the same
// dense weights: Megatron-Core's "dp-cp" group) and expert parameters over edp.
//
// Every group of one kind has the same shape: `size` members `stride` ranks apart, the groups
// tiling the world in blocks of size·stride ranks.
//
// The other order, tp-cp-pp-dp (Megatron-Core's --use-tp-pp-dp-mapping, "tp-cp-ep-pp-dp";
// Llama 3 §3.3.2's [TP, CP, PP, DP]), puts dp outermost:
//   rank = t + tp·(c + cp·(p + pp·d)),  experts  rank = et + etp·(e + ep·(p + pp·ed))
// Megatron-Core allows it only without cp and ep ("Make sure EP and CP aren't used with this
// option enabled", megatron/core/model_parallel_config.py), and so does place(): with cp or ep
// above 1 the default order holds. layout/order.ts decides when the search prices it.
import type { Hardware, Link, RankOrder } from "../types.js";
import { type Level, allToAllLink, fabricLink, levelOf, nodeLink, scaleUp, span } from "./fabric.js";
import { networkLink, ranksPerNode } from "./nic-share.js";

export type GroupName = "tp" | "cp" | "dp" | "pp" | "shard" | "etp" | "ep" | "edp";
export const GROUP_NAMES: readonly GroupName[] = ["tp", "cp", "dp", "pp", "shard", "etp", "ep", "edp"];

/** The parallel degrees of a layout (vpp and the micro-batch are not rank groups). */
export interface Degrees {
  tp: number;
  cp: number;
  dp: number;
  pp: number;
  /** Expert parallel and expert tensor parallel; expert data parallel follows (edp). */
  ep: number;
  etp: number;
}

export interface GroupShape {
  size: number;
  /** Distance in ranks between consecutive members. */
  stride: number;
}

/** none: a group of one rank; node: every group inside one node's NVLink (or PCIe) — with a
 *  fabric, inside one NVLink domain, which may span nodes (GB200 NVL72); network: every group
 *  leaves it; mixed: some do (a ring runs at its slowest link, so it prices as network). */
export type Span = "none" | "node" | "network" | "mixed";

export interface GroupPlacement extends GroupShape {
  name: GroupName;
  where: Span;
  /** The outermost fabric tier the group crosses (layout/fabric.ts): its link's level. */
  level: Level;
  /** The link the group's collectives run at: null for a group of one. */
  link: Link | null;
}

export type Placement = Record<GroupName, GroupPlacement>;

/** Expert data parallel: the expert groups fold onto the tp·cp·dp ranks of each stage. */
export const edpOf = (d: Degrees): number => (d.tp * d.cp * d.dp) / (d.etp * d.ep);

export const worldOf = (d: Pick<Degrees, "tp" | "cp" | "dp" | "pp">): number => d.tp * d.cp * d.dp * d.pp;

export const DEFAULT_ORDER: RankOrder = "tp-cp-dp-pp";

/** The order place() applies: tp-cp-pp-dp only without cp and ep (Megatron-Core's rule). */
export const effectiveOrder = (d: Degrees, order: RankOrder = DEFAULT_ORDER): RankOrder =>
  order === "tp-cp-pp-dp" && d.cp === 1 && d.ep === 1 && d.etp === 1 ? order : DEFAULT_ORDER;

export function groupShape(d: Degrees, g: GroupName, order: RankOrder = DEFAULT_ORDER): GroupShape {
  if (effectiveOrder(d, order) === "tp-cp-pp-dp") {
    // tp, pp (stride tp), dp outermost; cp = ep = etp = 1, so shard = dp and edp = tp·dp.
    if (g === "pp") return { size: d.pp, stride: d.tp * d.cp };
    if (g === "dp" || g === "shard") return { size: d.dp, stride: d.tp * d.cp * d.pp };
    if (g === "edp") return { size: edpOf(d), stride: d.etp * d.ep * d.pp };
  }
  switch (g) {
    case "tp":
      return { size: d.tp, stride: 1 };
    case "cp":
      return { size: d.cp, stride: d.tp };
    case "dp":
      return { size: d.dp, stride: d.tp * d.cp };
    case "shard":
      return { size: d.dp * d.cp, stride: d.tp };
    case "pp":
      return { size: d.pp, stride: d.tp * d.cp * d.dp };
    case "etp":
      return { size: d.etp, stride: 1 };
    case "ep":
      return { size: d.ep, stride: d.etp };
    case "edp":
      return { size: edpOf(d), stride: d.etp * d.ep };
  }
}

/** The ranks of every group of one kind (tests and the interactive planner's detail; the cost
 *  model needs only `span`). */
export function groupRanks(d: Degrees, g: GroupName, order: RankOrder = DEFAULT_ORDER): number[][] {
  const { size, stride } = groupShape(d, g, order);
  const world = worldOf(d);
  const out: number[][] = [];
  for (let base = 0; base < world; base += size * stride)
    for (let o = 0; o < stride; o++) out.push(Array.from({ length: size }, (_, k) => base + o + k * stride));
  return out;
}

export { span };

/** The link a group of this span runs at: the node's NVLink or PCIe when every group stays
 *  inside a node, else each GPU's share of the network (Narayanan et al. 2021 §3.3). */
export function spanLink(hw: Hardware, where: Span): Link | null {
  if (where === "none") return null;
  return where === "node" ? hw.intra : hw.inter;
}

/** Where every group of the layout sits and the link it gets. Without a fabric: inside a node
 *  or across the flat network. With one: on the tier it crosses (layout/fabric.ts). */
export function place(hw: Hardware, d: Degrees, order: RankOrder = DEFAULT_ORDER): Placement {
  const world = worldOf(d);
  const domain = scaleUp(hw);
  const out = {} as Placement;
  for (const name of GROUP_NAMES) {
    const shape = groupShape(d, name, order);
    const where = span(shape, world, domain);
    if (!hw.fabric) {
      // Across nodes a group with k ranks per node runs its collectives over k NICs (nic-share.ts);
      // a pipeline's p2p crosses each node boundary as one transfer, on one NIC; the experts'
      // all-to-all sends what leaves the node on each rank's own NIC (collectives.ts allToAllTime).
      const link =
        where === "network"
          ? name === "pp" ? hw.inter : name === "ep" ? allToAllLink(hw.inter, ranksPerNode(shape.size, shape.stride, hw.gpusPerNode), hw.intra) : networkLink(hw, shape.size, shape.stride)
          : where === "node" ? nodeLink(hw, shape, name === "pp") : spanLink(hw, where);
      out[name] = { name, ...shape, where, level: where === "none" ? "none" : where === "node" ? "node" : "network", link };
      continue;
    }
    const level = levelOf(shape, world, hw);
    out[name] = { name, ...shape, where, level, link: fabricLink(hw, shape, world, level, name === "pp" ? "chain" : name === "ep" ? "all-to-all" : "ring") };
  }
  return out;
}

/** The link of a group for pricing: a group of one has no traffic, any link will do. */
export function linkOf(p: GroupPlacement, hw: Hardware): Link {
  return p.link ?? hw.intra;
}
