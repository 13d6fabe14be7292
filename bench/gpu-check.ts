// GPU check of the planner against real runs (planner issue): on one H100 or H200, execute a
// GPT of ~1.3B parameters (gpt3-1.3b, sequence 2048, bf16) at several micro-batch / recompute
// settings and print predicted against measured step time and peak memory, and the MFU.
// Targets: best measured MFU >= 45 %; step time within 15 %, peak memory within 10 %.
// Run through bench/gpu-check.sh, which builds first and picks a CUDA-enabled Python.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/load.js";

interface Setting {
  microBatch: number;
  recompute: "none" | "selective" | "full";
}

const SETTINGS: Setting[] = [
  { microBatch: 1, recompute: "none" },
  { microBatch: 2, recompute: "none" },
  { microBatch: 4, recompute: "none" },
  { microBatch: 4, recompute: "selective" },
  { microBatch: 8, recompute: "full" },
];
const GLOBAL_BATCH = 16;
const STEPS = 8;

interface Row extends Setting {
  ok: boolean;
  message?: string;
  summary?: {
    measured: { stepTime: number; peakMemory: number; mfu: number | null };
    predicted: { stepTime: number; peakMemory: number; mfu: number };
    error: { stepTime: number | null; peakMemory: number | null };
  };
}

function run(s: Setting): Row {
  const args = ["dist/src/cli.js", "execute", "--model", "gpt3-1.3b", "--device", "cuda", "--gpus", "1"];
  args.push("--tp", "1", "--pp", "1", "--dp", "1", "--zero", "0", "--global-batch", String(GLOBAL_BATCH));
  args.push("--micro-batch", String(s.microBatch), "--recompute", s.recompute, "--steps", String(STEPS), "--json");
  const r = spawnSync("node", args, { cwd: packageRoot(), encoding: "utf8", timeout: 240_000 });
  const lines = (r.stdout ?? "").trim().split("\n");
  if (r.status !== 0) return { ...s, ok: false, message: (r.stderr ?? "").trim().split("\n").slice(-3).join(" | ") };
  return { ...s, ok: true, summary: JSON.parse(lines[lines.length - 1] ?? "{}") };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "-" : `${(100 * x).toFixed(1)}%`);
const gib = (x: number) => `${(x / 2 ** 30).toFixed(1)} GiB`;

const device = spawnSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8" }).stdout?.trim().split("\n")[0] ?? "unknown";
console.log(`gpu-check on ${device}: gpt3-1.3b, seq 2048, bf16, global batch ${GLOBAL_BATCH}, ${STEPS} steps each\n`);
const rows = SETTINGS.map(run);
for (const r of rows) {
  const label = `mbs ${r.microBatch} ${r.recompute}`.padEnd(16);
  if (!r.ok || !r.summary) {
    console.log(`${label} FAILED: ${r.message}`);
    continue;
  }
  const { measured: m, predicted: p, error: e } = r.summary;
  console.log(
    `${label} step ${m.stepTime.toFixed(3)} s (pred ${p.stepTime.toFixed(3)}, ${pct(e.stepTime)})  peak ${gib(m.peakMemory)} (pred ${gib(p.peakMemory)}, ${pct(e.peakMemory)})  MFU ${pct(m.mfu)} (pred ${pct(p.mfu)})`,
  );
}
const ok = rows.filter((r) => r.summary);
const bestMfu = Math.max(0, ...ok.map((r) => r.summary!.measured.mfu ?? 0));
const worstStep = Math.max(0, ...ok.map((r) => Math.abs(r.summary!.error.stepTime ?? Infinity)));
const worstMem = Math.max(0, ...ok.map((r) => Math.abs(r.summary!.error.peakMemory ?? Infinity)));
console.log(`\nbest MFU ${pct(bestMfu)} (target >= 45%); worst step-time error ${pct(worstStep)} (target <= 15%); worst peak-memory error ${pct(worstMem)} (target <= 10%)`);
const file = join(packageRoot(), "bench", "results", `gpu-check-${device.replace(/[^A-Za-z0-9]+/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ device, date: new Date().toISOString(), globalBatch: GLOBAL_BATCH, steps: STEPS, rows }, null, 2) + "\n");
console.log(`figures written to ${file}`);
