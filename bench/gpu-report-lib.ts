// The GPU check's report maker, without I/O of its own beyond reading one raw directory: what
// bench/gpu-check.sh left (device.txt, status.tsv, <setting>.out/.err) against the planner's
// prediction for each setting. Targets (issue 15): best MFU >= 50% for gpt3-1.3b in bf16;
// predicted step time and peak memory within 10% of measured for every setting that ran.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { GpuSetting } from "./gpu-settings.js";
import { relativeError } from "../executor/summary.js";

export const TARGETS = { bestMfu: 0.5, stepTime: 0.1, peakMemory: 0.1 };
const PREFIX = "PARAPLAN_EVENT ";

export interface DeviceInfo {
  /** First line of nvidia-smi's name,memory,driver query. */
  line: string;
  name: string;
  torch: string | null;
  torchao: string | null;
}

export interface Status {
  status: string;
  exit: number | null;
  seconds: number | null;
}

export interface Prediction {
  stepTime: number;
  peakMemory: number;
  mfu: number;
  modelFlopsPerStep: number;
  /** Peak FLOP/s of the device at the run's precision (profile). */
  peak: number;
}

export interface ReportRow {
  setting: string;
  model: string;
  seqLen: number;
  microBatch: number;
  recompute: string;
  precision: string;
  /** What the spec asked and what the worker ran (compiled or eager). */
  compile: boolean;
  execution: Record<string, unknown> | null;
  status: string;
  predicted: { stepTime: number; peakMemory: number; mfu: number };
  measured: { stepTime: number; peakMemory: number | null; mfu: number; compileTime: number | null } | null;
  /** (predicted − measured)/measured, execute's and calibrate's error (executor/summary.ts). */
  error: { stepTime: number; peakMemory: number | null } | null;
}

export function readDevice(dir: string): DeviceInfo {
  const lines = readFileSync(join(dir, "device.txt"), "utf8").split("\n").map((l) => l.trim());
  const line = lines[0] ?? "unknown";
  const torch = lines.map((l) => /^torch (\S+)/.exec(l)?.[1]).find((v) => v !== undefined) ?? null;
  const torchao = lines.map((l) => /^torchao (?!absent)(.+)$/.exec(l)?.[1]).find((v) => v !== undefined) ?? null;
  return { line, name: line.split(",")[0]!.trim(), torch, torchao };
}

/** status.tsv: setting, status, exit, seconds (header first). */
export function readStatus(dir: string): Map<string, Status> {
  const out = new Map<string, Status>();
  const file = join(dir, "status.tsv");
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
    const [name, status, exit, seconds] = line.split("\t");
    if (!name || !status) continue;
    const n = (v: string | undefined) => (v === undefined || v === "" || Number.isNaN(Number(v)) ? null : Number(v));
    out.set(name, { status, exit: n(exit), seconds: n(seconds) });
  }
  return out;
}

/** The last event of a kind in a worker's stdout, or null. */
export function lastEvent(text: string, kind: string): Record<string, any> | null {
  for (const line of text.split("\n").reverse()) {
    const at = line.indexOf(PREFIX);
    if (at < 0) continue;
    try {
      const e = JSON.parse(line.slice(at + PREFIX.length));
      if (e.event === kind) return e;
    } catch {
      continue;
    }
  }
  return null;
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");

export function reportRows(dir: string, settings: GpuSetting[], predict: (x: GpuSetting) => Prediction): ReportRow[] {
  const statuses = readStatus(dir);
  return settings.map((x) => {
    const p = predict(x);
    const out = read(join(dir, `${x.name}.out`));
    const summary = lastEvent(out, "summary")?.measured ?? null;
    const start = lastEvent(out, "start");
    const st = statuses.get(x.name);
    const err = lastEvent(read(join(dir, `${x.name}.err`)), "error");
    const status = summary ? "ok" : err?.kind === "oom" ? "out of memory" : (st?.status ?? "not run");
    const base = {
      setting: x.name, model: x.model, seqLen: x.seqLen, microBatch: x.microBatch, recompute: x.recompute,
      precision: x.precision, compile: x.compile,
      execution: (summary?.execution ?? start?.execution ?? null) as Record<string, unknown> | null,
      status,
      predicted: { stepTime: p.stepTime, peakMemory: p.peakMemory, mfu: p.mfu },
    };
    if (!summary || typeof summary.stepTime !== "number") return { ...base, measured: null, error: null };
    const peakMemory = typeof summary.peakMemory === "number" ? summary.peakMemory : null;
    const compileTime = typeof summary.compileTime === "number" ? summary.compileTime : null;
    return {
      ...base,
      measured: { stepTime: summary.stepTime, peakMemory, mfu: p.modelFlopsPerStep / (summary.stepTime * p.peak), compileTime },
      error: {
        stepTime: relativeError(summary.stepTime, p.stepTime) ?? NaN,
        peakMemory: relativeError(peakMemory, p.peakMemory),
      },
    };
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signed = (x: number | null) => (x === null ? "—" : `${x >= 0 ? "+" : ""}${pct(x)}`);
const gib = (x: number | null) => (x === null ? "—" : `${(x / 2 ** 30).toFixed(1)} GiB`);
const sec = (x: number) => `${x.toFixed(3)} s`;

export interface Verdict {
  bestMfu: number | null;
  worstStepError: number | null;
  worstMemoryError: number | null;
  met: { bestMfu: boolean; stepTime: boolean; peakMemory: boolean };
}

export function verdict(rows: ReportRow[]): Verdict {
  const ran = rows.filter((r) => r.measured && r.error);
  const g13 = ran.filter((r) => r.model === "gpt3-1.3b" && r.precision === "bf16").map((r) => r.measured!.mfu);
  const steps = ran.map((r) => Math.abs(r.error!.stepTime));
  const mems = ran.map((r) => r.error!.peakMemory).filter((v): v is number => v !== null).map(Math.abs);
  const bestMfu = g13.length ? Math.max(...g13) : null;
  const worstStepError = steps.length ? Math.max(...steps) : null;
  const worstMemoryError = mems.length ? Math.max(...mems) : null;
  return {
    bestMfu, worstStepError, worstMemoryError,
    met: {
      bestMfu: bestMfu !== null && bestMfu >= TARGETS.bestMfu,
      stepTime: worstStepError !== null && worstStepError <= TARGETS.stepTime,
      peakMemory: worstMemoryError !== null && worstMemoryError <= TARGETS.peakMemory,
    },
  };
}

export function reportText(device: DeviceInfo, profile: string, rows: ReportRow[]): string {
  const lines = [
    `GPU check on ${device.line} — torch ${device.torch ?? "?"}, torchao ${device.torchao ?? "not importable"} (prediction: profile ${profile})`,
    "",
  ];
  for (const r of rows) {
    const mode = r.execution?.mode ?? (r.compile ? "compiled" : "eager");
    const label = `${r.setting} (${mode})`.padEnd(32);
    if (!r.measured || !r.error) {
      lines.push(`${label} ${r.status}; predicted ${sec(r.predicted.stepTime)}, ${gib(r.predicted.peakMemory)}, MFU ${pct(r.predicted.mfu)}`);
      continue;
    }
    const m = r.measured;
    const ct = m.compileTime !== null && mode === "compiled" ? `; compile ${m.compileTime.toFixed(1)} s` : "";
    lines.push(
      `${label} step ${sec(m.stepTime)} vs ${sec(r.predicted.stepTime)} (${signed(r.error.stepTime)}); peak ${gib(m.peakMemory)} vs ${gib(r.predicted.peakMemory)} (${signed(r.error.peakMemory)}); MFU ${pct(m.mfu)} vs ${pct(r.predicted.mfu)}${ct}`,
    );
  }
  const v = verdict(rows);
  const f = (x: number | null) => (x === null ? "—" : pct(x));
  const yes = (b: boolean) => (b ? "met" : "not met");
  lines.push(
    "",
    `best gpt3-1.3b bf16 MFU ${f(v.bestMfu)} (target >= ${pct(TARGETS.bestMfu)}: ${yes(v.met.bestMfu)}); worst step-time error ${f(v.worstStepError)} (target ${pct(TARGETS.stepTime)}: ${yes(v.met.stepTime)}); worst peak-memory error ${f(v.worstMemoryError)} (target ${pct(TARGETS.peakMemory)}: ${yes(v.met.peakMemory)})`,
  );
  const notRun = rows.filter((r) => !r.measured);
  if (notRun.length) lines.push(`not measured: ${notRun.map((r) => `${r.setting} (${r.status})`).join(", ")}`);
  return lines.join("\n");
}
