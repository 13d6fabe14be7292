// The measured step time of an executor run directory, as calibration takes it: only from a run
// that completed, and only over the steps the worker itself times (executor/worker/main.py
// timed_steps; executor/PROTOCOL.md "summary"), so that neither the warm-up step 1 (start-up,
// lazy optimizer states, compilation), nor the instrumented step 2 (FLOP, collective and memory
// counters), nor the traced last step (torch.profiler) enters a fit. Anything else is refused
// with one line naming the file and why: a fit to a wrong step time is a silently wrong profile.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../errors.js";
import { spanList } from "../../format/startup-text.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Plausible seconds per training step. Above: one day (86,400 s), far beyond any step a
 *  calibration run takes (a 1e308 or a value in the wrong unit is corruption, not a step). Below:
 *  one microsecond, less than a single CUDA kernel launch (a few µs), where a step runs at least
 *  a forward, a backward and an optimizer kernel per layer. */
export const STEP_SECONDS = { min: 1e-6, max: 86_400 } as const;

const plausible = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= STEP_SECONDS.min && x <= STEP_SECONDS.max;
const shown = (x: unknown) => (typeof x === "string" ? JSON.stringify(x) : String(x));
const range = "seconds from 1e-6 to 86400 (1 µs to 1 day)";

/** executor/worker/main.py: measured_step, traced_step and timed_steps, for `steps` steps. */
export function timedSteps(steps: number): { timed: number[]; probe: number } {
  const probe = steps >= 2 ? 2 : 1;
  const traced = steps >= 4 ? steps : null;
  const kept: number[] = [];
  for (let k = 1; k <= steps; k++) if (k !== 1 && k !== probe && k !== traced) kept.push(k);
  return { timed: kept.length ? kept : [probe], probe };
}

/** A run of fewer than 3 steps: the worker's stepTime is then the warm-up or the instrumented step.
 *  `where`: what the message starts with ("<dir>:", or the run and the field that says so). */
function refuseUntimed(where: string, timed: number[], probe: number): void {
  if (timed.includes(1)) throw new UserError(`${where} its only timed step is the warm-up step 1 (start-up included); calibrate runs of 3 steps or more (execute --steps 3)`);
  if (timed.includes(probe)) throw new UserError(`${where} its only timed step is the instrumented step ${probe} (counters running); calibrate runs of 3 steps or more (execute --steps 3)`);
}

/** error.json (executor/run.ts writeFailure) marks a run that failed or was interrupted. */
function refuseFailed(dir: string): void {
  const path = join(dir, "error.json");
  if (!existsSync(path)) return;
  let why = "did not complete (its error.json is unreadable)";
  try {
    const e = JSON.parse(readFileSync(path, "utf8")) as Obj;
    const f = isObj(e.failure) ? e.failure : {};
    const kind = typeof f.kind === "string" ? f.kind : "unknown";
    const steps = typeof e.steps === "number" ? ` after ${e.steps} step${e.steps === 1 ? "" : "s"}` : "";
    const err = isObj(f.error) ? f.error.message : undefined;
    const detail = [f.reason, f.message, err].find((x): x is string => typeof x === "string");
    why =
      kind === "interrupted"
        ? `was interrupted${typeof f.signal === "string" ? ` by ${f.signal}` : ""}${steps}`
        : `failed${steps} (${kind}${detail === undefined ? "" : `: ${detail.split("\n")[0]!.slice(0, 160)}`})`;
  } catch {
    // an error.json at all says the run did not complete
  }
  throw new UserError(`${dir}: the run ${why}, says its error.json; calibrate only runs that completed`);
}

/** summary.json's measured.stepTime, checked: the launcher writes it only for a completed run. */
function fromSummary(dir: string, summary: Obj): number {
  const path = join(dir, "summary.json");
  const m = summary.measured;
  const st = isObj(m) ? m.stepTime : undefined;
  if (!plausible(st)) throw new UserError(`${path}: corrupt summary: measured.stepTime is ${shown(st)}, not ${range}`);
  const worker = isObj(summary.worker) ? summary.worker : {};
  const timed = worker.timedSteps;
  if (Array.isArray(timed) && timed.length > 0) refuseUntimed(`${dir}:`, timed as number[], typeof worker.measuredStep === "number" ? worker.measuredStep : 2);
  // execute labels a step time that does not measure what a profile describes (CPU ranks sharing
  // cores, a profile of the other device): fitted, it would move the profile by that factor.
  // (a label of another type is a corrupt summary, not an absent one: ignored, it fitted the run)
  const label = summary.notComparable;
  if (label !== undefined && !isObj(label)) throw new UserError(`${path}: corrupt summary: notComparable is ${shown(label)}, not an object of labels`);
  const nc = isObj(label) ? label.stepTime : undefined;
  if (nc !== undefined && typeof nc !== "string") throw new UserError(`${path}: corrupt summary: notComparable.stepTime is ${shown(nc)}, not a label (text)`);
  if (typeof nc === "string") throw new UserError(`${dir}: its step time is not comparable with a prediction (${nc.slice(0, 160)}), says its summary.json; calibrate runs whose step time is`);
  return st;
}

/** Without summary.json: the mean of metrics.jsonl's step times over the worker's timed steps. */
function fromMetrics(dir: string, launch: Obj | null): number {
  const path = join(dir, "metrics.jsonl");
  const training = isObj(launch?.training) ? launch.training : {};
  const steps = training.steps;
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1 || steps > 1e6)
    throw new UserError(`${dir}: no summary.json, and launch.json records no training.steps to tell which steps the worker timed; did the run finish?`);
  const { timed, probe } = timedSteps(steps);
  refuseUntimed(`${dir}:`, timed, probe);
  const times = new Map<number, number>();
  const lineOf = new Map<number, number>();
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (text.trim() === "") return;
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch (e) {
        throw new UserError(`${path}:${i + 1}: not a JSON line (truncated or corrupt: ${(e as Error).message})`);
      }
      if (!isObj(line) || typeof line.step !== "number") throw new UserError(`${path}:${i + 1}: not a step line (no "step")`);
      // The worker writes steps 1, 2, … once each: a fractional, non-positive or repeated step is
      // corruption (a repeat kept silently would pick one of two step times).
      if (!Number.isInteger(line.step) || line.step < 1 || line.step > steps)
        throw new UserError(`${path}:${i + 1}: step is ${shown(line.step)}, not a whole step from 1 to ${steps} (launch.json training.steps)`);
      if (times.has(line.step)) throw new UserError(`${path}:${i + 1}: step ${line.step} is recorded twice (first on line ${lineOf.get(line.step)! + 1})`);
      if (!plausible(line.stepTime)) throw new UserError(`${path}:${i + 1}: stepTime is ${shown(line.stepTime)}, not ${range}`);
      times.set(line.step, line.stepTime);
      lineOf.set(line.step, i);
    });
  const missing = timed.filter((k) => !times.has(k));
  if (missing.length)
    throw new UserError(
      `${dir}: interrupted: metrics.jsonl has ${times.size} of ${steps} step${steps === 1 ? "" : "s"} and no summary.json (the worker times step${timed.length === 1 ? "" : "s"} ${spanList(timed)}); calibrate only runs that completed`,
    );
  return timed.reduce((s, k) => s + times.get(k)!, 0) / timed.length; // the worker's mean (main.py _mean)
}

/** The steps the run ran, as summary.json ("steps": the step events the launcher received) and
 *  launch.json ("training.steps": what the worker was told to run) state them: the two agree on a
 *  completed run; undefined where neither states it. Fewer than 3 is refused here (the help's
 *  rule), whichever file says so: the worker's stepTime is then the warm-up or the instrumented
 *  step (QA: summary.json steps 2 or launch.json steps 2 were fitted). */
function stepsRun(dir: string, summary: Obj | null, launch: Obj | null): number | undefined {
  const training = isObj(launch?.training) ? launch.training : {};
  const whole = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 1e6;
  const said: [string, unknown][] = [
    ["launch.json training.steps", training.steps],
    ["summary.json steps", summary?.steps],
  ];
  for (const [where, v] of said)
    if (v !== undefined && !whole(v)) throw new UserError(`${dir}: corrupt ${where}: ${shown(v)}, not a whole number of steps from 1 to 1000000; the run cannot be calibrated as recorded`);
  const [lw, ls] = said[0]!;
  const [sw, ss] = said[1]!;
  if (ls !== undefined && ss !== undefined && ls !== ss)
    throw new UserError(`${dir}: ${sw} is ${ss}, but ${lw} is ${ls} (the launch spec the worker ran); the run contradicts itself and cannot be calibrated as recorded`);
  const [where, steps] = [said[1]!, said[0]!].find(([, v]) => v !== undefined) ?? [];
  if (steps === undefined) return undefined;
  const { timed, probe } = timedSteps(steps as number);
  refuseUntimed(`${dir}: ${where} is ${steps}:`, timed, probe);
  return steps as number;
}

/** The measured step time of a completed run, seconds; a UserError naming the file otherwise. */
export function measuredStep(dir: string, summary: Obj | null, launch: Obj | null): number {
  refuseFailed(dir);
  const steps = stepsRun(dir, summary, launch);
  // The worker's own list of the steps it timed (summary.json worker.timedSteps) follows from
  // the steps (main.py timed_steps): another list is not this run's.
  const worker = isObj(summary?.worker) ? summary.worker : {};
  if (steps !== undefined && Array.isArray(worker.timedSteps) && JSON.stringify(worker.timedSteps) !== JSON.stringify(timedSteps(steps).timed))
    throw new UserError(`${dir}: summary.json worker.timedSteps is ${JSON.stringify(worker.timedSteps).slice(0, 80)}, but a run of ${steps} steps times ${spanList(timedSteps(steps).timed)}; the run contradicts itself and cannot be calibrated as recorded`);
  if (summary !== null) return fromSummary(dir, summary);
  if (!existsSync(join(dir, "metrics.jsonl"))) throw new UserError(`${dir}: no measured step time (no summary.json or metrics.jsonl); did the run finish?`);
  return fromMetrics(dir, launch);
}
