// `paraplan calibrate` on the real GPU runs in bench/results: the five gpt3-1.3b settings run by
// the worker on one H200 (bench/results/gpu-specs/*.json, the launch specs, and
// bench/results/gpu-raw-h200/*.out, the worker's events) become run directories as `execute`
// writes them (plan.json, launch.json, summary.json), and are calibrated twice: from the built-in
// hgx-h200 profile (tables calibrated on Megatron/NeMo runs) and from profiles/hardware/measured/
// h200.json (measured by paraplan profile on that GPU). Prints each run's step-time error before
// and after, as the command does. Usage: node dist/bench/calibrate-gpu.js [--out FILE]
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { calibrateCommand } from "../src/commands/calibrate.js";
import { packageRoot } from "../src/load.js";

const PREFIX = "PARAPLAN_EVENT ";

interface Spec {
  model: { name: string };
  plan: Record<string, unknown>;
  training: { globalBatch: number; seqLen: number; precision: string };
}

/** The worker's summary event in a raw log, or null. */
function summaryOf(out: string): { stepTime: number } | null {
  for (const line of out.split("\n").reverse()) {
    const at = line.indexOf(PREFIX);
    if (at < 0) continue;
    const ev = JSON.parse(line.slice(at + PREFIX.length)) as { event: string; measured?: { stepTime: number } };
    if (ev.event === "summary" && ev.measured) return ev.measured;
  }
  return null;
}

/** One run directory per setting with a summary; returns their paths. */
export function gpuRunDirs(root = packageRoot(), into = mkdtempSync(join(tmpdir(), "paraplan-gpu-runs-"))): string[] {
  const specs = join(root, "bench/results/gpu-specs");
  const raw = join(root, "bench/results/gpu-raw-h200");
  const dirs: string[] = [];
  for (const file of readdirSync(specs).filter((f) => f.endsWith(".json")).sort()) {
    const name = basename(file, ".json");
    const spec = JSON.parse(readFileSync(join(specs, file), "utf8")) as Spec;
    let measured;
    try {
      measured = summaryOf(readFileSync(join(raw, `${name}.out`), "utf8"));
    } catch {
      continue;
    }
    if (!measured) continue;
    const dir = join(into, name);
    mkdirSync(dir, { recursive: true });
    const t = spec.training;
    // plan.json as execute writes it (executor/prepare.ts): what calibrate reads of the run
    writeFileSync(join(dir, "plan.json"), JSON.stringify({ model: spec.model.name, profile: "hgx-h200", device: "cuda", gpus: 1, nnodes: 1, globalBatch: t.globalBatch, seqLen: t.seqLen, precision: t.precision, plans: [spec.plan] }));
    writeFileSync(join(dir, "launch.json"), JSON.stringify(spec));
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ measured: { stepTime: measured.stepTime } }));
    dirs.push(dir);
  }
  return dirs;
}

function calibrate(dirs: string[], profile: string, out: string): void {
  const io = { out: (t: string) => console.log(t), err: (t: string) => console.error(t) };
  if (calibrateCommand([...dirs, "--profile", profile, "--out", out], io) !== 0) console.log("calibrate failed on these runs");
}

export function runCalibrateGpu(outArg?: string): void {
  const dirs = gpuRunDirs();
  console.log(`Calibrating on ${dirs.length} real runs of the worker on one H200 (bench/results/gpu-raw-h200)\n`);
  const scratch = mkdtempSync(join(tmpdir(), "paraplan-gpu-cal-"));
  console.log("from the built-in hgx-h200 profile:");
  calibrate(dirs, "hgx-h200", join(scratch, "hgx-h200-eager.json"));
  console.log("\nfrom the profile measured on that GPU (profiles/hardware/measured/h200.json):");
  calibrate(dirs, join(packageRoot(), "profiles/hardware/measured/h200.json"), outArg ?? join(scratch, "h200-eager.json"));
}

if (process.argv[1] && basename(process.argv[1]) === "calibrate-gpu.js") {
  const i = process.argv.indexOf("--out");
  runCalibrateGpu(i > 0 ? process.argv[i + 1] : undefined);
}
