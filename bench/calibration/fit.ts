// Fit of a small named parameter vector to measured runs, and leave-one-source-out: refit without
// one source, predict it. Levenberg–Marquardt (Nocedal & Wright, Numerical Optimization §10.3) on
// the log-errors ln(predicted/measured) over the logarithms of the parameters (multipliers stay
// positive), each linear step solved by mathjs QR (src/profile/linalg.ts), parameters clamped to
// their bounds. Pure given the residual function: the tests run it on hand-made data.
import { leastSquares } from "../../src/profile/linalg.js";

export type ParamVector = Record<string, number>;

export interface FitProblem<R> {
  /** The parameters one row's prediction depends on. */
  keysOf(r: R): readonly string[];
  /** ln(predicted / measured) of the row under the parameters (a missing key is its prior, 1). */
  residual(r: R, p: ParamVector): number;
  bounds(key: string): [number, number];
  /** Where a key's fit starts (its prior); default 1. */
  initial?(key: string): number;
}

export interface FitResult {
  params: ParamVector;
  /** Keys some row depends on: the ones fitted (the others keep their prior). */
  fitted: string[];
  iterations: number;
  /** Root mean square of the log-errors after the fit. */
  rms: number;
}

const clamp = (v: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, v));

export function fitParams<R>(rows: readonly R[], pr: FitProblem<R>, maxIterations = 40): FitResult {
  const keys = [...new Set(rows.flatMap((r) => pr.keysOf(r)))].sort();
  const users = keys.map((k) => rows.map((r, i) => (pr.keysOf(r).includes(k) ? i : -1)).filter((i) => i >= 0));
  const params: ParamVector = Object.fromEntries(keys.map((k) => [k, clamp(pr.initial?.(k) ?? 1, pr.bounds(k))]));
  const residuals = (p: ParamVector) => rows.map((r) => pr.residual(r, p));
  const ssr = (r: number[]) => r.reduce((s, v) => s + v * v, 0);
  let r = residuals(params);
  let lambda = 1e-2;
  let it = 0;
  const h = 1e-3;
  for (; it < maxIterations && keys.length > 0; it++) {
    // Jacobian in log-parameters by forward differences, only over the rows using each key.
    const J = rows.map(() => keys.map(() => 0));
    keys.forEach((k, j) => {
      const p = { ...params, [k]: params[k]! * Math.exp(h) };
      for (const i of users[j]!) J[i]![j] = (pr.residual(rows[i]!, p) - r[i]!) / h;
    });
    let improved = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      const A = [...J, ...keys.map((_, j) => keys.map((__, l) => (l === j ? Math.sqrt(lambda) : 0)))];
      const b = [...r.map((v) => -v), ...keys.map(() => 0)];
      const dz = leastSquares(A, b);
      const next: ParamVector = { ...params };
      keys.forEach((k, j) => (next[k] = clamp(params[k]! * Math.exp(dz[j]!), pr.bounds(k))));
      const rn = residuals(next);
      if (ssr(rn) < ssr(r) - 1e-12) {
        const moved = Math.max(...keys.map((k) => Math.abs(Math.log(next[k]! / params[k]!))));
        Object.assign(params, next);
        r = rn;
        lambda = Math.max(1e-6, lambda / 3);
        improved = true;
        if (moved < 1e-5) return { params, fitted: keys, iterations: it + 1, rms: Math.sqrt(ssr(r) / Math.max(1, r.length)) };
      } else lambda *= 4;
    }
    if (!improved) break;
  }
  return { params, fitted: keys, iterations: it, rms: Math.sqrt(ssr(r) / Math.max(1, r.length)) };
}

/** For each source: the fit on every other source's rows. A key only the held-out source uses is
 *  absent from that fit, so its prediction takes the prior for it. */
export function leaveOneSourceOut<R>(rows: readonly R[], sourceOf: (r: R) => string, pr: FitProblem<R>): Map<string, FitResult> {
  const out = new Map<string, FitResult>();
  for (const s of [...new Set(rows.map(sourceOf))]) out.set(s, fitParams(rows.filter((r) => sourceOf(r) !== s), pr));
  return out;
}
