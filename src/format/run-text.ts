// The whole run of the best plan in words (plan --tokens): time to train, GPU-hours, energy,
// cost, failures and checkpoints, each figure with where it came from.
import { type ResolvedFigure, runStall } from "../../planner/run/index.js";
import type { WholeRun } from "../app/whole-run.js";
import { compact, count, grouped, percent, plural, seconds } from "./units.js";

/** 3.2 min, 1.80 h, 79.3 days: a duration in the unit that reads best. */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return "never";
  if (s < 120) return seconds(s);
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 3 * 86400) return `${(s / 3600).toFixed(2)} h`;
  return `${(s / 86400).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} days`;
}

export const usd = (x: number) => (x >= 1e4 ? `$${compact(x)}` : `$${x.toFixed(2)}`);
const tb = (bytes: number) => (bytes >= 1e12 ? `${(bytes / 1e12).toFixed(2)} TB` : bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);
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

/** The figures' sources, one line each. */
function sources(w: WholeRun): string[] {
  const f = w.figures;
  const lines = [
    sourced("failure rate", f.failuresPerGpuHour),
    sourced("PUE", f.pue),
    sourced("checkpoint storage", f.checkpointBandwidth),
    sourced("restart time", f.restartTime),
  ];
  if (w.settings.ckpt === "async" || w.estimate.checkpoint.persist > w.inputs.checkpointBytes / f.checkpointBandwidth.value)
    lines.push(`device-to-host copy (${from(f.stagingBandwidth)}): ${f.stagingBandwidth.source}`);
  if (f.power) lines.push(`${f.power.basis === "board" ? "board power" : "node power"} (profile): ${f.power.source}`);
  return lines.map((l) => `    ${l}`);
}

export function runText(w: WholeRun): string {
  const stall = runStall(w.estimate, w.inputs.restartTime);
  if (stall) return `whole run: ${stall.message}`;
  const e = w.estimate;
  const i = w.inputs;
  const c = e.checkpoint;
  const f = w.figures;
  const energy = !f.power
    ? `energy: unknown (the profile gives no ${w.settings.power === "board" ? "board power" : "node power"}; try --power ${w.settings.power === "board" ? "node" : "board"})`
    : `energy ${e.energyMWh! >= 10 ? count(e.energyMWh!) : amount(e.energyMWh!)} MWh = GPU-hours × ${count(f.power.value)} W ${f.power.basis === "board" ? "GPU board power" : "node power per GPU"} × PUE ${f.pue.value} (${from(f.pue)})`;
  const price = w.settings.price ?? 0;
  // $2.5, $1,000,000 (it read $1000000) per GPU-hour: the price as given, with separators.
  const priceText = price >= 1000 ? grouped(price, Number.isInteger(price) ? 0 : 2) : String(price);
  const cost = e.cost === null ? "cost: no --price given (USD per GPU-hour; cost = GPU-hours × price)" : `cost ${usd(e.cost)} at $${priceText}/GPU-hour`;
  const mode =
    w.settings.ckpt === "sync"
      ? `sync: training waits ${duration(c.blocking)} for the write`
      : c.asyncWaits
        ? `async, waiting ${duration(c.blocking)} for each write: the storage is too slow for the overlapped write to pay`
        : `async: training waits ${duration(c.blocking)} to stage, ${duration(c.persist)} to persist`;
  // A checkpoint falls between steps: the interval in whole steps, then in time.
  const every = c.intervalSteps === undefined ? `every ${duration(c.interval)}` : `every ${count(c.intervalSteps)} step${c.intervalSteps === 1 ? "" : "s"}, ${duration(c.interval)}`;
  const interval = !Number.isFinite(c.interval)
    ? "no interval: no failures expected"
    : c.intervalIsPersist
      ? `${every} (as often as async's write allows)`
      : `${every} of compute (Daly 2006's optimum ${duration(c.optimum)}; Young 1974: ${duration(c.young)})`;
  return [
    `whole run: ${compact(i.tokens)} tokens = ${plural(Math.ceil(e.steps), "step")} of ${compact(i.tokensPerStep)} tokens on ${plural(i.gpus, "GPU")}`,
    `  time to train ${wallClock(e)} wall-clock (${duration(e.idealSeconds)} of steps at ${seconds(w.step)}, ${w.stepFrom}, ÷ goodput ${percent(e.goodput)})`,
    `  ${amount(e.gpuHours)} GPU-hours · ${cost}`,
    ...rangeLine(w),
    `  ${energy}`,
    `  failures: ${i.failuresPerGpuHour === 0 ? "0" : i.failuresPerGpuHour.toExponential(3)} per GPU-hour (${from(f.failuresPerGpuHour)}) → job MTBF ${duration(c.jobMtbf)}, ${e.failures >= 10 ? count(e.failures) : amount(e.failures)} interruptions expected over the run`,
    `  checkpoint: ${tb(i.checkpointBytes)} of model states (weights + optimizer) at ${rate(i.checkpointBandwidth)}; ${mode}; ${interval}`,
    `  lost per interruption ${duration(c.lostPerFailure)} (the work since the last checkpoint, the restart ${duration(i.restartTime)}, and interruptions during restarts: Daly 2006) → ${duration(e.lostSeconds)} over the run; goodput ${percent(e.goodput)} of wall-clock time is training`,
    `  sources:`,
    ...sources(w),
  ].join("\n");
}

/** "range ±6.6%: 186.0–212.3 days, 4.6M–5.2M GPU-hours, $11.4M–$13.0M (the step off by …)":
 *  the run at the step shorter and longer by the engine's error on published runs. */
function rangeLine(w: WholeRun): string[] {
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

/** The `run` object of plan --json. */
export function runJson(w: WholeRun) {
  const e = w.estimate;
  const c = e.checkpoint;
  const f = w.figures;
  const fig = (x: ResolvedFigure) => ({ value: x.value, from: x.from, source: x.source });
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
    power: f.power ? { basis: f.power.basis, wattsPerGpu: f.power.value, source: f.power.source } : null,
    pue: fig(f.pue),
    failuresPerGpuHour: fig(f.failuresPerGpuHour),
    jobMtbfSeconds: c.jobMtbf,
    checkpoint: {
      mode: w.settings.ckpt,
      bytes: w.inputs.checkpointBytes,
      bytesPerGpu: w.inputs.checkpointBytesPerGpu,
      bandwidth: fig(f.checkpointBandwidth),
      stagingBandwidth: fig(f.stagingBandwidth),
      blockingSeconds: c.blocking,
      persistSeconds: c.persist,
      intervalSeconds: c.interval,
      intervalSteps: c.intervalSteps ?? null,
      optimumSeconds: c.optimum,
      ...(c.asyncWaits ? { asyncWaits: true } : {}),
      lostPerFailureSeconds: c.lostPerFailure,
    },
    restartTime: fig(f.restartTime),
    // The run at the step shorter and longer by `band` (absent: no published run calibrates the engine).
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
