// α–β fits of collectives and the bus bandwidth of nccl-tests (PERFORMANCE.md), the least-squares
// helper, and the matmul table built from GEMM timings.
import { describe, expect, it } from "vitest";
import { busBandwidth, fitAll, fitCollective, jointFit, linkFigures, ringFactors } from "../../src/profile/collective-fit.js";
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

  it("per link class: one α and B over the collectives that ran over it, B no more than their large-message bus bandwidth", () => {
    const samples = collectives([2, 4], [[0, 1], [0, 3]], 0, 0, (n, pair) => (n === 2 && (!pair || pair[1] === 1) ? [2e-6, 100e9] : [8e-6, 20e9]));
    const figs = linkFigures(samples, (s) => (s.ranks === 2 && (!s.pair || s.pair[1] === 1) ? "nvlink" : "pcie"));
    const nv = figs.find((f) => f.link === "nvlink")!;
    const pcie = figs.find((f) => f.link === "pcie")!;
    expect(nv.fits).toHaveLength(4);
    expect(nv.samples).toHaveLength(4 * SIZES.length);
    // The ring model's busbw stays under B: at 1 GiB on 2 ranks all-reduce, all-gather and
    // reduce-scatter take 2α + M/B = 4 us + 10.737 ms, busbw 2^30 / 10.7414 ms = 99.963 GB/s; send/recv
    // α + M/B, 99.981. The median of the four, 99.963 GB/s, caps B, and α is refitted with it.
    expect(nv.busbw / 1e9).toBeCloseTo(2 ** 30 / (4e-6 + 2 ** 30 / 100e9) / 1e9, 6);
    expect(nv.busbw / 1e9).toBeCloseTo(99.963, 3);
    expect(nv.capped).toBe(true);
    expect(nv.bandwidth).toBe(nv.busbw);
    // A B under the true one makes the large messages slower: the refitted α gives a little back,
    // never adds (2 us and 8 us fitted exactly before the cap).
    expect(nv.alpha / 2e-6).toBeGreaterThan(0.99);
    expect(nv.alpha / 2e-6).toBeLessThanOrEqual(1);
    expect(pcie.alpha / 8e-6).toBeGreaterThan(0.99);
    expect(pcie.alpha / 8e-6).toBeLessThanOrEqual(1);
    // 4 ranks: all-reduce 6α + 1.5·M/B, busbw 1.5·2^30 / (48 us + 80.53 ms) = 19.988 GB/s (all-gather
    // and reduce-scatter alike); send/recv 0-3 α + M/B, 19.997.
    expect(pcie.busbw / 1e9).toBeCloseTo((1.5 * 2 ** 30) / (48e-6 + (1.5 * 2 ** 30) / 20e9) / 1e9, 6);
    expect(pcie.bandwidth).toBe(pcie.busbw);
    expect(ringTime("all_reduce", 4, 1e9, 0, 20e9)).toBeCloseTo(1.5 * 1e9 / 20e9, 12);
  });
});

describe("the link's one α and B, fitted over all its collectives (jointFit: least squares of log t)", () => {
  it("recovers α and B exactly from ring-model times of every op and group size", () => {
    const f = jointFit(collectives([2, 4, 8], [[0, 1]], 4e-6, 200e9))!;
    expect(f.alpha / 4e-6).toBeCloseTo(1, 9);
    expect(f.bandwidth / 200e9).toBeCloseTo(1, 9);
    expect(f.capped).toBe(false);
  });

  it("each point measured 30% slow and 30% fast (×1.3, ÷1.3): on logs the errors cancel, α and B exact", () => {
    // ln(p/1.3t) and ln(1.3p/t) square to the same at p = t: the fit is the model itself.
    const exact = collectives([2, 8], [[0, 1]], 10e-6, 20e9);
    const f = jointFit(exact.flatMap((s) => [{ ...s, seconds: s.seconds * 1.3 }, { ...s, seconds: s.seconds / 1.3 }]))!;
    expect(f.alpha / 10e-6).toBeCloseTo(1, 6);
    expect(f.bandwidth / 20e9).toBeCloseTo(1, 6);
  });

  it("all-gather at 1 GB/s and reduce-scatter at 0.25 GB/s bus bandwidth, no latency: α 0, B their geometric mean 0.5 GB/s", () => {
    // t = 0.5·M/B on 2 ranks. With α = 0 each size's two points lie ln 2 either side of
    // ln(0.5·M/B') at B' = √(1 × 0.25) = 0.5 GB/s: an α above 0 only moves both up.
    const sizes = [2 ** 20, 2 ** 21, 2 ** 22, 2 ** 23];
    const s = sizes.flatMap((bytes) => [
      { op: "all_gather" as const, ranks: 2, bytes, seconds: (0.5 * bytes) / 1e9 },
      { op: "reduce_scatter" as const, ranks: 2, bytes, seconds: (0.5 * bytes) / 0.25e9 },
    ]);
    const f = jointFit(s)!;
    expect(f.alpha).toBeLessThan(1e-12);
    expect(f.bandwidth / 0.5e9).toBeCloseTo(1, 6);
  });

  it("B above the largest bus bandwidth measured is set to it: 100 us and 1 GB/s on 2 ranks, 8 KB–8 MB", () => {
    // At 8 MiB (8,388,608 B): all-reduce 2α + M/B = 0.2 + 8.3886 ms, busbw M/t = 0.97671 GB/s, and
    // all-gather and reduce-scatter α + M/2B the same; send/recv α + M/B, 0.98822. Median 0.97671.
    const s = collectives([2], [[0, 1]], 100e-6, 1e9).filter((x) => x.bytes <= 2 ** 23);
    const [fig] = linkFigures(s, () => "loopback");
    expect(fig!.busbw / 1e9).toBeCloseTo(2 ** 23 / (2e-4 + 2 ** 23 / 1e9) / 1e9, 9);
    expect(fig!.busbw / 1e9).toBeCloseTo(0.97671, 5);
    expect(fig!.capped).toBe(true);
    expect(fig!.bandwidth).toBe(fig!.busbw);
    // α refitted with B capped: a little under 100 us, and each point priced within what the cap
    // itself costs the largest, B / busbw − 1 = 1 / 0.97671 − 1 = 2.4% (ring forms: synthetic.ts).
    expect(fig!.alpha / 100e-6).toBeGreaterThan(0.98);
    expect(fig!.alpha / 100e-6).toBeLessThanOrEqual(1);
    for (const x of s) expect(Math.abs(ringTime(x.op, x.ranks, x.bytes, fig!.alpha, fig!.bandwidth) / x.seconds - 1), `${x.op} ${x.bytes}`).toBeLessThan(0.024);
    expect(jointFit(s.slice(0, 1))).toBeNull();
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
