// The whole run on one plan: time to train, GPU-hours, energy, cost and expected interruptions
// (shared/reference/formulas-scale.md §4.1).
import { checkpointPlan } from "./goodput.js";
import type { RunEstimate, RunInputs } from "./types.js";

/** Time, energy and cost of training `tokens` at `stepSeconds` per step of `tokensPerStep`.
 *  T_ideal = steps · t_step; T_wall = T_ideal / goodput (formulas-scale.md §4.1: T_wall =
 *  T_ideal / ETTR); energy E = N · T_wall · P · PUE (PUE as ISO/IEC 30134-2:2016 defines it;
 *  P the board power, as the Llama 3.1 model card counts it, or the node's power per GPU);
 *  cost = N · T_wall · price per GPU-hour. */
export function runEstimate(stepSeconds: number, i: RunInputs): RunEstimate {
  // Whole steps: a run of fewer tokens than one global batch still takes a step.
  const steps = Math.ceil(i.tokens / i.tokensPerStep);
  const idealSeconds = steps * stepSeconds;
  // The interval is capped at the run: a run shorter than it writes no checkpoint (goodput.ts).
  const checkpoint = checkpointPlan(i, stepSeconds, idealSeconds);
  const wallSeconds = idealSeconds / checkpoint.goodput;
  const gpuHours = (i.gpus * wallSeconds) / 3600;
  const energyMWh = i.powerPerGpu === null ? null : (gpuHours * i.powerPerGpu * i.pue) / 1e6;
  const failures = expectedFailures(i.gpus, wallSeconds / 3600, i.failuresPerGpuHour);
  return {
    checkpoint,
    idealSeconds,
    wallSeconds,
    days: wallSeconds / 86400,
    gpuHours,
    energyMWh,
    cost: i.price === null ? null : gpuHours * i.price,
    goodput: checkpoint.goodput,
    failures,
    lostSeconds: failures === 0 ? 0 : failures * checkpoint.lostPerFailure,
    steps,
  };
}

/** Below this goodput a run hardly progresses: restarts and lost work take over 99% of its time,
 *  and its figures (days, cost) measure the failure settings, not the training. */
export const MIN_GOODPUT = 0.01;

/** Why a run cannot be priced (its goodput under MIN_GOODPUT, or no finite wall time), with the
 *  figures that cause it; null when it can. */
export function runStall(e: RunEstimate, restartTime: number): { code: "run_stalls"; message: string } | null {
  if (e.goodput >= MIN_GOODPUT && Number.isFinite(e.wallSeconds)) return null;
  const c = e.checkpoint;
  // 1,578 h, 17 min, 101 s, 0.056 s (toPrecision alone writes 101 s as "1.0e+2 s").
  const h = (s: number) => (!Number.isFinite(s) ? "never" : s >= 36000 ? `${Math.round(s / 3600).toLocaleString("en-US")} h` : s >= 600 ? `${(s / 60).toFixed(0)} min` : s >= 10 ? `${Math.round(s)} s` : `${s.toPrecision(2)} s`);
  const g = e.goodput >= 0.001 ? `${(e.goodput * 100).toFixed(1)}%` : "under 0.1%";
  return {
    code: "run_stalls",
    message: `the run hardly progresses (goodput ${g}): interruptions every ${h(c.jobMtbf)} on average against a restart of ${h(restartTime)} and a checkpoint write of ${h(c.blocking)}${c.written ? "" : c.notWritten === "run shorter" ? " (none written: the run ends before the first)" : " (none written: one would cost more than it saves)"}; check the failure rate, the restart time and the checkpoint bandwidth`,
  };
}

/** Expected interruptions of a job of `gpus` GPUs over `hours` of wall-clock time. */
export function expectedFailures(gpus: number, hours: number, failuresPerGpuHour: number): number {
  return gpus * hours * failuresPerGpuHour;
}
