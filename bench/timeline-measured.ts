// Measured against simulated pipeline timelines on CPU ranks: `paraplan execute` of a 2-stage
// pipeline (8 uniform layers, 2 gloo ranks) under 1F1B and GPipe with m = 4 and 8 micro-batches,
// reading the traced step's measured bubble and exposed communication from summary.json, beside
// the simulator's and the closed form (p − 1)/m (Narayanan et al. 2021, §2.2). Skipped without
// the Python environment (npm run setup).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/load.js";

// Layers dominate: a small vocabulary keeps the embedding (stage 0) and the head (stage 1) light.
const MODEL = {
  name: "bench-pipeline",
  description: "8 uniform layers for the measured-timeline bench",
  source: "paraplan bench",
  layers: 8,
  hidden: 128,
  heads: 4,
  vocab: 256,
  seqLen: 128,
  mlp: "gelu",
  positional: "learned",
  tiedEmbeddings: false,
  globalBatch: 16,
  gpus: 2,
};

interface Figures {
  step: number;
  bubble: number;
  bubbleFraction: number;
  exposedComm: number;
}

function execute(dir: string, schedule: string, microBatch: number): { measured: Figures | null; simulated: Figures; stepTime: number } {
  const root = packageRoot();
  const args = [join(root, "dist/src/cli.js"), "execute", "--model", join(dir, "model.json"), "--device", "cpu", "--gpus", "2"];
  args.push("--pp", "2", "--vpp", "1", "--schedule", schedule, "--micro-batch", String(microBatch), "--steps", "5", "--json");
  const out = execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const summary = JSON.parse(out.trim().split("\n").pop()!);
  return { measured: summary.timeline.measured, simulated: summary.timeline.simulated, stepTime: summary.measured.stepTime };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (x: number) => `${(1e3 * x).toFixed(1)} ms`;

export function runTimelineMeasured(): void {
  console.log("Measured pipeline timelines (CPU ranks, gloo; 8 layers h 128 s 128, pp 2, the traced 5th step)\n");
  if (!existsSync(join(packageRoot(), ".venv/bin/python"))) {
    console.log("skipped: no .venv (npm run setup)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "paraplan-bench-"));
  writeFileSync(join(dir, "model.json"), JSON.stringify(MODEL));
  const rows: string[][] = [["schedule", "m", "(p−1)/m", "measured bubble", "simulated bubble", "measured exposed comm", "measured step", "mean step"]];
  for (const schedule of ["1f1b", "gpipe"])
    for (const mb of [4, 2]) {
      const m = MODEL.globalBatch / mb;
      const r = execute(dir, schedule, mb);
      const meas = r.measured;
      rows.push([
        schedule,
        String(m),
        pct(1 / m),
        meas ? `${ms(meas.bubble)} (${pct(meas.bubbleFraction)})` : "—",
        `${pct(r.simulated.bubbleFraction)}`,
        meas ? ms(meas.exposedComm) : "—",
        meas ? ms(meas.step) : "—",
        ms(r.stepTime),
      ]);
    }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => (j < 1 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  "));
  console.log("\n(the traced step runs under torch.profiler, hence its longer step; CPU ranks share cores, so stage times vary)");
  console.log(`run directories under ${dir}/runs`);
}
