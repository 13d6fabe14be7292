// `paraplan plan --from FILE …`: a user's engine configuration read into a plan, evaluated with the
// request's model, hardware and training (the configuration's batch sizes, sequence length and
// precision override the defaults), and shown beside the best plan `search` finds, with the
// predicted gain and what changed, dimension by dimension. Both are predicted with the engine the
// file belongs to (planner/engine.ts FORMAT_ENGINES), unless --engine names another.
import { atDepth } from "../../planner/cost/block-recompute.js";
import { FORMAT_ENGINES, type ModelSpec, type Plan, checkLayout, evaluatePlan, moeEngineIssue, search, unsupportedByEngine } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { searchJson } from "../format/plan-json.js";
import type { Io } from "../io.js";
import { loadModel, loadProfile } from "../load.js";
import { parsePlanArgs } from "../plan-args.js";
import { DEFAULT_PROFILE, buildRequest, issueLine } from "../plan-request.js";
import { loadBuiltinEngines, loadEngine } from "../load-engine.js";
import { comparisonJson, comparisonText } from "./compare-report.js";
import { describe } from "./engine-plan.js";
import { foundryModel } from "./foundry-model.js";
import { readConfigs } from "./read-back.js";
import type { BalanceStated } from "./deepspeed-partition.js";
import { titanPreset } from "./read-torchtitan.js";
import { type ConfigReading, loadConfigFile } from "./read-config.js";
import { type SettingAt, named, settingOf } from "./setting-at.js";

/** Pre-parse of --from (repeatable): the paths and the remaining plan flags, or null without it. */
export function takeFrom(argv: string[]): { paths: string[]; rest: string[] } | null {
  const paths: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--from") {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new UserError("--from needs a file: a Megatron-LM arguments file, a ds_config.json or a torchtitan file");
      paths.push(v);
      i++;
    } else if (a.startsWith("--from=")) paths.push(a.slice(7));
    else rest.push(a);
  }
  return paths.length > 0 ? { paths, rest } : null;
}

const given = (argv: string[], flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));

/** The command line's value or the file's, which must agree; `says`: what the file states where
 *  it gives the value through another setting (a forced balance is imbalance 1). */
function agree<T>(flag: string, explicit: T | undefined, fromConfig: T | undefined, origin: string, says?: string): T | undefined {
  if (explicit !== undefined && fromConfig !== undefined && explicit !== fromConfig)
    throw new UserError(`${flag} ${String(explicit)} but ${says ?? `${origin} has ${String(fromConfig)}`}; drop the flag or change the file`);
  return explicit ?? fromConfig;
}

/** --recompute-num-layers N beside a --from file: the count re-runs the first N layers of each
 *  chunk under full recompute, so beside a file that runs none or selective recompute it changes
 *  nothing, and beside one stating another block count it contradicts it (exit 2 either way);
 *  beside a file's full recompute of every layer it prices the first N of each chunk instead (the
 *  plan read at that depth; every layer where N reaches the largest chunk's). */
function depthBesideFile(n: number | undefined, reading: Pick<ConfigReading, "plan" | "at">, origin: string, layers: number): Plan {
  const plan = reading.plan;
  if (n === undefined) return plan;
  const where = reading.at?.recompute !== undefined ? named(reading.at.recompute) : origin;
  if (plan.recompute !== "full")
    throw new UserError(`--recompute-num-layers ${n}: ${where} runs ${plan.recompute === "none" ? "no recompute" : "selective recompute"}, and the count says which layers full recompute re-runs, so it would change nothing; drop the flag or change the file`);
  const stated = plan.recomputeLayers;
  if (stated !== undefined && stated !== n)
    throw new UserError(`--recompute-num-layers ${n} but ${reading.at?.recomputeLayers !== undefined ? named(reading.at.recomputeLayers) : `${origin} has ${stated}`} (--recompute-method block); drop the flag or change the file`);
  return atDepth(plan, n, layers);
}

/** The model a configuration states on its own: an llm-foundry YAML's mpt_causal_lm section, or
 *  the preset a torchtitan job's flavor builds (titan-flavors.ts). */
function modelOfConfig(paths: string[]): ModelSpec {
  const file = paths.length === 1 ? loadConfigFile(paths[0]!) : undefined;
  const kind = file?.kind;
  const preset = file && (kind === "torchtitan-toml" || kind === "torchtitan-overrides") ? titanPreset(file) : null;
  const model = preset !== null ? loadModel(preset) : file && kind === "llm-foundry" ? foundryModel(file) : null;
  if (model === null) throw new UserError("--model is required with --from: the model the configuration trains (a preset or a .json file; an llm-foundry YAML with an mpt_causal_lm model and a torchtitan job naming a flavor of a preset, as llama3's 8B or qwen3's 30B-A3B, state their own)");
  return model;
}

/** The DeepSpeed version an --engine file states by its stage split (not the stock
 *  megatron-deepspeed, which is no other version than the files': export treats it so). */
function deepspeedBalanceOf(engine: string | undefined): { deepspeedBalance?: BalanceStated } {
  if (engine === undefined || engine === FORMAT_ENGINES.deepspeed) return {};
  const split = loadEngine(engine).supports.stageSplit;
  return split === "first-heavy" || split === "min-spread" ? { deepspeedBalance: { balance: split, says: `--engine ${engine} states (supports.stageSplit "${split}")` } } : {};
}

export function runPlanFrom(paths: string[], argv: string[], io: Io, usage: string): number {
  const args = parsePlanArgs(argv);
  if (args.help) {
    io.out(usage);
    return 0;
  }
  const clash = Object.keys(args.fixed);
  if (clash.length > 0) throw new UserError(`--from fixes every plan dimension; drop the plan flags (${clash.join(", ")})`);
  // Without --model, the file's own model (modelOfConfig): an llm-foundry MPT section, a torchtitan flavor.
  const read = args.model === undefined ? modelOfConfig(paths) : undefined;
  const loaded = read ?? loadModel(args.model!);
  const hw0 = loadProfile(args.profile ?? DEFAULT_PROFILE);
  const reading = readConfigs(paths, {
    model: loaded,
    gpus: args.gpus,
    defaultGpus: loaded.gpus ?? hw0.gpusPerNode,
    defaultGpusFrom: loaded.gpus !== undefined ? `the ${loaded.name} model file` : "one node",
    ...(args.globalBatch !== undefined ? { globalBatch: args.globalBatch } : {}),
    // The engine that would price the file's experts refusing them all, as the request below would
    // (issueLine: named by --from where the file chose the engine).
    ...deepspeedBalanceOf(args.engine),
    moeRefusal: (format) => {
      const bad = moeEngineIssue(loaded, loadEngine(args.engine ?? FORMAT_ENGINES[format]), loadBuiltinEngines);
      return bad ? issueLine(bad, args.engine === undefined ? "--from" : undefined) : null;
    },
  });
  const origin = reading.sources.join(" + ");
  // A stack that overlaps the reduction whatever the flags say is not priced without it.
  if (given(argv, "--no-grad-overlap") && reading.overlapForcedBy !== undefined)
    throw new UserError(`--no-grad-overlap: ${reading.overlapForcedBy}; drop the flag`);
  // The request's values the file gave (none the user overrode on the command line): named there.
  const at = reading.at ?? {};
  const valuesFrom: Record<string, string> = {};
  const from = (flag: string, s: SettingAt | undefined, overridden: boolean) => {
    if (s !== undefined && !overridden) valuesFrom[flag] = named(s);
  };
  from("--precision", at.precision, given(argv, "--precision"));
  from("--seq", at.seqLen, args.seqLen !== undefined);
  from("--global-batch", at.globalBatch, args.globalBatch !== undefined);
  from("--moe-imbalance", at.moeImbalance, args.moeImbalance !== undefined);
  from("--recompute-modules", reading.recomputeModules !== undefined ? at.recomputeModules : undefined, args.recomputeModules !== undefined);
  // (the flag beside a file stating other modules contradicts it; either alone gives them)
  agree("--recompute-modules", args.recomputeModules?.join(","), reading.recomputeModules?.join(","), origin);
  if (reading.gpusFrom !== "--gpus") valuesFrom["--gpus"] = reading.gpusFrom;
  const req = buildRequest({
    ...args,
    gpus: reading.gpus,
    globalBatch: agree("--global-batch", args.globalBatch, reading.globalBatch, origin),
    seqLen: agree("--seq", args.seqLen, reading.seqLen, origin),
    precision: given(argv, "--precision") ? agree("--precision", args.precision, reading.precision, origin)! : reading.precision ?? args.precision,
    fusedAttention: given(argv, "--attention") ? args.fusedAttention : reading.fusedAttention ?? args.fusedAttention,
    overlapGradReduce: given(argv, "--no-grad-overlap") ? false : reading.overlapGradReduce ?? args.overlapGradReduce,
    attentionGiven: given(argv, "--attention") || reading.fusedAttention !== undefined,
    gradOverlapGiven: given(argv, "--no-grad-overlap") || reading.overlapGradReduce !== undefined,
    tpCommOverlap: args.tpCommOverlap === true || reading.tpCommOverlap === true,
    overlapParamGather: reading.overlapParamGather,
    moeDispatcher: reading.moeDispatcher,
    moeOverlap: reading.moeOverlap,
    moeSharedOverlap: reading.moeSharedOverlap,
    recomputeModules: args.recomputeModules ?? reading.recomputeModules,
    keptOutputBytes: reading.keptOutputBytes,
    // (a split the file's own header states prices the search too, as export prices that release,
    // unless an --engine file states the user's stack instead)
    stageSplit: args.engine === undefined || args.engine === FORMAT_ENGINES[reading.engine] ? reading.stageSplit : undefined,
    bucketBytes: reading.bucketBytes,
    maxReuseDistance: reading.maxReuseDistance,
    zero1AllReduce: reading.zero1AllReduce,
    gradReduceInBf16: args.gradReduceInFp32 !== true && (args.gradReduceInBf16 === true || reading.gradReduceInBf16 === true),
    gradReduceInFp32: args.gradReduceInBf16 !== true && (args.gradReduceInFp32 === true || reading.gradReduceInFp32 === true),
    optimizerStates: given(argv, "--optimizer-states") ? agree("--optimizer-states", args.optimizerStates, reading.optimizerStates, origin) : reading.optimizerStates ?? args.optimizerStates,
    // (a file gives the imbalance only by forcing the routing's balance: Megatron's
    // --moe-router-force-load-balancing, torchtitan's moe_force_load_balance)
    moeImbalance: agree("--moe-imbalance", args.moeImbalance, reading.moeImbalance, origin, at.moeImbalance && `${named(at.moeImbalance)} forces balanced routing (priced at imbalance ${reading.moeImbalance})`),
    fixed: {},
    valuesFrom,
  }, { engine: reading.engineName ?? FORMAT_ENGINES[reading.engine], from: `${reading.engine} configuration`, flag: "--from" }, read);
  const plan = depthBesideFile(args.recomputeLayers, reading, origin, req.model.layers);
  // A layout rule or the stack refusing the plan read: named by the setting the file states for the
  // rule's dimension (its flag's, setting-at.ts), with the plan read.
  const refused = (flag: string, message: string, code: string) => {
    const s = settingOf(at, flag);
    return new UserError(`${s ? named(s) : origin}: ${message} (the plan read: ${describe(plan)}) [${code}]`);
  };
  const bad = checkLayout(req.model, req.training, req.hw.gpusPerNode, plan, req.hw.fabric?.nvlinkDomain);
  if (bad) throw refused(bad.flag, bad.message, bad.code);
  // What the file's own stack cannot run (Megatron asserts pipeline_model_parallel_size == 1 under
  // --use-torch-fsdp2): refused as its engine's profile says, not priced. With dp·cp = 1 a ZeRO
  // stage shards nothing and is not checked.
  const unrun = unsupportedByEngine({ ...plan, zero: plan.dp * plan.cp > 1 ? plan.zero : undefined }, req.training.engine, req.training.precision);
  if (unrun) throw refused(unrun.flag, unrun.message, unrun.code);
  for (const w of reading.warnings) io.err(`paraplan: warning: ${w}`);
  const current = evaluatePlan(req.model, req.hw, req.training, plan);
  const started = performance.now();
  const result = search(req.model, req.hw, req.training, {}, { top: args.top });
  const elapsedMs = performance.now() - started;
  // (what the file leaves unsaid and the command line did not give: a ds_config's attention kernel)
  // A file that states no sequence (a ds_config) beside a config.json whose length paraplan chose:
  // one assumption, said once with where the length came from (QA: it was said twice).
  const unsaidOf = (reading.assumed ?? []).filter((a) => !given(argv, a.flag));
  const modelSeq = req.model.defaultSeqLenAssumed;
  const seqOnce = modelSeq !== undefined && req.assumed.includes(modelSeq) && unsaidOf.some((a) => a.flag === "--seq");
  const seqFrom = seqOnce ? modelSeq.replace(/ \(--seq to change\)$/, "") : undefined;
  const unsaid = unsaidOf.map((a) => a.text(req.training, seqFrom));
  const assumed = [...(reading.gpusFrom === "--gpus" ? [] : [`${reading.gpus} GPUs from ${reading.gpusFrom}`]), ...unsaid, ...req.assumed.filter((a) => !seqOnce || a !== modelSeq)];
  const fullReq = { ...req, assumed };
  if (args.json) io.out(JSON.stringify({ ...searchJson(fullReq, result, elapsedMs), from: comparisonJson(reading, current, result.plans[0] ?? null) }, null, 2));
  else io.out(comparisonText(fullReq, reading, current, result, elapsedMs));
  return result.plans.length > 0 ? 0 : 1;
}
