// The parallelisms and model architectures a software stack runs (Engine.supports): the search
// tries only these, and a layout or model outside them is refused by code, not priced.
import type { StageSplit } from "./layout/stages.js";
import { CP_COMMS, type CpComm, type CpSplit, type Mlp, type Positional, type Precision, type ZeroStage } from "./types.js";

/** The parallelisms a stack runs. The search tries only these; a dimension the user fixes
 *  outside them is bad input naming its flag (constraints.ts checkFixed). ZeRO stages are the
 *  planner's memory and traffic patterns (0: replicated; 1: optimizer states sharded, one
 *  reduce-scatter and one gather a step; 2: gradients too, reduced every micro-batch; 3:
 *  parameters too, gathered every micro-batch). */
export interface EngineSupports {
  tensorParallel: boolean;
  /** Sequence parallelism beside tp > 1: never, a choice (searched), or always on (a stack whose
   *  tensor-parallel plan always shards the norms' activations over the sequence). */
  sequenceParallel: "never" | "optional" | "always";
  pipelineParallel: boolean;
  /** How it splits the layers when pp does not divide them (layout/stages.ts StageSplit); "even":
   *  it does not, and an uneven --stage-layers is refused. */
  stageSplit: StageSplit;
  /** The context-parallel K/V exchanges it has (none: no context parallel). */
  contextParallel: readonly CpComm[];
  /** The cuts of the sequence it makes for context parallel (types.ts CpSplit): the search prices
   *  the zigzag one where the stack makes it (never dearer than contiguous chunks), else the cut it
   *  does make; a fixed --cp-split outside them is refused. Megatron-Core zigzag only
   *  (get_batch_on_this_cp_rank); Megatron-DeepSpeed's Ulysses contiguous only (pretrain_gpt.py
   *  get_batch). */
  contextParallelSplits: readonly CpSplit[];
  /** The exchanges of contextParallel it also runs with unfused (materialised-score) attention
   *  (Training.fusedAttention false): Transformer Engine's and torch's context parallel run in
   *  flash/fused attention kernels only, so none for Megatron-Core and torchtitan. */
  contextParallelUnfused: readonly CpComm[];
  /** The exchanges of contextParallel it runs with a sliding-window model (ModelSpec.slidingWindow):
   *  Megatron-Core (and no engine) Transformer Engine's all-gather and all-to-all, not its
   *  point-to-point ring (attn_forward_func_with_cp asserts it); torchtitan none (torch's ring
   *  attention takes no attention mask). */
  contextParallelWindow: readonly CpComm[];
  expertParallel: boolean;
  /** ZeRO stages without a pipeline, and with one. */
  zero: readonly ZeroStage[];
  zeroWithPipeline: readonly ZeroStage[];
  /** The stages beside a pipeline under bf16 (and fp8) where they are fewer (DeepSpeed 0.6–0.9's
   *  pipeline engine reduces bf16 gradients at stage 0 only: pipe/engine.py _exec_reduce_grads
   *  raises NotImplementedError at stage 1 @ v0.6.5); absent: zeroWithPipeline. */
  zeroWithPipelineUnderBf16?: readonly ZeroStage[];
  /** Activation recompute beside a zero-bubble schedule (zb1p, zbv, dualpipev), whose backward is
   *  split into input and weight gradients; false: a stack whose checkpointing does not follow the
   *  split (paraplan's worker on torch.distributed.pipelining) runs them without recompute only. */
  recomputeWithZeroBubble: boolean;
  /** The training precisions it runs (--precision). */
  precisions: readonly Precision[];
  /** 16-bit training beside tensor or pipeline parallel only where FSDP shards the data-parallel
   *  (or context-parallel) ranks: torchtitan's maybe_enable_amp turns mixed precision off for TP or
   *  PP without FSDP, an fp32 run; the search then leaves ZeRO-0 out beside tp or pp > 1. */
  mixedPrecisionNeedsFsdp: boolean;
  // The architectures its model code builds (constraints.ts checkTraining): a model outside them
  // is a run the stack cannot train, refused rather than priced.
  /** Position encodings (ModelSpec.positional). */
  positional: readonly Positional[];
  /** MLP kinds (ModelSpec.mlp). */
  mlp: readonly Mlp[];
  /** Fewer K/V heads than query heads (ModelSpec.kvHeads < heads). */
  groupedQueryAttention: boolean;
  /** Under fp16 the stack runs each rank's local experts one after another, its grouped GEMM
   *  needing bf16 (Megatron-Core validate_args asserts --moe-grouped-gemm under --bf16), which
   *  paraplan does not price: plans with more than one local expert are left out (layout rule
   *  moe_fp16_local_experts). Absent from a file's supports: Megatron-Core's (true). */
  expertsLoopUnderFp16?: boolean;
  /** Expert parallel (ep > 1) in fp16 training; false: Megatron-LM's validate_args asserts "Expert
   *  parallelism is not supported with fp16 training" (layout rule moe_fp16_ep), so beside
   *  expertsLoopUnderFp16 Megatron-Core prices no fp16 mixture-of-experts plan at all. Absent from a
   *  file's supports: Megatron-Core's (false); absent from an Engine built in code: it runs. */
  expertParallelUnderFp16?: boolean;
  /** Beside tp > 1 a mixture-of-experts model trains only with sequence parallel (Megatron-Core's
   *  MoELayer.forward raises a ValueError otherwise): the search gives such plans sequence parallel
   *  and a fixed --no-sequence-parallel beside tp > 1 is exit 2 (layout rule moe_tp_sp). Absent
   *  from a file's supports: Megatron-Core's (true), as every key there (schema/engine.ts). */
  moeNeedsSpWithTp?: boolean;
  /** What of a mixture-of-experts model's parallelism it runs (absent: all of it). paraplan's
   *  worker (executor/worker/spec.py moe_checks) runs MoE layers at tp 1 only (layout rule
   *  moe_tp), no expert tensor parallel, and expert parallel beside ZeRO 0 only; the search tries
   *  nothing else, and a fixed flag outside them is exit 2 (constraints.ts unsupportedByEngine). */
  moeWithTensorParallel?: boolean;
  expertTensorParallel?: boolean;
  zeroWithExpertParallel?: readonly ZeroStage[];
  /** Multi-head latent attention (ModelSpec.mla) and multi-token-prediction modules
   *  (ModelSpec.mtpLayers) its model code builds; absent: true. */
  latentAttention?: boolean;
  multiTokenPrediction?: boolean;
  /** Sliding-window attention layers (ModelSpec.slidingWindow). */
  slidingWindow: boolean;
  /** Biases on Q, K and V alone in a model without other biases (ModelSpec.qkvBias). */
  qkvBias: boolean;
  /** Query/key norms it builds (ModelSpec.qkNorm): over each head, over the whole projections. */
  qkNorm: readonly ("head" | "full")[];
  /** Norms over the whole projections beside tp > 1 (absent: true). paraplan's worker normalises
   *  its local columns, so a tensor-parallel shard would normalise a part (executor/worker/spec.py
   *  validate): tp 1 only there (layout rule qk_norm_tp). */
  qkNormFullWithTensorParallel?: boolean;
  /** Full recompute of each model chunk's first N layers only, the others keeping their
   *  activations (Megatron-Core's --recompute-method block; Plan.recomputeLayers, searched:
   *  planner/search-memory.ts leastDepth); false: a stack whose full recompute wraps every layer.
   *  Absent from a file's supports: Megatron-Core's (true). */
  blockRecompute?: boolean;
  /** Full recompute of every N-th layer of a rank, counted over its chunks in stage order, the
   *  others keeping their activations (torchtitan 0.2's selective_ac_option "N"; priced as the
   *  depth it gives each chunk where that is one count: cost/nth-recompute.ts). Absent: false. */
  everyNthRecompute?: boolean;
}

/** Megatron-Core's, for a Training without an engine (its profile, profiles/engines/megatron-core.json,
 *  says the same with sources): every parallelism the planner models, and beside a pipeline ZeRO 0
 *  or 1 only (Megatron-FSDP, its ZeRO-2/3, documents TP, CP and EP, not pipelines); every model but
 *  ALiBi's (GPTModel's position types are learned, rope, mrope and none). */
const ALL_ZERO: readonly ZeroStage[] = [0, 1, 2, 3];
const ZERO_0_1: readonly ZeroStage[] = [0, 1];
export const MEGATRON_SUPPORTS: EngineSupports = Object.freeze({
  tensorParallel: true,
  sequenceParallel: "optional",
  pipelineParallel: true,
  stageSplit: "first-last",
  contextParallel: CP_COMMS,
  contextParallelSplits: ["zigzag"],
  contextParallelUnfused: [],
  contextParallelWindow: ["allgather", "a2a"],
  expertParallel: true,
  zero: ALL_ZERO,
  zeroWithPipeline: ZERO_0_1,
  recomputeWithZeroBubble: true,
  precisions: ["fp16", "bf16", "fp8"],
  mixedPrecisionNeedsFsdp: false,
  positional: ["learned", "rope"],
  mlp: ["gelu", "swiglu", "geglu"],
  groupedQueryAttention: true,
  expertsLoopUnderFp16: true,
  expertParallelUnderFp16: false,
  moeNeedsSpWithTp: true,
  slidingWindow: true,
  qkvBias: true,
  qkNorm: ["head"],
  blockRecompute: true,
} as const);
