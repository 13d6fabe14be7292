// α–β fits of measured collectives (Hockney 1994's latency–bandwidth model, in the ring forms of
// Thakur, Rabenseifner & Gropp 2005 §4 that planner/cost/collectives.ts prices with):
//   all-reduce                 t = 2(n−1)·α + 2(n−1)/n · M/B
//   all-gather, reduce-scatter t =  (n−1)·α +  (n−1)/n · M/B
//   send/recv                  t =        α +            M/B
// Each collective (op, group size) is fitted as t = a + b·M by least squares on relative
// residuals (sizes span five orders of magnitude), then α = a / latency factor and
// B = bandwidth factor / b: what each collective alone says (the profiler's per-collective lines).
// The profile has one α and one B for a link and the planner prices every collective with them,
// so the figures it writes are fitted jointly: t = L·α + W·M/B over every point of every
// collective run over the link (L, W its ring factors above: W·M is the bytes in the collective's
// own bus-bandwidth terms), least squares on the logs of the times (jointFit). (Taking the
// median α and the median B of the per-collective fits apart gave a pair that fitted none of
// them: QA's CPU run priced its own 8 MiB reduce-scatter, 10.0 ms, at 2.2–3.7 ms.)
// Bus bandwidth is nccl-tests' (PERFORMANCE.md): busbw = algbw × 2(n−1)/n for all-reduce,
// × (n−1)/n for all-gather and reduce-scatter, × 1 for send/recv, algbw = M / t; for large
// messages it tends to B from below, the figure to compare with the link's rate.
import type { CollectiveOp, CollectiveSample } from "./events.js";
import { SingularFit, leastSquares } from "./linalg.js";

export function ringFactors(op: CollectiveOp, n: number): { latency: number; bandwidth: number } {
  if (op === "send_recv") return { latency: 1, bandwidth: 1 };
  if (op === "all_reduce") return { latency: 2 * (n - 1), bandwidth: (2 * (n - 1)) / n };
  return { latency: n - 1, bandwidth: (n - 1) / n };
}

export function busBandwidth(s: CollectiveSample): number {
  return (s.bytes / s.seconds) * ringFactors(s.op, s.ranks).bandwidth;
}

/** The link class a collective ran over: NVLink, PCIe, or gloo's loopback TCP on CPU ranks. */
export type LinkClass = "nvlink" | "pcie" | "loopback";

export interface CollectiveFit {
  op: CollectiveOp;
  ranks: number;
  pair?: [number, number];
  link: LinkClass;
  /** t = a + b·M: seconds, seconds per byte. */
  a: number;
  b: number;
  /** Per ring step, seconds. */
  alpha: number;
  /** Per rank each way, bytes/s. */
  bandwidth: number;
  /** busbw of the largest message measured. */
  largestBusbw: number;
  largestBytes: number;
  samples: number;
}

/** Fit one collective's samples (one op, one group). Null when they cannot give a positive B. */
export function fitCollective(samples: CollectiveSample[], link: LinkClass): CollectiveFit | null {
  const s0 = samples[0];
  if (!s0 || samples.length < 2) return null;
  const rows = samples.map((s) => [1 / s.seconds, s.bytes / s.seconds]);
  const ones = samples.map(() => 1);
  let a: number;
  let b: number;
  try {
    [a, b] = leastSquares(rows, ones) as [number, number];
  } catch (e) {
    if (e instanceof SingularFit) return null;
    throw e;
  }
  if (a < 0) {
    // Latency below what the data resolve: the fit through the origin (a = 0).
    a = 0;
    b = leastSquares(rows.map((r) => [r[1]!]), ones)[0]!;
  }
  if (!(b > 0)) return null;
  const f = ringFactors(s0.op, s0.ranks);
  const largest = samples.reduce((x, y) => (y.bytes > x.bytes ? y : x));
  return {
    op: s0.op,
    ranks: s0.ranks,
    ...(s0.pair ? { pair: s0.pair } : {}),
    link,
    a,
    b,
    alpha: a / f.latency,
    bandwidth: f.bandwidth / b,
    largestBusbw: busBandwidth(largest),
    largestBytes: largest.bytes,
    samples: samples.length,
  };
}

/** The samples of each collective: one (op, ranks, pair) each. */
function groups(samples: readonly CollectiveSample[]): CollectiveSample[][] {
  const by = new Map<string, CollectiveSample[]>();
  for (const s of samples) {
    const key = `${s.op}/${s.ranks}/${s.pair?.join("-") ?? ""}`;
    by.set(key, [...(by.get(key) ?? []), s]);
  }
  return [...by.values()];
}

/** Group samples by (op, ranks, pair) and fit each. */
export function fitAll(samples: CollectiveSample[], linkOf: (s: CollectiveSample) => LinkClass): CollectiveFit[] {
  return groups(samples).flatMap((g) => {
    const f = fitCollective(g, linkOf(g[0]!));
    return f ? [f] : [];
  });
}

/** One α and B for a link, and how they predict each point they were fitted to. */
export interface LinkFigures {
  link: LinkClass;
  /** Per ring step, seconds (jointFit). */
  alpha: number;
  /** Per rank each way, bytes/s: the joint fit's, no more than `busbw` (capped says it was more). */
  bandwidth: number;
  /** Median over the link's collectives of the bus bandwidth of each one's largest message, bytes/s. */
  busbw: number;
  /** The joint fit's B was above `busbw`: B set to it, α refitted. */
  capped: boolean;
  /** The link's collectives fitted one by one (the per-collective lines). */
  fits: CollectiveFit[];
  /** Every point the pair was fitted to. */
  samples: CollectiveSample[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** t = L·α + W·M/B at a collective's ring factors (planner/cost/collectives.ts prices the same). */
export function predictedTime(s: CollectiveSample, alpha: number, bandwidth: number): number {
  const f = ringFactors(s.op, s.ranks);
  return f.latency * alpha + (f.bandwidth * s.bytes) / bandwidth;
}

/** One α and B for every sample given (any ops and group sizes): least squares of the log of
 *  t = L·α + X·β (X = W·M, β = 1/B), Σ (ln(L·α + X·β) − ln t)², by Gauss–Newton from the linear
 *  fit on relative residuals. On logs because the times span five orders of magnitude and a point
 *  predicted 2× slow must cost what one predicted 2× fast does: the linear relative fit,
 *  Σ (1 − (L·α + X·β)/t)², charges a point predicted fast at most 1 and one predicted slow without
 *  bound, and on a noisy machine priced 12 of 16 points fast. α is at least 0: with α = 0 the fit
 *  is ln β = mean(ln(t/X)), taken where it is the better. With `maxBandwidth`, a B above it is set
 *  to it and α refitted alone. Null where no positive B comes out. */
export function jointFit(samples: readonly CollectiveSample[], maxBandwidth = Infinity): { alpha: number; bandwidth: number; capped: boolean } | null {
  if (samples.length < 2) return null;
  const pts = samples.map((s) => {
    const f = ringFactors(s.op, s.ranks);
    return { l: f.latency, x: f.bandwidth * s.bytes, t: s.seconds };
  });
  const cost = (a: number, b: number) => pts.reduce((acc, p) => acc + Math.log((p.l * a + p.x * b) / p.t) ** 2, 0);
  // α = 0: every point ln β + ln X against ln t.
  const b0 = Math.exp(pts.reduce((acc, p) => acc + Math.log(p.t / p.x), 0) / pts.length);
  let best = { alpha: 0, beta: b0, cost: cost(0, b0) };
  const start = relativeFit(pts);
  if (start !== null && start.alpha > 0 && start.beta > 0) {
    let [a, b, c] = [start.alpha, start.beta, cost(start.alpha, start.beta)];
    for (let k = 0; k < 100; k++) {
      const jac = pts.map((p) => {
        const q = p.l * a + p.x * b;
        return [p.l / q, p.x / q];
      });
      let step: number[];
      try {
        step = leastSquares(jac, pts.map((p) => -Math.log((p.l * a + p.x * b) / p.t)));
      } catch (e) {
        if (e instanceof SingularFit) break;
        throw e;
      }
      // Halve the step until it lowers the cost and keeps α and β positive.
      let h = 1;
      while (h > 1e-10 && !(a + h * step[0]! > 0 && b + h * step[1]! > 0 && cost(a + h * step[0]!, b + h * step[1]!) < c)) h /= 2;
      if (h <= 1e-10) break;
      const [na, nb] = [a + h * step[0]!, b + h * step[1]!];
      const done = Math.abs(na - a) <= 1e-12 * a && Math.abs(nb - b) <= 1e-12 * b;
      [a, b, c] = [na, nb, cost(na, nb)];
      if (done) break;
    }
    if (c < best.cost) best = { alpha: a, beta: b, cost: c };
  }
  if (!(best.beta > 0) || !Number.isFinite(best.beta)) return null;
  const bandwidth = 1 / best.beta;
  if (bandwidth <= maxBandwidth) return { alpha: best.alpha, bandwidth, capped: false };
  // B capped: α refitted alone, Gauss–Newton on the same logs with β fixed (a lower B makes the
  // large messages slower, which the fitted α would add to).
  const b = 1 / maxBandwidth;
  let a = best.alpha;
  let c = cost(a, b);
  for (let k = 0; k < 100; k++) {
    let num = 0;
    let den = 0;
    for (const p of pts) {
      const q = p.l * a + p.x * b;
      num += (p.l / q) * Math.log(q / p.t);
      den += (p.l / q) ** 2;
    }
    if (!(den > 0)) break;
    const step = -num / den;
    let h = 1;
    while (h > 1e-10 && !(cost(Math.max(0, a + h * step), b) < c)) h /= 2;
    if (h <= 1e-10) break;
    const na = Math.max(0, a + h * step);
    const done = Math.abs(na - a) <= 1e-12 * Math.max(a, 1e-30);
    [a, c] = [na, cost(na, b)];
    if (done || na === 0) break;
  }
  return { alpha: a, bandwidth: maxBandwidth, capped: true };
}

/** The linear fit on relative residuals, 1 = (L/t)·α + (X/t)·β: Gauss–Newton's start. */
function relativeFit(pts: readonly { l: number; x: number; t: number }[]): { alpha: number; beta: number } | null {
  try {
    const [alpha, beta] = leastSquares(pts.map((p) => [p.l / p.t, p.x / p.t]), pts.map(() => 1)) as [number, number];
    return { alpha, beta };
  } catch (e) {
    if (e instanceof SingularFit) return null;
    throw e;
  }
}

/** α and B per link class: one pair fitted over every collective that ran over it, B no more than
 *  the large-message bus bandwidth measured there (collectiveEfficiency must not claim a rate no
 *  measurement reached). */
export function linkFigures(samples: readonly CollectiveSample[], linkOf: (s: CollectiveSample) => LinkClass): LinkFigures[] {
  const fits = fitAll([...samples], linkOf);
  const classes = [...new Set(samples.map(linkOf))];
  return classes.flatMap((link) => {
    const mine = samples.filter((s) => linkOf(s) === link);
    const busbw = median(groups(mine).map((g) => busBandwidth(g.reduce((x, y) => (y.bytes > x.bytes ? y : x)))));
    const fit = jointFit(mine, busbw);
    return fit ? [{ link, alpha: fit.alpha, bandwidth: fit.bandwidth, busbw, capped: fit.capped, fits: fits.filter((f) => f.link === link), samples: mine }] : [];
  });
}
