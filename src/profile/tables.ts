// From raw timings to the profile's efficiency data (planner/efficiency.ts reads the table:
// efficiency against the FLOPs of one GEMM, interpolated in log FLOPs):
// - matmul: achieved / datasheet peak per GEMM, the median of each half-decade of FLOPs;
// - memory-bound kernels: the planner's bytes over their total time, against the HBM datasheet rate;
// - attention: the work the planner times (causal keys, backward 2.5×) over the total time, against
//   the bf16 peak.
import { causalAttentionWork } from "../../planner/cost/compute.js";
import { PLAUSIBLE } from "../../planner/schema/plausible.js";
import type { AttentionSample, ByteSample, MatmulSample } from "./events.js";

/** Efficiencies live in (0, 1]; 1e-4 is the floor written, the lowest a profile may give
 *  (planner/schema/plausible.ts). */
export const MIN_EFFICIENCY = PLAUSIBLE.efficiency.min;

export const clampEfficiency = (x: number) => Math.min(1, Math.max(MIN_EFFICIENCY, x));

const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface MatmulTable {
  points: [number, number][];
  /** Fastest GEMM, FLOP/s. */
  best: number;
  /** Median efficiency of the largest third of the GEMMs (the plateau). */
  plateau: number;
  shapes: number;
}

/** Points [gemmFlops, achieved/peak] from samples of one precision. */
export function matmulTable(samples: MatmulSample[], peak: number): MatmulTable | null {
  if (samples.length === 0 || !(peak > 0)) return null;
  const bins = new Map<number, MatmulSample[]>();
  for (const s of samples) {
    const key = Math.round(2 * Math.log10(s.flops)) / 2;
    bins.set(key, [...(bins.get(key) ?? []), s]);
  }
  const points = [...bins.entries()]
    .sort((p, q) => p[0] - q[0])
    .map(([, group]): [number, number] => {
      const flops = 10 ** (group.reduce((sum, s) => sum + Math.log10(s.flops), 0) / group.length);
      return [round(flops, 3), round(clampEfficiency(median(group.map((s) => s.flops / s.seconds / peak))), 3)];
    });
  const bySize = [...samples].sort((p, q) => p.flops - q.flops);
  const top = bySize.slice(Math.floor((bySize.length * 2) / 3));
  return {
    points,
    best: Math.max(...samples.map((s) => s.flops / s.seconds)),
    plateau: median(top.map((s) => s.flops / s.seconds / peak)),
    shapes: samples.length,
  };
}

/** Bytes per second over a set of samples: total bytes / total seconds (time-weighted). */
export function achievedRate(samples: ByteSample[]): number | null {
  const bytes = samples.reduce((s, x) => s + x.bytes, 0);
  const secs = samples.reduce((s, x) => s + x.seconds, 0);
  return secs > 0 && bytes > 0 ? bytes / secs : null;
}

/** Attention rate over the shapes measured, in the work the planner times (causal keys, backward
 *  2.5×: planner/cost/compute.ts causalAttentionWork), total work / total seconds: divided by the
 *  peak it is the attentionEfficiency that makes the planner's attention time the measured one.
 *  (The profiler's own `flops` are the reporting convention, full square and backward 2×, which
 *  read as an efficiency about 1.6× too high.) */
export function attentionRate(samples: AttentionSample[]): number | null {
  const work = samples.reduce((s, x) => s + causalAttentionWork(x.batch, x.seq, x.heads, x.headDim), 0);
  const secs = samples.reduce((s, x) => s + x.seconds, 0);
  return secs > 0 && work > 0 ? work / secs : null;
}

