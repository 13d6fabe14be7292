// Terminal output of `paraplan execute`: the live progress bar, the summary table (measured,
// predicted, error) with the collectives, and the one-line failure messages.
import type { CommRow } from "../../executor/comms.js";
import type { StepEvent } from "../../executor/events.js";
import { executionLine } from "../../executor/execution.js";
import type { Failure } from "../../executor/run.js";
import type { StepFigures, TimelineSummary } from "../../executor/step-timeline.js";
import type { Figures, NotComparable, Summary } from "../../executor/summary.js";
import type { Plan, PlanResult } from "../../planner/index.js";
import { bubbleFormula } from "../../planner/cost/pipeline.js";
import { join } from "node:path";
import { printable } from "../errors.js";
import { describePlan } from "./plan-text.js";
import { spanList, startupFailure } from "./startup-text.js";
import type { Endpoint } from "../../executor/launch.js";
import { compact, count, gib, percent, seconds, size, table } from "./units.js";

const BAR = 20;

/** One line: `step 3/10 [██████░░░░] loss 5.123 · 120 ms/step · 2.1k tokens/s`. */
export function progressLine(ev: StepEvent, total: number): string {
  const done = Math.max(0, Math.min(BAR, Math.round((BAR * ev.step) / Math.max(1, total))));
  const bar = "█".repeat(done) + "░".repeat(BAR - done);
  const loss = Number.isFinite(ev.loss) ? ev.loss.toFixed(4) : "—";
  const tps = Number.isFinite(ev.tokensPerSecond) ? compact(ev.tokensPerSecond) : "—";
  return `step ${ev.step}/${total} [${bar}] loss ${loss} · ${seconds(ev.stepTime)}/step · ${tps} tokens/s`;
}

/** Rewrite the terminal's current line (carriage return, clear to end of line). */
export const redraw = (line: string) => `\r${line}\x1b[K`;

const signed = (x: number | null) => (x === null ? "—" : `${x >= 0 ? "+" : ""}${percent(x)}`);
const orDash = (x: number | null, f: (v: number) => string) => (x === null ? "—" : f(x));
const bytes = (b: number | null) => (b === null ? "—" : size(b));

const FIGURES: [string, keyof Figures][] = [
  ["step time", "stepTime"],
  ["tokens/s", "tokensPerSecond"],
  ["MFU", "mfu"],
  ["peak memory", "peakMemory"],
  ["FLOPs/step", "flopsPerStep"],
];

const FORMAT: Record<keyof Figures, (v: number) => string> = { stepTime: seconds, tokensPerSecond: count, mfu: (v) => percent(v), peakMemory: bytes, flopsPerStep: compact };

/** What the error column's sign means (executor/summary.ts relativeError; README "How the figures
 *  were calibrated" states it as calibrate and the bench print it). */
export const ERROR_LEGEND = "(error = (predicted − measured) ÷ measured: + where paraplan's figure is above the measured one, a step time predicted slower than it ran)";

/** The error column: "not measured" where the worker measured none (`nm`), "not comparable"
 *  where the two figures are not the same quantity (`nc`), else the signed error. */
export function errorCell(k: keyof Figures, e: Figures, nc: NotComparable = {}, nm: NotComparable = {}, sign = signed): string {
  return nm[k] !== undefined ? "not measured" : nc[k] !== undefined ? "not comparable" : sign(e[k]);
}

function figureRows(m: Figures, p: Figures, e: Figures, nc: NotComparable = {}, nm: NotComparable = {}): string[][] {
  return FIGURES.map(([name, k]) => [name, orDash(m[k], FORMAT[k]), orDash(p[k], FORMAT[k]), errorCell(k, e, nc, nm)]);
}

function reasonLines(reasons: NotComparable, what: string): string[] {
  const byReason = new Map<string, string[]>();
  for (const [name, k] of FIGURES) {
    const why = reasons[k];
    if (why !== undefined) byReason.set(why, [...(byReason.get(why) ?? []), name]);
  }
  return [...byReason].map(([why, names]) => `(${names.join(", ")} ${what}: ${why})`);
}

/** One line per reason a figure is not comparable, naming the figures it holds for. */
export const notComparableLines = (nc: NotComparable = {}): string[] => reasonLines(nc, "not comparable");

/** One line per reason the worker measured a figure not at all: "(peak memory not measured: …)". */
export const notMeasuredLines = (nm: NotComparable = {}): string[] => reasonLines(nm, "not measured");

function commsTable(rows: CommRow[]): string {
  return table(
    ["collectives (one step, all ranks)", "count", "measured bytes", "planner bytes"],
    rows.map((r) => [r.kind, r.count === null ? "—" : count(r.count), bytes(r.bytes), bytes(r.predictedBytes)]),
    [false, true, true, true],
  );
}

export function summaryText(s: Summary): string {
  const loss = s.measured.loss.filter(Number.isFinite);
  const lossLine = loss.length ? `, loss ${loss[0]!.toFixed(4)} → ${loss[loss.length - 1]!.toFixed(4)}` : "";
  const t = s.collectives.predictedTime;
  const lines = [
    `${s.model} on ${s.world} ${s.device === "cpu" ? "CPU rank" : "GPU"}${s.world > 1 ? "s" : ""} (profile ${s.profile}): ${describePlan(s.plan as PlanResult)}`,
    `${s.steps} step${s.steps === 1 ? "" : "s"}${lossLine}`,
    "",
    table(["", "measured", "predicted", "error"], figureRows(s.measured, s.predicted, s.error, s.notComparable, s.notMeasured), [false, true, true, true]),
    ERROR_LEGEND,
    ...notMeasuredLines(s.notMeasured),
    ...notComparableLines(s.notComparable),
  ];
  if (s.device === "cpu" && s.notComparable?.mfu === undefined) lines.push("(no measured MFU on CPU ranks: the cpu profile's peak is an assumption)");
  if (s.collectives.rows.length) {
    lines.push("", commsTable(s.collectives.rows));
    const twice = twiceBytes(s.collectives.rows);
    if (twice.length > 0) lines.push(`(${twice.join(", ")}: the worker moved fp32 tensors where the planner counts 16-bit ones, twice the bytes)`);
    // On CPU ranks the worker moves everything in fp32: a kind that mixes 16-bit items (activations,
    // weights) with fp32 ones (gradients) lands between once and twice the planner's bytes (QA).
    const mixed = s.device === "cpu" ? mixedBytes(s.collectives.rows) : [];
    if (mixed.length > 0) lines.push(`(${mixed.join(", ")}: on CPU ranks the worker moves every tensor in fp32, where the planner counts activations and weights in 16 bits and gradients in fp32: between once and twice the bytes)`);
    const plan = s.plan as PlanResult;
    // DDP (ZeRO-0/1 at tp = pp = 1) rebuilds its buckets after the first backward and broadcasts
    // their order from rank 0 (torch Reducer::sync_bucket_indices) in the step the counters time
    if (plan.zero <= 1 && plan.dp > 1 && plan.tp === 1 && plan.pp === 1 && s.collectives.rows.some((r) => r.kind === "broadcast" && r.predictedBytes === null && (r.bytes ?? 0) < 65536))
      lines.push("(broadcast: DDP's one-time sync of its rebuilt bucket order, which falls in the step the counters time; not a cost of every step)");
    // executor/worker/context.py GatherSequence: gloo has no usable reduce-scatter for it
    if (s.device === "cpu" && plan.cp > 1 && (plan.cpComm ?? "allgather") === "allgather")
      lines.push("(context parallel on CPU ranks: the worker all-reduces the K/V gradients whole and keeps its slice, where NCCL reduce-scatters them as the planner counts)");
    const ep = t.ep !== undefined ? `, ep all-to-all ${seconds(t.ep)}` : "";
    const cp = t.cp !== undefined ? `, cp exchange ${seconds(t.cp)}` : "";
    lines.push(`planner communication time per step: tp ${seconds(t.tp)}, pp ${seconds(t.pp)}${ep}${cp}, exposed dp ${seconds(t.dp)}`);
  }
  if (s.execution) lines.push("", executionLine(s.execution));
  if (s.timeline) lines.push("", ...timelineLines(s.timeline, s.runDir, timedStepsOf(s.worker), s.plan));
  // executor/timeline.ts: on CPU a rank blocked in a collective inside a layer's span cannot be
  // told from computing (tp2 without sp measured 0 beside 52 blocking all-reduces).
  if (s.timeline?.measured && s.device === "cpu")
    lines.push("(measured exposed communication on CPU ranks: collectives inside a layer's forward or backward count as compute, so it is a lower bound)");
  lines.push("", `run dir: ${printable(s.runDir)}`);
  return lines.join("\n");
}

/** The collectives whose measured bytes are twice the planner's (within 5%): fp32 tensors where
 *  it counts 16-bit ones (the worker's fp32 parameters under a CPU run's FSDP, for one). */
const ratioOf = (r: CommRow): number | null => (r.bytes !== null && r.predictedBytes !== null && r.predictedBytes > 0 ? r.bytes / r.predictedBytes : null);

function twiceBytes(rows: readonly CommRow[]): string[] {
  return rows.filter((r) => { const x = ratioOf(r); return x !== null && Math.abs(x - 2) < 0.1; }).map((r) => r.kind);
}

/** Kinds above their predicted bytes by less than twice (and more than noise): fp32 and 16-bit items mixed. */
function mixedBytes(rows: readonly CommRow[]): string[] {
  return rows.filter((r) => { const x = ratioOf(r); return x !== null && x > 1.02 && x <= 1.9; }).map((r) => r.kind);
}

/** The steps the worker averaged into its step time (its summary's timedSteps), if it says. */
export const timedStepsOf = (worker: Record<string, unknown> | undefined): number[] | undefined => {
  const t = worker?.timedSteps;
  return Array.isArray(t) && t.length > 0 && t.every((k) => Number.isInteger(k)) ? (t as number[]) : undefined;
};

/** What the bubble percentage is of, and the schedule's formula for it on an even pipeline (the
 *  planner's, cost/pipeline.ts bubbleFormula) with its value at the run's p, v and m where it has
 *  one; without the plan (an older summary) the formula is left out. */
function bubbleOf(t: TimelineSummary, plan?: Pick<Plan, "pp" | "vpp" | "schedule">): string {
  if (plan === undefined) return "of the critical stage's compute";
  const m = t.microBatches;
  const { formula, value, where } = bubbleFormula(plan.schedule, plan.pp, plan.vpp, m ?? Number.POSITIVE_INFINITY);
  if (plan.pp === 1) return `of the critical stage's compute; ${formula}`;
  const at = `p ${plan.pp}${plan.vpp > 1 ? `, v ${plan.vpp}` : ""}${m !== undefined ? `, m ${m}` : ""}`;
  return `of the critical stage's compute, ${plan.schedule}: ${formula}${value !== undefined && m !== undefined ? ` = ${percent(value)}` : ""} at ${at} on an even pipeline${where ? ` (${where})` : ""}`;
}

/** The traced step beside the simulated one, and where the trace file is; with the timed steps,
 *  why its measured step is not the step time above (the trace's instrumentation, on that step
 *  only). `plan`: the run's, for the schedule's bubble formula. */
export function timelineLines(t: TimelineSummary, runDir: string, timed?: readonly number[], plan?: Pick<Plan, "pp" | "vpp" | "schedule">): string[] {
  const m = t.measured;
  const sim = t.simulated;
  // bubbleFraction is relative to the stage's compute (and transfer waits), as the schedule's
  // formula counts it: above 100% on a stage that waited longer than it worked. Labelled, with the share of
  // the step beside it (what the interactive planner states).
  const bubble = (f: StepFigures) => `${seconds(f.bubble)} (${percent(f.bubbleFraction)})`;
  const ofStep = (f: StepFigures) => percent(f.step > 0 ? f.bubble / f.step : 0);
  const rows = [
    ["step", m ? seconds(m.step) : "—", seconds(sim.step)],
    ["pipeline bubble (critical stage)", m ? bubble(m) : "—", bubble(sim)],
    ["stage imbalance (waits beyond it)", m ? seconds(m.imbalance) : "—", seconds(sim.imbalance)],
    ["exposed communication", m ? seconds(m.exposedComm) : "—", seconds(sim.exposedComm)],
  ];
  return [
    `step ${t.tracedStep} traced (one rank per pipeline stage), beside the simulator:`,
    ...table(["", "measured", "simulated"], rows, [false, true, true]).split("\n"),
    `(bubble %: ${bubbleOf(t, plan)}; of the step: ${m ? `measured ${ofStep(m)}, ` : ""}simulated ${ofStep(sim)})`,
    ...(m && timed ? [`(the traced step ran with the trace's instrumentation on; the step time above is ${timed.length === 1 ? `step ${timed[0]}'s` : `the mean of steps ${spanList(timed)}`}, untraced)`] : []),
    ...t.errors.map((e) => `(no trace from ${e})`),
    `timeline: ${join(runDir, t.trace)} (measured and simulated stages; chrome://tracing or ui.perfetto.dev)`,
  ];
}

export interface FailureContext {
  runDir: string;
  steps: number;
  /** The planner's memory per device for this plan, and the capacity. */
  predictedMemory: number;
  capacity: number;
  /** Nodes in the run (default 1). */
  nnodes?: number;
  /** The rendezvous every node joins (for a start-up failure). */
  endpoint?: Endpoint;
  /** Whether its port was seen free, or a torch rendezvous's, before the launch (StartupContext). */
  portChecked?: boolean;
}

/** One line naming what stopped the run (and the rank), and where its metrics are. */
/** A failure after the worker's summary, as the note under it: the measurements stand. */
export function teardownMessage(f: Failure): string {
  const what =
    f.kind === "exit"
      ? `torchrun ${f.code !== null ? `exited with status ${f.code}` : `was killed by ${f.signal}`}${f.rank === null ? "" : ` (rank ${f.rank})`}${f.reason ? `: ${f.reason}` : ""}`
      : f.kind === "stalled"
        ? `the ranks had not exited ${seconds(f.waited)} after it; stopped them`
        : f.kind === "rank-error"
          ? `${f.error.rank === null ? "a rank" : `rank ${f.error.rank}`} raised in its teardown: ${f.error.message.trim().split("\n").pop() ?? ""}`
          : f.kind;
  return `the worker reported every step and its summary, then ${what} (log: worker.log); the summary stands`;
}

export function failureMessage(f: Failure, c: FailureContext): string {
  const kept = `${c.steps} step${c.steps === 1 ? "" : "s"} of metrics kept in ${c.runDir}`;
  switch (f.kind) {
    case "rank-error": {
      const who = f.error.rank === null ? "a rank" : `rank ${f.error.rank}`;
      const msg = f.error.message.trim().split("\n").pop() ?? "";
      if (f.error.kind === "oom")
        return `${who} ran out of memory (${msg}); the planner predicted ${gib(c.predictedMemory)} per device for this plan, of ${gib(c.capacity)}: raise recompute or ZeRO, use a smaller micro-batch or more devices; stopped every rank, ${kept}`;
      const elsewhere = (c.nnodes ?? 1) > 1 ? " (with several nodes the first failure may be on another node: see its output)" : "";
      // A peer's death seen from a healthy rank: not the cause, and not the rank to look at.
      if (f.error.kind === "peer-lost")
        return `${who} lost its connection to another rank, which stopped first (killed, or died without an error of its own: see worker.log for the rank torchrun reports) (${msg}); stopped every rank, ${kept}${elsewhere}`;
      return `${who} raised ${f.error.kind === "exception" ? "an exception" : `"${f.error.kind}"`}: ${msg}; stopped every rank, ${kept}${elsewhere}`;
    }
    case "interrupted":
      return `interrupted (${f.signal}); stopped every rank, ${kept}`;
    case "startup-stalled":
      return startupFailure(f, { nnodes: c.nnodes ?? 1, endpoint: c.endpoint, portChecked: c.portChecked }, kept);
    case "stalled":
      return `no step for ${seconds(f.waited)} after step ${f.lastStep} (the longest step before took ${seconds(f.longestStep)}): a rank is stuck (stopped, deadlocked, or waiting in a collective that never completes); stopped every rank, ${kept} (log: worker.log)`;
    case "exit": {
      const how = f.code !== null ? `exited with status ${f.code}` : `was killed by ${f.signal}`;
      const who = f.rank === null ? "" : ` (rank ${f.rank} failed first)`;
      return `torchrun ${how}${who}${f.reason ? `: ${f.reason}` : ""}; stopped every rank, ${kept} (log: worker.log)`;
    }
    case "spawn":
      return `cannot start torchrun: ${f.message}`;
    case "write":
      return `${f.message} after ${c.steps} step${c.steps === 1 ? "" : "s"}; what was written before is in ${c.runDir}`;
    case "no-summary":
      return `the worker finished without reporting a summary${f.reason ? ` (${f.reason})` : ""}; ${kept} (log: worker.log)`;
  }
}
