// α–β fits of measured collectives (Hockney 1994's latency–bandwidth model, in the ring forms of
// Thakur, Rabenseifner & Gropp 2005 §4 that planner/cost/collectives.ts prices with):
//   all-reduce                 t = 2(n−1)·α + 2(n−1)/n · M/B
//   all-gather, reduce-scatter t =  (n−1)·α +  (n−1)/n · M/B
//   send/recv                  t =        α +            M/B
// Each collective (op, group size) is fitted as t = a + b·M by least squares on relative
// residuals (sizes span five orders of magnitude), then α = a / latency factor and
// B = bandwidth factor / b. Bus bandwidth is nccl-tests' (PERFORMANCE.md): busbw = algbw ×
// 2(n−1)/n for all-reduce, × (n−1)/n for all-gather and reduce-scatter, × 1 for send/recv,
// algbw = M / t; for large messages it tends to B, the figure to compare with the link's rate.
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

/** Group samples by (op, ranks, pair) and fit each. */
export function fitAll(samples: CollectiveSample[], linkOf: (s: CollectiveSample) => LinkClass): CollectiveFit[] {
  const groups = new Map<string, CollectiveSample[]>();
  for (const s of samples) {
    const key = `${s.op}/${s.ranks}/${s.pair?.join("-") ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const fits: CollectiveFit[] = [];
  for (const g of groups.values()) {
    const f = fitCollective(g, linkOf(g[0]!));
    if (f) fits.push(f);
  }
  return fits;
}

export interface LinkFigures {
  link: LinkClass;
  /** Median α over the link's collectives, seconds. */
  alpha: number;
  /** Median fitted B, bytes/s. */
  bandwidth: number;
  /** Median large-message busbw, bytes/s. */
  busbw: number;
  fits: CollectiveFit[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** α and B per link class, from every collective fitted over it. */
export function linkFigures(fits: CollectiveFit[]): LinkFigures[] {
  const classes = [...new Set(fits.map((f) => f.link))];
  return classes.map((link) => {
    const mine = fits.filter((f) => f.link === link);
    return {
      link,
      alpha: median(mine.map((f) => f.alpha)),
      bandwidth: median(mine.map((f) => f.bandwidth)),
      busbw: median(mine.map((f) => f.largestBusbw)),
      fits: mine,
    };
  });
}
