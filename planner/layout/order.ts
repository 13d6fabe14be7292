// Which rank orders the search prices, and why it kept the one it did.
//
// Megatron-Core numbers ranks tp-cp-ep-dp-pp by default and tp-cp-ep-pp-dp with
// --use-tp-pp-dp-mapping (megatron/core/parallel_state.py RankGenerator; model_parallel_config.py
// use_tp_pp_dp_mapping, "Make sure EP and CP aren't used with this option enabled"); Llama 3
// orders [TP, CP, PP, DP] innermost to outermost (Llama Team 2024 §3.3.2) and keeps each job's
// traffic inside its 3,072-GPU pods where it can (§3.3.1). Which is faster depends on which group
// carries more bytes across the oversubscribed tier: dp outermost puts the gradient collectives
// there, pp outermost the activations. On a flat network only the node boundary differs, and the
// profiles without a fabric keep the one order they were calibrated with.
import type { Hardware, Link, RankOrder } from "../types.js";
import { type Degrees, DEFAULT_ORDER, type GroupPlacement, type Placement, effectiveOrder, place } from "./groups.js";

export const RANK_ORDERS: readonly RankOrder[] = ["tp-cp-dp-pp", "tp-cp-pp-dp"];

export interface PricedOrder {
  order: RankOrder;
  placement: Placement;
}

const sameLink = (a: GroupPlacement, b: GroupPlacement) =>
  a.level === b.level && (a.link === b.link || (a.link !== null && b.link !== null && a.link.bandwidth === b.link.bandwidth && a.link.latency === b.link.latency));

/** Whether the profile's fabric has a tier beyond the node and one flat network (a larger NVLink
 *  domain, a leaf, pods, SHARP): only there does the search price both rank orders and name the
 *  one it kept. A fabric of NVLS alone (DGX H100) reduces inside the node and leaves the network
 *  flat: one order, as without a fabric. */
export const ordersMatter = (hw: Pick<Hardware, "fabric" | "gpusPerNode">): boolean => {
  const f = hw.fabric;
  return f !== undefined && (f.nvlinkDomain > hw.gpusPerNode || f.leaf !== null || f.pod !== null || f.sharp !== null);
};

/** The orders worth pricing for these degrees, each with its placement: both where the profile
 *  has a fabric with tiers (ordersMatter), dp and pp are both above 1, Megatron-Core allows the
 *  other order (no cp, no ep) and the two put dp or pp on different links; otherwise the default
 *  alone. */
export function ordersToPrice(hw: Hardware, d: Degrees): PricedOrder[] {
  const first: PricedOrder = { order: DEFAULT_ORDER, placement: place(hw, d) };
  if (!ordersMatter(hw) || d.dp <= 1 || d.pp <= 1 || effectiveOrder(d, "tp-cp-pp-dp") === DEFAULT_ORDER) return [first];
  const other: PricedOrder = { order: "tp-cp-pp-dp", placement: place(hw, d, "tp-cp-pp-dp") };
  const differ = (["dp", "pp", "shard"] as const).some((g) => !sameLink(first.placement[g], other.placement[g]));
  return differ ? [first, other] : [first];
}

const TIER: Record<GroupPlacement["level"], string> = {
  none: "no traffic",
  node: "inside a node",
  domain: "inside an NVLink domain",
  leaf: "inside a leaf",
  pod: "inside a pod",
  network: "across the network",
};

const gbps = (l: Link | null) => (l ? `${(l.bandwidth / 1e9).toPrecision(3)} GB/s` : "");
const where = (g: GroupPlacement, pods: boolean) =>
  `${g.name} ${pods && g.level === "network" ? "across pods" : TIER[g.level]}${g.link ? ` at ${gbps(g.link)}` : ""}`;
const ms = (s: number) => (s >= 1 ? `${s.toPrecision(4)} s` : `${(s * 1e3).toPrecision(4)} ms`);

/** One sentence: the order kept, where it puts dp and pp, and the step it saves over the other. */
export function orderReason(hw: Hardware, kept: PricedOrder, keptStep: number, other: PricedOrder, otherStep: number): string {
  const p = kept.placement;
  const q = other.placement;
  const pods = hw.fabric?.pod != null;
  return (
    `${kept.order}: ${where(p.dp, pods)}, ${where(p.pp, pods)}; step ${ms(keptStep)} against ${ms(otherStep)} with ${other.order} ` +
    `(${where(q.dp, pods)}, ${where(q.pp, pods)})`
  );
}
