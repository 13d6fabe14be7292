// Writes the GPU check's launch specs (bench/gpu-settings.ts) to bench/results/gpu-check-specs/,
// with order.txt (the priority order) and predictions.json (the planner's figures on the H200 and
// H100 profiles), so bench/gpu-check.sh runs on a GPU machine with Python and
// torch but no Node. Re-run after changing the settings or the spec format:
//   npm run build && node dist/bench/gpu-specs.js
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSpec } from "../executor/spec.js";
import { loadModel, packageRoot } from "../src/load.js";
import type { Prediction } from "./gpu-report-lib.js";
import { predictOn } from "./gpu-report.js";
import { GPU_SETTINGS, GPU_STEPS, gpuPlan } from "./gpu-settings.js";

export const SPECS_DIR = join("bench", "results", "gpu-check-specs");
/** The built-in profiles of the GPUs the check is for (bench/gpu_line.py picks by device name). */
export const PREDICTED_PROFILES = ["hgx-h200", "dgx-h100"];

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(packageRoot(), SPECS_DIR);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  for (const x of GPU_SETTINGS) {
    const spec = buildSpec({
      runDir: `runs/gpu-check-${x.name}`,
      device: "cuda",
      model: loadModel(x.model),
      plan: gpuPlan(x),
      globalBatch: x.globalBatch,
      seqLen: x.seqLen,
      precision: x.precision,
      steps: GPU_STEPS,
      compile: x.compile,
    });
    writeFileSync(join(dir, `${x.name}.json`), JSON.stringify(spec, null, 2) + "\n");
  }
  writeFileSync(join(dir, "order.txt"), GPU_SETTINGS.map((x) => x.name).join("\n") + "\n");
  // The planner's predictions, for bench/gpu_line.py on a device without Node.
  const predictions: Record<string, Record<string, Prediction>> = {};
  for (const profile of PREDICTED_PROFILES) {
    const predict = predictOn(profile);
    predictions[profile] = Object.fromEntries(GPU_SETTINGS.map((x) => [x.name, predict(x)]));
  }
  writeFileSync(join(dir, "predictions.json"), JSON.stringify(predictions, null, 2) + "\n");
  console.log(`${GPU_SETTINGS.length} specs written to ${dir}`);
}
