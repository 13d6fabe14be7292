// From parsed flags to the planner's inputs, with the defaults made explicit so the output
// can say what it assumed.
import { defaultStageLayers, defaultVirtualStageLayers, splitLabel, stageSplitPhrase, virtualSplitVpps } from "../planner/layout/stages.js";
import { typeSplit } from "../planner/layout/gpt-model-pipe.js";
import { V_SCHEDULES } from "../planner/layout/rules.js";
import {
  type Fixed,
  type Hardware,
  type Engine,
  type ModelSpec,
  type Training,
  type InputIssue,
  checkFixed,
  checkTraining,
  issueText,
  onEngine,
  unsupportedByEngine,
} from "../planner/index.js";
import { UserError } from "./errors.js";
import { planFileError } from "./plan-file.js";
import { DEFAULT_MOE_IMBALANCE } from "../planner/cost/moe-facts.js";
import { CP_MIN_SEQ } from "../planner/cost/context.js";
import { supportsOf } from "../planner/space.js";
import { intraCap } from "../planner/layout/nic-share.js";
import { isPath, loadModel, loadProfile, nodePowerShare } from "./load.js";
import { type CalibrationStanding, calibrationStanding } from "./calibration-standing.js";
import { basename } from "node:path";
import { readBuiltins } from "./builtin-table.js";
import { count } from "./format/units.js";
import { recomputeModulesIssue, resolveEngine } from "./plan-engine.js";
import { DEFAULT_ENGINE, engineAttentionFigure, executorEngineName, gpuGeneration } from "../planner/index.js";
import { modelEagerReasonOf } from "../planner/eager.js";
import { loadBuiltinEngines, loadEngine } from "./load-engine.js";
import type { PlanArgs } from "./plan-args.js";
import { onDomainsOf } from "./domain-slice.js";

export const DEFAULT_PROFILE = "dgx-h100";

export interface PlanRequest {
  model: ModelSpec;
  hw: Hardware;
  profileName: string;
  /** training.engine: the engine predicted with, after --attention / --no-grad-overlap. */
  training: Training & { engine: Engine };
  /** How the engine was chosen: "default", "--engine", or what implied it (an export format, a --from file). */
  engineFrom: string;
  fixed: Fixed;
  /** Human-readable list of the defaults that were applied. */
  assumed: string[];
  /** Where the request stands against the published runs the figures were fitted on. */
  calibration?: CalibrationStanding;
  /** --gpus-per-domain: the GPUs used of each multi-node NVLink domain, of how many (src/domain-slice.ts). */
  domainSlice?: { used: number; of: number };
}

/** The engine an export format, a --from file or execute's worker runs on, used when --engine is
 *  absent: `from` says so in the header, `flag` names it where the engine cannot run the model
 *  (default: `from`). */
export interface ImpliedEngine {
  engine: string;
  from: string;
  flag?: string;
  /** What to do about a model the engine cannot build, where the choice fixes the stack (an export
   *  format runs on its engine only): in place of the hint naming other engines. */
  modelHint?: (model: ModelSpec) => string;
}

/** Bad input that only the GPU count makes bad (a fixed tp that does not divide it, a partial
 *  node): a sweep over counts reports it on that count's row; any other UserError from
 *  buildRequest holds at every count and is refused before sweeping (src/commands/sweep.ts). */
export class GpuCountError extends UserError {
  /** The request as far as it was built (all but the calibration): a sweep names the model,
   *  profile and engine in its header even where no count it swept is valid. */
  constructor(message: string, readonly request?: Omit<PlanRequest, "calibration">) {
    super(message);
  }
}

/** Layout rules (planner/layout/rules.ts) that read the GPU count, and those that read the global
 *  batch, which follows the count where neither the flag nor the model file gives it. */
const COUNT_CODES: ReadonlySet<string> = new Set(["gpus", "partial_node", "tp_gpus", "cp_gpus", "pp_gpus", "dp_gpus", "degrees_divide", "degrees_world"]);
const BATCH_CODES: ReadonlySet<string> = new Set(["batch_dp", "microbatch_global", "microbatch_batch"]);

/** The profile's hardware on nodes of `perNode` GPUs (the interactive planner's GPUs/node): each
 *  tier of the fabric keeps its count of nodes. A DGX's NVLink domain is its node, so 2 GPUs used
 *  of each 8 are 2-GPU domains joined by the network (not one 8-GPU NVLink domain across four
 *  nodes); GB200 NVL72's 18 nodes with 2 GPUs used each are a 36-GPU domain. */
export function onNodesOf(hw: Hardware, perNode: number): Hardware {
  if (perNode === hw.gpusPerNode) return hw;
  // (the profile's tiers nest, each a whole number of nodes: planner/schema/fabric.ts)
  const scaled = (gpus: number) => (gpus / hw.gpusPerNode) * perNode;
  const f = hw.fabric;
  const fabric = f && { ...f, nvlinkDomain: scaled(f.nvlinkDomain), leaf: f.leaf && { ...f.leaf, gpus: scaled(f.leaf.gpus) }, pod: f.pod && { ...f.pod, gpus: scaled(f.pod.gpus) } };
  // An Infinity Fabric mesh's node link is the GPU's links to its peers together (MI300X: 7 of
  // 64 GB/s each way; layout/fabric.ts nodeLink): with fewer GPUs of the node used, each reaches
  // only those, perNode − 1 links (4 of 8 MI300X: 3 · 64 = 192 GB/s, not the 7 links' 448).
  const intra = perNode > 1 && perNode < hw.gpusPerNode ? { ...hw.intra, bandwidth: intraCap(hw, perNode) } : hw.intra;
  // run.nodePower is a whole node's, which the energy divides by node.gpusPerNode (planner/run/
  // figures.ts, --power node): kept whole, 2 GPUs of a 10.2 kW DGX H100 drew 5,100 W each. A node
  // of perNode GPUs draws the per-GPU share of the profile's node, nodePower · perNode / gpusPerNode,
  // as `paraplan profile` writes it for a host of fewer GPUs (src/profile/build.ts). It is also
  // board power × perNode plus the node's non-GPU power (CPUs, NICs, fans, PSU loss) prorated by
  // GPU: (nodePower − gpusPerNode·board)·perNode/gpusPerNode + perNode·board is the same figure.
  const share = nodePowerShare(hw, perNode);
  const run = share === undefined ? hw.run : { ...hw.run, nodePower: share.nodePower };
  const sources = share === undefined ? hw.sources : { ...hw.sources, "run.nodePower": share.source };
  return { ...hw, gpusPerNode: perNode, intra, ...(fabric ? { fabric } : {}), ...(run ? { run } : {}), sources };
}

/** `read`: a model already read from the user's configuration (plan --from an llm-foundry YAML),
 *  in place of --model. */
export function buildRequest(args: PlanArgs, implied?: ImpliedEngine, read?: ModelSpec): PlanRequest {
  if (args.model === undefined && read === undefined) throw new UserError("--model is required: a preset such as gpt3-like, or a .json file");
  const builtins = readBuiltins(); // read once for the model, the profile and the engine
  const model = read ?? loadModel(args.model!, builtins);
  const assumed: string[] = [];
  const profileName = args.profile ?? DEFAULT_PROFILE;
  if (args.profile === undefined) assumed.push(`profile ${DEFAULT_PROFILE} (default)`);
  const loaded = loadProfile(profileName, builtins);
  // (a node size of the caller's, the interactive planner's GPUs/node: checked and planned on it)
  const onNodes = args.gpusPerNode === undefined ? loaded : onNodesOf(loaded, args.gpusPerNode);
  // (--gpus-per-domain: whole nodes of each multi-node NVLink domain, GB200 NVL72's 64 of 72)
  const hw = args.gpusPerDomain === undefined ? onNodes : onDomainsOf(onNodes, args.gpusPerDomain, profileName);
  const domainSlice = args.gpusPerDomain === undefined ? undefined : { used: args.gpusPerDomain, of: onNodes.fabric!.nvlinkDomain };
  // The model file's sequence length, gpus and global batch are defaults only.
  const seqLen = args.seqLen ?? model.defaultSeqLen;
  // A HuggingFace config's default is paraplan's choice, not the file's: said (planner/schema/hf-config.ts).
  if (args.seqLen === undefined && model.defaultSeqLenAssumed !== undefined) assumed.push(model.defaultSeqLenAssumed);
  if (model.defaultsAssumed !== undefined) assumed.push(model.defaultsAssumed);
  // A learned position table has one row per position it trains: a longer sequence cannot run.
  if (model.positional === "learned" && model.positionTable !== undefined && seqLen > model.positionTable)
    throw new UserError(`${args.valuesFrom?.["--seq"] ?? `--seq ${seqLen}`}: ${model.name} has a learned position table of ${model.positionTable} rows (max_position_embeddings / n_positions): it cannot train longer sequences`);
  let gpus = args.gpus;
  if (gpus === undefined) {
    gpus = model.gpus ?? hw.gpusPerNode;
    assumed.push(model.gpus !== undefined ? `${gpus} GPU${gpus > 1 ? "s" : ""} from the ${model.name} model file` : `${gpus} GPUs (one node)`);
  }
  let globalBatch = args.globalBatch;
  if (globalBatch === undefined) {
    globalBatch = model.globalBatch ?? gpus;
    assumed.push(
      model.globalBatch !== undefined
        ? `global batch ${globalBatch} from the ${model.name} model file`
        : `global batch ${globalBatch} (one sequence per GPU)`,
    );
  }
  const { engine, from: engineFrom } = resolveEngine(args, implied, builtins);
  recomputeModulesIssue(args, engine, model);
  const training: Training & { engine: Engine } = onEngine({ gpus, globalBatch, seqLen, precision: args.precision,
    fusedAttention: true,
    overlapGradReduce: true,
    ...(args.moeImbalance !== undefined ? { moeImbalance: args.moeImbalance } : {}),
    ...(args.optimizerStates !== undefined ? { optimizerStates: args.optimizerStates } : {}),
  }, engine);
  // Mixture of experts: the load imbalance assumed, said when it is the default; given for a dense
  // model it would change nothing, which the user should hear rather than guess.
  if (model.moe === undefined && args.moeImbalance !== undefined) {
    const file = args.valuesFrom?.["--moe-imbalance"];
    throw new UserError(file ? `${file}: ${model.name} is a dense model (no experts); pass the --model the configuration trains` : `--moe-imbalance: ${model.name} is a dense model (no experts); drop the flag`);
  }
  if (model.moe !== undefined && args.moeImbalance === undefined) assumed.push(`expert load imbalance ${DEFAULT_MOE_IMBALANCE} (busiest expert rank over the mean; --moe-imbalance)`);
  // A measured or user-written profile's attention figure gives way to the engine's kernel figure
  // for this GPU (cost/engine-terms.ts attentionEfficiency: the kernel is the stack's, the profiler
  // times torch's SDPA): said, since the user measured or wrote one (QA: the file's figure went
  // unused unsaid; a hand-written 0.9 and 0.1 priced alike under fsdp).
  const ownFile = isPath(profileName);
  const kernelFigure = (hw.measured || ownFile) && training.fusedAttention ? engineAttentionFigure(engine, gpuGeneration(hw)) : undefined;
  if (kernelFigure !== undefined && Math.abs(kernelFigure - hw.attentionEfficiency) > 1e-9)
    assumed.push(`attention at engine ${engine.name}'s kernel figure for ${gpuGeneration(hw)} (${+kernelFigure.toFixed(3)}), not the profile's ${hw.measured ? "measured " : ""}${+hw.attentionEfficiency.toFixed(3)} (the engine's figure is its own kernel's${hw.measured ? "; the profiler times torch's SDPA" : ""})`);
  // A fixed pp that does not divide the layers gets the default uneven split (layout/stages.ts),
  // said among the assumptions; with virtual stages it stays refused (rule pp_layers). With vpp
  // left to the search, the split is left open where the stack splits virtual stages too: the
  // search tries one stage a rank and each v with a split of its own (layout/stages.ts
  // defaultSplits), as it does for a searched pp.
  // (--recompute-num-layers caps full recompute's depth in every plan searched: Plan.recomputeLayers)
  const fixed = evenListAsNone({ ...args.fixed, ...(args.recomputeLayers !== undefined ? { recomputeLayers: args.recomputeLayers } : {}) }, model.layers);
  const how = supportsOf(engine).stageSplit;
  const vpp = fixed.vpp ?? 1;
  // (the V schedules run even stages only: no default split for them, rule v_schedule_layers says why)
  const vSchedule = fixed.schedule !== undefined && V_SCHEDULES.has(fixed.schedule);
  const split = fixed.pp !== undefined && fixed.stageLayers === undefined && !vSchedule
    ? vpp === 1 ? defaultStageLayers(model.layers, fixed.pp, how) : defaultVirtualStageLayers(model.layers, fixed.pp, vpp, how)
    : undefined;
  const virtual = split && fixed.vpp === undefined ? searchedVirtualVpps(model.layers, fixed.pp!, fixed.schedule, engine) : [];
  if (split) {
    if (virtual.length === 0) fixed.stageLayers = split;
    const accounted = `the embedding and the loss counted as a layer each, as Megatron-Core's --account-for-embedding/loss-in-pipeline-split`;
    assumed.push(virtual.length > 0 && fixed.schedule === "interleaved"
      ? `stage layers with vpp ${virtual.join(" or ")} (pp ${fixed.pp} does not divide ${model.layers} layers: ${accounted}; --stage-layers)`
      : vpp === 1
      ? `stage layers ${split.join(",")} (pp ${fixed.pp} does not divide ${model.layers} layers: ${stageSplitPhrase(how)}${virtual.length > 0 ? `; with vpp ${virtual.join(" or ")}, ${accounted}` : ""}; --stage-layers)`
      : `stage layers ${splitLabel(split)} (pp ${fixed.pp} · vpp ${vpp} does not divide ${model.layers} layers: ${accounted}; --stage-layers)`);
  } else if (args.fixedFrom === undefined && args.valuesFrom?.["--pp"] === undefined && !vSchedule) noSplitWhy(fixed, model.layers, engine);
  // --cp-comm / --cp-split for the search's cp where the search tries none would change nothing
  // (space.ts cpCandidates): said, as --cp 2 there is refused, rather than ignored.
  if (fixed.cp === undefined && (fixed.cpComm !== undefined || fixed.cpSplit !== undefined)) {
    const flag = fixed.cpComm !== undefined ? `--cp-comm ${fixed.cpComm}` : `--cp-split ${fixed.cpSplit}`;
    const why = model.moe !== undefined
      ? `${model.name} is a mixture of experts, which paraplan plans without context parallel`
      : supportsOf(engine).contextParallel.length === 0
        ? `engine ${engine.name} has no context parallel`
        : seqLen < CP_MIN_SEQ
          ? `context parallel is searched from ${count(CP_MIN_SEQ)} tokens, and the sequence is ${count(seqLen)} (--cp N fixes it)`
          : model.slidingWindow !== undefined && fixed.cpComm !== undefined && !supportsOf(engine).contextParallelWindow.includes(fixed.cpComm)
            ? `engine ${engine.name} runs no ${fixed.cpComm} context parallel with ${model.name}'s sliding window (${engine.sources["supports.contextParallelWindow"] ?? "supports.contextParallelWindow"}), so the search tries cp 1 only there`
            : null;
    if (why !== null) throw new UserError(`${flag}: ${why}; the flag would change nothing, drop it`);
  }
  // --tp-comm-overlap beside a fixed --tp 1: no tensor-parallel communication to hide.
  if (args.tpCommOverlap && fixed.tp === 1 && args.valuesFrom?.["--tp-comm-overlap"] === undefined)
    throw new UserError("--tp-comm-overlap: --tp 1 has no tensor-parallel communication to hide; the flag would change nothing, drop it");
  const overlapNote = unmeasuredOverlap(hw, training.engine);
  if (overlapNote !== null) assumed.push(overlapNote);
  const badTraining = checkTraining(model, hw, training, loadBuiltinEngines);
  const batchFollowsCount = args.globalBatch === undefined && model.globalBatch === undefined;
  const countBound = (i: InputIssue) => COUNT_CODES.has(i.code) || (batchFollowsCount && BATCH_CODES.has(i.code));
  // What the engine cannot run holds at every GPU count: said before a layout rule that only this
  // count breaks (a fixed --tp 16 on 8 GPUs under an engine without tensor parallel).
  // (a split left open to the search is checked as its one stage a rank, or under an interleaved
  // schedule, which needs virtual stages, as its first v's accounted split)
  const asChecked = virtual.length === 0 ? fixed : fixed.schedule === "interleaved" ? { ...fixed, vpp: virtual[0]!, stageLayers: defaultVirtualStageLayers(model.layers, fixed.pp!, virtual[0]!, how) } : { ...fixed, stageLayers: split };
  const layoutIssue = badTraining ? null : checkFixed(model, training, asChecked);
  const badFixed = layoutIssue && countBound(layoutIssue) ? (unsupportedByEngine(fixed, training.engine, training.precision) ?? layoutIssue) : layoutIssue;
  // A plan file's dimension is named as the file's field, not a flag the user did not give; what
  // the engine cannot run is changed in the file (or by another engine where the user can pick one).
  if (badFixed && args.fixedFrom !== undefined) {
    const other = implied?.from === WORKER_ENGINE ? "execute runs paraplan's worker" : `change the file or pick another ${args.engine === undefined && implied ? implied.from.split(" ")[0] : "--engine"}`;
    throw planFileError(args.fixedFrom, badFixed.flag, fixed, badFixed.code === "engine_unsupported" ? `${badFixed.message}; ${other}` : issueText(badFixed));
  }
  const issue = badTraining ?? badFixed;
  const bad = issue?.flag === "--engine" && issue.hint !== undefined && implied?.modelHint ? { ...issue, hint: implied.modelHint(model) } : issue;
  // A value a --from file gave is named where the file states it, not as a flag the user did not give.
  // (so is the model file's "gpus" where --gpus was not given: "--gpus: 12 is not a whole number
  // of …'s 8-GPU nodes" named a flag the user never typed; QA)
  const modelGpus = args.gpus === undefined && model.gpus !== undefined && read === undefined ? `${args.model}: field "gpus" (--gpus overrides it)` : undefined;
  const fileSetting = bad ? (args.valuesFrom?.[bad.flag] ?? (bad.flag === "--gpus" ? modelGpus : undefined)) : undefined;
  if (bad && fileSetting !== undefined) throw new UserError(`${fileSetting}: ${issueText(bad)}`);
  // pp came from --stage-layers' length: the flag the user gave is named.
  // (under an interleaved schedule without --vpp, the --vpp values that make a pp that fits are said)
  const vppHint = args.ppFromStageLayers && args.fixed.vpp === undefined && fixed.schedule === "interleaved" ? `; ${stageListVpps(args.fixed.stageLayers!.length, gpus, fixed)}` : "";
  // (one only the GPU count makes bad is that count's row in a sweep, as --pp's is)
  if (bad?.flag === "--pp" && args.ppFromStageLayers) {
    const line = `--stage-layers: ${args.fixed.stageLayers!.length} ${(fixed.vpp ?? 1) > 1 ? `virtual stages over --vpp ${fixed.vpp}` : "stages"} make pp ${fixed.pp}: ${issueText(bad)}${vppHint}`;
    throw countBound(bad) ? new GpuCountError(line, { model, hw, profileName, training, engineFrom, fixed, assumed }) : new UserError(line);
  }
  // execute's worker is the engine whether or not --engine named it (it takes its own name only).
  if (bad) {
    const by = implied?.from === WORKER_ENGINE ? WORKER_ENGINE : args.engine === undefined ? (implied?.flag ?? implied?.from) : undefined;
    // (an export format that launches paraplan's worker: --script launches another trainer)
    const workerFormat = by !== WORKER_ENGINE && implied !== undefined && WORKER_ENGINES.has(implied.engine);
    const script = `${implied?.from} launches paraplan's worker: give --script to launch a trainer of your own`;
    const line = !workerFormat || (bad.code !== "engine_unsupported" && bad.code !== "moe_tp" && bad.code !== "qk_norm_tp") ? issueLine(bad, by) : bad.flag === "--engine" ? `${implied!.from}: ${bad.message}; ${script}` : `${issueLine(bad, by)}; ${script}`;
    // (an interleaved schedule over a --stage-layers list without --vpp: the --vpp values it allows)
    const hint = bad.code === "schedule_vpp" || bad.code === "degrees_divide" ? vppHint : "";
    throw countBound(bad) ? new GpuCountError(line + hint, { model, hw, profileName, training, engineFrom, fixed, assumed }) : new UserError(line + hint);
  }
  // (a model the engine runs eager whatever the plan is priced, and stands, on its eager engine:
  // planner/eager.ts)
  const eagerAll = training.engine.eager !== undefined && modelEagerReasonOf(training.engine.eager.when, model) !== null;
  const engineArg = eagerAll ? training.engine.eager!.name : (args.engine ?? implied?.engine ?? DEFAULT_ENGINE);
  const calibration = calibrationStanding({
    engine: isPath(engineArg) ? basename(engineArg) : engineArg,
    engineIsFile: isPath(engineArg),
    profile: isPath(profileName) ? basename(profileName) : profileName,
    profileIsFile: isPath(profileName) || profileName === "local",
    model,
    training,
  });
  return { model, hw, profileName, training, engineFrom, fixed, assumed, calibration, ...(domainSlice ? { domainSlice } : {}) };
}

/** The tensor-parallel overlap's figure was fitted on NVIDIA H100 runs (TE userbuffers, async TP:
 *  profiles/engines tensorParallel.commOverlap); on an AMD part nothing measures it, and Transformer
 *  Engine's userbuffers reached ROCm's fork only in 2026 (ROCm/TransformerEngine pull request #367,
 *  "Userbuffer epic"). Said (plan's assumptions, export's notes), rather than priced as if known;
 *  null where the overlap is off or the GPU is not AMD's. */
export function unmeasuredOverlap(hw: Hardware, engine: Engine | undefined): string | null {
  const generation = gpuGeneration(hw);
  const o = engine?.tensorParallel.overlap ?? 0;
  if (o === 0 || !generation.startsWith("MI")) return null;
  const te = engine!.name.startsWith("megatron") ? ", where Transformer Engine's userbuffers arrived only in 2026 (ROCm/TransformerEngine #367)" : "";
  return `tensor-parallel overlap on ${generation} at engine ${engine!.name}'s figure (${+o.toFixed(3)} of the collectives hidden), fitted on NVIDIA H100 runs: unmeasured on ROCm${te}`;
}

/** What chose the engine when the user did not (an export's `--format megatron`, a `--from`
 *  file): an issue with the engine is named by it. execute's worker is no choice at all: the
 *  model is what does not run. */
export const WORKER_ENGINE = "execute's worker";

/** The engines that are paraplan's worker (planner/engine.ts executorEngineName). */
const WORKER_ENGINES = new Set([executorEngineName(false), executorEngineName(true)]);

/** The request's training on the built-in engine `name` (the request's own where it already runs
 *  on it), or what that engine cannot do with the model (checkTraining): for a run predicted with
 *  another stack than the plan was found under (execute's worker, an export's format). */
export function trainingOn(req: PlanRequest, name: string): PlanRequest["training"] | InputIssue {
  if (req.training.engine.name === name) return req.training;
  const training = onEngine(req.training, loadEngine(name));
  return checkTraining(req.model, req.hw, training, loadBuiltinEngines) ?? training;
}

export function issueLine(bad: InputIssue, impliedBy: string | undefined): string {
  // A fixed dimension the worker does not run: there is no other engine to pick under execute.
  if (impliedBy === WORKER_ENGINE && bad.code === "engine_unsupported" && bad.flag !== "--engine")
    return `${bad.flag}: ${bad.message}; execute runs paraplan's worker: leave ${bad.flag} to the search`;
  if (bad.flag !== "--engine" || impliedBy === undefined) return `${bad.flag}: ${issueText(bad)}`;
  if (impliedBy === WORKER_ENGINE) return `--model: ${bad.message}; execute runs paraplan's worker`;
  return `${impliedBy}: ${issueText(bad)}`;
}

/** The v ≥ 2 the search tries beside one stage a rank for a fixed pp that does not divide the
 *  layers: those the stack splits virtual stages for (layout/stages.ts virtualSplitVpps), where the
 *  engine runs a looped schedule with virtual stages (interleaved or zb1p: a V runs an even split)
 *  and no other schedule is asked for. */
function searchedVirtualVpps(layers: number, pp: number, schedule: Fixed["schedule"], engine: Engine): number[] {
  const looped = (["interleaved", "zb1p"] as const).filter((s) => engine.schedules.includes(s) && (schedule === undefined || schedule === s));
  return looped.length > 0 ? virtualSplitVpps(layers, pp, supportsOf(engine).stageSplit) : [];
}

/** An even split given as a list is no list at all (README "Uneven stages"): --stage-layers with
 *  one count per stage (per virtual stage with --vpp), all L/(p·v), is the split every engine makes
 *  of p·v dividing the layers, so it is checked, searched and priced as if not given — the
 *  schedules and the worker that run even stages only take it. The list's vpp stays: one stage a
 *  rank where --vpp is not given (space.ts vppCandidates gives a list its own vpp). */
function evenListAsNone(fixed: Fixed, layers: number): Fixed {
  const list = fixed.stageLayers;
  if (list === undefined || fixed.pp === undefined) return fixed;
  const vpp = fixed.vpp ?? 1;
  if (list.length !== fixed.pp * vpp || list.some((n) => n * list.length !== layers)) return fixed;
  const { stageLayers: _even, ...rest } = fixed;
  return { ...rest, vpp };
}

/** A --pp that does not divide the layers and gets no split from the engine (layout/stages.ts
 *  defaultStageLayers): exit 2 saying why the engine's stack has none, beside the layout rule's
 *  "does not divide" (rule pp_layers, which stays for every other path). */
function noSplitWhy(fixed: Fixed, layers: number, engine: Engine): void {
  const pp = fixed.pp;
  const vpp = fixed.vpp ?? 1;
  const how = supportsOf(engine).stageSplit;
  if (pp !== undefined && fixed.stageLayers === undefined && vpp > 1 && pp >= 2 && layers % (pp * vpp) !== 0) {
    // virtual stages: Megatron-Core's accounted split where p·v divides L + 2 (layout/stages.ts)
    const n = pp * vpp;
    const vpps = virtualSplitVpps(layers, pp, how);
    const others = vpps.length > 0 ? `; with pp ${pp}, --vpp ${vpps.join(" or ")} gives one` : "";
    throw new UserError(how === "first-last"
      ? `--vpp: pp ${pp} · vpp ${vpp} = ${n} virtual stages do not divide the ${layers} layers, and Megatron-Core's uneven split of virtual stages (the embedding and the loss counted as a layer each) needs (${layers} + 2)/${n} to be a whole number of at least 2 layers a stage${others}, or give --stage-layers with ${n} counts`
      : `--vpp: pp ${pp} · vpp ${vpp} = ${n} virtual stages do not divide the ${layers} layers, and engine ${engine.name} has no default uneven split of virtual stages; give --stage-layers with ${n} counts, or a pp and vpp whose product divides ${layers}`);
  }
  if (pp === undefined || fixed.stageLayers !== undefined || vpp !== 1 || pp < 2 || pp > layers || layers % pp === 0) return;
  if (how === "even") throw new UserError(`--pp: ${pp} does not divide the ${layers} layers, and engine ${engine.name} runs even pipeline stages only`);
  if (how === "first-heavy") {
    const split = typeSplit(layers, pp, 0) ?? []; // the engine's own split, a stage of it empty (≤ 0.12.4's rule is never null)
    const empty = split.flatMap((n, k) => (n === 0 ? [k] : []));
    throw new UserError(
      `--pp: ${pp} does not divide the ${layers} layers, and engine ${engine.name} splits them as DeepSpeed ≤ 0.12.4 does, ${split.join(",")}, which leaves stage${empty.length > 1 ? "s" : ""} ${empty.join(", ")} without a layer; pick a --pp that divides ${layers}, or, for DeepSpeed 0.12.5 and later, an engine file that extends ${engine.name} with supports.stageSplit "min-spread"`,
    );
  }
}

/** The --vpp values an n-count --stage-layers list allows (QA: "interleaved needs vpp > 1" named
 *  none): v > 1 dividing n, whose pp = n / v is a pipeline (> 1, rule vpp_needs_pp) and divides the
 *  GPUs with the other fixed degrees (rules pp_gpus, degrees_divide). */
export function stageListVpps(n: number, gpus: number, fixed: { tp?: number; cp?: number; dp?: number }): string {
  const others = (fixed.tp ?? 1) * (fixed.cp ?? 1) * (fixed.dp ?? 1);
  const ok: string[] = [];
  for (let v = 2; v <= n / 2; v++) if (n % v === 0 && gpus % ((n / v) * others) === 0) ok.push(`--vpp ${v} (pp ${n / v})`);
  const list = ok.length <= 1 ? (ok[0] ?? "") : `${ok.slice(0, -1).join(", ")} or ${ok.at(-1)!}`;
  return ok.length > 0
    ? `--stage-layers' ${n} counts are pp·vpp virtual stages with ${list}`
    : `no --vpp fits --stage-layers' ${n} counts: pp = ${n} / vpp must be above 1 and divide the ${gpus} GPUs${others > 1 ? ` with tp·cp·dp = ${others}` : ""}`;
}
