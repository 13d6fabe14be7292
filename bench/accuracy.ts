// Per-row and mean absolute percentage error of predicted step time on the calibration runs.
import { loadCalibrationRows, predictRow } from "./calibration.js";
import { table } from "../src/format/units.js";

/** Targets from the planner issue: every row within 10 %, mean under 5 %. */
export const ROW_TARGET = 0.1;
export const MEAN_TARGET = 0.05;

export function runAccuracy(): boolean {
  const results = loadCalibrationRows().map((row) => predictRow(row));
  const rows = results.map((r) => [
    r.row.id,
    r.row.profile,
    r.row.measuredStepTime.toFixed(3),
    r.predicted === null ? "-" : r.predicted.toFixed(3),
    r.error === null ? "no plan" : `${(100 * r.error).toFixed(1)}%`,
    r.plan,
  ]);
  console.log("Step time on published runs (stated dimensions fixed, the rest searched)\n");
  console.log(table(["row", "profile", "measured s", "predicted s", "error", "plan"], rows, [false, false, true, true, true, false]));
  const errs = results.map((r) => (r.error === null ? Infinity : Math.abs(r.error)));
  const mape = errs.reduce((a, b) => a + b, 0) / errs.length;
  const worst = Math.max(...errs);
  console.log(`\nmean absolute error ${(100 * mape).toFixed(2)}% (target < ${100 * MEAN_TARGET}%), worst row ${(100 * worst).toFixed(2)}% (target <= ${100 * ROW_TARGET}%)`);
  const ok = mape < MEAN_TARGET && worst <= ROW_TARGET;
  console.log(ok ? "accuracy: targets met" : "accuracy: TARGETS MISSED");
  return ok;
}
