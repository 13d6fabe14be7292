// Before a run: the devices on this node, the plan for them (src/app/choose.ts), then the
// executor's preparation (interpreter, rendezvous, run directory). From `paraplan execute`'s
// flags, or from the plan the interactive planner shows: typed, with the model, hardware and
// training it already loaded (no flags, no files read again, no search).
import { type Device, type Devices, type GpuInfo, detectCudaGpus, presentDevices } from "../../executor/devices.js";
import { type PrepareOptions, type Prepared as ExecutorPrepared, type RunSettings, prepare } from "../../executor/prepare.js";
import type { PlanResult } from "../../planner/index.js";
import { worldOf } from "../../planner/layout/groups.js";
import type { ExecuteArgs } from "../execute-args.js";
import { readPlanFile } from "../plan-file.js";
import { planFileArgs } from "../plan-file-settings.js";
import { executorEngineName } from "../../planner/index.js";
import { defaultCompile } from "../../executor/spec.js";
import type { PlanRequest } from "../plan-request.js";
import { type Chosen, type PresentAdvice, chooseGiven, choosePlan } from "./choose.js";
import { chooseDevice } from "./device.js";
import { checkPlanModel, readPlanFor } from "./plan-model.js";
import { loadModel } from "../load.js";

export type Prepared = ExecutorPrepared<Chosen>;

export interface FromArgsOptions extends PrepareOptions {
  /** Override GPU detection (tests). */
  detect?: () => GpuInfo[];
  /** Where the device choice disagrees with this node: one line each (execute: stderr), said
   *  only when the preparation succeeds. */
  say?: (line: string) => void;
}

/** `paraplan execute`: the plan its flags ask for (searched, or the --plan file's). */
export async function prepareFromArgs(given: ExecuteArgs, o: FromArgsOptions = {}): Promise<Prepared> {
  // The --plan file's model (where --model is absent) and training, priced as it was planned
  // (src/plan-file-settings.ts); the hardware is what is present, not the file's profile.
  const args = given.planFile === undefined ? given
    : { ...given, plan: planFileArgs(given.plan, given.planFile, executorEngineName(given.compile ?? defaultCompile(given.device ?? "cuda")), false) };
  const here = args.device === "cpu" ? [] : (o.detect ?? detectCudaGpus)();
  const forOtherMachines = args.printLaunch || args.nnodes > 1;
  const { device, notes } = chooseDevice({ flag: args.device, profile: args.plan.profile, here, forOtherMachines, nnodes: args.nnodes, ranks: args.plan.gpus });
  const devices = presentDevices(device, args.plan.gpus ?? 1, device === "cpu" ? [] : here);
  const planFile = args.planFile === undefined ? undefined : readPlanFile(args.planFile);
  // A plan made for another model is refused before any device or size check.
  const planFor = args.planFile === undefined ? undefined : readPlanFor(args.planFile);
  if (planFor && args.plan.model !== undefined) checkPlanModel(planFor, loadModel(args.plan.model).name);
  const chosen = choosePlan({ args: args.plan, devices, nnodes: args.nnodes, planFile, planPath: args.planFile, forOtherMachines: args.printLaunch, compile: args.compile });
  const { steps, nnodes, nodeRank, endpoint, rdzvId, runDir, printLaunch, compile, startupTimeout } = args;
  const prepared = await prepare(chosen, devices, { steps, nnodes, nodeRank, endpoint, rdzvId, runDir, printLaunch, compile, startupTimeout }, o);
  // The device notes only once the plan stands: a refusal is one line on stderr, not a notice
  // about CUDA or the CPU followed by the error.
  for (const line of notes) o.say?.(line);
  return prepared;
}

/** A plan the interactive planner shows, to run here on `device`. */
export interface ShownPlan {
  /** The request the plan was found for (the session's). */
  request: PlanRequest;
  plan: PlanResult;
  device: Device;
  steps: number;
  /** What to say to do when the GPUs are not here (default: execute's flags). */
  advice?: PresentAdvice | undefined;
}

/** What the executor is handed for a plan shown: the plan on this node's devices (all its ranks
 *  run here) and the run's settings. `gpus`: the GPUs found here. */
export function shownRun(s: ShownPlan, gpus: GpuInfo[]): { chosen: Chosen; devices: Devices; settings: RunSettings } {
  const world = worldOf(s.plan);
  const devices = presentDevices(s.device, world, s.device === "cpu" ? [] : gpus);
  const chosen = chooseGiven({ request: s.request, plan: s.plan, devices, advice: s.advice });
  const settings: RunSettings = { steps: s.steps, nnodes: 1, nodeRank: 0, endpoint: undefined, rdzvId: undefined, runDir: undefined, printLaunch: false };
  return { chosen, devices, settings };
}

export async function prepareShown(s: ShownPlan, gpus: GpuInfo[], o: PrepareOptions = {}): Promise<Prepared> {
  const { chosen, devices, settings } = shownRun(s, gpus);
  return prepare(chosen, devices, settings, o);
}
