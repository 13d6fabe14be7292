// torchtitan: the plan as its job configuration.
//  - "0.2": a TOML job file; section and key names from torchtitan/config/job_config.py
//    (pytorch/torchtitan v0.2.0, 29624e37, 2025-10-17), run with --job.config_file. (The
//    names were once pinned to @000204a4 of 2025-07-25, whose pipeline_parallel_split_points
//    3c84ce095 "Refactor PP splitting" deprecated and 6e06a49cd removed before the tag: v0.2.0
//    rejects the key, config/manager.py _dict_to_dataclass "Invalid field names".)
//  - "0.2.2" (the default: the newest release, first, as each engine lists its own): the same TOML
//    file with v0.2.2's names (job_config.py @ v0.2.2, 73a0e697, 2026-02-20; fixtures/
//    torchtitan-v0.2.2.txt), priced as v0.2.2 runs: its last pipeline stage frees each micro-batch's
//    logits (train.py:508 @ v0.2.2, return_outputs=False); DeepEP as expert_parallel_comm_backend
//    (titan-deepep-export.ts). [comm] mode = "default" (job_config.py:858 @ v0.2.2: real collectives,
//    as priced) is a key v0.2.0 lacks, so `plan --from` dates the file v0.2.1+ (titan-release-keys.ts).
//  - "main": releases that replaced the TOML files with Python configurations
//    (torchtitan/config/README.md @1b4a5caf) keep the --section.option command-line overrides,
//    frozen; names from torchtitan/config/configs.py (@0014ac2c).
// Lists recorded in test/export/fixtures/torchtitan-*.txt. ZeRO maps to FSDP2 (fully_shard):
// ZeRO-3 = shard with reshard_after_forward, ZeRO-2 = shard without (policy "never"), ZeRO-0 =
// replicate (DDP); ZeRO-1 has no equivalent without a pipeline. Beside a pipeline FSDP2 is ZeRO-1:
// torch.distributed.pipelining runs every micro-batch's backward with gradient sync and resharding
// off and reduces once after the last (stage.py backward_maybe_with_nosync, perform_reduce_grad),
// so the gathered parameters and an unsharded gradient stay for the step, one gather and one
// reduce-scatter a step (the torchtitan engine's zeroWithPipeline, profiles/engines/torchtitan.json).
import { type Fixed, type ModelSpec, type Plan, engineGradReduceBytes } from "../../planner/index.js";
import { torchtitanRefusal } from "../../planner/layout/capabilities.js";
import {
  type Engine,
  type EngineContext,
  type ExportFile,
  type Release,
  type Translation,
  argsFile,
  capabilityContext,
  describe,
  layersPerStage,
} from "./engine-plan.js";
import { factsInWords } from "./model-facts.js";
import { type TitanModelOf, TITAN_MODELS, flavorFactsInWords, flexWords, titanFlavorOf } from "./titan-flavors.js";
import { torchtitanMoeRefusal } from "./moe-args.js";
import { asksDeepep, engineDispatchRefusal } from "./engine-dispatch.js";
import { modulesExportRefusal } from "./recompute-modules-export.js";
import { everyNthFor } from "../../planner/cost/nth-recompute.js";
import { everyNthReading } from "../format/recompute-depth.js";
import { deepepEntryNote, titanV022DispatchRefusal } from "./titan-deepep-export.js";
import { titanCpTrainingRefusal, titanCpValues } from "./cp-args.js";
import { type TomlValue, writeToml } from "./toml.js";

export const TORCHTITAN_RELEASES: readonly Release[] = [
  // trainer.py steps the pipeline with return_outputs=False (train.py:508 @ v0.2.2): the last stage
  // frees each micro-batch's logits.
  { id: "0.2.2", label: "torchtitan v0.2.2 TOML job files (torchtitan/config/job_config.py at pytorch/torchtitan v0.2.2, 73a0e697, 2026-02-20)", keptOutputBytes: 0 },
  { id: "0.2", label: "torchtitan v0.2.0 TOML job files (torchtitan/config/job_config.py at pytorch/torchtitan v0.2.0, 29624e37, 2025-10-17)" },
  // main calls pp_schedule.step(..., return_outputs=False) (trainer.py, from e5ef99aa, #1922,
  // v0.2.1; torch >= 2.10): its last stage frees each micro-batch's logits. v0.2.0 keeps them, as
  // the torchtitan engine profile does.
  { id: "main", label: "torchtitan main, Python configurations with --section.option overrides (torchtitan/config/configs.py at pytorch/torchtitan @0014ac2c)", keptOutputBytes: 0 },
];

/** Whether the release writes a TOML job file (v0.2.0's and v0.2.2's names), not main's overrides. */
export const writesToml = (release: Release): boolean => release.id !== "main";

/** torch.distributed.pipelining schedule names (schedules.py get_schedule_class). */
export const TITAN_SCHEDULE = {
  "1f1b": "1F1B",
  gpipe: "GPipe",
  interleaved: "Interleaved1F1B",
  zb1p: "InterleavedZeroBubble",
  zbv: "ZBVZeroBubble",
  dualpipev: "DualPipeV",
} as const;

/** torchtitan's own registry entry that builds m (a v0.2.0 flavor with m's sizes, titan-flavors.ts),
 *  and why this plan cannot run it where it cannot: the job then names no model, for the user's
 *  own entry. */
function titanModel(m: ModelSpec, p: Plan, seqLen: number): (TitanModelOf & { blocked?: string }) | null {
  const tm = titanFlavorOf(m);
  if (tm === null) return null;
  const { name, f } = tm;
  // (read-titan-model.ts refuses the same settings in `plan --from`)
  const blocked =
    f.flex && p.cp > 1 ? `runs FlexAttention, with which torchtitan v0.2.0 runs no context parallel (NotImplementedError "CP support for FlexAttention is still in progress.", ${TITAN_MODELS[name]!.flexCp} @ v0.2.0), and this plan has cp ${p.cp}`
    : !TITAN_MODELS[name]!.pipelines && p.pp > 1 ? `has no pipelining_fn (train.py:221-226 @ v0.2.0 raises "Pipeline Parallel is enabled but ${name} does not support pipelining"), and this plan has pp ${p.pp}`
    : f.chunked && seqLen > f.chunked.block ? `attends within blocks of ${f.chunked.block} tokens on most layers (iRoPE), shorter than the ${seqLen}-token sequence priced`
    : undefined;
  return blocked ? { ...tm, blocked } : tm;
}

/** The header's line on the model a job file names, and a note where the flavor builds another
 *  model than m in what costs nothing (RoPE frequencies, the norm's epsilon). */
function modelFacts(m: ModelSpec, tm: TitanModelOf | null, seqLen: number): { line: string; note?: string } {
  // The job file has no model keys beyond name and flavor: the registry entry builds the model.
  if (tm === null) return { line: `model facts the registry entry must have (the job file cannot state them): ${factsInWords(m)}` };
  const { name, flavor, f } = tm;
  const theirs = flavorFactsInWords(m, f, seqLen);
  const source = name === "llama3" ? "llama3_args; RoPEScalingArgs, applied to every flavor: torchtitan/models/llama3/model/args.py @ v0.2.0" : `${f.at}, model/args.py @ v0.2.0`;
  const line = `${name} flavor "${flavor}" builds ${m.name}'s sizes with ${theirs} (${source})`;
  if (theirs === factsInWords(m)) return { line };
  const hint = name === "llama3" ? " (rope_scaling_args=RoPEScalingArgs(scaling_factor=1.0) is no scaling)" : "";
  return {
    line,
    note: `torchtitan's ${name} flavor "${flavor}" builds ${theirs}, where ${m.name} has ${factsInWords(m)}: the same cost, other numerics; for ${m.name}'s own, register a flavor with its values${hint} and name it in [model]`,
  };
}

/** The parallelism section, shared by both releases (keys of class Parallelism / ParallelismConfig). */
export function parallelism(ctx: EngineContext): Record<string, TomlValue> {
  const { model: m, plan: p, release } = ctx;
  const sharded = p.zero >= 2 || (p.zero === 1 && p.pp > 1); // ZeRO-1 only beside a pipeline (translate)
  const v: Record<string, TomlValue> = {
    data_parallel_replicate_degree: sharded ? 1 : p.dp,
    data_parallel_shard_degree: sharded ? p.dp : 1,
  };
  // FSDP shards over dp_shard · cp (the dp_shard_cp mesh), so cp alone has something to shard.
  if (sharded && p.dp * p.cp > 1) v.fsdp_reshard_after_forward = p.zero === 3 ? "always" : "never";
  v.tensor_parallel_degree = p.tp;
  // Async TP overlaps the TP collectives with compute; paraplan's prediction keeps them exposed.
  v.enable_async_tensor_parallel = false;
  if (release.id === "main" && p.tp > 1) v.enable_sequence_parallel = p.sequenceParallel;
  v.pipeline_parallel_degree = p.pp;
  if (p.pp > 1) {
    v.pipeline_parallel_schedule = TITAN_SCHEDULE[p.schedule];
    const parts = writesToml(release) ? explicitStages(m, p) : undefined;
    if (parts) {
      // Each stage's modules by name (pipeline_module_split): the split paraplan priced, as is.
      v.module_fqns_per_model_part = moduleFqns(parts);
    } else {
      // Stages of `per` layers: the embedding and the output count as no layer (the two "less
      // layers" 0), so generate_llm_fqn_per_model_part cuts S = layers / per equal stages, the
      // embedding on the first and norm and output on the last (pipeline_parallel.py @ v0.2.0).
      v.pipeline_parallel_layers_per_stage = layersPerStage(m, p);
      v.pipeline_parallel_first_stage_less_layers = 0;
      v.pipeline_parallel_last_stage_less_layers = 0;
    }
    v.pipeline_parallel_microbatch_size = p.microBatch;
    // v0.2.1+ overlaps DualPipeV's expert-parallel all-to-all with another micro-batch's compute by
    // default (job_config.py:420, pipeline_parallel.py:216-219 @ v0.2.2), which paraplan does not
    // price (read-titan-moe.ts refuses it unset): off.
    if (release.id === "0.2.2" && p.schedule === "dualpipev" && p.ep > 1) v.pipeline_parallel_expert_parallel_overlap = false;
  }
  Object.assign(v, titanCpValues(p, release.id));
  if (p.ep > 1) v.expert_parallel_degree = p.ep;
  if (release.id === "0.2.2" && asksDeepep(m, p, ctx.training)) v.expert_parallel_comm_backend = "deepep";
  return v;
}

/** The stages v0.2.0's TOML states module by module, or undefined where layers per stage say
 *  them: uneven stages, and a multi-stage schedule at one stage per rank (zb1p at vpp 1), whose
 *  count pipeline_llm refuses from pipeline_parallel_layers_per_stage ("Multi-stage schedule
 *  requires at least 2 stages per rank") but takes as module_fqns_per_model_part: torch's
 *  ScheduleInterleavedZeroBubble runs any number of stages per rank, as paraplan's worker does. */
function explicitStages(m: EngineContext["model"], p: Plan): readonly number[] | undefined {
  if (p.stageLayers) return p.stageLayers;
  if (p.vpp === 1 && p.schedule === "zb1p") return Array.from({ length: p.pp }, () => m.layers / p.pp);
  return undefined;
}

/** Stages as torchtitan's module names (tok_embeddings, layers.N, norm, output: the llama3
 *  Transformer's, torchtitan/models/llama3/model/model.py @ v0.2.0): stage s holds the layers after
 *  the stages before it, the first the embedding too, the last the final norm and output. */
export function moduleFqns(stageLayers: readonly number[]): string[][] {
  let at = 0;
  return stageLayers.map((n, i) => [
    ...(i === 0 ? ["tok_embeddings"] : []),
    ...Array.from({ length: n }, () => `layers.${at++}`),
    ...(i === stageLayers.length - 1 ? ["norm", "output"] : []),
  ]);
}

/** [training]: with a pipeline the local batch is the whole per-replica batch, split into
 *  micro-batches of pipeline_parallel_microbatch_size; without one it is the micro-batch and
 *  torchtitan accumulates gradients up to global_batch_size. */
export function training(ctx: EngineContext): Record<string, TomlValue> {
  const { plan: p, training: t } = ctx;
  return {
    local_batch_size: p.pp > 1 ? t.globalBatch / p.dp : p.microBatch,
    global_batch_size: t.globalBatch,
    seq_len: t.seqLen,
    mixed_precision_param: "bfloat16",
    // FSDP2's reduce dtype, Literal["float32"] in every release (translate refuses 16-bit).
    mixed_precision_reduce: "float32",
  };
}

export function activationCheckpoint(ctx: EngineContext): Record<string, TomlValue> {
  const p = ctx.plan;
  // A depth: every N-th layer (0.2's layer option, cost/nth-recompute.ts; translate refuses a
  // depth no N gives, and main's overrides, which have no option).
  const every = p.recompute === "full" && p.recomputeLayers !== undefined ? everyNthFor(p, ctx.model.layers, p.recomputeLayers) : null;
  if (every !== null) return { mode: "selective", selective_ac_option: String(every) };
  const v: Record<string, TomlValue> = { mode: p.recompute };
  if (p.recompute === "selective" && writesToml(ctx.release)) v.selective_ac_option = "op";
  return v;
}

/** Why the file cannot run the plan's depth (Plan.recomputeLayers), or null: torchtitan re-runs
 *  every N-th layer a rank counts (0.2's selective_ac_option "N"), not each stage's first N. */
function depthRefusal(plan: Plan, ctx: Omit<EngineContext, "plan">): string | null {
  const n = plan.recompute === "full" ? plan.recomputeLayers : undefined;
  if (n === undefined) return null;
  if (!writesToml(ctx.release))
    return `recomputeLayers ${n}: the plan's full recompute re-runs ${n} layers of each stage, and torchtitan main has no layer option (its activation checkpointing is full or per op: distributed/activation_checkpoint.py @0014ac2c); use --release 0.2, or drop recomputeLayers from the plan`;
  if (everyNthFor(plan, ctx.model.layers, n) === null)
    return `recomputeLayers ${n}: torchtitan re-runs every N-th layer a rank counts (activation_checkpoint.selective_ac_option "N", distributed/activation_checkpoint.py _apply_layer_sac @ v0.2.2), and no N re-runs ${n} layers of each stage here: the file would not run as priced; use --format megatron, or a depth an N gives`;
  return null;
}

function toml(ctx: EngineContext): string {
  const { model: m, plan: p, training: t, hw } = ctx;
  const found = titanModel(m, p, t.seqLen);
  const tm = found && found.blocked === undefined ? found : null;
  const modelValues: Record<string, TomlValue> = tm ? { name: tm.name, flavor: tm.flavor } : {};
  // torchao's Float8Linear, registered as "quantize.linear.float8" in v0.2.0
  // (components/quantization/float8.py; "float8" at @000204a4 is no converter there).
  if (t.precision === "fp8") modelValues.converters = ["quantize.linear.float8"];
  const header = [
    `torchtitan job config: ${m.name} on ${t.gpus} x ${hw.gpuName}`,
    `plan: ${describe(p, everyNthReading(ctx.model.layers))}`,
    `names from ${ctx.release.label}`,
    "run on every node: torchrun <launcher flags> -m torchtitan.train --job.config_file torchtitan.toml",
    modelFacts(m, tm, t.seqLen).line,
  ];
  const sections: { name: string; comment?: string[]; values: Record<string, TomlValue> }[] = [
    { name: "job", values: { description: `paraplan: ${describe(p, everyNthReading(ctx.model.layers))}` } },
    {
      name: "model",
      ...(tm ? {} : { comment: [found ? `torchtitan's ${found.name} flavor "${found.flavor}" builds ${m.name}'s sizes but ${found.blocked}: set name and flavor to your own registry entry` : `torchtitan ships no ${m.name}: set name and flavor to your model's registry entry`] }),
      values: modelValues,
    },
    { name: "training", values: training(ctx) },
    { name: "parallelism", values: parallelism(ctx) },
    { name: "activation_checkpoint", values: activationCheckpoint(ctx) },
  ];
  // Real collectives (the default, job_config.py:858 @ v0.2.2), and a key of v0.2.1+ that dates the file.
  if (ctx.release.id === "0.2.2") sections.push({ name: "comm", values: { mode: "default" } });
  return writeToml(sections, header);
}

function overrides(ctx: EngineContext): string {
  const lines: string[][] = [];
  const put = (section: string, values: Record<string, TomlValue>) => {
    for (const [k, v] of Object.entries(values)) {
      // Booleans are flags, given only where they differ from the default: --section.key, or
      // --section.no_key for false (the form torchtitan documents for its options, job_config.py
      // Checkpoint.initial_load_model_only). Defaults: async TP off, sequence parallel on.
      if (typeof v === "boolean") {
        if (v !== (k === "enable_sequence_parallel")) lines.push([`--${section}.${v ? "" : "no_"}${k}`]);
      } else lines.push([`--${section}.${k}`, Array.isArray(v) ? v.join(",") : String(v)]);
    }
  };
  put("training", training(ctx));
  put("parallelism", parallelism(ctx));
  put("activation_checkpoint", activationCheckpoint(ctx));
  const header = [
    `torchtitan command-line overrides: ${ctx.model.name} on ${ctx.training.gpus} x ${ctx.hw.gpuName}`,
    `plan: ${describe(ctx.plan, everyNthReading(ctx.model.layers))}`,
    `names from ${ctx.release.label}`,
    "append to your run: torchrun <launcher flags> -m torchtitan.train --module <yours> --config <yours> $(grep -v '^#' torchtitan-overrides.txt)",
    // (fp8: configs.py @0014ac2c has no converters option; plan --from reads these back as bf16
    // unless given --precision fp8, read-torchtitan.ts)
    `model facts your --module/--config must have (overrides cannot state them): ${factsInWords(ctx.model)}${ctx.training.precision === "fp8" ? ', the "float8" model converter (fp8 training; read back with --precision fp8)' : ""}`,
  ];
  return argsFile(header, lines as [string, ...string[]][]);
}

/** What each release's file runs for the experts' tokens, where an engine asks for other
 *  (engine-dispatch.ts): PyTorch's all-to-all collectives, 16-bit, on the critical path. v0.2.1
 *  added expert_parallel_comm_backend "deepep" (job_config.py:451 @ v0.2.1), which plan --from
 *  reads (read-titan-deepep.ts); main moved it into the model's Python configuration. */
const TITAN_DISPATCH = {
  "0.2.2": "dispatches with PyTorch's 16-bit all-to-all or DeepEP's 16-bit kernels (expert_parallel_comm_backend, job_config.py:474 @ v0.2.2), either on the critical path",
  "0.2": "dispatches with PyTorch's 16-bit all-to-all on the critical path: the 0.2 export writes v0.2.0's job_config.py, which has no expert_parallel_comm_backend (v0.2.1 added it, job_config.py:451 @ v0.2.1)",
  main: "dispatches with PyTorch's 16-bit all-to-all on the critical path unless the model's Python configuration says otherwise (make_token_dispatcher_config comm_backend, torchtitan/models/common/config_utils.py:360 @ b5bcd76c), which --section.option overrides cannot state",
} as const;

/** A setting the prediction was made with that no torchtitan release has a knob for, or null.
 *  mixed_precision_reduce is Literal["float32"] (job_config.py:239 @ v0.2.0, configs.py:66
 *  @0014ac2c; :207 @000204a4); FSDP2 reduce-scatters each block's gradients in its backward
 *  (docs/fsdp.md), with nothing to hold them to the end; attention is
 *  F.scaled_dot_product_attention (models/attention.py), a fused kernel. */
function unwritableSetting(t: Omit<EngineContext, "plan">["training"]): string | null {
  if (engineGradReduceBytes(t) === 2)
    return '--grad-reduce-in-bf16: torchtitan\'s training.mixed_precision_reduce takes "float32" only (Literal["float32"] in job_config.py @ v0.2.0 and configs.py @ main), so its gradients reduce in fp32; drop the flag, or use --format megatron';
  if (!t.overlapGradReduce)
    return "--no-grad-overlap: torchtitan's FSDP2 reduce-scatters each block's gradients during the backward and has no setting to wait for its end; drop the flag";
  if (!t.fusedAttention)
    return "--attention unfused: torchtitan runs F.scaled_dot_product_attention (torchtitan/models/attention.py), a fused kernel, and has no setting for a materialised one; drop the flag";
  return null;
}

function translate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  const refused = torchtitanRefusal(plan, capabilityContext(ctx.training, ctx.hw, ctx.release));
  if (refused) return { kind: "refused", reason: refused.reason };
  // torchtitan's AdamW keeps its moments in the parameters' fp32 (FSDP2 shards fp32 parameters).
  if (ctx.training.optimizerStates === "bf16") return { kind: "refused", reason: "--optimizer-states bf16: torchtitan's job file has no optimizer-state dtype; AdamW keeps fp32 moments, more memory than predicted (use --format megatron, or drop the flag)" };
  const setting = unwritableSetting(ctx.training) ?? modulesExportRefusal(plan, ctx.training, "torchtitan", "activation_checkpoint.selective_ac_option is per-op or every n-th layer: job_config.py:651-660, distributed/activation_checkpoint.py @ v0.2.2")
    ?? depthRefusal(plan, ctx);
  if (setting) return { kind: "refused", reason: setting };
  const id = ctx.release.id as keyof typeof TITAN_DISPATCH;
  const named = titanModel(ctx.model, plan, ctx.training.seqLen);
  const family = named && named.blocked === undefined ? named.name : undefined;
  const dispatch = id === "0.2.2" ? titanV022DispatchRefusal(ctx.model, plan, ctx.training, family, TITAN_DISPATCH[id]) : engineDispatchRefusal(ctx.model, plan, ctx.training, `torchtitan ${id === "0.2" ? "v0.2.0" : "main"}`, TITAN_DISPATCH[id]);
  const moe = torchtitanMoeRefusal(ctx.model, plan) ?? dispatch ?? titanCpTrainingRefusal(plan, ctx.training);
  if (moe) return { kind: "refused", reason: moe };
  const old = writesToml(ctx.release);
  const p = { ...plan };
  const notes: string[] = [];
  // FSDP2 "never" is ZeRO-2 without a pipeline and ZeRO-1 beside one (the header above).
  const piped = p.pp > 1;
  const never = piped ? 1 : 2;
  const neverWords = `FSDP2 "never", i.e. ZeRO-${never}${piped ? " beside a pipeline" : ""}`;
  if (p.cp > 1 && p.zero === 0) {
    p.zero = never;
    notes.push(`cp > 1: torchtitan applies FSDP over the data-parallel and context-parallel ranks together (the dp_shard_cp mesh, torchtitan/distributed/parallel_dims.py) whenever context parallel is on, so parameters cannot stay replicated; nearest: ${neverWords}`);
  }
  if (p.dp === 1 && p.cp === 1 && p.zero !== 0) {
    p.zero = 0;
    notes.push("dp 1: torchtitan has no data-parallel dimension to shard or replicate, so every ZeRO stage is ZeRO-0");
  }
  // Beside TP or PP without FSDP torchtitan trains in fp32 (maybe_enable_amp; the engine's
  // mixedPrecisionNeedsFsdp keeps the search from such plans, a --plan file may still name one).
  if (p.zero === 0 && p.cp === 1 && p.dp === 1 && (p.tp > 1 || p.pp > 1))
    return { kind: "refused", reason: `tp ${p.tp} · pp ${p.pp} on every GPU leaves no data-parallel rank for FSDP, and without it torchtitan turns mixed precision off beside TP or PP and trains in fp32 (maybe_enable_amp, torchtitan/distributed/utils.py), which paraplan does not model; leave GPUs for data parallel, or use --format megatron` };
  if (piped && p.zero >= 2) {
    notes.push(`ZeRO-${p.zero} beside a pipeline: torch.distributed.pipelining holds each FSDP2 stage's gradients unsharded until the last micro-batch and reduces them once (stage.py backward_maybe_with_nosync, perform_reduce_grad), with the gathered parameters kept (set_reshard_after_backward(False)); nearest: ${neverWords}, as paraplan prices it`);
    p.zero = 1;
  }
  if (p.zero === 1 && !piped) {
    p.zero = 2;
    notes.push('ZeRO-1 has no torchtitan equivalent without a pipeline (FSDP2 shards gradients along with optimizer states); nearest: fsdp_reshard_after_forward = "never", i.e. ZeRO-2');
  }
  if (p.zero === 0 && p.cp === 1 && p.dp > 1 && (p.tp > 1 || p.pp > 1)) {
    p.zero = never;
    notes.push(old
      ? `torchtitan ${ctx.release.id} runs DDP only without other parallelism ("DDP has not supported > 1D parallelism", models/llama3/infra/parallelize.py); nearest: ${neverWords}`
      : `DDP beside tensor or pipeline parallel turns torchtitan's mixed precision off (maybe_enable_amp, torchtitan/distributed/utils.py: an fp32 run); nearest: ${neverWords}`);
  }
  if (old && p.tp > 1 && !p.sequenceParallel) {
    p.sequenceParallel = true;
    notes.push(`torchtitan ${ctx.release.id}'s tensor parallel always runs norms sequence-parallel (apply_tp); nearest: sequence parallel on`);
  }
  if (old) {
    const found = titanModel(ctx.model, p, ctx.training.seqLen);
    const tm = found && found.blocked === undefined ? found : null;
    const facts = modelFacts(ctx.model, tm, ctx.training.seqLen).note;
    if (facts) notes.push(facts);
    const flex = tm ? flexWords(tm.name, tm.flavor, tm.f) : undefined;
    if (flex) notes.push(flex);
    if (found?.blocked) notes.push(`torchtitan's ${found.name} flavor "${found.flavor}" builds ${ctx.model.name}'s sizes but ${found.blocked}: [model] is left for your own registry entry`);
    const entry = ctx.release.id === "0.2.2" && asksDeepep(ctx.model, p, ctx.training) ? deepepEntryNote(family) : null;
    if (entry) notes.push(entry);
  }
  if (ctx.training.precision === "fp8" && !old)
    notes.push('fp8: add the "float8" model converter in your configuration (the model settings are not command-line options in these releases)');
  if (p.recompute === "selective")
    notes.push("torchtitan's selective checkpointing is per-op (it keeps matmul outputs), close to but not Megatron's attention-only recompute that paraplan models");
  if (p.zero !== plan.zero || p.sequenceParallel !== plan.sequenceParallel) return { kind: "nearest", plan: p, notes };
  return { kind: "exact", notes };
}

function overlays(release: Release): Fixed[] {
  // ZeRO-1: FSDP2 beside a pipeline (its plans without one translate as nearest, not searched).
  if (!writesToml(release)) return [{ zero: 0 }, { zero: 1 }, { zero: 2 }, { zero: 3 }];
  // 0.2 and 0.2.2: DDP only alone (llama3/infra/parallelize.py:151 @ v0.2.2); tensor parallel always sequence-parallel (tp 1 listed on its own, as
  // fixing sequence parallel excludes tp 1 in the planner's space).
  return [{ tp: 1, pp: 1, zero: 0 }, { tp: 1, zero: 1 }, { tp: 1, zero: 2 }, { tp: 1, zero: 3 }, { zero: 1, sequenceParallel: true }, { zero: 2, sequenceParallel: true }, { zero: 3, sequenceParallel: true }];
}

function files(ctx: EngineContext): ExportFile[] {
  if (writesToml(ctx.release)) return [{ name: "torchtitan.toml", content: toml(ctx) }];
  return [{ name: "torchtitan-overrides.txt", content: overrides(ctx) }];
}

export const torchtitan: Engine = {
  format: "torchtitan",
  releases: TORCHTITAN_RELEASES,
  overlays,
  translate,
  // (checked before the search too, so that the refusal names the flag rather than a plan)
  modelRefusal: (ctx) => unwritableSetting(ctx.training),
  files,
};
