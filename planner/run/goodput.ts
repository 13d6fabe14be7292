// Checkpointing for one job under failures: the job's MTBF from a per-GPU rate, the blocking and
// persist times of a checkpoint, the goodput-maximising interval and the goodput it gives.
import { dalyInterval, goodputOf, youngInterval } from "./checkpoint.js";
import type { CheckpointPlan, RunInputs } from "./types.js";

/** Job MTBF, seconds: failures are independent across GPUs, so a job of N GPUs is interrupted at
 *  N times the per-GPU rate (a series system; Kokolis et al., "Revisiting Reliability in
 *  Large-Scale Machine Learning Research Clusters", HPCA 2025, arXiv 2410.21680: job MTTF =
 *  1/(N_nodes·r_f)). */
export function jobMtbf(gpus: number, failuresPerGpuHour: number): number {
  const perSecond = (gpus * failuresPerGpuHour) / 3600;
  return perSecond > 0 ? 1 / perSecond : Infinity;
}

type CheckpointInputs = Pick<
  RunInputs,
  "gpus" | "failuresPerGpuHour" | "checkpointBytes" | "checkpointBytesPerGpu" | "checkpointBandwidth" | "stagingBandwidth" | "restartTime" | "mode"
>;

/** How long a checkpoint blocks training and how long until it is on storage.
 *  Persist: one copy of the model states at the storage's aggregate write bandwidth, and no faster
 *  than each GPU can move its own states off the device. Sync blocks for the whole write; async
 *  only for the device-to-host copy, the write to storage then overlapping training (PyTorch
 *  blog, "Reducing Model Checkpointing Times by Over 10x with PyTorch Distributed Asynchronous
 *  Checkpointing", 2024: 7B stall 148.8 s → 6.3 s; formulas-scale.md §4.2, §4.4). */
export function checkpointTimes(i: CheckpointInputs): { blocking: number; persist: number; staging: number; storageWrite: number } {
  const staging = i.checkpointBytesPerGpu / i.stagingBandwidth;
  const storageWrite = i.checkpointBytes / i.checkpointBandwidth;
  const persist = Math.max(storageWrite, staging);
  return { blocking: i.mode === "sync" ? persist : staging, persist, staging, storageWrite };
}

/** The checkpoint interval that maximises goodput and what the job keeps of its time.
 *  Async: a checkpoint cannot start before the previous one is on storage, so the interval is at
 *  least the persist time, and an interruption also loses the checkpoint still being written:
 *  modelled as the persist time added to the restart (derived, first order).
 *  `step` (seconds; 0: none): a checkpoint is taken between optimizer steps (Megatron's
 *  --save-interval counts iterations), so the interval is a whole number of steps, at least one:
 *  of the whole counts either side of the optimum, the one Daly's goodput prefers.
 *  `run` (seconds of compute; Infinity: unbounded): the interval is capped at the run's length. A
 *  run that ends before its first checkpoint writes none, and neither does one that expects less
 *  time as one stretch without checkpoints: Daly 2006's expected time for T of work with no
 *  checkpoint, M·e^{R/M}·(e^{T/M} − 1) (formulas-scale.md §4.2 with τ = T, δ = 0). */
export function checkpointPlan(i: CheckpointInputs, step = 0, run = Infinity): CheckpointPlan {
  const plan = checkpointPlanAs(i, step);
  // Async can always wait for each write, as sync does (DCP's async_save returns a future the
  // loop may wait on): where the storage is so slow that the overlapped write loses, it waits.
  const waiting = i.mode === "async" ? checkpointPlanAs({ ...i, mode: "sync" }, step) : plan;
  const best = waiting.goodput > plan.goodput ? { ...waiting, asyncWaits: true } : plan;
  if (!(run > 0 && Number.isFinite(run))) return best;
  const mtbf = best.jobMtbf;
  // One stretch of `run` with no checkpoint: no write, no write in flight to lose.
  const goodput = goodputOf(run, 0, i.restartTime, mtbf);
  const shorter = !(best.interval < run);
  if (!shorter && !(goodput >= best.goodput)) return best;
  const { asyncWaits: _, ...rest } = best;
  return {
    ...rest,
    written: false,
    notWritten: !Number.isFinite(mtbf) ? "no failures" : shorter ? "run shorter" : "not worth it",
    interval: run,
    ...(step > 0 ? { intervalSteps: Math.round(run / step) } : {}),
    intervalIsPersist: false,
    // The wall-clock time not training, over its wall/M interruptions (as below, with no writes).
    // (NaN with no failures: no interruption to lose anything to; types.ts lostPerFailure)
    lostPerFailure: Number.isFinite(mtbf) ? Math.max(0, mtbf * (1 - goodput)) : NaN,
    goodput,
  };
}

/** The whole number of steps (≥ 1, and with async ≥ the persist time) nearest `interval` that
 *  Daly's goodput prefers: T_w(τ) is unimodal, so the best whole count is one of the two around it. */
function wholeSteps(interval: number, step: number, least: number, g: (tau: number) => number): number {
  const lo = Math.max(1, Math.ceil(least / step - 1e-9), Math.floor(interval / step));
  const hi = Math.max(lo, Math.ceil(interval / step));
  return g(hi * step) > g(lo * step) ? hi : lo;
}

function checkpointPlanAs(i: CheckpointInputs, step: number): CheckpointPlan {
  const mtbf = jobMtbf(i.gpus, i.failuresPerGpuHour);
  const { blocking, persist, staging, storageWrite } = checkpointTimes(i);
  const restart = i.restartTime + (i.mode === "async" ? persist : 0);
  const optimum = Number.isFinite(mtbf) ? dalyInterval(blocking, mtbf) : Infinity;
  const intervalIsPersist = i.mode === "async" && persist > optimum;
  const continuous = intervalIsPersist ? persist : optimum;
  const least = i.mode === "async" ? persist : 0;
  const steps = step > 0 && Number.isFinite(continuous) ? wholeSteps(continuous, step, least, (tau) => goodputOf(tau, blocking, restart, mtbf)) : undefined;
  const interval = steps === undefined ? continuous : steps * step;
  const goodput = Number.isFinite(interval) ? goodputOf(interval, blocking, restart, mtbf) : 1;
  // Expected loss per interruption: the wall-clock time neither training nor writing checkpoints,
  // over the interruptions (wall / M). Per unit of wall time that is 1 − g·(1 + δ/τ), so M·(1 −
  // g·(1 + δ/τ)). While R, τ ≪ M this is formulas-scale.md §4.2's τ/2 (+ δ/2) + R; near M it is
  // smaller, as Daly 2006's expected wall time lets an interruption strike a restart, whose loss
  // is then at most the restart so far. So the losses, the checkpoints and the ideal time add up
  // to the wall-clock time.
  // With no failures (M infinite) no interruption is expected, and a loss per one is undefined:
  // NaN (types.ts lostPerFailure), not the restart time it read. A finite M with an unbounded
  // interval cannot arise (the optimum is finite wherever M is).
  const lostPerFailure = !Number.isFinite(mtbf) ? NaN : Number.isFinite(interval) ? Math.max(0, mtbf * (1 - goodput * (1 + blocking / interval))) : restart;
  return { jobMtbf: mtbf, blocking, persist, staging, storageWrite, written: true, interval, optimum, ...(steps !== undefined ? { intervalSteps: steps } : {}), young: youngInterval(blocking, mtbf), intervalIsPersist, lostPerFailure, goodput };
}
