// How many GPUs: the best plan at each GPU count (closed form at every count, the simulation of
// only the best few there), its whole run, and the cheapest count that meets a deadline.
import { type SearchResult, search } from "../search.js";
import { simulateTop } from "../sim/rescore.js";
import { simulablePrefix } from "../sim/simulate.js";
import type { Fixed } from "../space.js";
import type { Hardware, ModelSpec, PlanResult, Training } from "../types.js";
import { runEstimate } from "./estimate.js";
import type { ResolvedRunFigures } from "./figures.js";
import { type RunOptions, runInputsFor } from "./inputs.js";
import type { RunEstimate } from "./types.js";

/** The closed form's best plans simulated at each count. */
export const SWEEP_SIMULATE_TOP = 3;
/** Simulated operations per count (simulate.ts's unit): the best few of a gpt3-like step. */
export const SWEEP_SIMULATED_OPS = 64_000;

export interface SweepPoint {
  gpus: number;
  /** The training at this count; null when the count itself is not valid (said by the caller). */
  training: Training | null;
  /** The fastest of the simulated best few (else the closed form's best); null: nothing fits. */
  plan: PlanResult | null;
  /** The step the run is timed by: simulated when `simulated`, else the closed form's. */
  step: number;
  simulated: boolean;
  run: RunEstimate | null;
  /** Tokens per second per GPU at that step. */
  tokensPerGpuSecond: number;
  /** Model FLOPs utilisation at that step (the plan's MFU scaled from its closed-form step). */
  mfu: number;
  /** Without a plan: the search's rejections by code, and the closest plan that did not fit
   *  (null: no configuration was valid at all). */
  rejected?: SearchResult["rejected"];
  closest?: PlanResult | null;
}

/** The best plan at one count and its run. */
export function sweepPoint(m: ModelSpec, hw: Hardware, t: Training, fixed: Fixed, f: ResolvedRunFigures, o: RunOptions): SweepPoint {
  const result = search(m, hw, t, fixed, { top: SWEEP_SIMULATE_TOP });
  const best = result.plans[0];
  if (!best) return { gpus: t.gpus, training: t, plan: null, step: NaN, simulated: false, run: null, tokensPerGpuSecond: 0, mfu: 0, rejected: result.rejected, closest: result.closest };
  const top = result.plans.slice(0, simulablePrefix(m, t, result.plans, SWEEP_SIMULATED_OPS));
  let plan = best;
  let step = best.time.step;
  let simulated = false;
  if (top.length > 0) {
    const r = simulateTop(m, hw, t, top);
    plan = top[r.fastest]!;
    step = r.simulated[r.fastest]!.step;
    simulated = true;
  }
  const run = runEstimate(step, runInputsFor(m, t, plan, f, o));
  return {
    gpus: t.gpus,
    training: t,
    plan,
    step,
    simulated,
    run,
    tokensPerGpuSecond: (t.globalBatch * t.seqLen) / step / t.gpus,
    mfu: (plan.mfu * plan.time.step) / step,
  };
}

/** Per-GPU throughput at each count against the smallest count that has a plan (1: linear
 *  scaling); null where a count has none. */
export function scalingOf(points: readonly SweepPoint[]): (number | null)[] {
  const base = points.find((p) => p.plan)?.tokensPerGpuSecond;
  return points.map((p) => (p.plan && base ? p.tokensPerGpuSecond / base : null));
}

/** Whether the cost (with a price) or the GPU-hours (without one: the same order at any price) of
 *  `a` is lower than `b`'s, each times its GPUs held per GPU used (`fa`, `fb`); equal costs (a price
 *  of 0 makes every count free) go to fewer GPU-hours, as without a price, then to the shorter run. */
function cheaper(a: RunEstimate, fa: number, b: RunEstimate, fb: number): boolean {
  const ca = (a.cost ?? a.gpuHours) * fa;
  const cb = (b.cost ?? b.gpuHours) * fb;
  if (ca !== cb) return ca < cb;
  const ha = a.gpuHours * fa;
  const hb = b.gpuHours * fb;
  return ha < hb || (ha === hb && a.wallSeconds < b.wallSeconds);
}

/** The cheapest point whose wall-clock time is within `deadlineSeconds`, or null if none is.
 *  `held`: the GPUs a count holds per GPU it uses, its cost and GPU-hours counted on them (a job on
 *  64 of each 72-GPU rack holds whole racks: 1.125 at 512 GPUs); 1 (the default) where every GPU
 *  held is used. */
export function cheapestWithin(points: readonly SweepPoint[], deadlineSeconds: number, held: (gpus: number) => number = () => 1): SweepPoint | null {
  let pick: SweepPoint | null = null;
  for (const p of points) {
    if (!p.run || p.run.wallSeconds > deadlineSeconds) continue;
    if (!pick || cheaper(p.run, held(p.gpus), pick.run!, held(pick.gpus))) pick = p;
  }
  return pick;
}

/** The points with each run estimated again at a step `factor` times its own (a whole estimate,
 *  not the days scaled: checkpoint spacing and the work lost per failure follow the step). For a
 *  deadline with a margin: which count still meets it if the step is as far off as the engine was
 *  on its published runs. */
export function slowedPoints(m: ModelSpec, points: readonly SweepPoint[], f: ResolvedRunFigures, o: RunOptions, factor: number): SweepPoint[] {
  return points.map((p) => (p.plan && p.training && p.run ? { ...p, step: p.step * factor, run: runEstimate(p.step * factor, runInputsFor(m, p.training, p.plan, f, o)) } : p));
}
