// DeepSpeed: ds_config.json for the plan, plus the Megatron-DeepSpeed pretrain_gpt.py arguments
// when the plan needs what a ds_config cannot say (tensor or pipeline parallel, sequence parallel,
// selective recompute, fp8). Key names: docs/_pages/config-json.md (deepspeedai/DeepSpeed @00376da4),
// deepspeed/runtime/zero/config.py (microsoft/DeepSpeed @03dc2b92, field aliases), deepspeed/runtime/
// constants.py (@088be892). Megatron-DeepSpeed flags: megatron/arguments.py (deepspeedai/
// Megatron-DeepSpeed @207b2d5a) and deepspeed/__init__.py _add_core_arguments (--deepspeed,
// --deepspeed_config). Lists recorded in test/export/fixtures/deepspeed-*.txt.
import { type Fixed, type ModelSpec, type Plan, type Training, bf16Optimizer, engineBucketBytes, engineGradReduceBytes, layerParams } from "../../planner/index.js";
import { deepspeedRefusal } from "../../planner/layout/capabilities.js";
import { deepspeed016Split } from "../../planner/layout/deepspeed-016-split.js";
import {
  type Engine,
  type EngineContext,
  type ExportFile,
  type Release,
  type Translation,
  argsFile,
  describe,
  llamaStyle,
  microBatches,
} from "./engine-plan.js";
import { factsInWords, megatronModelRefusal, normEpsOf, ropeThetaOf } from "./model-facts.js";
import { deepspeedMoeArgs, deepspeedMoeRefusal } from "./moe-args.js";
import { engineDispatchRefusal } from "./engine-dispatch.js";
import { modulesExportRefusal } from "./recompute-modules-export.js";
import { blockExportRefusal } from "./recompute-block-export.js";
import { deepspeedCpArgs, deepspeedCpTrainingRefusal } from "./cp-args.js";

export const DEEPSPEED_RELEASES: readonly Release[] = [
  {
    id: "0.16",
    label:
      "DeepSpeed 0.16+ (docs/_pages/config-json.md at deepspeedai/DeepSpeed @00376da4) with Megatron-DeepSpeed (megatron/arguments.py at deepspeedai/Megatron-DeepSpeed @207b2d5a)",
    // partition_balanced of 0.12.5 and later (deepspeed-016-split.ts), not the engine's ≤ 0.12.4 rule
    stageSplit: "min-spread",
  },
];

export const DS_CONFIG = "ds_config.json";
export const MDS_ARGS = "megatron-deepspeed-args.txt";

/** Whether the plan needs Megatron-DeepSpeed's model (a plain ds_config cannot express it). */
export function needsMegatronDeepSpeed(p: Plan, precision: string, m?: ModelSpec): boolean {
  // A mixture of experts is built by Megatron-DeepSpeed's arguments (a ds_config has no experts),
  // and so is Ulysses (--ds-sequence-parallel-size).
  return p.cp > 1 || p.tp > 1 || p.pp > 1 || p.sequenceParallel || p.recompute === "selective" || precision === "fp8" || m?.moe !== undefined;
}

/** ZeRO bucket sizes, in elements (see README "deepspeed"):
 *  - reduce/allgather buckets: the gradient bucket the prediction prices, the engine's bucketSize
 *    (planner/cost/engine-terms.ts engineBucketBytes: two separate buffers of it in memory, the last
 *    one's reduction exposed) over 2 bytes a 16-bit gradient: the megatron-deepspeed profile's 5e8,
 *    DeepSpeed's own default (deepspeed/runtime/zero/config.py @ v0.16.0); plan --from reads it back
 *    (read-deepspeed.ts reduceBucketBytes);
 *  - ZeRO-3 prefetch 0.9·h²/tp and persistence 10·h (norm weights and biases stay whole), the
 *    ratios HuggingFace transformers derives from h (integrations/deepspeed.py,
 *    trainer_config_finalize);
 *  - ZeRO-3 live parameters of two layers (2 · layer parameters / tp): the two gathered layers
 *    paraplan's memory model counts for ZeRO-3 (planner/cost/memory.ts); the reuse distance the
 *    engine prices (dataParallel.maxReuseDistance: DeepSpeed's default 1e9, whose re-gathers under
 *    recompute planner/cost/regather.ts counts), which plan --from reads back as priced. */
export function zeroSection(ctx: EngineContext): Record<string, number | boolean> {
  const { model: m, plan: p, training: t } = ctx;
  const stage = p.zero;
  if (stage === 0) return { stage: 0 };
  const bucket = Math.round(engineBucketBytes(t.engine, p.dp * p.cp) / 2);
  const z: Record<string, number | boolean> = {
    stage,
    overlap_comm: t.overlapGradReduce,
    reduce_scatter: true,
    // DeepSpeed's default: gradients copied into one buffer as they are produced, against
    // fragmentation (paraplan's memory model assumes bounded fragmentation).
    contiguous_gradients: true,
    reduce_bucket_size: bucket,
  };
  if (stage < 3) {
    z.allgather_partitions = true;
    z.allgather_bucket_size = bucket;
    return z;
  }
  const twoLayers = Math.ceil((2 * layerParams(m)) / p.tp);
  z.stage3_prefetch_bucket_size = Math.floor((0.9 * m.hidden * m.hidden) / p.tp);
  z.stage3_param_persistence_threshold = 10 * m.hidden;
  z.stage3_max_live_parameters = twoLayers;
  const reuse = t.engine?.dataParallel.maxReuseDistance;
  if (reuse !== undefined && reuse !== null) z.stage3_max_reuse_distance = reuse;
  return z;
}

export function dsConfig(ctx: EngineContext): Record<string, unknown> {
  const { plan: p, training: t } = ctx;
  const c: Record<string, unknown> = {
    train_batch_size: t.globalBatch,
    train_micro_batch_size_per_gpu: p.microBatch,
    gradient_accumulation_steps: microBatches(t, p),
  };
  if (t.precision === "fp16") c.fp16 = { enabled: true };
  else c.bf16 = { enabled: true };
  c.zero_optimization = zeroSection(ctx);
  // Priced with fp32 gradient reduction (plan --grad-reduce-in-fp32; the megatron-deepspeed engine
  // reduces in the training dtype): DeepSpeed's communication_data_type (runtime/config.py, "fp32"
  // accepted since 0.5).
  if (engineGradReduceBytes(t) === 4) c.communication_data_type = "fp32";
  // BF16_Optimizer (ZeRO-0 under bf16) priced with fp32 gradient accumulation: the default of
  // DeepSpeed 0.9 to 0.17.5, stated so that 0.17.6 on (bf16 by default) runs the same.
  if (bf16Optimizer(t, p.zero)) c.data_types = { grad_accum_dtype: "fp32" };
  // Full recompute: whole layers checkpointed; checkpoints kept on the GPU and not partitioned
  // across tensor-parallel ranks, as paraplan's memory model counts them.
  if (p.recompute === "full")
    c.activation_checkpointing = { partition_activations: false, contiguous_memory_optimization: false, cpu_checkpointing: false };
  return c;
}

type Arg = [string, ...string[]];
const n = (x: number) => String(x);

export function megatronDeepSpeedArgs(ctx: EngineContext): Arg[] {
  const { model: m, plan: p, training: t } = ctx;
  const a: Arg[] = [];
  // _add_network_size_args
  a.push(["--num-layers", n(m.layers)], ["--hidden-size", n(m.hidden)], ["--ffn-hidden-size", n(m.ffnHidden)]);
  a.push(["--num-attention-heads", n(m.heads)]);
  if (m.headDim !== undefined) a.push(["--kv-channels", n(m.headDim)]);
  if (m.kvHeads !== m.heads) a.push(["--num-key-value-heads", n(m.kvHeads)]);
  a.push(["--max-position-embeddings", n(t.seqLen)]);
  if (m.positional === "rope") a.push(["--use-rotary-position-embeddings"]);
  const theta = ropeThetaOf(m);
  if (theta !== undefined) a.push(["--rotary-position-embeddings-theta", n(theta)]);
  if (m.mlp === "swiglu") a.push(["--swiglu"]);
  if (llamaStyle(m)) a.push(["--normalization", "rmsnorm"]);
  a.push(["--layernorm-epsilon", n(normEpsOf(m))]);
  if (!m.tiedEmbeddings) a.push(["--untie-embeddings-and-output-weights"]);
  // _add_regularization_args
  if (!m.dropout) a.push(["--attention-dropout", "0"], ["--hidden-dropout", "0"]);
  // _add_data_args
  a.push(["--seq-length", n(t.seqLen)]);
  // _add_distributed_args; --no-pipeline-parallel (_add_training_args) keeps pp 1 off DeepSpeed's
  // pipeline engine, which would refuse ZeRO-2/3.
  a.push(["--tensor-model-parallel-size", n(p.tp)], ["--pipeline-model-parallel-size", n(p.pp)]);
  if (p.pp === 1) a.push(["--no-pipeline-parallel"]);
  // _add_training_args
  if (p.sequenceParallel) a.push(["--sequence-parallel"]);
  a.push(...deepspeedCpArgs(p));
  a.push(["--micro-batch-size", n(p.microBatch)], ["--global-batch-size", n(t.globalBatch)]);
  // Full recompute through DeepSpeed's checkpointing (the old mechanism Megatron-DeepSpeed keeps:
  // --checkpoint-activations, _add_activation_checkpoint_args); selective through Megatron's.
  if (p.recompute === "full")
    a.push(["--checkpoint-activations"], ["--checkpoint-num-layers", "1"], ["--deepspeed-activation-checkpointing"]);
  if (p.recompute === "selective") a.push(["--recompute-granularity", "selective"]);
  if (llamaStyle(m)) a.push(["--disable-bias-linear"]);
  if (t.fusedAttention) a.push(["--use-flash-attn-v2"]);
  // _add_mixed_precision_args; fp8 through Transformer Engine (_add_transformer_engine_args).
  a.push([t.precision === "fp16" ? "--fp16" : "--bf16"]);
  if (t.precision === "fp8") a.push(["--fp8-hybrid"], ["--transformer-impl", "transformer_engine"]);
  // MoE arguments (deepspeed MoE group of megatron/arguments.py)
  a.push(...deepspeedMoeArgs(m, p));
  // _add_zero_args; deepspeed.add_config_arguments
  a.push(["--zero-stage", n(p.zero)], ["--deepspeed"], ["--deepspeed_config", DS_CONFIG]);
  return a;
}

/** The plan with the pipeline split DeepSpeed 0.16 gives it by itself (partition_method
 *  type:transformer: planner/layout/deepspeed-016-split.ts), and what to say of it: the plan as is
 *  where its split is DeepSpeed's, DeepSpeed's split in its place otherwise (the nearest plan the
 *  export can write: no argument states a split). Null where the split is too large to work out
 *  (deepspeedRefusal says so). */
function deepspeedSplitPlan(plan: Plan, moe: boolean): { plan: Plan; note?: string } | null {
  const given = plan.stageLayers;
  if (given === undefined) return { plan };
  const layers = given.reduce((a, b) => a + b, 0);
  const theirs = deepspeed016Split(layers, plan.pp, moe);
  if (theirs === null) return null;
  const how = "partition_method type:transformer, the smallest spread between stages";
  if (theirs.every((n, i) => n === given[i])) return { plan, note: `stages of ${given.join(",")} layers: DeepSpeed 0.16 splits the layers so by itself (${how}); no argument states it` };
  const even = theirs.every((n) => n === theirs[0]);
  const runs: Plan = { ...plan, stageLayers: theirs };
  if (even) delete runs.stageLayers;
  return { plan: runs, note: `DeepSpeed 0.16 splits the ${layers} layers over ${plan.pp} stages ${even ? "evenly" : `as ${theirs.join(",")}`} by itself (${how}), not ${given.join(",")}; exported and predicted with DeepSpeed's split` };
}

function translate(input: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  // (GPTModelPipe adds its MoE-loss spec where a layer has more than one expert)
  const experts = ctx.model.moe?.experts ?? 0;
  const split = deepspeedSplitPlan(input, experts > 1);
  // bf16 at ZeRO stage 0 runs BF16_Optimizer in DeepSpeed 0.16 (runtime/engine.py
  // _do_optimizer_sanity_check: fp32 gradient accumulation by default without ZeRO, get_data_types),
  // which the megatron-deepspeed engine prices (dataParallel.bf16OptimizerAtZero0): exported as
  // it is. Predicted as plain ZeRO-0 (a training without that engine), the nearest plan DeepSpeed
  // runs as priced is ZeRO-1 (DeepSpeedZeroOptimizer: bf16 accumulation under ZeRO).
  const zero0 = (split?.plan ?? input).zero === 0 && ctx.training.precision !== "fp16";
  const priced = zero0 && bf16Optimizer(ctx.training, 0);
  const bf16Zero0 = zero0 && !priced;
  const plan = bf16Zero0 ? { ...(split?.plan ?? input), zero: 1 as const } : split?.plan ?? input;
  const refused = deepspeedRefusal(plan, { experts });
  if (refused) return { kind: "refused", reason: refused.reason };
  // The prediction keeps Adam's moments in bf16; the ds_config written keeps them in fp32.
  // fp32 reduction at ZeRO-0/1 is priced with an fp32 gradient buffer; DeepSpeed's
  // communication_data_type casts each bucket and keeps 16-bit gradients (read-deepspeed.ts).
  if (engineGradReduceBytes(ctx.training) === 4 && plan.zero <= 1 && !bf16Optimizer(ctx.training, plan.zero))
    return { kind: "refused", reason: `fp32 gradient reduction (--grad-reduce-in-fp32) at ZeRO-${plan.zero}: DeepSpeed's communication_data_type "fp32" reduces fp32 copies of 16-bit gradients, not the fp32 gradient buffer predicted; use ZeRO-2/3, or drop the flag` };
  if (ctx.training.optimizerStates === "bf16") return { kind: "refused", reason: "--optimizer-states bf16: paraplan does not write DeepSpeed's low-precision optimizer states; the ds_config would keep fp32 moments and need more memory than predicted (use --format megatron, or drop the flag)" };
  // (DeepSpeed-MoE's experts: deepspeed/moe/sharded_moe.py _AllToAll, torch.distributed.all_to_all_single)
  const moe = modulesExportRefusal(plan, ctx.training, "Megatron-DeepSpeed", "its selective recompute, --recompute-granularity selective, checkpoints the attention core alone") ?? blockExportRefusal(plan, "Megatron-DeepSpeed", "--checkpoint-activations through deepspeed.checkpointing checkpoints each layer") ?? deepspeedMoeRefusal(ctx.model, plan) ?? engineDispatchRefusal(ctx.model, plan, ctx.training, "Megatron-DeepSpeed", "dispatches through DeepSpeed-MoE's 16-bit all-to-all on the critical path (deepspeed/moe/sharded_moe.py _AllToAll @ v0.16.0)") ?? deepspeedCpTrainingRefusal(ctx.model, plan, ctx.training);
  if (moe) return { kind: "refused", reason: moe };
  // Megatron-DeepSpeed's arguments build the model: refused where they cannot state it. A
  // ds_config alone carries no model: the user's model code must have its facts.
  const needsArgs = needsMegatronDeepSpeed(plan, ctx.training.precision, ctx.model);
  const model = needsArgs ? megatronModelRefusal(ctx.model, "megatron-deepspeed") : null;
  if (model) return { kind: "refused", reason: model };
  const notes = needsArgs ? [] : [`ds_config.json carries no model: your model code must build ${ctx.model.name} with ${factsInWords(ctx.model)}`, ...modelCodeNotes(plan, ctx.training, ctx.model)];
  if (split?.note !== undefined) notes.push(split.note);
  if (bf16Zero0) notes.push("ZeRO-0 under bf16 runs DeepSpeed's BF16_Optimizer (fp32 gradients kept whole and all-reduced, optimizer states partitioned), which this engine does not price; nearest: ZeRO-1, exported and predicted");
  if (priced) notes.push("ZeRO stage 0 under bf16 runs DeepSpeed's BF16_Optimizer (0.6.2 to 0.17.5 with fp32 gradient accumulation; from 0.17.6 set data_types.grad_accum_dtype \"fp32\" for the same): Adam states partitioned over dp, fp32 gradients kept whole beside the bf16 ones, all-reduced after the last micro-batch, then the updated weights all-gathered, as predicted");
  // Without ZeRO, DeepSpeed's engine all-reduces the gradients after the backward pass.
  if (plan.zero === 0 && ctx.training.overlapGradReduce && plan.dp > 1)
    notes.unshift("ZeRO-0: DeepSpeed reduces gradients after the backward pass, not overlapped with it; the prediction assumes overlap (plan with --no-grad-overlap to see the difference)");
  // DeepSpeed's pipeline engine turns overlap_comm off (runtime/engine.py _configure_zero_optimizer
  // @ v0.16.0: "Pipeline parallelism does not support overlapped communication"); plan --from
  // reads the files back so.
  if (plan.zero > 0 && plan.pp > 1 && ctx.training.overlapGradReduce && plan.dp > 1)
    notes.unshift("pipeline parallel: DeepSpeed's pipeline engine disables overlap_comm and reduces gradients after the backward pass; the prediction assumes overlap (plan with --no-grad-overlap to see the difference)");
  // Ulysses cuts the sequence contiguously; after its all-to-all every rank attends the whole
  // sequence for its heads, so the causal work is even either way.
  if (plan.cp > 1 && plan.cpSplit !== "contiguous") {
    notes.push("Megatron-DeepSpeed's Ulysses gives each sequence-parallel rank a contiguous part of the sequence (pretrain_gpt.py get_batch), not the zigzag cut; after the all-to-all each rank attends the whole sequence for its heads, so the work stays even");
    return { kind: "nearest", plan: { ...plan, cpSplit: "contiguous" }, notes };
  }
  if (plan !== input) return { kind: "nearest", plan, notes };
  return notes.length ? { kind: "exact", notes } : { kind: "exact" };
}

/** What the user's model code must do, with a ds_config alone, for the run to be the one priced:
 *  DeepSpeed's engine applies no activation checkpointing of its own (deepspeed/runtime/engine.py
 *  @ v0.16.0 never reads the activation_checkpointing section; deepspeed.checkpointing.configure
 *  does, activation_checkpointing/checkpointing.py), and the attention kernel is the model's. */
function modelCodeNotes(p: Plan, t: Training, m: ModelSpec): string[] {
  const recompute = p.recompute === "full"
    ? "full recompute priced: the activation_checkpointing section only configures deepspeed.checkpointing, which DeepSpeed's engine never applies (runtime/engine.py @ v0.16.0); your model code must call deepspeed.checkpointing.configure(None, deepspeed_config=\"ds_config.json\") and run every transformer layer through deepspeed.checkpointing.checkpoint(layer, hidden_states), one layer per call, keeping only each layer's input"
    : "no recompute priced: your model code must not checkpoint its transformer layers (deepspeed.checkpointing or torch.utils.checkpoint)";
  const attention = t.fusedAttention
    ? "fused attention priced: your model code must run a flash kernel (flash-attn, or torch.nn.functional.scaled_dot_product_attention on its flash or cuDNN backend), keeping no s×s scores; plan --from reads a ds_config with unfused attention unless given --attention fused"
    : "unfused attention priced (softmax(QKᵀ)V with the s×s scores kept for the backward, as an eager implementation runs it): a flash kernel or scaled_dot_product_attention in your model code needs less memory and time than predicted (export and read back with --attention fused then)";
  // (nor does a ds_config state the sequence: the data loader's; plan --from takes the model's)
  const seq = t.seqLen === m.defaultSeqLen ? [] : [`sequences of ${t.seqLen} tokens priced: your data loader must give them (a ds_config states no sequence length); plan --from reads a ds_config at ${m.name}'s ${m.defaultSeqLen} unless given --seq ${t.seqLen}`];
  return [recompute, attention, ...seq];
}

function overlays(_r: Release, _m: ModelSpec, t: Training): Fixed[] {
  // ZeRO-0 under fp16, and under bf16 where the engine prices DeepSpeed's BF16_Optimizer there
  // (translate above); with fp32 reduction ZeRO-2/3 only.
  // (BF16_Optimizer's stage 0 reduces its fp32 gradients as they are: there too)
  if (engineGradReduceBytes(t) === 4) return bf16Optimizer(t, 0) ? [{ pp: 1, zero: 2 }, { pp: 1, zero: 3 }, { zero: 0, vpp: 1, schedule: "1f1b" }] : [{ pp: 1, zero: 2 }, { pp: 1, zero: 3 }];
  if (t.precision === "fp16" || bf16Optimizer(t, 0)) return [{ pp: 1 }, { zero: 0, vpp: 1, schedule: "1f1b" }, { zero: 1, vpp: 1, schedule: "1f1b" }];
  return [{ pp: 1, zero: 2 }, { pp: 1, zero: 3 }, { zero: 1, vpp: 1, schedule: "1f1b" }];
}

function files(ctx: EngineContext): ExportFile[] {
  const out: ExportFile[] = [{ name: DS_CONFIG, content: JSON.stringify(dsConfig(ctx), null, 2) + "\n" }];
  if (needsMegatronDeepSpeed(ctx.plan, ctx.training.precision, ctx.model)) {
    const header = [
      `Megatron-DeepSpeed pretrain_gpt.py arguments: ${ctx.model.name} on ${ctx.training.gpus} x ${ctx.hw.gpuName}`,
      `plan: ${describe(ctx.plan)}`,
      `names from ${ctx.release.label}`,
      "add your data, tokenizer and learning-rate arguments, then:",
      "  deepspeed pretrain_gpt.py $(grep -v '^#' megatron-deepspeed-args.txt)",
    ];
    out.push({ name: MDS_ARGS, content: argsFile(header, megatronDeepSpeedArgs(ctx)) });
  }
  return out;
}

export const deepspeed: Engine = { format: "deepspeed", releases: DEEPSPEED_RELEASES, overlays, translate, files };
