// Everything before torchrun starts: the devices present, the plan, the interpreter, the
// rendezvous, and the run directory with plan.json, launch.json and command.txt.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { packageRoot } from "../src/load.js";
import { planJson } from "../src/format/plan-json.js";
import type { ExecuteArgs } from "./args.js";
import { type Chosen, DoesNotFit, choosePlan } from "./choose.js";
import { type Devices, detectCudaGpus, presentDevices } from "./devices.js";
import { type NodeLaunch, chooseRendezvous, commandLine } from "./launch.js";
import { readPlanFile } from "./plan-file.js";
import { PythonMissing, checkPython, pythonPath } from "./python.js";
import { ARTIFACTS, createRunDir, writeFileAtomic, writeJsonAtomic } from "./run-dir.js";
import { type LaunchSpec, buildSpec, faultInjectionFromEnv } from "./spec.js";
import type { MeasuredFromWorker } from "./events.js";
import { stepTimeline } from "./step-timeline.js";
import { type Summary, buildSummary } from "./summary.js";
import type { MeasuredTimeline } from "./timeline.js";

export interface Prepared {
  chosen: Chosen;
  devices: Devices;
  node: NodeLaunch;
  spec: LaunchSpec;
  runDir: string;
  /** torch's version, when the interpreter was checked. */
  torch: string | null;
  /** The rendezvous port asked for, when it was busy and replaced. */
  replacedPort: number | null;
}

export interface PrepareOptions {
  env?: NodeJS.ProcessEnv;
  /** Override GPU detection (tests). */
  detect?: () => ReturnType<typeof detectCudaGpus>;
}

export async function prepare(args: ExecuteArgs, o: PrepareOptions = {}): Promise<Prepared> {
  const env = o.env ?? process.env;
  const root = packageRoot();
  const gpus = args.device === "cpu" ? [] : (o.detect ?? detectCudaGpus)();
  const devices = presentDevices(args.device, args.plan.gpus ?? 1, gpus);
  const planFile = args.planFile === undefined ? undefined : readPlanFile(args.planFile);
  const chosen = choosePlan({ args: args.plan, devices, nnodes: args.nnodes, planFile, forOtherMachines: args.printLaunch });
  const python = pythonPath(root, env);
  let torch: string | null = null;
  if (!args.printLaunch) {
    const info = checkPython(python, env, devices.device === "cuda");
    torch = info.torch;
    if (devices.device === "cuda" && info.cudaDevices < chosen.perNode)
      throw new DoesNotFit(`torch ${info.torch} at ${python} sees ${info.cudaDevices} CUDA device(s) but the plan needs ${chosen.perNode} on this node`);
    if (!existsSync(join(root, "executor", "worker", "__main__.py")))
      throw new PythonMissing(`the Python worker is missing: no executor/worker/__main__.py in ${root}`);
  }
  const rdzv = await chooseRendezvous(args.endpoint, args.nnodes);
  const { req, result } = chosen;
  const runDir = createRunDir({
    ...(args.runDir !== undefined ? { exact: args.runDir } : {}),
    model: req.model.name,
    suffix: args.nnodes > 1 ? `-node${args.nodeRank}` : "",
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
    steps: args.steps,
    faultInjection: faultInjectionFromEnv(env),
  });
  const node: NodeLaunch = {
    python,
    root,
    specPath,
    device: devices.device,
    nnodes: args.nnodes,
    nodeRank: args.nodeRank,
    perNode: chosen.perNode,
    endpoint: rdzv.endpoint,
    rdzvId: args.rdzvId ?? (args.nnodes > 1 ? "paraplan" : basename(runDir)),
  };
  writeJsonAtomic(join(runDir, ARTIFACTS.plan), {
    model: req.model.name,
    profile: req.profileName,
    device: devices.device,
    gpus: req.training.gpus,
    nnodes: args.nnodes,
    globalBatch: req.training.globalBatch,
    seqLen: req.training.seqLen,
    precision: req.training.precision,
    assumed: req.assumed,
    plans: [planJson(result)],
  });
  writeJsonAtomic(specPath, spec);
  writeFileAtomic(join(runDir, ARTIFACTS.command), commandLine(node, env) + "\n");
  return { chosen, devices, node, spec, runDir, torch, replacedPort: rdzv.replacedPort };
}

/** The summary of a finished run (measured against predicted), written atomically to the run
 *  directory: shared by `paraplan execute` and the interactive planner. */
export function writeRunSummary(p: Prepared, measured: MeasuredFromWorker, stepEvents: number, timeline: MeasuredTimeline | null = null): Summary {
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
  });
  if (timeline !== null) {
    const t = stepTimeline({ model: req.model, hw: req.hw, training: req.training, plan: summary.plan, measured: timeline });
    writeFileAtomic(join(p.runDir, ARTIFACTS.trace), t.trace);
    summary.timeline = t.summary;
  }
  writeJsonAtomic(join(p.runDir, ARTIFACTS.summary), summary);
  return summary;
}
