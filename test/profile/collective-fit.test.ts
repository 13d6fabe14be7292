// α–β fits of collectives and the bus bandwidth of nccl-tests (PERFORMANCE.md), the least-squares
// helper, and the matmul table built from GEMM timings.
import { describe, expect, it } from "vitest";
import { busBandwidth, fitAll, fitCollective, linkFigures, ringFactors } from "../../src/profile/collective-fit.js";
import type { CollectiveSample } from "../../src/profile/events.js";
import { SingularFit, conditionEstimate, leastSquares } from "../../src/profile/linalg.js";
import { matmulTable } from "../../src/profile/tables.js";
import { SIZES, collectives, gpuMeasurements, ringTime } from "./synthetic.js";

describe("least squares (mathjs QR)", () => {
  it("solves an overdetermined system and refuses a dependent one", () => {
    expect(leastSquares([[1, 1], [1, 2], [1, 3]], [1, 2, 2]).map((x) => Number(x.toFixed(12)))).toEqual([2 / 3, 0.5].map((x) => Number(x.toFixed(12))));
    expect(() => leastSquares([[1, 2], [2, 4], [3, 6]], [1, 2, 3])).toThrow(SingularFit);
    expect(() => leastSquares([[1, 2, 3]], [1])).toThrow(SingularFit);
    expect(conditionEstimate([[1, 0], [0, 1], [1, 1]])).toBeLessThan(2);
    expect(conditionEstimate([[1, 2], [2, 4]])).toBeGreaterThan(1e12);
  });
});

describe("ring factors and bus bandwidth", () => {
  it("are nccl-tests': all-reduce 2(n−1)/n, all-gather and reduce-scatter (n−1)/n, send/recv 1", () => {
    expect(ringFactors("all_reduce", 8)).toEqual({ latency: 14, bandwidth: 14 / 8 });
    expect(ringFactors("all_gather", 4)).toEqual({ latency: 3, bandwidth: 3 / 4 });
    expect(ringFactors("send_recv", 2)).toEqual({ latency: 1, bandwidth: 1 });
    // 1 GB all-reduce over 8 ranks in 5 ms: algbw 200 GB/s (2^30 bytes), busbw 350 GB/s
    const s: CollectiveSample = { op: "all_reduce", ranks: 8, bytes: 1e9, seconds: 5e-3 };
    expect(busBandwidth(s)).toBeCloseTo(350e9, -3);
  });
});

describe("α–β fits", () => {
  it("recover α and B exactly from ring-model times, for every op and group size", () => {
    const fits = fitAll(collectives([2, 4, 8], [[0, 1]], 4e-6, 200e9), () => "nvlink");
    expect(fits).toHaveLength(10);
    for (const f of fits) {
      expect(f.alpha, `${f.op} ${f.ranks}`).toBeCloseTo(4e-6, 12);
      expect(f.bandwidth / 200e9, `${f.op} ${f.ranks}`).toBeCloseTo(1, 9);
      expect(f.largestBytes).toBe(2 ** 30);
      expect(f.largestBusbw).toBeLessThan(200e9); // busbw tends to B from below
      expect(f.largestBusbw).toBeGreaterThan(0.99 * 200e9);
    }
  });

  it("stay close under ±3% noise", () => {
    const [f] = fitAll(collectives([8], [], 10e-6, 20e9, undefined, 0.03).filter((s) => s.op === "all_reduce"), () => "pcie");
    expect(f!.alpha / 10e-6).toBeGreaterThan(0.9);
    expect(f!.alpha / 10e-6).toBeLessThan(1.1);
    expect(f!.bandwidth / 20e9).toBeGreaterThan(0.95);
    expect(f!.bandwidth / 20e9).toBeLessThan(1.05);
  });

  it("a latency the data cannot resolve is fitted as 0, not negative; one size gives no fit", () => {
    const s = SIZES.slice(5).map((bytes) => ({ op: "all_reduce" as const, ranks: 2, bytes, seconds: (bytes / 10e9) * (bytes === 2 ** 23 ? 0.7 : 1) }));
    const f = fitCollective(s, "pcie")!;
    expect(f.a).toBe(0);
    expect(f.bandwidth).toBeGreaterThan(8e9);
    expect(fitCollective(s.slice(0, 1), "pcie")).toBeNull();
  });

  it("per link class: medians over the collectives that ran over it", () => {
    const samples = collectives([2, 4], [[0, 1], [0, 3]], 0, 0, (n, pair) => (n === 2 && (!pair || pair[1] === 1) ? [2e-6, 100e9] : [8e-6, 20e9]));
    const figs = linkFigures(fitAll(samples, (s) => (s.ranks === 2 && (!s.pair || s.pair[1] === 1) ? "nvlink" : "pcie")));
    const nv = figs.find((f) => f.link === "nvlink")!;
    const pcie = figs.find((f) => f.link === "pcie")!;
    expect(nv.alpha).toBeCloseTo(2e-6, 12);
    expect(nv.bandwidth / 100e9).toBeCloseTo(1, 9);
    expect(nv.fits).toHaveLength(4);
    expect(pcie.alpha).toBeCloseTo(8e-6, 12);
    expect(pcie.bandwidth / 20e9).toBeCloseTo(1, 9);
    expect(ringTime("all_reduce", 4, 1e9, 0, 20e9)).toBeCloseTo(1.5 * 1e9 / 20e9, 12);
  });
});

describe("matmul efficiency table", () => {
  it("one point per half-decade of GEMM FLOPs, achieved/peak, within (0, 1]", () => {
    const m = gpuMeasurements({ peak: 989e12, top: 0.8, half: 2e10, copy: 3e12, kernels: 2.6e12, attention: 4.5e14, world: 1, collectives: [] });
    const t = matmulTable(m.matmul, 989e12)!;
    const keys = t.points.map((p) => Math.round(2 * Math.log10(p[0])) / 2);
    expect(new Set(keys).size).toBe(keys.length);
    expect(t.points.map((p) => p[0])).toEqual([...t.points.map((p) => p[0])].sort((a, b) => a - b));
    for (const [f, e] of t.points) {
      expect(e).toBeGreaterThan(0);
      expect(e).toBeLessThanOrEqual(1);
      expect(e).toBeCloseTo((0.8 * f) / (f + 2e10), 1);
    }
    expect(t.best / 989e12).toBeLessThan(0.8);
    expect(t.best / 989e12).toBeGreaterThan(0.79);
    expect(t.plateau).toBeGreaterThan(0.75);
    expect(matmulTable([], 1)).toBeNull();
  });
});
