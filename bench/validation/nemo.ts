// Out-of-sample check of the default engine: NVIDIA's own published Megatron-Core (NeMo) throughput
// tables on DGX-H100, which no calibration row comes from and nothing is fitted to
// (bench/data/nemo-performance.csv: the NeMo 24.07 pretraining summary's Llama rows and the NeMo
// 24.03 long-sequence table, LLAMA2-7B with context parallel from 4K to 1M tokens). Each row is
// predicted with megatron-core on dgx-h100 at its stated parallel sizes, the rest searched, as a
// calibration row is (bench/calibration/predict.ts). Printed by `npm run bench`; no target: it
// says how far the fitted profiles carry to Llama-family fp8 runs and to long sequences.
//
// The tables give model TFLOP/s per GPU. NeMo counts them with the full s×s attention square
// (NeMo 24.07's LLAMA2-7B row: 776 TFLOP/s at 16,847 tokens/s is 46.06 GFLOP a token, the
// full-square count of planner/cost/flops.ts modelFlopsPerStep, 46.08 at the unpadded vocabulary),
// so the measured step time is that count over the GPUs' measured rate.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { type Fixed, type Precision, type Training, onEngine, search } from "../../planner/index.js";
import { modelFlopsPerStep } from "../../planner/cost/flops.js";
import { loadModel, loadProfile, packageRoot } from "../../src/load.js";
import { loadEngine } from "../../src/load-engine.js";
import { table } from "../../src/format/units.js";
import { planText } from "../calibration/predict.js";
import type { EngineValidation } from "../../src/calibration-standing.js";

type Csv = Record<string, string>;

/** Tokens a step where a table does not state its batch: the page's later B200 table of the same
 *  sweep states 4,194,304 at every length (512 × 8K … 4 × 1M); at pp 1 the batch only spreads
 *  the data-parallel reduction over more micro-batches. */
const ASSUMED_STEP_TOKENS = 4_194_304;

export interface ValidationRow {
  id: string;
  seqLen: number;
  measured: number;
  predicted: number | null;
  error: number | null;
  plan: string;
}

const num = (s: string | undefined) => (s === undefined || s === "" ? undefined : Number(s));

export function predictNemo(): ValidationRow[] {
  const rows = parse(readFileSync(join(packageRoot(), "bench", "data", "nemo-performance.csv"), "utf8"), { columns: true, skip_empty_lines: true }) as Csv[];
  const hw = loadProfile("dgx-h100");
  const engine = loadEngine("megatron-core");
  return rows.map((r) => {
    const model = loadModel(r.model!);
    const gpus = Number(r.gpus);
    const seqLen = Number(r.seq_len);
    const [tp, pp, cp] = [Number(r.tp), Number(r.pp), Number(r.cp)];
    const dp = gpus / (tp * pp * cp);
    const globalBatch = num(r.global_batch) ?? Math.max(dp, ASSUMED_STEP_TOKENS / seqLen);
    const training: Training = onEngine({ gpus, globalBatch, seqLen, precision: r.precision as Precision, fusedAttention: true, overlapGradReduce: true }, engine);
    const fixed: Fixed = { tp, pp, dp, ...(cp > 1 ? { cp } : {}), ...(num(r.vpp) !== undefined ? { vpp: num(r.vpp)! } : {}), ...(num(r.micro_batch) !== undefined ? { microBatch: num(r.micro_batch)! } : {}) };
    // The measured step: NeMo's full-square model FLOPs (unpadded vocabulary) at the stated rate.
    const measured = modelFlopsPerStep(model, { globalBatch, seqLen }, model.vocab) / (gpus * Number(r.measured_tflops_per_gpu) * 1e12);
    const best = search(model, hw, training, fixed, { top: 1 }).plans[0];
    if (!best) return { id: r.id!, seqLen, measured, predicted: null, error: null, plan: "no plan fits" };
    return { id: r.id!, seqLen, measured, predicted: best.time.step, error: (best.time.step - measured) / measured, plan: planText(best) };
  });
}

/** The rows as megatron-core's out-of-sample record in profiles/calibration.json (what `plan`
 *  says where a request lies outside the fitted runs). */
export function nemoValidation(rows: readonly ValidationRow[] = predictNemo()): EngineValidation {
  const errs = rows.filter((r) => r.error !== null).map((r) => Math.abs(r.error!));
  const seq = rows.map((r) => r.seqLen);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    label: "NVIDIA's Megatron-Core tables (NeMo 24.03 and 24.07, Llama at fp8 on DGX-H100)",
    runs: errs.length,
    seqLen: [Math.min(...seq), Math.max(...seq)],
    mean: round(errs.reduce((a, e) => a + e, 0) / errs.length),
    max: round(Math.max(...errs)),
  };
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;

/** Prints the table and each group's mean error; returns the rows. */
export function runNemoValidation(): ValidationRow[] {
  const rows = predictNemo();
  console.log("Out of sample: NVIDIA's Megatron-Core (NeMo) tables on DGX-H100, megatron-core engine, nothing fitted to them");
  console.log("");
  console.log(table(["row", "measured s", "predicted s", "error", "plan"], rows.map((r) => [r.id, r.measured.toFixed(3), r.predicted?.toFixed(3) ?? "-", r.error === null ? "-" : pct(r.error), r.plan]), [false, true, true, true, false]));
  for (const [label, prefix] of [["NeMo 24.07 pretraining, Llama fp8", "NEMO2407"], ["NeMo 24.03 long sequence, LLAMA2-7B fp8, 4K–1M tokens", "NEMO2403"]] as const) {
    const errs = rows.filter((r) => r.id.startsWith(prefix) && r.error !== null).map((r) => r.error!);
    const mean = errs.reduce((a, e) => a + Math.abs(e), 0) / errs.length;
    const signed = errs.reduce((a, e) => a + e, 0) / errs.length;
    console.log(`${label}: ${errs.length} rows, mean |error| ${(100 * mean).toFixed(1)}% (signed ${pct(signed)}), worst ${(100 * Math.max(...errs.map(Math.abs))).toFixed(1)}%`);
  }
  return rows;
}
