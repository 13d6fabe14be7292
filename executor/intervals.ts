// Half-open time intervals [start, end): union, difference and total length. Pure.

export type Interval = [number, number];

/** Sorted, disjoint intervals covering the same time (empty ones dropped). */
export function union(xs: readonly Interval[]): Interval[] {
  const sorted = xs.filter(([a, b]) => b > a).sort((p, q) => p[0] - q[0]);
  const out: Interval[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The parts of `a` not covered by `b`; both must be results of union(). */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const [s0, e] of a) {
    let s = s0;
    while (j < b.length && b[j]![1] <= s) j++;
    for (let k = j; k < b.length && b[k]![0] < e; k++) {
      const [bs, be] = b[k]!;
      if (bs > s) out.push([s, bs]);
      s = Math.max(s, be);
      if (s >= e) break;
    }
    if (s < e) out.push([s, e]);
  }
  return out;
}

/** Total length. */
export const measure = (xs: readonly Interval[]): number => xs.reduce((t, [a, b]) => t + (b - a), 0);
