// Calibration: scale the profile's efficiency data so that the planner's predicted step times
// match measured ones. Three factors — the matmul efficiency table (every point), the attention
// efficiency and the memory-bound efficiency — fitted by nonlinear least squares on relative
// errors (Gauss–Newton, Nocedal & Wright, Numerical Optimization §10.3; each linear step solved
// by mathjs QR in ../linalg.ts), with bounds that keep every efficiency in (0, 1].
// The step time is close to linear in each factor's reciprocal x (time multiplier: efficiency / x),
// so Gauss–Newton on x converges in a few steps; the nonlinear parts (roofline max, overlap of
// communication) are piecewise linear.
// Runs that cannot separate the three (fewer runs than factors, or columns of the Jacobian that
// are nearly parallel) get one common factor instead.
// Under --fit auto a factor that ends at a bound (efficiency 1, or the floor) is not a measurement:
// the other factors absorbed what it could not (QA: four tiny CPU runs gave matmul × 0.373 with
// attention × 10 and memory-bound held at 1.0, where profile measured attention 0.35–0.52). Auto
// then fits one common factor, which keeps the figures' proportions (held at its own bound where
// the runs are faster than the profile's peaks allow, said in a note, as --fit common writes it).
import { type Hardware, evaluatePlan } from "../../../planner/index.js";
import { SingularFit, conditionEstimate, leastSquares } from "../linalg.js";
import { MIN_EFFICIENCY } from "../tables.js";
import type { RunCase } from "./runs.js";

export type Knob = "matmul" | "attention" | "memory";
export const KNOBS: Knob[] = ["matmul", "attention", "memory"];
export type Multipliers = Record<Knob, number>;

/** The profile with each efficiency divided by its time multiplier. */
export function scaledHardware(hw: Hardware, x: Multipliers): Hardware {
  return {
    ...hw,
    matmul: { ...hw.matmul, points: hw.matmul.points.map(([f, e]) => [f, e / x.matmul] as const) },
    attentionEfficiency: hw.attentionEfficiency / x.attention,
    memoryBandwidthEfficiency: hw.memoryBandwidthEfficiency / x.memory,
  };
}

/** The planner's step time for a run (its node size, as paraplan execute planned it). */
export function predictStep(hw: Hardware, c: RunCase): number {
  return evaluatePlan(c.model, { ...hw, gpusPerNode: c.gpusPerNode }, c.training, c.plan).time.step;
}

/** The factor by which loading the profile derates a knob's efficiency: a power-capped part's
 *  matmul and attention figures are the rated part's × computeThrottle (planner/power.ts); HBM is
 *  not derated. The calibrated file writes the figures before it (./output.ts). */
export const derating = (hw: Hardware, k: Knob): number => (k === "memory" ? 1 : (hw.computeThrottle ?? 1));

/** Multipliers keeping every efficiency the profile writes (before derating) in [MIN_EFFICIENCY, 1]. */
export function bounds(hw: Hardware): Record<Knob, [number, number]> {
  const pts = hw.matmul.points.map((p) => p[1]);
  const range = (k: Knob, hi: number, lo: number): [number, number] => [hi / derating(hw, k), lo / derating(hw, k) / MIN_EFFICIENCY];
  return {
    matmul: range("matmul", Math.max(...pts), Math.min(...pts)),
    attention: range("attention", hw.attentionEfficiency, hw.attentionEfficiency),
    memory: range("memory", hw.memoryBandwidthEfficiency, hw.memoryBandwidthEfficiency),
  };
}

/** The runs cannot give the fit asked for (a user error: more or other runs are needed). */
export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CalibrationError";
  }
}

export interface FitResult {
  multipliers: Multipliers;
  mode: "separate" | "common";
  /** Knobs the runs are sensitive to (the others stay at 1). */
  fitted: Knob[];
  atBound: Knob[];
  /** Of each knob in atBound: held at efficiency 1 ("one") or at MIN_EFFICIENCY ("floor"). */
  heldAt: Partial<Record<Knob, "one" | "floor">>;
  /** Of each knob in atBound: why it is held, from the measurement (heldReason). */
  heldWhy: Partial<Record<Knob, string>>;
  before: number[];
  after: number[];
  iterations: number;
  notes: string[];
}

export interface FitOptions {
  mode?: "auto" | "separate" | "common";
  /** auto: above this condition estimate the runs cannot separate the knobs. */
  maxCondition?: number;
}

const ONE: Multipliers = { matmul: 1, attention: 1, memory: 1 };

/** Relative distance from a bound within which a fitted factor is taken as on it: far below any
 *  step time's accuracy (a percent), far above where the Gauss–Newton steps stop (~1e-7). */
export const BOUND_TOLERANCE = 1e-6;

export function fitScales(hw: Hardware, cases: RunCase[], o: FitOptions = {}): FitResult {
  const fit = fitOnce(hw, cases, o);
  if (o.mode === "separate" || o.mode === "common" || fit.atBound.length === 0) return fit;
  const held = (f: FitResult) => f.atBound.map((k) => `${k} ${heldAt(f, k)}`).join(", ");
  // Separate factors at a bound (attention at efficiency 1 beside a matmul table of 0.26: QA) are
  // no measurement: one common factor instead, which scales every figure alike and keeps their
  // proportions, said in a note, also where it reaches its own bound (the table's highest point at
  // efficiency 1: the runs are faster than the profile's peaks allow, the held figure written with
  // that said, as --fit common writes it).
  const common = fit.mode === "separate" && fit.fitted.length > 1 ? fitOnce(hw, cases, { ...o, mode: "common" }) : fit;
  const instead = common === fit ? [] : [`separate factors put ${held(fit)} (not a measurement): one common factor fitted instead`];
  const why = common.atBound.map((k) => common.heldWhy[k]!)[0];
  const consistent = why === undefined || why.startsWith("the runs were");
  const bound =
    common.atBound.length > 0
      ? [`the common factor is held at its bound (${held(common)}): ${consistent ? "the runs ask for more than the profile's peaks allow" : why}; check the runs' step times and the profile's peak`]
      : [];
  return { ...common, notes: [...common.notes, ...instead, ...bound] };
}

const heldAt = (fit: FitResult, k: Knob) => (fit.heldAt[k] === "one" ? "at efficiency 1" : `at the floor ${MIN_EFFICIENCY}`);

function fitOnce(hw: Hardware, cases: RunCase[], o: FitOptions): FitResult {
  if (cases.length === 0) throw new CalibrationError("calibration needs at least one run");
  const notes: string[] = [];
  const T = cases.map((c) => c.measured);
  const predict = (x: Multipliers) => cases.map((c) => predictStep(scaledHardware(hw, x), c));
  const residual = (t: number[]) => t.map((v, i) => (v - T[i]!) / T[i]!);
  const ssr = (r: number[]) => r.reduce((s, v) => s + v * v, 0);
  const jacobian = (x: Multipliers, t: number[], groups: Knob[][]) =>
    groups.map((g) => {
      const h = 1e-4;
      const xp = { ...x };
      for (const k of g) xp[k] = x[k] * (1 + h);
      const tp = predict(xp);
      // d t / d(log-step of the group), per unit of the group's parameter θ (x_k = θ·x_k/θ)
      return tp.map((v, i) => (v - t[i]!) / (h * T[i]!));
    });
  const before = predict(ONE);
  const bad = before.findIndex((t) => !(Number.isFinite(t) && t > 0));
  if (bad >= 0) throw new CalibrationError(`${cases[bad]!.dir}: the planner's predicted step time is ${before[bad]}; the run cannot be fitted`);
  // Which knobs matter for these runs at all.
  const cols = jacobian(ONE, before, KNOBS.map((k) => [k]));
  const norms = cols.map((c) => Math.hypot(...c));
  const top = Math.max(...norms);
  const fitted = KNOBS.filter((_, j) => norms[j]! > top * 1e-3);
  for (const k of KNOBS.filter((k) => !fitted.includes(k))) notes.push(`${k}: under 0.1% of these runs' time, left unscaled`);
  if (fitted.length === 0) throw new CalibrationError("the runs' predicted times do not depend on the efficiency data");
  if (o.mode === "separate" && cases.length < fitted.length)
    throw new CalibrationError(`--fit separate: ${fitted.length} factors (${fitted.join(", ")}) need at least ${fitted.length} runs, got ${cases.length}; add runs or use --fit auto`);
  let mode: "separate" | "common" = o.mode === "common" ? "common" : "separate";
  if (o.mode !== "separate" && o.mode !== "common" && fitted.length > 1) {
    const A = cases.map((_, i) => fitted.map((k) => cols[KNOBS.indexOf(k)]![i]!));
    const cond = cases.length < fitted.length ? Infinity : conditionEstimate(A);
    if (cond > (o.maxCondition ?? 1e3)) {
      mode = "common";
      notes.push(
        cases.length < fitted.length
          ? `${cases.length} run(s) cannot separate ${fitted.join(", ")}: one common factor fitted`
          : `these runs cannot separate ${fitted.join(", ")} (condition ${cond === Infinity ? "∞" : cond.toExponential(1)}): one common factor fitted`,
      );
    }
  }
  const groups: Knob[][] = mode === "common" ? [fitted] : fitted.map((k) => [k]);
  const b = bounds(hw);
  const lo = groups.map((g) => Math.max(...g.map((k) => b[k][0])));
  const hi = groups.map((g) => Math.min(...g.map((k) => b[k][1])));
  // θ_g multiplies every knob of group g; start at 1 (the profile as it is).
  let theta = groups.map(() => 1);
  const xOf = (th: number[]): Multipliers => {
    const x = { ...ONE };
    groups.forEach((g, j) => g.forEach((k) => (x[k] = th[j]!)));
    return x;
  };
  let t = before;
  let r = residual(t);
  let it = 0;
  for (; it < 60; it++) {
    const J = jacobian(xOf(theta), t, groups).map((col, j) => col.map((v) => v / theta[j]!)); // per unit θ
    let free = groups.map((_, j) => j);
    let step: number[] = groups.map(() => 0);
    for (let guard = 0; guard <= groups.length; guard++) {
      step = groups.map(() => 0);
      if (free.length === 0) break;
      let d: number[];
      try {
        d = leastSquares(cases.map((_, i) => free.map((j) => J[j]![i]!)), r.map((v) => -v));
      } catch (e) {
        if (!(e instanceof SingularFit)) throw e;
        // With every factor free at the start, nothing at all can be fitted: say so rather than
        // write the profile unscaled as if it had been fitted.
        if (it === 0 && free.length === groups.length)
          throw new CalibrationError(
            `the runs' step times cannot be fitted (${e.message}); ${mode === "separate" && groups.length > 1 ? "use --fit common, or add runs of other shapes" : "check the measured step times"}`,
          );
        d = free.map(() => 0);
      }
      free.forEach((j, n) => (step[j] = d[n]!));
      const outward = free.filter((j) => (theta[j]! <= lo[j]! && step[j]! < 0) || (theta[j]! >= hi[j]! && step[j]! > 0));
      if (outward.length === 0) break;
      free = free.filter((j) => !outward.includes(j));
    }
    let scale = 1;
    let next = theta;
    let tn = t;
    let rn = r;
    for (let half = 0; half < 30; half++) {
      next = theta.map((v, j) => Math.min(hi[j]!, Math.max(lo[j]!, v + scale * step[j]!)));
      tn = predict(xOf(next));
      rn = residual(tn);
      if (ssr(rn) <= ssr(r)) break;
      scale /= 2;
    }
    const moved = Math.max(...next.map((v, j) => Math.abs(v - theta[j]!) / theta[j]!));
    if (ssr(rn) > ssr(r)) break;
    theta = next;
    t = tn;
    r = rn;
    if (moved < 1e-12) break;
  }
  // A factor within BOUND_TOLERANCE of its bound is the bound: the fit stops short of it by the
  // line search's last halving (QA: scale.matmul 1.4285712960 = 1/0.7, the top matmul point
  // 0.9999999, reported nowhere as held); the written profile then says efficiency 1, not 0.9999999.
  const onLo = theta.map((v, j) => v <= lo[j]! * (1 + BOUND_TOLERANCE));
  const onHi = theta.map((v, j) => !onLo[j] && v >= hi[j]! * (1 - BOUND_TOLERANCE));
  const snapped = theta.map((v, j) => (onLo[j] ? lo[j]! : onHi[j] ? hi[j]! : v));
  if (snapped.some((v, j) => v !== theta[j])) {
    theta = snapped;
    t = predict(xOf(theta));
  }
  const x = xOf(theta);
  const group = (k: Knob) => groups.findIndex((g) => g.includes(k));
  const atBound = fitted.filter((k) => onLo[group(k)] || onHi[group(k)]);
  const held: FitResult["heldAt"] = Object.fromEntries(atBound.map((k) => [k, onLo[group(k)] ? "one" : "floor"]));
  const heldWhy: FitResult["heldWhy"] = Object.fromEntries(atBound.map((k) => [k, heldReason(k, held[k]!, T, before, groups.length > 1)]));
  for (const k of atBound)
    notes.push(
      held[k] === "one" ? `${k}: held at efficiency 1 (${heldWhy[k]})` : `${k}: held at the lowest efficiency written, ${MIN_EFFICIENCY} (${heldWhy[k]})`,
    );
  return { multipliers: x, mode, fitted, atBound, heldAt: held, heldWhy, before, after: t, iterations: it, notes };
}

/** Why a factor is held at its bound, from what the runs measured against the prediction before
 *  the fit: the bound in the runs' own direction (all faster than predicted, held at efficiency 1)
 *  is the runs asking for more than the profile allows; against it (QA: --fit separate held
 *  attention at 1 "the runs were faster than the profile allows" where every run was slower than
 *  predicted) it is the factors fitted beside it trading against each other, or a least-squares
 *  compromise between runs that disagree — said so, not described as the measurement. */
export function heldReason(k: Knob, at: "one" | "floor", measured: number[], before: number[], separate: boolean): string {
  const n = measured.length;
  const faster = measured.filter((t, i) => t < before[i]!).length;
  const slower = measured.filter((t, i) => t > before[i]!).length;
  if (at === "one" && faster === n) return "the runs were faster than the profile allows even then";
  if (at === "floor" && slower === n) return "the runs were slower than that allows";
  const counted = (c: number, word: string) => (c === n ? `every run was ${word} than predicted` : `${c} of ${n} runs were ${word} than predicted`);
  const measuredSaid = at === "one" ? counted(slower, "slower") + (slower < n ? `, ${faster} faster` : "") : counted(faster, "faster") + (faster < n ? `, ${slower} slower` : "");
  const pushed = at === "one" ? `the fit pushed ${k} past efficiency 1` : `the fit pushed ${k} below that`;
  return separate
    ? `${measuredSaid}; ${pushed} to offset the factors fitted beside it, not a measurement; --fit common keeps the figures' proportions`
    : `${measuredSaid}; ${pushed} as the least-squares compromise between them, not a measurement`;
}
