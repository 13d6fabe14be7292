// The calibration's figures: every row predicted with the prior, the fit on all sources
// (in-sample), the fit without each source (leave-one-source-out), Spearman ρ within groups and
// predicted against measured peak memory. Pure over the rows and the prediction function.
import { type FitProblem, type FitResult, fitParams, leaveOneSourceOut } from "./fit.js";
import { type ParamVector, boundsOf, keysOf } from "./params.js";
import { foldValues, priorOf } from "./priors.js";
import { type PredictOptions, type RowPrediction, predictRow, profileCache } from "./predict.js";
import { type CalibrationRow, runOf } from "./rows.js";
import { groupSpearman } from "./stats.js";

export interface SourceFigures {
  source: string;
  rows: number;
  predicted: number;
  inexpressible: number;
  overMemory: number;
  /** Mean |error| with every fitted figure at its prior (priors.ts), no fit. */
  priorMean: number;
  inSampleMean: number;
  inSampleMax: number;
  losoMean: number;
  rho: number;
  rhoGroups: number;
  /** Mean |predicted − measured| / measured peak memory over rows stating it (NaN: none). */
  memoryMean: number;
  memoryRows: number;
}

export interface CalibrationReport {
  /** The committed profiles' predictions (searched once; the other columns re-evaluate these plans). */
  committed: RowPrediction[];
  prior: RowPrediction[];
  inSample: RowPrediction[];
  loso: RowPrediction[];
  fit: FitResult;
  folds: Map<string, FitResult>;
  sources: SourceFigures[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export function evaluateCalibration(rows: readonly CalibrationRow[], opts: Pick<PredictOptions, "profile"> & { folds?: boolean } = {}): CalibrationReport {
  const profile = opts.profile ?? profileCache();
  // In-sample: the profiles as committed (their figures fitted on all rows by
  // bench/calibration/write-back.ts); the fit below re-derives them to show they still hold.
  const committed = rows.map((row) => predictRow(row, { profile }));
  const usable = committed.filter((p) => p.plan !== null);
  const planOf = new Map(usable.map((p) => [p.row.id, p.plan!]));
  const hws = [...new Set(rows.map((r) => r.profile))].map(profile);
  const problem: FitProblem<CalibrationRow> = {
    keysOf: (r) => keysOf(r.profile, profile(r.profile), r.engine, runOf(r)),
    residual: (r, params) => Math.log(predictRow(r, { profile, params, plan: planOf.get(r.id)! }).predicted! / r.measuredStepTime),
    bounds: (k) => boundsOf(k, hws),
    initial: priorOf,
  };
  const fitRows = usable.map((p) => p.row);
  const allKeys = [...new Set(fitRows.flatMap((r) => problem.keysOf(r)))];
  const priors: ParamVector = Object.fromEntries(allKeys.map((k) => [k, priorOf(k)]));
  const fit = fitParams(fitRows, problem);
  const folds = opts.folds === false ? new Map<string, FitResult>() : leaveOneSourceOut(fitRows, (r) => r.source, problem);
  const under = (params: ParamVector) => (p: RowPrediction) => (p.plan ? predictRow(p.row, { profile, params, plan: p.plan }) : p);
  const prior = committed.map(under(priors));
  const inSample = committed;
  // A fold's unfitted keys (only the held-out source uses them) take their priors, or the
  // parent engine's fold figure where they share its mechanism (priors.ts INHERITS).
  const foldParams = new Map([...folds].map(([s, f]) => [s, foldValues(allKeys, f.params)]));
  const loso = committed.map((p) => under(foldParams.get(p.row.source) ?? priors)(p));

  const sources = [...new Set(rows.map((r) => r.source))].map((source): SourceFigures => {
    const of = (ps: RowPrediction[]) => ps.filter((p) => p.row.source === source);
    const ins = of(inSample);
    const errs = ins.filter((p) => p.error !== null).map((p) => Math.abs(p.error!));
    const losoErrs = of(loso).filter((p) => p.error !== null).map((p) => Math.abs(p.error!));
    const groups = groupSpearman(
      ins.filter((p) => p.predicted !== null).map((p) => ({ group: p.row.groupKey, config: p.row.configKey, predicted: p.predicted!, measured: p.row.measuredStepTime })),
    );
    const mem = ins.filter((p) => p.row.measuredMemory !== undefined && p.memory !== null);
    return {
      source,
      rows: ins.length,
      predicted: errs.length,
      inexpressible: ins.filter((p) => p.status === "inexpressible").length,
      overMemory: ins.filter((p) => p.status === "over-memory").length,
      priorMean: mean(of(prior).filter((p) => p.error !== null).map((p) => Math.abs(p.error!))),
      inSampleMean: mean(errs),
      inSampleMax: errs.length ? Math.max(...errs) : NaN,
      losoMean: mean(losoErrs),
      rho: mean(groups.map((g) => g.rho)),
      rhoGroups: groups.length,
      memoryMean: mean(mem.map((p) => Math.abs(p.memory! - p.row.measuredMemory!) / p.row.measuredMemory!)),
      memoryRows: mem.length,
    };
  });
  return { committed, prior, inSample, loso, fit, folds, sources };
}
