// The whole run of one plan for the commands and the interactive planner: the figures resolved
// (flag, else profile, else default) and the planner's estimate (planner/run/).
import type { Hardware, ModelSpec, PlanResult, Training } from "../../planner/index.js";
import {
  type CheckpointMode,
  type PowerBasis,
  type ResolvedRunFigures,
  type RunEstimate,
  type RunInputs,
  resolveRunFigures,
  runEstimate,
  runInputsFor,
} from "../../planner/run/index.js";

/** What the user asked of the run (src/run-args.ts parses the flags into it). */
export interface RunSettings {
  tokens: number;
  price: number | null;
  power: PowerBasis;
  ckpt: CheckpointMode;
  pue?: number;
  ckptBandwidth?: number;
  restartTime?: number;
  /** The run flags given on the command line (src/run-args.ts); absent: none (each setting above
   *  that has a default is then the default, and the run's text says so). */
  given?: readonly string[];
}

/** The step's error a run's range is drawn at, and why, or why none is stated (src/calibration-band.ts
 *  runBand decides it). */
export type StepBand = { band: number; basis: string } | { band: null; why: string };

export interface WholeRun {
  settings: RunSettings;
  figures: ResolvedRunFigures;
  inputs: RunInputs;
  estimate: RunEstimate;
  /** The step the run is timed by, seconds, and whether the simulation or the closed form gave it. */
  step: number;
  stepFrom: "simulated" | "closed form";
  /** The run again with the step `band` shorter and longer (the engine's error on published runs,
   *  or beyond them in degree the widest error known for extrapolation: src/calibration-band.ts);
   *  absent where none is stated, and `noRange` says why. */
  range?: { band: number; low: RunEstimate; high: RunEstimate; basis: string };
  /** Why no range is stated: no published run covers the request in kind, or calibrates the engine. */
  noRange?: string;
}

export function runFigures(hw: Hardware, s: RunSettings): ResolvedRunFigures {
  const flags: Parameters<typeof resolveRunFigures>[2] = {};
  if (s.pue !== undefined) flags.pue = s.pue;
  if (s.ckptBandwidth !== undefined) flags.checkpointBandwidth = s.ckptBandwidth;
  if (s.restartTime !== undefined) flags.restartTime = s.restartTime;
  return resolveRunFigures(hw, s.power, flags);
}

/** The run of `plan` at `step` seconds per step (its simulated step when `simulated`). */
/** `band`: the step's error (src/calibration-band.ts runBand); absent: none asked (the interactive
 *  planner's per-trillion-token detail). */
export function wholeRun(m: ModelSpec, hw: Hardware, t: Training, plan: PlanResult, step: number, simulated: boolean, s: RunSettings, band?: StepBand): WholeRun {
  const figures = runFigures(hw, s);
  const inputs = runInputsFor(m, t, plan, figures, { tokens: s.tokens, price: s.price, mode: s.ckpt });
  const w: WholeRun = { settings: s, figures, inputs, estimate: runEstimate(step, inputs), step, stepFrom: simulated ? "simulated" : "closed form" };
  // The whole estimate again at the other steps, not the days scaled: a longer step spaces the
  // checkpoints further in steps and loses more work per failure (Daly 2006), so the range is the
  // model's own at those steps.
  if (band?.band === null) w.noRange = band.why;
  else if (band !== undefined && band.band > 0 && band.band < 1)
    w.range = { band: band.band, basis: band.basis, low: runEstimate(step * (1 - band.band), inputs), high: runEstimate(step * (1 + band.band), inputs) };
  return w;
}
