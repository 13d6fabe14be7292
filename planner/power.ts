// A power-capped GPU sustains a lower clock, and so lower matmul throughput, than the part its
// efficiency data was measured on. No published curve of H100 bf16 tensor throughput against the
// power limit exists (shared/reference/engines.md, "Cross-cutting F"); the prior assumed here is
// the textbook relation of dynamic CMOS power to clock: P ∝ C·V²·f (Hennessy & Patterson,
// Computer Architecture 6th ed. §1.5) with the supply voltage scaled roughly in proportion to the
// clock across the DVFS range, so P ∝ f³ and a part held at its power limit sustains
// f ∝ P^(1/3). Leakage power is ignored (it makes the true loss larger). HBM bandwidth is clocked
// separately and is not derated. Only the torchtitan rows (TT24, 500 W H100 96 GB) inform it;
// in their leave-one-source-out fold it stays this prior.

/** Sustained compute throughput of a part capped at `limit` watts relative to the same part at
 *  `rated` watts (1 when the cap is at or above the rating). */
export function powerThrottle(limit: number, rated: number): number {
  if (!(limit > 0) || !(rated > 0) || limit >= rated) return 1;
  return Math.cbrt(limit / rated);
}
