// Plain-number types shared by the cost model and the search.
// Every quantity is SI: bytes, seconds, FLOP, FLOP/s, bytes/s.
import type { RunFigures } from "./run/types.js";

export type Mlp = "gelu" | "swiglu" | "geglu";
export type Positional = "learned" | "rope";
export type Precision = "bf16" | "fp16" | "fp8";
export type Recompute = "none" | "selective" | "full";
export type Schedule = "1f1b" | "interleaved" | "gpipe";
export type ZeroStage = 0 | 1 | 2 | 3;
export type LinkKind = "nvlink" | "pcie";

/** Llama 3.1's RoPE scaling (HF rope_scaling rope_type "llama3"; Meta's apply_scaling). */
export interface RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** A transformer decoder, as read from a model file (all counts, no units). */
export interface ModelSpec {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  /** Width of one attention head when it is not hidden/heads (Gemma: 256 with hidden 3584 and
   *  16 heads); absent means hidden/heads. Q, K, V are heads·headDim and kvHeads·headDim wide
   *  and the output projection maps heads·headDim back to hidden. */
  headDim?: number;
  ffnHidden: number;
  vocab: number;
  /** The model file's sequence length (`seqLen`; HF `max_position_embeddings`): only the default
   *  for Training.seqLen, like globalBatch and gpus below. Every formula reads Training.seqLen. */
  defaultSeqLen: number;
  mlp: Mlp;
  positional: Positional;
  tiedEmbeddings: boolean;
  /** Dropout layers present (GPT-3 style); Llama-style models train without them. */
  dropout: boolean;
  /** Keys each query of a sliding-window layer attends to (Mistral, Gemma-2: 4096). */
  slidingWindow?: number;
  /** How many of the layers use the window (Gemma-2: every other one, layers/2); the rest attend
   *  over the whole sequence. Absent with slidingWindow set: all of them. */
  slidingWindowLayers?: number;
  // Facts an engine needs that do not change cost: the exports carry them (src/engines/*).
  /** RoPE base θ (Su et al. 2021): 10,000 for Llama 2, 500,000 for Llama 3. Rotary models only. */
  ropeTheta?: number;
  /** RoPE frequency scaling (Llama 3.1's "llama3" scheme). */
  ropeScaling?: RopeScaling;
  /** Epsilon of the normalisation layers (LayerNorm or RMSNorm). */
  normEps?: number;
  /** Where defaultSeqLen came from when paraplan chose it (a HuggingFace config's
   *  min(max_position_embeddings, 8192)): said on the `assumed:` line. */
  defaultSeqLenAssumed?: string;
  globalBatch?: number;
  gpus?: number;
}

/** A figure read from a profile: SI value plus the source it was cited from. */
export interface Figure {
  value: number;
  source: string;
}

/** Matmul efficiency as a function of one GEMM's FLOPs (2·m·n·k), interpolated in log(FLOPs). */
export interface EfficiencyTable {
  source: string;
  points: ReadonlyArray<readonly [flops: number, efficiency: number]>;
}

export interface Link {
  kind: LinkKind | "network";
  /** Per GPU, each way, bytes/s. */
  bandwidth: number;
  /** Per ring step, seconds. */
  latency: number;
  /** Achieved bus bandwidth / link bandwidth for large collectives (nccl-tests definition). */
  efficiency: number;
}

/** A hardware profile resolved to plain numbers (see planner/schema/hardware.ts for the file form). */
export interface Hardware {
  name: string;
  gpuName: string;
  memory: number;
  memoryBandwidth: number;
  memoryBandwidthEfficiency: number;
  peak: { bf16: number; fp16: number; fp8: number | null; tf32: number };
  matmul: EfficiencyTable;
  attentionEfficiency: number;
  /** CUDA context, NCCL buffers and cuBLAS workspace, bytes per GPU. */
  reserve: number;
  /** Fraction of allocated bytes lost to allocator fragmentation. */
  fragmentation: number;
  gpusPerNode: number;
  intra: Link;
  inter: Link;
  measured: boolean;
  /** The whole run's figures (power, PUE, failure rate, checkpoint storage, restart), when the
   *  profile gives them (planner/run/). */
  run?: RunFigures;
  /** Field path -> cited source, for reporting. */
  sources: Record<string, string>;
}

/** What the user wants trained (everything but the parallel layout). */
export interface Training {
  gpus: number;
  globalBatch: number;
  /** The sequence length trained: the one every cost formula, the simulator, the executor and
   *  the exports use (the learned-position table has this many rows). */
  seqLen: number;
  precision: Precision;
  /** Flash-style attention: no s×s scores in memory and no separate softmax kernel. */
  fusedAttention: boolean;
  /** Data-parallel gradient reduction overlapped with the backward pass (PyTorch DDP buckets,
   *  Megatron-LM --overlap-grad-reduce since 2023); false runs it after backward. */
  overlapGradReduce: boolean;
}

/** One point of the plan space. tp·pp·dp = gpus; placement tp innermost, then dp, then pp. */
export interface Plan {
  tp: number;
  pp: number;
  dp: number;
  vpp: number;
  zero: ZeroStage;
  microBatch: number;
  recompute: Recompute;
  sequenceParallel: boolean;
  schedule: Schedule;
}

export interface MemoryBreakdown {
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  other: number;
  total: number;
  capacity: number;
}

export interface TimeBreakdown {
  compute: number;
  recompute: number;
  tpComm: number;
  ppComm: number;
  bubble: number;
  dpComm: number;
  optimizer: number;
  step: number;
}

export interface PlanResult extends Plan {
  memory: MemoryBreakdown;
  time: TimeBreakdown;
  tokensPerSecond: number;
  tflopsPerGpu: number;
  mfu: number;
  hfu: number;
  /** Which stage is the worst for memory ("first", "last" or "only"). */
  worstStage: "first" | "last" | "only";
  /** Model FLOPs per step (no recompute), whole cluster. */
  modelFlopsPerStep: number;
}
