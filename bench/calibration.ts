// Published training runs (bench/data/published-runs.csv, copied from shared/calibration) and their
// predictions: the modules of bench/calibration/ in one place for the bench's other parts.
export { type CalibrationRow, loadCalibrationRows, rowToInputs, sourceOf } from "./calibration/rows.js";
export { measuredStepTime } from "./calibration/measured.js";
export { type PredictOptions, type RowPrediction, planText, predictRow, profileCache } from "./calibration/predict.js";
export { type EngineName, engineCache, engineOfRow } from "./calibration/engine-of-row.js";
