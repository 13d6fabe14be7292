// The network rate of a group that has several ranks in each node. NCCL builds its inter-node
// rings and trees over several channels, one per NIC on a multi-NIC node ("NCCL launches as many
// CTAs as channels ... 16 SMs on a DGX with 8 NICs", NVIDIA/nccl issue #689), so a ring whose
// k ranks per node each own a NIC moves its inter-node traffic over k NICs of the node: the bus
// bandwidth per rank is k times one NIC's share, up to the NVLink rate inside the node (nccl-tests
// PERFORMANCE.md: multi-node bus bandwidth is bounded by the node's aggregate NIC bandwidth; DGX
// A100 all-reduce busbw ~ 8 × 25 GB/s). A group with one rank per node (stride ≥ node) keeps one
// NIC's share (Narayanan et al. 2021 §3.3).
import type { Hardware, Link } from "../types.js";

/** Ranks of one group inside each node it spans (groups of `size` ranks `stride` apart). */
export function ranksPerNode(size: number, stride: number, perNode: number): number {
  if (stride >= perNode || perNode % stride !== 0) return 1;
  return Math.max(1, Math.min(size, perNode / stride));
}

/** The link of a group that crosses nodes with k ranks in each: k NICs' share, capped at NVLink. */
export function networkLink(hw: Hardware, size: number, stride: number): Link {
  const k = ranksPerNode(size, stride, hw.gpusPerNode);
  if (k === 1) return hw.inter;
  return { ...hw.inter, bandwidth: Math.min(k * hw.inter.bandwidth, hw.intra.bandwidth) };
}
