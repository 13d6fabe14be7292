// ds_config.json (with, when given, its Megatron-DeepSpeed pretrain_gpt.py arguments) → a plan.
// Batch arithmetic as DeepSpeed's runtime/config.py (_set_batch_related_parameters) does it:
// train_batch_size = micro × gradient_accumulation_steps × dp; a missing one is derived from the
// others; only train_batch_size given means gradient accumulation 1. "auto" (a ds_config written
// for the HuggingFace Trainer, which fills it in from its TrainingArguments) is read as absent and
// said; --global-batch stands in for an "auto" train_batch_size.
import type { Precision, Recompute, Training, ZeroStage } from "../../planner/index.js";
import { parseInputJson } from "../read-input.js";
import { UserError } from "../errors.js";
import { DEEPSPEED_KNOWN as DEEPSPEED_KEYS, dsReleaseChecks } from "./ds-release-keys.js";
import { launchedWorld, megatronFacts } from "./read-megatron.js";
import { type AtKey, type SettingsAt, jsonAt, named } from "./setting-at.js";
import { type ConfigFile, type ConfigReading, type ReadContext, checkBatch, checkClaims, dataParallel, refuseUnpricedExperts, statesAllOf, unknownLine, worldSize } from "./read-config.js";
import { deepspeedMoeLayers, missingBatch, pipelineSection, pyTruthy, runFeatures, zero3Settings } from "./ds-config-features.js";
import { zeroOptimizationRefusals } from "./ds-zero-keys.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
/** grad_accum_dtype's spellings (runtime/config.py DtypeEnum @ v0.16.0; read lower-cased here). */
const DTYPES: Record<string, "fp16" | "bf16" | "fp32" | "int8"> = {
  "torch.float16": "fp16", fp16: "fp16", float16: "fp16", half: "fp16",
  "torch.float32": "fp32", fp32: "fp32", float32: "fp32", float: "fp32",
  "torch.int8": "int8", int8: "int8",
  "torch.bfloat16": "bf16", bf16: "bf16", bfloat16: "bf16",
};
const dtypeOf = (v: string) => (Object.hasOwn(DTYPES, v.toLowerCase()) ? DTYPES[v.toLowerCase()] : undefined);
const NESTED = ["zero_optimization", "fp16", "bf16", "bfloat16", "activation_checkpointing", "tensor_parallel", "amp", "torch_autocast"];

function parse(file: ConfigFile): Obj {
  const j = parseInputJson(file.text);
  if (!j.ok) throw new UserError(`${file.name}: ${j.why}; fix the file`);
  if (!isObj(j.value)) throw new UserError(`${file.name}: a ds_config is a JSON object`);
  return j.value;
}

export function readDeepSpeed(ds: ConfigFile, args: ConfigFile | undefined, ctx: ReadContext): ConfigReading {
  const o = ds.name;
  const raw = parse(ds);
  const warnings: string[] = [];
  const notes: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!DEEPSPEED_KEYS.has(k)) warnings.push(unknownLine(o, `"${k}"`, "a DeepSpeed configuration key paraplan knows"));
    else if (NESTED.includes(k) && isObj(v))
      for (const sub of Object.keys(v))
        if (!DEEPSPEED_KEYS.has(`${k}.${sub}`)) warnings.push(unknownLine(o, `"${k}.${sub}"`, "a DeepSpeed configuration key paraplan knows"));
  }
  const autos: string[] = [];
  const count = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (v === "auto") {
      autos.push(key);
      notes.push(`${o}: ${key} is "auto" (filled in by the HuggingFace Trainer); derived from the other batch settings`);
      return undefined;
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new UserError(`${named(jsonAt(o, ds.text, key, v))}: must be a positive integer`);
    return v;
  };
  // ZeRO (runtime/zero/config.py get_zero_config): an object with a stage 0-3, or the old boolean
  // form, true meaning stage 1 (read_zero_config_deprecated); anything else, null too, DeepSpeedZeroConfig(**it) raises on.
  const zo = raw.zero_optimization;
  if (zo !== undefined && !isObj(zo) && typeof zo !== "boolean") throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization", zo))}: must be an object ({"stage": 0-3, …}) or DeepSpeed's deprecated true / false`);
  const stage = isObj(zo) ? (zo.stage ?? 0) : zo === true ? 1 : 0;
  if (stage !== 0 && stage !== 1 && stage !== 2 && stage !== 3) throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.stage", stage))}: must be 0, 1, 2 or 3`);
  const zero = stage as ZeroStage;
  if (isObj(zo)) zeroOptimizationRefusals(ds, raw, zo, stage, notes);
  dsReleaseChecks(ds, raw, stage, notes); // (keys of later releases, ds-release-keys.ts)
  const bucketBytes = reduceBucketBytes(ds, zo, zero, ctx, notes);
  if (isObj(raw.activation_checkpointing) && raw.activation_checkpointing.cpu_checkpointing === true)
    throw new UserError(`${named(jsonAt(o, ds.text, "activation_checkpointing.cpu_checkpointing", true))} moves the checkpointed activations to the CPU, which paraplan does not model`);
  // The optimizer (runtime/config.py get_optimizer_name, matched case-insensitively): paraplan
  // prices Adam's two moments beside fp32 master weights; Lamb, Lion, Adagrad, SGD, the 1-bit
  // optimizers hold or communicate other state.
  const opt = isObj(raw.optimizer) ? raw.optimizer.type : undefined;
  if (opt !== undefined && (typeof opt !== "string" || !["adam", "adamw"].includes(opt.toLowerCase())))
    throw new UserError(`${named(jsonAt(o, ds.text, "optimizer.type", opt))}: paraplan prices Adam and AdamW only (their moments and fp32 master weights)`);
  // fp16 without ZeRO: DeepSpeed wraps its FusedAdam in FP16_Optimizer, whose step flattens fp32
  // copies of the gradients (the step the megatron-deepspeed engine prices,
  // dataParallel.fp32GradFlattenAtStep); optimizer.params.torch_adam builds torch's Adam instead,
  // run by FP16_UnfusedOptimizer, and optimizer.legacy_fusion has FP16_Optimizer flatten the fp16
  // gradients (runtime/engine.py _configure_basic_optimizer, _configure_fp16_optimizer;
  // fp16/fused_optimizer.py step_fused_adam @ v0.16.0): other step memory than priced.
  const fp16On = isObj(raw.fp16) && raw.fp16.enabled === true;
  if (zero === 0 && fp16On && isObj(raw.optimizer)) {
    const params = isObj(raw.optimizer.params) ? raw.optimizer.params : {};
    if (pyTruthy(params.torch_adam))
      throw new UserError(`${named(jsonAt(o, ds.text, "optimizer.params.torch_adam", params.torch_adam))} under fp16 without ZeRO: DeepSpeed steps torch's Adam through FP16_UnfusedOptimizer, which paraplan does not model: it prices FP16_Optimizer over DeepSpeed's FusedAdam`);
    if (pyTruthy(raw.optimizer.legacy_fusion))
      throw new UserError(`${named(jsonAt(o, ds.text, "optimizer.legacy_fusion", raw.optimizer.legacy_fusion))} under fp16 without ZeRO: FP16_Optimizer's legacy fused step flattens the fp16 gradients, which paraplan does not model: it prices the fp32 flatten of its default step`);
  }
  // Gradient reduction: DeepSpeed reduces in the training dtype unless communication_data_type
  // says otherwise (runtime/config.py get_communication_data_type, read lower-cased: fp16, bf16 —
  // "bfp16" before 0.10 — or fp32), the 16-bit reduction the megatron-deepspeed engine prices
  // (gradReduceBytesPerParam 2, from megatron-2021); fp32 is priced as --grad-reduce-in-fp32.
  // DeepSpeed casts each bucket to fp32 for the collective and keeps 16-bit gradients
  // (runtime/engine.py allreduce_bucket; runtime/zero/stage_1_and_2.py average_tensor and
  // allreduce_bucket): at ZeRO-2/3 that is the price, at ZeRO-0/1 --grad-reduce-in-fp32 also holds
  // the unsharded gradients in fp32 (2 bytes a parameter DeepSpeed does not hold), so refused there.
  const comm = raw.communication_data_type;
  const commType = typeof comm === "string" ? comm.toLowerCase() : comm;
  if (commType !== undefined && commType !== null && !["fp16", "bf16", "bfp16", "fp32"].includes(commType as string))
    throw new UserError(`${named(jsonAt(o, ds.text, "communication_data_type", comm))} is none of DeepSpeed's fp16, bf16 (bfp16) or fp32`);
  // (at stage 0 under bf16 BF16_Optimizer's gradients are fp32 already, whole: reduced as they
  // are, as --grad-reduce-in-fp32 prices it there)
  const bf16Stage0 = zero === 0 && ["bf16", "bfloat16"].some((k) => isObj(raw[k]) && (raw[k] as Obj).enabled === true);
  if (commType === "fp32" && zero <= 1 && !bf16Stage0)
    throw new UserError(`${named(jsonAt(o, ds.text, "communication_data_type", comm))} at ZeRO stage ${zero}: DeepSpeed reduces fp32 copies of 16-bit gradients, which paraplan prices at ZeRO-2/3 only (its fp32 reduction at ZeRO-0/1 holds the whole gradient in fp32)`);
  // DeepSpeed-Ulysses (deepspeed/runtime/config.py sequence_parallel_size): a plan dimension the
  // megatron-deepspeed engine (2021-22) does not run, not a tuning knob to ignore.
  if (typeof raw.sequence_parallel_size === "number" && raw.sequence_parallel_size > 1)
    throw new UserError(`${named(jsonAt(o, ds.text, "sequence_parallel_size", raw.sequence_parallel_size))} runs DeepSpeed-Ulysses sequence parallelism, which the megatron-deepspeed engine (DeepSpeed of 2021-22) does not model`);
  if (raw.fp32_allreduce === true)
    throw new UserError(`${named(jsonAt(o, ds.text, "fp32_allreduce", true))}: paraplan prices DeepSpeed's gradient reduction in 16 bits, not fp32`);
  // Compute the model does other than the dense layers paraplan prices. sparse_attention: a block-
  // sparse layout DeepSpeed parses whenever the key is there (runtime/config.py:296
  // get_sparse_attention @ v0.16.0) for the model code's SparseSelfAttention (ops/sparse_attention);
  // progressive_layer_drop with enabled truthy (get_pld_enabled, config.py:127; default False,
  // constants.py:374): the engine hands the model a keep probability each step to skip layers
  // (runtime/engine.py:348, 1881-1882).
  if (raw.sparse_attention !== undefined)
    throw new UserError(`${named(jsonAt(o, ds.text, "sparse_attention", undefined))} configures DeepSpeed's block-sparse attention for the model code, which paraplan does not model: it prices dense attention`);
  const pld = raw.progressive_layer_drop;
  if (pld !== undefined && !(isObj(pld) && [undefined, false, null, 0, ""].includes(pld.enabled as never)))
    throw new UserError(`${named(jsonAt(o, ds.text, "progressive_layer_drop", isObj(pld) ? undefined : pld))}${isObj(pld) ? ` with enabled ${JSON.stringify(pld.enabled)}` : ""} turns on progressive layer drop (layers skipped at random each step), which paraplan does not model: it prices every layer every step`);
  runFeatures(ds, raw, zero);
  // Low-precision master weights, gradients and states (bf16_optimizer_states needs
  // bf16_master_weights_and_grads, DeepSpeed's config check): paraplan prices fp32 master weights
  // beside the 16-bit ones, so a config without them is refused by key, not priced as one with.
  for (const [section, key] of [["bf16", "bf16_master_weights_and_grads"], ["bf16", "bf16_optimizer_states"], ["fp16", "fp16_master_weights_and_grads"]] as const)
    if (isObj(raw[section]) && (raw[section] as Obj)[key] === true)
      throw new UserError(`${named(jsonAt(o, ds.text, `${section}.${key}`, true))}: low-precision master weights and optimizer states are not modelled (paraplan prices Adam with fp32 master weights)`);
  // Mixed precision: "bf16" ("bfloat16" kept for backwards compatibility, runtime/constants.py) and "fp16".
  // DeepSpeed tests `enabled` for truth (get_scalar_param returns the value as written, config.py
  // get_bfloat16_enabled @ v0.16.0): a string other than the Trainer's "auto" — "false" too — turns
  // it on, which is surely not what a file writing "false" meant: refused, naming the key.
  for (const k of ["fp16", "bf16", "bfloat16"]) {
    const v = isObj(raw[k]) ? (raw[k] as Obj).enabled : undefined;
    if (typeof v === "string" && v !== "auto")
      throw new UserError(`${named(jsonAt(o, ds.text, `${k}.enabled`, v))} is a string: DeepSpeed takes any non-empty string as true (even "false"); write true or false`);
  }
  const on = (k: string) => isObj(raw[k]) && (raw[k] as Obj).enabled === true;
  const autoPrecision = ["fp16", "bf16"].filter((k) => isObj(raw[k]) && (raw[k] as Obj).enabled === "auto");
  if (on("fp16") && (on("bf16") || on("bfloat16"))) throw new UserError(`${o}: fp16.enabled and bf16.enabled contradict`);
  let precision: Precision | undefined = on("fp16") ? "fp16" : on("bf16") || on("bfloat16") ? "bf16" : undefined;
  // Apex amp and torch autocast beside DeepSpeed's own 16-bit modes or ZeRO: DeepSpeed refuses
  // them (amp: "Amp and ZeRO are not currently compatible", "Cannot enable both amp with (legacy)
  // fp16 or bfloat16 mode", runtime/engine.py _do_optimizer_sanity_check @ v0.16.0;
  // torch_autocast: "Cannot enable both torch autocast and fp16/bfloat16",
  // runtime/torch_autocast.py _validate_auto_cast_settings @ v0.18.0). Alone they keep fp32
  // weights: refused below as fp32 training.
  const sixteen = on("fp16") ? "fp16" : on("bf16") ? "bf16" : on("bfloat16") ? "bfloat16" : autoPrecision[0];
  for (const k of ["amp", "torch_autocast"]) {
    const v = isObj(raw[k]) ? (raw[k] as Obj).enabled : undefined;
    if (!pyTruthy(v)) continue;
    const beside = sixteen !== undefined ? `${sixteen}.enabled` : k === "amp" && zero > 0 ? `ZeRO stage ${zero}` : undefined;
    if (beside !== undefined)
      throw new UserError(`${named(jsonAt(o, ds.text, `${k}.enabled`, v))} beside ${beside}: DeepSpeed refuses ${k === "amp" ? "Apex amp" : "torch autocast"} with ${k === "amp" && sixteen === undefined ? "ZeRO" : "its bf16 or fp16 mode"}; paraplan prices DeepSpeed's bf16 and fp16 modes`);
  }
  const autotp = isObj(raw.tensor_parallel) ? raw.tensor_parallel.autotp_size : undefined;
  // (experts the engine prices not at all, the stock megatron-deepspeed's: refused before their flags are asked)
  if (args) refuseUnpricedExperts(args, "deepspeed", ctx);
  const f = args ? megatronFacts(args, true, ctx.model, ctx.deepspeedBalance) : undefined;
  if (f) {
    checkClaims(`${o} + ${args!.name}`, f.claims, ctx.model);
    statesAllOf(`${o} + ${args!.name}`, f.claims, ctx.model);
    warnings.push(...f.warnings);
    notes.push(...f.notes);
    if (f.vpp > 1) throw new UserError(`${args!.name}: virtual pipeline stages, but DeepSpeed's pipeline engine runs one stage per rank`);
    if (f.zero !== undefined && f.zero !== zero) throw new UserError(`${args!.name}: --zero-stage ${f.zero} but ${o} has zero_optimization.stage ${zero}`);
    if (f.precision && precision && f.precision !== precision && !(f.precision === "fp8" && precision === "bf16"))
      throw new UserError(`${args!.name}: --${f.precision} but ${o} enables ${precision}`);
    if (f.precision) precision = f.precision;
  }
  if (precision === undefined && autoPrecision.length > 0)
    notes.push(`${o}: ${autoPrecision.map((k) => `${k}.enabled`).join(" and ")} ${autoPrecision.length > 1 ? "are" : "is"} "auto" (the HuggingFace Trainer sets it from --bf16/--fp16); evaluated with --precision (bf16 unless given)`);
  const tp = f?.tp ?? (typeof autotp === "number" && autotp > 1 ? autotp : 1);
  if (f && typeof autotp === "number" && autotp > 1 && autotp !== f.tp)
    throw new UserError(`${o}: tensor_parallel.autotp_size ${autotp} but ${args!.name} has --tensor-model-parallel-size ${f.tp}`);
  const pp = f?.pp ?? 1;
  if (pp > 1 && zero >= 2) throw new UserError(`${o}: ZeRO-${zero} with pipeline parallel ${pp}: DeepSpeed's pipeline engine accepts ZeRO 0 and 1 only`);
  // Without --no-pipeline-parallel Megatron-DeepSpeed builds GPTModelPipe at pp 1 too
  // (pretrain_gpt.py model_provider), run by the same pipeline engine (pipe/engine.py asserts ZeRO < 2).
  if (f?.pipelineEngine && zero >= 2)
    throw new UserError(`${o}: ZeRO-${zero} with ${args!.name} lacking --no-pipeline-parallel: Megatron-DeepSpeed then runs DeepSpeed's pipeline engine even at pp 1, which accepts ZeRO 0 and 1 only; add --no-pipeline-parallel`);
  // Activation checkpointing: Megatron-DeepSpeed's flags say whether layers are checkpointed; a
  // ds_config alone only configures checkpointing that the model code applies.
  let recompute: Recompute = f?.recompute ?? "none";
  if (!f && raw.activation_checkpointing !== undefined) {
    recompute = "full";
    notes.push(`${o}: activation_checkpointing is configured, read as full recompute (the model code decides what it checkpoints)`);
  }
  // DeepSpeed's pipeline engine runs the model: Megatron-DeepSpeed's GPTModelPipe (its arguments
  // without --no-pipeline-parallel, or pp > 1); a ds_config alone with a "pipeline" section is
  // written for a PipelineModule, the only model that section configures.
  const pipeEngine = f ? f.pipelineEngine || pp > 1 : isObj(raw.pipeline);
  recompute = pipelineSection(ds, raw, { tp, pp, pipeEngine, argsName: args?.name, recompute }, notes);
  const maxReuseDistance = zero === 3 ? zero3Settings(ds, zo as Obj, ctx, tp, f !== undefined) : undefined;
  // activation_checkpointing.partition_activations splits each checkpoint over the tensor-parallel
  // ranks and all-gathers it before the recompute (activation_checkpointing/checkpointing.py
  // partition_activations, get_partitioned_activations_for_backward @ v0.16.0), where paraplan
  // keeps a whole checkpoint on every tp rank; over one rank it splits nothing. With the
  // Megatron-DeepSpeed arguments their own flags decide (megatron/initialize.py
  // setup_deepspeed_random_and_activation_checkpointing passes partition_activations=
  // args.partition_activations to deepspeed.checkpointing.configure, overriding the file).
  const ac = raw.activation_checkpointing;
  if (!f && tp > 1 && isObj(ac) && pyTruthy(ac.partition_activations))
    throw new UserError(`${named(jsonAt(o, ds.text, "activation_checkpointing.partition_activations", ac.partition_activations))} splits each activation checkpoint over the ${tp} tensor-parallel ranks (gathered again for the recompute), which paraplan does not model: it keeps every checkpoint whole on each rank`);
  // AutoTP training's overlapped tensor-parallel all-reduce (tensor_parallel.tp_overlap_comm,
  // runtime/tensor_parallel/config.py @ v0.17.0; module_inject/layers.py LinearAllreduce): a
  // switch the megatron-deepspeed engine does not have.
  if (tp > 1 && isObj(raw.tensor_parallel) && raw.tensor_parallel.tp_overlap_comm === true)
    throw new UserError(`${named(jsonAt(o, ds.text, "tensor_parallel.tp_overlap_comm", true))} overlaps AutoTP's tensor-parallel all-reduces with the backward, which paraplan does not model for DeepSpeed: it prices them exposed`);
  // The experts' groups and the ZeRO optimizer that takes them (ds-config-features.ts).
  deepspeedMoeLayers(ds, raw, { ep: f?.ep ?? 1, moe: f?.claims.some((c) => c.field === "moe") ?? false, paramGroup: f?.moeParamGroup ?? false, zero, argsName: args?.name });
  // A ds_config holds no tensor or pipeline parallel size: without the Megatron-DeepSpeed
  // arguments dp is the whole GPU count, and batch arithmetic that does not close says so.
  const argsHint = args ? "" : `; a ds_config alone is read as tp ${tp} · pp 1 (dp the whole GPU count): add the Megatron-DeepSpeed arguments file (pretrain_gpt.py's) as a second --from when the run has tensor or pipeline parallelism`;
  const withArgsHint = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UserError && argsHint) throw new UserError(`${e.message}${argsHint}`);
      throw e;
    }
  };
  // The attention kernel (the model code's) and the sequence (the data loader's), which a ds_config alone does not show (Megatron-
  // DeepSpeed's arguments do: --use-flash-attn*, --seq-length): the engine's kernel and the model's sequence, said as assumed (deepspeed.ts modelCodeNotes).
  const assumed: ConfigReading["assumed"] = [...(args ? [] : [{
    flag: "--attention",
    text: (t: Training) => `${t.fusedAttention ? "fused" : "unfused"} attention, the engine's default: ${o} does not say which attention your model code runs (--attention fused for flash attention or scaled_dot_product_attention, --attention unfused for the s×s scores kept)`,
  }]), ...(f?.seqLen !== undefined ? [] : [{ flag: "--seq", text: (t: Training, seqFrom?: string) => `${seqFrom ?? `sequence ${t.seqLen}, the model's`}: ${args ? `${args.name} has no --seq-length and ` : ""}${o} does not state the length your data loader gives (--seq S)` }])];
  if (!args) notes.push(`${o}: no tensor or pipeline parallel size in a ds_config: read as tp ${tp} · pp 1; if the run uses Megatron-DeepSpeed with tensor or pipeline parallelism, add the Megatron-DeepSpeed arguments file as a second --from`);
  // Batch sizes, the ds_config's and the arguments' (which must agree).
  let micro = count("train_micro_batch_size_per_gpu");
  let tbs = count("train_batch_size");
  if (tbs === undefined && ctx.globalBatch !== undefined && f?.globalBatch === undefined) tbs = ctx.globalBatch;
  let gas = count("gradient_accumulation_steps");
  if (f?.microBatch !== undefined) {
    if (micro !== undefined && micro !== f.microBatch) throw new UserError(`${args!.name}: --micro-batch-size ${f.microBatch} but ${o} has train_micro_batch_size_per_gpu ${micro}`);
    micro = f.microBatch;
  }
  if (f?.globalBatch !== undefined) {
    if (tbs !== undefined && tbs !== f.globalBatch) throw new UserError(`${args!.name}: --global-batch-size ${f.globalBatch} but ${o} has train_batch_size ${tbs}`);
    tbs = f.globalBatch;
  }
  const implied =
    tbs !== undefined && micro !== undefined && gas !== undefined
      ? (() => {
          if (tbs % (micro * gas) !== 0)
            throw new UserError(`${o}: train_batch_size ${tbs} is not train_micro_batch_size_per_gpu ${micro} × gradient_accumulation_steps ${gas} × a whole dp`);
          return { gpus: (tbs / (micro * gas)) * tp * pp * (f?.cp.cp ?? 1), from: `${o} (train_batch_size / (micro-batch × gradient_accumulation_steps) × tp·pp${f && f.cp.cp > 1 ? "·cp" : ""})` };
        })()
      : undefined;
  // The arguments file's launcher (deepspeed --num_gpus × --num_nodes, or torchrun's) states the
  // count too: the two must agree.
  const launched = args ? launchedWorld(args, ctx) : undefined;
  if (launched && implied && launched.gpus !== implied.gpus)
    throw new UserError(`${launched.from} makes ${launched.gpus} GPUs but ${implied.from} makes ${implied.gpus}; they must agree`);
  const world = withArgsHint(() => worldSize(ctx, launched ?? implied));
  const cp = f?.cp ?? { cp: 1 };
  const at = settingsAt(ds, raw, f?.at);
  const dp = dataParallel(o, world.gpus, world.from, tp, pp, cp.cp, at);
  if (micro === undefined && tbs === undefined) throw new UserError(missingBatch(o, autos, Object.keys(raw).filter((k) => !DEEPSPEED_KEYS.has(k))));
  if (micro === undefined) micro = tbs! / ((gas ?? 1) * dp);
  if (!Number.isInteger(micro) || micro < 1) throw new UserError(`${o}: train_batch_size ${tbs} does not split into whole micro-batches over dp ${dp}${argsHint}`);
  if (tbs === undefined) tbs = micro * (gas ?? 1) * dp;
  withArgsHint(() => checkBatch(o, tbs!, dp, micro!, at));
  if (gas !== undefined && tbs !== micro * gas * dp)
    throw new UserError(`${o}: train_batch_size ${tbs} ≠ micro-batch ${micro} × gradient_accumulation_steps ${gas} × dp ${dp}${argsHint}`);
  let overlap = isObj(zo) && typeof zo.overlap_comm === "boolean" ? zo.overlap_comm : zero === 3;
  // DeepSpeed's pipeline engine turns overlap_comm off ("Pipeline parallelism does not support
  // overlapped communication, will be disabled.", runtime/engine.py _configure_zero_optimizer
  // @ v0.16.0, for a PipelineModule at ZeRO 1 and 2, the only stages it runs).
  if (overlap && pipeEngine && zero > 0 && zero < 3) {
    overlap = false;
    notes.push(`${named(jsonAt(o, ds.text, "zero_optimization.overlap_comm", true))}: DeepSpeed's pipeline engine${args ? ` (${args.name}${pp > 1 ? `, pp ${pp}` : " without --no-pipeline-parallel"})` : ""} disables it; priced with the gradient reduction after the backward`);
  }
  // bf16 at ZeRO stage 0 is not plain data parallelism: DeepSpeed 0.6.2–0.17.5 (and its pipeline
  // engine since) wrap the optimizer in BF16_Optimizer (runtime/engine.py
  // _do_optimizer_sanity_check: gradient accumulation in fp32 by default without ZeRO,
  // get_data_types; runtime/bf16_optimizer.py), which partitions the fp32 master weights and Adam
  // states over dp like ZeRO-1 but keeps the fp32 gradients whole beside the bf16 ones and
  // all-reduces them (pipe/engine.py _bf16_reduce_grads; cast to communication_data_type, bf16
  // by default, in engine.py allreduce_bucket @ v0.12.4) before gathering the updated bf16
  // weights. The megatron-deepspeed engine prices it at ZeRO-0 (dataParallel.bf16OptimizerAtZero0),
  // said in a note. (0.17.6+ without the pipeline engine runs DDP_BFLOAT16, plain ZeRO-0; which
  // release the file is for, it does not say.)
  const bf16Key = on("bf16") ? "bf16" : on("bfloat16") ? "bfloat16" : precision === undefined && autoPrecision.includes("bf16") ? "bf16" : undefined;
  // data_types.grad_accum_dtype (0.8.1 on): read once for both stages below
  const accum = isObj(raw.data_types) ? raw.data_types.grad_accum_dtype : undefined;
  const fp32Accum = typeof accum === "string" && dtypeOf(accum) === "fp32";
  if (zero === 0 && bf16Key !== undefined) {
    const staged = isObj(zo) && zo.stage !== undefined;
    const key = staged ? jsonAt(o, ds.text, "zero_optimization.stage", 0) : jsonAt(o, ds.text, `${bf16Key}.enabled`, (raw[bf16Key] as Obj).enabled);
    // DeepSpeed accumulates BF16_Optimizer's gradients in grad_accum_dtype (data_types, 0.9 on;
    // bf16_optimizer.py zeros_like(..., dtype=grad_acc_dtype) @ v0.16): fp32 is what is priced;
    // bf16 keeps 2 bytes a parameter, not 4, and fp16 is refused by DeepSpeed itself ("unsupported
    // mix", engine.py get_data_types).
    if (accum !== undefined && !fp32Accum)
      throw new UserError(`${named(jsonAt(o, ds.text, "data_types.grad_accum_dtype", accum))} at ZeRO stage 0 with ${bf16Key}: BF16_Optimizer would accumulate the gradients in that type, and paraplan prices its fp32 accumulation (2 bytes a parameter more); leave grad_accum_dtype out or set "fp32"`);
    notes.push(`${named(key)}${staged ? ` with ${bf16Key}` : " without ZeRO"}: DeepSpeed runs BF16_Optimizer there with fp32 gradient accumulation (0.6.2 to 0.17.5, through the pipeline engine Megatron-DeepSpeed runs; from 0.17.6 it accumulates in bf16 by default): Adam states partitioned over dp, fp32 gradients kept whole beside the bf16 ones and all-reduced; the megatron-deepspeed engine prices it so, as ZeRO-0`);
  }
  // ZeRO-1 under bf16 with fp32 gradient accumulation asked for (data_types.grad_accum_dtype, from
  // 0.8.1) runs the same BF16_Optimizer (runtime/engine.py _do_optimizer_sanity_check @ v0.12.4:
  // bf16, fp32 accumulation, stage 1, no CPU offload), not DeepSpeed's ZeRO-1.
  if (zero === 1 && bf16Key !== undefined && fp32Accum)
    throw new UserError(`${named(jsonAt(o, ds.text, "data_types.grad_accum_dtype", accum))} with ${bf16Key} at ZeRO stage 1: DeepSpeed runs BF16_Optimizer there (fp32 gradients kept whole and all-reduced), not its ZeRO-1; paraplan prices BF16_Optimizer as zero_optimization.stage 0 under bf16: set that, or leave grad_accum_dtype to its default to plan DeepSpeed's ZeRO-1`);
  // Elsewhere DeepSpeed accumulates the gradients in a grad_accum_dtype other than the training
  // dtype in memory of its own: ZeRO-1 in a whole copy beside the 16-bit gradients
  // (stage_1_and_2.py fill_grad_accum_attribute, param.grad_accum), ZeRO-2 in its averaged
  // partition (get_flat_partition dtype=gradient_accumulation_dtype), ZeRO-3 in its gradient
  // partition buffer (stage3.py:538 grad_partitions_flat_buffer); fp16 without ZeRO it refuses
  // ("unsupported mix of model dtype and gradient accumulation type", engine.py
  // _do_optimizer_sanity_check) @ v0.16.0. paraplan prices the gradients in the training dtype.
  const trainDtype = on("fp16") ? "fp16" : bf16Key !== undefined ? "bf16" : autoPrecision.includes("fp16") ? "fp16" : undefined;
  const accumDtype = typeof accum === "string" ? dtypeOf(accum) : undefined;
  if (accum !== undefined && accum !== null && accumDtype === undefined)
    throw new UserError(`${named(jsonAt(o, ds.text, "data_types.grad_accum_dtype", accum))} is none of DeepSpeed's fp16, bf16, fp32 (runtime/config.py DtypeEnum)`);
  if (accumDtype !== undefined && trainDtype !== undefined && accumDtype !== trainDtype && !(zero === 0 && trainDtype === "bf16"))
    throw new UserError(`${named(jsonAt(o, ds.text, "data_types.grad_accum_dtype", accum))} at ZeRO stage ${zero} under ${trainDtype}: ${zero === 0 ? "DeepSpeed refuses the mix (unsupported mix of model dtype and gradient accumulation type)" : `DeepSpeed keeps ${zero === 1 ? "a whole extra copy of the gradients" : "the rank's gradient partition"} in ${accumDtype}, which paraplan does not model: it prices gradients in ${trainDtype}`}; leave grad_accum_dtype out or set "${trainDtype}"`);
  // fp32 training (neither bf16 nor fp16, and no "auto" the Trainer fills in): fp32 compute runs
  // at a fraction of the 16-bit peak, so it is refused as a torchtitan job in fp32 is, after the
  // layout and batch checks. Autocast keeps fp32 weights without 16-bit copies: not priced either.
  if (precision === undefined && autoPrecision.length === 0) {
    const autocast = ["torch_autocast", "amp"].find((k) => on(k));
    if (autocast) throw new UserError(`${o}: ${autocast}.enabled without bf16 or fp16 enabled: autocast mixed precision (fp32 weights, no 16-bit copies) is not modelled; paraplan prices DeepSpeed's bf16 and fp16 modes`);
    throw new UserError(`${o}: neither bf16 nor fp16 enabled: DeepSpeed trains in fp32, which paraplan does not model`);
  }
  return {
    engine: "deepspeed",
    sources: args ? [o, args.name] : [o],
    plan: { tp, pp, dp, ...cp, ep: f?.ep ?? 1, etp: f?.etp ?? 1, vpp: 1, zero, microBatch: micro, recompute, sequenceParallel: f?.sequenceParallel ?? false, schedule: "1f1b", ...(f?.stageLayers !== undefined && pp > 1 ? { stageLayers: f.stageLayers } : {}) },
    gpus: world.gpus,
    gpusFrom: world.from,
    globalBatch: tbs,
    ...(f?.seqLen !== undefined ? { seqLen: f.seqLen } : {}), ...(f?.headerBalance ? { stageSplit: f.headerBalance } : {}),
    ...(precision !== undefined ? { precision } : {}),
    // ZeRO-0 reduces after backward (DeepSpeed's engine); ZeRO 1-3 overlap when overlap_comm is on.
    overlapGradReduce: zero > 0 && overlap,
    ...(commType === "fp32" ? { gradReduceInFp32: true } : {}),
    bucketBytes,
    ...(maxReuseDistance !== undefined ? { maxReuseDistance } : {}),
    ...(zero === 1 && isObj(zo) && zo.reduce_scatter === false ? { zero1AllReduce: true } : {}),
    ...(f?.fusedAttention !== undefined ? { fusedAttention: f.fusedAttention } : {}),
    claims: f?.claims ?? [],
    ...(assumed.length > 0 ? { assumed } : {}),
    at,
    warnings,
    notes,
  };
}

/** The smallest gradient bucket paraplan prices, in 16-bit elements: 1 MiB, the floor of an engine
 *  file's dataParallel.bucketSize (planner/schema/engine.ts); below it the buckets' count, which the
 *  simulation plays one by one, grows past what it is meant for. */
const MIN_BUCKET_ELEMENTS = 2 ** 19;

/** The gradient bucket the run reduces in, bytes: zero_optimization.reduce_bucket_size elements of
 *  16-bit gradients (DeepSpeedZeroConfig, default 5e8, deepspeed/runtime/zero/config.py @ v0.16.0;
 *  the ipg buffers hold the training dtype, runtime/zero/stage_1_and_2.py), "auto" being the
 *  HuggingFace Trainer's hidden_size² (transformers integrations/deepspeed.py
 *  trainer_config_finalize); at ZeRO-0 the engine's fixed 5e8 (MEMORY_OPT_ALLREDUCE_SIZE,
 *  runtime/engine.py @ v0.16.0). Priced as the engine's bucketSize (planner/cost/engine-terms.ts
 *  engineBucketBytes), as the DeepSpeed export writes it. */
function reduceBucketBytes(ds: ConfigFile, zo: unknown, zero: number, ctx: ReadContext, notes: string[]): number {
  const DEFAULT = 5e8;
  const v = zero > 0 && isObj(zo) ? zo.reduce_bucket_size : undefined;
  if (v === undefined) return 2 * DEFAULT;
  if (v === "auto") {
    const h2 = ctx.model.hidden * ctx.model.hidden;
    notes.push(`${ds.name}: zero_optimization.reduce_bucket_size is "auto": read as the HuggingFace Trainer fills it, hidden_size² = ${h2.toLocaleString("en-US")} elements`);
    return 2 * h2;
  }
  if (typeof v !== "number" || !Number.isFinite(v) || v < 1) throw new UserError(`${named(jsonAt(ds.name, ds.text, "zero_optimization.reduce_bucket_size", v))}: must be a positive number of elements`);
  if (v < MIN_BUCKET_ELEMENTS)
    throw new UserError(`${named(jsonAt(ds.name, ds.text, "zero_optimization.reduce_bucket_size", v))}: paraplan prices gradient buckets from ${MIN_BUCKET_ELEMENTS.toLocaleString("en-US")} elements (1 MiB of 16-bit gradients)`);
  return 2 * Math.floor(v);
}

/** Where the ds_config states each value, beside its arguments file's (which come first: they
 *  must agree, and name the Megatron-DeepSpeed flag where both give it). */
function settingsAt(ds: ConfigFile, raw: Obj, args: SettingsAt | undefined): SettingsAt {
  const at: SettingsAt = { ...args };
  const keys: [AtKey, string][] = [
    ["microBatch", "train_micro_batch_size_per_gpu"], ["globalBatch", "train_batch_size"], ["zero", "zero_optimization.stage"],
    ["tp", "tensor_parallel.autotp_size"], ["precision", "bf16.enabled"], ["precision", "fp16.enabled"], ["recompute", "activation_checkpointing"],
  ];
  for (const [key, path] of keys) {
    const v = path.split(".").reduce<unknown>((x, k) => (isObj(x) ? x[k] : undefined), raw);
    if (v !== undefined && v !== "auto" && v !== false) at[key] ??= jsonAt(ds.name, ds.text, path, isObj(v) ? undefined : v);
  }
  return at;
}
