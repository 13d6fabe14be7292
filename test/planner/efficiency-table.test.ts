// planner/efficiency.ts: the table lookup, in particular below the smallest GEMM of the table,
// where a GEMM is overhead-bound and its time stays that of the first point.
import { describe, expect, it } from "vitest";
import { efficiencyAt } from "../../planner/efficiency.js";

// A measured CPU table's shape (QA's `profile --device cpu --quick`): first point 4.19e6 FLOP at 0.946.
const table = { source: "test", points: [[4.19e6, 0.946], [4.19e7, 0.99], [4.19e8, 0.99]] as [number, number][] };
const peak = 118.9e9; // FLOP/s
const time = (flops: number) => flops / (peak * efficiencyAt(table, flops));

describe("efficiencyAt", () => {
  it("below the first point, efficiency falls in proportion to FLOPs: a 1 MFLOP GEMM takes the 4.19 MFLOP GEMM's time", () => {
    // e(1e6) = 0.946 × 1e6 / 4.19e6 = 0.22578…; held at 0.946 it was 4.19× too fast.
    expect(efficiencyAt(table, 1e6)).toBeCloseTo((0.946 * 1e6) / 4.19e6, 12);
    // t = 4.19e6 / (118.9e9 × 0.946) = 37.25 us, for 1e6 and for 4.19e6 FLOPs alike.
    expect(time(1e6)).toBeCloseTo(37.25e-6, 8);
    expect(time(1e6)).toBeCloseTo(time(4.19e6), 15);
    expect(time(1)).toBeCloseTo(time(4.19e6), 15);
  });

  it("at and above the first point: the point itself, log-linear between points, the last point held above the table", () => {
    expect(efficiencyAt(table, 4.19e6)).toBe(0.946);
    // Half-way in log10 between 4.19e6 and 4.19e7: (0.946 + 0.99) / 2 = 0.968.
    expect(efficiencyAt(table, 4.19e6 * Math.sqrt(10))).toBeCloseTo(0.968, 12);
    expect(efficiencyAt(table, 1e12)).toBe(0.99);
  });

  it("no work: the first point (time 0 whatever the efficiency, never 0/0)", () => {
    expect(efficiencyAt(table, 0)).toBe(0.946);
    expect(time(0)).toBe(0);
  });
});
