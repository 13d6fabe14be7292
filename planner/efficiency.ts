// Lookup in an efficiency table: piecewise-linear in log10(FLOPs), clamped at both ends.
// Tables are data in the hardware profiles (calibrated or measured by `paraplan profile`).
import type { EfficiencyTable } from "./types.js";

export function efficiencyAt(table: EfficiencyTable, flops: number): number {
  const pts = table.points;
  const first = pts[0];
  const last = pts[pts.length - 1];
  if (!first || !last) throw new Error("efficiency table has no points");
  if (flops <= first[0]) return first[1];
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
