// One supervised run on this node: start torchrun, stream the worker's events into metrics.jsonl
// and the reporter, stop everything on the first failure or on Ctrl-C, and end with the summary.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorEvent, MeasuredFromWorker, StartEvent, StepEvent } from "./events.js";
import type { MeasuredTimeline } from "./timeline.js";
import { ARTIFACTS, JsonLines, writeJsonAtomic } from "./run-dir.js";
import { type Outcome, Supervisor } from "./supervise.js";

export const EXIT = { ok: 0, doesNotFit: 1, badInput: 2, failed: 3, noPython: 4, interrupted: 130, terminated: 143 } as const;

/** Why a run did not produce a summary. */
export type Failure =
  | { kind: "rank-error"; error: ErrorEvent }
  | { kind: "interrupted"; signal: NodeJS.Signals }
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null; rank: number | null; reason: string | null }
  | { kind: "spawn"; message: string }
  | { kind: "no-summary"; reason: string | null };

export interface RunReporter {
  start(ev: StartEvent): void;
  step(ev: StepEvent): void;
  /** Lines of worker output that are not events (already saved to worker.log). */
  log?(line: string): void;
}

export interface RunResult {
  steps: StepEvent[];
  measured: MeasuredFromWorker | null;
  /** The traced step's timeline, when the worker sent one. */
  timeline: MeasuredTimeline | null;
  failure: Failure | null;
  outcome: Outcome;
  exitCode: number;
}

export interface RunOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  runDir: string;
  reporter: RunReporter;
  graceMs?: number;
  /** Signals that stop the run cleanly (default SIGINT, SIGTERM, SIGHUP). */
  signals?: NodeJS.Signals[];
}

const TAIL = 300;

export async function supervisedRun(o: RunOptions): Promise<RunResult> {
  const metrics = new JsonLines(join(o.runDir, ARTIFACTS.metrics));
  const logPath = join(o.runDir, ARTIFACTS.log);
  const steps: StepEvent[] = [];
  const tail: string[] = [];
  let measured: MeasuredFromWorker | null = null;
  let timeline: MeasuredTimeline | null = null;
  const sup = new Supervisor({
    command: o.command,
    args: o.args,
    env: o.env,
    cwd: o.cwd,
    ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
    onEvent: (ev) => {
      if (ev.event === "step") {
        const line = { step: ev.step, loss: ev.loss, stepTime: ev.stepTime, tokensPerSecond: ev.tokensPerSecond };
        steps.push(ev);
        metrics.append(line);
        o.reporter.step(ev);
      } else if (ev.event === "summary") measured = ev.measured;
      else if (ev.event === "timeline") timeline = ev.timeline;
      else if (ev.event === "start") o.reporter.start(ev);
    },
    onText: (line, stream) => {
      appendFileSync(logPath, `${stream === "stderr" ? "! " : ""}${line}\n`);
      if (stream === "stderr" && line.trim() !== "") {
        tail.push(line);
        if (tail.length > TAIL) tail.shift();
      }
      o.reporter.log?.(line);
    },
    onBadEvent: (line, why) => appendFileSync(logPath, `? unreadable event (${why}): ${line}\n`),
  });
  const signals = o.signals ?? ["SIGINT", "SIGTERM", "SIGHUP"];
  const handlers = signals.map((sig) => {
    const h = () => sup.stop("interrupted", sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  let outcome: Outcome;
  try {
    outcome = await sup.run();
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    metrics.close();
  }
  const failure = classify(outcome, measured, tail);
  return { steps, measured, timeline, failure, outcome, exitCode: exitCodeOf(failure) };
}

export function classify(outcome: Outcome, measured: MeasuredFromWorker | null, stderrTail: string[]): Failure | null {
  if (outcome.stopped === "interrupted") return { kind: "interrupted", signal: outcome.interrupt ?? "SIGINT" };
  if (outcome.firstError) return { kind: "rank-error", error: outcome.firstError };
  if (outcome.spawnError) return { kind: "spawn", message: outcome.spawnError.message };
  const { rank, reason } = explainStderr(stderrTail);
  if (outcome.exitCode !== 0) return { kind: "exit", code: outcome.exitCode, signal: outcome.signal, rank, reason };
  if (measured === null) return { kind: "no-summary", reason };
  return null;
}

/**
 * What a failure without an error event says in its stderr: the first Python error line (the
 * root cause comes before the agent's own ChildFailedError) and the rank torchrun's "Root Cause"
 * block names.
 */
export function explainStderr(lines: string[]): { rank: number | null; reason: string | null } {
  let reason: string | null = null;
  let rank: number | null = null;
  let inRootCause = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (/^Root Cause/.test(line)) inRootCause = true;
    const r: RegExpExecArray | null = inRootCause && rank === null ? /^rank\s*:\s*(\d+)/.exec(line) : null;
    if (r) rank = Number(r[1]);
    if (reason !== null || /ChildFailedError|^Traceback|^traceback\s*:|^[EWI]\d{4} /.test(line)) continue;
    if (/\b\w*(Error|Exception)\b|No module named|Killed|Segmentation fault/.test(line)) reason = line;
  }
  return { rank, reason };
}

export function exitCodeOf(f: Failure | null): number {
  if (f === null) return EXIT.ok;
  if (f.kind === "interrupted") return f.signal === "SIGINT" ? EXIT.interrupted : f.signal === "SIGTERM" ? EXIT.terminated : 129;
  return EXIT.failed;
}

/** error.json: what stopped the run, beside what the planner expected of the plan. */
export function writeFailure(runDir: string, failure: Failure, steps: number, predictedPeakMemory: number): void {
  writeJsonAtomic(join(runDir, "error.json"), { failure, steps, predictedPeakMemory, runDir });
}
