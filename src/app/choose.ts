// Which plan to run on the devices present: the best plan `search` finds for them (the plan
// flags fix dimensions as in `paraplan plan`), the --plan file's, or the plan the interactive
// planner shows, checked against them. Bad input is a UserError (exit 2); a plan that needs more
// devices or memory than present is the executor's DoesNotFit (exit 1).
import { CPU_PROFILE, type Devices, profileForGpu } from "../../executor/devices.js";
import { DoesNotFit } from "../../executor/errors.js";
import type { Chosen as RunChoice } from "../../executor/prepare.js";
import { type Plan, type PlanResult, checkTraining, comparePlans, evaluatePlan, executorEngineName, issueText, search } from "../../planner/index.js";
import { type Refusal, workerRefusal } from "../../planner/layout/capabilities.js";
import { worldOf } from "../../planner/layout/groups.js";
import { defaultCompile } from "../../executor/spec.js";
import { eagerReason, modelEagerReason, workerEngineName } from "../../executor/compile-mode.js";
import { checkLayout } from "../../planner/space.js";
import { UserError } from "../errors.js";
import { planFileError } from "../plan-file.js";
import { describePlan, rejections } from "../format/plan-text.js";
import { gib, percent, plural } from "../format/units.js";
import { loadProfile } from "../load.js";
import type { PlanArgs } from "../plan-args.js";
import { type PlanRequest, WORKER_ENGINE, buildRequest, issueLine, onNodesOf, trainingOn } from "../plan-request.js";

/** How many of the best plans to look through for one the worker can run. */
const RUNNABLE_POOL = 50;

/** The plan to run, with the whole request it answers. */
export interface Chosen extends RunChoice {
  req: PlanRequest;
}

export interface ChooseInput {
  args: PlanArgs;
  devices: Devices;
  nnodes: number;
  planFile: Plan | undefined;
  /** The --plan file's path, for errors naming its fields. */
  planPath?: string | undefined;
  /** --print-launch: the command is for other machines, so do not require the devices here. */
  forOtherMachines: boolean;
  /** --compile / --no-compile (undefined: the device's default): the worker's engine profile. */
  compile?: boolean | undefined;
}

function profileName(input: ChooseInput, assumed: string[]): string | undefined {
  const { args, devices } = input;
  if (args.profile !== undefined) return args.profile;
  if (devices.device === "cpu") {
    assumed.push(`profile ${CPU_PROFILE} (CPU ranks; its figures are stated assumptions)`);
    return CPU_PROFILE;
  }
  const gpu = devices.gpus[0];
  if (gpu === undefined) return undefined; // buildRequest's default, noted by it
  const name = profileForGpu(gpu.name, gpu.memory);
  if (name === null) throw new UserError(`no built-in profile matches the GPU "${gpu.name}"; pass --profile NAME|FILE`);
  assumed.push(`profile ${name} for the ${gpu.name} found`);
  return name;
}

/** Total ranks: --gpus, else the plan file's size, else every device present on every node. */
function totalRanks(input: ChooseInput, assumed: string[]): number {
  const { args, devices, nnodes, planFile } = input;
  if (args.gpus !== undefined) return args.gpus;
  if (planFile) return worldOf(planFile);
  const perNode = devices.device === "cpu" ? 1 : devices.present;
  if (perNode === 0) return nnodes; // --print-launch without GPUs here: one per node
  assumed.push(devices.device === "cpu" ? `${plural(nnodes, "CPU rank")}, one per node (--gpus N for more)` : `${plural(perNode, "GPU")} per node found`);
  return perNode * nnodes;
}

/** A launch for other machines (--print-launch) puts `perNode` ranks on each node; no node of
 *  the profile holds more than its node.gpusPerNode GPUs, so more is refused (exit 2) with the
 *  --nnodes that splits them, not priced as one node that does not exist. */
function checkProfileNode(input: ChooseInput, file: string | undefined, total: number, perNode: number, nodeGpus: number, profile: string): void {
  if (perNode <= nodeGpus) return;
  let n = Math.ceil(total / nodeGpus);
  while (total % n !== 0) n++; // the fewest nodes that split the ranks evenly, each within a node
  const ranks = input.planFile && input.args.gpus === undefined ? `${file}: its ${total} ranks` : `--gpus ${total}`;
  const split = input.nnodes > 1 ? `${perNode} on each of --nnodes ${input.nnodes}` : "all on one node";
  throw new UserError(`${ranks}: ${split} is more than the ${nodeGpus} GPUs of a ${profile} node (node.gpusPerNode); pass --nnodes ${n}${input.nnodes > 1 ? "" : " --rdzv-endpoint HOST:PORT"}`);
}

/** What to do when the GPUs a plan needs are not here: the command line's flags, or (the
 *  interactive planner's) what to do on its screens. */
export interface PresentAdvice {
  noGpu: string;
  tooFew: (present: number, nnodes: number) => string;
}

const CLI_ADVICE: PresentAdvice = {
  noGpu: "use --device cpu --gpus N for CPU ranks",
  tooFew: (present, nnodes) => `use --gpus ${present * nnodes} or fewer`,
};

function checkPresent(input: Pick<ChooseInput, "devices" | "forOtherMachines" | "nnodes">, perNode: number, advice: PresentAdvice = CLI_ADVICE): void {
  const { devices } = input;
  if (input.forOtherMachines || devices.device === "cpu") return;
  if (devices.present === 0) throw new DoesNotFit(`no CUDA GPU found on this node (nvidia-smi lists none); ${advice.noGpu}`);
  if (perNode > devices.present)
    throw new DoesNotFit(`the plan needs ${plural(perNode, "GPU")} on this node but ${devices.present} ${devices.present === 1 ? "is" : "are"} present; ${advice.tooFew(devices.present, input.nnodes)}`);
}

/** Limits of the worker's implementation beyond the planner's rules (executor/worker/spec.py):
 *  a pipeline needs at least pp micro-batches, sequence parallel needs tp | seqLen, tensor
 *  parallel splits the MLP evenly, and context parallel runs the all-gather variant (ring on CUDA
 *  only). Null when the worker can run the plan on `device`. */
export function workerLimit(req: PlanRequest, plan: Plan, device: Devices["device"] = "cuda", compile = false): string | null {
  return workerRefused(req, plan, device, compile)?.reason ?? null;
}

function workerRefused(req: PlanRequest, plan: Plan, device: Devices["device"], compile: boolean): Refusal | null {
  const t = req.training;
  return workerRefusal(plan, {
    precision: t.precision, globalBatch: t.globalBatch, seqLen: t.seqLen, ffnHidden: req.model.ffnHidden, gpus: t.gpus, gpusPerNode: req.hw.gpusPerNode,
    experts: req.model.moe?.experts ?? 0, mla: req.model.mla !== undefined, mtpLayers: req.model.mtpLayers ?? 0, qkNormFull: req.model.qkNorm === "full", device, compile,
  });
}

function memoryRefusal(p: PlanResult): string {
  const over = p.memory.total / p.memory.capacity - 1;
  return `${describePlan(p)} needs ${gib(p.memory.total)} per device, ${percent(over)} over the ${gib(p.memory.capacity)} present; add devices, raise recompute or ZeRO`;
}

/** A whole plan given (a --plan file, a plan shown) on the request's hardware: its figures there
 *  (`shown`: already evaluated for exactly this request), or why the worker cannot run it. A
 *  file's (`file`: "--plan PATH") is named by the file and the field at fault. */
function runnable(req: PlanRequest, plan: Plan, file: string | undefined, device: Devices["device"], compile: boolean, shown?: PlanResult): PlanResult {
  const bad = checkLayout(req.model, req.training, req.hw.gpusPerNode, plan, req.hw.fabric?.nvlinkDomain);
  if (bad && file !== undefined) throw planFileError(file, bad.flag, plan, `${bad.message} [${bad.code}]`);
  if (bad) throw new UserError(`${describePlan(plan as PlanResult)}: ${bad.message} [${bad.code}]`);
  const limit = workerRefused(req, plan, device, compile);
  if (limit && file !== undefined) throw planFileError(file, limit.code, plan, limit.reason);
  if (limit) throw new UserError(limit.reason);
  const result = shown ?? evaluatePlan(req.model, req.hw, req.training, plan);
  if (result.memory.total > result.memory.capacity) throw new DoesNotFit(memoryRefusal(result));
  return result;
}

/** A plan flag that would change the engine's settings to something the worker never does: the
 *  prediction would then price another run than the one measured. (--no-grad-overlap stays: the
 *  worker's GradReplicator reduces after the backward where DDP does not fit, tp or pp > 1.) */
function workerOverride(a: ChooseInput["args"]): string | null {
  if (a.attentionGiven && !a.fusedAttention) return "--attention unfused: the worker runs torch's scaled_dot_product_attention (executor/worker/model.py), a fused kernel";
  if (a.gradReduceInBf16) return "--grad-reduce-in-bf16: the worker reduces fp32 gradients (FSDP2 reduce_dtype fp32, executor/worker/fastpaths.py)";
  if (a.optimizerStates === "bf16") return "--optimizer-states bf16: the worker's AdamW keeps fp32 moments (executor/worker/optim.py)";
  return null;
}

/** A request the plans are priced under, and which of its plans it prices as they run: under
 *  --compile, the compiled engine prices the plans the worker compiles and the eager one those it
 *  runs eager (executor/compile-mode.ts eagerReason), so a plan is ranked on the figures of the
 *  software that will run it. */
interface Arm {
  req: PlanRequest;
  prices: (p: Plan) => boolean;
}

/** The arms a search runs: one engine when nothing is compiled or everything is (a fixed pp 1,
 *  cp 1 leaves no plan eager), both where the plan decides. */
function armsFor(reqOn: (engine: string) => PlanRequest, compiled: boolean, model: PlanRequest["model"], fixed: PlanArgs["fixed"]): Arm[] {
  const all = () => true;
  if (!compiled || modelEagerReason(model) !== null) return [{ req: reqOn(executorEngineName(false)), prices: all }];
  if (fixed.pp === 1 && fixed.cp === 1) return [{ req: reqOn(executorEngineName(true)), prices: all }];
  const eager = (p: Plan) => eagerReason(p, model) !== null;
  return [
    { req: reqOn(executorEngineName(true)), prices: (p) => !eager(p) },
    { req: reqOn(executorEngineName(false)), prices: eager },
  ];
}

/** The request a plan runs under: its arm's, with why the worker runs it eager when it was asked
 *  to compile (said in the header beside the engine). */
function ranAs(arm: Arm, plan: Plan, compiled: boolean): PlanRequest {
  const why = compiled ? eagerReason(plan, arm.req.model) : null;
  return why === null ? arm.req : { ...arm.req, assumed: [...arm.req.assumed, `engine paraplan: the worker runs this plan eager though asked to compile (${why})`] };
}

/** The CPU worker runs neither torch's ring context parallel (no CPU sharding strategy in torch
 *  2.13's context_parallel; planner/layout/capabilities.ts workerCpRefusal) nor fp8 (the cpu
 *  profile has no fp8 units; PROTOCOL.md: on CPU everything is fp32): the search and the header's
 *  "searched as it runs" leave them out on CPU ranks. */
function onDevice(req: PlanRequest, device: Devices["device"]): PlanRequest {
  if (device !== "cpu") return req;
  const e = req.training.engine;
  const s = e.supports;
  if (s === undefined) return req;
  const supports = { ...s, contextParallel: s.contextParallel.filter((c) => c !== "ring"), precisions: s.precisions.filter((p) => p !== "fp8") };
  return { ...req, training: { ...req.training, engine: { ...e, supports } } };
}

export function choosePlan(input: ChooseInput): Chosen {
  const assumed: string[] = [];
  const { nnodes, planFile } = input;
  const total = totalRanks(input, assumed);
  const file = planFile ? `--plan ${input.planPath ?? "file"}` : undefined;
  if (total % nnodes !== 0)
    throw new UserError(planFile && input.args.gpus === undefined ? `${file}: its tp·cp·pp·dp = ${total} ranks are not a multiple of --nnodes ${nnodes}` : `--gpus ${total} is not a multiple of --nnodes ${nnodes}`);
  const perNode = total / nnodes;
  if (planFile && worldOf(planFile) > total)
    throw new DoesNotFit(`${file}: the plan needs tp·cp·dp·pp = ${plural(worldOf(planFile), "device")} but ${total} ${total === 1 ? "is" : "are"} present`);
  checkPresent(input, perNode);
  const profile = profileName(input, assumed);
  // Predicted with the engine the worker is (planner/engine.ts executorEngineName), so measured
  // and predicted compare like with like.
  const compiled = input.compile ?? defaultCompile(input.devices.device);
  const engine = executorEngineName(compiled);
  if (input.args.engine !== undefined && input.args.engine !== engine) {
    // The worker's other mode: the flag that runs it.
    const other = input.args.engine === executorEngineName(!compiled) ? `pass ${compiled ? "--no-compile" : "--compile"} to run that mode, or ` : "";
    throw new UserError(`--engine ${input.args.engine}: execute runs paraplan's worker, engine ${engine}; ${other}drop --engine`);
  }
  const unrun = workerOverride(input.args);
  if (unrun) throw new UserError(`${unrun}; drop the flag`);
  const device = input.devices.device;
  const gpu = input.devices.gpus[0];
  const built = new Map<string, PlanRequest>();
  const reqOn = (name: string): PlanRequest => {
    const had = built.get(name);
    if (had) return had;
    const req0 = buildRequest({ ...input.args, gpus: total, profile, fixed: planFile ?? input.args.fixed, ...(file !== undefined ? { fixedFrom: file } : {}) }, { engine: name, from: WORKER_ENGINE });
    if (input.forOtherMachines && device !== "cpu") checkProfileNode(input, file, total, perNode, req0.hw.gpusPerNode, req0.hw.name);
    // The node is what is present, not the profile's: tensor parallel must stay inside it, and
    // the fabric's NVLink domain is that node's (onNodesOf: 2 GPUs of a DGX are no 8-GPU domain).
    const hw = { ...onNodesOf(req0.hw, perNode) };
    if (device === "cuda" && gpu && gpu.memory > 0 && input.args.profile === undefined) hw.memory = gpu.memory;
    const req = onDevice({ ...req0, hw, assumed: [...assumed, ...req0.assumed] }, device);
    built.set(name, req);
    return req;
  };
  const model = reqOn(engine).model;
  if (planFile) {
    const req = ranAs({ req: reqOn(workerEngineName(compiled, planFile, model)), prices: () => true }, planFile, compiled);
    return { req, result: runnable(req, planFile, file, device, compiled), perNode };
  }
  return searchArms(armsFor(reqOn, compiled, model, input.args.fixed), device, compiled, total, perNode);
}

/** The best plan the worker runs, each priced by its arm; else why none runs. */
function searchArms(arms: Arm[], device: Devices["device"], compiled: boolean, total: number, perNode: number): Chosen {
  const runs = (a: Arm) => (p: Plan) => a.prices(p) && workerLimit(a.req, p, device, compiled) === null;
  const pick = (lists: { arm: Arm; plans: PlanResult[] }[]): Chosen | null => {
    const best = lists.flatMap(({ arm, plans }) => plans.filter(runs(arm)).map((result) => ({ arm, result }))).sort((a, b) => comparePlans(a.result, b.result))[0];
    return best ? { req: ranAs(best.arm, best.result, compiled), result: best.result, perNode } : null;
  };
  const found = arms.map((arm) => ({ arm, found: search(arm.req.model, arm.req.hw, arm.req.training, arm.req.fixed, { top: RUNNABLE_POOL }) }));
  const pooled = pick(found.map(({ arm, found: f }) => ({ arm, plans: f.plans })));
  if (pooled) return pooled;
  // None of the best pool runs on the worker (e.g. zero-bubble plans with fewer micro-batches than
  // stages): the best of every feasible plan that does (a bounded space: the search's own).
  if (found.some(({ found: f }) => f.plans.length > 0)) {
    const every = pick(arms.map((arm) => ({ arm, plans: search(arm.req.model, arm.req.hw, arm.req.training, arm.req.fixed, { top: 1, keepAll: true }).all ?? [] })));
    if (every) return every;
  }
  const { arm: first, found: primary } = found[0]!;
  const plans = found.flatMap(({ found: f }) => f.plans);
  if (plans[0]) {
    // Each distinct reason, best plan's first, with the plan it is about: plans of another
    // micro-batch may fail otherwise (QA: three "need at least pp = N micro-batches" read alike).
    const seen = new Set<string>();
    const reasons: string[] = [];
    for (const p of plans.sort(comparePlans)) {
      const r = workerLimit(first.req, p, device, compiled);
      if (r !== null && !seen.has(r)) reasons.push(`${describePlan(p)}: ${r}`), seen.add(r);
    }
    throw new UserError(`the best plans cannot run: ${reasons.slice(0, 3).join("; ")}; fix the dimensions named with their flags (--micro-batch, --pp, --tp, --zero, --schedule, --recompute, --global-batch, …)`);
  }
  if (primary.closest) throw new DoesNotFit(`no plan fits in memory; the closest, ${memoryRefusal(primary.closest)}`);
  throw new DoesNotFit(`no valid configuration for ${plural(total, "device")}: ${rejections(primary).replace(/^rejected: /, "")}`);
}

export interface GivenInput {
  /** The request the plan was found for: model, hardware and training as already loaded. */
  request: PlanRequest;
  plan: PlanResult;
  /** This node's devices: the plan's ranks all run here. */
  devices: Devices;
  /** What to say to do when the GPUs are not here (default: execute's flags). */
  advice?: PresentAdvice | undefined;
}

/** The request as the worker runs it: predicted with the worker's engine (paraplan-compile where
 *  the device compiles by default and the worker compiles `plan`, else paraplan), whichever engine
 *  the plan was found under, so that measured and predicted describe the same software, as
 *  `execute` does. */
function onWorkerEngine(request: PlanRequest, device: Devices["device"], plan: Plan): PlanRequest {
  const compiled = defaultCompile(device);
  const training = trainingOn(request, workerEngineName(compiled, plan, request.model));
  if ("code" in training) throw new UserError(issueLine(training, WORKER_ENGINE));
  const req = training === request.training ? request : { ...request, training, engineFrom: WORKER_ENGINE };
  return ranAs({ req, prices: () => true }, plan, compiled);
}

/** The request on CPU ranks: the cpu profile's figures (stated assumptions) for the same model
 *  and training. */
function onCpuRanks(request: PlanRequest): PlanRequest {
  const hw = loadProfile(CPU_PROFILE);
  const bad = checkTraining(request.model, hw, request.training);
  if (bad) throw new UserError(`${bad.flag}: ${issueText(bad)}`);
  return { ...request, hw, profileName: CPU_PROFILE, assumed: [`profile ${CPU_PROFILE} (CPU ranks; its figures are stated assumptions)`, ...request.assumed] };
}

/**
 * The plan the interactive planner shows, run on this node: one node of tp·cp·dp·pp ranks. Its
 * figures are the ones shown when it runs on the hardware it was planned for; on CPU ranks, or on
 * a node of another size, they are evaluated again for what runs (no search: the plan is fixed).
 */
export function chooseGiven({ request, plan, devices, advice }: GivenInput): Chosen {
  const world = worldOf(plan);
  if (world !== request.training.gpus) throw new UserError(`${describePlan(plan)} needs ${plural(world, "device")}, the setup has ${request.training.gpus}`);
  checkPresent({ devices, forOtherMachines: false, nnodes: 1 }, world, advice);
  const worker = onWorkerEngine(request, devices.device, plan);
  const base = devices.device === "cpu" ? onDevice(onCpuRanks(worker), "cpu") : worker;
  const req = base.hw.gpusPerNode === world ? base : { ...base, hw: onNodesOf(base.hw, world) };
  return { req, result: runnable(req, plan, undefined, devices.device, defaultCompile(devices.device), req === request ? plan : undefined), perNode: world };
}
