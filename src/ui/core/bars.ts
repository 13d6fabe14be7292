// Character-cell bars: parts of a whole laid side by side, each part's cell count rounded so the
// cells add up (largest remainder), plus helpers to lay out legends in a given width.

export interface Part<K extends string = string> {
  key: K;
  value: number;
}

export interface Segment<K extends string = string> {
  key: K | "free";
  width: number;
  text: string;
}

/**
 * Stack `parts` in `width` cells where `scale` fills the whole bar (a capacity, or the total);
 * what is left of the scale is a "free" segment. Values above the scale are squeezed to fit.
 */
export function stackedBar<K extends string>(parts: Part<K>[], scale: number, width: number, glyphs: Record<K | "free", string>): Segment<K>[] {
  const sum = parts.reduce((a, p) => a + Math.max(0, p.value), 0);
  const whole = Math.max(scale, sum);
  if (!(whole > 0) || width <= 0) return width > 0 ? [{ key: "free", width, text: glyphs.free.repeat(width) }] : [];
  const exact = parts.map((p) => (Math.max(0, p.value) / whole) * width);
  const used = Math.min(width, Math.round((sum / whole) * width));
  const cells = exact.map(Math.floor);
  let left = used - cells.reduce((a, c) => a + c, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    cells[i]!++;
    left--;
  }
  const segs: Segment<K>[] = parts
    .map((p, i) => ({ key: p.key as K | "free", width: cells[i]!, text: glyphs[p.key].repeat(cells[i]!) }))
    .filter((s) => s.width > 0);
  const free = width - segs.reduce((a, s) => a + s.width, 0);
  if (free > 0) segs.push({ key: "free", width: free, text: glyphs.free.repeat(free) });
  return segs;
}

/** A single value against a scale: filled cells, then the rest. */
export function meter(value: number, scale: number, width: number, fill = "█", rest = "·"): string {
  const n = scale > 0 ? Math.max(0, Math.min(width, Math.round((value / scale) * width))) : 0;
  return fill.repeat(n) + rest.repeat(width - n);
}

/** Items laid in lines no wider than `width` when joined by `sep` (an item never splits). */
export function wrapGroups<T>(items: readonly T[], text: (t: T) => string, width: number, sep = "  "): T[][] {
  const lines: T[][] = [];
  let line: T[] = [];
  let len = 0;
  for (const item of items) {
    const n = text(item).length;
    if (line.length > 0 && len + sep.length + n > width) {
      lines.push(line);
      line = [];
      len = 0;
    }
    len += (line.length > 0 ? sep.length : 0) + n;
    line.push(item);
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** Items joined by `sep`, wrapped into lines no wider than `width`. */
export const wrapItems = (items: string[], width: number, sep = "  "): string[] =>
  wrapGroups(items, (s) => s, width, sep).map((l) => l.join(sep));

const SPARK = "▁▂▃▄▅▆▇█";

/** The last `width` values as a sparkline, scaled between their own minimum and maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.filter(Number.isFinite).slice(-width);
  if (v.length === 0) return "";
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v.map((x) => SPARK[hi > lo ? Math.round(((x - lo) / (hi - lo)) * (SPARK.length - 1)) : 3]).join("");
}

/** Cut a line to `width` characters with an ellipsis. */
export const fit = (s: string, width: number) => (s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`);
