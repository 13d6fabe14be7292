// The GPU check's report: measured (bench/gpu-check.sh's raw directory) against predicted (the
// planner on the device's built-in profile) step time, peak memory and MFU for every setting of
// bench/gpu-settings.ts; prints the table and writes gpu-check-<device>-torch<version>.json beside
// the raw directory (bench/results/ by default).
// Usage: node dist/bench/gpu-report.js <raw dir> [profile name or file]
// The prediction is the planner's closed form for the hardware profile with the engine of the
// mode the worker ran (compiled / eager: engine profiles `paraplan-compile` / `paraplan`), as
// execute predicts: like with like.
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Engine, evaluatePlan, peakFlops, type Training } from "../planner/index.js";
import { loadModel, loadProfile } from "../src/load.js";
import { loadEngine } from "../src/load-engine.js";
import { workerEngineName } from "../executor/compile-mode.js";
import { type Prediction, readDevice, reportRows, reportText, verdict } from "./gpu-report-lib.js";
import { GPU_SETTINGS, type GpuSetting, gpuPlan } from "./gpu-settings.js";

export function profileFor(deviceName: string): string {
  return /H200/.test(deviceName) ? "hgx-h200" : /H100/.test(deviceName) ? "dgx-h100" : "dgx-a100-80g";
}

/** `override`: engine fields to price with instead of the profile's (a test's what-if). */
export function predictOn(profile: string, override: Partial<Pick<Engine, "selectiveRecompute">> = {}): (x: GpuSetting) => Prediction {
  const hw = loadProfile(profile);
  return (x) => {
    // (the engine the worker runs the plan with: eager where it cannot compile it, compile-mode.ts)
    const model = loadModel(x.model);
    const plan = gpuPlan(x);
    const engine = { ...loadEngine(workerEngineName(x.compile, plan, model), undefined), ...override };
    const t: Training = { gpus: 1, globalBatch: x.globalBatch, seqLen: x.seqLen, precision: x.precision, fusedAttention: true, overlapGradReduce: true, engine };
    const r = evaluatePlan(model, hw, t, plan);
    return { stepTime: r.time.step, peakMemory: r.memory.total, mfu: r.mfu, modelFlopsPerStep: r.modelFlopsPerStep, peak: peakFlops(hw, t) };
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node dist/bench/gpu-report.js <raw dir> [profile]");
    process.exit(2);
  }
  const device = readDevice(dir);
  const profile = process.argv[3] ?? profileFor(device.name);
  const rows = reportRows(dir, GPU_SETTINGS, predictOn(profile));
  console.log(reportText(device, profile, rows));
  const slug = device.name.replace(/[^A-Za-z0-9]+/g, "-");
  // beside the raw directory (bench/results/ by default)
  const out = join(dirname(resolve(dir)), `gpu-check-${slug}-torch${device.torch ?? "unknown"}.json`);
  writeFileSync(out, JSON.stringify({ device: device.line, torch: device.torch, torchao: device.torchao, profile, date: new Date().toISOString(), verdict: verdict(rows), rows }, null, 2) + "\n");
  console.log(`written ${out}`);
}
