// Failures the user can act on, and the one place that turns them into an exit status and a
// one-line message: every known failure carries a `code` (an error thrown, or a value such as a
// run that ended without a summary). Anything else is a bug.

/** Exit statuses of paraplan's commands. */
export const EXIT = { ok: 0, doesNotFit: 1, badInput: 2, failed: 3, noPython: 4, hangup: 129, interrupted: 130, terminated: 143 } as const;

/** Why a command stops short, with its exit status. */
const STATUS = {
  /** Bad flags, files or configurations (UserError). */
  "bad-input": EXIT.badInput,
  /** The plan needs more devices or memory than present (executor's DoesNotFit). */
  "does-not-fit": EXIT.doesNotFit,
  /** No Python, torch or worker (executor's PythonMissing). */
  "no-python": EXIT.noPython,
  /** A run or a measurement started and failed. */
  failed: EXIT.failed,
  /** Stopped by a signal: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for any other. */
  interrupted: EXIT.interrupted,
} as const;

export type FailureCode = keyof typeof STATUS;

/** A failure as a value: what went wrong, in one line, and its code. */
export interface Known {
  code: FailureCode;
  message: string;
  /** The signal that stopped an interrupted run. */
  signal?: NodeJS.Signals;
}

const signalStatus = (s: unknown): number => (s === undefined || s === "SIGINT" ? EXIT.interrupted : s === "SIGTERM" ? EXIT.terminated : EXIT.hangup);

export interface Exit {
  status: number;
  /** One line, without the "paraplan: " prefix. */
  message: string;
}

const isCode = (c: unknown): c is FailureCode => typeof c === "string" && Object.hasOwn(STATUS, c);

/** The exit status and message of a known failure. */
export function exitOf(k: Known): Exit {
  return { status: k.code === "interrupted" ? signalStatus(k.signal) : STATUS[k.code], message: k.message };
}

/** The same for anything caught: an Error or a value with a known `code`; null for anything
 *  else, which the caller rethrows. */
export function exitFor(f: unknown): Exit | null {
  if (typeof f !== "object" || f === null) return null;
  const { code, message, signal } = f as { code?: unknown; message?: unknown; signal?: unknown };
  if (!isCode(code) || typeof message !== "string") return null;
  return exitOf({ code, message, ...(typeof signal === "string" ? { signal: signal as NodeJS.Signals } : {}) });
}

/** A message as one printable line: control characters (a terminal escape or a newline quoted from
 *  an input file, a key holding ESC), C1 controls, the byte-order mark and invisible format
 *  characters written as escapes, so that nothing an input holds can clear, recolour or split the
 *  line that reports it. */
export function printable(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    const n = c.charCodeAt(0);
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/** Exit status of a bug in paraplan (sysexits.h EX_SOFTWARE). */
export const INTERNAL_STATUS = 70;

/** The one line a bug prints: its message's first line, escaped, and how to see the stack trace
 *  (PARAPLAN_DEBUG=1), which is printed instead of a user's one-line report only when asked for. */
export function internalErrorLine(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (env.PARAPLAN_DEBUG) return `paraplan: internal error: ${err.stack ?? err.message}`;
  const first = printable(err.message.split("\n")[0] ?? "");
  return `paraplan: internal error (a bug in paraplan, not in the input): ${err.name}: ${first}; rerun with PARAPLAN_DEBUG=1 for its stack trace and report it`;
}

/** Errors the user can fix: printed as one line, exit status 2. */
export class UserError extends Error {
  readonly code = "bad-input";
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
