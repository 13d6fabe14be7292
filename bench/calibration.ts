// Published training runs (bench/data/published-runs.csv, copied from shared/calibration) turned
// into planner inputs, and the planner's step time for each compared with the measured one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { type Engine, type Fixed, type Hardware, type ModelSpec, type Training, fusedAttentionOf, search } from "../planner/index.js";
import { loadEngine } from "../src/load-engine.js";
import { loadProfile, packageRoot } from "../src/load.js";

export interface CalibrationRow {
  id: string;
  model: ModelSpec;
  profile: string;
  training: Training;
  fixed: Fixed;
  measuredStepTime: number;
}

type Csv = Record<string, string>;
const num = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : Number(s));

/** Measured step time. MEG21 rows give TFLOP/s per GPU counted with the recomputed forward:
 *  F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)) per iteration (Narayanan et al. 2021 Eq. 3), so
 *  step = F / (GPUs · TFLOP/s). DGXC rows give the step time itself. */
export function measuredStepTime(r: Csv): number {
  const value = Number(r.measured_value);
  if (r.measured_metric === "iter_time_s") return value;
  if (r.measured_metric === "tflops_per_gpu") {
    const [B, s, l, h, V, n] = [r.global_batch, r.seq_len, r.layers, r.hidden, r.vocab, r.gpus].map(Number) as number[];
    const F = 96 * B! * s! * l! * h! * h! * (1 + s! / (6 * h!) + V! / (16 * l! * h!));
    return F / (n! * value * 1e12);
  }
  throw new Error(`calibration row ${r.id}: unsupported metric ${r.measured_metric}`);
}

/** The engine a source ran (the calibration README's table of sources and stacks). */
export function engineFor(r: Csv): string {
  return r.id!.startsWith("MEG21") ? "megatron-2021" : "megatron-core";
}

const rowEngine = (r: Csv): Engine => loadEngine(engineFor(r));

function profileFor(r: Csv): string {
  if (r.gpu?.startsWith("A100-SXM4")) return Number(r.gpu_mem_gb) >= 80 ? "dgx-a100-80g" : "dgx-a100-40g";
  if (r.gpu?.startsWith("H100-SXM")) return "dgx-h100";
  throw new Error(`calibration row ${r.id}: no built-in profile for GPU ${r.gpu}`);
}

export function rowToInputs(r: Csv): CalibrationRow {
  const h = Number(r.hidden);
  const heads = Number(r.heads);
  const model: ModelSpec = {
    name: r.model_name ?? r.id!,
    layers: Number(r.layers),
    hidden: h,
    heads,
    kvHeads: num(r.kv_heads) ?? heads,
    ffnHidden: num(r.ffn_hidden) ?? 4 * h,
    vocab: Number(r.vocab),
    defaultSeqLen: Number(r.seq_len),
    mlp: "gelu",
    positional: "learned",
    tiedEmbeddings: true,
    dropout: true,
  };
  // Precision and attention kernel are facts of each source's software, not fitted factors:
  // Megatron-LM in 2021 trained in fp16 with a fused softmax over materialised s×s scores
  // (Narayanan et al. 2021 §4.2); NeMo 25.04 trains in bf16 with cuDNN flash attention.
  const meg21 = r.id!.startsWith("MEG21");
  // The row's software is its engine (profiles/engines): Megatron-LM 2021 materialised the
  // scores and all-reduced gradients after the backward pass (megatron/model/distributed.py,
  // allreduce_gradients); overlap with backward arrived with --overlap-grad-reduce in 2023.
  const engine = rowEngine(r);
  const training: Training = {
    gpus: Number(r.gpus),
    globalBatch: Number(r.global_batch),
    seqLen: Number(r.seq_len),
    precision: meg21 ? "fp16" : "bf16",
    fusedAttention: fusedAttentionOf(engine),
    overlapGradReduce: engine.dataParallel.overlapGradReduce,
    engine,
  };
  const fixed: Fixed = {};
  const put = <K extends keyof Fixed>(k: K, v: Fixed[K] | undefined) => {
    if (v !== undefined) fixed[k] = v;
  };
  put("tp", num(r.tp));
  put("pp", num(r.pp));
  put("dp", num(r.dp));
  put("vpp", num(r.vpp));
  put("zero", num(r.zero_stage) as Fixed["zero"]);
  put("microBatch", num(r.micro_batch));
  if (r.sp === "yes" || r.sp === "no") fixed.sequenceParallel = r.sp === "yes";
  if (r.recompute === "full" || r.recompute === "selective" || r.recompute === "none") fixed.recompute = r.recompute;
  return { id: r.id!, model, profile: profileFor(r), training, fixed, measuredStepTime: measuredStepTime(r) };
}

export function loadCalibrationRows(): CalibrationRow[] {
  const text = readFileSync(join(packageRoot(), "bench", "data", "published-runs.csv"), "utf8");
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Csv[];
  return rows.map(rowToInputs);
}

export interface CalibrationResult {
  row: CalibrationRow;
  predicted: number | null;
  error: number | null;
  plan: string;
}

/** Predict each row: its stated dimensions fixed, the others searched (best plan wins). */
export function predictRow(row: CalibrationRow, hw: Hardware = loadProfile(row.profile)): CalibrationResult {
  const r = search(row.model, hw, row.training, row.fixed, { top: 1 });
  const best = r.plans[0];
  if (!best) return { row, predicted: null, error: null, plan: "no plan fits" };
  const plan = `tp${best.tp} pp${best.pp} vpp${best.vpp} dp${best.dp} z${best.zero} mbs${best.microBatch} ${best.recompute}${best.sequenceParallel ? " sp" : ""}`;
  return { row, predicted: best.time.step, error: (best.time.step - row.measuredStepTime) / row.measuredStepTime, plan };
}
