// Lookup in an efficiency table: piecewise-linear in log10(FLOPs), held at the last point above
// the table. Tables are data in the hardware profiles (calibrated or measured by `paraplan profile`).
//
// Below the first point a GEMM is overhead-bound (kernel launch on GPUs, op dispatch on CPUs): its
// time does not fall below that of the smallest GEMM measured. With a latency term t0 and a rate r,
// t(F) = t0 + F/r (Hockney's α–β form, Hockney 1994, applied to one op); below the measured sizes
// t0 dominates, so the lookup takes t(F) = t(F1) = F1 / (peak · e1) for F < F1, i.e. the efficiency
// e(F) = e1 · F / F1 (time constant, efficiency proportional to FLOPs). Holding e1 instead
// priced a GEMM 10× smaller than F1 10× faster than F1 itself, which no machine does.
import type { EfficiencyTable } from "./types.js";

export function efficiencyAt(table: EfficiencyTable, flops: number): number {
  const pts = table.points;
  const first = pts[0];
  const last = pts[pts.length - 1];
  if (!first || !last) throw new Error("efficiency table has no points");
  if (!(flops > 0)) return first[1]; // no work: any efficiency gives time 0
  if (flops <= first[0]) return (first[1] * flops) / first[0];
  if (flops >= last[0]) return last[1];
  const x = Math.log10(flops);
  for (let i = 1; i < pts.length; i++) {
    const hi = pts[i]!;
    if (flops <= hi[0]) {
      const lo = pts[i - 1]!;
      const x0 = Math.log10(lo[0]);
      const x1 = Math.log10(hi[0]);
      return lo[1] + ((hi[1] - lo[1]) * (x - x0)) / (x1 - x0);
    }
  }
  return last[1];
}
