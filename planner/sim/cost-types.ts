// The costs the simulator plays (graph.ts, dp.ts): per operation and pass, the transfers, the
// data-parallel settings. Built from the plan by costs.ts buildSimCosts; tests build them by hand
// (costs.ts uniformCosts).
import type { Schedule, ZeroStage } from "../types.js";

/** A transfer: α latency (fixed), bandwidth time alone on its links (shared, links.ts), and a
 *  fixed tail (the tensor-parallel all-gather of a scattered pipeline activation). */
export interface Transfer {
  latency: number;
  work: number;
  post: number;
  /** Crosses the network (true) or stays on the node's NVLink / PCIe (false). */
  inter: boolean;
}

/** One pass of one operation: its kernels, then its tensor-parallel collectives (on the critical
 *  path, as in the closed form). */
export interface PassCost {
  compute: number;
  tp: number;
  /** Expert-parallel all-to-alls (and etp gathers) of the pass, on the critical path (0 or absent
   *  without experts). */
  ep?: number;
  /** Context-parallel K/V exchange of the pass on the critical path (the ring's sends only beyond
   *  the attention they overlap: cost/context.ts); 0 or absent without cp. */
  cp?: number;
}

export interface ParamOpCost {
  forward: PassCost;
  backward: PassCost;
  /** Re-run before the backward (full: the layer's forward; selective: the engine's selective
   *  recompute, cost/compute.ts LayerTimes.selectiveRecompute). */
  recompute: PassCost;
  /** The weight-gradient part of `backward` (the zero-bubble schedules' W, run apart). */
  weightGrad: PassCost;
  /** Bytes of the 16-bit weights this GPU holds for it = bytes of its 16-bit gradients. */
  bytes: number;
  /** Of `bytes`, the routed experts': reduced and gathered over the expert-data-parallel group
   *  (SimCosts.expert), the rest over dp·cp. 0 or absent without routed experts. */
  expertBytes?: number;
}

/** The routed experts' own data-parallel collectives: over the expert-data-parallel group, edp =
 *  tp·cp·dp/(ep·etp) ranks (layout/groups.ts edpOf), on that group's link, as the closed form
 *  prices them (wire/expert-wire.ts edp-gradients, edp-weights; Megatron-Core reduces the
 *  expert-parallel parameters' buffers over expt_dp_group). */
export interface ExpertDataParallel {
  size: number;
  collective: (kind: CollectiveKind, bytes: number) => Transfer;
  /** As SimCosts.gradScale: the gradients at the engine's reduce type (expert-wire.ts). */
  gradScale: number;
  /** The updated weights' gather at 16 bits (expert-wire.ts edp-weights: once a step at ZeRO-1/2,
   *  not scaled by zero1GatherScale, not again each micro-batch). */
  weightGatherScale: number;
  /** Bucket cap: Megatron-Core fills the expert buffers' buckets to the dense ones' size; a layer's
   *  experts where the stack reduces per layer (ZeRO-2 shardedReducePerLayer). */
  bucketBytes: number;
}

export type CollectiveKind = "allReduce" | "allGather" | "reduceScatter";

export interface SimCosts {
  schedule: Schedule;
  pp: number;
  /** Virtual chunks per stage (1 unless interleaved, zb1p with vpp > 1, zbv or dualpipev). */
  vpp: number;
  microBatches: number;
  layersPerChunk: number;
  /** Full recompute of each chunk's first N layers only (Plan.recomputeLayers, Megatron's block
   *  method): per stage (pipeline rank) the share of its layers that re-run their forward
   *  (cost/block-recompute.ts fullRecomputeShare); a layer's backward there re-runs that share of
   *  `layer.recompute` (the stage's total exact, spread evenly over its layers). Absent: all. */
  recomputeShare?: readonly number[];
  /** Uneven stages (layout/stages.ts): the layers each virtual stage plays instead of
   *  layersPerChunk, in model order (one per rank with vpp 1; p·v with vpp > 1, globalStage order). */
  stageLayers?: readonly number[];
  layer: ParamOpCost;
  /** Input embedding, first chunk of stage 0. */
  embedding: ParamOpCost;
  /** Output layer, logits and cross-entropy, last chunk of stage p−1. */
  head: ParamOpCost;
  /** One activation (or its gradient) between consecutive chunks. */
  p2p: Transfer;
  dp: number;
  zero: ZeroStage;
  /** The updated weights are all-gathered after the step: ZeRO-1/2, and DeepSpeed's
   *  BF16_Optimizer at stage 0 (cost/engine-terms.ts gathersUpdatedWeights). */
  gatherUpdatedWeights: boolean;
  /** ZeRO-3: the share of a layer's weights gathered again for its backward after a recomputed
   *  forward (cost/regather.ts), 0 for most stacks. */
  regather: number;
  overlapGradReduce: boolean;
  /** ZeRO-1/2: the updated weights' all-gather overlaps the next forward (the engine's
   *  overlapParamGather, where the gradient reduction overlaps too if the engine ties them:
   *  cost/engine-terms.ts overlapsWeightGather), else runs after the optimizer. */
  overlapParamGather: boolean;
  /** ZeRO-3: layers gathered ahead of the one computing (the engine's prefetchLayers; 0: each
   *  gather waits for the compute before it), whether or not the reduction overlaps. */
  prefetchLayers: number;
  /** ZeRO-3: collectives per layer and pass, each paying the ring's latency (the engine's
   *  gatherCallsPerLayer, cost/gather-calls.ts: 12 for DeepSpeed 2021's per-tensor gathers). */
  gatherCallsPerLayer: number;
  /** How much slower compute runs while a data-parallel collective of its stage overlaps it
   *  (cost/overlap.ts, Lee et al. 2025; the engine's overlapSlowdown); 0: free overlap. */
  dpSlowdown: number;
  bucketBytes: number;
  /** A collective of the dense weights' gradients or weights over dp·cp (dense bytes only). */
  dpCollective: (kind: CollectiveKind, bytes: number) => Transfer;
  /** The routed experts' collectives, on the same data-parallel stream; null without routed
   *  experts or with edp = 1 (nothing to reduce). */
  expert: ExpertDataParallel | null;
  /** All-reduce of the tied embedding's gradient between the first and last stage, or null. */
  tiedEmbedding: Transfer | null;
  /** Bytes a gradient byte of the 16-bit weights becomes on the wire: 2 where the engine reduces
   *  in fp32 (cost/engine-terms.ts gradReduceBytes), else 1. */
  gradScale: number;
  /** ZeRO-1's weight gather over the 16-bit weights (cost/engine-terms.ts zero1GatherScale); 1 at
   *  ZeRO-2. */
  weightGatherScale: number;
  /** ZeRO-1's gradients all-reduced whole, not reduce-scattered (Engine.dataParallel.zero1AllReduce). */
  zero1AllReduce?: boolean;
  /** ZeRO-1 sent a tensor at a time (cost/param-tensors.ts): per stage and chunk, the calls its
   *  gather after the optimizer stands for; absent: one. */
  weightSyncCalls?: readonly (readonly number[])[];
  /** ZeRO-2 weights gathered again for every micro-batch's forward, after the backward before it
   *  resharded them (FSDP's SHARD_GRAD_OP: Engine.dataParallel.shardedReducePerLayer); else once
   *  a step. */
  regatherEachMicroBatch: boolean;
  /** Optimizer step of each stage. */
  optimizer: number[];
  /** Sends hold the sender's compute stream until the transfer is done (Megatron-LM's
   *  p2p_communicate waits on its requests unless --overlap-p2p-comm). */
  blockingSends: boolean;
}

export interface SimOptions {
  /** Gradient bucket, bytes (default: the engine's, cost/engine-terms.ts engineBucketBytes). */
  bucketBytes?: number;
  /** Default true; false lets compute run on while its activations travel. */
  blockingSends?: boolean;
  /** Charge only what the closed form charges: no embedding lookup, no output-layer tp comm. */
  closedFormOnly?: boolean;
}
