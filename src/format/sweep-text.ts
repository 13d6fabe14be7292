// The GPU sweep in a table and a terminal chart (plain-text bars): time to train, cost (or
// GPU-hours without a price) and per-GPU efficiency at each count, and the deadline's pick.
import { type SweepPoint, scalingOf } from "../../planner/run/index.js";
import { shortPlan } from "../ui/core/detail.js";
import { duration, usd } from "./run-text.js";
import { compact, count, grouped, percent, seconds, table } from "./units.js";

/** Days as the table and the chart print them: one decimal with separators (1,234.5); under a
 *  day two significant digits (0.011), where one decimal read 0.0. */
const dayCount = (d: number) => (d >= 1 ? grouped(d, 1) : d.toPrecision(2));

export function sweepTable(points: readonly SweepPoint[], pick: SweepPoint | null, why: (p: SweepPoint) => string): string {
  const scale = scalingOf(points);
  const rows = points.map((p, i) => {
    const mark = p === pick ? "◀" : "";
    if (!p.plan || !p.run) return [count(p.gpus), "", "", "", "", "", "", "", "", "", mark];
    const r = p.run;
    return [
      count(p.gpus),
      shortPlan(p.plan),
      `${seconds(p.step)}${p.simulated ? "" : "*"}`,
      dayCount(r.days),
      compact(r.gpuHours),
      r.cost === null ? "-" : usd(r.cost),
      count(p.tokensPerGpuSecond),
      percent(p.mfu),
      percent(scale[i]!),
      percent(r.goodput),
      mark,
    ];
  });
  const lines = table(
    ["GPUs", "best plan", "step", "days", "GPU-hours", "cost", "tokens/s/GPU", "MFU", "scaling", "goodput", ""],
    rows,
    [true, false, true, true, true, true, true, true, true, true, false],
  ).split("\n");
  // A count without a plan says why after its count, across the columns: in the plan column a
  // long reason (a list of rejections) widened every row of the table to its length.
  const gw = Math.max("GPUs".length, ...points.map((p) => count(p.gpus).length));
  points.forEach((p, i) => {
    if (!p.plan || !p.run) lines[i + 2] = `${count(p.gpus).padStart(gw)}  ${why(p)}`;
  });
  return lines.join("\n");
}

/** One horizontal bar per count, scaled to the largest value. */
function bars(title: string, points: readonly SweepPoint[], value: (p: SweepPoint) => number | null, label: (v: number) => string, width: number): string[] {
  const vals = points.map(value);
  const max = Math.max(0, ...vals.map((v) => v ?? 0));
  const gw = Math.max(...points.map((p) => count(p.gpus).length));
  const lines = [title];
  points.forEach((p, i) => {
    const v = vals[i];
    const n = v === null || v === undefined || max === 0 ? 0 : Math.max(1, Math.round((v / max) * width));
    lines.push(`  ${count(p.gpus).padStart(gw)} ${v === null || v === undefined ? "no plan" : `${"█".repeat(n)} ${label(v)}`}`);
  });
  return lines;
}

/** The chart: time to train, cost (GPU-hours without a price) and per-GPU efficiency. */
export function sweepChart(points: readonly SweepPoint[], width = 40): string {
  const priced = points.some((p) => p.run?.cost != null);
  const scale = scalingOf(points);
  return [
    ...bars("time to train (days, wall-clock)", points, (p) => p.run?.days ?? null, dayCount, width),
    ...bars(priced ? "cost (USD)" : "GPU-hours (cost at any price is proportional)", points, (p) => (priced ? p.run?.cost ?? null : p.run?.gpuHours ?? null), (v) => (priced ? usd(v) : compact(v)), width),
    ...bars("per-GPU efficiency (tokens/s per GPU against the smallest count)", points, (p) => scale[points.indexOf(p)] ?? null, (v) => percent(v), width),
  ].join("\n");
}

/** The deadline with every step `band` slower: the engine's error on its published runs. */
export interface DeadlineMargin {
  band: number;
  engine: string;
  /** The cheapest count that meets the deadline at that pace (null: none swept). */
  pick: SweepPoint | null;
  /** The unslowed pick's point at that pace (null: no pick). */
  slowPick: SweepPoint | null;
}

const price = (r: NonNullable<SweepPoint["run"]>) => (r.cost === null ? `${compact(r.gpuHours)} GPU-hours` : usd(r.cost));

/** "; 6.6% slower (…) it takes 190.3 days, still within it" or "…: the cheapest count that meets it
 *  even then is 2,048 GPUs, 112.0 days, $10.9M". */
function marginWords(m: DeadlineMargin, deadline: number): string {
  const slow = m.slowPick?.run;
  if (!slow) return "";
  const pace = `with the step ${percent(m.band)} slower (${m.engine}'s error on its published runs) it takes ${wallTime(slow.wallSeconds, deadline)}`;
  if (slow.wallSeconds <= deadline) return `; ${pace}, still within it`;
  if (!m.pick?.run) return `; ${pace}, and no count swept meets the deadline at that pace`;
  return `; ${pace}: the cheapest count that meets it even then is ${count(m.pick.gpus)} GPUs, ${wallTime(m.pick.run.wallSeconds)} at that pace, ${price(m.pick.run)}`;
}

export function deadlineLine(points: readonly SweepPoint[], pick: SweepPoint | null, deadline: number, margin?: DeadlineMargin): string {
  if (pick && pick.run)
    return `deadline ${duration(deadline)}: the cheapest count that meets it is ${count(pick.gpus)} GPUs, ${wallTime(pick.run.wallSeconds)}, ${price(pick.run)}${margin ? marginWords(margin, deadline) : ""}`;
  const fastest = points.filter((p) => p.run).sort((a, b) => a.run!.wallSeconds - b.run!.wallSeconds)[0];
  return fastest
    ? `deadline ${duration(deadline)}: no GPU count swept meets it; the fastest, ${count(fastest.gpus)} GPUs, takes ${wallTime(fastest.run!.wallSeconds, deadline)}`
    : `deadline ${duration(deadline)}: no GPU count swept has a plan that fits`;
}

/** A run's wall-clock time as the run text prints it: days from a day on (79.3 days), else the
 *  unit that reads best (15.4 min; it read "0.0 days"). Beside a deadline it missed, more digits
 *  where the usual ones would read as the deadline itself. */
function wallTime(s: number, deadline?: number): string {
  if (s < 86400) {
    const d = duration(s);
    return deadline !== undefined && d === duration(deadline) ? seconds(s) : d;
  }
  const days = s / 86400;
  if (deadline === undefined) return `${grouped(days, 1)} days`;
  for (const digits of [1, 2, 3, 4]) if (grouped(days, digits) !== grouped(deadline / 86400, digits)) return `${grouped(days, digits)} days`;
  return `${grouped(days, 5)} days`;
}
