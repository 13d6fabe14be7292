// Which valid plans each engine can run: the refusal rules of the export formats and of
// paraplan's own worker, beside the layout rules they refine (not a copy of them). A refusal is a
// value with a code and the engine source that states it. Nearest mappings (what an engine runs
// instead of a plan it cannot express exactly) belong to the exporters (src/engines/).
import { DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type Plan, type Precision } from "../types.js";
import { type CpCode, deepspeedCpRefusal, megatronCpRefusal, torchtitanCpRefusal } from "./cp-capabilities.js";
import { deepspeed016Split } from "./deepspeed-016-split.js";
import { accountedVirtualSplit, firstLastOfVirtual, firstMiddleLast, splitLabel } from "./stages.js";

export type CapabilityCode =
  | "megatron_zero"
  | "megatron_gpipe"
  | "megatron_interleaved_pp"
  | "megatron_zero_bubble"
  | "deepspeed_pipe_zero"
  | "deepspeed_pipe_interleaved"
  | "deepspeed_pipe_gpipe"
  | "deepspeed_pipe_zero_bubble"
  | "torchtitan_fp16"
  | "llmfoundry_layout"
  | "llmfoundry_recompute"
  | "worker_microbatches"
  | "worker_stage_layers"
  | "megatron_stage_layers"
  | "torchtitan_stage_layers"
  | "torchtitan_multi_stage"
  | "deepspeed_stage_layers"
  | "worker_sp_seq"
  | "worker_zb_recompute"
  | "worker_compile_sac_tp"
  | "worker_tp_ffn"
  | "worker_moe"
  | "worker_qk_norm"
  | "worker_cp_comm"
  | "worker_cp_moe"
  | "worker_cp_seq"
  | "launcher_whole_nodes"
  | "dimension_unsupported"
  | CpCode;

export interface Refusal {
  code: CapabilityCode;
  reason: string;
}

/** What an engine's checks may look at besides the plan. */
export interface CapabilityContext {
  precision: Precision;
  /** The engine release targeted (exports), when it matters. */
  release?: string;
  globalBatch: number;
  seqLen: number;
  ffnHidden: number;
  gpus: number;
  gpusPerNode: number;
  /** What the model has besides dense layers: routed experts (0 or absent: dense), multi-head
   *  latent attention, multi-token-prediction modules. */
  experts?: number;
  mla?: boolean;
  mtpLayers?: number;
  /** Query/key norms over the whole projections (ModelSpec.qkNorm "full"). */
  qkNormFull?: boolean;
  /** Where the ranks run (the worker's ring context parallel runs on CUDA only); absent: cuda. */
  device?: "cpu" | "cuda";
  /** Whether the worker compiles its blocks (execute --compile; absent: not compiled). */
  compile?: boolean;
}

/** Schedules that split the backward into input and weight gradients (torch.distributed.pipelining
 *  ScheduleInterleavedZeroBubble, ScheduleZBVZeroBubble, ScheduleDualPipeV). */
export const ZERO_BUBBLE: ReadonlySet<Plan["schedule"]> = new Set<Plan["schedule"]>(["zb1p", "zbv", "dualpipev"]);

const refuse = (code: CapabilityCode, reason: string): Refusal => ({ code, reason });

/** Plan dimensions an engine of `kinds` cannot express yet (context parallel, expert parallel,
 *  uneven stages): refused by name rather than dropped. */
export function unsupportedDimension(p: Plan, engine: string, kinds: { cp?: boolean; ep?: boolean; stageLayers?: boolean } = {}): Refusal | null {
  if (p.cp > 1 && !kinds.cp) return refuse("dimension_unsupported", `${engine} does not run context parallel here yet (cp = ${p.cp})`);
  if ((p.ep > 1 || p.etp > 1) && !kinds.ep) return refuse("dimension_unsupported", `${engine} does not run expert parallel here yet (ep = ${p.ep}, etp = ${p.etp})`);
  if (p.stageLayers !== undefined && !kinds.stageLayers) return refuse("dimension_unsupported", `${engine} does not run uneven pipeline stages here yet (stage layers ${p.stageLayers.join(",")})`);
  return null;
}

/** Megatron-LM (megatron/training/arguments.py validate_args; megatron/core/pipeline_parallel/schedules.py). */
export function megatronRefusal(p: Plan, c: CapabilityContext): Refusal | null {
  const dim = unsupportedDimension(p, "the Megatron-LM export", { ep: true, cp: true, stageLayers: true }) ?? megatronStages(p, c);
  if (dim) return dim;
  const cp = megatronCpRefusal(p, c.release);
  if (cp) return cp;
  // ZeRO-2/3: Megatron-FSDP (--use-megatron-fsdp --data-parallel-sharding-strategy optim_grads /
  // optim_grads_params, core_r0.14's _add_distributed_args); core_v0.7 has only the distributed
  // optimizer (ZeRO-1). Megatron-FSDP's documented compatibility is TP, CP and EP (Megatron-Core
  // developer guide, "Megatron-FSDP"): a pipeline is not exported with it.
  if (p.zero >= 2 && c.release === "core_v0.7")
    return refuse("megatron_zero", `ZeRO-${p.zero} has no Megatron-LM core_v0.7 equivalent: --use-distributed-optimizer shards the optimizer states only (ZeRO-1) and Megatron-FSDP arrived later (core_r0.14 --use-megatron-fsdp); use --release core_r0.14, --format deepspeed or torchtitan, or fix --zero 0 or 1`);
  if (p.zero >= 2 && p.pp > 1)
    return refuse("megatron_zero", `ZeRO-${p.zero} with pipeline parallel (pp = ${p.pp}): Megatron-LM shards beyond the optimizer states with Megatron-FSDP, whose documented compatibility is TP, CP and EP, not pipelines; fix --pp 1, --zero 0 or 1, or use --format deepspeed or torchtitan`);
  if (p.pp > 1 && p.schedule === "gpipe")
    return refuse("megatron_gpipe", "Megatron-LM has no GPipe schedule; its pipelines run 1F1B or interleaved 1F1B (megatron/core/pipeline_parallel/schedules.py)");
  if (p.pp > 1 && ZERO_BUBBLE.has(p.schedule))
    return refuse("megatron_zero_bubble", `Megatron-LM has no ${p.schedule} schedule: megatron/core/pipeline_parallel/schedules.py runs 1F1B and interleaved 1F1B, with the backward whole (no split into input and weight gradients); use --format torchtitan`);
  if (c.release === "core_v0.7" && p.vpp > 1 && p.pp <= 2)
    return refuse("megatron_interleaved_pp", "core_v0.7.0 needs --pipeline-model-parallel-size > 2 for the interleaved schedule (validate_args)");
  return null;
}

/** DeepSpeed's pipeline engine (deepspeed/runtime/pipe/engine.py, schedule.py TrainSchedule). */
export function deepspeedRefusal(p: Plan, c: Pick<CapabilityContext, "experts"> = {}): Refusal | null {
  const dim = deepspeedStages(p, (c.experts ?? 0) > 1) ?? unsupportedDimension(p, "the DeepSpeed export", { ep: true, cp: true, stageLayers: true });
  if (dim) return dim;
  const cp = deepspeedCpRefusal(p);
  if (cp) return cp;
  if (p.pp > 1 && p.zero >= 2)
    return refuse("deepspeed_pipe_zero", `ZeRO-${p.zero} with pipeline parallel: DeepSpeed's pipeline engine accepts ZeRO stages 0 and 1 only (deepspeed/runtime/pipe/engine.py asserts it)`);
  if (p.pp > 1 && ZERO_BUBBLE.has(p.schedule))
    return refuse("deepspeed_pipe_zero_bubble", `DeepSpeed's pipeline engine has no ${p.schedule} schedule: TrainSchedule (deepspeed/runtime/pipe/schedule.py) runs 1F1B with whole backwards; use --format torchtitan`);
  if (p.pp > 1 && p.vpp > 1)
    return refuse("deepspeed_pipe_interleaved", "DeepSpeed's pipeline engine runs one stage per rank (deepspeed/runtime/pipe/schedule.py, TrainSchedule); no interleaved virtual stages");
  if (p.pp > 1 && p.schedule === "gpipe")
    return refuse("deepspeed_pipe_gpipe", "DeepSpeed's pipeline engine runs 1F1B (deepspeed/runtime/pipe/schedule.py, TrainSchedule), not GPipe");
  return null;
}

/** torchtitan trains in bf16 or fp32 (training.mixed_precision_param). */
export function torchtitanRefusal(p: Plan, c: CapabilityContext): Refusal | null {
  const dim = unsupportedDimension(p, "the torchtitan export", { ep: true, cp: true, stageLayers: true }) ?? torchtitanStages(p, c);
  if (dim) return dim;
  const cp = torchtitanCpRefusal(p, c.release);
  if (cp) return cp;
  if (c.precision === "fp16")
    return refuse("torchtitan_fp16", "torchtitan trains in bf16 (training.mixed_precision_param is bfloat16 or float32); use --precision bf16 or fp8");
  return null;
}

/** llm-foundry (scripts/train/train.py @8c8dd48, as the fsdp engine prices it): Composer wraps
 *  the model in FSDP (fsdp_config.sharding_strategy FULL_SHARD, SHARD_GRAD_OP, NO_SHARD: ZeRO 3, 2,
 *  0) over every rank, and its activation_checkpointing wraps whole MPT blocks. Its tp_config and
 *  HSDP are not what the fsdp engine prices; ZeRO-1 maps to the nearest strategy in the exporter. */
export function llmFoundryRefusal(p: Plan): Refusal | null {
  const other = (["tp", "pp", "cp", "ep", "etp"] as const).filter((k) => p[k] > 1);
  if (other.length > 0) return refuse("llmfoundry_layout", `llm-foundry runs data parallel only (Composer's FSDP): ${other.map((k) => `${k} ${p[k]}`).join(", ")}`);
  if (p.recompute === "selective")
    return refuse("llmfoundry_recompute", "llm-foundry's fsdp_config.activation_checkpointing recomputes whole blocks; selective recompute cannot be written (use --recompute full or none)");
  return null;
}

/** Whether a split of p·v virtual stages is Megatron-Core's accounted split (stages.ts). */
export function isAccountedSplit(split: readonly number[], layers: number, pp: number, vpp: number): boolean {
  const a = accountedVirtualSplit(layers, pp, vpp);
  return a !== null && a.length === split.length && a.every((n, i) => n === split[i]);
}

/** Uneven stages in Megatron-LM: core_r0.14 --decoder-first-pipeline-num-layers and
 *  --decoder-last-pipeline-num-layers set the first and last stage, the other layers split evenly
 *  over the middle ones (arguments.py; megatron/core/transformer/transformer_block.py
 *  get_num_layers_to_build); core_v0.7.0 has neither flag. */
function megatronStages(p: Plan, c: CapabilityContext): Refusal | null {
  if (p.stageLayers === undefined) return null;
  const split = p.stageLayers.join(",");
  if (c.release !== undefined && c.release !== "core_r0.14")
    return refuse("megatron_stage_layers", `uneven stages (${split}) need --decoder-first-pipeline-num-layers, which core_v0.7.0 does not have; use --release core_r0.14`);
  // Virtual stages: --account-for-embedding/loss-in-pipeline-split give the one uneven split of p·v
  // stages Megatron-Core builds (stages.ts accountedVirtualSplit); --decoder-first/last-pipeline-
  // num-layers cut the first and last rank's layers into its virtual stages evenly, which paraplan's
  // split, listing each virtual stage, cannot say one by one.
  if (p.vpp > 1) {
    const layers = p.stageLayers.reduce((a, b) => a + b, 0);
    if (isAccountedSplit(p.stageLayers, layers, p.pp, p.vpp)) return null;
    // --decoder-first/last-pipeline-num-layers: whole ranks, each cut evenly into its v chunks
    if (firstLastOfVirtual(p.stageLayers, p.pp, p.vpp) !== null) return null;
    const accounted = accountedVirtualSplit(layers, p.pp, p.vpp);
    return refuse("megatron_stage_layers", `Megatron-LM splits virtual stages unevenly as --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split build them${accounted ? ` (${splitLabel(accounted)} for pp ${p.pp} · vpp ${p.vpp})` : ` (which needs pp·vpp = ${p.pp * p.vpp} to divide the ${layers} layers + 2)`}, or as --decoder-first/last-pipeline-num-layers give whole ranks, each rank's layers cut evenly into its ${p.vpp} virtual stages and the middle ranks alike; ${split} is neither: use --format torchtitan --release 0.2`);
  }
  if (firstMiddleLast(p.stageLayers) === null)
    return refuse("megatron_stage_layers", `Megatron-LM sets only the first and last stage (--decoder-first/last-pipeline-num-layers) and splits the rest evenly; ${split} has unequal middle stages`);
  return null;
}

/** Stages in torchtitan. v0.2.0 states any split, virtual stages included, as
 *  parallelism.module_fqns_per_model_part (one list of module names per stage; job_config.py
 *  @ v0.2.0, pipeline_module_split placing stage s on rank s mod p, or in a V); main has the same
 *  field (configs.py:152 @0014ac2c), a list of lists its --section.option overrides do not write,
 *  so uneven stages are refused there. zb1p (InterleavedZeroBubble, a multi-stage schedule) at one
 *  stage per rank: main sizes its stages by pipeline_parallel_layers_per_stage, and
 *  _get_pipeline_metadata (torchtitan/distributed/pipeline_parallel.py @0014ac2c) raises "Multi-stage
 *  schedule requires at least 2 stages per rank"; v0.2.0's pipeline_llm checks that count alike but
 *  not a module_fqns_per_model_part, which torch's schedule runs at any number of stages per rank;
 *  v0.2.2's pipeline_llm is the same (distributed/pipeline_parallel.py:71-121 @ v0.2.2). */
function torchtitanStages(p: Plan, c: CapabilityContext): Refusal | null {
  if (c.release === undefined || c.release === "0.2" || c.release === "0.2.2") return null;
  if (p.stageLayers !== undefined)
    return refuse("torchtitan_stage_layers", `uneven stages (${p.stageLayers.join(",")}): torchtitan ${c.release} states them only as parallelism.module_fqns_per_model_part (configs.py), a list of lists paraplan does not write as a command-line override; set it in your Python configuration, or use --release 0.2, whose TOML job file writes it`);
  if (p.pp > 1 && p.vpp === 1 && p.schedule === "zb1p")
    return refuse("torchtitan_multi_stage", `zb1p at vpp 1: torchtitan ${c.release} runs InterleavedZeroBubble, a multi-stage schedule, with at least 2 stages per rank ("Multi-stage schedule requires at least 2 stages per rank", torchtitan/distributed/pipeline_parallel.py _get_pipeline_metadata); use --vpp 2 or more, another --schedule, or --release 0.2`);
  return null;
}

/** DeepSpeed's PipelineModule partitions by partition_method (deepspeed/runtime/pipe/module.py
 *  _partition_layers): it balances a count and takes no count per stage. The Megatron-DeepSpeed the
 *  export writes for fixes "type:transformer" under DeepSpeed 0.16's partition_balanced (the
 *  smallest spread, deepspeed-016-split.ts), which is not the engine's ≤ 0.12.4 rule: DeepSpeed runs
 *  an uneven split exactly only where it is the one 0.16 makes by itself (the exporter maps another
 *  to that one, src/engines/deepspeed.ts; `moe`: the model's GPTModelPipe has its MoE-loss spec). */
function deepspeedStages(p: Plan, moe: boolean): Refusal | null {
  if (p.stageLayers === undefined) return null;
  const layers = p.stageLayers.reduce((a, b) => a + b, 0);
  const theirs = deepspeed016Split(layers, p.pp, moe);
  if (theirs !== null && theirs.every((n, i) => n === p.stageLayers![i])) return null;
  const why = `DeepSpeed's partition_method balances the layers by itself and takes no per-stage counts`;
  if (theirs === null)
    return refuse("deepspeed_stage_layers", `${why}; ${layers} layers on ${p.pp} stages are too many to work out DeepSpeed 0.16's split: use --format megatron or torchtitan, or a --pp that divides the ${layers} layers`);
  const what = theirs.every((n) => n === theirs[0]) ? "evenly" : `as ${theirs.join(",")}`;
  return refuse("deepspeed_stage_layers", `${why}: DeepSpeed 0.16 splits the ${layers} layers over ${p.pp} stages ${what}, not ${p.stageLayers.join(",")}`);
}

/** torchrun starts the same number of ranks on every node: the GPUs must fill whole nodes. */
export function launcherRefusal(_p: Plan, c: CapabilityContext): Refusal | null {
  const perNode = Math.min(c.gpus, c.gpusPerNode);
  if (c.gpus % perNode !== 0)
    return refuse("launcher_whole_nodes", `${c.gpus} GPUs do not fill whole ${c.gpusPerNode}-GPU nodes; a launcher starts the same number of ranks on every node`);
  return null;
}

/** The worker's mixtures of experts (executor/worker/moe.py, spec.py moe_checks): tp = etp = 1,
 *  expert parallel folded inside dp at ZeRO 0; no latent attention or MTP modules. */
function workerMoeRefusal(p: Plan, c: CapabilityContext): Refusal | null {
  const no = (why: string) => refuse("worker_moe", `paraplan's worker ${why}`);
  if (c.mla) return no("does not run multi-head latent attention (DeepSeek MLA)");
  if ((c.mtpLayers ?? 0) > 0) return no("does not run multi-token-prediction modules");
  if (p.etp > 1) return no(`does not run expert tensor parallel (etp = ${p.etp})`);
  if ((c.experts ?? 0) === 0) return null;
  if (p.tp > 1) return no(`runs mixture-of-experts models with tp = 1 only (the plan has tp = ${p.tp})`);
  if (p.ep > 1 && p.zero > 0) return no(`runs expert parallel at ZeRO 0 only (the plan has ZeRO-${p.zero})`);
  if (p.dp % p.ep !== 0) return no(`folds ep = ${p.ep} inside dp = ${p.dp}: ep must divide dp`);
  return null;
}

/** The worker's context parallel (executor/worker/context.py, spec.py cp_checks): the all-gather
 *  K/V variant everywhere (Llama 3 §3.3.2), torch's ring (torch.distributed.tensor.experimental
 *  .context_parallel) on CUDA only — torch 2.13 has no CPU sharding strategy for it — and no
 *  Ulysses all-to-all; dense models; the sequence cut into 2·cp (zigzag) or cp equal chunks. */
function workerCpRefusal(p: Plan, c: CapabilityContext): Refusal | null {
  if (p.cp === 1) return null;
  const comm = p.cpComm ?? DEFAULT_CP_COMM;
  const split = p.cpSplit ?? DEFAULT_CP_SPLIT;
  if (comm === "a2a")
    return refuse("worker_cp_comm", `paraplan's worker does not run Ulysses all-to-all context parallel (cp exchange a2a); use the allgather exchange`);
  if (comm === "ring" && c.device === "cpu")
    return refuse("worker_cp_comm", `ring context parallel runs on CUDA only: torch 2.13's context_parallel raises NotImplementedError on CPU (no sharding strategy for the CPU attention op); use the allgather exchange`);
  if ((c.experts ?? 0) > 0) return refuse("worker_cp_moe", `paraplan's worker does not run context parallel with mixture-of-experts models (cp = ${p.cp})`);
  const chunks = split === "zigzag" ? 2 * p.cp : p.cp;
  if (c.seqLen % chunks !== 0)
    return refuse("worker_cp_seq", `the ${split} cp split cuts the sequence into ${chunks} equal chunks: ${chunks} does not divide the sequence length ${c.seqLen}`);
  if (p.sequenceParallel && (c.seqLen / p.cp) % p.tp !== 0)
    return refuse("worker_cp_seq", `sequence parallel with cp = ${p.cp} needs tp = ${p.tp} to divide the ${c.seqLen / p.cp} tokens of a cp shard`);
  return null;
}

/** paraplan's worker (executor/worker): torch.distributed.pipelining schedules need at least pp
 *  micro-batches, sequence parallel shards the sequence tp ways, and tensor parallel splits the
 *  MLP evenly. It runs uneven stages (stageLayers) with one stage per rank, and context parallel
 *  as workerCpRefusal says. */
export function workerRefusal(p: Plan, c: CapabilityContext): Refusal | null {
  const dim = unsupportedDimension(p, "paraplan's worker", { cp: true, ep: true, stageLayers: true });
  if (dim) return dim;
  const cp = workerCpRefusal(p, c);
  if (cp) return cp;
  if (p.stageLayers !== undefined && p.vpp > 1)
    return refuse("worker_stage_layers", `the worker splits uneven stages (stage layers ${p.stageLayers.join(",")}) with one stage per rank, not vpp = ${p.vpp}`);
  const moe = workerMoeRefusal(p, c);
  if (moe) return moe;
  // (executor/worker/spec.py validate: a tensor-parallel rank holds a part of each projection)
  if (c.qkNormFull && p.tp > 1)
    return refuse("worker_qk_norm", `paraplan's worker normalises queries and keys over the whole projections at tp = 1 only (the plan has tp = ${p.tp})`);
  const microBatches = c.globalBatch / (p.dp * p.microBatch);
  if (p.pp > 1 && microBatches < p.pp)
    return refuse("worker_microbatches", `the worker's pipeline schedules need at least pp = ${p.pp} micro-batches, the plan has ${microBatches}`);
  // torch's activation checkpointing does not follow the split backward of
  // torch.distributed.pipelining (stage_backward_input, then stage_backward_weight; pytorch#136766):
  // selective (SAC) raises "Trying to backward an extra time", full re-runs each block's forward
  // in the input pass and twice more in the weight pass (about twice the FLOPs the planner prices).
  if (p.pp > 1 && ZERO_BUBBLE.has(p.schedule) && p.recompute !== "none")
    return refuse("worker_zb_recompute", `the worker's ${p.schedule} schedule splits the backward into input and weight gradients, which torch's activation checkpointing does not follow (${p.recompute} recompute ${p.recompute === "selective" ? "raises" : "re-runs each block's forward three times, not once"}); use no recompute, or the 1f1b or interleaved schedule`);
  // torch 2.13 cannot compile a per-op selectively checkpointed block whose attention (SDPA) runs
  // between DTensor-parallel projections: AOTAutograd's save_from_forward raises "expected all
  // tensors_saved_with_vc_check to be Tensors" (a DeviceMesh among them) in the first step, on CPU
  // ranks (not run on GPUs here). Full recompute runs (executor/worker/execution.py
  // compiles_before_ac); the per-op policy cannot move outside the compiled block.
  if (c.compile === true && c.device === "cpu" && p.tp > 1 && p.recompute === "selective")
    return refuse("worker_compile_sac_tp", `torch 2.13 cannot compile the worker's selectively recomputed blocks beside tensor parallel on CPU ranks (AOTAutograd raises in the first step); use --no-compile, full or no recompute, or tp 1`);
  if (p.sequenceParallel && c.seqLen % p.tp !== 0)
    return refuse("worker_sp_seq", `sequence parallel needs tp = ${p.tp} to divide the sequence length ${c.seqLen}`);
  if (c.ffnHidden % p.tp !== 0) return refuse("worker_tp_ffn", `tp = ${p.tp} does not divide the MLP width ${c.ffnHidden}`);
  return null;
}
