// The training a --plan file was planned for: `plan --json`'s output (its model.seqLen,
// globalBatch, precision, fusedAttention, overlapGradReduce, gradReduceBytes, tpCommOverlap,
// moeImbalance, optimizerStates, recomputeModules, engine and cluster.profile; an earlier paraplan's recomputeBlockLayers is refused), a run directory's plan.json (seqLen,
// globalBatch, precision, engine, profile, overlapGradReduce, moeImbalance) or a launch spec
// (training.seqLen / globalBatch / precision, and the `prediction` settings the worker does not
// read — profile, overlapGradReduce, moeImbalance: executor/PROTOCOL.md). export and execute predict with them, not with the model's
// defaults: a layout planned for 131,072 tokens is not priced at 8,192. A flag that contradicts
// one is bad input (exit 2) naming the flag and the file's value; a bare plan entry records none.
// Each field is checked by the schema calibrate reads the same files with (./plan-file-fields.ts).
import { DEFAULT_MOE_IMBALANCE } from "../planner/cost/moe-facts.js";
import { type Engine, type Precision, type RecomputeModule, RECOMPUTE_MODULES, fusedAttentionOf, gradReduceBytes, recomputeModulesRefusal } from "../planner/index.js";
import type { PlanArgs } from "./plan-args.js";
import { type RecordedKey, recordedField } from "./plan-file-fields.js";
import { UserError } from "./errors.js";
import { loadEngine } from "./load-engine.js";
import { readPlanJson } from "./plan-file.js";
import { builtinNames, isPath } from "./builtin-names.js";
import { planFileModel } from "./app/plan-model.js";
import { packageRoot } from "../executor/root.js";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** A value the file records, with where (its field). */
export interface Recorded<T> {
  value: T;
  field: string;
  /** The words for it where no field holds it (a launch spec's attention, its worker's). */
  said?: string;
}

export interface PlanFileSettings {
  path: string;
  seqLen?: Recorded<number>;
  globalBatch?: Recorded<number>;
  precision?: Recorded<Precision>;
  fusedAttention?: Recorded<boolean>;
  overlapGradReduce?: Recorded<boolean>;
  /** Bytes per gradient element the data-parallel reduction moved (plan --json gradReduceBytes). */
  gradReduceBytes?: Recorded<number>;
  tpCommOverlap?: Recorded<boolean>;
  moeImbalance?: Recorded<number>;
  optimizerStates?: Recorded<"fp32" | "bf16">;
  recomputeModules?: Recorded<RecomputeModule[]>;
  recomputeBlockLayers?: Recorded<number>;
  /** The engine profile the file's figures were predicted with. */
  engine?: Recorded<string>;
  /** The hardware profile (plan --json cluster.profile, plan.json profile). */
  profile?: Recorded<string>;
}

/** The settings `raw` (the file at `path`) records; a recorded value of the wrong kind is named. */
export function planFileSettings(raw: unknown, path: string): PlanFileSettings {
  const out: PlanFileSettings = { path };
  if (!isObj(raw)) return out;
  // Each field through the schema every reader of these files shares (./plan-file-fields.ts).
  const take = <K extends RecordedKey & Exclude<keyof PlanFileSettings, "path">>(key: K, obj: unknown, field: string) => {
    if (!isObj(obj) || obj[field.split(".").pop()!] === undefined || out[key] !== undefined) return;
    const v = obj[field.split(".").pop()!];
    const r = recordedField(key, v);
    if ("message" in r) throw new UserError(`--plan ${path}: field "${field}": ${JSON.stringify(v)} ${r.message}; fix the file`);
    out[key] = { value: r.value, field } as PlanFileSettings[K];
  };
  const launch = isObj(raw.plan) && isObj(raw.training) && isObj(raw.model);
  if (launch) {
    // A launch spec: its training, and what the prediction was made with (PROTOCOL.md `prediction`).
    take("seqLen", raw.training, "training.seqLen");
    take("globalBatch", raw.training, "training.globalBatch");
    take("precision", raw.training, "training.precision");
    const p = raw.prediction;
    take("overlapGradReduce", p, "prediction.overlapGradReduce");
    take("moeImbalance", p, "prediction.moeImbalance");
    take("profile", p, "prediction.profile");
    // (no field: its worker runs torch's F.scaled_dot_product_attention, a fused kernel,
    // executor/worker/model.py Attention.forward)
    out.fusedAttention = { value: true, field: "fusedAttention", said: "paraplan's worker's fused attention (F.scaled_dot_product_attention, executor/worker/model.py)" };
    return out;
  }
  if (!Array.isArray(raw.plans)) return out; // a bare plan entry: no training recorded
  take("seqLen", raw, "seqLen");
  take("seqLen", raw.model, "model.seqLen");
  take("globalBatch", raw, "globalBatch");
  take("precision", raw, "precision");
  take("fusedAttention", raw, "fusedAttention");
  take("overlapGradReduce", raw, "overlapGradReduce");
  take("gradReduceBytes", raw, "gradReduceBytes");
  take("tpCommOverlap", raw, "tpCommOverlap");
  take("moeImbalance", raw, "moeImbalance");
  take("optimizerStates", raw, "optimizerStates");
  take("recomputeModules", raw, "recomputeModules");
  take("recomputeBlockLayers", raw, "recomputeBlockLayers");
  take("engine", raw, "engine");
  take("profile", raw, "profile");
  take("profile", raw.cluster, "cluster.profile");
  return out;
}

/** The engine the file's engine-dependent settings (attention, gradient overlap and type) are
 *  measured against: the file's own where it names a built-in (a plan --json made under
 *  megatron-deepspeed records its overlap off, which is that engine's default, not a
 *  --no-grad-overlap), else the one the request predicts with. */
function baseEngine(s: PlanFileSettings, requestEngine: string): Engine {
  try {
    return loadEngine(s.engine?.value ?? requestEngine);
  } catch {
    return loadEngine(requestEngine);
  }
}

/** `args` with the file's settings: each one the command line does not give is taken from the
 *  file (errors about it then name the file's field); one it gives otherwise is exit 2. The
 *  profile is taken only where `withProfile` (export; execute prices the hardware present). */
export function withPlanFileSettings(args: PlanArgs, s: PlanFileSettings, requestEngine: string, withProfile: boolean): PlanArgs {
  const origin = `--plan ${s.path}`;
  const said = (r: Recorded<unknown>) => r.said ?? `${r.field} ${JSON.stringify(r.value)}`;
  const from = (r: Recorded<unknown>) => `${origin}: ${said(r)}`;
  const clash = (flag: string, r: Recorded<unknown>) =>
    new UserError(`${flag} contradicts ${origin}, which was planned with ${said(r)}; drop ${flag.split(" ")[0]} (the file's is used), or plan again with ${flag}`);
  const out: PlanArgs = { ...args, valuesFrom: { ...args.valuesFrom } };
  const vf = out.valuesFrom!;
  if (s.seqLen) {
    if (args.seqLen !== undefined && args.seqLen !== s.seqLen.value) throw clash(`--seq ${args.seqLen}`, s.seqLen);
    out.seqLen = s.seqLen.value;
    vf["--seq"] = from(s.seqLen);
  }
  if (s.globalBatch) {
    if (args.globalBatch !== undefined && args.globalBatch !== s.globalBatch.value) throw clash(`--global-batch ${args.globalBatch}`, s.globalBatch);
    out.globalBatch = s.globalBatch.value;
    vf["--global-batch"] = from(s.globalBatch);
  }
  if (s.precision) {
    if (args.precisionGiven && args.precision !== s.precision.value) throw clash(`--precision ${args.precision}`, s.precision);
    out.precision = s.precision.value;
    vf["--precision"] = from(s.precision);
  }
  if (s.moeImbalance) {
    if (args.moeImbalance !== undefined && args.moeImbalance !== s.moeImbalance.value) throw clash(`--moe-imbalance ${args.moeImbalance}`, s.moeImbalance);
    // (the default left implicit: buildRequest then says it among its assumptions)
    if (s.moeImbalance.value !== DEFAULT_MOE_IMBALANCE || args.moeImbalance !== undefined) out.moeImbalance = s.moeImbalance.value;
    vf["--moe-imbalance"] = from(s.moeImbalance);
  }
  if (s.optimizerStates) {
    if (args.optimizerStates !== undefined && args.optimizerStates !== s.optimizerStates.value) throw clash(`--optimizer-states ${args.optimizerStates}`, s.optimizerStates);
    if (s.optimizerStates.value !== "fp32" || args.optimizerStates !== undefined) out.optimizerStates = s.optimizerStates.value;
    vf["--optimizer-states"] = from(s.optimizerStates);
  }
  if (s.profile && withProfile) {
    // (a file the plan named by a path: the same file by another path is no contradiction, and
    // one given where the file's path cannot be found here stands for it)
    const found = foundProfile(s.profile.value, s.path);
    const same = args.profile === s.profile.value || (args.profile !== undefined && isPath(args.profile) && isPath(s.profile.value) && (found === null || resolve(found) === resolve(args.profile)));
    if (args.profile !== undefined && !same) throw clash(`--profile ${args.profile}`, s.profile);
    if (args.profile === undefined && found === null) throw new UserError(`--plan ${s.path}: ${s.profile.field} "${s.profile.value}" cannot be read here or beside the plan file; pass --profile with the file`);
    out.profile = args.profile ?? found!;
    vf["--profile"] = from(s.profile);
  }
  if (s.tpCommOverlap?.value === true) {
    out.tpCommOverlap = true;
    vf["--tp-comm-overlap"] = from(s.tpCommOverlap);
  }
  else if (s.tpCommOverlap === undefined && s.overlapGradReduce?.field === "overlapGradReduce" && args.tpCommOverlap)
    // (plan --json writes tpCommOverlap only where it was on)
    throw clash("--tp-comm-overlap", { field: "tpCommOverlap", value: false });
  // Engine-dependent settings: an override where the file's value is not its engine's default.
  const base = baseEngine(s, requestEngine);
  // The modules selective recompute re-ran (plan --json writes them where not core_attn alone),
  // where the engine priced now runs Megatron's selective recompute: another engine's (an export
  // to torchtitan, execute's worker) prices its own rule, which the modules do not change.
  if (s.recomputeModules) {
    const modules = RECOMPUTE_MODULES.filter((x) => s.recomputeModules!.value.includes(x));
    if (args.recomputeModules !== undefined && args.recomputeModules.join(",") !== modules.join(",")) throw clash(`--recompute-modules ${args.recomputeModules.join(",")}`, s.recomputeModules);
    const now = baseEngine({ path: s.path }, requestEngine);
    if (args.recomputeModules === undefined && now.recompute === "any" && recomputeModulesRefusal([], now, {}) === null) {
      out.recomputeModules = modules;
      vf["--recompute-modules"] = from(s.recomputeModules);
    }
  }
  // (an earlier paraplan wrote full recompute's depth once for every plan, as an engine setting:
  // each plan now states its own recomputeLayers)
  if (s.recomputeBlockLayers) throw new UserError(`${from(s.recomputeBlockLayers)}: written by an earlier paraplan, when full recompute's depth was one for every plan; each plan now states its own recomputeLayers: plan again, or move it into the plan as "recomputeLayers"`);
  if (s.fusedAttention) {
    if (args.attentionGiven && args.fusedAttention !== s.fusedAttention.value) throw clash(`--attention ${args.fusedAttention ? "fused" : "unfused"}`, s.fusedAttention);
    // Fused attention is kept where the engine priced now defaults to materialised scores (a
    // megatron-core plan exported for DeepSpeed): the layout was planned, and fits, with it; the
    // engine's default would price another run, one that does not fit (QA: 201 GiB, refused
    // without naming attention). An unfused default of the file's engine (megatron-deepspeed's)
    // was never chosen: the engine priced now runs its own, which holds no more.
    const keptFused = s.fusedAttention.value && !fusedAttentionOf(baseEngine({ path: s.path }, requestEngine));
    if (s.fusedAttention.value !== fusedAttentionOf(base) || keptFused) {
      Object.assign(out, { fusedAttention: s.fusedAttention.value, attentionGiven: true });
      vf["--attention"] = from(s.fusedAttention);
    }
  }
  if (s.overlapGradReduce) {
    if (args.gradOverlapGiven && args.overlapGradReduce !== s.overlapGradReduce.value) throw clash("--no-grad-overlap", s.overlapGradReduce);
    if (s.overlapGradReduce.value !== base.dataParallel.overlapGradReduce) {
      Object.assign(out, { overlapGradReduce: s.overlapGradReduce.value, gradOverlapGiven: true });
      vf["--no-grad-overlap"] = from(s.overlapGradReduce);
    }
  }
  if (s.gradReduceBytes) {
    const b = s.gradReduceBytes.value;
    if ((args.gradReduceInBf16 && b !== 2) || (args.gradReduceInFp32 && b !== 4)) throw clash(args.gradReduceInBf16 ? "--grad-reduce-in-bf16" : "--grad-reduce-in-fp32", s.gradReduceBytes);
    if (b !== gradReduceBytes({ engine: base, precision: out.precision })) {
      if (b === 2) out.gradReduceInBf16 = true;
      else out.gradReduceInFp32 = true;
      vf[b === 2 ? "--grad-reduce-in-bf16" : "--grad-reduce-in-fp32"] = from(s.gradReduceBytes);
    }
  }
  return out;
}

/** The profile a plan file names: a built-in's name as it is; a file by a relative path where it
 *  is from here, else beside the plan file (plan --json records the path as given, relative to
 *  where plan ran); null where neither holds it. */
function foundProfile(v: string, planPath: string): string | null {
  if (!isPath(v) || isAbsolute(v) || existsSync(v)) return v;
  const beside = join(dirname(planPath), v);
  return existsSync(beside) ? beside : null;
}

/** The model a --plan file names, as --model where that is absent: a built-in's name (a launch
 *  spec or plan --json of a model file names it by the file's "name", which is no file to load). */
function modelOf(args: PlanArgs, raw: unknown, path: string): string | undefined {
  if (args.model !== undefined) return args.model;
  const named = planFileModel(raw);
  if (named === undefined) return undefined; // buildRequest: --model is required
  if (!builtinNames(join(packageRoot(), "profiles", "models")).includes(named))
    throw new UserError(`--model is required: --plan ${path} names the model "${named}", which is not a built-in; pass --model with its file`);
  return named;
}

/** `args` for the --plan file at `path`: its model where --model is absent, and its training
 *  (withPlanFileSettings). */
export function planFileArgs(args: PlanArgs, path: string, requestEngine: string, withProfile: boolean): PlanArgs {
  const raw = readPlanJson(path);
  const model = modelOf(args, raw, path);
  return withPlanFileSettings({ ...args, model }, planFileSettings(raw, path), requestEngine, withProfile);
}

/** The hardware profile the --plan file at `path` was priced on, found as withPlanFileSettings
 *  finds it (foundProfile), or undefined where it names none or it cannot be found here. */
export function planFileProfile(path: string): string | undefined {
  const p = planFileSettings(readPlanJson(path), path).profile;
  return p === undefined ? undefined : (foundProfile(p.value, path) ?? undefined);
}
