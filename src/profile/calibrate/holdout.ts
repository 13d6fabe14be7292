// Leave-one-run-out error of a calibration: refit without each run and predict it with that fit,
// so the error says how the calibrated profile does on a run it was not fitted to (the in-sample
// error of the fit itself only says how well the factors absorb the runs given; with one common
// factor and one run it is 0 by construction). The same protocol as the bench's leave-one-source-
// out (README "How the figures were calibrated"; Hastie, Tibshirani & Friedman, The Elements of
// Statistical Learning, 2nd ed., §7.10 cross-validation, with K = the number of runs).
import type { Hardware } from "../../../planner/index.js";
import { CalibrationError, type FitResult, fitScales, predictStep, scaledHardware } from "./fit.js";
import type { RunCase } from "./runs.js";

export interface HeldOut {
  dir: string;
  name: string;
  measured: number;
  /** Predicted by the fit on the other runs; null when those runs could not be fitted. */
  predicted: number | null;
  /** (predicted − measured) / measured. */
  error: number | null;
  /** Why there is no prediction. */
  reason?: string;
}

export interface LeaveOneRunOut {
  /** The fit of each fold: one common factor when the full fit was, else auto (a fold has one run
   *  fewer, so it may fall back to a common factor where the full fit separated them). */
  mode: "common" | "auto";
  runs: HeldOut[];
  /** Mean |error| over the runs that could be predicted. */
  meanAbsError: number | null;
}

/** Null with fewer than 2 runs: nothing is left to fit once the only run is held out. */
export function leaveOneRunOut(hw: Hardware, cases: RunCase[], full: FitResult): LeaveOneRunOut | null {
  if (cases.length < 2) return null;
  const mode = full.mode === "common" ? "common" : "auto";
  const runs = cases.map((c, i): HeldOut => {
    const rest = cases.filter((_, j) => j !== i);
    const base = { dir: c.dir, name: c.name, measured: c.measured };
    try {
      const fit = fitScales(hw, rest, { mode });
      const predicted = predictStep(scaledHardware(hw, fit.multipliers), c);
      return { ...base, predicted, error: (predicted - c.measured) / c.measured };
    } catch (e) {
      if (!(e instanceof CalibrationError)) throw e;
      return { ...base, predicted: null, error: null, reason: e.message };
    }
  });
  const errs = runs.flatMap((r) => (r.error === null ? [] : [Math.abs(r.error)]));
  return { mode, runs, meanAbsError: errs.length ? errs.reduce((s, v) => s + v, 0) / errs.length : null };
}
