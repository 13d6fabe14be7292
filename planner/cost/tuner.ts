// Collective algorithms beyond the flat ring, and the choice among them, for groups on a profile
// with a fabric (the link carries the group's topology: layout/fabric.ts). Without one, every
// collective is the ring of collectives.ts, as before.
//
// All-reduce of S bytes over n = g·N ranks (g per NVLink domain, N domains); R = bandwidth ×
// achieved efficiency of a link, α its per-step latency; "net" the group's network link (with its
// share of an oversubscribed tier), "nvl" the NVLink domain's:
//   ring          2(n−1)·α_net + 2(n−1)/n · S/R_net                       (collectives.ts)
//   tree          2·((g−1)·α_nvl + log2(N)·α_net) + 2·S/(0.92·R_net)
//                 NCCL's double binary tree: latency grows with log2 of the domains, bus
//                 bandwidth 0.92 of the link's and algbw half of it (NVIDIA/nccl
//                 src/graph/tuning.cc, commit 5067397c2676; NVIDIA blog "Massively Scale Your Deep
//                 Learning Training with NCCL 2.4", 2019). Wins small messages at scale.
//   hierarchical  reduce-scatter in the domain, all-reduce of S/g across domains (the g ranks of
//                 a domain on g rails at once), all-gather in the domain (formulas-scale §5.2):
//                 2·[(g−1)·α_nvl + (g−1)/g · S/R_nvl] + 2(N−1)·α_net + 2(N−1)/N · (S/g)/R_net
//   nvls          one NVLink domain with NVLink SHARP: the switch reduces and multicasts, so each
//                 GPU sends S and receives S once: α_nvls + S/(B_nvl·e_nvls). e_nvls is the
//                 profile's achieved algbw / link rate: 8 H100, busbw ≈ 480 GB/s = algbw ≈ 275 of
//                 450 GB/s, 0.61 (NVIDIA/nccl-tests issue #212, maintainer; NVIDIA/nccl #1455).
//                 Fewer GPUs reach less: 4 H100 busbw ≈ 370 GB/s = algbw 370·4/6 ≈ 247, ×0.899
//                 of 8's 480·8/14 ≈ 274 (formulas-scale §5.2), the profile's
//                 fabric.nvls.scaleByGroupSize (reductionEfficiency).
//   nvls+ring     NVLS in the domain (reduce and multicast as above) around the all-reduce of S/g
//                 across domains (NCCL's NVLSTree pairs NVLS with a tree; tuning.cc).
//   sharp         in-network reduction in the InfiniBand switches (NCCL CollNet with the SHARP
//                 plugin; NVIDIA/nccl issues #320, #1725; NCCL 2.27 release blog, 2025): the g
//                 ranks of a domain reduce-scatter over NVLink, each sends S/g into the switch tree
//                 once and receives the result once: the reduce-scatter and all-gather above plus
//                 α_sharp + (S/g)/(B_net·e_sharp).
// The tuner takes the fastest, as NCCL's does from its own model (tuning.cc, ncclTopoTuneModel,
// NCCL_ALGO in NCCL's environment-variable docs lists Ring, Tree, CollNetDirect, CollNetChain,
// NVLS, NVLSTree, PAT). Reduce-scatter and all-gather stay rings here (PAT, NCCL's log-latency
// all-gather for one GPU per node, is not modelled).
import type { GroupTopology, Link, NvlsReduction } from "../types.js";

export type AllReduceAlgorithm = "ring" | "tree" | "hierarchical" | "nvls" | "nvls+ring" | "sharp";

const rate = (l: Link) => l.bandwidth * l.efficiency;

/** NCCL's tree bus bandwidth relative to the link's (tuning.cc: busBw·0.92 for tree all-reduce). */
export const TREE_BUS_FRACTION = 0.92;

export function ringAllReduce(bytes: number, n: number, link: Link): number {
  return 2 * (n - 1) * link.latency + ((2 * (n - 1)) / n) * (bytes / rate(link));
}

function ringPhase(bytes: number, n: number, link: Link): number {
  return n <= 1 ? 0 : (n - 1) * link.latency + ((n - 1) / n) * (bytes / rate(link));
}

/** Every algorithm that applies to this group, with its time (seconds). */
export function allReduceOptions(bytes: number, n: number, link: Link, topo: GroupTopology): { algorithm: AllReduceAlgorithm; time: number }[] {
  const out: { algorithm: AllReduceAlgorithm; time: number }[] = [];
  for (const algorithm of ALGORITHMS) {
    const time = algorithmTime(algorithm, bytes, n, link, topo);
    if (time !== null) out.push({ algorithm, time });
  }
  return out;
}

const ALGORITHMS: readonly AllReduceAlgorithm[] = ["ring", "tree", "hierarchical", "nvls", "nvls+ring", "sharp"];

/** NVLS's efficiency for `gpus` reducing together in the domain: the profile's figure times its
 *  table's factor for that size (interpolated in log2(gpus), flat outside), else the figure alone.
 *  The table is relative, so a profile that recalibrates `efficiency` moves every size with it. */
export function reductionEfficiency(r: NvlsReduction, gpus: number): number {
  return r.efficiency * groupFactor(r.scaleByGroupSize, gpus);
}

function groupFactor(pts: NvlsReduction["scaleByGroupSize"], gpus: number): number {
  if (!pts || pts.length === 0) return 1;
  if (gpus <= pts[0]![0]) return pts[0]![1];
  for (let i = 1; i < pts.length; i++) {
    const [x1, y1] = pts[i]!;
    if (gpus <= x1) {
      const [x0, y0] = pts[i - 1]!;
      return y0 + ((y1 - y0) * Math.log2(gpus / x0)) / Math.log2(x1 / x0);
    }
  }
  return pts[pts.length - 1]![1];
}

/** One algorithm's time, or null where it does not apply (the formulas above). The per-rail
 *  algorithms (hierarchical, nvls+ring, sharp) cross domains on `rail`: the link, or above
 *  oversubscribed pods its share when g rails leave a pod at once (topo.railBandwidth). */
function algorithmTime(a: AllReduceAlgorithm, bytes: number, n: number, link: Link, topo: GroupTopology): number | null {
  const { perDomain: g, domains: N, intra, nvls, sharp } = topo;
  const rail = topo.railBandwidth === undefined ? link : { ...link, bandwidth: topo.railBandwidth };
  switch (a) {
    case "ring":
      return ringAllReduce(bytes, n, link);
    case "nvls":
      return N <= 1 && nvls ? nvls.latency + bytes / (intra.bandwidth * reductionEfficiency(nvls, n)) : null;
    case "tree":
      return N > 1 ? 2 * ((g - 1) * intra.latency + Math.log2(N) * link.latency) + (2 * bytes) / (TREE_BUS_FRACTION * rate(link)) : null;
    case "hierarchical":
      return N > 1 && g > 1 ? 2 * ringPhase(bytes, g, intra) + ringAllReduce(bytes / g, N, rail) : null;
    case "nvls+ring":
      return N > 1 && g > 1 && nvls ? nvls.latency + bytes / (intra.bandwidth * reductionEfficiency(nvls, g)) + ringAllReduce(bytes / g, N, rail) : null;
    case "sharp":
      return N > 1 && sharp ? 2 * ringPhase(bytes, g, intra) + sharp.latency + bytes / g / (rail.bandwidth * sharp.efficiency) : null;
  }
}

/** The fastest algorithm for one all-reduce (ring where the link has no topology). */
export function allReduceChoice(bytes: number, n: number, link: Link): { algorithm: AllReduceAlgorithm; time: number } {
  if (n <= 1 || bytes <= 0) return { algorithm: "ring", time: 0 };
  const topo = link.topology;
  if (!topo) return { algorithm: "ring", time: ringAllReduce(bytes, n, link) };
  let best: AllReduceAlgorithm = "ring";
  let time = Infinity;
  for (const a of ALGORITHMS) {
    const t = algorithmTime(a, bytes, n, link, topo);
    if (t !== null && t < time) {
      time = t;
      best = a;
    }
  }
  return { algorithm: best, time };
}

/** The fastest all-reduce's time alone (the cost model's hot path: no object per call). */
export function tunedAllReduceTime(bytes: number, n: number, link: Link, topo: GroupTopology): number {
  let time = Infinity;
  for (const a of ALGORITHMS) {
    const t = algorithmTime(a, bytes, n, link, topo);
    if (t !== null && t < time) time = t;
  }
  return time;
}

/** The link with every latency it carries set to 0 (a collective's bandwidth term alone). */
export function latencyFree(link: Link): Link {
  const t = link.topology;
  const zero = <T extends { latency: number }>(x: T): T => ({ ...x, latency: 0 });
  return t
    ? { ...link, latency: 0, topology: { ...t, intra: zero(t.intra), nvls: t.nvls && zero(t.nvls), sharp: t.sharp && zero(t.sharp) } }
    : { ...link, latency: 0 };
}
