// Terminal output of `paraplan execute`: the live progress bar, the summary table (measured,
// predicted, error) with the collectives, and the one-line failure messages.
import type { CommRow } from "../../executor/comms.js";
import type { StepEvent } from "../../executor/events.js";
import type { Failure } from "../../executor/run.js";
import type { StepFigures, TimelineSummary } from "../../executor/step-timeline.js";
import type { Figures, Summary } from "../../executor/summary.js";
import type { PlanResult } from "../../planner/index.js";
import { join } from "node:path";
import { describePlan } from "./plan-text.js";
import { compact, count, gib, percent, seconds, table } from "./units.js";

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
const bytes = (b: number | null) =>
  b === null ? "—" : b >= 2 ** 30 ? gib(b) : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;

function figureRows(m: Figures, p: Figures, e: Figures): string[][] {
  const row = (name: string, f: (v: number) => string, k: keyof Figures) => [name, orDash(m[k], f), orDash(p[k], f), signed(e[k])];
  return [
    row("step time", seconds, "stepTime"),
    row("tokens/s", count, "tokensPerSecond"),
    row("MFU", (v) => percent(v), "mfu"),
    row("peak memory", bytes, "peakMemory"),
    row("FLOPs/step", compact, "flopsPerStep"),
  ];
}

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
    table(["", "measured", "predicted", "error"], figureRows(s.measured, s.predicted, s.error), [false, true, true, true]),
  ];
  if (s.device === "cpu") lines.push("(no measured MFU on CPU ranks: the cpu profile's peak is an assumption)");
  if (s.collectives.rows.length) {
    lines.push("", commsTable(s.collectives.rows));
    lines.push("(the planner counts 16-bit gradients and activations; fp32 ones move twice the bytes)");
    lines.push(`planner communication time per step: tp ${seconds(t.tp)}, pp ${seconds(t.pp)}, exposed dp ${seconds(t.dp)}`);
  }
  if (s.timeline) lines.push("", ...timelineLines(s.timeline, s.runDir));
  lines.push("", `run dir: ${s.runDir}`);
  return lines.join("\n");
}

/** The traced step beside the simulated one, and where the trace file is. */
export function timelineLines(t: TimelineSummary, runDir: string): string[] {
  const m = t.measured;
  const sim = t.simulated;
  const bubble = (f: StepFigures) => `${seconds(f.bubble)} (${percent(f.bubbleFraction)})`;
  const rows = [
    ["step", m ? seconds(m.step) : "—", seconds(sim.step)],
    ["pipeline bubble (critical stage)", m ? bubble(m) : "—", bubble(sim)],
    ["stage imbalance (waits beyond it)", m ? seconds(m.imbalance) : "—", seconds(sim.imbalance)],
    ["exposed communication", m ? seconds(m.exposedComm) : "—", seconds(sim.exposedComm)],
  ];
  return [
    `step ${t.tracedStep} traced (one rank per pipeline stage), beside the simulator:`,
    ...table(["", "measured", "simulated"], rows, [false, true, true]).split("\n"),
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
}

/** One line naming what stopped the run (and the rank), and where its metrics are. */
export function failureMessage(f: Failure, c: FailureContext): string {
  const kept = `${c.steps} step${c.steps === 1 ? "" : "s"} of metrics kept in ${c.runDir}`;
  switch (f.kind) {
    case "rank-error": {
      const who = f.error.rank === null ? "a rank" : `rank ${f.error.rank}`;
      const msg = f.error.message.trim().split("\n").pop() ?? "";
      if (f.error.kind === "oom")
        return `${who} ran out of memory (${msg}); the planner predicted ${gib(c.predictedMemory)} per device for this plan, of ${gib(c.capacity)}: raise recompute or ZeRO, use a smaller micro-batch or more devices; stopped every rank, ${kept}`;
      const elsewhere = (c.nnodes ?? 1) > 1 ? " (with several nodes the first failure may be on another node: see its output)" : "";
      return `${who} raised ${f.error.kind === "exception" ? "an exception" : `"${f.error.kind}"`}: ${msg}; stopped every rank, ${kept}${elsewhere}`;
    }
    case "interrupted":
      return `interrupted (${f.signal}); stopped every rank, ${kept}`;
    case "exit": {
      const how = f.code !== null ? `exited with status ${f.code}` : `was killed by ${f.signal}`;
      const who = f.rank === null ? "" : ` (rank ${f.rank} failed first)`;
      return `torchrun ${how}${who}${f.reason ? `: ${f.reason}` : ""}; stopped every rank, ${kept} (log: worker.log)`;
    }
    case "spawn":
      return `cannot start torchrun: ${f.message}`;
    case "no-summary":
      return `the worker finished without reporting a summary${f.reason ? ` (${f.reason})` : ""}; ${kept} (log: worker.log)`;
  }
}
