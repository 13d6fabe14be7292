// The calibrated profile (extends the profile the runs were planned with, overriding the fitted
// efficiency data) and the before/after report of `paraplan calibrate`.
import { fmt } from "../files.js";
import type { RawProfile } from "../files.js";
import { clampEfficiency } from "../tables.js";
import type { Hardware } from "../../../planner/index.js";
import { type FitResult, type Knob, derating } from "./fit.js";
import type { LeaveOneRunOut } from "./holdout.js";
import type { RunCase } from "./runs.js";

const FIELD: Record<Knob, string> = {
  matmul: "gpu.matmulEfficiency",
  attention: "gpu.attentionEfficiency",
  memory: "gpu.memoryBandwidthEfficiency",
};

const sig = (x: number, d = 4) => Number(x.toPrecision(d));
export const relError = (predicted: number, measured: number) => (predicted - measured) / measured;
export const meanAbs = (xs: number[]) => xs.reduce((s, v) => s + Math.abs(v), 0) / Math.max(1, xs.length);

/** A fitted efficiency as the file writes it: before the power cap's derating, which the file
 *  keeps (its gpu.powerLimit and ratedPower, or its base's) and which loading it applies again
 *  (planner/schema/hardware.ts); written derated, a capped part was derated twice. */
const written = (hw: Hardware, k: Knob, e: number, fit: FitResult) => clampEfficiency(e / fit.multipliers[k] / derating(hw, k));

export interface CalibratedInput {
  base: RawProfile;
  baseLabel: string;
  fit: FitResult;
  cases: RunCase[];
  name: string;
  date: string;
}

export function calibratedProfile(i: CalibratedInput): Record<string, unknown> {
  const { fit, base } = i;
  const hw = base.hw;
  const how =
    `calibrated by paraplan calibrate on ${i.date}: ${i.baseLabel}'s figure × ${"SCALE"}, ` +
    `${fit.mode === "common" ? "one common factor" : "one factor per efficiency"} fitted by least squares on the relative step-time errors of ` +
    `${i.cases.length} executed run(s) (${i.cases.map((c) => c.name).join(", ")})`;
  // A factor held at its bound (--fit separate or common; auto refuses it: ./fit.ts) says so in
  // its source: the figure is the bound, not one the runs gave.
  const held = (k: Knob) =>
    fit.atBound.includes(k)
      ? `; held at its bound (${fit.heldAt[k] === "one" ? "efficiency 1" : "the lowest efficiency written"}: ${fit.heldWhy[k]}), not a fitted figure`
      : "";
  const src = (k: Knob) => how.replace("SCALE", String(sig(1 / fit.multipliers[k]))) + held(k);
  const gpu: Record<string, unknown> = {};
  if (fit.fitted.includes("matmul"))
    gpu.matmulEfficiency = {
      source: src("matmul"),
      points: hw.matmul.points.map(([f, e]) => [f, sig(written(hw, "matmul", e, fit))]),
    };
  if (fit.fitted.includes("attention")) gpu.attentionEfficiency = { value: sig(written(hw, "attention", hw.attentionEfficiency, fit)), source: src("attention") };
  if (fit.fitted.includes("memory")) gpu.memoryBandwidthEfficiency = { value: sig(written(hw, "memory", hw.memoryBandwidthEfficiency, fit)), source: src("memory") };
  const inherited = Array.isArray(base.merged.measuredFields) ? (base.merged.measuredFields as string[]) : [];
  const fields = [...new Set([...inherited, ...fit.fitted.map((k) => FIELD[k])])];
  const head = {
    name: i.name,
    description: `${i.baseLabel} calibrated on ${i.cases.length} executed run(s) (${i.date}); efficiency data fitted to measured step times`,
  };
  const over = { measured: true, measuredOn: i.date, measuredFields: fields, gpu };
  if (base.name !== null) return { ...head, extends: base.name, ...over };
  // A profile given as a file cannot be extended by name: write it whole, resolved.
  const { name: _n, description: _d, extends: _e, ...rest } = base.merged;
  const baseGpu = (rest.gpu ?? {}) as Record<string, unknown>;
  return { ...head, ...rest, ...over, gpu: { ...baseGpu, ...gpu } };
}

export function fitLines(i: CalibratedInput): string[] {
  const { fit, base } = i;
  const hw = base.hw;
  const out = [`fit: ${fit.mode === "common" ? "one common factor" : "one factor per efficiency"} (${fit.iterations} Gauss–Newton step${fit.iterations === 1 ? "" : "s"})`];
  const plateau = Math.max(...hw.matmul.points.map((p) => p[1]));
  // The figures as the profile writes them (before a power cap's derating).
  const line = (k: Knob, what: string, from: number) =>
    fit.fitted.includes(k) ? `  ${what} × ${sig(1 / fit.multipliers[k], 3)}: ${sig(from / derating(hw, k), 3)} → ${sig(written(hw, k, from, fit), 3)}` : `  ${what}: unchanged`;
  out.push(line("matmul", "matmul efficiency table (its highest point)", plateau));
  out.push(line("attention", "attention efficiency", hw.attentionEfficiency));
  out.push(line("memory", "memory-bound efficiency", hw.memoryBandwidthEfficiency));
  const t = hw.computeThrottle ?? 1;
  if (t !== 1) out.push(`note: figures before the power cap (${hw.powerLimit} W), which derates matmul and attention × ${sig(t, 3)} where the profile is loaded`);
  for (const n of fit.notes) out.push(`note: ${n}`);
  return out;
}

const secs = (s: number) => (s >= 1 ? `${s.toPrecision(4)} s` : `${(s * 1000).toPrecision(4)} ms`);
const pct = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}%`;

export function errorTable(cases: RunCase[], before: number[], after: number[]): string[] {
  const rows = cases.map((c, i) => [
    c.name,
    secs(c.measured),
    secs(before[i]!),
    pct(relError(before[i]!, c.measured)),
    secs(after[i]!),
    pct(relError(after[i]!, c.measured)),
  ]);
  const head = ["run", "measured", "before", "error", "after", "error"];
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const fmtRow = (r: string[]) => r.map((v, j) => (j === 0 ? v.padEnd(w[j]!) : v.padStart(w[j]!))).join("  ");
  const eb = meanAbs(cases.map((c, i) => relError(before[i]!, c.measured)));
  const ea = meanAbs(cases.map((c, i) => relError(after[i]!, c.measured)));
  return [
    "predicted against measured step time, error = (predicted − measured) / measured; after = in-sample (the fit was made on these runs):",
    fmtRow(head),
    ...rows.map(fmtRow),
    `mean |error|: before ${fmt.pct(eb)}, after ${fmt.pct(ea)} (in-sample)`,
  ];
}

/** Each run predicted by the fit on the others (./holdout.ts). */
export function holdoutLines(h: LeaveOneRunOut | null, runs: number): string[] {
  if (h === null) return [`leave-one-run-out: needs 2 runs or more (${runs} given); the in-sample error above says nothing of other runs`];
  const rows = h.runs.map((r) => [r.name, secs(r.measured), r.predicted === null ? "—" : secs(r.predicted), r.error === null ? "—" : pct(r.error)]);
  const head = ["run", "measured", "held out", "error"];
  const w = head.map((x, j) => Math.max(x.length, ...rows.map((r) => r[j]!.length)));
  const fmtRow = (r: string[]) => r.map((v, j) => (j === 0 ? v.padEnd(w[j]!) : v.padStart(w[j]!))).join("  ");
  const why = h.runs.flatMap((r) => (r.reason === undefined ? [] : [`note: ${r.name} not predicted: ${r.reason}`]));
  return [
    `leave-one-run-out: each run predicted by a fit on the other ${runs - 1} (${h.mode === "common" ? "one common factor" : "--fit auto"}):`,
    fmtRow(head),
    ...rows.map(fmtRow),
    ...why,
    `mean |error| leave-one-run-out: ${h.meanAbsError === null ? "none could be predicted" : fmt.pct(h.meanAbsError)}`,
  ];
}
