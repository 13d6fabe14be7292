// Flags of `paraplan plan` (shared later by execute and export): parsed and validated into
// the planner's inputs, or a one-line UserError naming the flag.
import type { Fixed, MoeDispatcher, Precision, Recompute, Schedule, SharedExpertOverlap, StageSplit, ZeroStage } from "../planner/index.js";
import { type RecomputeModule, RECOMPUTE_MODULES, UNPRICED_RECOMPUTE_MODULES } from "../planner/recompute-modules.js";
import { SCHEDULES } from "../planner/schema/plan.js";
import { parseStageLayers } from "../planner/layout/stages.js";
import { CP_COMMS, CP_SPLITS, type CpComm, type CpSplit } from "../planner/types.js";
import { UserError } from "./errors.js";
import { MAX, int, oneOf, parseFlags } from "./flags.js";
import { spelledBuiltin } from "./builtin-names.js";
import { didYouMean } from "./suggest.js";

export { MAX, int } from "./flags.js";

export const PLAN_OPTIONS = {
  model: { type: "string" },
  gpus: { type: "string" },
  "gpus-per-domain": { type: "string" },
  profile: { type: "string" },
  "global-batch": { type: "string" },
  seq: { type: "string" },
  precision: { type: "string" },
  attention: { type: "string" },
  engine: { type: "string" },
  tp: { type: "string" },
  pp: { type: "string" },
  dp: { type: "string" },
  vpp: { type: "string" },
  "stage-layers": { type: "string" },
  cp: { type: "string" },
  "cp-comm": { type: "string" },
  "cp-split": { type: "string" },
  ep: { type: "string" },
  etp: { type: "string" },
  "moe-imbalance": { type: "string" },
  "optimizer-states": { type: "string" },
  zero: { type: "string" },
  "micro-batch": { type: "string" },
  recompute: { type: "string" },
  "recompute-modules": { type: "string" },
  "recompute-num-layers": { type: "string" },
  schedule: { type: "string" },
  "sequence-parallel": { type: "boolean" },
  "no-sequence-parallel": { type: "boolean" },
  "no-grad-overlap": { type: "boolean" },
  "tp-comm-overlap": { type: "boolean" },
  "grad-reduce-in-bf16": { type: "boolean" },
  "grad-reduce-in-fp32": { type: "boolean" },
  top: { type: "string" },
  json: { type: "boolean" },
  timeline: { type: "boolean" },
  "trace-out": { type: "string" },
  "simulate-top": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** plan's output flags: what it prints beside the ranked plans (export and execute, which share
 *  plan's flags, have no such output and refuse them). */
export const PLAN_OUTPUT_FLAGS = ["top", "timeline", "trace-out", "simulate-top"] as const;

export interface PlanArgs {
  model: string | undefined;
  profile: string | undefined;
  gpus: number | undefined;
  /** GPUs per node where not the profile's (the interactive planner's GPUs/node; no flag): the
   *  GPU count is whole nodes of this size, and the plans are priced on them. */
  gpusPerNode?: number | undefined;
  /** --gpus-per-domain: GPUs used of each multi-node NVLink domain (src/domain-slice.ts). */
  gpusPerDomain?: number | undefined;
  globalBatch: number | undefined;
  seqLen: number | undefined;
  precision: Precision;
  /** --precision was given (precision is bf16 without it): a --plan file's is then checked against it. */
  precisionGiven?: boolean;
  fusedAttention: boolean;
  overlapGradReduce: boolean;
  /** --engine NAME|FILE (undefined: the default, or an export format's engine). */
  engine?: string | undefined;
  /** pp is the length of --stage-layers (no --pp given): an issue with it names --stage-layers. */
  ppFromStageLayers?: boolean;
  /** Whether fusedAttention / overlapGradReduce override the engine's settings (--attention,
   *  --no-grad-overlap given, or a --from file's setting). */
  attentionGiven?: boolean;
  gradOverlapGiven?: boolean;
  /** --tp-comm-overlap: switch on the engine's tensor-parallel overlap (Engine.tensorParallel). */
  tpCommOverlap?: boolean;
  /** The weights' gather beside the next forward, as a --from file states it (no flag of its own);
   *  undefined: the engine's. */
  overlapParamGather?: boolean | undefined;
  /** The experts' dispatcher as a --from file states it (Megatron's flex dispatcher with
   *  --moe-enable-deepep; Engine.moe.dispatcher; no flag of its own); undefined: the engine's. */
  moeDispatcher?: MoeDispatcher | undefined;
  /** --overlap-moe-expert-parallel-comm as a --from file states it (Engine.moe.overlap). */
  moeOverlap?: { sms: number | null } | undefined;
  /** The shared experts beside the all-to-alls as a --from file states it (Engine.moe.sharedExpertOverlap). */
  moeSharedOverlap?: SharedExpertOverlap | undefined;
  /** --recompute-modules a,b (or a --from file's): what the engine's selective recompute re-runs
   *  (Engine.recomputeModules, Megatron's names); undefined: the engine's. */
  recomputeModules?: readonly RecomputeModule[] | undefined;
  /** --recompute-num-layers N: full recompute re-runs the first N layers of each model chunk
   *  (Plan.recomputeLayers; every layer of a chunk of N or fewer); undefined: the search's depth.
   *  Not a fixed dimension: beside --from it prices the file's full recompute at that depth. */
  recomputeLayers?: number | undefined;
  /** Bytes per logit the last pipeline stage keeps of every micro-batch, as the configuration's
   *  release runs (Engine.keptOutputBytes; no flag of its own); undefined: the engine's. */
  keptOutputBytes?: number | undefined;
  /** Gradient bucket of the data-parallel reduction, bytes, as a --from file states it (DeepSpeed's
   *  reduce_bucket_size; Engine.dataParallel.bucketSize; no flag of its own); undefined: the engine's. */
  bucketBytes?: number | undefined;
  /** ZeRO-3's reuse distance, elements, as a --from file states it (DeepSpeed's
   *  stage3_max_reuse_distance; Engine.dataParallel.maxReuseDistance; no flag of its own);
   *  undefined: the engine's. */
  maxReuseDistance?: number | undefined;
  /** ZeRO-1's gradients all-reduced whole, as a --from file states it (DeepSpeed's reduce_scatter
   *  false; Engine.dataParallel.zero1AllReduce; no flag of its own); undefined: the engine's. */
  zero1AllReduce?: boolean | undefined;
  /** How the export's release splits the stages where pp does not divide the layers
   *  (EngineSupports.stageSplit; no flag of its own); undefined: the engine's. */
  stageSplit?: StageSplit | undefined;
  /** --grad-reduce-in-bf16: 16-bit gradients on the wire where the engine reduces in fp32. */
  gradReduceInBf16?: boolean;
  /** --grad-reduce-in-fp32: fp32 gradients on the wire where the engine reduces 16-bit ones
   *  (Megatron's --accumulate-allreduce-grads-in-fp32, FSDP's reduce_dtype fp32). */
  gradReduceInFp32?: boolean;
  /** Busiest expert rank's load over the mean (--moe-imbalance); undefined: the default. */
  moeImbalance?: number | undefined;
  /** Adam's moments in fp32 (default) or bf16 (--optimizer-states). */
  optimizerStates?: "fp32" | "bf16" | undefined;
  fixed: Fixed;
  /** Where `fixed` came from when not the flags: "--plan FILE" (errors then name its fields). */
  fixedFrom?: string | undefined;
  /** Where a request value came from when not the command line (plan --from): its flag → the
   *  file's setting, `run.sh: --fp8-format hybrid (line 4)`; errors about it name that. */
  valuesFrom?: Partial<Record<string, string>> | undefined;
  top: number;
  json: boolean;
  /** Print the best plan's simulated step as a Gantt chart. */
  timeline?: boolean;
  /** Write the best plan's simulated step as a Chrome trace to this file. */
  traceOut?: string | undefined;
  /** How many of the closed form's best plans to re-rank by simulation (0: none). */
  simulateTop?: number;
  help: boolean;
}

/** The busiest expert rank's load over the mean: a number from 1 to 64 (64: every token of a
 *  64-way group on one rank, beyond any router that balances). */
export const MAX_MOE_IMBALANCE = 64;
function imbalance(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Decimal digits as the integer flags read them (flags.ts int): not 0x10, +8 or 1e1, which
  // Number() took.
  const t = value.trim();
  const v = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v) || v < 1 || v > MAX_MOE_IMBALANCE)
    throw new UserError(`--moe-imbalance: "${value}" must be a number from 1 (perfect balance) to ${MAX_MOE_IMBALANCE}`);
  return v;
}

/** --recompute-modules a,b,…: Megatron-Core's modules (planner/recompute-modules.ts), in
 *  RECOMPUTE_MODULES' order, each once; "moe" is refused with why paraplan does not price it, and
 *  the list beside --recompute none or full, which re-run no module by name (Megatron reads the list
 *  only under selective recompute): exit 2 rather than a flag that changes nothing. Whether the
 *  engine and model have the modules is plan-engine.ts recomputeModulesIssue's. */
function recomputeModulesFlag(value: string | undefined, recompute: Recompute | undefined): RecomputeModule[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(",").map((x) => x.trim().toLowerCase());
  const allowed = RECOMPUTE_MODULES.join(", ");
  // (what to do: QA found "mlp," told "--recompute none recomputes nothing", and "mlp moe_act" no
  // spelling at all)
  const named = names.filter((x) => x !== "");
  if (named.length < names.length)
    throw new UserError(`--recompute-modules: "${value}" is not a comma-separated list of modules (${allowed}); ${named.length > 0 ? `drop the empty item: --recompute-modules ${named.join(",")}` : "--recompute none recomputes nothing"}`);
  for (const x of names) {
    if (Object.hasOwn(UNPRICED_RECOMPUTE_MODULES, x)) throw new UserError(`--recompute-modules: ${x} ${UNPRICED_RECOMPUTE_MODULES[x]}`);
    const words = x.split(/[\s;]+/);
    const separated = words.length > 1 && words.every((w) => (RECOMPUTE_MODULES as readonly string[]).includes(w)) ? `; separate the modules by commas: --recompute-modules ${words.join(",")}` : "";
    if (!(RECOMPUTE_MODULES as readonly string[]).includes(x)) throw new UserError(`--recompute-modules: "${x}" is not one of ${allowed}${separated || didYouMean(x, RECOMPUTE_MODULES)}`);
  }
  if (recompute === "none" || recompute === "full")
    throw new UserError(`--recompute-modules: --recompute ${recompute} ${recompute === "full" ? "re-runs every layer whole" : "re-runs nothing"}, so the modules (selective recompute's) would change nothing; drop one`);
  return RECOMPUTE_MODULES.filter((x) => names.includes(x));
}

/** The most layers --recompute-num-layers takes (the engine field's bound, planner/schema/engine.ts). */
const MAX_BLOCK_LAYERS = 100_000;

/** --recompute-num-layers N: Megatron-Core's --recompute-method block count, the first N layers of
 *  each model chunk re-run under full recompute (Plan.recomputeLayers). Beside --recompute
 *  none or selective it changes nothing: exit 2. Whether the engine runs it is plan-engine.ts's. */
function recomputeBlockFlag(value: string | undefined, recompute: Recompute | undefined): number | undefined {
  const n = int("recompute-num-layers", value, 1, MAX_BLOCK_LAYERS);
  if (n !== undefined && (recompute === "none" || recompute === "selective"))
    throw new UserError(`--recompute-num-layers: --recompute ${recompute} ${recompute === "none" ? "re-runs nothing" : "re-runs modules, not layers"}, and the count says which layers of each chunk full recompute re-runs, so it would change nothing; drop one`);
  return n;
}

/** --stage-layers a,b,…: the layers of each pipeline stage (uneven stages, planner/layout/stages.ts).
 *  It fixes pp to its length (its length / vpp with --vpp) when --pp is not given; whether the
 *  counts fit the model (one per stage, none empty, summing to its layers) the layout rules say
 *  (rules.ts stage_layers_*), once the model is known. */
function stageLayersFlag(fixed: Fixed, value: string | undefined): boolean {
  if (value === undefined) return false;
  const split = parseStageLayers(value);
  if (split === null) throw new UserError(`--stage-layers: "${value}" is not a comma-separated list of layer counts (e.g. 7,9,9,7)`);
  if (split.length > MAX.gpus) throw new UserError(`--stage-layers: ${split.length} stages is more than ${MAX.gpus}`);
  fixed.stageLayers = split;
  // With --vpp v the list holds p·v virtual stages (rank r: r, r + p, …).
  const vpp = fixed.vpp ?? 1;
  if (fixed.pp !== undefined) return false;
  // A length that --vpp does not divide makes no pp (QA: 9 counts with --vpp 2 were "9 stages
  // make pp 9: 9 does not divide the 16 GPUs", as if --vpp had not been given).
  if (split.length % vpp !== 0)
    throw new UserError(`--stage-layers: ${split.length} counts with --vpp ${vpp}: the list gives the pp·vpp virtual stages, so its length must be a multiple of ${vpp}`);
  fixed.pp = split.length / vpp;
  return true;
}

/** Parse argv (after the command name). Unknown flags and stray words are errors; `alsoKnown`:
 *  flags taken out of argv before (plan's run flags), offered where one was mistyped. */
export function parsePlanArgs(argv: string[], alsoKnown: readonly string[] = []): PlanArgs {
  const { values } = parseFlags(argv, PLAN_OPTIONS, "plan", false, alsoKnown);
  const s = (k: string) => values[k] as string | undefined;
  // Any whole number above 3 is not a stage, however large (9007199254740993 said "too large").
  const zs = s("zero");
  if (zs !== undefined && /^\d+$/.test(zs.trim()) && !/^0*[0-3]$/.test(zs.trim())) throw new UserError(`--zero: "${zs.trim()}" is not one of 0, 1, 2, 3`);
  const zero = int("zero", zs, 0, 3);
  if (values["sequence-parallel"] && values["no-sequence-parallel"])
    throw new UserError("--sequence-parallel and --no-sequence-parallel contradict each other; give one");
  // Megatron's TP communication overlap runs on the sequence-parallel layout (its --tp-comm-overlap
  // asserts --sequence-parallel): switching SP off would silently leave tp 1 the only fit.
  if (values["tp-comm-overlap"] && values["no-sequence-parallel"])
    throw new UserError("--tp-comm-overlap and --no-sequence-parallel contradict each other (the overlap needs sequence parallel); give one");
  const sp = values["sequence-parallel"] ? true : values["no-sequence-parallel"] ? false : undefined;
  const schedule = oneOf<Schedule>("schedule", s("schedule"), SCHEDULES);
  const fixed: Fixed = {};
  const put = <K extends keyof Fixed>(k: K, v: Fixed[K] | undefined) => {
    if (v !== undefined) fixed[k] = v;
  };
  put("tp", int("tp", s("tp"), 1, MAX.gpus));
  put("pp", int("pp", s("pp"), 1, MAX.gpus));
  put("dp", int("dp", s("dp"), 1, MAX.gpus));
  put("vpp", int("vpp", s("vpp"), 1, MAX.gpus));
  put("cp", int("cp", s("cp"), 1, MAX.gpus));
  // The cp exchange and split (planner/types.ts CpComm, CpSplit); meaningless without cp > 1.
  put("cpComm", oneOf<CpComm>("cp-comm", s("cp-comm"), CP_COMMS));
  put("cpSplit", oneOf<CpSplit>("cp-split", s("cp-split"), CP_SPLITS));
  if ((fixed.cpComm !== undefined || fixed.cpSplit !== undefined) && fixed.cp === 1)
    throw new UserError(`--${fixed.cpComm !== undefined ? "cp-comm" : "cp-split"}: needs context parallel (--cp above 1, or --cp left to the search)`);
  put("ep", int("ep", s("ep"), 1, MAX.gpus));
  put("etp", int("etp", s("etp"), 1, MAX.gpus));
  put("zero", zero as ZeroStage | undefined);
  put("microBatch", int("micro-batch", s("micro-batch"), 1, MAX.batch));
  put("recompute", oneOf<Recompute>("recompute", s("recompute"), ["none", "selective", "full"]));
  put("sequenceParallel", sp);
  put("schedule", schedule);
  const ppFromStageLayers = stageLayersFlag(fixed, s("stage-layers"));
  const attention = oneOf("attention", s("attention"), ["fused", "unfused"] as const);
  return {
    // A built-in named in another case is that built-in, for every comparison after (export's
    // format against its engine, the calibration's published runs).
    model: spelledBuiltin(s("model"), "models"),
    profile: spelledBuiltin(s("profile"), "hardware"),
    gpus: int("gpus", s("gpus"), 1, MAX.gpus),
    gpusPerDomain: int("gpus-per-domain", s("gpus-per-domain"), 1, MAX.gpus),
    globalBatch: int("global-batch", s("global-batch"), 1, MAX.batch),
    seqLen: int("seq", s("seq"), 1, MAX.seq),
    precision: oneOf<Precision>("precision", s("precision"), ["bf16", "fp16", "fp8"]) ?? "bf16",
    ...(s("precision") !== undefined ? { precisionGiven: true } : {}),
    fusedAttention: attention !== "unfused",
    overlapGradReduce: values["no-grad-overlap"] !== true,
    engine: spelledBuiltin(s("engine"), "engines"),
    ...(ppFromStageLayers ? { ppFromStageLayers } : {}),
    attentionGiven: attention !== undefined,
    gradOverlapGiven: values["no-grad-overlap"] === true,
    tpCommOverlap: values["tp-comm-overlap"] === true,
    gradReduceInBf16: values["grad-reduce-in-bf16"] === true,
    gradReduceInFp32: values["grad-reduce-in-fp32"] === true,
    moeImbalance: imbalance(s("moe-imbalance")),
    recomputeModules: recomputeModulesFlag(s("recompute-modules"), fixed.recompute),
    recomputeLayers: recomputeBlockFlag(s("recompute-num-layers"), fixed.recompute),
    optimizerStates: oneOf("optimizer-states", s("optimizer-states"), ["fp32", "bf16"] as const),
    fixed,
    top: int("top", s("top"), 1, MAX.top) ?? 10,
    json: values.json === true,
    timeline: values.timeline === true,
    traceOut: s("trace-out"),
    simulateTop: int("simulate-top", s("simulate-top"), 0, MAX.simulateTop) ?? 20,
    help: values.help === true,
  };
}

/** The plan flags given, as the fields they fix (--recompute-num-layers as recomputeLayers): what
 *  a --plan file, which fixes every dimension, contradicts. */
export const planFlagsGiven = (args: Pick<PlanArgs, "fixed" | "recomputeLayers">): string[] =>
  [...Object.keys(args.fixed), ...(args.recomputeLayers !== undefined ? ["recomputeLayers"] : [])];
