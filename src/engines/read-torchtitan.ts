// A torchtitan job file (TOML, 0.2) or command-line overrides (--section.key value) → a plan.
// Defaults and meanings from torchtitan/config/job_config.py (v0.2.0; @000204a4 for the older
// pipeline_parallel_split_points) and configs.py (@0014ac2c); FSDP resharding as torchtitan/models/llama3/infra/parallelize.py apply_fsdp
// ("default" reshards after forward unless pipeline parallel is on); stage counts as
// torchtitan/distributed/pipeline_parallel.py (2 stages per rank for looped schedules).
import { readTitanRecompute } from "./read-titan-recompute.js";
import type { Precision, Schedule, ZeroStage } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { defaultsWarning, readArgs } from "./args-file.js";
import { TORCHTITAN_02_KEYS, TORCHTITAN_MAIN_KEYS } from "./known-keys.js";
import { type ConfigFile, type ConfigReading, type ReadContext, checkBatch, unknownLine, worldSize } from "./read-config.js";
import { type TomlTable, type TomlValue, parseToml } from "./toml.js";
import { readTitanCp } from "./cp-args.js";
import { type AtKey, type SettingsAt, named, titanAt } from "./setting-at.js";
import { TORCHTITAN_RELEASES } from "./torchtitan.js";
import { isFloat8, titanStages } from "./read-titan-stages.js";
import { readTitanMoe } from "./read-titan-moe.js";
import { readTitanCommBackend } from "./read-titan-deepep.js";
import { TITAN_DEEPEP_SHARED_OVERLAP } from "./engine-dispatch.js";
import { checkTitanFlavorRun, readTitanModel } from "./read-titan-model.js";
import { titanFlavor } from "./titan-flavors.js";
import { TORCHTITAN_MAIN_LATER, TORCHTITAN_V022_NEW, titanReleaseChecks, titanTomlRelease } from "./titan-release-keys.js";

/** --section.key value lines as the table the TOML file would have been. */
export function parseOverrides(text: string): TomlTable {
  const table: TomlTable = {};
  for (const s of readArgs(text)) {
    const dot = s.flag.indexOf(".");
    if (dot < 0) continue;
    const section = s.flag.slice(0, dot);
    let key = s.flag.slice(dot + 1);
    let value: TomlValue;
    if (s.values.length === 0) {
      value = !key.startsWith("no_");
      if (key.startsWith("no_")) key = key.slice(3);
    } else {
      const v = s.values.join(" ");
      value = /^-?\d+$/.test(v) ? Number(v) : v === "true" || v === "True" ? true : v === "false" || v === "False" ? false : v.includes(",") ? v.split(",") : v;
    }
    // --quantize.linear.float8.x: nested tables, as the TOML's [quantize.linear.float8] reads
    const path = key.split(".");
    let t = (table[section] ??= {}) as TomlTable;
    for (const k of path.slice(0, -1)) t = (t[k] ??= {}) as TomlTable;
    t[path[path.length - 1]!] = value;
  }
  return table;
}

const SCHEDULES: Record<string, Schedule> = {
  "1f1b": "1f1b",
  gpipe: "gpipe",
  interleaved1f1b: "interleaved",
  interleavedzerobubble: "zb1p",
  zbvzerobubble: "zbv",
  dualpipev: "dualpipev",
};
const LOOPED_OTHERS = ["loopedbfs"];

/** The paraplan preset a job's flavor builds (llama3 "8B": llama3-8b, qwen3 "30B-A3B":
 *  qwen3-30b-a3b, deepseek_v3 "16B": deepseek-v2-lite; titan-flavors.ts), or null: `plan --from`
 *  without --model plans it (the flavor's sizes are the preset's). */
export function titanPreset(file: ConfigFile): string | null {
  const table = file.kind === "torchtitan-toml" ? parseToml(file.text, file.name) : parseOverrides(file.text);
  const model = table.model;
  if (typeof model !== "object" || model === null || Array.isArray(model)) return null;
  const { name, flavor } = model as TomlTable;
  return typeof flavor === "string" ? (titanFlavor(String(name ?? "llama3"), flavor)?.preset ?? null) : null;
}

export function readTorchtitan(file: ConfigFile, ctx: ReadContext): ConfigReading {
  const o = file.name;
  const table = file.kind === "torchtitan-toml" ? parseToml(file.text, o) : parseOverrides(file.text);
  const warnings: string[] = [];
  // Override lines in a launch script read at the defaults it gives variables (`${STEPS:-100}`).
  const defaults = file.kind === "torchtitan-toml" ? undefined : defaultsWarning(file.text, o);
  if (defaults !== undefined) warnings.push(defaults);
  const notes: string[] = [];
  const keys: string[] = [];
  for (const [section, v] of Object.entries(table)) {
    if (typeof v !== "object" || Array.isArray(v)) {
      warnings.push(unknownLine(o, section, "a torchtitan section"));
      continue;
    }
    // Nested tables ([quantize.linear.float8] of 0.2 releases) by their dotted path.
    const walk = (path: string, t: TomlTable) => {
      for (const [key, x] of Object.entries(t)) {
        const at = `${path}.${key}`;
        if (typeof x === "object" && x !== null && !Array.isArray(x)) walk(at, x as TomlTable);
        else if (!TORCHTITAN_02_KEYS.has(at) && !TORCHTITAN_MAIN_KEYS.has(at) && !Object.hasOwn(TORCHTITAN_V022_NEW, at) && !Object.hasOwn(TORCHTITAN_MAIN_LATER, at)) warnings.push(unknownLine(o, at, "a torchtitan setting paraplan knows"));
        else keys.push(at);
      }
    };
    walk(section, v as TomlTable);
  }
  // v0.2.1 and later (titan-release-keys.ts): the keys that date a TOML file, and their refusals.
  const after020 = file.kind === "torchtitan-toml" && titanTomlRelease(keys, o, warnings) === "0.2.1+";
  /** A setting by its dotted path, through nested tables. */
  const at = (path: string): unknown =>
    path.split(".").reduce<unknown>((x, k) => (typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>)[k] : undefined), table);
  const get = (section: string, key: string): TomlValue | undefined => {
    const t = table[section];
    return t && typeof t === "object" && !Array.isArray(t) ? (t as TomlTable)[key] as TomlValue | undefined : undefined;
  };
  const int = (section: string, key: string, dflt: number, min = 1): number => {
    const v = get(section, key) ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || (v < min && v !== dflt))
      throw new UserError(`${named(titanAt(o, file.text, file.kind === "torchtitan-toml", section, key, v))}: must be an integer ≥ ${min}`);
    return v;
  };
  const str = (section: string, key: string, dflt: string) => String(get(section, key) ?? dflt);
  /** "file: section.key = value (line N)": a refusal names the setting where the file has it. */
  const setting = (section: string, key: string): string => named(titanAt(o, file.text, file.kind === "torchtitan-toml", section, key, get(section, key)));
  // The model the job builds (0.2's [model] name and flavor; default llama3).
  // (a file that names no model, as paraplan's export of a model torchtitan does not ship, is read as --model)
  const flavor = readTitanModel({ o, name: get("model", "name"), flavor: get("model", "flavor"), flavorSetting: setting("model", "flavor") }, ctx.model, warnings);
  titanReleaseChecks(get, setting);
  // Optimizer (0.2 [optimizer] name, main optimizer.name): Adam's states are what paraplan prices.
  const opt = get("optimizer", "name");
  if (opt !== undefined && !/^adamw?$/i.test(String(opt)))
    throw new UserError(`${setting("optimizer", "name")} holds other optimizer state than Adam, which paraplan does not model`);
  // fp8 all-gathers of FSDP parameters (torchao float8 with enable_fsdp_float8_all_gather), as
  // Megatron's --fp8-param-gather: not the 16-bit gathers the engine prices.
  // (0.1's [float8], the 0.2 releases' [quantize.linear.float8], job_config.py Float8Linear)
  for (const key of ["float8.enable_fsdp_float8_all_gather", "quantize.linear.float8.enable_fsdp_float8_all_gather"])
    if (at(key) === true) throw new UserError(`${named(titanAt(o, file.text, file.kind === "torchtitan-toml", key.slice(0, key.lastIndexOf(".")), key.slice(key.lastIndexOf(".") + 1), true))} gathers the FSDP parameters in fp8, which paraplan does not model`);
  // Converters (model.converters): float8 is fp8 training as the engine prices it; MX formats and
  // any other conversion build another model's kernels and state.
  const convSetting = get("model", "converters");
  const converters = (Array.isArray(convSetting) ? convSetting : convSetting === undefined || convSetting === "" ? [] : [convSetting]).map(String);
  for (const c of converters)
    if (!isFloat8(c)) throw new UserError(`${setting("model", "converters")}: paraplan models the float8 converter only (fp8 training), not ${/(^|\.)mx$/.test(c) ? "MX formats" : `this conversion ("${c}")`}`);
  // torchtitan before the converters (57387af0e of 2025-02-15) swapped in the same Float8Linear with
  // [float8] enable_float8_linear (torchtitan/float8.py Float8Handler @f6a9daa13 of 2024-12-20:
  // every Linear but "output", dynamic tensorwise scaling unless scaling_type_* says "delayed").
  const fp8 = converters.some(isFloat8) || at("float8.enable_float8_linear") === true;
  if (fp8) {
    for (const k of ["scaling_type_input", "scaling_type_weight", "scaling_type_grad_output"]) {
      const v = get("float8", k);
      if (v !== undefined && v !== "dynamic") throw new UserError(`${setting("float8", k)}: fp8 with ${JSON.stringify(v)} scaling (delayed keeps torchao's amax history, synced each step), whose casts paraplan does not model; it prices dynamic tensorwise scaling (the default)`);
    }
  }
  // The float8 recipe (Float8Linear.recipe_name, job_config.py:656 @ v0.2.0: tensorwise, rowwise,
  // rowwise_with_gw_hp; unset is tensorwise, components/quantization/float8.py:115-118): rowwise
  // scales are other kernels and casts than the tensorwise ones the engine prices, as the Megatron
  // reader refuses --fp8-recipe other than delayed or tensorwise.
  for (const key of ["float8.recipe_name", "quantize.linear.float8.recipe_name"]) {
    const recipe = at(key);
    if (fp8 && recipe !== undefined && recipe !== "tensorwise")
      throw new UserError(`${named(titanAt(o, file.text, file.kind === "torchtitan-toml", key.slice(0, key.lastIndexOf(".")), "recipe_name", recipe))}: fp8 with ${typeof recipe === "string" ? `${recipe} scaling` : "this recipe"}, whose kernels and casts paraplan does not model; it prices tensorwise scaling (the default)`);
  }
  // Loss parallel off (parallelism.disable_loss_parallel, job_config.py:312 @ v0.2.0): the output
  // layer's logits are Replicate() on every tensor-parallel rank (llama3/infra/parallelize.py:174-175)
  // and the loss runs over the whole vocabulary there; paraplan prices vocab-parallel logits (1/tp
  // of them a rank: planner/cost/compute.ts headTimes). At tp 1 (the file fixes the plan's tp) it
  // changes nothing: read.
  if (get("parallelism", "disable_loss_parallel") === true && int("parallelism", "tensor_parallel_degree", 1) > 1)
    throw new UserError(`${setting("parallelism", "disable_loss_parallel")} keeps every tensor-parallel rank's logits whole (the output layer Replicate(), parallelize.py @ v0.2.0), which paraplan does not model: it prices logits split over tp (loss parallel, torchtitan's default); remove the setting`);
  // Offloading (FSDP2 CPUOffloadPolicy: parameters, gradients and optimizer state on the CPU).
  if (get("training", "enable_cpu_offload") === true)
    throw new UserError(`${setting("training", "enable_cpu_offload")} moves state to the CPU, which paraplan does not model`);
  // A schedule from a CSV file: its own action order, not one of the schedules paraplan prices.
  const csv = get("parallelism", "pipeline_parallel_schedule_csv");
  if (csv !== undefined && csv !== "")
    throw new UserError(`${setting("parallelism", "pipeline_parallel_schedule_csv")} runs a pipeline schedule from a file, which paraplan does not model`);
  const cp = readTitanCp((k) => get("parallelism", k), (k, d) => int("parallelism", k, d), o, notes,
    file.kind === "torchtitan-toml" ? { setting: (k) => setting("parallelism", k) } : undefined);
  // Expert parallel (experts come from the model's registry entry, not the job file: --model says them).
  const ep = int("parallelism", "expert_parallel_degree", 1);
  if (ep > 1 && ctx.model.moe === undefined) throw new UserError(`${setting("parallelism", "expert_parallel_degree")} but the model ${ctx.model.name} has no experts; pass the --model the configuration trains`);
  const r = int("parallelism", "data_parallel_replicate_degree", 1);
  let s = int("parallelism", "data_parallel_shard_degree", -1);
  const tp = int("parallelism", "tensor_parallel_degree", 1);
  const pp = int("parallelism", "pipeline_parallel_degree", 1);
  // Where the file states each value (setting-at.ts), for the errors about them here and later.
  const stated: SettingsAt = {};
  const state = (k: AtKey, section: string, key: string) => {
    const v = get(section, key);
    if (v !== undefined && stated[k] === undefined) stated[k] = titanAt(o, file.text, file.kind === "torchtitan-toml", section, key, v);
  };
  state("tp", "parallelism", "tensor_parallel_degree");
  state("pp", "parallelism", "pipeline_parallel_degree");
  state("cp", "parallelism", "context_parallel_degree");
  state("ep", "parallelism", "expert_parallel_degree");
  state("etp", "parallelism", "expert_tensor_parallel_degree");
  state("moeImbalance", "training", "debug_moe_force_load_balance");
  state("moeImbalance", "debug", "moe_force_load_balance");
  state("dp", "parallelism", "data_parallel_shard_degree");
  state("schedule", "parallelism", "pipeline_parallel_schedule");
  state("vpp", "parallelism", "pipeline_parallel_layers_per_stage");
  state("stageLayers", "parallelism", "module_fqns_per_model_part");
  state("stageLayers", "parallelism", "pipeline_parallel_split_points");
  state("stageLayers", "parallelism", "pipeline_parallel_first_stage_less_layers");
  state("stageLayers", "parallelism", "pipeline_parallel_last_stage_less_layers");
  state("sequenceParallel", "parallelism", "enable_sequence_parallel");
  state("zero", "parallelism", "fsdp_reshard_after_forward");
  state("microBatch", pp > 1 ? "parallelism" : "training", pp > 1 ? "pipeline_parallel_microbatch_size" : get("training", "batch_size") !== undefined ? "batch_size" : "local_batch_size");
  state("globalBatch", "training", "global_batch_size");
  state("seqLen", "training", "seq_len");
  state("recompute", "activation_checkpoint", "mode");
  state("precision", "model", "converters");
  state("precision", "float8", "enable_float8_linear");
  state("precision", "training", "mixed_precision_param");
  // -1 shards over the ranks left after replicate, tp, pp and cp (job_config.py Parallelism).
  const c = cp.cp;
  const ctxWords = c > 1 ? " × context" : "";
  const world = worldSize(ctx, s === -1 ? undefined : { gpus: r * s * tp * pp * c, from: `${o} (replicate × shard × tensor × pipeline${ctxWords} degrees)` });
  if (s === -1) {
    if (world.gpus % (r * tp * pp * c) !== 0)
      throw new UserError(`${o}: replicate ${r} × tensor ${tp} × pipeline ${pp}${c > 1 ? ` × context ${c}` : ""} does not divide the ${world.gpus} GPUs (${world.from})`);
    s = world.gpus / (r * tp * pp * c);
  }
  const dp = r * s;
  let zero: ZeroStage = 0;
  // FSDP runs over dp_shard · cp (dp_shard_cp): context parallel alone shards too.
  if (s > 1 || c > 1) {
    const policy = str("parallelism", "fsdp_reshard_after_forward", "default");
    if (policy !== "default" && policy !== "always" && policy !== "never")
      throw new UserError(`${setting("parallelism", "fsdp_reshard_after_forward")} is not default, always or never`);
    // Beside a pipeline torch.distributed.pipelining keeps each FSDP2 stage's gradients unsharded
    // until the last micro-batch and reduces them once (stage.py backward_maybe_with_nosync,
    // perform_reduce_grad), with the gathered parameters kept: ZeRO-1 in paraplan's terms (the
    // torchtitan engine's zeroWithPipeline), which "default" (no resharding under pp) and "never"
    // run. "always" re-gathers every micro-batch's parameters beside those gradients, no ZeRO stage.
    if (pp > 1 && policy === "always")
      throw new UserError(`${setting("parallelism", "fsdp_reshard_after_forward")} with pipeline_parallel_degree ${pp}: FSDP2 then gathers the parameters again every micro-batch while torch.distributed.pipelining keeps the gradients unsharded until the last one, which no ZeRO stage paraplan prices describes; use "default" or "never" (ZeRO-1 beside a pipeline)`);
    zero = pp > 1 ? 1 : policy === "never" ? 2 : 3;
    // HSDP: FSDP shards within each of r replicas (over shard · cp) and all-reduces across them;
    // paraplan's ZeRO shards over every data-parallel rank, a different memory and traffic.
    if (r > 1)
      throw new UserError(`${setting("parallelism", "data_parallel_replicate_degree")} with data_parallel_shard_degree ${s}${c > 1 ? ` and context_parallel_degree ${c}` : ""} is HSDP (sharded within replicas), which paraplan does not model; it shards over every data-parallel rank`);
  }
  const spSetting = get("parallelism", "enable_sequence_parallel");
  const sequenceParallel = tp > 1 && spSetting !== false;
  const scheduleName = str("parallelism", "pipeline_parallel_schedule", "1F1B").toLowerCase();
  let schedule = SCHEDULES[scheduleName];
  if (!schedule && LOOPED_OTHERS.includes(scheduleName)) {
    schedule = "interleaved";
    notes.push(`${o}: pipeline schedule ${str("parallelism", "pipeline_parallel_schedule", "")} read as interleaved 1F1B`);
  }
  if (!schedule) throw new UserError(`${named(titanAt(o, file.text, file.kind === "torchtitan-toml", "parallelism", "pipeline_parallel_schedule", get("parallelism", "pipeline_parallel_schedule")))}: "${scheduleName}" is not a torch.distributed.pipelining schedule`);
  // torch's multi-stage schedule classes (torchtitan then defaults to two stages per rank); the
  // V-shaped zbv and dualpipev need exactly two, zb1p takes any number.
  const looped = schedule === "interleaved" || schedule === "zb1p" || schedule === "zbv" || schedule === "dualpipev";
  let vpp = 1;
  let stageLayers: number[] | undefined;
  if (pp > 1) {
    ({ vpp, stageLayers } = titanStages({
      o, pp, layers: ctx.model.layers, schedule, looped,
      scheduleAs: str("parallelism", "pipeline_parallel_schedule", "1F1B"),
      ppAt: stated.pp ? named(stated.pp) : o,
      get: (k) => get("parallelism", k),
      int: (k, d, min) => int("parallelism", k, d, min),
      setting: (k) => setting("parallelism", k),
      notes,
    }));
  } else if (looped) {
    // Without a pipeline torchtitan builds no schedule (train.py: `if parallel_dims.pp_enabled`,
    // @ v0.2.2): its release DeepSeek-V3 files name Interleaved1F1B at degree 1.
    schedule = "1f1b";
    notes.push(`${o}: pipeline_parallel_schedule ${str("parallelism", "pipeline_parallel_schedule", "")} is not used without a pipeline (pipeline_parallel_degree 1)`);
  }
  // Expert tensor parallel, forced balance, DualPipeV's all-to-all overlap (read-titan-moe.ts).
  const moe = readTitanMoe({ get, setting, o }, { tp, pp, ep, schedule, experts: ctx.model.moe !== undefined, fp8 }, notes);
  // The experts' dispatcher (parallelism.expert_parallel_comm_backend, v0.2.1 and later).
  const family = get("model", "name") ?? (get("model", "flavor") !== undefined ? "llama3" : undefined);
  const dispatcher = readTitanCommBackend({ get, setting }, { family: family === undefined ? undefined : String(family), model: ctx.model, tp, ep, etp: moe.etp }, notes);
  // What the flavor cannot run: cp beside FlexAttention, a pipeline without a pipelining_fn.
  if (flavor)
    checkTitanFlavorRun(flavor, {
      cp: c, pp, seqLen: int("training", "seq_len", 2048),
      cpSetting: stated.cp ? named(stated.cp) : o, ppSetting: stated.pp ? named(stated.pp) : o,
      seqSetting: stated.seqLen ? stated.seqLen.setting : "training.seq_len 2048 (torchtitan's default)",
    }, notes);
  // Without FSDP (no shard, no cp) torchtitan turns mixed precision off beside TP or PP
  // (maybe_enable_amp, torchtitan/distributed/utils.py): an fp32 run.
  if (s === 1 && c === 1 && (tp > 1 || pp > 1))
    throw new UserError(`${stated.tp && tp > 1 ? named(stated.tp) : stated.pp ? named(stated.pp) : o}: ${tp > 1 ? `tensor_parallel_degree ${tp}` : `pipeline_parallel_degree ${pp}`} without FSDP (data_parallel_shard_degree 1, no context parallel): torchtitan then trains in fp32 (maybe_enable_amp: "Mixed precision training with TP or PP is only supported when FSDP/HSDP/CP is enabled"), which paraplan does not model; shard the data-parallel ranks`);
  // Batch (Training): per-replica local batch; a pipeline splits it into micro-batches.
  // (torchtitan of 2024, the calibration's TT24 runs, named it training.batch_size)
  const older = get("training", "batch_size");
  if (older !== undefined && get("training", "local_batch_size") !== undefined && older !== get("training", "local_batch_size"))
    throw new UserError(`${setting("training", "batch_size")} and training.local_batch_size contradict: give one`);
  const local = older !== undefined ? int("training", "batch_size", 8) : int("training", "local_batch_size", 8);
  const micro = pp > 1 ? int("parallelism", "pipeline_parallel_microbatch_size", 1) : local;
  if (local % micro !== 0) throw new UserError(`${o}: pipeline_parallel_microbatch_size ${micro} does not divide training.local_batch_size ${local}`);
  const g = int("training", "global_batch_size", -1);
  const globalBatch = g === -1 ? local * dp : g;
  if (globalBatch % (local * dp) !== 0)
    throw new UserError(`${o}: training.global_batch_size ${globalBatch} is not a multiple of local_batch_size ${local} × dp ${dp}`);
  checkBatch(o, globalBatch, dp, micro, stated);
  if (get("training", "seq_len") === undefined) notes.push(`${o}: training.seq_len not set: torchtitan's default, 2048`);
  const mp = str("training", "mixed_precision_param", "bfloat16");
  let precision: Precision = "bf16";
  // fp32 compute runs at a fraction of the 16-bit peak: priced as bf16 it would be a plausible,
  // wrong number.
  if (mp === "float32") throw new UserError(`${setting("training", "mixed_precision_param")}: paraplan models 16-bit and fp8 training, not fp32`);
  if (mp !== "bfloat16") throw new UserError(`${setting("training", "mixed_precision_param")} is not bfloat16 or float32`);
  // FSDP2's reduce dtype (MixedPrecisionPolicy.reduce_dtype): Literal["float32"] in every release
  // (job_config.py:239 @ v0.2.0, :207 @000204a4; configs.py:66 @0014ac2c), as the engine prices.
  const reduce = str("training", "mixed_precision_reduce", "float32");
  if (reduce !== "float32")
    throw new UserError(`${setting("training", "mixed_precision_reduce")}: torchtitan takes "float32" only (Literal["float32"] in job_config.py and configs.py)`);
  if (fp8) precision = "fp8";
  // torchtitan main's configuration (torchtitan/config/configs.py @0014ac2c) has no converters
  // option: its float8 converter is in the user's --module/--config, and an fp8 run sets bfloat16
  // params as a bf16 one does. Overrides that state no converter cannot tell the two: --precision
  // decides (fp8 is no contradiction), and without it bf16 is priced and said.
  const unstated = file.kind === "torchtitan-overrides" && convSetting === undefined && get("float8", "enable_float8_linear") === undefined;
  if (unstated) notes.push(`${o}: the overrides cannot tell fp8 from bf16 (torchtitan main has no converters option: the float8 converter is in your --module/--config); bf16 is priced unless --precision fp8 is given`);
  const { recompute, recomputeLayers } = readTitanRecompute({ o, overrides: file.kind === "torchtitan-overrides", get, setting }, { pp, vpp, stageLayers }, ctx.model.layers, notes);
  // torch.compile (0.2 [compile] enable, older training.compile): the compiled engine; async TP
  // (micro-pipelined all-gather/reduce-scatter matmuls) needs it, as torchtitan asserts.
  const compiled = get("compile", "enable") === true || get("training", "compile") === true;
  // (main after @0014ac2c names it compile.enable_async_tensor_parallel: titan-release-keys.ts)
  const asyncAt = (["parallelism", "compile"] as const).find((sec) => get(sec, "enable_async_tensor_parallel") === true);
  const asyncTp = asyncAt !== undefined;
  if (asyncTp && !compiled) throw new UserError(`${setting(asyncAt, "enable_async_tensor_parallel")} needs torch.compile (compile.enable), as torchtitan requires`);
  return {
    engine: "torchtitan",
    ...(compiled ? { engineName: "torchtitan-compile" } : {}),
    ...(asyncTp && tp > 1 ? { tpCommOverlap: true } : {}),
    sources: [o],
    plan: { tp, pp, dp, ...cp, ep, etp: moe.etp, vpp, zero, microBatch: micro, recompute, ...(recomputeLayers !== undefined ? { recomputeLayers } : {}), sequenceParallel, schedule, ...(stageLayers ? { stageLayers } : {}) },
    ...(moe.moeImbalance !== undefined ? { moeImbalance: moe.moeImbalance } : {}),
    // (DeepEP's MoE runs the shared experts beside its combine: TITAN_DEEPEP_SHARED_OVERLAP)
    ...(dispatcher !== undefined ? { moeDispatcher: dispatcher } : {}),
    ...(dispatcher === "deepep" && (ctx.model.moe?.sharedExperts ?? 0) > 0 ? { moeSharedOverlap: TITAN_DEEPEP_SHARED_OVERLAP } : {}),
    gpus: world.gpus,
    gpusFrom: world.from,
    globalBatch,
    seqLen: int("training", "seq_len", 2048),
    ...(unstated ? {} : { precision }),
    gradReduceInFp32: true,
    // Command-line overrides are main's (torchtitan.ts TORCHTITAN_RELEASES): its last stage frees
    // each micro-batch's logits; a 0.2 TOML file keeps them, as the engine profile prices.
    // A TOML file with v0.2.1's keys is a v0.2.1-or-later job, whose trainer frees them too.
    ...(file.kind === "torchtitan-overrides" || after020 ? { keptOutputBytes: TORCHTITAN_RELEASES.find((r) => r.id === (after020 ? "0.2.2" : "main"))!.keptOutputBytes! } : {}),
    claims: [],
    at: stated,
    warnings,
    notes,
  };
}
