// The run's summary (a contract: these names are relied on): the plan, what was measured, what
// the planner predicted for it, and the relative error of each, (predicted − measured)/measured:
// paraplan's one convention (README "How the figures were calibrated", bench/accuracy.ts,
// calibrate), positive where the prediction is above the measurement (a step predicted slower).
import { type ModelSpec, type PlanResult, type Training, peakFlops } from "../planner/index.js";
import { recomputeFlopsPerStep } from "../planner/cost/flops.js";
import type { Hardware, Plan } from "../planner/index.js";
import { type CommRow, compareComms, predictedVolumes } from "./comms.js";
import { type Device, deviceOfProfile } from "./devices.js";
import type { MeasuredFromWorker } from "./events.js";
import { type ExecutionReport, executionOf } from "./execution.js";
import { planOnly } from "./plan-json.js";
import type { TimelineSummary } from "./step-timeline.js";

export interface Figures {
  stepTime: number | null;
  tokensPerSecond: number | null;
  mfu: number | null;
  peakMemory: number | null;
  flopsPerStep: number | null;
}

export interface Measured extends Figures {
  loss: number[];
}

/** The planner's communication time per step by group, seconds (PlanResult.time): tensor and
 *  pipeline parallel, the experts' all-to-all (a mixture-of-experts model) and the context-parallel
 *  exchange (cp > 1) on the critical path, and the data-parallel reduction the backward leaves exposed. */
export interface PredictedCommTime {
  tp: number;
  pp: number;
  ep?: number;
  cp?: number;
  dp: number;
}

export interface Summary {
  plan: Plan;
  steps: number;
  measured: Measured;
  predicted: Figures;
  error: Figures;
  runDir: string;
  model: string;
  device: Device;
  world: number;
  profile: string;
  collectives: { rows: CommRow[]; predictedTime: PredictedCommTime };
  /** Figures whose measured and predicted values are not the same quantity, with why: their
   *  `error` is arithmetic only (text shows "not comparable"). Empty when all compare. */
  notComparable?: NotComparable;
  /** Figures the worker measured none of, with its reason (a CPU rank's MemTracker that cannot
   *  follow a zero-bubble schedule's split backward): text shows "not measured". Absent when
   *  every figure was measured. */
  notMeasured?: NotComparable;
  /** The worker's figures beyond the contract (step times, memory breakdown, …). */
  worker?: Record<string, unknown>;
  /** The traced step, measured beside simulated (absent when the worker traced no step). */
  timeline?: TimelineSummary;
  /** Compiled or eager, compile time (apart from the step time) and the fast paths taken. */
  execution?: ExecutionReport;
  /** What went wrong after the worker's summary (torchrun's exit status, ranks that never
   *  exited): the figures stand; absent when the run ended cleanly. */
  teardown?: string;
  /** The unit of each figure above (SUMMARY_UNITS), so that a reader of summary.json or of
   *  `execute --json` need not guess seconds from milliseconds or bytes from MiB. */
  units?: typeof SUMMARY_UNITS;
}

/** The units of the summary's figures: SI base units throughout, as the planner computes them
 *  (seconds, bytes, FLOP), fractions as 0–1; keyed by the figure's name or its path. */
export const SUMMARY_UNITS = {
  stepTime: "s",
  tokensPerSecond: "tokens/s",
  mfu: "fraction of the profile's peak FLOP/s (0-1)",
  peakMemory: "bytes",
  flopsPerStep: "FLOP",
  loss: "nats per token (cross-entropy)",
  error: "fraction, (predicted - measured) / measured",
  "collectives.rows": "count: calls summed over ranks; bytes, predictedBytes: bytes",
  "collectives.predictedTime": "s",
  "worker.stepTimes, worker.compileTime, execution.compileTime": "s",
  "worker.peakMemoryBreakdown": "bytes",
  "timeline.measured, timeline.simulated, timeline.stages": "durations in s (bubbleFraction: fraction of the critical stage's compute; stage, criticalStage: indices)",
} as const;

/** What the planner says about the plan it chose. flopsPerStep is the hardware FLOPs of a step:
 *  model FLOPs (padded vocabulary) plus what recomputation re-runs. */
export function predictedFigures(m: ModelSpec, t: Training, r: PlanResult): Figures {
  return {
    stepTime: r.time.step,
    tokensPerSecond: r.tokensPerSecond,
    mfu: r.mfu,
    peakMemory: r.memory.total,
    flopsPerStep: r.modelFlopsPerStep + recomputeFlopsPerStep(m, t, r.recompute),
  };
}

/** MFU of a measured step: model FLOPs / (step time · devices · peak). None for CPU ranks,
 *  whose "peak" is an assumption, not a datasheet figure. */
export function measuredMfu(device: Device, modelFlops: number, stepTime: number | null, gpus: number, peak: number): number | null {
  if (device === "cpu" || stepTime === null || !(stepTime > 0) || !(peak > 0)) return null;
  return modelFlops / (stepTime * gpus * peak);
}

/** (predicted − measured)/measured, the error of a prediction as paraplan states it everywhere
 *  (README "How the figures were calibrated"): +10 % is a step time predicted 10 % slower than
 *  measured. Null when either is missing or measured is 0. (It was measured ÷ predicted − 1 here,
 *  the opposite sign of calibrate's and the bench's for the same run: QA.) */
export function relativeError(measured: number | null, predicted: number | null): number | null {
  if (measured === null || predicted === null || !Number.isFinite(measured) || !Number.isFinite(predicted) || measured === 0)
    return null;
  return (predicted - measured) / measured;
}

export function errors(measured: Figures, predicted: Figures): Figures {
  return {
    stepTime: relativeError(measured.stepTime, predicted.stepTime),
    tokensPerSecond: relativeError(measured.tokensPerSecond, predicted.tokensPerSecond),
    mfu: relativeError(measured.mfu, predicted.mfu),
    peakMemory: relativeError(measured.peakMemory, predicted.peakMemory),
    flopsPerStep: relativeError(measured.flopsPerStep, predicted.flopsPerStep),
  };
}

export type NotComparable = Partial<Record<keyof Figures, string>>;

/**
 * Which predictions do not describe what ran. A profile of the other kind of device (a GPU
 * profile for CPU ranks, the cpu profile for GPUs) predicts time, throughput and MFU for other
 * hardware. On CPU ranks the measured peak is the tensors MemTracker counts, while the planner's
 * memory adds the profile's per-process reserve, allocator fragmentation and gradient buckets:
 * not the same quantity. FLOPs per step do not depend on the device and always compare.
 */
export function notComparable(device: Device, hw: Hardware, profile: string): NotComparable {
  const out: NotComparable = {};
  const profileDevice = deviceOfProfile(hw.gpuName);
  if (profileDevice !== device) {
    const why = `predicted for ${hw.gpuName} (profile ${profile}), measured on ${device === "cpu" ? "CPU ranks" : "CUDA GPUs"}`;
    out.stepTime = why;
    out.tokensPerSecond = why;
    out.mfu = why;
  }
  if (device === "cpu")
    out.peakMemory = `measured: the tensors MemTracker counts on the busiest CPU rank; predicted: the planner's memory per device, with profile ${profile}'s ${(hw.reserve / 2 ** 20).toFixed(0)} MiB process reserve, allocator fragmentation and gradient buckets`;
  return out;
}

/** A step time the worker could take only from step 1 (warm-up: one-time work) or from the
 *  instrumented step (FLOP, memory and collective counters on): with --steps 1 or 2 no plain step
 *  is left to time (worker/main.py timed_steps), and it is no measure of the plan's step. */
export function oneOffStep(extra: Record<string, unknown> | undefined): NotComparable {
  const timed = extra?.timedSteps;
  const probe = extra?.measuredStep;
  if (!Array.isArray(timed) || timed.length === 0 || !timed.every((k) => k === 1 || k === probe)) return {};
  const k = timed[0] as number;
  const which = k === 1 ? "step 1, the warm-up (one-time work: allocation, lazy initialisation, compilation)" : `step ${k}, the instrumented step (FLOP, memory and collective counters on)`;
  const why = `measured on ${which}, the only step left to time; --steps 3 or more times plain steps`;
  return { stepTime: why, tokensPerSecond: why, mfu: why };
}

/** The measured figures the worker has no value for, and why, from its own account (summary
 *  `peakMemorySource` "none (<reason>)", executor/worker/main.py). */
export function notMeasured(measured: Figures, extra: Record<string, unknown> | undefined): NotComparable {
  if (measured.peakMemory !== null) return {};
  const src = extra?.peakMemorySource;
  const why = typeof src === "string" ? /^none \((.*)\)$/s.exec(src)?.[1] : undefined;
  return { peakMemory: why ?? "the worker reported no peak" };
}

const finite = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

export interface SummaryInput {
  model: ModelSpec;
  hw: Hardware;
  profile: string;
  training: Training;
  result: PlanResult;
  device: Device;
  runDir: string;
  /** Step events received. */
  steps: number;
  worker: MeasuredFromWorker;
  /** CPU ranks on this node and the cores they had: more ranks than cores share them. */
  cpuShare?: { ranks: number; cores: number };
}

/** More CPU ranks than cores: each rank ran at a fraction of the core the profile times. */
function sharedCores(device: Device, share: SummaryInput["cpuShare"]): NotComparable {
  if (device !== "cpu" || share === undefined || !(share.ranks > share.cores)) return {};
  const why = `${share.ranks} CPU ranks shared ${share.cores} core${share.cores === 1 ? "" : "s"}: each ran at about 1/${(share.ranks / share.cores).toFixed(1)} of the core the profile times`;
  return { stepTime: why, tokensPerSecond: why, mfu: why };
}

export function buildSummary(i: SummaryInput): Summary {
  const predicted = predictedFigures(i.model, i.training, i.result);
  const w = i.worker;
  const stepTime = finite(w.stepTime);
  const measured: Measured = {
    stepTime,
    tokensPerSecond: finite(w.tokensPerSecond),
    mfu: measuredMfu(i.device, i.result.modelFlopsPerStep, stepTime, i.training.gpus, peakFlops(i.hw, i.training)),
    peakMemory: finite(w.peakMemory),
    flopsPerStep: finite(w.flopsPerStep),
    loss: w.loss,
  };
  const t = i.result.time;
  // A figure not measured is not "not comparable" for a reason about what was measured.
  const absent = notMeasured(measured, w.extra);
  const comparable: NotComparable = { ...oneOffStep(w.extra), ...sharedCores(i.device, i.cpuShare), ...notComparable(i.device, i.hw, i.profile) };
  for (const k of Object.keys(absent) as (keyof Figures)[]) delete comparable[k];
  return {
    plan: planOnly(i.result),
    steps: i.steps,
    measured,
    predicted,
    error: errors(measured, predicted),
    runDir: i.runDir,
    model: i.model.name,
    device: i.device,
    world: i.training.gpus,
    profile: i.profile,
    collectives: {
      rows: compareComms(w.comms, predictedVolumes(i.model, i.training, i.result)),
      predictedTime: { tp: t.tpComm, pp: t.ppComm, ...(i.model.moe !== undefined ? { ep: t.epComm } : {}), ...(i.result.cp > 1 ? { cp: t.cpComm } : {}), dp: t.dpComm },
    },
    notComparable: comparable,
    ...(Object.keys(absent).length > 0 ? { notMeasured: absent } : {}),
    worker: w.extra ?? {},
    ...withExecution(w.extra),
    units: SUMMARY_UNITS,
  };
}

function withExecution(extra: Record<string, unknown> | undefined): { execution?: ExecutionReport } {
  const e = executionOf(extra);
  return e === null ? {} : { execution: e };
}
