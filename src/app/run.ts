// A prepared run, started and ended the one way `paraplan execute` and the interactive planner
// both do: the worker under torchrun, then either the failure (error.json, one line, its code) or
// the summary of measured against predicted (summary.json). The caller holds the stop handle; the
// owner of the process (the command, the interactive planner) lets its signals stop the run.
import { torchrunArgs, workerEnv } from "../../executor/launch.js";
import { writeRunSummary } from "../../executor/prepare.js";
import { type Failure, type RunReporter, startRun, writeFailure } from "../../executor/run.js";
import type { Summary } from "../../executor/summary.js";
import type { Known } from "../errors.js";
import { failureMessage, teardownMessage } from "../format/execute-text.js";
import type { Prepared } from "./prepare.js";

/** How often a run still without its first step says where its ranks are. */
export const STARTUP_NOTICE_MS = 60_000;

export type Ending =
  /** `teardown`: what went wrong after the worker's summary (the measurements are whole), one line. */
  | { kind: "done"; summary: Summary; teardown?: string }
  /** No summary: `known` is its code and one-line message (src/errors.ts exitFor maps it). */
  | { kind: "failed"; failure: Failure; steps: number; known: Known }
  /** Several nodes: this node's ranks finished, but rank 0, and with it the summary, ran on another. */
  | { kind: "elsewhere"; message: string };

export interface Execution {
  /** Stop every rank cleanly; the run ends "interrupted" by this signal (default SIGINT). */
  stop(signal?: NodeJS.Signals): void;
  done: Promise<Ending>;
}

/** The known failure of a run that ended without a summary. */
export function runFailure(failure: Failure, message: string): Known {
  return failure.kind === "interrupted" ? { code: "interrupted", message, signal: failure.signal } : { code: "failed", message };
}

export function startExecution(p: Prepared, reporter: RunReporter, cwd: string = process.cwd()): Execution {
  const { result } = p.chosen;
  // Until the first step: a notice each minute (halfway through a deadline under 2 min), and
  // every rank stopped at the deadline. One
  // node's ranks are 0…n−1; c10d numbers several nodes' by arrival.
  const n = p.node;
  const startup = { deadlineMs: p.startupTimeout * 1000, noticeMs: Math.min(STARTUP_NOTICE_MS, (p.startupTimeout * 1000) / 2), localRanks: n.perNode, ...(n.nnodes === 1 ? { ranks: Array.from({ length: n.perNode }, (_, r) => r) } : {}) };
  const run = startRun({ command: n.python, args: torchrunArgs(n), env: workerEnv(n), cwd, runDir: p.runDir, reporter, startup });
  const done = run.done.then((res): Ending => {
    const f = res.failure;
    // c10d numbers nodes by arrival: rank 0, and with it the summary, ran on another node.
    if (f?.kind === "no-summary" && p.node.nnodes > 1 && res.steps.length === 0)
      return { kind: "elsewhere", message: "this node's ranks finished; rank 0 ran on another node, whose paraplan prints the summary" };
    const failed = (failure: Failure): Ending => {
      let unsaved = "";
      try {
        writeFailure(p.runDir, failure, res.steps.length, result.memory.total);
      } catch (e) {
        unsaved = ` (error.json not written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      }
      const message = failureMessage(failure, {
        runDir: p.runDir,
        steps: res.steps.length,
        predictedMemory: result.memory.total,
        capacity: result.memory.capacity,
        nnodes: p.node.nnodes,
        endpoint: p.node.endpoint,
        portChecked: p.portChecked,
      });
      return { kind: "failed", failure, steps: res.steps.length, known: runFailure(failure, message + unsaved) };
    };
    if (f || res.measured === null) return failed(f ?? { kind: "no-summary", reason: null });
    try {
      const teardown = res.teardown === null ? undefined : teardownMessage(res.teardown);
      const summary = writeRunSummary(p, res.measured, res.steps.length, res.timeline, teardown);
      return teardown === undefined ? { kind: "done", summary } : { kind: "done", summary, teardown };
    } catch (e) {
      // The run finished but its summary cannot be kept (a full disk): a failure, said in one line.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === undefined) throw e;
      return failed({ kind: "write", message: `the run finished but its summary cannot be written (${code})` });
    }
  });
  return { stop: run.stop, done };
}

/** Signals that stop a run cleanly: Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129). */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The run's end, the process's stop signals stopping it cleanly while it lasts (their handlers
 *  are removed once it has ended: a later signal does what it did before). */
export async function endOnSignals(e: Execution): Promise<Ending> {
  const handlers = STOP_SIGNALS.map((sig) => [sig, () => e.stop(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await e.done;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
