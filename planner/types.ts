// Plain-number types shared by the cost model and the search.
// Every quantity is SI: bytes, seconds, FLOP, FLOP/s, bytes/s.
import type { Engine } from "./engine.js";
import type { RunFigures } from "./run/types.js";

export type Mlp = "gelu" | "swiglu" | "geglu";
/** Position encoding: a learned table (GPT), rotary (Su et al. 2021), or ALiBi — no position
 *  parameters, a per-head linear bias added to the attention scores (Press et al. 2022, MPT). */
export type Positional = "learned" | "rope" | "alibi";
export type Precision = "bf16" | "fp16" | "fp8";
export type Recompute = "none" | "selective" | "full";
/** Pipeline schedules, named after what torch.distributed.pipelining runs: zb1p
 *  (ScheduleInterleavedZeroBubble), zbv (ScheduleZBVZeroBubble), dualpipev (ScheduleDualPipeV). */
export type Schedule = "1f1b" | "interleaved" | "gpipe" | "zb1p" | "zbv" | "dualpipev";
export type ZeroStage = 0 | 1 | 2 | 3;
/** The node's GPU-to-GPU link. "infinity-fabric": AMD's point-to-point mesh (MI300X: 7 links to
 *  the 7 peers), where a group uses only the links to its own members (layout/groups.ts spanLink). */
export type LinkKind = "nvlink" | "pcie" | "infinity-fabric";

/** Llama 3.1's RoPE scaling (HF rope_scaling rope_type "llama3"; Meta's apply_scaling). */
export interface RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** Mixture-of-experts layers (Shazeer et al. 2017; Fedus et al. 2021; DeepSeek-V3 report §2.1).
 *  Counts only. Layer i (0-based) is MoE when i >= denseLayers and (i + 1) % layerFreq === 0
 *  (Qwen2-MoE's decoder_sparse_step convention; DeepSeek's moe_layer_freq is 1 in every
 *  released config, Mixtral's every layer). */
export interface MoeSpec {
  /** Routed experts per MoE layer (Mixtral 8, DeepSeek-V3 256). */
  experts: number;
  /** Routed experts each token goes to (top-k: Mixtral 2, DeepSeek-V3 8). */
  topK: number;
  /** Always-active shared experts per MoE layer (DeepSeek 1-2, Qwen2-MoE 1; Mixtral 0). */
  sharedExperts: number;
  /** FFN (intermediate) width of one routed expert. */
  expertFfnHidden: number;
  /** FFN width of one shared expert when it differs from expertFfnHidden (Qwen2-MoE). */
  sharedFfnHidden?: number;
  /** The first k layers are dense (DeepSeek first_k_dense_replace; 0: none). */
  denseLayers: number;
  /** Every n-th layer after those is MoE (1: every layer; Qwen2-MoE decoder_sparse_step). */
  layerFreq: number;
  /** Router scoring: softmax (Mixtral, Qwen) or sigmoid (DeepSeek-V3). */
  router: "softmax" | "sigmoid";
  /** Group-limited routing: the experts split into `routingGroups` equal groups of consecutive
   *  experts and each token's top-k is chosen within its `groupsPerToken` best groups
   *  (DeepSeek-V3 report §2.1.2 and §3.2.2, node-limited routing: 8 groups, at most 4 nodes a
   *  token; HF n_group / topk_group under topk_method group_limited_greedy or noaux_tc; Megatron
   *  --moe-router-num-groups / --moe-router-group-topk). Stated only where it limits
   *  (groupsPerToken < routingGroups); absent: every expert is open to every token. It changes no
   *  FLOP; a dispatcher that sends a token once per node prices it (wire/expert-wire.ts). */
  routingGroups?: number;
  groupsPerToken?: number;
}

/** DeepSeek's multi-head latent attention (DeepSeek-V2 report §2.1): low-rank Q and KV. */
export interface MlaSpec {
  /** Rank of the query compression (0: queries are not compressed, DeepSeek-V2-Lite). */
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
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
  /** Rows of a learned position table (GPT-2's n_positions, a config.json's max_position_embeddings
   *  for learned positions): its parameters, and the longest sequence it can train. Absent: a table
   *  of the planned sequence length (paraplan's own model files). */
  positionTable?: number;
  /** A config.json's rotary scaling that paraplan reads but does not carry into exports
   *  (linear, dynamic, yarn, longrope: frequencies only, no work): the exports say so. */
  ropeScalingNotExported?: string;
  /** The architecture fields a paraplan model file left to their defaults (mlp, positional,
   *  kvHeads, ffnHidden, tiedEmbeddings), with the values taken: said on the `assumed:` line. */
  defaultsAssumed?: string;
  /** Mixture-of-experts layers; absent: a dense model. */
  moe?: MoeSpec;
  /** Multi-head latent attention; absent: standard (grouped-query) attention. */
  mla?: MlaSpec;
  /** Multi-token-prediction modules trained beside the model (DeepSeek-V3 num_nextn_predict_layers). */
  mtpLayers?: number;
  /** Biases on the query, key and value projections of a model otherwise without biases (Qwen2:
   *  transformers Qwen2Attention builds q/k/v_proj with bias=True, o_proj without). GPT-style
   *  models carry every bias already. Megatron-LM --add-qkv-bias. */
  qkvBias?: boolean;
  /** RMSNorm on the queries and keys before the rotary embedding: over each head's d channels
   *  ("head": Qwen3, Gemma 3; Megatron-LM --qk-layernorm) or over the whole projection ("full":
   *  OLMo 2, OLMoE). Weights 2d or (a + g)·d a layer; the time is an element-wise pass. */
  qkNorm?: "head" | "full";
  /** Norms other than two per layer with weights (and a final one): "sandwich", four per layer,
   *  each sublayer's input and output normalised (Gemma 2 and 3: input_layernorm,
   *  post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm of
   *  transformers' Gemma2DecoderLayer/Gemma3DecoderLayer); "nonparametric", LayerNorms without
   *  weight or bias (OLMo-1: transformers' OlmoLayerNorm, F.layer_norm(x, shape, None, None)).
   *  Weights only: the norms' time and kept inputs are the two-norm layer's. */
  norms?: "sandwich" | "nonparametric";
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
  /** How a group on this link sits on a fabric (profiles with `fabric` only): lets the
   *  collective tuner price tree, hierarchical and in-network algorithms (cost/tuner.ts). */
  topology?: GroupTopology;
  /** An all-to-all group's ranks that each rank reaches inside its node (or NVLink domain),
   *  itself included, where the group crosses the network: only (n − local)/n of a rank's buffer
   *  leaves on its own NIC, `bandwidth` (cost/collectives.ts allToAllTime). Absent: 1. */
  local?: number;
  /** Where the experts' dispatcher sends a token once per node (DeepEP): the share of a rank's
   *  all-to-all buffer that crosses the network, in place of (n − local)/n (cost/dispatch.ts
   *  offNodeShare). Absent: every copy on its own. */
  offNode?: number;
  /** An all-to-all group's link inside the node (NVLink), where the deduplicating dispatcher
   *  fans the tokens out beside the network transfer (cost/collectives.ts allToAllTime). */
  intra?: Link;
}

/** A group's shape on the fabric, for the collective algorithms beyond a flat ring. */
export interface GroupTopology {
  /** Members per NVLink domain, and domains the group spans (members = perDomain · domains where
   *  groups tile the domains; else the slowest group's: its fewest members in a domain, its most
   *  domains: layout/fabric.ts topologyOf). */
  perDomain: number;
  domains: number;
  /** The NVLink domain's link (the reduce-scatter / all-gather phases of hierarchical ones). */
  intra: Link;
  /** NVLink SHARP inside the domain, and SHARP in the network switches, when the profile has them. */
  nvls: NvlsReduction | null;
  sharp: InNetworkReduction | null;
  /** The network bandwidth of each rail where a domain's ranks all cross domains at once
   *  (hierarchical, NVLS around a ring, SHARP): one NIC's, and above oversubscribed pods its share
   *  when perDomain rails per group leave a pod (layout/fabric.ts); the group's link may carry k
   *  NICs' channels. Absent: the link's. */
  railBandwidth?: number;
}

/** In-network reduction (NVLS, SHARP): achieved all-reduce algbw / link rate, and its latency. */
export interface InNetworkReduction {
  efficiency: number;
  latency: number;
}

/** NVLink SHARP: `efficiency` is that of the largest group its table lists (8 GPUs measured);
 *  smaller groups reach a share of it. */
export interface NvlsReduction extends InNetworkReduction {
  /** [gpus, factor of `efficiency`] ascending, the last factor 1 (H100's NVLS busbw 370 GB/s at 4
   *  GPUs against 480 at 8, formulas-scale.md §5.2: ×0.899 at 4): interpolated in log2(gpus),
   *  flat outside. Absent: `efficiency` at any size. */
  scaleByGroupSize?: readonly (readonly [number, number])[];
}

/** The fabric beyond one node and one flat network (planner/schema/fabric.ts). */
export interface Fabric {
  /** GPUs in one NVLink domain (scale-up): the node link reaches all of them (GB200 NVL72: 72). */
  nvlinkDomain: number;
  nvls: NvlsReduction | null;
  /** Rail-optimised leaf tier: blocks of `gpus` ranks one leaf hop apart, at `latency` per step. */
  leaf: { gpus: number; latency: number } | null;
  /** Pods with full bisection inside; `oversubscription` r:1 above them. */
  pod: { gpus: number; oversubscription: number } | null;
  sharp: InNetworkReduction | null;
}

/** How ranks are numbered, innermost first: Megatron-Core's default tp-cp-(ep)-dp-pp, or its
 *  --use-tp-pp-dp-mapping tp-cp-(ep)-pp-dp, which is Llama 3's [TP, CP, PP, DP]. */
export type RankOrder = "tp-cp-dp-pp" | "tp-cp-pp-dp";

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
  /** What fraction of the 16-bit matmul table's efficiency fp8 GEMMs reach at the same FLOPs,
   *  against the fp8 peak (absent: 1; the tensor cores double their rate, the SMs' shared memory,
   *  registers and power do not: FlashAttention-3 reaches 61% of the fp8 peak against 75% of the
   *  16-bit one, Shah et al. 2024). */
  fp8Efficiency?: number;
  /** CUDA context, NCCL buffers and cuBLAS workspace, bytes per GPU. */
  reserve: number;
  /** Fraction of allocated bytes lost to allocator fragmentation. */
  fragmentation: number;
  gpusPerNode: number;
  intra: Link;
  inter: Link;
  /** Absent: one NVLink (or PCIe) node and one flat network, as before fabrics existed. */
  fabric?: Fabric;
  measured: boolean;
  /** Board power limit, watts, where the profile states one (efficiencies already derated,
   *  planner/power.ts). */
  powerLimit?: number;
  /** Sustained compute clock under that limit relative to the rated part (planner/power.ts; absent:
   *  1): the profile's own efficiencies come derated, an engine's kernel figures (measured on rated
   *  parts) are derated by it where they are used (cost/engine-terms.ts attentionEfficiency). */
  computeThrottle?: number;
  /** The device is the host (CPU ranks): each op runs where it is dispatched, its dispatch cost
   *  inside the profile's measured efficiencies, so no launch bound applies (cost/engine-terms.ts
   *  launchBound). Absent: a GPU the host queues kernels to. */
  hostRunsOps?: boolean;
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
  /** Override of the engine's overlapSlowdown (compute slowdown while overlapped communication
   *  runs, cost/overlap.ts); absent: the engine's figure, else OVERLAP_SLOWDOWN (Lee et al. 2025). */
  overlapSlowdown?: number;
  /** Override of the engine's dataParallel.gatherCallsPerLayer (ZeRO-3 collectives per layer and
   *  pass, cost/gather-calls.ts); absent: the engine's, else 1 (FSDP's FlatParameter per block). */
  gatherCallsPerLayer?: number;
  /** The software stack (planner/engine.ts): attention kernel, fusions, launch cost, overlap,
   *  fp8 recipe. fusedAttention and overlapGradReduce above are its settings after the CLI's
   *  overrides. Absent: the default engine, megatron-core, as the calibrated profiles price it. */
  engine?: Engine;
  /** Busiest expert rank's routed tokens over the mean (≥ 1; MoE models only; default
   *  DEFAULT_MOE_IMBALANCE, planner/cost/moe-facts.ts): scales routed compute, activations and
   *  all-to-all bytes. `--moe-imbalance`. */
  moeImbalance?: number;
  /** Precision of Adam's two moments: fp32 (default; 12 bytes per parameter of optimizer state with
   *  the fp32 master weights) or bf16 (DeepSeek-V3 report §3.3.3: 8 bytes). `--optimizer-states`. */
  optimizerStates?: "fp32" | "bf16";
}

/** How context-parallel ranks exchange K and V (Megatron-Core's --cp-comm-type): "allgather"
 *  gathers the full K/V before attention (Llama 3 §3.3.2, Megatron "all_gather"), "ring" passes
 *  K/V chunks around the cp ring overlapped with blockwise attention (Ring Attention, Liu et al.
 *  2023; Megatron "p2p", torch's context_parallel), "a2a" re-shards sequence into heads
 *  (DeepSpeed-Ulysses, Jacobs et al. 2023; Megatron "a2a"). */
export type CpComm = "allgather" | "ring" | "a2a";
/** How the sequence is cut into cp shards for causal attention: "zigzag" gives rank r chunks r
 *  and 2cp−1−r of 2cp (balanced work; Megatron-Core, torch's load balancer), "contiguous" one
 *  chunk each (the last rank does most of the causal work). */
export type CpSplit = "zigzag" | "contiguous";
export const CP_COMMS: readonly CpComm[] = ["allgather", "ring", "a2a"];
export const CP_SPLITS: readonly CpSplit[] = ["zigzag", "contiguous"];
/** What a plan with cp > 1 assumes when it does not say (the balanced all-gather variant). */
export const [DEFAULT_CP_COMM, DEFAULT_CP_SPLIT]: readonly [CpComm, CpSplit] = ["allgather", "zigzag"];

/** One point of the plan space. tp·cp·dp·pp = gpus; placement tp innermost, then cp, dp, pp
 *  (planner/layout/groups.ts; unless `order` says pp before dp). The expert groups fold over the
 *  same ranks: etp·ep·edp·pp = gpus (Megatron-Core MoE parallel folding); ep = etp = 1 for a
 *  dense model. */
export interface Plan {
  tp: number;
  pp: number;
  dp: number;
  /** Context parallel: the sequence split across cp ranks for attention (1: none). */
  cp: number;
  /** cp > 1 only: the K/V exchange and the sequence cut (absent: DEFAULT_CP_COMM / DEFAULT_CP_SPLIT).
   *  Always absent when cp = 1 (planOnly drops them). */
  cpComm?: CpComm;
  cpSplit?: CpSplit;
  /** Expert parallel: routed experts split across ep ranks (1: none, or a dense model). */
  ep: number;
  /** Expert tensor parallel: each expert's FFN split across etp ranks (1: none). */
  etp: number;
  vpp: number;
  zero: ZeroStage;
  microBatch: number;
  recompute: Recompute;
  /** Full recompute only: the layers of each chunk (stage, or virtual stage) that re-run, the first
   *  N (Megatron-Core's --recompute-method block; cost/block-recompute.ts); absent: every layer. */
  recomputeLayers?: number;
  sequenceParallel: boolean;
  schedule: Schedule;
  /** Layers of each pipeline stage, first to last, when they are not the even split L/pp
   *  (uneven stages, `--stage-layers a,b,…`); absent: L/pp on every stage. */
  stageLayers?: readonly number[];
  /** Rank order; absent: "tp-cp-dp-pp". Only profiles with pods price the other (layout/order.ts). */
  order?: RankOrder;
}

export interface MemoryBreakdown {
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  other: number;
  total: number;
  capacity: number;
  /** MoE models: the routed experts' share of weights + gradients + optimizer (already in those
   *  three), bytes. */
  experts?: number;
}

export interface TimeBreakdown {
  compute: number;
  recompute: number;
  tpComm: number;
  ppComm: number;
  bubble: number;
  dpComm: number;
  /** Expert parallel: the dispatch and combine all-to-alls (and etp gathers) on the critical path. */
  epComm: number;
  /** Context parallel: the K/V exchange of every layer and pass on the critical path (the ring's
   *  sends only beyond the attention they overlap; cost/context.ts). 0 without cp. */
  cpComm: number;
  optimizer: number;
  step: number;
}

export type WorstStage = "first" | "middle" | "last" | "only";

export interface PlanResult extends Plan {
  memory: MemoryBreakdown;
  time: TimeBreakdown;
  tokensPerSecond: number;
  tflopsPerGpu: number;
  mfu: number;
  hfu: number;
  /** The worst stage for memory ("middle" only with uneven stages, layout/stages.ts). */
  worstStage: WorstStage;
  /** With uneven stages: the fullest stage's index, 0-based. */
  worstStageIndex?: number;
  /** Model FLOPs per step (no recompute), whole cluster. */
  modelFlopsPerStep: number;
  /** Why this rank order, when the search priced both (layout/order.ts). */
  orderReason?: string;
  /** Where the engine runs this plan eager (planner/eager.ts): whose figures these are, and why. */
  eager?: { engine: string; reason: string };
}
