// One supervised run on this node: start torchrun, stream the worker's events into metrics.jsonl
// and the reporter, stop everything on the first failure or when asked to (the handle's stop:
// the CLI calls it on Ctrl-C, the interactive planner on its stop key), and end with the summary.
// No process-wide state: signal handlers belong to whoever owns the process.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorEvent, MeasuredFromWorker, Phase, StartEvent, StepEvent } from "./events.js";
import type { MeasuredTimeline } from "./timeline.js";
import { ARTIFACTS, JsonLines, writeJsonAtomic } from "./run-dir.js";
import { type Outcome, type StartupOptions, type StartupState, Supervisor } from "./supervise.js";

/** Why a run did not produce a summary. */
export type Failure =
  | { kind: "rank-error"; error: ErrorEvent }
  | { kind: "interrupted"; signal: NodeJS.Signals }
  /** No event for `waited` seconds after step `lastStep` (the longest step took `longestStep`). */
  | { kind: "stalled"; waited: number; lastStep: number; longestStep: number }
  /** No step within the start-up deadline, `waited` seconds: this node's ranks by their last
   *  phase (null: none reported), and whether rank 0 had reported the start. */
  | { kind: "startup-stalled"; waited: number; phases: Record<number, Phase | null>; unnamed: number; started: boolean }
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null; rank: number | null; reason: string | null }
  | { kind: "spawn"; message: string }
  /** The run directory could not be written (a full disk): the run was stopped there. */
  | { kind: "write"; message: string }
  | { kind: "no-summary"; reason: string | null };

export interface RunReporter {
  start(ev: StartEvent): void;
  step(ev: StepEvent): void;
  /** Lines of worker output that are not events (already saved to worker.log). */
  log?(line: string): void;
  /** Before the first step, every RunOptions.startup.noticeMs: where this node's ranks are. */
  waiting?(w: StartupState): void;
}

export interface RunResult {
  steps: StepEvent[];
  measured: MeasuredFromWorker | null;
  /** The traced step's timeline, when the worker sent one. */
  timeline: MeasuredTimeline | null;
  failure: Failure | null;
  /** What went wrong after the worker had reported its summary (every step ran and was measured):
   *  torchrun's non-zero exit, ranks that never exited, a rank's error in its teardown. The run
   *  keeps its summary (failure null) and says this beside it. */
  teardown: Failure | null;
  outcome: Outcome;
}

export interface RunOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  runDir: string;
  reporter: RunReporter;
  graceMs?: number;
  /** The start-up deadline and notices (executor/supervise.ts SuperviseOptions.startup). */
  startup?: StartupOptions;
  /** The stall watchdog's bounds (SuperviseOptions.stall; tests shorten them). */
  stall?: { floorMs: number; factor: number; afterSummaryMs?: number };
}

export interface RunHandle {
  /** Stop every rank cleanly (idempotent); the run ends as an "interrupted" failure naming the
   *  signal (default SIGINT, as for Ctrl-C). */
  stop(signal?: NodeJS.Signals): void;
  /** Resolves once torchrun and every process it started are gone. */
  done: Promise<RunResult>;
}

const TAIL = 300;

/** Start the run now; it goes on until it ends by itself, fails, or is stopped. */
export function startRun(o: RunOptions): RunHandle {
  const metrics = new JsonLines(join(o.runDir, ARTIFACTS.metrics));
  const logPath = join(o.runDir, ARTIFACTS.log);
  // worker.log exists from the launch on (empty until torchrun or a rank prints a line): every
  // failure message names it, a run killed before any output included.
  try {
    appendFileSync(logPath, "");
  } catch (e) {
    metrics.close();
    throw e;
  }
  const steps: StepEvent[] = [];
  const tail: string[] = [];
  let measured: MeasuredFromWorker | null = null;
  let timeline: MeasuredTimeline | null = null;
  // A write that fails (ENOSPC, EIO) stops the run: metrics it cannot keep are not worth running for.
  let writeError: string | null = null;
  const keep = (path: string, write: () => void) => {
    if (writeError !== null) return;
    try {
      write();
    } catch (e) {
      writeError = `cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); stopped every rank`;
      sup.stop("write-failed");
    }
  };
  const sup: Supervisor = new Supervisor({
    command: o.command,
    args: o.args,
    env: o.env,
    cwd: o.cwd,
    ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
    ...(o.startup ? { startup: o.startup } : {}),
    ...(o.stall ? { stall: o.stall } : {}),
    onWaiting: (w) => o.reporter.waiting?.(w),
    onEvent: (ev) => {
      if (ev.event === "step") {
        const line = { step: ev.step, loss: ev.loss, stepTime: ev.stepTime, tokensPerSecond: ev.tokensPerSecond };
        steps.push(ev);
        keep(metrics.path, () => metrics.append(line));
        o.reporter.step(ev);
      } else if (ev.event === "summary") measured = ev.measured;
      else if (ev.event === "timeline") timeline = ev.timeline;
      else if (ev.event === "start") o.reporter.start(ev);
    },
    onText: (line, stream) => {
      keep(logPath, () => appendFileSync(logPath, `${stream === "stderr" ? "! " : ""}${line}\n`));
      if (stream === "stderr" && line.trim() !== "") {
        tail.push(line);
        if (tail.length > TAIL) tail.shift();
      }
      o.reporter.log?.(line);
    },
    onBadEvent: (line, why) => keep(logPath, () => appendFileSync(logPath, `? unreadable event (${why}): ${line}\n`)),
  });
  const done = sup.run().then(
    (outcome) => {
      metrics.close();
      const failure: Failure | null = writeError !== null ? { kind: "write", message: writeError } : classify(outcome, measured, tail);
      // A failure once the summary is in (torchrun's exit status, ranks that never exit, a rank's
      // error in its teardown) does not undo the measurements: they are kept, the failure said.
      if (failure !== null && measured !== null && afterSummary(failure))
        return { steps, measured, timeline, failure: null, teardown: failure, outcome };
      return { steps, measured, timeline, failure, teardown: null, outcome };
    },
    (e: unknown) => {
      metrics.close();
      throw e;
    },
  );
  return { stop: (signal = "SIGINT") => sup.stop("interrupted", signal), done };
}

/** Whether `f`, in a run whose summary arrived, is its teardown's: rank 0 sends the summary only
 *  once every rank has run every step and sent it its figures (worker/main.py gathers them), so
 *  an exit status, a stall or a rank's error then comes after the measurements (the error and
 *  summary events come on two pipes, whose order paraplan cannot see). Not a stop the user asked
 *  for, nor a run directory that could not be written. */
export function afterSummary(f: Failure): boolean {
  return f.kind === "exit" || f.kind === "stalled" || f.kind === "rank-error";
}

export function classify(outcome: Outcome, measured: MeasuredFromWorker | null, stderrTail: string[]): Failure | null {
  if (outcome.stopped === "interrupted") return { kind: "interrupted", signal: outcome.interrupt ?? "SIGINT" };
  if (outcome.stopped === "startup-stalled" && outcome.startup)
    return { kind: "startup-stalled", waited: outcome.startup.waitedMs / 1000, phases: outcome.startup.phases, unnamed: outcome.startup.unnamed, started: outcome.startup.started };
  if (outcome.stopped === "stalled" && outcome.stall)
    return { kind: "stalled", waited: outcome.stall.waitedMs / 1000, lastStep: outcome.stall.lastStep, longestStep: outcome.stall.longestStepMs / 1000 };
  // torchrun's agent killed from outside (the OOM killer, a scheduler, kill -9) before any rank
  // failed: the ranks' errors that follow (a peer's connection reset) are its consequences, and
  // each rank stopped itself (worker/agent_watch.py).
  if (outcome.stopped === "exit-code" && outcome.signal !== null)
    return { kind: "exit", code: null, signal: outcome.signal, rank: null, reason: "killed from outside paraplan (the OOM killer, a scheduler or kill); each rank stopped when its agent was gone" };
  // A rank that lost its peer is not the cause: torchrun's report names the rank that died first
  // (one killed outright, by the OOM killer or kill -9, sends no error event of its own).
  const dead = outcome.firstError?.kind === "peer-lost" ? deadPeer(stderrTail, outcome.firstError.rank) : null;
  if (dead) return { kind: "exit", code: outcome.exitCode, signal: outcome.signal, rank: dead.rank, reason: dead.reason };
  if (outcome.firstError) return { kind: "rank-error", error: outcome.firstError };
  if (outcome.spawnError) return { kind: "spawn", message: outcome.spawnError.message };
  const { rank, reason } = explainStderr(stderrTail);
  // No error line: a rank killed outright before any peer's collective broke (kill -9 while the
  // ranks start up, torchrun stopping the other with SIGTERM) is named by torchrun's report alone.
  const killed = reason === null ? reportedFailures(stderrTail).find((f) => f.root && f.rank === rank && f.signal !== null) : undefined;
  if (outcome.exitCode !== 0) return { kind: "exit", code: outcome.exitCode, signal: outcome.signal, rank, reason: killed ? killedBy(killed.signal!) : reason };
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

/** One failed rank of torchrun's ChildFailedError report ("Failures:" and "Root Cause" blocks,
 *  torch/distributed/elastic/multiprocessing/errors/__init__.py _FAILURE_FORMAT_TEMPLATE). */
export interface ReportedFailure {
  rank: number;
  exitcode: number | null;
  /** The signal that killed it ("SIGKILL"), for a negative exit code. */
  signal: string | null;
  /** Listed under "Root Cause (first observed failure)". */
  root: boolean;
}

/** The ranks torchrun's report lists as failed, in its order. */
export function reportedFailures(lines: string[]): ReportedFailure[] {
  const out: ReportedFailure[] = [];
  let root = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (/^Root Cause/.test(line)) root = true;
    const r = /^rank\s*:\s*(\d+)/.exec(line);
    if (r) out.push({ rank: Number(r[1]), exitcode: null, signal: null, root });
    // "exitcode  : -9 (pid: 12)  (SIGKILL)"; older torch wrote the name bare
    const x = /^exitcode\s*:\s*(-?\d+)(?:\s*\(pid:\s*\d+\))?\s*\(?(SIG[A-Z0-9]+)?/.exec(line);
    const last = out[out.length - 1];
    if (x && last && last.exitcode === null) {
      last.exitcode = Number(x[1]);
      last.signal = last.exitcode < 0 ? (x[2] ?? `signal ${-last.exitcode}`) : null;
    }
  }
  return out;
}

/** How a rank torchrun reports killed by `signal` died. */
const killedBy = (signal: string) => `killed by ${signal}${signal === "SIGKILL" ? " (the kernel's OOM killer when host memory runs out, or kill -9)" : ""}`;

/** The rank whose death a peer's lost connection followed, from torchrun's report: of the ranks
 *  other than the one that lost it, the root cause, else one killed by a signal other than the
 *  SIGTERM torchrun stops the rest with, else the first listed. */
function deadPeer(lines: string[], lostBy: number | null): { rank: number; reason: string } | null {
  const others = reportedFailures(lines).filter((f) => f.rank !== lostBy);
  const hit = others.find((f) => f.root) ?? others.find((f) => f.signal !== null && f.signal !== "SIGTERM") ?? others[0];
  if (!hit) return null;
  const by = lostBy === null ? "a rank" : `rank ${lostBy}`;
  const how = hit.signal !== null ? killedBy(hit.signal) : `exited with status ${String(hit.exitcode)} without an error event`;
  return { rank: hit.rank, reason: `${how}; ${by} then lost its connection to it` };
}

/** error.json: what stopped the run, beside what the planner expected of the plan. */
export function writeFailure(runDir: string, failure: Failure, steps: number, predictedPeakMemory: number): void {
  writeJsonAtomic(join(runDir, ARTIFACTS.error), { failure, steps, predictedPeakMemory, runDir });
}
