// Writes the launch specs of the planner's GPU check (gpt3-1.3b on one GPU at several
// micro-batch / recompute settings) so the check can run on a machine with Python and torch but
// no Node: bench/gpu-check-device.sh runs them with torchrun, bench/gpu-report.ts compares.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSpec } from "../executor/spec.js";
import type { Plan } from "../planner/index.js";
import { loadModel, packageRoot } from "../src/load.js";

export const GPU_CHECK = {
  model: "gpt3-1.3b",
  globalBatch: 16,
  steps: 8,
  settings: [
    { microBatch: 1, recompute: "none" },
    { microBatch: 2, recompute: "none" },
    { microBatch: 4, recompute: "none" },
    { microBatch: 4, recompute: "selective" },
    { microBatch: 8, recompute: "full" },
  ] as const,
};

export const settingName = (s: { microBatch: number; recompute: string }) => `mbs${s.microBatch}-${s.recompute}`;

export function gpuCheckPlan(s: { microBatch: number; recompute: Plan["recompute"] }): Plan {
  return { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: s.microBatch, recompute: s.recompute, sequenceParallel: false, schedule: "1f1b" };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(packageRoot(), "bench", "results", "gpu-specs");
  mkdirSync(dir, { recursive: true });
  const model = loadModel(GPU_CHECK.model);
  for (const s of GPU_CHECK.settings) {
    const spec = buildSpec({
      runDir: `runs/gpu-check-${settingName(s)}`,
      device: "cuda",
      model,
      plan: gpuCheckPlan(s),
      globalBatch: GPU_CHECK.globalBatch,
      seqLen: model.defaultSeqLen,
      precision: "bf16",
      steps: GPU_CHECK.steps,
    });
    writeFileSync(join(dir, `${settingName(s)}.json`), JSON.stringify(spec, null, 2) + "\n");
  }
  console.log(`specs written to ${dir}`);
}
