// The whole run of the best plan in words (plan --tokens): time to train, GPU-hours, energy,
// cost, failures and checkpoints, each figure with where it came from.
import { FIGURE_UNITS, type ResolvedFigure, type ResolvedRunFigures, runStall } from "../../planner/run/index.js";
import type { RunSettings, WholeRun } from "../app/whole-run.js";
import type { Held } from "../domain-slice.js";
import { compact, count, grouped, percent, plural, seconds } from "./units.js";

/** 3.2 min, 1.80 h, 79.3 days: a duration in the unit that reads best. */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return "never";
  if (s < 120) return seconds(s);
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 3 * 86400) return `${(s / 3600).toFixed(2)} h`;
  return `${(s / 86400).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} days`;
}

/** $1,829.51, $12.3M: separators below ten thousand too (it read $1829.51). */
export const usd = (x: number) => (x >= 1e4 ? `$${compact(x)}` : `$${grouped(x, 2)}`);
export const tb = (bytes: number) => (bytes >= 1e12 ? `${(bytes / 1e12).toFixed(2)} TB` : bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);
/** 32.6M, 5,482, 0.31: compact when large, two significant digits when small. */
export const amount = (n: number) => (n >= 1e4 ? compact(n) : n >= 10 ? count(n) : n === 0 ? "0" : n.toPrecision(2));
const rate = (bytesPerSecond: number) =>
  bytesPerSecond >= 1e12 ? `${(bytesPerSecond / 1e12).toFixed(2)} TB/s` : bytesPerSecond >= 1e9 ? `${(bytesPerSecond / 1e9).toFixed(1)} GB/s` : `${(bytesPerSecond / 1e6).toPrecision(3)} MB/s`;
/** 79.3 days, 1,234.5 days. */
const days = (d: number) => `${d.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} days`;
/** A run's wall-clock time: days from a day on (1,077.7 days), else the unit that reads best. */
export const wallClock = (e: { days: number; wallSeconds: number }) => (e.days >= 1 ? days(e.days) : duration(e.wallSeconds));
const from = (f: ResolvedFigure) => (f.from === "flag" ? "flag" : f.from === "profile" ? "profile" : "default");
/** "name (where): source", or "name: given on the command line" for a flag's (no source to cite). */
const sourced = (name: string, f: ResolvedFigure) => (f.from === "flag" ? `${name}: given on the command line` : `${name} (${from(f)}): ${f.source}`);
const failureRate = (r: number) => (r === 0 ? "0" : r.toExponential(3));

/** What the run's figures are read with: the resolved figures and the settings (which flags were
 *  given), and whether the device-to-host copy matters (async, or it bounds the write). */
export interface RunFigureWords {
  figures: ResolvedRunFigures;
  settings: Pick<RunSettings, "power" | "ckpt" | "given">;
  stagingUsed: boolean;
}

const givenFlag = (s: RunFigureWords["settings"], flag: string) => s.given?.includes(flag) ?? false;

/** The run's defaults, each named with the flag that changes it (README "How to read it": every
 *  default is named): the power basis and checkpoint mode not given, and each figure neither a
 *  flag nor the profile gave. */
export function runAssumed(r: RunFigureWords): string[] {
  const f = r.figures;
  const out: string[] = [];
  if (!givenFlag(r.settings, "power")) out.push(`--power ${r.settings.power} (default)`);
  if (!givenFlag(r.settings, "ckpt")) out.push(`--ckpt ${r.settings.ckpt} (default)`);
  if (f.pue.from === "default") out.push(`PUE ${f.pue.value} (default; --pue)`);
  if (f.checkpointBandwidth.from === "default") out.push(`checkpoint storage ${rate(f.checkpointBandwidth.value)} (default; --ckpt-bandwidth)`);
  if (f.restartTime.from === "default") out.push(`restart ${duration(f.restartTime.value)} (default; --restart-time)`);
  if (f.failuresPerGpuHour.from === "default") out.push(`failures ${failureRate(f.failuresPerGpuHour.value)} per GPU-hour (default: the profile gives none)`);
  if (r.stagingUsed && f.stagingBandwidth.from === "default") out.push(`device-to-host copy ${rate(f.stagingBandwidth.value)} a GPU (default: the profile gives none)`);
  return out;
}

/** The figures' sources, one line each (indented for the run's block). */
export function runSources(r: RunFigureWords): string[] {
  const f = r.figures;
  const lines = [
    sourced("failure rate", f.failuresPerGpuHour),
    sourced("PUE", f.pue),
    sourced("checkpoint storage", f.checkpointBandwidth),
    sourced("restart time", f.restartTime),
  ];
  if (r.stagingUsed) lines.push(`device-to-host copy (${from(f.stagingBandwidth)}): ${f.stagingBandwidth.source}`);
  if (f.power) lines.push(`${f.power.basis === "board" ? "board power" : "node power"} (profile): ${f.power.source}`);
  return lines.map((l) => `    ${l}`);
}

const wordsOf = (w: WholeRun): RunFigureWords => ({
  figures: w.figures,
  settings: w.settings,
  stagingUsed: w.settings.ckpt === "async" || w.estimate.checkpoint.staging > w.estimate.checkpoint.storageWrite,
});

/** Energy, or why it is unknown: the other basis only where the profile has it. */
function energyText(w: WholeRun): string {
  const e = w.estimate;
  const f = w.figures;
  const basis = (b: string) => (b === "board" ? "board power" : "node power");
  if (!f.power) {
    const other = f.powerBases.find((b) => b !== w.settings.power);
    return other !== undefined
      ? `energy: unknown (the profile gives no ${basis(w.settings.power)}; try --power ${other})`
      : "energy: unknown (the profile gives neither board nor node power; a profile extending it with run.boardPower or run.nodePower gives it)";
  }
  return `energy ${e.energyMWh! >= 10 ? count(e.energyMWh!) : amount(e.energyMWh!)} MWh = GPU-hours × ${count(f.power.value)} W ${f.power.basis === "board" ? "GPU board power" : "node power per GPU"} × PUE ${f.pue.value} (${from(f.pue)})`;
}

/** The checkpoint's mode and interval: what blocks training (the storage's write, or each GPU's
 *  device-to-host copy where that is slower), how often, or why none is written. */
function checkpointText(w: WholeRun): string {
  const c = w.estimate.checkpoint;
  const i = w.inputs;
  const copy = `the device-to-host copy, ${tb(i.checkpointBytesPerGpu)} a GPU at ${rate(i.stagingBandwidth)} = ${duration(c.staging)}`;
  const write = `the write, ${tb(i.checkpointBytes)} at ${rate(i.checkpointBandwidth)} = ${duration(c.storageWrite)}`;
  const copyBound = c.staging > c.storageWrite;
  const mode =
    w.settings.ckpt === "sync"
      ? `sync: training waits ${duration(c.blocking)} for ${copyBound ? `${copy}, slower than ${write}` : "the write"}`
      : c.asyncWaits
        ? copyBound
          ? `async, waiting ${duration(c.blocking)} for each write as sync does: ${copy}, is the limit, not ${write}, so overlapping the write saves nothing`
          : `async, waiting ${duration(c.blocking)} for each write: the storage is too slow for the overlapped write to pay`
        : `async: training waits ${duration(c.blocking)} to stage, ${duration(c.persist)} to persist`;
  const daly = `Daly 2006's optimum ${duration(c.optimum)}; Young 1974: ${duration(c.young)}`;
  if (!c.written) {
    const why =
      c.notWritten === "no failures"
        ? "no failures expected"
        : c.notWritten === "run shorter"
          ? `the run's ${duration(w.estimate.idealSeconds)} of compute ends before the first (${daly})`
          : `one stretch without checkpoints expects less time than writing them (${daly})`;
    return `${w.settings.ckpt} (a write would block training ${duration(c.blocking)}); none written: ${why}`;
  }
  // A checkpoint falls between steps: the interval in whole steps, then in time.
  const every = c.intervalSteps === undefined ? `every ${duration(c.interval)}` : `every ${count(c.intervalSteps)} step${c.intervalSteps === 1 ? "" : "s"}, ${duration(c.interval)}`;
  const interval = c.intervalIsPersist ? `${every} (as often as async's write allows)` : `${every} of compute (${daly})`;
  return `${mode}; ${interval}`;
}

/** $2.5, $1,000,000 (it read $1000000) per GPU-hour: the price as given, with separators. */
export const priceText = (price: number): string => (price >= 1000 ? grouped(price, Number.isInteger(price) ? 0 : 2) : String(price));

/** `held`: a job on slices of NVLink domains (--gpus-per-domain), what its domains hold (src/domain-slice.ts heldBySlice). */
export function runText(w: WholeRun, held?: Held): string {
  const stall = runStall(w.estimate, w.inputs.restartTime);
  if (stall) return `whole run: ${stall.message}`;
  const e = w.estimate;
  const i = w.inputs;
  const c = e.checkpoint;
  const f = w.figures;
  const cost = e.cost === null ? "cost: no --price given (USD per GPU-hour; cost = GPU-hours × price)" : `cost ${usd(e.cost)} at $${priceText(w.settings.price ?? 0)}/GPU-hour`;
  const assumed = runAssumed(wordsOf(w));
  const lost = c.written ? "the work since the last checkpoint" : "the work since the run began";
  return [
    `whole run: ${compact(i.tokens)} token${i.tokens === 1 ? "" : "s"} = ${plural(Math.ceil(e.steps), "step")} of ${compact(i.tokensPerStep)} tokens on ${plural(i.gpus, "GPU")}`,
    ...(assumed.length > 0 ? [`  assumed for the run: ${assumed.join("; ")}`] : []),
    `  time to train ${wallClock(e)} wall-clock (${duration(e.idealSeconds)} of steps at ${seconds(w.step)}, ${w.stepFrom}, ÷ goodput ${percent(e.goodput)})`,
    `  ${amount(e.gpuHours)} GPU-hours · ${cost}${held ? ` (the ${count(i.gpus)} GPUs used)` : ""}`,
    ...(held ? [`  held: ${count(held.domains)} NVLink domain${held.domains === 1 ? "" : "s"} of ${count(held.of)} GPUs = ${count(held.gpus)} GPUs, ${count(held.idle)} of them idle: ${amount(held.gpuHours)} GPU-hours${held.cost === null ? "" : ` · cost ${usd(held.cost)}`} counting them`] : []),
    ...rangeLine(w),
    `  ${energyText(w)}`,
    `  failures: ${failureRate(i.failuresPerGpuHour)} per GPU-hour (${from(f.failuresPerGpuHour)}) → job MTBF ${duration(c.jobMtbf)}, ${e.failures >= 10 ? count(e.failures) : amount(e.failures)} interruptions expected over the run`,
    `  checkpoint: ${tb(i.checkpointBytes)} of model states (weights + optimizer) at ${rate(i.checkpointBandwidth)}; ${checkpointText(w)}`,
    Number.isFinite(c.lostPerFailure)
      ? `  lost per interruption ${duration(c.lostPerFailure)} (${lost}, the restart ${duration(i.restartTime)}${w.settings.ckpt === "async" ? ` with the ${duration(c.persist)} write of the checkpoint not yet on storage (async; planner/run/goodput.ts)` : ""}, and interruptions during restarts: Daly 2006) → ${duration(e.lostSeconds)} over the run; goodput ${percent(e.goodput)} of wall-clock time is training`
      : `  no interruptions expected (a failure rate of 0), so nothing lost to them; goodput ${percent(e.goodput)} of wall-clock time is training`,
    `  sources:`,
    ...runSources(wordsOf(w)),
  ].join("\n");
}

/** "range ±6.6%: 186.0–212.3 days, 4.6M–5.2M GPU-hours, $11.4M–$13.0M (the step off by …)":
 *  the run at the step shorter and longer by the step's error (src/calibration-band.ts); or
 *  "range: none stated: …" where no published run covers the request. */
function rangeLine(w: WholeRun): string[] {
  if (w.noRange !== undefined) return [`  range: none stated: ${w.noRange}`];
  const r = w.range;
  if (!r) return [];
  const span = (lo: string, hi: string) => (lo === hi ? lo : `${lo}–${hi}`);
  const parts = [
    r.low.days >= 1 ? `${span(r.low.days.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }), r.high.days.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }))} days` : `${span(duration(r.low.wallSeconds), duration(r.high.wallSeconds))}`,
    `${span(amount(r.low.gpuHours), amount(r.high.gpuHours))} GPU-hours`,
    ...(r.low.cost !== null && r.high.cost !== null ? [span(usd(r.low.cost), usd(r.high.cost))] : []),
  ];
  return [`  range ±${percent(r.band)}: ${parts.join(", ")} (the step off by ${r.basis})`];
}

/** A figure of --json (plan's `run`, the sweep's `figures`): its value with the value's unit
 *  (FIGURE_UNITS: restartTime in s, the bandwidths in B/s), where it came from and its source. */
export function figureJson(f: ResolvedRunFigures, k: keyof typeof FIGURE_UNITS) {
  return { value: f[k].value, unit: FIGURE_UNITS[k], from: f[k].from, source: f[k].source };
}

/** The `run` object of plan --json. */
export function runJson(w: WholeRun) {
  const e = w.estimate;
  const c = e.checkpoint;
  const f = w.figures;
  // JSON has no Infinity: a time that never comes (no failures: no interruption, no optimum) is
  // null, and `failureFree` says why (README "The whole run").
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const setting = (flag: string) => (w.settings.given?.includes(flag) ? ("flag" as const) : ("default" as const));
  return {
    days: e.days,
    gpuHours: e.gpuHours,
    energyMWh: e.energyMWh,
    cost: e.cost,
    goodput: e.goodput,
    failures: e.failures,
    tokens: w.inputs.tokens,
    steps: e.steps,
    stepSeconds: w.step,
    stepFrom: w.stepFrom,
    idealSeconds: e.idealSeconds,
    wallSeconds: e.wallSeconds,
    lostSeconds: e.lostSeconds,
    pricePerGpuHour: w.settings.price,
    // The run's defaults in words, as the text's "assumed for the run" line.
    assumed: runAssumed(wordsOf(w)),
    powerBasis: { value: w.settings.power, from: setting("power") },
    power: f.power ? { basis: f.power.basis, basisFrom: setting("power"), wattsPerGpu: f.power.value, from: f.power.from, source: f.power.source } : null,
    pue: figureJson(f, "pue"),
    failuresPerGpuHour: figureJson(f, "failuresPerGpuHour"),
    failureFree: !Number.isFinite(c.jobMtbf),
    jobMtbfSeconds: finite(c.jobMtbf),
    checkpoint: {
      mode: w.settings.ckpt,
      modeFrom: setting("ckpt"),
      bytes: w.inputs.checkpointBytes,
      bytesPerGpu: w.inputs.checkpointBytesPerGpu,
      bandwidth: figureJson(f, "checkpointBandwidth"),
      stagingBandwidth: figureJson(f, "stagingBandwidth"),
      blockingSeconds: c.blocking,
      persistSeconds: c.persist,
      stagingSeconds: c.staging,
      storageWriteSeconds: c.storageWrite,
      // false: none written over the run (`notWritten` says why); the interval is then the run's length.
      written: c.written,
      notWritten: c.notWritten ?? null,
      intervalSeconds: c.interval,
      intervalSteps: c.intervalSteps ?? null,
      intervalIsPersist: c.intervalIsPersist,
      optimumSeconds: finite(c.optimum),
      youngSeconds: finite(c.young),
      ...(c.asyncWaits ? { asyncWaits: true } : {}),
      // null where no interruption is expected (a failure rate of 0)
      lostPerFailureSeconds: finite(c.lostPerFailure),
    },
    restartTime: figureJson(f, "restartTime"),
    // The run at the step shorter and longer by `band`; null where none is stated, `noRange` says why.
    ...(w.noRange !== undefined ? { range: null, noRange: w.noRange } : {}),
    ...(w.range
      ? {
          range: {
            band: w.range.band,
            basis: w.range.basis,
            days: [w.range.low.days, w.range.high.days],
            gpuHours: [w.range.low.gpuHours, w.range.high.gpuHours],
            cost: w.range.low.cost === null ? null : [w.range.low.cost, w.range.high.cost],
            energyMWh: w.range.low.energyMWh === null ? null : [w.range.low.energyMWh, w.range.high.energyMWh],
          },
        }
      : {}),
  };
}
