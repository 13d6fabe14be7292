// α–β costs of ring collectives (Thakur, Rabenseifner & Gropp 2005, §4; Patarasuk & Yuan 2009),
// in the form NCCL's nccl-tests PERFORMANCE.md uses for bus bandwidth:
//   all-reduce                 2·(n−1)·α + 2·(n−1)/n · M/B
//   all-gather, reduce-scatter (n−1)·α + (n−1)/n · M/B
//   point-to-point             α + M/B
// M is the full message (bytes), n the ranks, B the per-rank bandwidth each way times the
// link's achieved efficiency (nccl-tests busbw / link rate), α the per-step latency.
// On a profile with a fabric the link carries the group's topology and an all-reduce takes the
// fastest of ring, tree, hierarchical and in-network algorithms (tuner.ts).
import type { Link } from "../types.js";
import { ringAllReduce, tunedAllReduceTime } from "./tuner.js";

function rate(link: Link): number {
  return link.bandwidth * link.efficiency;
}

export function allReduceTime(bytes: number, n: number, link: Link): number {
  if (n <= 1 || bytes <= 0) return 0;
  return link.topology ? tunedAllReduceTime(bytes, n, link, link.topology) : ringAllReduce(bytes, n, link);
}

export function allGatherTime(bytes: number, n: number, link: Link): number {
  if (n <= 1 || bytes <= 0) return 0;
  return (n - 1) * link.latency + ((n - 1) / n) * (bytes / rate(link));
}

/** Reduce-scatter moves the same bytes as all-gather in the ring algorithm. */
export const reduceScatterTime = allGatherTime;

export function p2pTime(bytes: number, link: Link): number {
  if (bytes <= 0) return 0;
  return link.latency + bytes / rate(link);
}

/** All-to-all of M bytes per rank (its whole send buffer, its own share included): (n−1)·α +
 *  (n−1)/n · M/B — each rank sends (n−1)/n of its buffer, one message per peer; nccl-tests
 *  reports all-to-all bus bandwidth as algbw·(n−1)/n (src/alltoall.cu; formulas-scale §1.7).
 *  Across the network with `local` ranks of the group in each node, only (n − local)/n leaves, on
 *  the rank's own NIC (the NVLink part runs beside it): (n−1)·α + (n − local)/n · M/B_nic. The
 *  node's other NICs carry its peers' traffic, so they lend it none (DeepSeek-V3 report §3.2.2:
 *  IB 50 GB/s per GPU; DeepEP's > 40 GB/s per GPU, hardware-2026.md). */
export function allToAllTime(bytes: number, n: number, link: Link): number {
  if (n <= 1 || bytes <= 0) return 0;
  const off = Math.max(1, n - (link.local ?? 1));
  if (link.offNode === undefined) return (n - 1) * link.latency + (off / n) * (bytes / rate(link));
  // A dispatcher that sends a token once per node (DeepEP; cost/dispatch.ts): `offNode` of the
  // buffer on the NIC, and the fan-out in the node, every copy not for the receiving GPU itself
  // ((local − 1)/local of the buffer), over NVLink at the same time (DeepSeek-V3 report §3.2.2:
  // IB and NVLink transfers fully overlapped): the slower of the two. The latency term as above.
  const local = link.local ?? 1;
  const network = link.offNode * (bytes / rate(link));
  const fanout = link.intra ? ((local - 1) / local) * (bytes / rate(link.intra)) : 0;
  return (n - 1) * link.latency + Math.max(network, fanout);
}

/** One call of a wire item at its link's α–β cost. */
export function callTime(i: { kind: "allReduce" | "allGather" | "reduceScatter" | "p2p" | "allToAll"; bytes: number; size: number; link: Link }): number {
  if (i.kind === "allReduce") return allReduceTime(i.bytes, i.size, i.link);
  if (i.kind === "p2p") return p2pTime(i.bytes, i.link);
  if (i.kind === "allToAll") return allToAllTime(i.bytes, i.size, i.link);
  return allGatherTime(i.bytes, i.size, i.link);
}
