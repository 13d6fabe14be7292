// A run directory states what ran more than once: plan.json (the prediction's inputs, which
// calibration prices), launch.json (the launch spec the worker read and ran: executor/spec.ts
// buildSpec) and summary.json (what the launcher saw: executor/summary.ts buildSummary), all three
// written by one `paraplan execute` from one request (executor/prepare.ts). Where two of them state
// the same thing differently the run is contradicted, and pricing one statement against a step
// time measured on the other is a silently wrong fit (QA: plan.json edited to micro-batch 1 and
// sequence 512 on a micro-batch 4, sequence 128 run priced 3.291 s against 602 ms and was fitted).
// So every fact two of them state must agree; a field one file leaves out is not checked.
import { type Plan, PLAN_FIELDS, planOnly } from "../../../planner/index.js";
import type { RecordedFields } from "../../plan-file-fields.js";
import { UserError } from "../../errors.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** One file's statement of a fact: its file, the field's place in it, the value (undefined:
 *  absent). `stated`: whether absence says something too (an even pipeline split writes no
 *  stageLayers), so that an absent value is compared rather than skipped. */
interface Said {
  file: string;
  field: string;
  value: unknown;
  stated?: boolean;
}

const shown = (v: unknown) => (v === undefined ? "absent" : JSON.stringify(v));

/** Every statement of one fact the same, or a UserError naming the run, both fields and both
 *  values. The reference is the first statement made: launch.json's where it makes one, what the
 *  worker ran. */
function agree(dir: string, saids: Said[]): void {
  const made = saids.filter((s) => s.stated === true || s.value !== undefined);
  const [ref, ...rest] = made;
  for (const s of rest)
    if (JSON.stringify(s.value) !== JSON.stringify(ref!.value))
      throw new UserError(
        `${dir}: ${s.file} ${s.field} is ${shown(s.value)}, but ${ref!.file} ${ref!.field} is ${shown(ref!.value)}${ref!.file === "launch.json" ? " (the launch spec the worker ran)" : ""}; the run contradicts itself and cannot be calibrated as recorded`,
      );
}

/** The plan fields a plan object states, in the planner's order; stageLayers is stated by its
 *  absence too (executor/plan-json.ts planOnly writes it only for an uneven split). */
const PLAN_KEYS = [...PLAN_FIELDS, "cpComm", "cpSplit", "stageLayers"] as const;

export interface RunFiles {
  /** plan.json as read, its plan parsed, and its training fields checked (./plan-fields.ts). */
  planJson: Obj;
  plan: Plan;
  pf: RecordedFields;
  launch: Obj | null;
  /** launch.json's training fields, checked. */
  lt: RecordedFields;
  summary: Obj | null;
}

/** Every fact that plan.json, launch.json and summary.json both state, checked equal; a
 *  UserError naming the run, the fields and both values for the first that is not. (The steps
 *  run: ./measured.ts stepsRun.) */
export function checkAgreement(dir: string, f: RunFiles): void {
  const launch = f.launch ?? {};
  const summary = f.summary ?? {};
  // A section of another type states nothing to compare: read as absent, the run's other files
  // went unchecked against it (QA: summary.json "plan": "x" was fitted).
  for (const [file, j, key] of [["launch.json", launch, "model"], ["launch.json", launch, "plan"], ["summary.json", summary, "plan"]] as const)
    if (j[key] !== undefined && !isObj(j[key]))
      throw new UserError(`${dir}/${file}: corrupt field "${key}": ${JSON.stringify(j[key])} is not an object; the run cannot be calibrated as recorded`);
  const lm = isObj(launch.model) ? launch.model : {};
  const lp = isObj(launch.plan) ? launch.plan : undefined;
  const sp = isObj(summary.plan) ? summary.plan : undefined;
  const prediction = isObj(launch.prediction) ? launch.prediction : {};
  const L = "launch.json";
  const P = "plan.json";
  const S = "summary.json";
  agree(dir, [
    { file: L, field: "model.name", value: lm.name },
    { file: P, field: "model", value: f.planJson.model },
    { file: S, field: "model", value: summary.model },
  ]);
  agree(dir, [
    { file: L, field: "device", value: launch.device },
    { file: P, field: "device", value: f.planJson.device },
    { file: S, field: "device", value: summary.device },
  ]);
  const planned = planOnly(f.plan) as unknown as Obj;
  for (const k of PLAN_KEYS)
    agree(dir, [
      { file: L, field: `plan.${k}`, value: lp?.[k], stated: lp !== undefined && k === "stageLayers" },
      // (parsed: a field an older plan.json leaves out is the default it was planned with)
      { file: P, field: `plans[0].${k}`, value: planned[k], stated: true },
      { file: S, field: `plan.${k}`, value: sp?.[k], stated: sp !== undefined && k === "stageLayers" },
    ]);
  agree(dir, [
    { file: P, field: "gpus", value: f.pf.gpus },
    { file: S, field: "world", value: summary.world },
  ]);
  agree(dir, [
    { file: L, field: "training.globalBatch", value: f.lt.globalBatch },
    { file: P, field: "globalBatch", value: f.pf.globalBatch },
  ]);
  // launch.json's model.seqLen is the trained sequence too (its learned-position table: spec.ts).
  agree(dir, [
    { file: L, field: "training.seqLen", value: f.lt.seqLen },
    { file: L, field: "model.seqLen", value: lm.seqLen },
    { file: P, field: "seqLen", value: f.pf.seqLen },
  ]);
  agree(dir, [
    { file: L, field: "training.precision", value: f.lt.precision },
    { file: P, field: "precision", value: f.pf.precision },
  ]);
  // launch.json's "prediction" (an export's launch spec; execute's carries none).
  agree(dir, [
    { file: L, field: "prediction.profile", value: prediction.profile },
    { file: P, field: "profile", value: f.planJson.profile },
    { file: S, field: "profile", value: summary.profile },
  ]);
  agree(dir, [
    { file: L, field: "prediction.overlapGradReduce", value: prediction.overlapGradReduce },
    { file: P, field: "overlapGradReduce", value: f.pf.overlapGradReduce },
  ]);
  agree(dir, [
    { file: L, field: "prediction.moeImbalance", value: prediction.moeImbalance },
    { file: P, field: "moeImbalance", value: f.pf.moeImbalance },
  ]);
}
