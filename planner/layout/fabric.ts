// The level of the fabric each group crosses, and the link it gets there.
//
// Tiers, innermost first, each a block of consecutive ranks (a profile's `fabric`,
// planner/schema/fabric.ts): the node, the NVLink domain (GB200 NVL72: 72 GPUs on one NVLink
// fabric, DGX SuperPOD GB200 RA "Network Fabrics"), a rail-optimised leaf tier (DGX SuperPOD
// scalable unit: one leaf switch per rail, same-rail traffic one switch hop; B200 RA), pods with
// full bisection inside, and the oversubscribed layer above them (Llama 3: 3,072-GPU pods, 1:7
// above; Llama Team 2024 §3.3.1). A group is priced on the outermost tier any of its groups
// crosses, as a ring runs at its slowest link:
//   node, domain  the NVLink (or PCIe) link of the node
//   leaf          the network link at the leaf tier's per-step latency
//   pod           the network link
//   network       the network link, above pods at its share of the oversubscribed uplinks
// Share above pods (formulas-scale §5.3): a pod's uplinks carry pod_gpus·B/r; the flows leaving
// a pod at once split them, each getting at most B. A ring collective's group leaves each pod it
// touches once (its ranks ascend), a pipeline's chain leaves an inner pod twice (activations
// forward, gradients back): flows = those exits summed over the groups that run at once, the
// most any pod has. So a dp ring over 128 ranks spread over pods is hardly slowed (few exits per
// ring), while 2-rank groups split across two pods get B/r each: every GPU sends across.
import type { Fabric, GroupTopology, Hardware, Link } from "../types.js";
import type { GroupShape, Span } from "./groups.js";
import { intraCap, ranksPerNode } from "./nic-share.js";

/** The outermost tier a group crosses: none (a group of one), node, domain (NVLink beyond the
 *  node), leaf, pod, network (above pods, or a flat network). */
export type Level = "none" | "node" | "domain" | "leaf" | "pod" | "network";

/** GPUs one NVLink (scale-up) link reaches: the node unless the fabric has a larger domain. */
export const scaleUp = (hw: Pick<Hardware, "gpusPerNode" | "fabric">): number => hw.fabric?.nvlinkDomain ?? hw.gpusPerNode;

/** Whether the groups of one shape stay inside blocks of `perNode` ranks. A group's ranks ascend,
 *  so its first and last share a block exactly when all of them do. Blocks that tile answer at
 *  once; otherwise every group is looked at (at most world / size of them). */
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

const inside = (shape: GroupShape, world: number, block: number) => span(shape, world, block) === "node";

export function levelOf(shape: GroupShape, world: number, hw: Pick<Hardware, "gpusPerNode" | "fabric">): Level {
  if (shape.size <= 1) return "none";
  if (inside(shape, world, hw.gpusPerNode)) return "node";
  const f = hw.fabric;
  if (!f) return "network";
  if (inside(shape, world, f.nvlinkDomain)) return "domain";
  if (f.leaf && inside(shape, world, f.leaf.gpus)) return "leaf";
  if (f.pod && inside(shape, world, f.pod.gpus)) return "pod";
  return "network";
}

/** Flows leaving the busiest pod when every group of this shape communicates at once: a ring
 *  leaves each pod it touches once; a chain (`chain`: the pipeline's p2p, both ways) leaves its
 *  end pods once and the pods between twice. */
export function podExits(shape: GroupShape, world: number, podGpus: number, chain: boolean): number {
  const { size, stride } = shape;
  const pods = Math.ceil(world / podGpus);
  const exits = new Float64Array(pods);
  const block = size * stride;
  for (let base = 0; base < world; base += block) {
    for (let o = 0; o < stride; o++) {
      const first = base + o;
      const lo = Math.floor(first / podGpus);
      const hi = Math.floor((first + (size - 1) * stride) / podGpus);
      if (lo === hi) continue;
      // Ranks ascend: with stride < podGpus the group touches every pod from lo to hi; with a
      // larger stride each member sits in a pod of its own.
      const touched = stride < podGpus ? null : size;
      const n = touched ?? hi - lo + 1;
      for (let k = 0; k < n; k++) {
        const pod = touched === null ? lo + k : Math.floor((first + k * stride) / podGpus);
        exits[pod]! += chain && k > 0 && k < n - 1 ? 2 : 1;
      }
    }
  }
  let most = 0;
  for (const e of exits) most = Math.max(most, e);
  return most;
}

/** The fraction of the per-GPU network bandwidth a group crossing pods gets (1: no shortfall).
 *  `rails`: flows per exit — 1 for a ring or a chain; g for the all-reduces that cross domains on
 *  g rails at once (hierarchical, NVLS around a ring, SHARP: each of a domain's g ranks sends S/g,
 *  so each ring's exit is g flows on the pod's uplinks). */
export function podShare(shape: GroupShape, world: number, pod: NonNullable<Fabric["pod"]>, chain: boolean, rails = 1): number {
  const exits = podExits(shape, world, pod.gpus, chain);
  return exits === 0 ? 1 : Math.min(1, pod.gpus / (pod.oversubscription * exits * rails));
}

/** The node's link for a group inside a node. On an Infinity Fabric mesh (MI300X: one link to each
 *  of the 7 peers, 896 GB/s in all; hardware-2026.md "AMD Instinct MI300X", modelling note) a group
 *  of n reaches its members over n − 1 of the 7 links: (n−1)/7 of the node link's bandwidth.
 *  `p2p`: the group's traffic goes between two members at a time (a pipeline's sends, the tied
 *  embedding's all-reduce between its first and last stage, the cp ring's hops): a send crosses
 *  the one link between the pair, 1/7 of the node link's (~64 GB/s each way on MI300X,
 *  hardware-2026.md: "one peer pair gets a single link"), whatever the group's size. On a
 *  switch (NVSwitch) or a bus every pair gets the GPU's whole link. */
export function nodeLink(hw: Pick<Hardware, "intra" | "gpusPerNode">, shape: GroupShape, p2p = false): Link {
  const bandwidth = intraCap(hw, p2p ? Math.min(2, shape.size) : shape.size);
  return bandwidth === hw.intra.bandwidth ? hw.intra : { ...hw.intra, bandwidth };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Members per NVLink domain and domains spanned, of the slowest group: the fewest members any
 *  domain holds of a group that crosses domains, and the most domains a group spans. Groups that
 *  tile the domains are alike; groups whose blocks do not (GB200 NVL72: dp 16 of stride 4 tiles
 *  64 ranks against domains of 72, so the group of ranks 64–124 has 2 members in one domain and 14
 *  in the next) are priced at the worst, as levelOf prices a group at the outermost tier any of
 *  them crosses: one domain's few ranks carry the group's whole cross-domain share
 *  (formulas-scale.md §5.2, hierarchical all-reduce: S/g per rail). */
export function topologyOf(shape: GroupShape, world: number, domain: number): { perDomain: number; domains: number } {
  const { size: n, stride: s } = shape;
  if (n <= 1) return { perDomain: 1, domains: 1 };
  if (s >= domain) return { perDomain: 1, domains: n };
  const block = n * s;
  // A group starts at base + o (base a multiple of the block, o < stride); base mod domain repeats
  // every domain / gcd(block, domain) blocks, so those blocks hold every start there is.
  const blocks = Math.min(Math.ceil(world / block), domain / gcd(block, domain));
  let perDomain = Infinity;
  let domains = 1;
  for (let b = 0; b < blocks; b++) {
    for (let o = 0; o < s; o++) {
      const r = (b * block + o) % domain;
      const last = Math.floor((r + (n - 1) * s) / domain); // the last member's domain (the first's is 0)
      if (last === 0) continue;
      const first = Math.floor((domain - 1 - r) / s) + 1;
      const end = n - Math.ceil((last * domain - r) / s);
      const middle = last >= 2 ? Math.floor(domain / s) : Infinity;
      perDomain = Math.min(perDomain, first, end, middle);
      domains = Math.max(domains, last + 1);
    }
  }
  return Number.isFinite(perDomain) ? { perDomain: Math.max(1, perDomain), domains } : { perDomain: n, domains: 1 };
}

/** One NIC's link for an all-to-all whose ranks reach `local` of the group (themselves included)
 *  without the network (cost/collectives.ts allToAllTime). */
export const allToAllLink = (nic: Link, local: number, intra?: Link): Link => (local > 1 ? (intra ? { ...nic, local, intra } : { ...nic, local }) : nic);

/** The link of a group at its level; with a fabric it carries the group's topology for the
 *  collective tuner (cost/tuner.ts). `traffic`: a ring's or tree's collectives, a pipeline's p2p
 *  chain, or the experts' all-to-all.
 *  Beyond the NVLink domain a group with k ranks in each node runs a channel per NIC, as on a
 *  profile without a fabric (nic-share.ts): k NICs' share, capped at the node's link; above
 *  oversubscribed pods its k channels are k flows on the uplinks (a pipeline chain's p2p keeps
 *  one NIC). The per-rail algorithms (hierarchical, NVLS around a ring, SHARP) send on one NIC per
 *  rank (topology.railBandwidth). */
export function fabricLink(hw: Hardware, shape: GroupShape, world: number, level: Level, traffic: "ring" | "chain" | "all-to-all"): Link | null {
  const chain = traffic === "chain";
  if (level === "none") return null;
  const f = hw.fabric;
  if (level === "node" || level === "domain") {
    const link = level === "node" ? nodeLink(hw, shape, chain) : hw.intra;
    return f ? { ...link, topology: { ...topologyOf(shape, world, f.nvlinkDomain), intra: hw.intra, nvls: f.nvls, sharp: f.sharp } } : link;
  }
  const pod = level === "network" && f?.pod ? f.pod : null;
  // One NIC's bandwidth when `flows` flows per group leave a pod at once (formulas-scale.md §5.3).
  const nic = (flows: number) => hw.inter.bandwidth * (pod ? podShare(shape, world, pod, chain, flows) : 1);
  const topology: GroupTopology | null = f ? { ...topologyOf(shape, world, f.nvlinkDomain), intra: hw.intra, nvls: f.nvls, sharp: f.sharp } : null;
  const latency = level === "leaf" ? f!.leaf!.latency : hw.inter.latency;
  // The experts' all-to-all: what leaves the NVLink domain goes on each rank's own NIC; every
  // rank of a domain sends at once (cost/collectives.ts allToAllTime).
  if (traffic === "all-to-all") {
    const local = topology?.perDomain ?? 1;
    return allToAllLink({ ...hw.inter, latency, bandwidth: nic(local) }, local, hw.intra);
  }
  // A pipeline's p2p crosses each node boundary as one transfer, on one NIC (the channels per NIC
  // are a collective's); a ring or tree gets k.
  const k = chain ? 1 : ranksPerNode(shape.size, shape.stride, hw.gpusPerNode);
  const link: Link = { ...hw.inter, latency, bandwidth: k === 1 ? nic(1) : Math.min(k * nic(k), intraCap(hw, k)) };
  if (!topology) return link;
  // Each of a domain's g ranks sends on its own rail: above pods, g flows per exit.
  topology.railBandwidth = nic(Math.max(1, topology.perDomain));
  return { ...link, topology };
}
