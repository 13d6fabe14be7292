// torchtitan: the plan as its job configuration.
//  - "0.2": a TOML job file; section and key names from torchtitan/config/job_config.py
//    (pytorch/torchtitan @000204a4, 2025), run with --job.config_file.
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
import type { Fixed, Plan } from "../../planner/index.js";
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
import { torchtitanMoeRefusal } from "./moe-args.js";
import { titanCpTrainingRefusal, titanCpValues } from "./cp-args.js";
import { type TomlValue, writeToml } from "./toml.js";

export const TORCHTITAN_RELEASES: readonly Release[] = [
  { id: "0.2", label: "torchtitan 0.2 TOML job files (torchtitan/config/job_config.py at pytorch/torchtitan @000204a4, 2025)" },
  // main calls pp_schedule.step(..., return_outputs=False) (trainer.py, from e5ef99aa, #1922,
  // v0.2.1; torch >= 2.10): its last stage frees each micro-batch's logits. 0.2 (@000204a4) keeps
  // them, as the torchtitan engine profile does.
  { id: "main", label: "torchtitan main, Python configurations with --section.option overrides (torchtitan/config/configs.py at pytorch/torchtitan @0014ac2c)", keptOutputBytes: 0 },
];

/** torch.distributed.pipelining schedule names (schedules.py get_schedule_class). */
export const TITAN_SCHEDULE = {
  "1f1b": "1F1B",
  gpipe: "GPipe",
  interleaved: "Interleaved1F1B",
  zb1p: "InterleavedZeroBubble",
  zbv: "ZBVZeroBubble",
  dualpipev: "DualPipeV",
} as const;

/** torchtitan's own model registry names for paraplan presets it ships (torchtitan/models/llama3). */
function titanModel(name: string): { name: string; flavor: string } | null {
  const m = /^llama3[-_](8b|70b|405b)$/i.exec(name);
  return m ? { name: "llama3", flavor: m[1]!.toUpperCase() } : null;
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
    const per = layersPerStage(m, p);
    if (release.id === "0.2") {
      // Split points name the first module of stages 2 … S ("layers.k"), one every `per` layers.
      v.pipeline_parallel_split_points = p.stageLayers ? splitPoints(p.stageLayers) : Array.from({ length: p.pp * p.vpp - 1 }, (_, i) => `layers.${(i + 1) * per}`);
    } else {
      // main counts the embedding and the output as one layer each unless told not to; zero
      // keeps S = layers / per stages of equal size.
      v.pipeline_parallel_layers_per_stage = per;
      v.pipeline_parallel_first_stage_less_layers = 0;
      v.pipeline_parallel_last_stage_less_layers = 0;
    }
    v.pipeline_parallel_microbatch_size = p.microBatch;
  }
  Object.assign(v, titanCpValues(p, release.id));
  if (p.ep > 1) v.expert_parallel_degree = p.ep;
  return v;
}

/** Uneven stages as 0.2's split points: the first layer of stages 2 … p, "layers.N" with N the
 *  running sum of the stages before it (torchtitan pipeline_module_split; capabilities.ts refuses
 *  uneven stages for main, which has no split points). */
export function splitPoints(stageLayers: readonly number[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const n of stageLayers.slice(0, -1)) out.push(`layers.${(at += n)}`);
  return out;
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
    // FSDP2's reduce dtype: what the prediction assumed (Engine.dataParallel.gradReduceBytes).
    mixed_precision_reduce: t.engine?.dataParallel.gradReduceBytes === 2 ? "bfloat16" : "float32",
  };
}

export function activationCheckpoint(ctx: EngineContext): Record<string, TomlValue> {
  const v: Record<string, TomlValue> = { mode: ctx.plan.recompute };
  if (ctx.plan.recompute === "selective" && ctx.release.id === "0.2") v.selective_ac_option = "op";
  return v;
}

function toml(ctx: EngineContext): string {
  const { model: m, plan: p, training: t, hw } = ctx;
  const tm = titanModel(m.name);
  const modelValues: Record<string, TomlValue> = tm ? { ...tm } : {};
  if (t.precision === "fp8") modelValues.converters = ["float8"];
  const header = [
    `torchtitan job config: ${m.name} on ${t.gpus} x ${hw.gpuName}`,
    `plan: ${describe(p)}`,
    `names from ${ctx.release.label}`,
    "run on every node: torchrun <launcher flags> -m torchtitan.train --job.config_file torchtitan.toml",
    // The job file has no model keys beyond name and flavor: the registry entry builds the model.
    `model facts the registry entry must have (the job file cannot state them): ${factsInWords(m)}`,
  ];
  const sections: { name: string; comment?: string[]; values: Record<string, TomlValue> }[] = [
    { name: "job", values: { description: `paraplan: ${describe(p)}` } },
    {
      name: "model",
      ...(tm ? {} : { comment: [`torchtitan ships no ${m.name}: set name and flavor to your model's registry entry`] }),
      values: modelValues,
    },
    { name: "training", values: training(ctx) },
    { name: "parallelism", values: parallelism(ctx) },
    { name: "activation_checkpoint", values: activationCheckpoint(ctx) },
  ];
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
    `plan: ${describe(ctx.plan)}`,
    `names from ${ctx.release.label}`,
    "append to your run: torchrun <launcher flags> -m torchtitan.train --module <yours> --config <yours> $(grep -v '^#' torchtitan-overrides.txt)",
    `model facts your --module/--config must have (overrides cannot state them): ${factsInWords(ctx.model)}`,
  ];
  return argsFile(header, lines as [string, ...string[]][]);
}

function translate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  const refused = torchtitanRefusal(plan, capabilityContext(ctx.training, ctx.hw, ctx.release));
  if (refused) return { kind: "refused", reason: refused.reason };
  // torchtitan's AdamW keeps its moments in the parameters' fp32 (FSDP2 shards fp32 parameters).
  if (ctx.training.optimizerStates === "bf16") return { kind: "refused", reason: "--optimizer-states bf16: torchtitan's job file has no optimizer-state dtype; AdamW keeps fp32 moments, more memory than predicted (use --format megatron, or drop the flag)" };
  const moe = torchtitanMoeRefusal(ctx.model, plan) ?? titanCpTrainingRefusal(plan, ctx.training);
  if (moe) return { kind: "refused", reason: moe };
  const old = ctx.release.id === "0.2";
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
      ? `torchtitan 0.2 runs DDP only without other parallelism ("DDP has not supported > 1D parallelism", models/llama3/infra/parallelize.py); nearest: ${neverWords}`
      : `DDP beside tensor or pipeline parallel turns torchtitan's mixed precision off (maybe_enable_amp, torchtitan/distributed/utils.py: an fp32 run); nearest: ${neverWords}`);
  }
  if (old && p.tp > 1 && !p.sequenceParallel) {
    p.sequenceParallel = true;
    notes.push("torchtitan 0.2's tensor parallel always runs norms sequence-parallel (apply_tp); nearest: sequence parallel on");
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
  if (release.id === "main") return [{ zero: 0 }, { zero: 1 }, { zero: 2 }, { zero: 3 }];
  // 0.2: DDP only alone; tensor parallel always sequence-parallel (tp 1 listed on its own, as
  // fixing sequence parallel excludes tp 1 in the planner's space).
  return [{ tp: 1, pp: 1, zero: 0 }, { tp: 1, zero: 1 }, { tp: 1, zero: 2 }, { tp: 1, zero: 3 }, { zero: 1, sequenceParallel: true }, { zero: 2, sequenceParallel: true }, { zero: 3, sequenceParallel: true }];
}

function files(ctx: EngineContext): ExportFile[] {
  if (ctx.release.id === "0.2") return [{ name: "torchtitan.toml", content: toml(ctx) }];
  return [{ name: "torchtitan-overrides.txt", content: overrides(ctx) }];
}

export const torchtitan: Engine = { format: "torchtitan", releases: TORCHTITAN_RELEASES, overlays, translate, files };
