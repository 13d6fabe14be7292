// `paraplan execute --json`: one JSON object per line — one per step, then the summary (or, when the
// run fails, `{"failed": true, "failure": {rank, kind, message}, …}`, rank the one that failed
// (first), null where none is known) as the last line.
import type { StepEvent } from "../../executor/events.js";
import type { Failure } from "../../executor/run.js";
import type { Summary } from "../../executor/summary.js";

export function stepJson(ev: StepEvent): string {
  return JSON.stringify({ step: ev.step, loss: ev.loss, stepTime: ev.stepTime, tokensPerSecond: ev.tokensPerSecond });
}

export function summaryJson(s: Summary): string {
  return JSON.stringify(s);
}

export function failureJson(f: Failure, message: string, runDir: string, steps: number): string {
  const failure =
    f.kind === "rank-error"
      ? { rank: f.error.rank, kind: f.error.kind, message: f.error.message }
      : f.kind === "interrupted"
        ? { rank: null, kind: "interrupted", signal: f.signal, message }
        : { rank: f.kind === "exit" ? f.rank : null, kind: f.kind, message };
  return JSON.stringify({ failed: true, failure, steps, runDir });
}
