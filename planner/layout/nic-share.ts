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

/** The link of a group that crosses nodes with k ranks in each: k NICs' share, capped at NVLink.
 *  On an Infinity Fabric mesh the ring's hops inside the node run over the k − 1 links between
 *  those k ranks (MI300X: 64 GB/s each way each; hardware-2026.md, modelling note), so the cap is
 *  theirs: 2 ranks a node get 64 GB/s, not 2 NICs' 100. */
export function networkLink(hw: Hardware, size: number, stride: number): Link {
  const k = ranksPerNode(size, stride, hw.gpusPerNode);
  if (k === 1) return hw.inter;
  return { ...hw.inter, bandwidth: Math.min(k * hw.inter.bandwidth, intraCap(hw, k)) };
}

/** The node-link bandwidth k ranks of a group share inside a node: the whole link on a switch or
 *  bus; k − 1 of the gpusPerNode − 1 peer links on an Infinity Fabric mesh. */
export function intraCap(hw: Pick<Hardware, "intra" | "gpusPerNode">, k: number): number {
  if (hw.intra.kind !== "infinity-fabric" || k >= hw.gpusPerNode || hw.gpusPerNode <= 1) return hw.intra.bandwidth;
  return (hw.intra.bandwidth * (k - 1)) / (hw.gpusPerNode - 1);
}
