// Compares the GPU check's measured runs (worker event logs from bench/gpu-check-device.sh) with
// the planner's predictions for the same plans on the device's built-in profile.
// Usage: node dist/bench/gpu-report.js <dir with *.out and device.txt> [profile name or file]
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { evaluatePlan, type Training } from "../planner/index.js";
import { loadModel, loadProfile, packageRoot } from "../src/load.js";
import { GPU_CHECK, gpuCheckPlan, settingName } from "./gpu-specs.js";

const dir = process.argv[2] ?? join(packageRoot(), "bench", "results", "gpu-raw");
const deviceLine = readFileSync(join(dir, "device.txt"), "utf8").split("\n")[0] ?? "unknown";
const deviceName = deviceLine.split(",")[0]!.trim();
const profile = process.argv[3] ?? (/H200/.test(deviceName) ? "hgx-h200" : /H100/.test(deviceName) ? "dgx-h100" : "dgx-a100-80g");
const hw = loadProfile(profile);
const model = loadModel(GPU_CHECK.model);
const training: Training = { gpus: 1, globalBatch: GPU_CHECK.globalBatch, seqLen: model.defaultSeqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true };

function summaryOf(file: string): Record<string, any> | null {
  for (const line of readFileSync(file, "utf8").split("\n").reverse()) {
    const i = line.indexOf("PARAPLAN_EVENT ");
    if (i < 0) continue;
    const e = JSON.parse(line.slice(i + "PARAPLAN_EVENT ".length));
    if (e.event === "summary") return e.measured;
  }
  return null;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const gib = (x: number) => `${(x / 2 ** 30).toFixed(1)} GiB`;
const files = new Set(readdirSync(dir));
const rows = GPU_CHECK.settings.map((s) => {
  const plan = gpuCheckPlan(s);
  const p = evaluatePlan(model, hw, training, plan);
  const file = `${settingName(s)}.out`;
  const m = files.has(file) ? summaryOf(join(dir, file)) : null;
  if (!m) return { setting: settingName(s), predicted: { stepTime: p.time.step, peakMemory: p.memory.total, mfu: p.mfu }, measured: null };
  const mfu = p.modelFlopsPerStep / (m.stepTime * hw.peak.bf16);
  return {
    setting: settingName(s),
    predicted: { stepTime: p.time.step, peakMemory: p.memory.total, mfu: p.mfu },
    measured: { stepTime: m.stepTime as number, peakMemory: m.peakMemory as number, mfu, flopsPerStep: m.flopsPerStep as number },
    error: { stepTime: (m.stepTime - p.time.step) / p.time.step, peakMemory: (m.peakMemory - p.memory.total) / p.memory.total },
  };
});
console.log(`GPU check on ${deviceLine.trim()} (profile ${profile}): ${GPU_CHECK.model}, seq 2048, bf16, global batch ${GPU_CHECK.globalBatch}\n`);
for (const r of rows) {
  if (!r.measured || !r.error) {
    console.log(`${r.setting.padEnd(15)} no measurement (see ${r.setting}.err)`);
    continue;
  }
  console.log(
    `${r.setting.padEnd(15)} step ${r.measured.stepTime.toFixed(3)} s vs predicted ${r.predicted.stepTime.toFixed(3)} s (${pct(r.error.stepTime)}); ` +
      `peak ${gib(r.measured.peakMemory)} vs ${gib(r.predicted.peakMemory)} (${pct(r.error.peakMemory)}); MFU ${pct(r.measured.mfu)} vs ${pct(r.predicted.mfu)}`,
  );
}
const measured = rows.filter((r) => r.measured && r.error);
if (measured.length) {
  const best = Math.max(...measured.map((r) => r.measured!.mfu));
  const stepErr = Math.max(...measured.map((r) => Math.abs(r.error!.stepTime)));
  const memErr = Math.max(...measured.map((r) => Math.abs(r.error!.peakMemory)));
  console.log(`\nbest measured MFU ${pct(best)} (target >= 45%); worst step-time error ${pct(stepErr)} (target 15%); worst peak-memory error ${pct(memErr)} (target 10%)`);
}
const out = join(packageRoot(), "bench", "results", `gpu-check-${deviceName.replace(/[^A-Za-z0-9]+/g, "-")}.json`);
writeFileSync(out, JSON.stringify({ device: deviceLine.trim(), profile, date: new Date().toISOString(), rows }, null, 2) + "\n");
console.log(`written ${out}`);
