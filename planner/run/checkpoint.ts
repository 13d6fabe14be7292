// The checkpoint interval and the expected wall time under exponentially distributed interruptions.
// Symbols (shared/reference/formulas-scale.md §4.2): δ time training is blocked per checkpoint,
// M mean time between interruptions of the whole job, R restart time, τ compute time between
// checkpoints. All in seconds.

/** Young's first-order optimum: τ = √(2δM) (J. W. Young, "A first order approximation to the
 *  optimum checkpoint interval", CACM 17(9):530–531, 1974). */
export function youngInterval(delta: number, mtbf: number): number {
  return Math.sqrt(2 * delta * mtbf);
}

/** Daly's higher-order optimum: τ = √(2δM)·[1 + ⅓·√(δ/2M) + (1/9)·(δ/2M)] − δ for δ < 2M, else
 *  τ = M (J. T. Daly, "A higher order estimate of the optimum checkpoint interval for restart
 *  dumps", Future Generation Computer Systems 22(3):303–312, 2006). Daly's Fig. 3–5:
 *  M = 24 h, 6 h, 15 min with δ = 5 min give 117, 57 and 9.1 min. */
export function dalyInterval(delta: number, mtbf: number): number {
  if (delta >= 2 * mtbf) return mtbf;
  const x = delta / (2 * mtbf);
  return Math.sqrt(2 * delta * mtbf) * (1 + Math.sqrt(x) / 3 + x / 9) - delta;
}

/** Daly's expected wall time per unit of solve time: T_w/T_s = M·e^{R/M}·(e^{(τ+δ)/M} − 1)/τ
 *  (Daly 2006: failures may strike during computation, checkpoints and restarts alike).
 *  Its inverse is the goodput, the fraction of wall-clock time spent on useful work. With no
 *  failures (M → ∞) it tends to (τ + δ)/τ. */
export function dalyWallPerSolve(interval: number, delta: number, restart: number, mtbf: number): number {
  if (!Number.isFinite(mtbf)) return (interval + delta) / interval;
  return (mtbf * Math.exp(restart / mtbf) * Math.expm1((interval + delta) / mtbf)) / interval;
}

/** Goodput: useful compute time / wall-clock time, 1 / dalyWallPerSolve. */
export function goodputOf(interval: number, delta: number, restart: number, mtbf: number): number {
  return 1 / dalyWallPerSolve(interval, delta, restart, mtbf);
}
