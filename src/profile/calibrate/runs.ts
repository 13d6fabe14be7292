// An executor run directory (executor/PROTOCOL.md, executor/run-dir.ts) as calibration reads it:
// what was run — the model (launch.json), the plan and the training (plan.json), the device —
// and the step time measured (./measured.ts: summary.json, else the worker's timed steps of
// metrics.jsonl; never a failed or interrupted run).
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { planFromJson } from "../../plan-file.js";
import { type ModelSpec, type Plan, type Precision, type Training, executorEngineName, fusedAttentionOf, parseModelFile } from "../../../planner/index.js";
import { worldOf } from "../../../planner/layout/groups.js";
import { workerEngineName } from "../../../executor/compile-mode.js";
import { UserError } from "../../errors.js";
import { isPath, loadModel } from "../../load.js";
import { engineStack, loadEngine } from "../../load-engine.js";
import { checkAgreement } from "./agree.js";
import { measuredStep } from "./measured.js";
import { corrupt, engineName, runFields } from "./plan-fields.js";

export interface RunCase {
  dir: string;
  name: string;
  model: ModelSpec;
  plan: Plan;
  training: Training;
  /** Ranks per node in the run (execute plans with the node as present, not the profile's). */
  gpusPerNode: number;
  /** The profile the run was planned with (plan.json "profile"). */
  profile: string | null;
  /** Where it ran: "cpu" ranks or "cuda" GPUs (plan.json, summary.json or launch.json "device"). */
  device: string | null;
  /** Measured step time, seconds. */
  measured: number;
  /** Defaults applied because the run directory does not record them. */
  assumed: string[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function json(dir: string, file: string, required: boolean): Obj | null {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (required) throw new UserError(`${dir}: no ${file}; is it a run directory of paraplan execute?`);
    return null;
  }
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (!isObj(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new UserError(`${path}: unreadable (${(e as Error).message})`);
  }
}

function model(dir: string, launch: Obj | null, plan: Obj): ModelSpec {
  if (isObj(launch?.model)) {
    const parsed = parseModelFile(launch.model, `${basename(dir)}/launch.json model`);
    if (!parsed.ok) throw new UserError(parsed.message);
    return parsed.value;
  }
  if (typeof plan.model !== "string") throw new UserError(`${dir}: neither launch.json nor plan.json names the model`);
  try {
    return loadModel(plan.model);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${join(dir, "plan.json")}: field "model": ${e.message.replace(/^--model:? /, "")}`);
    throw e;
  }
}

/** The engines paraplan's worker runs (eager or compiled per block; planner/engine.ts). */
const WORKER_ENGINES = [executorEngineName(false), executorEngineName(true)];

/** A recorded engine must be one the worker runs, or an engine file refining one (src/load-
 *  engine.ts engineStack: its copy, or a file extending it): the run's step time is the worker's,
 *  and pricing it with another stack's software terms (megatron-core's) would fit that stack's
 *  differences into the hardware's factors (args.ts help: paraplan or paraplan-compile). */
function checkWorkerEngine(dir: string, file: string, field: string, name: string | undefined): void {
  if (name === undefined) return;
  const stack = isPath(name) ? (loadEngine(name, undefined, `${basename(dir)}: ${field}`), engineStack(name)?.engine) : name;
  if (stack === undefined || !WORKER_ENGINES.includes(stack))
    throw corrupt(dir, file, field, isPath(name) ? relative(dir, name) : name, `is not an engine paraplan's worker runs (${WORKER_ENGINES.join(" or ")}, or an engine file extending one)`);
}

/** A recorded engine: a built-in's name, or a .json file relative to the run directory (execute
 *  records the name; a path is a hand edit). Anything else is corrupt, not "not recorded". */
function engineField(dir: string, file: string, v: unknown, field = "engine"): string | undefined {
  const name = engineName(dir, file, v, field);
  return name !== undefined && isPath(name) ? resolve(dir, name) : name;
}

export function readRun(dirArg: string): RunCase {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new UserError(`run directory "${dirArg}" does not exist`);
  // A file of the run (run1/plan.json) where its directory is meant: name the directory to give.
  if (!statSync(dir).isDirectory())
    throw new UserError(`"${dirArg}" is a file, not a run directory; give the run directory that holds it, "${dirname(dirArg)}"`);
  const planJson = json(dir, "plan.json", true)!;
  const launch = json(dir, "launch.json", false);
  const summary = json(dir, "summary.json", false);
  const measured = measuredStep(dir, summary, launch);
  const m = model(dir, launch, planJson);
  let plan: Plan;
  try {
    plan = planFromJson(planJson, `${dir}/plan.json`);
  } catch (e) {
    throw new UserError((e as Error).message.replace(/^--plan /, ""));
  }
  // Every field checked before it prices anything (./plan-fields.ts): a corrupt one is named.
  const pf = runFields(planJson, dir, "plan.json");
  const lt = runFields(isObj(launch?.training) ? (launch.training as Obj) : {}, dir, "launch.json", "training.");
  checkAgreement(dir, { planJson, plan, pf, launch, lt, summary });
  const assumed: string[] = [];
  const world = worldOf(plan);
  const gpus = pf.gpus ?? world;
  if (gpus !== world) throw new UserError(`${join(dir, "plan.json")}: corrupt field "gpus": ${gpus}, but its plan's tp·cp·pp·dp is ${world} ranks; the run cannot be calibrated as recorded`);
  const nnodes = pf.nnodes ?? 1;
  if (gpus % nnodes !== 0) throw new UserError(`${join(dir, "plan.json")}: corrupt field "nnodes": ${gpus} ranks do not split evenly over ${nnodes} nodes; the run cannot be calibrated as recorded`);
  const seqLen = pf.seqLen ?? lt.seqLen ?? m.defaultSeqLen;
  const precision: Precision = pf.precision ?? lt.precision ?? "bf16";
  // The software the run is priced with: the engine plan.json records (the prediction's, which
  // execute makes with the engine the worker runs; a file there is a hand edit, kept), except where
  // the worker's summary says it ran the other of its two modes (execution.engine: paraplan where
  // it ran eager though asked to compile, as runs before executor/compile-mode.ts recorded
  // paraplan-compile for zero-bubble pipelines); else the summary's, else the launch's compile
  // switch as the worker applies it. The fit then scales the hardware profile and not the
  // engine's terms.
  const execution = isObj(summary?.execution) ? (summary.execution as Obj) : {};
  const recorded = engineField(dir, "plan.json", planJson.engine);
  const ran = engineField(dir, "summary.json", execution.engine, "execution.engine");
  checkWorkerEngine(dir, "plan.json", "engine", recorded);
  checkWorkerEngine(dir, "summary.json", "execution.engine", ran);
  const worker = WORKER_ENGINES;
  let engineName = recorded ?? ran;
  if (ran !== undefined && recorded !== undefined && ran !== recorded && worker.includes(ran) && worker.includes(recorded)) {
    const why = typeof execution.eagerReason === "string" ? `: ${execution.eagerReason}` : "";
    assumed.push(`engine ${ran}, as the worker ran it (summary.json${why}), not ${recorded} as plan.json records`);
    engineName = ran;
  }
  if (engineName === undefined) {
    const le = isObj(launch?.execution) ? (launch.execution as Obj) : {};
    engineName = workerEngineName(le.compile === true, plan, m);
    assumed.push(`engine ${engineName} (the run does not record it)`);
  }
  const engine = loadEngine(engineName, undefined, `${basename(dir)}: engine`);
  const fused = pf.fusedAttention ?? (pf.attention === undefined ? undefined : pf.attention === "fused");
  const overlap = pf.overlapGradReduce;
  const globalBatch = pf.globalBatch ?? lt.globalBatch;
  if (globalBatch === undefined) throw new UserError(`${dir}: plan.json records no globalBatch`);
  const training: Training = {
    gpus,
    globalBatch,
    seqLen,
    precision,
    fusedAttention: fused === undefined ? fusedAttentionOf(engine) : fused === true,
    overlapGradReduce: overlap === undefined ? engine.dataParallel.overlapGradReduce : overlap === true,
    // (the imbalance execute predicted the run with, as plan.json records it; absent: the default)
    ...(pf.moeImbalance !== undefined ? { moeImbalance: pf.moeImbalance } : {}),
    engine,
  };
  return {
    dir,
    name: basename(dir),
    model: m,
    plan,
    training,
    gpusPerNode: gpus / nnodes,
    profile: typeof planJson.profile === "string" ? planJson.profile : null,
    device: [planJson.device, summary?.device, launch?.device].find((x): x is string => typeof x === "string") ?? null,
    measured,
    assumed,
  };
}
