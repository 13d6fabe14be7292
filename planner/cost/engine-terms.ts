// The cost terms an engine profile changes (planner/engine.ts). Each takes the engine or
// undefined; undefined is the default engine's behaviour as the calibrated profiles describe it,
// so a Training without an engine prices exactly as megatron-core does.
import { type ElementwiseOp, type Engine, MEGATRON_CP_MERGE, TE_FP8_CASTS, engineAttentionFigure, gpuGeneration } from "../engine.js";
import type { CpComm, Hardware, Link, ModelSpec, Precision, Training } from "../types.js";
import { gradientBucketBytes } from "../wire/facts.js";

/** Per-layer forward and backward amounts (HBM bytes or kernel counts). */
export interface PerPass {
  readonly forward: number;
  readonly backward: number;
}

/** None in either pass: one shared object, so the terms below allocate nothing where they do not
 *  apply (the search evaluates them for every configuration). */
export const NOTHING: PerPass = Object.freeze({ forward: 0, backward: 0 });

/** Achieved fraction of the 16-bit peak of the engine's attention kernel on this GPU; a GPU
 *  generation the engine does not list uses its die's (SAME_SM), else the hardware profile's
 *  calibrated figure. */
export function attentionEfficiency(hw: Hardware, e: Engine | undefined): number {
  // An engine's kernel figure is the rated part's; a power-capped part runs it at the clock it
  // sustains (planner/power.ts), as the profile's own figure already is.
  const kernel = e && engineAttentionFigure(e, gpuGeneration(hw));
  return kernel === undefined ? hw.attentionEfficiency : kernel * (hw.computeThrottle ?? 1);
}

/** HBM bytes one layer's context-parallel merge moves on one GPU, forward and backward: where the
 *  stack runs this exchange's attention in cp steps, each step after the first folds its partial
 *  output into the running one (the engine's bytes per output element and step × the rank's
 *  `outputElements` × (cp − 1)); none at cp = 1 or where attention runs at once. */
export function cpMergeTraffic(e: Engine | undefined, comm: CpComm, cp: number, outputElements: number): PerPass {
  const c = e?.contextParallel ?? MEGATRON_CP_MERGE;
  if (cp <= 1 || !c.stepwise.includes(comm)) return NOTHING;
  const steps = cp - 1;
  return { forward: c.mergeBytes.forward * outputElements * steps, backward: c.mergeBytes.backward * outputElements * steps };
}

/** HBM traffic of an element-wise group relative to its fused kernel (1 when fused): an eager
 *  chain of k ops reads and writes the tensor about k times (Williams et al. 2009, roofline). */
export const trafficFactor = (e: Engine | undefined, op: ElementwiseOp): number => (e ? e.traffic[op] : 1);

/** Launch-bound time: the host issues `kernels` kernels at launch.perKernel each while the GPU
 *  runs `work` seconds of them; the GPU waits on the host when issuing is slower (PyTorch CUDA
 *  graphs blog, Nguyen et al. 2021: "the GPU idles between kernels"). Not on CPU ranks, where
 *  the host runs the ops (Hardware.hostRunsOps). */
export function launchBound(work: number, kernels: number, e: Engine | undefined, hw?: Hardware): number {
  if (!e || hw?.hostRunsOps) return work;
  return Math.max(work, kernels * e.launch.perKernel);
}

/** One layer's forward and backward kernel counts: the rotary block's where the engine counts it
 *  apart (Engine.launch.rotaryBlock), else the engine's one block. */
export function layerKernels(e: Engine | undefined, positional?: ModelSpec["positional"]): PerPass {
  if (!e) return NOTHING;
  const c = (positional === "rope" && e.launch.rotaryBlock) || e.launch;
  return { forward: c.kernelsPerLayer, backward: c.kernelsPerLayer * c.backwardFactor };
}

/** Exposed time of a collective of `comm` seconds overlapped with `window` seconds of compute:
 *  the excess over the window, plus the slowdown it inflicts on the compute it hides behind
 *  (Lee et al. 2025, arXiv 2507.03114: compute 18.9% slower on average while overlapped;
 *  NVIDIA/nccl#1428: HBM contention). */
export function exposedOverlap(comm: number, window: number, e: Engine | undefined): number {
  const excess = Math.max(0, comm - window);
  const s = e?.overlapSlowdown ?? 0;
  return s === 0 ? excess : excess + s * Math.min(comm, window);
}

/** Tensor-parallel communication on the critical path: the part the engine does not hide behind
 *  GEMMs (TE userbuffers, --tp-comm-overlap), plus the slowdown of the GEMMs it hides behind. */
export function exposedTensorParallel(comm: number, e: Engine | undefined): number {
  const o = e?.tensorParallel.overlap ?? 0;
  if (o === 0) return comm;
  return comm * (1 - o) + (e?.overlapSlowdown ?? 0) * comm * o;
}

/** Gradient bucket of the data-parallel reduction, bytes: max(bucketSize, bucketSizePerDp · dp)
 *  (Megatron-Core's max(40M, 1M·dp) parameters; PyTorch DDP's 25 MB; DeepSpeed's 5e8 elements). */
export function engineBucketBytes(e: Engine | undefined, dp: number): number {
  if (!e) return gradientBucketBytes(dp);
  return Math.max(e.dataParallel.bucketSize, e.dataParallel.bucketSizePerDp * dp);
}

/** Layers of ZeRO-3 / FSDP weights gathered ahead of the one computing (1: today's one-layer
 *  prefetch, Zhao et al. 2023 §3.2). */
export const prefetchLayers = (e: Engine | undefined): number => e?.dataParallel.prefetchLayers ?? 1;

/** Whether the updated weights' all-gather (ZeRO-1/2) overlaps the next forward. */
export const overlapsParamGather = (e: Engine | undefined): boolean => e?.dataParallel.overlapParamGather ?? true;

/** Whether the matmuls run in fp8 (precision fp8 on an engine with an fp8 recipe). */
export const fp8Matmuls = (precision: Precision, e: Engine | undefined): boolean =>
  precision === "fp8" && (e?.fp8.matmuls ?? "linear") !== "none";

/** HBM bytes an fp8 recipe's casts move around one layer's linears on one GPU, forward and
 *  backward (Engine.fp8.castBytes per element of each GEMM's input T×k, weight k×n and output
 *  T×n, `count` linears of each shape); none outside fp8 matmuls. No engine: Transformer Engine's.
 *  A GEMM whose input is all-gathered over `gatheredFrom` sequence-parallel ranks has it cast on
 *  the rank's shard before the gather and reuses the gathered fp8 input in the backward
 *  (Transformer Engine's LayerNormLinear and Linear under sequence_parallel gather fp8; torchtitan's
 *  Float8ColwiseParallel / PrepareFloat8ModuleInput, torchao/float8/float8_tensor_parallel.py).
 *  The `count` GEMMs of one entry read `sharedInput` distinct inputs' worth less: a gated MLP's
 *  gate and up projections read one input, cast once (Megatron's fused fc1 is one TE module;
 *  under torch.compile AOTAutograd's common-subexpression pass merges torchao's identical casts). */
export function fp8CastTraffic(
  precision: Precision,
  e: Engine | undefined,
  gemms: readonly { m: number; n: number; k: number; count: number; gatheredFrom?: number; sharedInput?: number }[],
): PerPass {
  if (!fp8Matmuls(precision, e)) return NOTHING;
  const c = e?.fp8.castBytes ?? TE_FP8_CASTS;
  let forward = 0, backward = 0;
  for (const g of gemms) {
    const input = (g.m * g.k * g.count) / (g.sharedInput ?? 1);
    const weight = g.k * g.n * g.count;
    const output = g.m * g.n * g.count;
    const gathered = (g.gatheredFrom ?? 1) > 1;
    forward += c.forwardInput * (gathered ? input / g.gatheredFrom! : input) + c.forwardWeight * weight;
    backward += c.backwardGrad * output + (gathered ? 0 : c.backwardInput * input) + c.backwardWeight * weight;
  }
  return { forward, backward };
}

/** Memory the fp8 recipe adds on one GPU: per locally held linear weight parameter its fp8
 *  copy and transpose (Transformer Engine keeps both beside the 16-bit weight, TE issue #1261),
 *  and the scaling state of each fp8 GEMM (amax history and scales, TE DelayedScaling). */
export function fp8ExtraBytes(precision: Precision, e: Engine | undefined, linearParams: number, gemms: number): number {
  if (!e || !fp8Matmuls(precision, e)) return 0;
  return (e.fp8.weightCopyBytes + e.fp8.transposeBytes) * linearParams + e.fp8.scalingBytesPerGemm * gemms;
}

/** Bytes per logit element live at the output head's peak: Megatron's fp32 vocab-parallel logits
 *  (4, Korthikanti et al. 2022 §4.3) unless the engine's loss keeps more (Engine.logitBytes). */
export const logitBytes = (e: Engine | undefined): number => e?.logitBytes ?? 4;

/** The ways the logits a tensor-parallel rank holds and runs its loss over are split: t for a
 *  vocab-parallel cross-entropy (Megatron-LM; torchtitan's loss_parallel), 1 where the stack
 *  all-gathers them to the whole vocabulary first (Engine.tensorParallel.gathersLogits). */
export const logitShards = (e: Engine | undefined, tp: number): number => (e?.tensorParallel.gathersLogits ? 1 : tp);

/** Bytes per logit the last pipeline stage keeps per micro-batch to the step's end
 *  (Engine.keptOutputBytes; no engine: Megatron-Core's, which frees each output after its
 *  backward, deallocate_output_tensor in pipeline_parallel/schedules.py). */
export const keptOutputBytes = (e: Engine | undefined): number => e?.keptOutputBytes ?? 0;

/** The engine's gradient bytes under the training's precision (Engine.dataParallel
 *  gradBytesByPrecision, "bf16" standing for fp8 too; otherwise its two figures). No engine: the
 *  default engine's rule, Megatron-LM's: fp32 under bf16, 16 bits under fp16
 *  (accumulate_allreduce_grads_in_fp32, megatron/training/arguments.py @ core_r0.14.0). */
function gradBytesOf(t: GradTraining): { buffer: number; reduce: number } {
  const e = t.engine;
  const key = t.precision === "fp16" ? "fp16" : "bf16";
  if (!e) return key === "fp16" ? { buffer: 2, reduce: 2 } : { buffer: 4, reduce: 4 };
  return e.dataParallel.gradBytesByPrecision?.[key] ?? { buffer: e.dataParallel.gradBufferBytes, reduce: e.dataParallel.gradReduceBytes };
}
type GradTraining = Pick<Training, "engine" | "precision">;

/** Bytes per parameter of the unsharded ZeRO-0/1 gradient (2: 16-bit, Rajbhandari et al. 2020
 *  §3; 4: accumulated in fp32, Engine.dataParallel.gradBufferBytes). No engine: the default
 *  engine's, fp32 under bf16 (Megatron-Core under bf16: 6 + 12/d bytes a parameter with its
 *  distributed optimizer, docs/source/api-guide/dist_optimizer.md). */
export const gradBufferBytes = (t: GradTraining): number => gradBytesOf(t).buffer;

/** Bytes per parameter of each model state the engine keeps (cost/memory.ts modelStateBytes):
 *  optimizer states with the fp32 master (12 or 8, moe-facts.ts), the unsharded ZeRO-0/1
 *  gradient, the ZeRO-2/3 gradient shard, and whether the ZeRO-3 shard is the master itself.
 *  No engine: ZeRO's accounting (Rajbhandari et al. 2020 §3) with the default's fp32 buffer and
 *  gradient shard (Megatron-Core's under bf16). */
export interface StateBytes {
  optimizer: number;
  grad: number;
  shardedGrad: number;
  shardedMaster: boolean;
  /** ZeRO-0 is DeepSpeed's BF16_Optimizer (bf16Optimizer below): states sharded, gradients whole
   *  in 16 bits and in fp32. */
  bf16Optimizer: boolean;
}
export const stateBytes = (t: GradTraining, optimizer: number): StateBytes => ({
  optimizer,
  grad: gradBufferBytes(t),
  shardedGrad: shardedGradBytes(t),
  shardedMaster: t.engine?.dataParallel.shardedMaster ?? false,
  bf16Optimizer: bf16Optimizer(t, 0),
});

/** Bytes per parameter of the ZeRO-2/3 gradient shard (Engine.dataParallel.shardedGradBytes):
 *  the engine's figure, or the run's reduce dtype where the stack keeps the shard in it
 *  (Megatron-FSDP, "gradReduce": 4 under bf16 and fp8, 2 under fp16 or with --grad-reduce-in-bf16).
 *  No engine: the default engine's, Megatron-Core's "gradReduce". */
export function shardedGradBytes(t: GradTraining): number {
  const s = t.engine === undefined ? "gradReduce" : t.engine.dataParallel.shardedGradBytes;
  return s === "gradReduce" ? gradReduceBytes(t) : s;
}

/** Whether this ZeRO stage runs as DeepSpeed's BF16_Optimizer (Engine.dataParallel
 *  bf16OptimizerAtZero0): stage 0 of a bf16 run on such an engine (its precisions are fp16 and
 *  bf16; engine.py _configure_optimizer @ v0.6.5 wraps fp16 in FP16_Optimizer instead). */
export const bf16Optimizer = (t: GradTraining, zero: number): boolean =>
  zero === 0 && t.precision !== "fp16" && t.engine?.dataParallel.bf16OptimizerAtZero0 === true;

/** Whether the updated 16-bit weights are all-gathered after the step: ZeRO-1/2 (ZeRO-3 gathers
 *  them for each use) and BF16_Optimizer's stage 0 (bf16_optimizer.py step all_gather_dp_groups). */
export const gathersUpdatedWeights = (t: GradTraining, zero: number): boolean => zero === 1 || zero === 2 || bf16Optimizer(t, zero);

/** Bytes per gradient element the data-parallel reduction moves (2: 16-bit; 4: the stack
 *  reduces in fp32, Engine.dataParallel.gradReduceBytes), under the training's precision. No
 *  engine: the default engine's, fp32 under bf16 (Megatron-LM's bf16 rule,
 *  profiles/engines/megatron-core.json). */
export const gradReduceBytes = (t: GradTraining): number => gradBytesOf(t).reduce;

/** The same for a training that names its engine, undefined for one without (the exports and
 *  the plan's JSON state the engine's figure, not the planner's default). */
export const engineGradReduceBytes = (t: GradTraining): number | undefined => (t.engine === undefined ? undefined : gradBytesOf(t).reduce);

/** ZeRO-1's weight gather over the 16-bit weights the wire counts: 2 where the stack sends fp32
 *  parameters (Engine.dataParallel.zero1GatherBytes 4), else 1. */
export const zero1GatherScale = (e: Engine | undefined): number => (e?.dataParallel.zero1GatherBytes ?? 2) / 2;

/** Whether this plan's data-parallel reduction overlaps the backward (and a ZeRO-1 gather the next
 *  forward): the training's setting, except at ZeRO 0/1 in a layout where the engine reduces after
 *  the backward (Engine.dataParallel.reduceAfterBackwardWith: the worker's GradReplicator). */
export function overlapsGradReduce(t: { overlapGradReduce: boolean; engine?: Engine | undefined }, p: { tp: number; pp: number; zero: number }): boolean {
  // (a stage whose reduction the stack overlaps whatever it is told: Megatron-FSDP's ZeRO-3)
  if (!t.overlapGradReduce) return (t.engine?.dataParallel.overlapForcedAtZero as readonly number[] | undefined)?.includes(p.zero) === true;
  const after = t.engine?.dataParallel.reduceAfterBackwardWith;
  if (after === undefined || after.length === 0 || p.zero > 1) return true;
  return !((p.tp > 1 && after.includes("tp")) || (p.pp > 1 && after.includes("pp")));
}

/** Whether this plan's ZeRO-1/2 weight gather overlaps the next forward: the engine's
 *  overlapParamGather, and where the engine ties it to the reduction (Megatron-LM asserts
 *  --overlap-param-gather needs --overlap-grad-reduce, arguments.py @ core_v0.12.0) only where the
 *  reduction overlaps too; an FSDP stack prefetches its gathers whatever the reduction does. */
export function overlapsWeightGather(t: { overlapGradReduce: boolean; engine?: Engine | undefined }, p: { tp: number; pp: number; zero: number }): boolean {
  if (!overlapsParamGather(t.engine)) return false;
  if (p.zero === 1 && t.engine?.dataParallel.zero1GatherInStep === true) return false;
  return t.engine?.dataParallel.overlapParamGatherNeedsGradOverlap === false || overlapsGradReduce(t, p);
}

/** The data-parallel link as the engine's ZeRO-3 collectives see it: its bandwidth times
 *  Engine.dataParallel.zero3BandwidthShare (the link itself where the share is 1 or no engine). */
export function zero3Link(link: Link, e: Engine | undefined): Link {
  const share = e?.dataParallel.zero3BandwidthShare ?? 1;
  return share === 1 ? link : { ...link, bandwidth: link.bandwidth * share };
}

/** The output layer's saved input on the last stage: the final norm's 16-bit input, 1/t of it under
 *  sequence parallelism (Korthikanti et al. 2022 §4.3), plus the all-gathered normed input the
 *  output projection keeps where the stack saves gathered inputs (DTensor ColwiseParallel). */
export function headInputBytes(m: ModelSpec, tokens: number, tp: number, sequenceParallel: boolean, e: Engine | undefined): number {
  const sp = sequenceParallel && tp > 1;
  const norm = (2 * tokens * m.hidden) / (sp ? tp : 1);
  return norm + (sp && e?.tensorParallel.savesGatheredInput ? 2 * tokens * m.hidden * (1 - 1 / tp) : 0);
}
