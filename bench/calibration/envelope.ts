// The calibration's envelope: for each engine, the published runs its figures were fitted on and
// the range they span (hardware profile, sequence, GPU count, parameters, precision, experts,
// context parallel) and the step-time error on them, in-sample and leave-one-source-out; for each
// hardware profile, the engines whose runs fitted it. `plan` says where a request lies outside it
// (src/calibration-standing.ts): a prediction there is the model's extrapolation, not a figure a
// published run checked. Written to
// profiles/calibration.json by `node dist/bench/calibration/envelope.js` (after `npm run build`),
// with the paraplan engines' own runs (own-runs.ts), which no published run is;
// test/bench/envelope.test.ts holds the committed file equal to what the rows give (the in-sample
// errors recomputed; the leave-one-source-out ones are npm run bench's, which checks them).
import { writeFileSync } from "node:fs";
import { totalParams } from "../../planner/index.js";
import { type CalibrationRow, loadCalibrationRows } from "./rows.js";
import { evaluateCalibration } from "./evaluate.js";
import type { RowPrediction } from "./predict.js";
import { type EngineAccuracy, type EngineEnvelope, type EngineValidation, type Envelope, type OwnRuns, envelopePath } from "../../src/calibration-standing.js";
import { nemoValidation } from "../validation/nemo.js";
import { ownRuns } from "./own-runs.js";
import { isMainModule } from "../../src/main-module.js";

const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** Each engine's step-time error on its runs: `inSample` the committed profiles' predictions,
 *  `loso` each row's from the fit without its source (evaluate.ts). Rows with no prediction are
 *  left out (none is: bench's "every row expressible"). */
export function engineAccuracy(inSample: readonly RowPrediction[], loso: readonly RowPrediction[]): Record<string, EngineAccuracy> {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const errs = (ps: readonly RowPrediction[], engine: string) => ps.filter((p) => p.row.engine === engine && p.error !== null).map((p) => Math.abs(p.error!));
  const out: Record<string, EngineAccuracy> = {};
  for (const engine of sorted(inSample.map((p) => p.row.engine))) {
    const e = errs(inSample, engine);
    const l = errs(loso, engine);
    out[engine] = { mean: round(e.reduce((a, b) => a + b, 0) / e.length), max: round(Math.max(...e)), losoMean: round(l.reduce((a, b) => a + b, 0) / l.length) };
  }
  return out;
}

/** `validation`: an engine's error on published runs nothing was fitted to (bench/validation/);
 *  `own`: engines no published run used, by this project's own runs (own-runs.ts). */
export function calibrationEnvelope(rows: readonly CalibrationRow[], accuracy: Record<string, EngineAccuracy>, validation: Record<string, EngineValidation> = {}, own: Record<string, OwnRuns> = {}): Envelope {
  const engines: Record<string, EngineEnvelope> = {};
  for (const name of sorted(rows.map((r) => r.engine))) {
    const rs = rows.filter((r) => r.engine === name);
    const acc = accuracy[name];
    if (acc === undefined) throw new Error(`no accuracy figures for ${name}`);
    engines[name] = {
      runs: rs.length,
      sources: sorted(rs.map((r) => r.source)),
      profiles: sorted(rs.map((r) => r.profile)),
      seqLen: range(rs.map((r) => r.training.seqLen)),
      gpus: range(rs.map((r) => r.training.gpus)),
      paramsB: range(rs.map((r) => Math.round(totalParams(r.model, r.training.seqLen) / 1e7) / 100)),
      precisions: sorted(rs.map((r) => r.training.precision)),
      moe: rs.some((r) => r.model.moe !== undefined),
      contextParallel: rs.some((r) => r.cp > 1),
      pipeline: rs.some((r) => (r.fixed.pp ?? 1) > 1),
      accuracy: acc,
      ...(validation[name] ? { validation: validation[name] } : {}),
    };
  }
  const profiles: Record<string, string[]> = {};
  for (const p of sorted(rows.map((r) => r.profile))) profiles[p] = sorted(rows.filter((r) => r.profile === p).map((r) => r.engine));
  return {
    source: `the ${rows.length} published runs of bench/data/published-runs.csv, each with its source's engine and profile (bench/calibration/rows.ts); written by bench/calibration/envelope.ts`,
    engines,
    profiles,
    ...(Object.keys(own).length > 0 ? { ownRuns: own } : {}),
  };
}

/** Each engine's out-of-sample record: megatron-core's on NVIDIA's own tables (bench/validation/nemo.ts). */
export const outOfSample = (): Record<string, EngineValidation> => ({ "megatron-core": nemoValidation() });

/** Two-space JSON with each list of numbers or names on one line. */
export const envelopeText = (e: Envelope) =>
  JSON.stringify(e, null, 2).replace(/\[\n\s+([^[\]{}]*?)\n\s+\]/g, (_, inner: string) => `[${inner.split(/,\n\s+/).join(", ")}]`) + "\n";


if (isMainModule(import.meta.url)) {
  // The accuracy needs the leave-one-source-out fits (about a minute and a half on 2 cores).
  const rows = loadCalibrationRows();
  const rep = evaluateCalibration(rows);
  writeFileSync(envelopePath(), envelopeText(calibrationEnvelope(rows, engineAccuracy(rep.inSample, rep.loso), outOfSample(), ownRuns())));
}
