// Everything before torchrun starts, for a plan already chosen for the devices present: the
// interpreter, the rendezvous, and the run directory with plan.json, launch.json and command.txt.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { type Hardware, type ModelSpec, type PlanResult, type Training, executorEngineName } from "../planner/index.js";
import type { Devices } from "./devices.js";
import { DoesNotFit, PythonMissing } from "./errors.js";
import { type Endpoint, type NodeLaunch, chooseRendezvous, commandLine } from "./launch.js";
import { planJson } from "./plan-json.js";
import { checkPython, pythonPath } from "./python.js";
import { packageRoot } from "./root.js";
import { ARTIFACTS, createRunDir, writeFileAtomic, writeJsonAtomic } from "./run-dir.js";
import { type LaunchSpec, buildSpec, defaultCompile, faultInjectionFromEnv, predictionOf } from "./spec.js";
import { workerEngineName } from "./compile-mode.js";
import type { MeasuredFromWorker } from "./events.js";
import { stepTimeline } from "./step-timeline.js";
import { type Summary, buildSummary } from "./summary.js";
import type { MeasuredTimeline } from "./timeline.js";

/** The planner's inputs the plan answers (the CLI's PlanRequest is one). */
export interface RunRequest {
  model: ModelSpec;
  hw: Hardware;
  profileName: string;
  training: Training;
  /** Human-readable list of the defaults that were applied. */
  assumed: string[];
}

/** The plan to run on the devices present. */
export interface Chosen {
  req: RunRequest;
  result: PlanResult;
  /** Ranks each node starts (torchrun --nproc-per-node). */
  perNode: number;
}

/** How this node takes part, and for how long. */
export interface RunSettings {
  steps: number;
  nnodes: number;
  nodeRank: number;
  /** The rendezvous asked for (a free local port when undefined and on one node). */
  endpoint: Endpoint | undefined;
  rdzvId: string | undefined;
  /** The run's directory (default runs/<time>-<model>). */
  runDir: string | undefined;
  /** Only the commands, for other machines: no interpreter check here. */
  printLaunch: boolean;
  /** torch.compile per block (`--compile` / `--no-compile`); undefined: on for CUDA, off on CPU. */
  compile?: boolean | undefined;
  /** Seconds to wait for the first step before stopping every rank (`--startup-timeout`);
   *  undefined: DEFAULT_STARTUP_TIMEOUT. */
  startupTimeout?: number | undefined;
}

/** The first step's deadline: model build, the process group, torch.compile's first graphs and a
 *  multi-node rendezvous come before it; a rank stuck there waited on gloo's 30 min (NCCL's 10)
 *  with nothing said. */
export const DEFAULT_STARTUP_TIMEOUT = 20 * 60;

/** Seconds past the launcher's start-up deadline at which a rank stops itself (the spec's
 *  startupTimeout, executor/worker/startup_watch.py) and torchrun gives up the rendezvous
 *  (launch.ts joinTimeout): under `paraplan execute` the launcher, which names every rank of its
 *  node by its phase, speaks first; the --print-launch lines, run without it, end there too. */
export const WORKER_STARTUP_MARGIN = 30;

/** The worker's two engine profiles: eager and compiled. */
const WORKER_ENGINES = [executorEngineName(false), executorEngineName(true)];

export interface Prepared<C extends Chosen = Chosen> {
  chosen: C;
  devices: Devices;
  node: NodeLaunch;
  spec: LaunchSpec;
  runDir: string;
  /** torch's version, when the interpreter was checked. */
  torch: string | null;
  /** The rendezvous port asked for, when it was busy and replaced. */
  replacedPort: number | null;
  /** Whether the rendezvous port was seen free (or a torch launcher's) here (launch.ts
   *  Rendezvous.portChecked): false, a rendezvous that never completes may be a port held by
   *  another program on the rendezvous host. */
  portChecked: boolean;
  /** Seconds to wait for the first step (RunSettings.startupTimeout). */
  startupTimeout: number;
}

export interface PrepareOptions {
  env?: NodeJS.ProcessEnv;
}

export async function prepare<C extends Chosen>(chosen: C, devices: Devices, run: RunSettings, o: PrepareOptions = {}): Promise<Prepared<C>> {
  const env = o.env ?? process.env;
  const root = packageRoot();
  const python = pythonPath(root, env);
  let torch: string | null = null;
  if (!run.printLaunch) {
    const info = await checkPython(python, env, devices.device === "cuda");
    torch = info.torch;
    if (devices.device === "cuda" && info.cudaDevices < chosen.perNode)
      throw new DoesNotFit(`torch ${info.torch} at ${python} sees ${info.cudaDevices} CUDA device${info.cudaDevices === 1 ? "" : "s"} but the plan needs ${chosen.perNode} on this node`);
    if (!existsSync(join(root, "executor", "worker", "__main__.py")))
      throw new PythonMissing(`the Python worker is missing: no executor/worker/__main__.py in ${root}`);
  }
  const faultInjection = faultInjectionFromEnv(env); // bad input: refused before the run dir exists
  const startupTimeout = run.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT;
  const rdzv = await chooseRendezvous(run.endpoint, run.nnodes, { checkPort: !run.printLaunch });
  const { req, result } = chosen;
  // The prediction's engine is the mode the worker will run (compile-mode.ts): a compiled
  // prediction of a plan the worker runs eager priced other software than the one measured.
  const ran = workerEngineName(run.compile ?? defaultCompile(devices.device), result, req.model);
  const predicted = req.training.engine?.name;
  if (predicted !== undefined && WORKER_ENGINES.includes(predicted) && predicted !== ran)
    throw new Error(`internal: the plan was predicted with engine ${predicted} but the worker runs it as ${ran}`);
  const runDir = createRunDir({
    ...(run.runDir !== undefined ? { exact: run.runDir } : {}),
    model: req.model.name,
    suffix: run.nnodes > 1 ? `-node${run.nodeRank}` : "",
  });
  const specPath = join(runDir, ARTIFACTS.launch);
  const spec = buildSpec({
    runDir,
    device: devices.device,
    model: req.model,
    plan: result,
    globalBatch: req.training.globalBatch,
    seqLen: req.training.seqLen,
    precision: req.training.precision,
    steps: run.steps,
    faultInjection,
    compile: run.compile,
    startupTimeout: startupTimeout + WORKER_STARTUP_MARGIN,
    // (what the prediction was priced on, for export/execute --plan launch.json: a CPU run's was
    // priced again on the default dgx-h100 without it)
    prediction: predictionOf(req.profileName, req.model, req.training),
  });
  const node: NodeLaunch = {
    python,
    root,
    specPath,
    device: devices.device,
    nnodes: run.nnodes,
    nodeRank: run.nodeRank,
    perNode: chosen.perNode,
    endpoint: rdzv.endpoint,
    rdzvId: run.rdzvId ?? (run.nnodes > 1 ? "paraplan" : basename(runDir)),
    joinTimeout: startupTimeout + WORKER_STARTUP_MARGIN,
  };
  writeJsonAtomic(join(runDir, ARTIFACTS.plan), {
    model: req.model.name,
    profile: req.profileName,
    device: devices.device,
    gpus: req.training.gpus,
    nnodes: run.nnodes,
    globalBatch: req.training.globalBatch,
    seqLen: req.training.seqLen,
    precision: req.training.precision,
    // The pricing assumptions a flag changes (--no-grad-overlap, --moe-imbalance), as plan --json
    // writes them: `--plan plan.json` and calibrate price the run with them again.
    overlapGradReduce: req.training.overlapGradReduce,
    ...(req.model.moe !== undefined && req.training.moeImbalance !== undefined ? { moeImbalance: req.training.moeImbalance } : {}),
    // The engine profile the prediction was made with (the worker's: paraplan or paraplan-compile),
    // so that `paraplan calibrate` prices the run with the same software model.
    ...(req.training.engine ? { engine: req.training.engine.name } : {}),
    assumed: req.assumed,
    plans: [planJson(result)],
  });
  writeJsonAtomic(specPath, spec);
  writeFileAtomic(join(runDir, ARTIFACTS.command), commandLine(node, env) + "\n");
  return { chosen, devices, node, spec, runDir, torch, replacedPort: rdzv.replacedPort, portChecked: rdzv.portChecked, startupTimeout };
}

/** The summary of a finished run (measured against predicted), written atomically to the run
 *  directory: shared by `paraplan execute` and the interactive planner. */
export function writeRunSummary(p: Prepared, measured: MeasuredFromWorker, stepEvents: number, timeline: MeasuredTimeline | null = null, teardown?: string): Summary {
  const { req, result } = p.chosen;
  const summary: Summary = buildSummary({
    model: req.model,
    hw: req.hw,
    profile: req.profileName,
    training: req.training,
    result,
    device: p.devices.device,
    runDir: p.runDir,
    steps: stepEvents || measured.loss.length,
    worker: measured,
    cpuShare: { ranks: p.node.perNode, cores: availableParallelism() },
  });
  if (timeline !== null) {
    const t = stepTimeline({ model: req.model, hw: req.hw, training: req.training, plan: summary.plan, measured: timeline });
    writeFileAtomic(join(p.runDir, ARTIFACTS.trace), t.trace);
    summary.timeline = t.summary;
  }
  if (teardown !== undefined) summary.teardown = teardown;
  writeJsonAtomic(join(p.runDir, ARTIFACTS.summary), summary);
  return summary;
}
