// The software stack as plain numbers: an engine profile (profiles/engines/*.json, parsed by
// planner/schema/engine.ts) resolved to SI values. Hardware × model × engine → prediction: the
// engine says which attention kernel runs and how fast, which element-wise ops are fused, what a
// kernel launch costs, what overlaps what, and what an fp8 recipe keeps in memory. The cost terms
// that read it live in planner/cost/engine-terms.ts.
import type { EngineSupports } from "./engine-supports.js";
import type { EagerFallback } from "./eager.js";
import { SAME_SM } from "./gpu-generation.js";
import type { RecomputeModule } from "./recompute-modules.js";
import type { CpComm, Schedule, Training, ZeroStage } from "./types.js";

export type EngineRecompute = "any" | "layers" | "full";
export type AttentionKernel = "materialised" | "flash-attention-2" | "flash-attention-3" | "cudnn" | "triton-flash";
export const ATTENTION_KERNELS: readonly AttentionKernel[] = ["materialised", "flash-attention-2", "flash-attention-3", "cudnn", "triton-flash"];

/** Element-wise op groups of one transformer layer (planner/cost/compute.ts layerMemoryBoundBytes). */
export type ElementwiseOp = "norm" | "biasActivation" | "dropoutResidual" | "rotary";
export const ELEMENTWISE_OPS: readonly ElementwiseOp[] = ["norm", "biasActivation", "dropoutResidual", "rotary"];

export type SelectiveRecompute = "attention-core" | "alternate-matmuls" | "matmul-outputs";
export const SELECTIVE_RECOMPUTES: readonly SelectiveRecompute[] = ["attention-core", "alternate-matmuls", "matmul-outputs"];
/** Which tensors a layer saves for its backward (cost/activations.ts): "16-bit" is Korthikanti
 *  et al. 2022's list at 16 bits; "autocast-eager" is an eager PyTorch block under bf16 autocast
 *  over fp32 parameters (paraplan's worker): fp32 residual stream and norm inputs, a bf16 copy of
 *  the normed input per linear, an eager fp32 RMSNorm, GQA's K/V repeated before attention;
 *  "autocast-compiled" the same blocks under torch.compile, as measured (cost/activations.ts). */
export type ActivationTensors = "16-bit" | "autocast-eager" | "autocast-compiled";
export const ACTIVATION_TENSORS: readonly ActivationTensors[] = ["16-bit", "autocast-eager", "autocast-compiled"];

/** Bytes an fp8 recipe's casts move per element of a linear's operands (Engine.fp8.castBytes). */
export interface Fp8CastBytes {
  forwardInput: number;
  forwardWeight: number;
  backwardGrad: number;
  backwardInput: number;
  backwardWeight: number;
}

/** A tensor the all-gather variant's attention keeps per layer (Engine.contextParallel.allgatherKeeps). */
export type CpAllgatherKept = "gathered-kv" | "chunk-outputs";
export const CP_ALLGATHER_KEPT: readonly CpAllgatherKept[] = ["gathered-kv", "chunk-outputs"];

export interface Engine {
  name: string;
  /** The parallelisms the stack runs (EngineSupports). */
  supports: EngineSupports;
  description?: string;
  attention: {
    kernel: AttentionKernel;
    /** Achieved fraction of the 16-bit peak by GPU generation ("A100", "H100", …; gpuGeneration).
     *  A generation not listed uses its die's (SAME_SM), else the hardware profile's
     *  attentionEfficiency. */
    efficiency: Record<string, number>;
  };
  /** HBM traffic of each element-wise group relative to one fused kernel (1 = fused: read its
   *  inputs once, write its outputs once). */
  traffic: Record<ElementwiseOp, number>;
  /** Which groups run as fused kernels (traffic 1). */
  fused: Record<ElementwiseOp, boolean>;
  /** How the element-wise traffic is counted: "grouped", the groups above × their traffic; or
   *  "autocast-eager", derived op by op for an eager PyTorch block under bf16 autocast over fp32
   *  parameters (paraplan's worker; cost/eager-traffic.ts), which the groups cannot express (its
   *  per-linear casts, eager RMSNorm and RoPE in fp32, GQA's repeated K/V). */
  elementwise: "grouped" | "autocast-eager";
  launch: {
    /** Host time to issue one kernel, seconds. */
    perKernel: number;
    /** Kernels one layer's forward issues; its backward issues backwardFactor × as many. */
    kernelsPerLayer: number;
    backwardFactor: number;
    /** The same counts for a rotary-position (Llama-style: RMSNorm, RoPE, gated MLP) block where
     *  the stack issues a different number (paraplan's eager RMSNorm and RoPE); absent: as above. */
    rotaryBlock?: { kernelsPerLayer: number; backwardFactor: number };
  };
  dataParallel: {
    overlapGradReduce: boolean;
    /** Layouts in which the stack reduces ZeRO-0/1 gradients after the backward even when it
     *  overlaps elsewhere: paraplan's worker replicates by hand where DDP does not fit, tp > 1 or
     *  pp > 1 (executor/worker/parallel.py GradReplicator). Empty: none. */
    reduceAfterBackwardWith: readonly ("tp" | "pp")[];
    /** ZeRO stages whose reduction the stack overlaps whatever --no-grad-overlap says (Megatron-FSDP's
     *  optim_grads_params turns overlap_grad_reduce on), and those it refuses to run without it
     *  (its optim_grads asserts it): megatron_fsdp.py:263-270 @ core_v0.14.0. Empty: none. */
    overlapForcedAtZero: readonly ZeroStage[];
    overlapRequiredAtZero: readonly ZeroStage[];
    overlapParamGather: boolean;
    /** ZeRO-1/2's weight gather overlaps the next forward only where the gradients' reduction
     *  overlaps the backward: Megatron-LM asserts --overlap-param-gather needs
     *  --overlap-grad-reduce (arguments.py @ core_v0.12.0). False: the stack prefetches its
     *  gathers whatever the reduction does (FSDP's forward all-gathers on their own stream). */
    overlapParamGatherNeedsGradOverlap: boolean;
    /** ZeRO-1's updated weights are sent inside the optimizer step, before it returns, overlapping
     *  nothing whatever overlapParamGather says: torch's ZeroRedundancyOptimizer broadcasts each
     *  rank's shard from step() (torch/distributed/optim/zero_redundancy_optimizer.py
     *  _sync_params). False: the distributed optimizer's gather, apart from the step. */
    zero1GatherInStep: boolean;
    /** ZeRO-1's weight sync sends one collective per parameter tensor, each paying its latency:
     *  ZeroRedundancyOptimizer broadcasts parameter by parameter unless built with
     *  parameters_as_bucket_view (zero_redundancy_optimizer.py _broadcast_params_from_rank;
     *  cost/param-tensors.ts). False: one gather of the whole shard (or of each bucket). */
    zero1BroadcastPerTensor: boolean;
    /** ZeRO-1 all-reduces the whole gradients before its sharded step, where a stack shards only
     *  the optimizer (torch's ZeroRedundancyOptimizer beside DDP: every rank steps its shard from
     *  the full averaged gradients). False: reduce-scattered, each rank receiving its shard's
     *  (Megatron's distributed optimizer; Rajbhandari et al. 2020 §5.1). */
    zero1AllReduce: boolean;
    /** Bytes per parameter ZeRO-1's weight gather moves: 2 (the 16-bit copies Megatron's
     *  distributed optimizer gathers), 4 where the stack's parameters are fp32 (a model kept in
     *  fp32 under autocast, as paraplan's worker). */
    zero1GatherBytes: number;
    /** ZeRO stage 0 under bf16 is DeepSpeed's BF16_Optimizer (deepspeed/runtime/bf16_optimizer.py
     *  @ v0.6.5; engine.py picks it for bf16 without ZeRO): the fp32 master weights and Adam states
     *  partitioned over dp as ZeRO-1's, an fp32 copy of every gradient kept whole beside the 16-bit
     *  one and added to after each micro-batch's backward, all-reduced at the step's end, then the
     *  updated 16-bit weights all-gathered (cost/engine-terms.ts bf16Optimizer). False: plain
     *  data parallelism at stage 0. */
    bf16OptimizerAtZero0: boolean;
    /** The optimizer steps an fp32 copy of 16-bit gradients made for the step (Megatron's
     *  main_grad.float(); cost/memory.ts reduceTransientBytes). Absent: false. */
    fp32GradCopyAtStep?: boolean;
    /** The step builds its fp32 gradients by flattening the 16-bit ones, as DeepSpeed's optimizers
     *  do: FP16_Optimizer at ZeRO-0 under fp16 casts each tensor then flattens the list (8 bytes a
     *  parameter of the largest group), ZeRO-1/2 flatten the rank's 16-bit shard then cast it (6 per
     *  parameter of the shard) (fp16/fused_optimizer.py, zero/stage_1_and_2.py step @ v0.6.5;
     *  cost/memory.ts reduceTransientBytes). Absent: false. */
    fp32GradFlattenAtStep?: boolean;
    /** Layers whose ZeRO-3/FSDP parameters are gathered ahead of the one computing (0: none). */
    prefetchLayers: number;
    /** Gradient bucket, bytes: max(bucketSize, bucketSizePerDp · dp). */
    bucketSize: number;
    bucketSizePerDp: number;
    /** The buckets are views into the gradient buffer the model states count (Megatron's
     *  contiguous param-and-grad buffer): no memory of their own. False: two buckets of their own,
     *  one reducing while the next fills (DeepSpeed's ipg buffers, PyTorch DDP's). */
    bucketsInGradBuffer: boolean;
    /** ZeRO-2's reduce-scatter goes one layer (FSDP unit) at a time rather than in the buckets
     *  above, which then serve unsharded plans only (PyTorch FSDP reduces per FlatParameter,
     *  Zhao et al. 2023 §3.2; DeepSpeed fills its reduce buckets). Absent: false. */
    shardedReducePerLayer?: boolean;
    /** ZeRO-3 / FSDP collectives per layer and pass, each paying its ring latency
     *  (cost/gather-calls.ts): 1 for FSDP's FlatParameter per block, 12 for DeepSpeed 2021's
     *  per-tensor gathers. */
    gatherCallsPerLayer: number;
    /** Bytes per parameter of the unsharded gradient a ZeRO-0/1 plan holds until the step's
     *  reduction: 2 for a 16-bit buffer (Rajbhandari et al. 2020 §3), 4 where the stack
     *  accumulates it in fp32 across micro-batches (FSDP2's reduce dtype). */
    gradBufferBytes: number;
    /** Bytes per gradient element the data-parallel reduction moves: 2 where 16-bit gradients are
     *  reduced, 4 where the stack reduces them in fp32 (Megatron-LM under bf16:
     *  accumulate_allreduce_grads_in_fp32 forced on; FSDP2 with reduce_dtype float32). */
    gradReduceBytes: number;
    /** The two figures above where the training's precision sets them (cost/engine-terms.ts
     *  gradBytesOf): Megatron-LM accumulates and all-reduces in fp32 under bf16 and in 16 bits
     *  under fp16 (accumulate_allreduce_grads_in_fp32, arguments.py @ v2.6 and core_r0.14.0).
     *  "bf16" stands for fp8 training too (its weights and gradients are bf16). Dropped by the
     *  --grad-reduce-in-* flags, which fix both. Absent: the figures above whatever the precision. */
    gradBytesByPrecision?: Partial<Record<"fp16" | "bf16", { buffer: number; reduce: number; fixed?: boolean }>>;
    /** Share of the data-parallel link's collective bandwidth the stack's ZeRO-3 gathers and
     *  reduce-scatters reach (1: NCCL's ring rate, as FSDP's flat per-block collectives). */
    zero3BandwidthShare: number;
    /** ZeRO-3 parameters released after a recomputed forward unless reused within this many
     *  elements, then gathered again for the backward (cost/regather.ts: DeepSpeed 2021's
     *  stage3_max_reuse_distance); null: kept through the backward (FSDP). */
    maxReuseDistance: number | null;
    /** Bytes per parameter of the gradient shard ZeRO-2/3 keep: 2 for DeepSpeed's 16-bit
     *  partitions (Rajbhandari et al. 2020 §5.2), 4 where the shard is fp32 (FSDP casts the
     *  reduced gradient to its fp32 sharded parameter's dtype); "gradReduce": the shard is kept
     *  in the dtype the gradients are reduced in, the run's gradReduceBytes (Megatron-FSDP's
     *  main_grad_buffer: float32 if grad_reduce_in_fp32 else the parameters' dtype). */
    shardedGradBytes: number | "gradReduce";
    /** The ZeRO-3 shard is the fp32 master the optimizer steps (FSDP's sharded parameters under a
     *  16-bit MixedPrecision policy): no 16-bit copy beside it, so the shard counts 4 bytes a
     *  parameter as weights and the optimizer 4 fewer. False: a 16-bit shard beside the master
     *  (DeepSpeed ZeRO-3, Megatron-FSDP). */
    shardedMaster: boolean;
    /** A checkpoint save spreads the states the data-parallel replicas share across them, each
     *  GPU writing its share of the states counted once (Megatron-Core's fully parallel save;
     *  torch DCP's dedup of replicated tensors): run/inputs.ts. False: data-parallel rank 0
     *  writes all it holds (Megatron-LM v2, DeepSpeed's model-states file). */
    checkpointDedup: boolean;
  };
  /** The activation recompute the stack can run: "any" (full, selective or none, searched);
   *  "layers", whole layers or nothing (llm-foundry's activation_checkpointing wraps whole blocks;
   *  Megatron-LM / DeepSpeed of 2021: --checkpoint-activations or not, nothing finer);
   *  "full" searched alone. */
  recompute: EngineRecompute;
  /** What the search's "selective" recompute keeps on this stack: "attention-core" is
   *  Megatron's (every tensor but the attention core's, Korthikanti et al. 2022 §4.2);
   *  "alternate-matmuls" is torchtitan's per-op SAC (the outputs of a block's 1st, 3rd, 5th…
   *  matmul and of SDPA are saved, everything else is recomputed; cost/op-sac.ts);
   *  "matmul-outputs" is paraplan's worker's per-op SAC (every matmul's and collective's output
   *  saved; the attention core and the element-wise ops recomputed; cost/op-sac.ts
   *  workerSacLayerBytes). */
  selectiveRecompute: SelectiveRecompute;
  /** Under attention-core: the modules "selective" re-runs (Megatron's --recompute-modules,
   *  recompute-modules.ts; absent: the attention core alone). */
  recomputeModules?: readonly RecomputeModule[];
  /** The tensors a layer keeps for its backward (ActivationTensors). */
  activationTensors: ActivationTensors;
  /** Bytes per element of the residual stream between layers, which full recompute keeps as each
   *  layer's input: 2 (16-bit), 4 where bf16 autocast runs over fp32 parameters and embeddings. */
  residualBytes: number;
  /** Bytes per logit element live at the output head's peak: 4 for fp32 vocab-parallel logits
   *  (Korthikanti et al. 2022 §4.3); more where the loss keeps an upcast copy and its gradient. */
  logitBytes: number;
  /** Bytes per logit element of every micro-batch's output that the last pipeline stage keeps
   *  until the step ends (0: released after its backward). torch.distributed.pipelining appends
   *  each forward output of the last stage to output_chunks and merges them after the step unless
   *  step(return_outputs=False) (pytorch/pytorch#159251): M micro-batches' 16-bit logits. */
  keptOutputBytes: number;
  /** HBM bytes the cross-entropy moves per logit element (the GEMM's own output write aside), in
   *  the forward and the backward: the upcast, max, subtract, exp, sum and normalise passes of an
   *  unfused loss, or one pass of a fused one (cost/compute.ts headTimes). */
  lossBytes: { forward: number; backward: number };
  /** Context parallel's per-step merge (cost/engine-terms.ts cpMergeTraffic): the cp exchanges
   *  under which the stack runs attention in cp steps, each folding a partial output into the
   *  running one by its log-sum-exp (online softmax; Milakov & Gimelshein 2018), and the HBM bytes
   *  that merge moves per element of the rank's attention output and step after the first,
   *  forward and backward. */
  contextParallel: {
    stepwise: readonly CpComm[];
    mergeBytes: { forward: number; backward: number };
    /** Which heads' width K and V travel at: the key/value heads' ("kv"), or the query heads'
     *  where the stack repeats K/V before attention ("query"). */
    kvHeads: "kv" | "query";
    /** Bytes per element of the dK, dV exchanged in the backward (2: 16-bit; 4: fp32). */
    dkvBytes: 2 | 4;
    /** Whether the all-gather variant's collectives run beside the first attention step
     *  (an asynchronous gather waited after it) instead of before attention. */
    gatherOverlapsStep: boolean;
    /** What the all-gather variant's attention keeps for backward beyond the per-token tensors
     *  (cost/cp-saved.ts): the gathered K/V of the whole sequence, and each chunk's output beside
     *  their concatenation. Empty: only the rank's own K/V (Megatron gathers again in backward). */
    allgatherKeeps: readonly CpAllgatherKept[];
  };
  /** The pipeline schedules the stack runs (the search tries only these; a fixed --schedule is
   *  evaluated as asked). */
  schedules: readonly Schedule[];
  tensorParallel: {
    /** Fraction of tensor-parallel communication hidden behind GEMMs (0: on the critical path). */
    overlap: number;
    /** The fraction the stack's tensor-parallel overlap hides when it is switched on
     *  (Megatron-Core's --tp-comm-overlap, Transformer Engine userbuffers); null: no such switch. */
    commOverlap: number | null;
    /** Whether the overlap in force needs sequence parallelism (TE userbuffers overlap the
     *  sequence-parallel all-gathers and reduce-scatters: Megatron asserts --sequence-parallel). */
    overlapNeedsSp: boolean;
    /** Whether a column-parallel linear under sequence parallelism keeps its all-gathered input
     *  for the backward (DTensor: the gathered tensor is the matmul's saved input) instead of its
     *  1/t shard and a second all-gather (Megatron, Korthikanti et al. 2022 §4.2.2). */
    savesGatheredInput: boolean;
    /** Whether the output layer's logits are all-gathered to the whole vocabulary on every tensor-
     *  parallel rank and the loss runs there (DTensor ColwiseParallel(output_layouts=Replicate()),
     *  paraplan's worker), instead of a vocab-parallel cross-entropy over each rank's V/t
     *  (Megatron-LM vocab_parallel_cross_entropy; torchtitan's loss_parallel): the head's logit
     *  memory and loss passes over V, and an all-gather of the 16-bit logits each micro-batch. */
    gathersLogits: boolean;
    /** Under sequence parallelism each norm's replicated weight (and bias) gets a partial gradient
     *  on every tensor-parallel rank, all-reduced once a step one tensor at a time (paraplan's
     *  worker: Trainer.align_grads redistributes each DTensor gradient to its parameter's
     *  Replicate placement). False: none priced (Megatron coalesces them into one small call). */
    normGradsPerTensor: boolean;
    /** With learned positions under sequence parallelism the vocab-parallel token embedding's
     *  output is all-reduced whole, the positions added, then split along the sequence (paraplan's
     *  worker: RowwiseParallel(output_layouts=Replicate()) and PrepareModuleOutput), where
     *  Megatron reduce-scatters it: each micro-batch's forward moves an all-reduce of the b·s·h
     *  activation instead (measured, tiny at tp 2). */
    learnedEmbeddingAllReduce: boolean;
    /** Without sequence parallelism each column-parallel linear all-reduces its own input's
     *  gradient in the backward (DTensor ColwiseParallel on a Replicate input: q, k and v apart,
     *  a gated MLP's two), where Megatron's f operator all-reduces once per sublayer (Shoeybi et
     *  al. 2019 §3): 3 + 2 a Llama layer instead of 2 (cost: wire.ts tp-input-grads). */
    inputGradPerLinear: boolean;
  };
  /** Fraction by which compute slows while an overlapped collective runs beside it (NCCL's SMs
   *  and HBM traffic taken from the GEMMs): a hidden collective of time c costs slowdown · c. */
  overlapSlowdown: number;
  /** What the engine's GEMM library reaches of the hardware profile's matmul table (≤ 1; 1: the
   *  table's own, today's stacks): cost/compute.ts matmulPeak. */
  gemmEfficiency: number;
  fp8: {
    /** Which matmuls run in fp8 when --precision fp8: every linear layer, or none (bf16). */
    matmuls: "linear" | "none";
    /** Extra bytes per (locally held) weight parameter the recipe keeps: fp8 copy, transpose. */
    weightCopyBytes: number;
    transposeBytes: number;
    /** Scaling state (amax history, scales) per fp8 GEMM, bytes. */
    scalingBytesPerGemm: number;
    /** HBM bytes the recipe's casts move around each fp8 linear (cost/engine-terms.ts
     *  fp8CastTraffic), per element: of its input and of its weight in the forward (the weight per
     *  micro-batch), of its output's gradient, its input and its weight in the backward. */
    castBytes: Fp8CastBytes;
  };
  /** The experts' token dispatcher (wire/expert-wire.ts, cost/dispatch.ts). */
  moe: EngineMoe;
  /** The plans it cannot compile and the eager engine that prices them (planner/eager.ts);
   *  absent: it runs every plan as its figures say. */
  eager?: EagerFallback;
  /** Field path → cited source. */
  sources: Record<string, string>;
}

/** How the stack moves routed tokens over the expert-parallel group. */
export interface EngineMoe {
  /** "alltoall": each rank sends every routed copy on its own to the rank of its expert
   *  (Megatron-Core's MoEAlltoAllTokenDispatcher, token_dispatcher.py @ core_v0.14.0); "deepep": a
   *  token crosses the network once per node that holds one of its experts and fans out there over
   *  NVLink, the combine reduced in the node before it crosses back (DeepEP's internode kernels;
   *  DeepSeek-V3 report §3.2.2; Megatron-Core's flex dispatcher with --moe-enable-deepep). */
  dispatcher: MoeDispatcher;
  /** Bytes per element of the token-to-expert all-to-all (the forward dispatch and the backward's
   *  gradient toward the experts) under --precision fp8: 1 + 4/128 for fp8 with an fp32 scale per
   *  128 elements (DeepSeek-V3 report §3.3.3); null: 16-bit whatever the precision. The combine
   *  stays 16-bit. */
  fp8DispatchBytes: number | null;
  /** The all-to-all overlapped with another micro-batch's compute: DualPipe's paired forward and
   *  backward chunks (DeepSeek-V3 report §3.2.1), Megatron-Core's --overlap-moe-expert-parallel-comm
   *  (the 1F1B all-to-all overlap of a forward and a backward micro-batch). Each MoE layer pass's
   *  all-to-alls hide behind an MoE layer's mean pass of compute, which runs `slowdown` slower
   *  beside them (the share of SMs the communication takes: DeepSeek's 20 of 132, §3.5.1);
   *  cost/dispatch.ts epPassExposed. `fullRecompute`: whether it runs beside full recompute;
   *  `schedules`: the schedules it runs under with pp > 1 (null: any). Null: on the critical path. */
  overlap: { slowdown: number; fullRecompute: boolean; schedules: readonly Schedule[] | null } | null;
  /** The shared experts run on a stream of their own beside the routed tokens' all-to-alls of the
   *  same micro-batch (cost/dispatch.ts sharedExpertExposed): `dispatch`, what of their forward
   *  runs beside the dispatch ("up": the gate and up projections with the activation, "all", or
   *  "none"), `combine` beside the combine ("down": the down projection, "all", "none"),
   *  `backward` whether the backward overlaps the same way (their gradients beside the all-to-alls'
   *  backward). Megatron-Core's --moe-shared-expert-overlap: up beside the dispatch, down beside the
   *  combine, both passes (shared_experts.py, token_dispatcher.py @ core_v0.14.0; the backward
   *  ordered by set_tensor_grad_fn_sequence_sr); torchtitan v0.2.2's DeepEP MoE: all of them beside
   *  the combine, the forward only (moe/moe_deepep.py:69-77; deepep.py's backward waits at once).
   *  Null: after the routed experts, on the critical path. */
  sharedExpertOverlap: SharedExpertOverlap | null;
}

/** Engine.moe.sharedExpertOverlap. */
export interface SharedExpertOverlap {
  dispatch: "none" | "up" | "all";
  combine: "none" | "down" | "all";
  backward: boolean;
}

export const MOE_DISPATCHERS = ["alltoall", "deepep"] as const;
export type MoeDispatcher = (typeof MOE_DISPATCHERS)[number];

/** The engine's attention-kernel efficiency on this generation: its own figure, else the figure
 *  of the generation whose die it shares (SAME_SM), else undefined (the hardware profile's). */
export function engineAttentionFigure(e: Engine, generation: string): number | undefined {
  const own = e.attention.efficiency[generation];
  if (own !== undefined) return own;
  const die = SAME_SM[generation];
  return die === undefined ? undefined : e.attention.efficiency[die];
}

/** Whether the engine's attention keeps no s×s scores (every kernel but "materialised"). */
export const fusedAttentionOf = (e: Engine) => e.attention.kernel !== "materialised";

/** A training run on engine `e`: its attention kind and gradient overlap are the engine's. */
export const onEngine = <T extends Training>(t: T, e: Engine): T & { engine: Engine } => ({
  ...t,
  engine: e,
  fusedAttention: fusedAttentionOf(e),
  overlapGradReduce: e.dataParallel.overlapGradReduce,
});

/** The engine `execute` predicts with: the worker it launches. The worker runs eager today; the
 *  fast-executor issue adds torch.compile, and then this returns "paraplan-compile". */
export function executorEngineName(compiled = false): string {
  // paraplan's worker compiles each block with torch.compile on GPUs by default (issue 15).
  return compiled ? "paraplan-compile" : "paraplan";
}

/** The built-in engine each export format runs on. */
export const FORMAT_ENGINES = { megatron: "megatron-core", deepspeed: "megatron-deepspeed", torchtitan: "torchtitan", "llm-foundry": "fsdp" } as const;

export const DEFAULT_ENGINE = "megatron-core";

// What layouts and models a stack runs (planner/engine-supports.ts).
export { type EngineSupports, MEGATRON_SUPPORTS } from "./engine-supports.js";

// The GPU generation keys (planner/gpu-generation.ts), where engine figures are read.
export { GPU_GENERATIONS, SAME_SM, gpuGeneration } from "./gpu-generation.js";

// Megatron-Core's figures for a Training without an engine (planner/megatron-defaults.ts).
export { MEGATRON_CP_MERGE, MEGATRON_LOSS_BYTES, MEGATRON_MOE, MEGATRON_SHARED_OVERLAP, TE_FP8_CASTS } from "./megatron-defaults.js";
