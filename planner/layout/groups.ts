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
import type { Hardware, Link } from "../types.js";
import { networkLink } from "./nic-share.js";

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

/** none: a group of one rank; node: every group inside one node; network: every group crosses
 *  nodes; mixed: some do (a ring runs at its slowest link, so it prices as network). */
export type Span = "none" | "node" | "network" | "mixed";

export interface GroupPlacement extends GroupShape {
  name: GroupName;
  where: Span;
  /** The link the group's collectives run at: null for a group of one. */
  link: Link | null;
}

export type Placement = Record<GroupName, GroupPlacement>;

/** Expert data parallel: the expert groups fold onto the tp·cp·dp ranks of each stage. */
export const edpOf = (d: Degrees): number => (d.tp * d.cp * d.dp) / (d.etp * d.ep);

export const worldOf = (d: Pick<Degrees, "tp" | "cp" | "dp" | "pp">): number => d.tp * d.cp * d.dp * d.pp;

export function groupShape(d: Degrees, g: GroupName): GroupShape {
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
export function groupRanks(d: Degrees, g: GroupName): number[][] {
  const { size, stride } = groupShape(d, g);
  const world = worldOf(d);
  const out: number[][] = [];
  for (let base = 0; base < world; base += size * stride)
    for (let o = 0; o < stride; o++) out.push(Array.from({ length: size }, (_, k) => base + o + k * stride));
  return out;
}

/** Whether the groups of one shape stay inside nodes of `perNode` ranks. A group's ranks ascend,
 *  so its first and last share a node exactly when all of them do. Blocks that tile the nodes
 *  answer at once; otherwise every group is looked at (at most world / size of them). */
export function span(shape: GroupShape, world: number, perNode: number): Span {
  const { size, stride } = shape;
  if (size <= 1) return "none";
  const block = size * stride;
  if (block <= perNode && perNode % block === 0) return "node";
  if (stride % perNode === 0) return "network";
  let inside = 0;
  let across = 0;
  for (let base = 0; base < world; base += block) {
    for (let o = 0; o < stride; o++) {
      const first = base + o;
      const last = first + (size - 1) * stride;
      if (Math.floor(first / perNode) === Math.floor(last / perNode)) inside++;
      else across++;
      if (inside > 0 && across > 0) return "mixed";
    }
  }
  return across === 0 ? "node" : "network";
}

/** The link a group of this span runs at: the node's NVLink or PCIe when every group stays
 *  inside a node, else each GPU's share of the network (Narayanan et al. 2021 §3.3). */
export function spanLink(hw: Hardware, where: Span): Link | null {
  if (where === "none") return null;
  return where === "node" ? hw.intra : hw.inter;
}

export function place(hw: Hardware, d: Degrees): Placement {
  const world = worldOf(d);
  const out = {} as Placement;
  for (const name of GROUP_NAMES) {
    const shape = groupShape(d, name);
    const where = span(shape, world, hw.gpusPerNode);
    const link = where === "network" ? networkLink(hw, shape.size, shape.stride) : spanLink(hw, where);
    out[name] = { name, ...shape, where, link };
  }
  return out;
}

/** The link of a group for pricing: a group of one has no traffic, any link will do. */
export function linkOf(p: GroupPlacement, hw: Hardware): Link {
  return p.link ?? hw.intra;
}
