// The ds_config sections beyond the batch, ZeRO stage and precision that read-deepspeed.ts reads:
// the run-level features that change what a step computes (refused), the "pipeline" section
// under DeepSpeed's pipeline engine, and ZeRO-3's parameter settings; and the keys read and left
// as they are, each with why (DeepSpeed @ v0.16.0).
import type { Recompute } from "../../planner/index.js";
import { headDim, layerMatrixParams } from "../../planner/model.js";
import { layerSubmodules } from "../../planner/cost/regather.js";
import { UserError } from "../errors.js";
import { jsonAt, named } from "./setting-at.js";
import type { ConfigFile, ReadContext } from "./read-config.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

// Read and left as they are, changing nothing paraplan prices (DeepSpeed @ v0.16.0):
// - fp16.loss_scale, initial_scale_power, loss_scale_window, hysteresis, consecutive_hysteresis,
//   min_loss_scale: static or dynamic loss scaling (fp16/loss_scaler.py) scales the loss and skips
//   an overflowed step; the step's kernels and bytes stay fp16's. fp16.auto_cast casts the inputs
//   (engine.py _cast_inputs_half), an element-wise pass.
// - bf16.immediate_grad_update: BF16_Optimizer adds each bf16 gradient to its fp32 copy from a hook
//   during the backward, not after it, keeping both (bf16_optimizer.py accumulate_hp_grads_and_
//   remove_lp, clear_lp_grads=False); graph_harvesting replays the step's norm and clip kernels
//   as CUDA graphs (bf16_optimizer.py graph_process).
// - gradient_clipping, prescale_gradients and gradient_predivide_factor (where DeepSpeed accepts
//   them): a norm and element-wise scaling of the same gradients; seq_parallel_comm_data_type:
//   Ulysses only (sequence_parallel_size > 1 is refused); disable_allgather: read into the config,
//   used nowhere.
// - zero_optimization.allgather_partitions (engine.py zero_allgather_partitions, called nowhere),
//   allgather_bucket_size (ZeRO-1/2's weight gather cut into calls of that many elements, the same
//   bytes: runtime/utils.py all_gather_dp_groups), use_multi_rank_bucket_allreduce and
//   round_robin_gradients (how the same reduction is bucketed and ordered), sub_group_size (the
//   ZeRO-3 step's fp32 gradient built one sub-group at a time, stage3.py _prepare_fp32_grad_for_
//   sub_group; paraplan prices no such transient), model_persistence_threshold (caps the
//   parameters param_persistence_threshold keeps whole), module_granularity_threshold (fewer,
//   larger gathers of the same bytes), memory_efficient_linear (ZeRO-3's autograd function for
//   linear layers, zero/linear.py), zero_quantized_nontrainable_weights (frozen weights only;
//   paraplan trains every weight), mics_hierarchical_params_gather (MiCS only, refused),
//   ignore_unused_parameters, load_from_fp32_weights, elastic_checkpoint,
//   stage3_gather_16bit_weights_on_model_save, pipeline_loading_checkpoint, override_module_apply,
//   cpu_offload_use_pin_memory (offload only, refused).
// - activation_checkpointing.number_checkpoints, contiguous_memory_optimization (the checkpoints
//   copied into one preallocated buffer under partition_activations: the same bytes),
//   synchronize_checkpoint_boundary and profile (the host waits for, or times, each checkpointed
//   layer; the device's work is the same); Megatron-DeepSpeed's own flags override all of them
//   (megatron/initialize.py setup_deepspeed_random_and_activation_checkpointing).
// - pipeline.stages, partition, seed_layers: the PipelineModule's own arguments decide.
// - Monitoring and I/O: steps_per_print, wall_clock_breakdown (CUDA-event timers, utils/timer.py,
//   read at print steps), dump_state, flops_profiler (one profiled step), tensorboard, wandb, csv_monitor, comet, timers, autotuning (the launcher's),
//   checkpoint, nebula, aio (NVMe offload only, refused), dataloader_drop_last, vocabulary_size,
//   zero_allow_untested_optimizer, zero_force_ds_cpu_optimizer (offload only), scheduler,
//   optimizer.params (Adam's hyperparameters; torch_adam aside), eigenvalue (read only under MoQ's
//   compression_training, refused).

/** A JSON value as Python's truth test takes it (DeepSpeed reads `enabled` as written, config.py
 *  get_scalar_param): false, null, 0, "", [] and {} are false, anything else true ("false" too). */
export const pyTruthy = (v: unknown): boolean =>
  !(v === undefined || v === null || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0));

/** Features a ds_config turns on that change what a step computes, which batch it runs or which
 *  engine runs it, beyond anything paraplan prices: refused by key, each only where DeepSpeed acts
 *  on it (its default, or enabled false, is read as absent). */
export function runFeatures(ds: ConfigFile, raw: Obj, zero: number): void {
  const o = ds.name;
  const at = (key: string, value: unknown) => named(jsonAt(o, ds.text, key, value));
  const enabled = (x: unknown) => isObj(x) && pyTruthy(x.enabled);
  // Elasticity computes its own train_batch_size, micro-batch and gradient accumulation from the
  // GPU count and overrides the file's (runtime/config.py DeepSpeedConfig.__init__,
  // elasticity/elasticity.py compute_elastic_config @ v0.16.0).
  if (enabled(raw.elasticity))
    throw new UserError(`${at("elasticity", undefined)} with enabled ${JSON.stringify((raw.elasticity as Obj).enabled)} lets DeepSpeed choose the batch sizes from the GPU count (overriding train_batch_size and train_micro_batch_size_per_gpu), which paraplan does not model: give the batch sizes the run uses and drop elasticity`);
  // Compression training (compression/config.py get_compression_config @ v0.16.0): quantization,
  // pruning and layer reduction of the model code's modules (compression/compress.py
  // init_compression; the engine's MoQ quantizer, runtime/engine.py _configure_quantization).
  const ct = raw.compression_training;
  if (isObj(ct)) {
    for (const [technique, v] of Object.entries(ct)) {
      const on = technique === "layer_reduction" ? enabled(v) : isObj(v) && enabled(v.shared_parameters);
      if (on) throw new UserError(`${at(`compression_training.${technique}`, undefined)} is enabled: DeepSpeed's compression training (${technique.replaceAll("_", " ")}) changes the model's modules, which paraplan does not model: it prices the dense model in 16 bits`);
    }
  }
  // Sequence-length curriculum: the engine hands the model a shorter sequence early in training
  // (legacy curriculum_learning with curriculum_type "seqlen", runtime/engine.py:1887-1889
  // @ v0.16.0), or Megatron-DeepSpeed truncates or reshapes each batch by the data-efficiency
  // curriculum's seqlen_truncate / seqlen_reshape metric (pretrain_gpt.py data_post_process @
  // deepspeedai/Megatron-DeepSpeed); a curriculum over another metric only orders the samples.
  const legacy = raw.curriculum_learning;
  if (enabled(legacy) && (legacy as Obj).curriculum_type === "seqlen")
    throw new UserError(`${at("curriculum_learning", undefined)} with curriculum_type "seqlen" trains on shorter sequences early on (a sequence-length curriculum), which paraplan does not model: it prices every step at the full sequence length`);
  const de = isObj(raw.data_efficiency) ? raw.data_efficiency : undefined;
  const sampling = de && isObj(de.data_sampling) ? de.data_sampling : undefined;
  const curriculum = sampling?.curriculum_learning;
  if (enabled(curriculum)) {
    const metrics = isObj((curriculum as Obj).curriculum_metrics) ? Object.keys((curriculum as Obj).curriculum_metrics as Obj) : [];
    const seqlen = metrics.find((k) => k === "seqlen_truncate" || k === "seqlen_reshape");
    if (seqlen !== undefined)
      throw new UserError(`${at("data_efficiency.data_sampling.curriculum_learning", undefined)} with the ${seqlen} metric trains on shorter sequences early on (a sequence-length curriculum), which paraplan does not model: it prices every step at the full sequence length`);
  }
  // Random layerwise token dropping: the engine reads random_ltd.enabled whatever data_efficiency
  // or data_routing say (runtime/engine.py random_ltd_enabled, :354 @ v0.16.0) and the middle
  // layers run on a subset of the tokens (data_routing/basic_layer.py RandomLayerTokenDrop).
  const routing = de && isObj(de.data_routing) ? de.data_routing : undefined;
  if (routing && enabled(routing.random_ltd))
    throw new UserError(`${at("data_efficiency.data_routing.random_ltd", undefined)} is enabled: random layerwise token dropping runs the middle layers on part of the tokens, which paraplan does not model: it prices every layer on every token`);
  // The hybrid engine of DeepSpeed-Chat (deepspeed/__init__.py:180 @ v0.16.0,
  // runtime/hybrid_engine.py): inference containers and kernels beside the training modules.
  if (enabled(raw.hybrid_engine))
    throw new UserError(`${at("hybrid_engine", undefined)} is enabled: DeepSpeed-Chat's hybrid engine (generation and training in one engine) is not modelled; paraplan prices DeepSpeed's training engine`);
  // Weights stored quantized at zero.Init (runtime/zero/partition_parameters.py:317, 1089 @ v0.16.0).
  const wq = raw.weight_quantization;
  if (isObj(wq) && pyTruthy(wq.quantized_initialization))
    throw new UserError(`${at("weight_quantization.quantized_initialization", undefined)} stores the linear weights quantized from zero.Init on, which paraplan does not model: it prices 16-bit weights`);
  // The comms logger makes every DeepSpeed collective blocking (comm/comm.py timed_op:
  // get_accelerator().synchronize() after each op), so nothing overlaps the communication; the
  // section's presence turns it on whatever its enabled says (comm/config.py:22
  // comms_logger_enabled = 'comms_logger' in ds_config; utils/comms_logging.py configure) @ v0.16.0.
  if (raw.comms_logger !== undefined)
    throw new UserError(`${at("comms_logger", undefined)}: its presence turns DeepSpeed's comms logger on (whatever enabled says), which synchronizes the GPU after every collective, so no communication overlaps compute; paraplan does not model that: drop the section to plan the run without it`);
  // memory_breakdown: rank 0 collects Python's garbage and logs memory at every forward, backward
  // and step (runtime/utils.py see_memory_usage, engine.py:1858, 2015, 2211 @ v0.16.0): host
  // stalls paraplan does not model.
  if (pyTruthy(raw.memory_breakdown))
    throw new UserError(`${at("memory_breakdown", raw.memory_breakdown)} has rank 0 collect Python's garbage and log memory at every forward, backward and step, host stalls paraplan does not model; drop it to plan the run without them`);
  // sparse_gradients: without ZeRO, DeepSpeed's own reduction turns every torch.nn.Embedding's
  // gradient into the rows it touched and all-gathers them (runtime/engine.py:334, :2478
  // SparseTensor, sparse_allreduce @ v0.16.0) instead of all-reducing the table; ZeRO's optimizers
  // reduce dense buckets whatever it says.
  if (zero === 0 && pyTruthy(raw.sparse_gradients))
    throw new UserError(`${at("sparse_gradients", raw.sparse_gradients)} without ZeRO all-gathers the touched rows of each embedding table's gradient instead of all-reducing it, which paraplan does not model: it prices a dense all-reduce`);
  // AutoEP (DeepSpeed after 0.16, runtime/config.py EXPERT_PARALLEL, docs/_pages/config-json.md
  // "Expert Parallel (AutoEP)" @ master): the engine swaps a HuggingFace model's MoE layers for
  // grouped-GEMM experts split over autoep_size ranks, an expert layout no file here states.
  if (enabled(raw.expert_parallel))
    throw new UserError(`${at("expert_parallel", undefined)} is enabled: DeepSpeed's AutoEP replaces the model's MoE layers with expert-parallel ones over autoep_size ranks, which paraplan does not read: it would price the model's experts on every rank (ep 1)`);
}

/** DeepSpeed-MoE layers (Megatron-DeepSpeed's --num-experts, deepspeed/moe/layer.py) under the
 *  ds_config: how their groups are placed and which ZeRO optimizer takes them (@ v0.16.0). */
export function deepspeedMoeLayers(ds: ConfigFile, raw: Obj, s: { ep: number; moe: boolean; paramGroup: boolean; zero: number; argsName: string | undefined }): void {
  const o = ds.name;
  // use_data_before_expert_parallelism builds the expert-parallel groups from ranks ep_stride
  // apart (utils/groups.py _create_expert_and_data_parallel: "D + E" instead of "E + D"), so the
  // experts' all-to-all leaves the consecutive ranks paraplan places it on.
  if (s.ep > 1 && pyTruthy(raw.use_data_before_expert_parallelism))
    throw new UserError(`${named(jsonAt(o, ds.text, "use_data_before_expert_parallelism", raw.use_data_before_expert_parallelism))} spreads each of the ${s.ep}-rank expert-parallel groups over ranks far apart (data parallel before expert parallel), which paraplan does not model: it places an expert-parallel group on consecutive ranks`);
  if (!s.moe) return;
  // runtime/engine.py:1600 `assert not self.has_moe_layers, "MoE not supported with Stage 3"`.
  if (s.zero === 3) throw new UserError(`${o}: ZeRO stage 3 with Megatron-DeepSpeed's experts: DeepSpeed asserts "MoE not supported with Stage 3" (runtime/engine.py:1600 @ v0.16.0), so the run stops at start`);
  // Megatron-DeepSpeed hands DeepSpeed its own optimizer, whose experts' parameters are a group of
  // their own only under --create-moe-param-group (megatron/optimizer/__init__.py:79); ZeRO-1/2
  // assert one (runtime/zero/stage_1_and_2.py:621-622 @ v0.16.0).
  if ((s.zero === 1 || s.zero === 2) && !s.paramGroup)
    throw new UserError(`${s.argsName ?? o}: --num-experts at ZeRO stage ${s.zero} without --create-moe-param-group: DeepSpeed's ZeRO optimizer asserts a param group marked MoE (runtime/zero/stage_1_and_2.py:621-622 @ v0.16.0), so the run stops at start; add --create-moe-param-group`);
}

/** The "pipeline" section (runtime/config.py get_pipeline_config @ v0.16.0: activation_checkpoint_
 *  interval 0, pipe_partitioned and grad_partitioned true by default), read by DeepSpeed's pipeline
 *  engine alone (runtime/pipe/engine.py); returns the recompute the run makes. */
export function pipelineSection(ds: ConfigFile, raw: Obj, run: { tp: number; pp: number; pipeEngine: boolean; argsName?: string | undefined; recompute: Recompute }, notes: string[]): Recompute {
  const o = ds.name;
  const pipe = raw.pipeline;
  if (pipe === undefined) return run.recompute;
  if (!isObj(pipe)) throw new UserError(`${named(jsonAt(o, ds.text, "pipeline", pipe))}: DeepSpeed reads the pipeline section as an object`);
  if (!run.pipeEngine) {
    notes.push(`${named(jsonAt(o, ds.text, "pipeline", undefined))}: read by DeepSpeed's pipeline engine only, which ${run.argsName ?? "the run"} does not run (--no-pipeline-parallel): it changes nothing`);
    return run.recompute;
  }
  // With tensor parallelism each tp rank sends 1/tp of a stage boundary's activation (and its
  // gradient back) and the tp group gathers it on arrival (pipe/engine.py:144-145
  // is_pipe_partitioned, is_grad_partitioned), the scatter/gather paraplan prices
  // (planner/wire/wire.ts pp-activation, pp-gather); false sends it whole from every tp rank.
  for (const k of ["pipe_partitioned", "grad_partitioned"]) {
    const v = pipe[k];
    if (v === undefined || v === true) continue;
    if (v !== false) throw new UserError(`${named(jsonAt(o, ds.text, `pipeline.${k}`, v))}: DeepSpeed's pipeline engine takes true or false (pipe/engine.py asserts a bool)`);
    if (run.tp > 1 && run.pp > 1)
      throw new UserError(`${named(jsonAt(o, ds.text, `pipeline.${k}`, false))} sends each stage boundary's ${k === "pipe_partitioned" ? "activations" : "gradients"} whole from every one of the ${run.tp} tensor-parallel ranks, which paraplan does not model: it prices DeepSpeed's default, each rank sending 1/${run.tp} and the tensor-parallel group gathering it`);
  }
  // activation_checkpoint_interval > 0 replaces the model's own interval (pipe/engine.py:212-213):
  // every N of the PipelineModule's layers checkpointed together (runtime/pipe/module.py forward).
  const every = pipe.activation_checkpoint_interval;
  if (every === undefined || every === 0) return run.recompute;
  const key = named(jsonAt(o, ds.text, "pipeline.activation_checkpoint_interval", every));
  if (typeof every !== "number" || !Number.isInteger(every) || every < 0) throw new UserError(`${key}: must be a whole number of layers`);
  if (every > 1)
    throw new UserError(`${key} checkpoints groups of ${every} layers (one stored input per group, the group rebuilt together), which paraplan does not model; it prices full recompute layer by layer (activation_checkpoint_interval 1)`);
  if (run.recompute !== "full") notes.push(`${key}: DeepSpeed's pipeline engine checkpoints every layer (overriding the model's own interval): read as full recompute`);
  return "full";
}

/** ZeRO-3's parameter settings (runtime/zero/config.py @ v0.16.0, each also under its stage3_ name);
 *  returns the reuse distance the run keeps gathered parameters within:
 *  - param_persistence_threshold (1e5; "auto": the HuggingFace Trainer's 10·h): a parameter of at
 *    most that many elements stays whole on every rank, never partitioned nor gathered
 *    (zero/partition_parameters.py:1122): past the smallest weight matrix it keeps matrices whole,
 *    where paraplan shards them all;
 *  - prefetch_bucket_size (5e7; "auto": 0.9·h²) and max_live_parameters (1e9) bound only the
 *    prefetch, min(bucket, max_live − live) elements gathered ahead of the submodule in use
 *    (zero/partitioned_param_coordinator.py:368-370); the megatron-deepspeed engine prices the
 *    layer in use gathered and none ahead (dataParallel.prefetchLayers 0), so a window deeper than
 *    both a layer's weights and DeepSpeed's default is refused;
 *  - max_reuse_distance (1e9): parameters used again within that many elements stay gathered
 *    (partitioned_param_coordinator.py __params_to_release): the engine's
 *    dataParallel.maxReuseDistance, which prices the gathers a recomputed forward repeats
 *    (planner/cost/regather.ts). */
export function zero3Settings(ds: ConfigFile, zo: Obj, ctx: ReadContext, tp: number, fusedQkv: boolean): number | undefined {
  const o = ds.name;
  const m = ctx.model;
  const setting = (name: string): { key: string; value: number; auto: boolean } | undefined => {
    const k = [`stage3_${name}`, name].find((x) => zo[x] !== undefined);
    if (k === undefined) return undefined;
    const v = zo[k];
    const auto = v === "auto" && (name === "param_persistence_threshold" || name === "prefetch_bucket_size");
    if (!auto && (typeof v !== "number" || !Number.isFinite(v) || v < 0))
      throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${k}`, v))}: must be a number of parameters`);
    // (the HuggingFace Trainer's fill-ins, transformers integrations/deepspeed.py trainer_config_finalize)
    const value = auto ? (name === "prefetch_bucket_size" ? 0.9 * m.hidden * m.hidden : 10 * m.hidden) : (v as number);
    return { key: `zero_optimization.${k}`, value, auto };
  };
  const shown = (s: { key: string; value: number; auto: boolean }) => named(jsonAt(o, ds.text, s.key, s.auto ? "auto" : s.value));
  // The smallest weight matrix a rank holds: a K or V projection where the model code builds them
  // apart (HuggingFace's k_proj, v_proj), else the smallest of Megatron's fused layer matrices;
  // MLA's compressions are not split over tp.
  const sub = layerSubmodules(m, tp);
  const smallest = m.mla
    ? Math.min(m.hidden * (m.mla.kvLoraRank + m.mla.qkRopeHeadDim), m.mla.qLoraRank > 0 ? m.hidden * m.mla.qLoraRank : Infinity)
    : Math.min(...sub, fusedQkv ? Infinity : (m.hidden * m.kvHeads * headDim(m)) / tp);
  const persist = setting("param_persistence_threshold");
  if (persist && persist.value >= smallest)
    throw new UserError(`${shown(persist)} keeps every parameter of up to ${Math.floor(persist.value).toLocaleString("en-US")} elements whole on each rank, weight matrices of ${Math.floor(smallest).toLocaleString("en-US")} among them, which paraplan does not model: it shards every weight matrix under ZeRO-3 (DeepSpeed's default 100,000 keeps only norms and biases whole)`);
  const bucket = setting("prefetch_bucket_size");
  const live = setting("max_live_parameters");
  const window = Math.min(bucket?.value ?? 5e7, live?.value ?? 1e9);
  const layer = layerMatrixParams(m) / tp;
  if (window > Math.max(5e7, layer)) {
    const by = bucket && (!live || bucket.value <= live.value) ? shown(bucket) : live ? shown(live) : o;
    throw new UserError(`${by} lets ZeRO-3 prefetch up to ${Math.floor(window).toLocaleString("en-US")} parameters ahead (the smaller of the prefetch bucket and max_live_parameters), more than a layer's ${Math.floor(layer).toLocaleString("en-US")}, which paraplan does not model: it prices the layer in use gathered and none ahead`);
  }
  return setting("max_reuse_distance")?.value;
}

/** No batch size: "auto" ones named (the HuggingFace Trainer fills them), with what to pass; a key
 *  of the file DeepSpeed does not know that reads like a batch size (`unknown`: "train_batch_sz")
 *  named, whose warning the refusal would otherwise leave unsaid. */
export function missingBatch(o: string, autos: string[], unknown: string[] = []): string {
  const near = unknown.filter((k) => /batch/i.test(k));
  const typo = near.length > 0 ? ` (the file's ${near.map((k) => `"${k}"`).join(", ")} ${near.length > 1 ? "are" : "is"} no DeepSpeed key)` : "";
  if (autos.length === 0) return `${o}: train_batch_size or train_micro_batch_size_per_gpu is required${typo}; add one to the file, or pass --global-batch`;
  const these = autos.length > 1 ? "are" : "is";
  return `${o}: ${autos.join(", ")} ${these} "auto" (the HuggingFace Trainer fills ${autos.length > 1 ? "them" : "it"} in from its TrainingArguments; paraplan reads the file alone): pass --global-batch B (micro-batch B / dp, gradient accumulation 1), or write train_micro_batch_size_per_gpu (per_device_train_batch_size) and gradient_accumulation_steps into the file`;
}
