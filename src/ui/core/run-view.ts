// The execute screen's view-model: progress bar, loss sparkline, step time, and at the end the
// measured figures against the planner's prediction (the executor's summary).
import type { Figures, NotComparable } from "../../../executor/summary.js";
import { executionLine } from "../../../executor/execution.js";
import { errorCell, notComparableLines, notMeasuredLines, timelineLines, timedStepsOf } from "../../format/execute-text.js";
import { compact, count, percent, seconds, size } from "../../format/units.js";
import { fit, meter, sparkline } from "./bars.js";
import { type Ranked, keepWithin, wrapText } from "./frame.js";
import { shortPlan } from "./detail.js";
import { printable } from "../../errors.js";
import type { RunState } from "./state.js";

export interface RunView {
  title: string;
  note: string;
  /** "predicted with the worker's engine paraplan-compile", once known. */
  engine: string;
  status: string;
  progress: string;
  loss: string;
  speed: string;
  /** measured / predicted / error rows, when the run finished. */
  table: string[];
  /** How many of `table`'s lines are the comparison itself (heading and figures); the notes after. */
  figures: number;
  /** The lines of `table` (from, to: end excluded) that are the traced step's table beside the
   *  simulator (title, header, rule, rows): shown whole or not at all; null: none. */
  timeline: { from: number; to: number } | null;
  message: string | null;
  runDir: string;
}

const STATUS = {
  preparing: "preparing: checking Python and torch, writing the run directory…",
  running: "running",
  stopping: "stopping the run…",
  done: "done",
  failed: "failed",
  stopped: "stopped",
  refused: "not run",
} as const;

/** Bytes as `paraplan execute` prints them (format/units.ts size): a small CPU run's peak is not
 *  "0.00 GiB". */
const bytes = size;

const signed = (x: number | null) => (x === null ? "—" : `${x >= 0 ? "+" : "−"}${percent(Math.abs(x))}`);
const orDash = (x: number | null, f: (v: number) => string) => (x === null ? "—" : f(x));

/** The error column says "not measured" where the worker measured none (`nm`), "not comparable"
 *  where the two are not the same quantity (`nc`). */
export function comparisonRows(measured: Figures, predicted: Figures, error: Figures, nc: NotComparable = {}, nm: NotComparable = {}): string[] {
  const rows: [string, (v: number) => string, keyof Figures][] = [
    ["step time", seconds, "stepTime"],
    ["tokens/s", count, "tokensPerSecond"],
    ["MFU", (v) => percent(v), "mfu"],
    ["peak memory", bytes, "peakMemory"],
    ["FLOPs/step", compact, "flopsPerStep"],
  ];
  const cells = [["", "measured", "predicted", "error"], ...rows.map(([name, f, k]) => [name, orDash(measured[k], f), orDash(predicted[k], f), errorCell(k, error, nc, nm, signed)])];
  const widths = [0, 1, 2, 3].map((j) => Math.max(...cells.map((r) => r[j]!.length)));
  return cells.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("   ").trimEnd());
}

export function runView(r: RunState, width: number): RunView {
  const last = r.steps[r.steps.length - 1];
  const barWidth = Math.max(10, Math.min(40, width - 30));
  const done = last?.step ?? 0;
  const progress =
    r.status === "refused" ? "" : `step ${done}/${r.totalSteps} [${meter(done, r.totalSteps, barWidth, "█", "░")}] ${percent(done / r.totalSteps, 0)}`;
  const losses = r.steps.map((s) => s.loss);
  const finite = losses.filter(Number.isFinite);
  const loss = finite.length
    ? `loss ${finite[finite.length - 1]!.toFixed(4)}  ${sparkline(losses, Math.max(10, width - 20))}`
    : r.status === "refused" ? "" : "loss —";
  const s = r.summary;
  // The last step's time; once the summary is in, the step the worker traced is slower with the
  // trace's instrumentation on and is not the measured step time below (execute-text.ts
  // timelineLines says which steps that is): named so.
  const traced = s?.timeline && last?.step === s.timeline.tracedStep ? ` (step ${last.step}, traced: instrumentation on)` : "";
  const speed = last ? `step time ${seconds(last.stepTime)} · ${Number.isFinite(last.tokensPerSecond) ? count(last.tokensPerSecond) : "—"} tokens/s${traced}` : "";
  const rows = s ? comparisonRows(s.measured, s.predicted, s.error, s.notComparable, s.notMeasured) : [];
  const table = s ? [...rows, ...notMeasuredLines(s.notMeasured), ...notComparableLines(s.notComparable)] : [];
  if (s && s.device === "cpu") table.push("(CPU ranks: the prediction uses the cpu profile's assumed figures)");
  // How the worker ran it, and the engine profile that describes that (as execute prints it).
  if (s?.execution) table.push("", executionLine(s.execution));
  let timeline: RunView["timeline"] = null;
  if (s?.timeline) {
    table.push("");
    const t = timelineLines(s.timeline, s.runDir, timedStepsOf(s.worker), s.plan);
    // (the title and the table, to the first note after it: a parenthesised line or the trace's path)
    const end = t.findIndex((l, i) => i > 0 && (l.startsWith("(") || l.startsWith("timeline: ")));
    timeline = { from: table.length, to: table.length + (end < 0 ? t.length : end) };
    table.push(...t);
  }
  const engine = r.engine ? `predicted with the worker's engine ${r.engine}${r.eager ? ` (it runs this plan eager: ${r.eager})` : ""}` : "";
  return {
    title: fit(shortPlan(r.plan), width),
    note: fit(r.note, width),
    engine: fit(engine, width),
    status: STATUS[r.status],
    progress,
    loss: fit(loss, width),
    speed,
    table: table.map((l) => fit(l, width)),
    figures: rows.length,
    timeline,
    message: r.message,
    runDir: r.runDir ? fit(`run dir: ${printable(r.runDir)}`, width) : "",
  };
}

/** How an execute line is drawn (execute-screen.tsx gives each its style; "status" takes the
 *  run's colour, "tableHead" is underlined). */
export type RunTone = "title" | "gray" | "status" | "accent" | "plain" | "heading" | "tableHead" | "error";
export type RunLine = Ranked & { text: string; tone: RunTone };
const TIMELINE = "timeline";

/** Priorities: the status, the measured figures and the executor's message stay longest, then the
 *  progress and step time, the plan and loss, the run directory, the notes; blank lines first. */
const P = { status: 7, figures: 7, message: 7, progress: 6, title: 5, loss: 5, runDir: 4, note: 3, heading: 3, notes: 2, blank: 0 } as const;

/** The execute screen's lines in `height` rows of `width` columns: whole lines left out, the
 *  lowest priority first, where the body is short (the message wrapped over lines of its own). */
export function runLines(v: RunView, width: number, height: number): RunLine[] {
  const l = (text: string, tone: RunTone, priority: number): RunLine => ({ text, tone, priority });
  const lines: RunLine[] = [l(v.title, "title", P.title)];
  if (v.note) lines.push(l(v.note, "gray", P.note));
  if (v.engine) lines.push(l(v.engine, "gray", P.note));
  lines.push(l(v.status, "status", P.status));
  if (v.progress) lines.push(l(v.progress, "accent", P.progress));
  if (v.loss) lines.push(l(v.loss, "plain", P.loss));
  if (v.speed) lines.push(l(v.speed, "plain", P.progress));
  if (v.table.length > 0) {
    lines.push(l("", "plain", P.blank), l("predicted against measured", "heading", P.heading));
    const tl = v.timeline;
    v.table.forEach((t, i) => {
      const line = l(t, i === 0 ? "tableHead" : "plain", i < v.figures ? P.figures : t === "" ? P.blank : P.notes);
      lines.push(tl && i >= tl.from && i < tl.to ? { ...line, group: TIMELINE } : line);
    });
  }
  // (a run the user stopped: its message says how it ended, not an error)
  const tone = v.status === STATUS.stopped ? "gray" : "error";
  if (v.message) lines.push(l("", "plain", P.blank), ...wrapText(v.message, width).map((t) => l(t, tone, P.message)));
  if (v.runDir) lines.push(l(v.runDir, "gray", P.runDir));
  return keepWithin(lines, height);
}
