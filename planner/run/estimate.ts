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
  const checkpoint = checkpointPlan(i);
  const steps = i.tokens / i.tokensPerStep;
  const idealSeconds = steps * stepSeconds;
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

/** Expected interruptions of a job of `gpus` GPUs over `hours` of wall-clock time. */
export function expectedFailures(gpus: number, hours: number, failuresPerGpuHour: number): number {
  return gpus * hours * failuresPerGpuHour;
}
