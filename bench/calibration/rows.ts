// Published training runs (bench/data/published-runs.csv, copied from shared/calibration) turned
// into planner inputs: the model, the hardware profile, the training, the dimensions the source
// states (the rest is searched), the engine the source ran and the measured step time.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { type Engine, type Fixed, type ModelSpec, type Precision, type Schedule, type Training, fusedAttentionOf, middleHeavySplit, withOverrides } from "../../planner/index.js";
import { packageRoot } from "../../src/load.js";
import { type EngineName, engineCache, engineOfRow } from "./engine-of-row.js";
import { type Csv, globalBatchOf, measuredPeakMemory, measuredStepTime, num } from "./measured.js";

export interface CalibrationRow {
  id: string;
  /** The id's prefix: MEG21, NAR21T2, MEG24, DGXC, MPT, TT24. */
  source: string;
  model: ModelSpec;
  profile: string;
  engine: EngineName;
  training: Training;
  fixed: Fixed;
  /** Context-parallel degree the run used (> 1: not expressible until context parallel lands). */
  cp: number;
  measuredStepTime: number;
  /** Peak memory the source states, bytes (torchtitan rows). */
  measuredMemory?: number;
  /** What configures the run, for grouping distinct configurations (Spearman groups). */
  configKey: string;
  /** Model and GPU count: the Spearman group. */
  groupKey: string;
}

export function sourceOf(id: string): string {
  if (id.startsWith("DGXC")) return "DGXC";
  return id.split("-")[0]!;
}

function profileFor(r: Csv): string {
  const gpu = r.gpu ?? "";
  if (gpu.startsWith("A100")) return Number(r.gpu_mem_gb) >= 80 ? "dgx-a100-80g" : "dgx-a100-40g";
  if (/500W/.test(gpu)) return "h100-96g-500w";
  if (gpu.startsWith("H100")) return "dgx-h100";
  throw new Error(`calibration row ${r.id}: no built-in profile for GPU ${gpu}`);
}

/** Precision the matmuls ran in: fp16 for Megatron-LM / DeepSpeed of 2021 (Narayanan et al. 2021
 *  §5), fp8 where the notes say FP8/Float8/amp_fp8, else bf16. */
function precisionOf(r: Csv, engine: EngineName): Precision {
  if (engine === "megatron-2021" || engine === "megatron-deepspeed") return "fp16";
  return /\bFP8\b|Float8|amp_fp8/.test(r.notes ?? "") ? "fp8" : "bf16";
}

/** Architecture by family: Llama 3.1 (rotary, SwiGLU, untied, no dropout; Meta's params.json),
 *  MPT (ALiBi, GELU, tied, no dropout; llm-foundry configuration_mpt.py), GPT (learned positions,
 *  GELU, tied, dropout 0.1; Megatron-LM defaults). */
function modelOf(r: Csv): ModelSpec {
  const h = Number(r.hidden);
  const heads = Number(r.heads);
  const llama = /Llama/i.test(r.model_name ?? "");
  const mpt = r.id!.startsWith("MPT");
  return {
    name: r.model_name ?? r.id!,
    layers: Number(r.layers),
    hidden: h,
    heads,
    kvHeads: num(r.kv_heads) ?? heads,
    ffnHidden: num(r.ffn_hidden) ?? 4 * h,
    vocab: Number(r.vocab),
    defaultSeqLen: Number(r.seq_len),
    mlp: llama ? "swiglu" : "gelu",
    positional: llama ? "rope" : mpt ? "alibi" : "learned",
    tiedEmbeddings: !llama,
    dropout: !llama && !mpt,
  };
}

/** Narayanan et al. 2021 state only the model-parallel size t·p of their 175B PTD-P runs (Table 2:
 *  96, NAR21T2-07…09). The paper's own rule fills t: tensor parallelism up to the GPUs of one server,
 *  pipeline parallelism beyond it (Takeaway #1), as every one of its Table 1 runs beyond 8-way
 *  model parallelism has it (t = 8). The pipeline degree follows from the stated data-parallel one. */
function paperTensorParallel(r: Csv): number | undefined {
  const dp = num(r.dp);
  if (sourceOf(r.id!) !== "NAR21T2" || !/PTD-P/.test(r.model_name ?? "") || dp === undefined) return undefined;
  return Math.min(Number(r.gpus_per_node), Number(r.gpus) / dp);
}

/** torchtitan's pipelining splits the local batch into as many micro-batches as there are stages
 *  (pipeline_parallel_microbatches defaults to the stage count, torchtitan 9dec370
 *  parallelisms/pipeline_llama.py), so the micro-batch is local/pp. */
function fixedOf(r: Csv): Fixed {
  const fixed: Fixed = {};
  const put = <K extends keyof Fixed>(k: K, v: Fixed[K] | undefined) => {
    if (v !== undefined) fixed[k] = v;
  };
  put("tp", num(r.tp) ?? paperTensorParallel(r));
  put("pp", num(r.pp));
  put("dp", num(r.dp));
  // Context parallel (the TT24 long-context rows): torchtitan 9dec370 runs torch's
  // context_parallel with its default rotate method, all-gather (torch/distributed/tensor/
  // experimental/_attention.py _cp_options.rotate_method @ Dec 2024: K/V gathered once per layer,
  // their gradients reduce-scattered), and its load balancer on (zig-zag): paraplan's allgather.
  const cp = num(r.cp) ?? 1;
  if (cp > 1) Object.assign(fixed, { cp, cpComm: "allgather", cpSplit: "zigzag" } satisfies Fixed);
  put("vpp", num(r.vpp));
  put("zero", num(r.zero_stage) as Fixed["zero"]);
  const mb = num(r.micro_batch);
  const pp = num(r.pp) ?? 1;
  put("microBatch", mb !== undefined && r.id!.startsWith("TT24") && pp > 1 ? Math.max(1, mb / pp) : mb);
  if (r.sp === "yes" || r.sp === "no") fixed.sequenceParallel = r.sp === "yes";
  if (r.recompute === "full" || r.recompute === "selective" || r.recompute === "none") fixed.recompute = r.recompute;
  // A recompute the row does not state is searched among those its engine runs (the 2021 stacks:
  // full only, Engine.recompute).
  const schedule: Schedule | undefined = /Interleaved 1F1B/.test(r.notes ?? "") ? "interleaved" : /\b1F1B\b/.test(r.notes ?? "") ? "1f1b" : undefined;
  put("schedule", schedule);
  // torchtitan without split points splits uneven layer counts itself (planner/layout/stages.ts
  // middleHeavySplit): 126 layers on 8 single-stage ranks (TT24-13, TT24-15) as 15,16×6,15. Its
  // multi-stage schedules take two stages per rank by default and split the 2p virtual stages the
  // same way (generate_split_points, torchtitan 9dec370 torchtitan/parallelisms/
  // pipelining_utils.py: num_stages_per_rank = 2 for PipelineScheduleMulti), rank r holding r and
  // r + p (stage_ids_this_rank, style "loop"): TT24-14's 126 layers on 16 as 7,8×14,7 — ranks hold
  // 15, 16×6, 15 layers.
  const layers = Number(r.layers);
  if (r.id!.startsWith("TT24") && pp > 1) {
    const vpp = schedule === "interleaved" ? fixed.vpp ?? 2 : 1;
    if (schedule === "interleaved") fixed.vpp = vpp;
    if (layers % (pp * vpp) !== 0) fixed.stageLayers = middleHeavySplit(layers, pp * vpp);
  }
  return fixed;
}

/** Whether the run overlapped tensor-parallel communication (Megatron's --tp-comm-overlap): the
 *  MEG24 benchmark ran with it (its weak-scaling rows' notes quote the README's flags; the two
 *  strong-scaling rows take the 177B row's setup), and so did NVIDIA's GPT-3 175B recipe the DGXC
 *  rows ran (ub_tp_comm_overlap: true in dgxc-benchmarking nemo_megatron/gpt3_175b_hydra.yaml @ 35a9aec). */
export function tpCommOverlapOf(r: Csv): boolean {
  // torchtitan's async TP (enable_async_tensor_parallel, compiled): the TT24 rows whose notes name it.
  return ["MEG24", "DGXC"].includes(sourceOf(r.id!)) || (sourceOf(r.id!) === "TT24" && /AsyncTP/.test(r.notes ?? ""));
}

/** Whether the run reduced its gradients in bf16 where its engine's default is fp32: NVIDIA's
 *  GPT-3 175B recipe the DGXC rows ran sets optim.grad_sync_dtype: bf16 (dgxc-benchmarking
 *  nemo_megatron/gpt3_175b_hydra.yaml @ 35a9aec); Megatron-LM's own scripts (MEG24) keep its bf16
 *  default, fp32 (megatron/training/arguments.py accumulate_allreduce_grads_in_fp32). */
export function gradReduceInBf16Of(r: Csv): boolean {
  return sourceOf(r.id!) === "DGXC";
}

/** Whether the run reduced its gradients in fp32 where its engine's default is 16-bit: llm-foundry
 *  rows whose notes say `MP mode=DEFAULT` ran Composer's FSDP mixed_precision DEFAULT (param and
 *  buffer dtype bf16, reduce_dtype fp32; composer/distributed/mosaic_fsdp_utils.py
 *  get_mixed_precision), where the fsdp engine's default is PURE (all bf16). */
export function gradReduceInFp32Of(r: Csv): boolean {
  return sourceOf(r.id!) === "MPT" && /MP mode=DEFAULT/.test(r.notes ?? "");
}

const CONFIG_COLUMNS = ["seq_len", "gpu", "gpu_mem_gb", "tp", "pp", "vpp", "dp", "cp", "zero_stage", "sp", "recompute", "micro_batch", "global_batch"];

const defaultEngines = engineCache();

/** A row as planner inputs; `engines` loads an engine profile by name (default: the built-ins). */
export function rowToInputs(r: Csv, engines: (name: EngineName) => Engine = defaultEngines): CalibrationRow {
  const engine = engineOfRow(r);
  const model = modelOf(r);
  const loaded = engines(engine);
  const e = withOverrides(loaded, { tpCommOverlap: tpCommOverlapOf(r), gradReduceInBf16: gradReduceInBf16Of(r), gradReduceInFp32: gradReduceInFp32Of(r) });
  const training: Training = {
    gpus: Number(r.gpus),
    globalBatch: globalBatchOf(r),
    seqLen: Number(r.seq_len),
    precision: precisionOf(r, engine),
    fusedAttention: fusedAttentionOf(e),
    overlapGradReduce: e.dataParallel.overlapGradReduce,
    engine: e,
  };
  const measuredMemory = measuredPeakMemory(r);
  const row: CalibrationRow = {
    id: r.id!,
    source: sourceOf(r.id!),
    model,
    profile: profileFor(r),
    engine,
    training,
    fixed: fixedOf(r),
    cp: num(r.cp) ?? 1,
    measuredStepTime: measuredStepTime(r),
    configKey: [...CONFIG_COLUMNS.map((c) => r[c] ?? ""), engine, training.precision].join("|"),
    groupKey: `${r.model_name}|${r.gpus}`,
  };
  if (measuredMemory !== undefined) row.measuredMemory = measuredMemory;
  return row;
}

/** What of a row's run selects fitted figures beyond its profile and engine (params.ts keysOf). */
export const runOf = (r: CalibrationRow) => ({ fp8: r.training.precision === "fp8", tpOverlap: r.training.engine?.tensorParallel.overlapNeedsSp === true });

export function readCalibrationCsv(): Csv[] {
  const text = readFileSync(join(packageRoot(), "bench", "data", "published-runs.csv"), "utf8");
  return parse(text, { columns: true, skip_empty_lines: true }) as Csv[];
}

export function loadCalibrationRows(): CalibrationRow[] {
  return readCalibrationCsv().map((r) => rowToInputs(r));
}
