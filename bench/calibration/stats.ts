// Rank statistics of the calibration report: Spearman's ρ (Spearman 1904; Pearson correlation of
// the ranks, ties given their average rank) and its grouping by model and GPU count.

/** 1-based ranks, ties sharing their average rank. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

export function spearman(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length || xs.length < 2) return NaN;
  return pearson(ranks(xs), ranks(ys));
}

export interface RankedPoint {
  group: string;
  config: string;
  predicted: number;
  measured: number;
}

/** ρ of predicted against measured within each group holding at least `minConfigs` distinct
 *  configurations (rows of one configuration are all kept; ties get average ranks). */
export function groupSpearman(points: readonly RankedPoint[], minConfigs = 4): { group: string; rho: number; n: number }[] {
  const groups = new Map<string, RankedPoint[]>();
  for (const p of points) groups.set(p.group, [...(groups.get(p.group) ?? []), p]);
  const out: { group: string; rho: number; n: number }[] = [];
  for (const [group, ps] of groups) {
    if (new Set(ps.map((p) => p.config)).size < minConfigs) continue;
    const rho = spearman(ps.map((p) => p.predicted), ps.map((p) => p.measured));
    if (Number.isFinite(rho)) out.push({ group, rho, n: ps.length });
  }
  return out;
}
