// The paraplan engines' own runs. No published run used this project's worker, so where `plan`
// would say "no published run calibrates this engine" it also says what the worker's own GPU runs
// showed (src/calibration-standing.ts OwnRuns): the timed runs of the GPU check its attention
// figure was fitted on (bench/results/gpu-check-raw-NVIDIA-H200; profiles/engines/paraplan.json
// attention.efficiency), and the held-out runs no figure was taken from
// (bench/results/gpu-holdout-NVIDIA-H200). Each run is predicted as execute predicts it, with the
// engine of the mode the worker ran (bench/gpu-report.ts predictOn), and counted under that engine:
// eager runs under `paraplan`, compiled ones under `paraplan-compile`.
import { join } from "node:path";
import { loadModel, packageRoot } from "../../src/load.js";
import { workerEngineName } from "../../executor/compile-mode.js";
import type { OwnRuns, RunErrors } from "../../src/calibration-standing.js";
import { type ReportRow, readDevice, reportRows } from "../gpu-report-lib.js";
import { predictOn, profileFor } from "../gpu-report.js";
import { GPU_SETTINGS, type GpuSetting, HOLDOUT_SETTINGS, gpuPlan } from "../gpu-settings.js";

const RESULTS = () => join(packageRoot(), "bench", "results");
/** The runs the figures were fitted on, and the runs held out of the fit. */
export const FITTED_DIR = () => join(RESULTS(), "gpu-check-raw-NVIDIA-H200");
export const HELD_OUT_DIR = () => join(RESULTS(), "gpu-holdout-NVIDIA-H200");

const round = (x: number) => Math.round(x * 1000) / 1000;

/** |predicted − measured| / measured step time over the runs, as the calibration counts it. */
export function runErrors(rows: readonly ReportRow[]): RunErrors {
  const errs = rows.map((r) => Math.abs(r.predicted.stepTime - r.measured!.stepTime) / r.measured!.stepTime);
  return { runs: errs.length, mean: round(errs.reduce((a, b) => a + b, 0) / errs.length), max: round(Math.max(...errs)) };
}

/** The measured runs of a raw directory, each under the engine it was predicted with. */
function measuredByEngine(dir: string, settings: GpuSetting[], profile: string): Map<string, ReportRow[]> {
  const setting = new Map(settings.map((x) => [x.name, x]));
  const out = new Map<string, ReportRow[]>();
  for (const r of reportRows(dir, settings, predictOn(profile))) {
    if (r.measured === null) continue;
    const x = setting.get(r.setting)!;
    const engine = workerEngineName(x.compile, gpuPlan(x), loadModel(x.model));
    out.set(engine, [...(out.get(engine) ?? []), r]);
  }
  return out;
}

/** Each paraplan engine's record: the fitted runs' span and errors, and the held-out runs'. */
export function ownRuns(fittedDir = FITTED_DIR(), heldOutDir = HELD_OUT_DIR()): Record<string, OwnRuns> {
  const device = readDevice(fittedDir);
  const profile = profileFor(device.name);
  const fitted = measuredByEngine(fittedDir, GPU_SETTINGS, profile);
  const heldOut = measuredByEngine(heldOutDir, HOLDOUT_SETTINGS, profile);
  const out: Record<string, OwnRuns> = {};
  for (const engine of [...fitted.keys()].sort()) {
    const rows = fitted.get(engine)!;
    const seq = rows.map((r) => r.seqLen);
    const held = heldOut.get(engine);
    out[engine] = {
      device: `one ${device.name}${device.torch ? ` (torch ${device.torch})` : ""}`,
      profile,
      seqLen: [Math.min(...seq), Math.max(...seq)],
      gpus: [1, 1],
      fitted: runErrors(rows),
      ...(held ? { heldOut: runErrors(held) } : {}),
    };
  }
  return out;
}
