// The GPU sweep in a table and a terminal chart (plain-text bars): time to train, cost (or
// GPU-hours without a price) and per-GPU efficiency at each count, and the deadline's pick.
import { type SweepPoint, scalingOf } from "../../planner/run/index.js";
import type { CalibrationStanding, Outside } from "../calibration-standing.js";
import { type Held, domainNote } from "../domain-slice.js";
import type { PlanRequest } from "../plan-request.js";
import { shortPlan } from "../ui/core/detail.js";
import { header } from "./plan-text.js";
import { duration, usd } from "./run-text.js";
import { compact, count, grouped, percent, seconds, table } from "./units.js";

/** Days as the table and the chart print them: one decimal with separators (1,234.5); under a
 *  day two significant digits (0.011), where one decimal read 0.0. */
const dayCount = (d: number) => (d >= 1 ? grouped(d, 1) : d.toPrecision(2));

/** On slices of NVLink domains (--gpus-per-domain), what a count with a run holds: whole domains,
 *  idle GPUs included (src/domain-slice.ts heldBySlice); null without a slice or a run. */
export type HeldOf = (p: SweepPoint) => Held | null;

/** A count's GPU-hours and cost as the sweep prices them: on the domains held where the job
 *  slices them (a rack is rented or held whole, as plan's held: line says), else on the GPUs used. */
export function billed(r: NonNullable<SweepPoint["run"]>, h: Held | null | undefined): { gpuHours: number; cost: number | null } {
  return h ? { gpuHours: h.gpuHours, cost: h.cost } : { gpuHours: r.gpuHours, cost: r.cost };
}

/** Whether any count leaves GPUs of its domains idle: then the table has a held column. */
export const holdsIdle = (points: readonly SweepPoint[], held?: HeldOf): boolean => !!held && points.some((p) => (held(p)?.idle ?? 0) > 0);

export function sweepTable(points: readonly SweepPoint[], pick: SweepPoint | null, why: (p: SweepPoint) => string, held?: HeldOf): string {
  const scale = scalingOf(points);
  const withHeld = holdsIdle(points, held);
  const rows = points.map((p, i) => {
    const mark = p === pick ? "◀" : "";
    if (!p.plan || !p.run) return [count(p.gpus), ...(withHeld ? [""] : []), "", "", "", "", "", "", "", "", "", mark];
    const h = held?.(p);
    const r = { ...p.run, ...billed(p.run, h) };
    return [
      count(p.gpus),
      ...(withHeld ? [count(h?.gpus ?? p.gpus)] : []),
      // (a plan the engine runs eager, priced so: planner/eager.ts)
      `${shortPlan(p.plan)}${p.plan.eager ? " · eager" : ""}`,
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
    ["GPUs", ...(withHeld ? ["held"] : []), "best plan", "step", "days", "GPU-hours", "cost", "tokens/s/GPU", "MFU", "scaling", "goodput", ""],
    rows,
    [true, ...(withHeld ? [true] : []), false, true, true, true, true, true, true, true, true, false],
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
export function sweepChart(points: readonly SweepPoint[], width = 40, held?: HeldOf): string {
  const priced = points.some((p) => p.run?.cost != null);
  const scale = scalingOf(points);
  const on = holdsIdle(points, held) ? ", the NVLink domains held" : "";
  const of = (p: SweepPoint) => (p.run ? billed(p.run, held?.(p)) : null);
  return [
    ...bars("time to train (days, wall-clock)", points, (p) => p.run?.days ?? null, dayCount, width),
    ...bars(priced ? `cost (USD${on})` : `GPU-hours (${on ? `${on.slice(2)}; ` : ""}cost at any price is proportional)`, points, (p) => (priced ? of(p)?.cost ?? null : of(p)?.gpuHours ?? null), (v) => (priced ? usd(v) : compact(v)), width),
    ...bars("per-GPU efficiency (tokens/s per GPU against the smallest count)", points, (p) => scale[points.indexOf(p)] ?? null, (v) => percent(v), width),
  ].join("\n");
}

/** The deadline with every step `band` slower: the step's error (src/calibration-band.ts). */
export interface DeadlineMargin {
  band: number;
  /** Whose error, in a few words: "megatron-core's error on its published runs". */
  why: string;
  /** The cheapest count that meets the deadline at that pace (null: none swept). */
  pick: SweepPoint | null;
  /** The unslowed pick's point at that pace (null: no pick). */
  slowPick: SweepPoint | null;
}

/** A count's price in words: its cost (GPU-hours without a price), on the domains it holds where
 *  it slices them ("$436k for the 32 NVLink domains held, 2,304 GPUs"). */
function price(p: SweepPoint, held?: HeldOf): string {
  const h = held?.(p);
  const b = billed(p.run!, h);
  const on = h && h.idle > 0 ? ` for the ${count(h.domains)} NVLink domain${h.domains === 1 ? "" : "s"} held, ${count(h.gpus)} GPUs` : "";
  return `${b.cost === null ? `${compact(b.gpuHours)} GPU-hours` : usd(b.cost)}${on}`;
}

/** "; 6.6% slower (…) it takes 190.3 days, still within it" or "…: the cheapest count that meets it
 *  even then is 2,048 GPUs, 112.0 days, $10.9M". */
function marginWords(m: DeadlineMargin, deadline: number, held?: HeldOf): string {
  const slow = m.slowPick?.run;
  if (!slow) return "";
  const pace = `with the step ${percent(m.band)} slower (${m.why}) it takes ${wallTime(slow.wallSeconds, deadline)}`;
  if (slow.wallSeconds <= deadline) return `; ${pace}, still within it`;
  if (!m.pick?.run) return `; ${pace}, and no count swept meets the deadline at that pace`;
  return `; ${pace}: the cheapest count that meets it even then is ${count(m.pick.gpus)} GPUs, ${wallTime(m.pick.run.wallSeconds)} at that pace, ${price(m.pick, held)}`;
}

/** `why`: the reason each count gives for having no plan (said where none has one). `margin`: the
 *  pick at the step's error, or why no error is stated. */
export function deadlineLine(points: readonly SweepPoint[], pick: SweepPoint | null, deadline: number, why: (p: SweepPoint) => string, margin?: DeadlineMargin | string, held?: HeldOf): string {
  if (pick && pick.run) {
    const m = typeof margin === "string" ? `; no margin for the step's error is stated: ${margin}` : margin ? marginWords(margin, deadline, held) : "";
    return `deadline ${duration(deadline)}: the cheapest count that meets it is ${count(pick.gpus)} GPUs, ${wallTime(pick.run.wallSeconds)}, ${price(pick, held)}${m}`;
  }
  const fastest = points.filter((p) => p.run).sort((a, b) => a.run!.wallSeconds - b.run!.wallSeconds)[0];
  return fastest
    ? `deadline ${duration(deadline)}: no GPU count swept meets it; the fastest, ${count(fastest.gpus)} GPUs, takes ${wallTime(fastest.run!.wallSeconds, deadline)}`
    : `deadline ${duration(deadline)}: ${noPlanLine(points, why)}`;
}

/** Where no count has a plan, why, from the counts' own reasons ("nothing fits" was said where
 *  every row said a fixed --tp did not divide its count): each distinct reason once, at its first
 *  count, with the other counts that give it (their own numbers in place of its). */
export function noPlanLine(points: readonly SweepPoint[], why: (p: SweepPoint) => string): string {
  const groups = new Map<string, SweepPoint[]>();
  for (const p of points) {
    const key = why(p).replaceAll(count(p.gpus), "\u0000").replaceAll(String(p.gpus), "\u0000");
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const parts = [...groups.values()].map(([p, ...alike]) => `at ${count(p!.gpus)} GPUs, ${why(p!)}${alike.length > 0 ? ` (likewise at ${alike.map((q) => count(q.gpus)).join(", ")})` : ""}`);
  return `no GPU count swept has a plan: ${parts.slice(0, 3).join("; ")}${parts.length > 3 ? `; and ${parts.length - 3} more ${parts.length - 3 === 1 ? "reason" : "reasons"} (each row says its own)` : ""}`;
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

/** A count's request: built whole, or as far as a count that breaks a layout rule built it. */
export type SweptRequest = Omit<PlanRequest, "calibration"> & { calibration?: CalibrationStanding };

/** Every count's assumptions once, in order; the global batch that follows the count (one
 *  sequence per GPU) said once for all. */
export function sweepAssumed(reqs: readonly SweptRequest[]): string[] {
  const out: string[] = [];
  for (const r of reqs)
    for (const a of r.assumed) {
      const line = /^global batch \d+ \(one sequence per GPU\)$/.test(a) ? "global batch of one sequence per GPU at each count" : a;
      if (!out.includes(line)) out.push(line);
    }
  return out;
}

/** The engine's standing against its published runs over the counts: each way any count lies
 *  outside them (16,384 GPUs), once. */
export function sweepCalibration(reqs: readonly SweptRequest[]): CalibrationStanding | undefined {
  const known = reqs.flatMap((r) => (r.calibration ? [r.calibration] : []));
  if (known.length === 0) return undefined;
  // The counts outside the runs' span as one item ("8, 16 and 32 GPUs"), where the first of them stood.
  const all = [...new Map(known.flatMap((c) => c.outside).map((o) => [o.words, o])).values()];
  const isCount = (o: Outside) => o.what === "gpus";
  const gpus = all.filter(isCount).map((o) => o.words.replace(/ GPUs?$/, ""));
  const joined = gpus.length <= 1 ? gpus.join("") : `${gpus.slice(0, -1).join(", ")} and ${gpus[gpus.length - 1]}`;
  const outside = all.flatMap((o, i) => (!isCount(o) ? [o] : all.findIndex(isCount) === i ? [{ ...o, words: `${joined} GPU${gpus.length === 1 && joined === "1" ? "" : "s"}` }] : []));
  return { ...known[0]!, outside };
}

/** The sweep's header as plan's (model, hardware, training, engine, assumed, calibration), over
 *  the counts swept and the global batches they take. */
export function sweepHeader(reqs: readonly SweptRequest[], counts: readonly number[]): string {
  const first = reqs[0]!;
  const batches = [...new Set(reqs.map((r) => r.training.globalBatch))].sort((a, b) => a - b);
  const batch = batches.length === 1 ? String(batches[0]) : `${batches[0]}–${batches[batches.length - 1]}`;
  const gpus = counts.length <= 6 ? counts.map(count).join(", ") : `${count(counts[0]!)}–${count(counts[counts.length - 1]!)} (${counts.length} counts)`;
  const calibration = sweepCalibration(reqs);
  // --gpus-per-domain: said as plan's header says it (QA: the sweep's header dropped it, so a sweep
  // on 64-GPU slices read as one on whole racks).
  const slice = domainNote(first.hw, first.domainSlice);
  const { calibration: _, ...rest } = first;
  return header({ ...rest, assumed: sweepAssumed(reqs), ...(calibration ? { calibration } : {}) }, { cluster: `${gpus} × ${first.hw.gpuName} — ${first.profileName}: ${count(first.hw.gpusPerNode)} GPUs a node${slice}`, batch });
}
