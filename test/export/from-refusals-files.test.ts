// `plan --from` on a ds_config, a torchtitan job file and paraplan's own launch files: a feature
// paraplan cannot express is exit 2 with one line naming the key, never a price for another run
// (README "How good is what you run today?"). Megatron's arguments in from-refusals.test.ts.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { planFromJson } from "../../src/plan-file.js";
import { cli, fixture, removeTemp, tempDir } from "./helpers.js";
import { accepted, refused, fileWriter } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-refusals-files");

describe("DeepSpeed ds_config.json", () => {
  const BASE = { train_batch_size: 512, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 3 } };
  const ds = (over: Record<string, unknown>) => file("json", JSON.stringify({ ...BASE, ...over }));
  const on8b = (over: Record<string, unknown>) => ["--model", "llama3-8b", "--gpus", "64", "--from", ds(over)];

  it("CPU offload in the older boolean forms and CPU activation checkpoints are refused like offload_optimizer", async () => {
    await refused(on8b({ zero_optimization: { stage: 2, cpu_offload: true } }), "zero_optimization.cpu_offload true (line 1) moves state to the CPU");
    await refused(on8b({ zero_optimization: { stage: 3, cpu_offload_param: true } }), "zero_optimization.cpu_offload_param true (line 1) moves state to the CPU");
    await refused(on8b({ activation_checkpointing: { partition_activations: true, cpu_checkpointing: true } }), "activation_checkpointing.cpu_checkpointing", "to the CPU");
    // false is the default: read.
    expect((await accepted(on8b({ zero_optimization: { stage: 3, cpu_offload: false }, activation_checkpointing: { cpu_checkpointing: false } }))).from.plan).toMatchObject({ zero: 3 });
    // A config written out over lines names the key's own line: cpu_offload is line 9 of this one.
    const lines = file("json", JSON.stringify({ ...BASE, zero_optimization: { stage: 2, cpu_offload: true } }, null, 2));
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", lines], "zero_optimization.cpu_offload true (line 9) moves state to the CPU");
  });

  // A block without a device offloads nothing: DeepSpeed's default device is "none"
  // (runtime/zero/offload_config.py); QA's {"pin_memory": true} was refused as moving state.
  it("an offload block offloads only with device cpu or nvme: without one, or \"none\", it is read", async () => {
    for (const block of [{ pin_memory: true }, { device: "none", pin_memory: true }])
      expect((await accepted(on8b({ zero_optimization: { stage: 2, offload_optimizer: block, offload_param: block } }))).from.plan).toMatchObject({ zero: 2 });
    await refused(on8b({ zero_optimization: { stage: 3, offload_param: { device: "nvme" } } }), "zero_optimization.offload_param (line 1) moves state to nvme");
    await refused(on8b({ zero_optimization: { stage: 2, offload_optimizer: { device: "gpu" } } }), 'zero_optimization.offload_optimizer.device "gpu" (line 1) is none of DeepSpeed\'s "none", "cpu" or "nvme"');
  });

  // bf16 at stage 0 runs BF16_Optimizer (DeepSpeed 0.6.2–0.17.5, and the pipeline engine since:
  // runtime/engine.py _do_optimizer_sanity_check), as BLOOM's own ds_config did: read as ZeRO-0,
  // which the megatron-deepspeed engine prices as BF16_Optimizer (dataParallel.bf16OptimizerAtZero0),
  // said in a note naming the key.
  it("bf16 at ZeRO stage 0 (BLOOM's ds_config) is read as ZeRO-0, priced as BF16_Optimizer and said naming the stage (or bf16.enabled); fp16 at stage 0 is plain ZeRO-0", async () => {
    const bloom = file("json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, train_batch_size: 512, zero_optimization: { stage: 0 }, bf16: { enabled: true } }, null, 2));
    const r = await accepted(["--model", "llama3-8b", "--gpus", "64", "--from", bloom]);
    expect(r.from.plan).toMatchObject({ zero: 0 });
    expect(r.from.notes.join(" ")).toContain("zero_optimization.stage 0 (line 5) with bf16: DeepSpeed runs BF16_Optimizer");
    const unstaged = await accepted(on8b({ zero_optimization: undefined }));
    expect(unstaged.from.plan).toMatchObject({ zero: 0 });
    expect(unstaged.from.notes.join(" ")).toContain("bf16.enabled true (line 1) without ZeRO: DeepSpeed runs BF16_Optimizer");
    expect((await accepted(on8b({ zero_optimization: undefined, bf16: undefined, bfloat16: { enabled: true } }))).from.notes.join(" ")).toContain("bfloat16.enabled true (line 1) without ZeRO");
    const fp16 = await accepted(on8b({ zero_optimization: { stage: 0 }, bf16: undefined, fp16: { enabled: true } }));
    expect(fp16.from.plan).toMatchObject({ zero: 0 });
    expect(fp16.from.notes.join(" ")).not.toContain("BF16_Optimizer");
    expect((await accepted(on8b({ zero_optimization: { stage: 1 } }))).from.plan).toMatchObject({ zero: 1 });
    // BF16_Optimizer accumulates in data_types.grad_accum_dtype (bf16_optimizer.py zeros_like(...,
    // dtype=grad_acc_dtype) @ v0.16): fp32 is what is priced; bf16 (2 bytes, not 4) is refused
    expect((await accepted(on8b({ zero_optimization: { stage: 0 }, data_types: { grad_accum_dtype: "fp32" } }))).from.plan).toMatchObject({ zero: 0 });
    await refused(on8b({ zero_optimization: { stage: 0 }, data_types: { grad_accum_dtype: "bf16" } }), 'data_types.grad_accum_dtype "bf16" (line 1) at ZeRO stage 0 with bf16');
    // its fp32 gradients reduced as they are (communication_data_type fp32: no cast), 4 bytes on the wire
    const fp32Wire = await cli(["plan", ...on8b({ zero_optimization: { stage: 0 }, communication_data_type: "fp32" }), "--json", "--top", "1"]);
    expect(fp32Wire.code, fp32Wire.stderr).toBe(0);
    expect(JSON.parse(fp32Wire.stdout).gradReduceBytes).toBe(4);
    // ZeRO-1 with fp32 gradient accumulation asked for is BF16_Optimizer too (_do_optimizer_sanity_check
    // @ v0.12.4: bf16, grad_accum_dtype fp32, stage 1): refused, pointing at stage 0, where it is
    // priced; bf16 accumulation is DeepSpeed's ZeRO
    await refused(on8b({ zero_optimization: { stage: 1 }, data_types: { grad_accum_dtype: "fp32" } }), 'data_types.grad_accum_dtype "fp32" (line 1) with bf16 at ZeRO stage 1: DeepSpeed runs BF16_Optimizer', "zero_optimization.stage 0");
    expect((await accepted(on8b({ zero_optimization: { stage: 1 }, data_types: { grad_accum_dtype: "bf16" } }))).from.plan).toMatchObject({ zero: 1 });
  });

  it("an optimizer other than Adam or AdamW is refused by name; Adam in any case is read", async () => {
    for (const type of ["SGD", "Adafactor", "Lamb", "OneBitAdam", "Lion"]) await refused(on8b({ optimizer: { type, params: { lr: 1e-4 } } }), `optimizer.type "${type}"`);
    expect((await accepted(on8b({ optimizer: { type: "adamw", params: { lr: 1e-4 } } }))).from.plan).toMatchObject({ zero: 3 });
  });

  it("MiCS and ZeRO++ hpZ shard ZeRO-3 within groups: refused", async () => {
    await refused(on8b({ zero_optimization: { stage: 3, mics_shard_size: 8 } }), "zero_optimization.mics_shard_size 8");
    await refused(on8b({ zero_optimization: { stage: 3, zero_hpz_partition_size: 8 } }), "zero_optimization.zero_hpz_partition_size 8");
  });

  it("communication_data_type: 16-bit (what the megatron-deepspeed engine prices) and fp32 (priced at 4 bytes a gradient) are read; another type is refused", async () => {
    await refused(on8b({ communication_data_type: "int8" }), "communication_data_type \"int8\"");
    await refused(on8b({ fp32_allreduce: true }), "fp32_allreduce");
    // DeepSpeed lower-cases the value; before 0.10 it spelt bf16 "bfp16" (runtime/config.py).
    for (const [type, bytes] of [["bf16", 2], ["bfp16", 2], ["fp16", 2], ["FP32", 4], ["fp32", 4]] as const) {
      const r = await cli(["plan", ...on8b({ communication_data_type: type }), "--json", "--top", "1"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).gradReduceBytes, type).toBe(bytes);
    }
  });

  // DeepSpeed takes enabled for truth (config.py get_bfloat16_enabled @ v0.16.0 returns the value as
  // written): "false" as a string trains in bf16 — refused rather than guessed.
  it("a string enabled other than \"auto\" is exit 2 naming it", async () => {
    await refused(on8b({ bf16: { enabled: "false" } }), 'bf16.enabled "false" (line 1) is a string');
    await refused(on8b({ bf16: undefined, fp16: { enabled: "true" } }), 'fp16.enabled "true" (line 1) is a string');
  });

  it("fp32 training (neither bf16 nor fp16 enabled) is exit 2, not priced as bf16", async () => {
    await refused(on8b({ bf16: { enabled: false } }), "neither bf16 nor fp16 enabled", "fp32");
    await refused(on8b({ bf16: undefined, torch_autocast: { enabled: true, dtype: "bfloat16" } }), "torch_autocast.enabled");
  });

  // QA: both were accepted silently and priced as dense attention over every layer. DeepSpeed
  // parses sparse_attention whenever it is there (runtime/config.py:296 @ v0.16.0) for the model's
  // SparseSelfAttention; progressive_layer_drop.enabled (default False) makes the engine hand the
  // model a keep probability each step (runtime/engine.py:348, 1881).
  it("sparse_attention and an enabled progressive_layer_drop change the compute: exit 2 naming the key; PLD disabled is read as absent", async () => {
    await refused(on8b({ sparse_attention: { mode: "fixed", block: 16, num_local_blocks: 4 } }), "sparse_attention (line 1) configures DeepSpeed's block-sparse attention", "dense attention");
    await refused(on8b({ progressive_layer_drop: { enabled: true, theta: 0.5, gamma: 0.001 } }), "progressive_layer_drop (line 1) with enabled true turns on progressive layer drop", "every layer every step");
    // DeepSpeed takes enabled for truth (get_scalar_param returns it as written): "false" is on
    await refused(on8b({ progressive_layer_drop: { enabled: "false" } }), 'with enabled "false" turns on');
    const off = await accepted(on8b({ progressive_layer_drop: { enabled: false, theta: 0.5 } }));
    expect(off.from.plan.tokensPerSecond).toBe((await accepted(on8b({}))).from.plan.tokensPerSecond);
  });

  // QA (every key DeepSpeed v0.16.0 reads): each of these exited 0 priced as the run without it.
  // Each is refused only where DeepSpeed acts on it; its default (or enabled false) is read.
  const tps = async (over: Record<string, unknown>) => (await accepted(on8b(over))).from.plan.tokensPerSecond;
  const z = (stage: number, more: Record<string, unknown> = {}) => ({ zero_optimization: { stage, ...more } });

  it("ZeRO switches: qwZ/qgZ at stage 3, reduce_scatter false at 2/3, contiguous_gradients false, all-reduce fetches, legacy_stage1, ZeRO-2's pre-scaling: exit 2 by key", async () => {
    // ZeRO++ quantisation acts under ZeRO-3 only (engine.py _configure_zero_optimizer): was a warning
    await refused(on8b(z(3, { zero_quantized_weights: true })), "zero_optimization.zero_quantized_weights true (line 1) gathers ZeRO-3's weights in int8 (ZeRO++ qwZ)");
    await refused(on8b(z(3, { zero_quantized_gradients: true })), "zero_optimization.zero_quantized_gradients true (line 1)", "int4 all-to-all");
    const below = await accepted(on8b(z(2, { zero_quantized_gradients: true })));
    expect(below.from.warnings).toEqual([]);
    expect(below.from.notes.join(" ")).toContain("zero_quantized_gradients true (line 1): DeepSpeed applies it under ZeRO stage 3 only");
    // reduce_scatter false all-reduces whole buckets (stage_1_and_2.py average_tensor, stage3.py:1314)
    for (const stage of [2, 3]) await refused(on8b(z(stage, { reduce_scatter: false })), "zero_optimization.reduce_scatter false (line 1)", `ZeRO-${stage}'s gradient buckets whole`);
    await refused(on8b(z(2, { contiguous_gradients: false })), "zero_optimization.contiguous_gradients false (line 1)");
    await refused(on8b(z(3, { stage3_use_all_reduce_for_fetch_params: true })), "zero_optimization.stage3_use_all_reduce_for_fetch_params true (line 1)", "all-reduce");
    await refused(on8b(z(1, { legacy_stage1: true })), "zero_optimization.legacy_stage1 true (line 1): DeepSpeed 0.5.9 and later raise");
    await refused(on8b({ ...z(2), prescale_gradients: true }), "prescale_gradients true (line 1) at ZeRO stage 2");
    await refused(on8b({ ...z(2), gradient_predivide_factor: 2 }), "gradient_predivide_factor 2 (line 1) at ZeRO stage 2");
    // defaults, and settings that change nothing priced, are read with the default's price
    const base2 = await tps(z(2));
    expect(await tps(z(2, { reduce_scatter: true, contiguous_gradients: true, allgather_partitions: false, round_robin_gradients: true, legacy_stage1: false }))).toBe(base2);
    expect(await tps({ ...z(1), prescale_gradients: true, gradient_predivide_factor: 2 })).toBe(await tps(z(1)));
  });

  it("ZeRO-1's reduce_scatter false is its all-reduce (Engine zero1AllReduce); stage3_max_reuse_distance is the engine's reuse distance", async () => {
    const one = await cli(["plan", ...on8b(z(1, { reduce_scatter: false })), "--json", "--top", "1"]);
    expect(one.code, one.stderr).toBe(0);
    const j = JSON.parse(one.stdout);
    expect(j.from.notes.join(" ")).toContain("zero_optimization.reduce_scatter false (line 1): DeepSpeed all-reduces ZeRO-1's gradients whole");
    expect(j.from.plan.time.dpComm).toBeGreaterThan((await accepted(on8b(z(1)))).from.plan.time.dpComm as number);
    // Under full recompute a reuse distance of 0 gathers every submodule again (regather.ts);
    // DeepSpeed's default 1e9 keeps Llama 3 8B's (2·later submodules < 1e9).
    const ckpt = { activation_checkpointing: {} };
    const dflt = await tps({ ...z(3, { stage3_max_reuse_distance: 1e9 }), ...ckpt });
    expect(dflt).toBe(await tps({ ...z(3), ...ckpt }));
    expect(await tps({ ...z(3, { stage3_max_reuse_distance: 0 }), ...ckpt })).toBeLessThan(dflt);
  });

  it("ZeRO-3 persistence and prefetch: matrices kept whole, or a prefetch window beyond a layer, exit 2; the HuggingFace \"auto\" values and the defaults are read", async () => {
    // Llama 3 8B's K projection: 4096 × 1024 = 4,194,304 elements
    await refused(on8b(z(3, { stage3_param_persistence_threshold: 1e7 })), "zero_optimization.stage3_param_persistence_threshold 10000000 (line 1) keeps every parameter of up to 10,000,000 elements whole", "4,194,304");
    await refused(on8b(z(3, { stage3_prefetch_bucket_size: 5e8 })), "zero_optimization.stage3_prefetch_bucket_size 500000000 (line 1) lets ZeRO-3 prefetch up to 500,000,000 parameters ahead", "218,103,808");
    const base3 = await tps(z(3));
    expect(await tps(z(3, { stage3_prefetch_bucket_size: "auto", stage3_param_persistence_threshold: "auto", stage3_max_live_parameters: 1e9, sub_group_size: 1e9 }))).toBe(base3);
    // max_live_parameters bounds the prefetch: a big bucket under a small one is read
    expect(await tps(z(3, { prefetch_bucket_size: 5e8, max_live_parameters: 1e8, param_persistence_threshold: 1e5 }))).toBe(base3);
  });

  it("data_types.grad_accum_dtype other than the training dtype under ZeRO (and fp16 without it): exit 2", async () => {
    for (const stage of [2, 3]) await refused(on8b({ ...z(stage), data_types: { grad_accum_dtype: "fp32" } }), `data_types.grad_accum_dtype "fp32" (line 1) at ZeRO stage ${stage} under bf16: DeepSpeed keeps the rank's gradient partition in fp32`);
    const fp16 = { bf16: undefined, fp16: { enabled: true } };
    await refused(on8b({ ...fp16, ...z(1), data_types: { grad_accum_dtype: "fp32" } }), "at ZeRO stage 1 under fp16: DeepSpeed keeps a whole extra copy of the gradients in fp32");
    await refused(on8b({ ...fp16, ...z(0), data_types: { grad_accum_dtype: "fp32" } }), "at ZeRO stage 0 under fp16: DeepSpeed refuses the mix");
    await refused(on8b({ ...z(3), data_types: { grad_accum_dtype: "fp64" } }), 'data_types.grad_accum_dtype "fp64" (line 1) is none of DeepSpeed\'s');
    expect((await accepted(on8b({ ...z(3), data_types: { grad_accum_dtype: "bfloat16" } }))).from.plan).toMatchObject({ zero: 3 });
  });

  it("apex amp and torch autocast beside bf16/fp16, fp16's unfused or legacy Adam step, sparse embedding gradients: exit 2", async () => {
    await refused(on8b({ amp: { enabled: true } }), "amp.enabled true (line 1) beside bf16.enabled: DeepSpeed refuses Apex amp");
    await refused(on8b({ torch_autocast: { enabled: true, dtype: "bfloat16" } }), "torch_autocast.enabled true (line 1) beside bf16.enabled");
    const fp16 = { bf16: undefined, fp16: { enabled: true }, ...z(0) };
    await refused(on8b({ ...fp16, optimizer: { type: "AdamW", params: { torch_adam: true } } }), "optimizer.params.torch_adam true (line 1) under fp16 without ZeRO", "FP16_UnfusedOptimizer");
    await refused(on8b({ ...fp16, optimizer: { type: "Adam", legacy_fusion: true } }), "optimizer.legacy_fusion true (line 1) under fp16 without ZeRO");
    await refused(on8b({ ...z(0), sparse_gradients: true }), "sparse_gradients true (line 1) without ZeRO all-gathers the touched rows");
    const base = await tps({});
    expect(await tps({ amp: { enabled: false }, torch_autocast: { enabled: false }, sparse_gradients: true, optimizer: { type: "AdamW", params: { torch_adam: true } } })).toBe(base);
  });

  it("elasticity, compression training, sequence-length curricula, random-LTD, the hybrid engine, quantized initialization, the comms logger, memory_breakdown: exit 2; disabled or order-only ones are read", async () => {
    await refused(on8b({ elasticity: { enabled: true, max_train_batch_size: 2048, micro_batch_sizes: [1, 2] } }), "elasticity (line 1) with enabled true lets DeepSpeed choose the batch sizes");
    await refused(on8b({ compression_training: { layer_reduction: { enabled: true, keep_number_layer: 16 } } }), "compression_training.layer_reduction (line 1) is enabled");
    await refused(on8b({ compression_training: { weight_quantization: { shared_parameters: { enabled: true } } } }), "compression_training.weight_quantization (line 1) is enabled");
    await refused(on8b({ curriculum_learning: { enabled: true, curriculum_type: "seqlen", min_difficulty: 64, max_difficulty: 8192 } }), 'curriculum_learning (line 1) with curriculum_type "seqlen"', "full sequence length");
    const sampling = (metric: string) => ({ data_efficiency: { enabled: true, data_sampling: { enabled: true, curriculum_learning: { enabled: true, curriculum_metrics: { [metric]: {} } } } } });
    await refused(on8b(sampling("seqlen_truncate")), "data_efficiency.data_sampling.curriculum_learning (line 1) with the seqlen_truncate metric");
    await refused(on8b({ data_efficiency: { data_routing: { random_ltd: { enabled: true } } } }), "data_efficiency.data_routing.random_ltd (line 1) is enabled");
    await refused(on8b({ hybrid_engine: { enabled: true } }), "hybrid_engine (line 1) is enabled");
    await refused(on8b({ weight_quantization: { quantized_initialization: { num_bits: 8 } } }), "weight_quantization.quantized_initialization (line 1)");
    // comm/config.py:22: the section's presence, whatever enabled says, makes every collective blocking
    await refused(on8b({ comms_logger: { enabled: false } }), "comms_logger (line 1): its presence turns DeepSpeed's comms logger on");
    await refused(on8b({ memory_breakdown: true }), "memory_breakdown true (line 1)");
    const base = await tps({});
    const off = await accepted(on8b({ elasticity: { enabled: false }, compression_training: { layer_reduction: { enabled: false } }, curriculum_learning: { enabled: false, curriculum_type: "seqlen" }, hybrid_engine: { enabled: false }, memory_breakdown: false, wall_clock_breakdown: true, ...sampling("vocabularyrarity") }));
    expect(off.from.plan.tokensPerSecond).toBe(base);
    expect(off.from.warnings).toEqual([]);
  });

  it("tensor-parallel and pipeline settings: partitioned checkpoints and AutoTP overlap at tp > 1, a pipeline checkpoint interval above 1, unpartitioned stage sends: exit 2; interval 1 is full recompute", async () => {
    const autotp = { tensor_parallel: { autotp_size: 4 } };
    await refused(on8b({ ...autotp, activation_checkpointing: { partition_activations: true } }), "activation_checkpointing.partition_activations true (line 1) splits each activation checkpoint over the 4 tensor-parallel ranks");
    await refused(on8b({ tensor_parallel: { autotp_size: 4, tp_overlap_comm: true } }), "tensor_parallel.tp_overlap_comm true (line 1)");
    await refused(on8b({ pipeline: { activation_checkpoint_interval: 2 } }), "pipeline.activation_checkpoint_interval 2 (line 1) checkpoints groups of 2 layers");
    const every = await accepted(on8b({ pipeline: { activation_checkpoint_interval: 1 } }));
    expect(every.from.plan).toMatchObject({ recompute: "full" });
    // over one tp rank partition_activations splits nothing
    expect((await accepted(on8b({ activation_checkpointing: { partition_activations: true } }))).from.plan).toMatchObject({ recompute: "full" });
    // pp 2 · tp 4 through the Megatron-DeepSpeed arguments: DeepSpeed's pipeline engine
    const args = file("txt", "--tensor-model-parallel-size 4\n--pipeline-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--bf16\n--zero-stage 1\n");
    const piped = (over: Record<string, unknown>) => ["--model", "llama3-8b", "--gpus", "64", "--from", ds({ zero_optimization: { stage: 1 }, ...over }), "--from", args];
    await refused(piped({ pipeline: { pipe_partitioned: false } }), "pipeline.pipe_partitioned false (line 1) sends each stage boundary's activations whole from every one of the 4 tensor-parallel ranks");
    // use_data_before_expert_parallelism acts on expert-parallel groups only: read without experts
    expect((await accepted(piped({ use_data_before_expert_parallelism: true, pipeline: { pipe_partitioned: true } }))).from.plan).toMatchObject({ pp: 2, tp: 4 });
  });

  // runtime/engine.py _configure_zero_optimizer @ v0.16.0: "Pipeline parallelism does not support
  // overlapped communication, will be disabled." It was priced overlapped.
  it("overlap_comm under DeepSpeed's pipeline engine is read as off, and said", async () => {
    const args = (pipe: boolean) => file("txt", `--tensor-model-parallel-size 4\n--micro-batch-size 1\n--global-batch-size 512\n--bf16\n--zero-stage 1\n${pipe ? "" : "--no-pipeline-parallel\n"}`);
    const run = (pipe: boolean, overlap: boolean) => accepted(["--model", "llama3-8b", "--gpus", "16", "--from", ds({ zero_optimization: { stage: 1, overlap_comm: overlap } }), "--from", args(pipe)]);
    const piped = await run(true, true);
    expect(piped.from.notes.join(" ")).toContain("zero_optimization.overlap_comm true (line 1): DeepSpeed's pipeline engine");
    expect(piped.from.plan.tokensPerSecond).toBe((await run(true, false)).from.plan.tokensPerSecond);
    expect((await run(false, true)).from.plan.tokensPerSecond).toBeGreaterThan((await run(false, false)).from.plan.tokensPerSecond as number);
  });
});

describe("torchtitan job files", () => {
  const BASE = {
    model: 'name = "llama3"\nflavor = "8B"',
    training: "local_batch_size = 1\nglobal_batch_size = 64\nseq_len = 8192",
    parallelism: "data_parallel_shard_degree = -1",
    activation_checkpoint: 'mode = "selective"\nselective_ac_option = "op"',
  };
  const toml = (over: Partial<Record<keyof typeof BASE, string>>) =>
    file("toml", Object.entries({ ...BASE, ...over }).map(([s, body]) => `[${s}]\n${body}\n`).join("\n"));
  const on8b = (over: Partial<Record<keyof typeof BASE, string>>, gpus = "8") => ["--model", "llama3-8b", "--gpus", gpus, "--from", toml(over)];

  it("the job's own file is read", async () => {
    expect((await accepted(on8b({}))).from.plan).toMatchObject({ dp: 8, zero: 3, recompute: "selective" });
  });

  it("without --model, a Llama 3 flavor torchtitan ships is its preset (8B: llama3-8b, the same plan and price); the debug model needs --model", async () => {
    const job = toml({});
    const alone = await cli(["plan", "--from", job, "--gpus", "8", "--json", "--top", "1"]);
    expect(alone.code, alone.stderr).toBe(0);
    const withModel = await accepted(["--model", "llama3-8b", "--gpus", "8", "--from", job]);
    const j = JSON.parse(alone.stdout);
    expect(j.model.name).toBe("llama3-8b");
    expect(j.from).toEqual(withModel.from);
    const debug = await cli(["plan", "--from", toml({ model: 'name = "llama3"\nflavor = "debugmodel"' }), "--gpus", "8"]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toContain("--model is required with --from");
  });

  it("CPU offload is refused as the other engines' is", async () => {
    await refused(on8b({ training: `${BASE.training}\nenable_cpu_offload = true` }), "training.enable_cpu_offload = true (line 9) moves state to the CPU");
  });

  it("HSDP (replicate and shard both above 1) is refused, not priced as sharding over their product", async () => {
    await refused(on8b({ parallelism: "data_parallel_replicate_degree = 2\ndata_parallel_shard_degree = 4" }), "data_parallel_replicate_degree = 2 (line 11) with data_parallel_shard_degree 4", "HSDP");
    // Pure replication (DDP) is ZeRO-0 and read.
    expect((await accepted(on8b({ parallelism: "data_parallel_replicate_degree = 8\ndata_parallel_shard_degree = 1" }))).from.plan).toMatchObject({ dp: 8, zero: 0 });
  });

  // 0.2's _apply_layer_sac wraps the blocks whose count on the rank is a multiple of N (activation_checkpoint.py
  // @ v0.2.0): on llama3-8b's 32 layers at pp 1, N = 2 re-runs 16, N = 3 re-runs 10 (3, 6, …, 30).
  it("layer-level selective checkpointing of every N-th layer is full recompute of ⌊32/N⌋ layers; 1 and 0 every layer, N past the layers none", async () => {
    const every = async (n: string) => (await accepted(on8b({ activation_checkpoint: `mode = "selective"\nselective_ac_option = "${n}"` }))).from as unknown as { plan: { recompute: string; recomputeLayers?: number }; notes: string[] };
    const two = await every("2");
    expect(two.plan).toMatchObject({ recompute: "full", recomputeLayers: 16 });
    expect(two.notes.join("\n")).toContain('activation_checkpoint.selective_ac_option = "2" (line 15): full recompute of every 2nd layer, 16 of each stage');
    expect((await every("3")).plan).toMatchObject({ recompute: "full", recomputeLayers: 10 });
    for (const n of ["1", "0"]) expect((await every(n)).plan).toEqual(expect.not.objectContaining({ recomputeLayers: expect.anything() }));
    expect((await every("1")).plan).toMatchObject({ recompute: "full" });
    const past = await every("33");
    expect(past.plan.recompute).toBe("none");
    expect(past.notes.join("\n")).toContain("every 33rd layer is past each stage's 32 layers: no recompute");
  });

  it("0.2's default option \"2\" is in force when the file leaves it unset (every second layer), said, not priced as per-op selective", async () => {
    // torchtitan v0.2.0 job_config.py ActivationCheckpoint: mode "selective", selective_ac_option "2".
    const unset = (await accepted(on8b({ activation_checkpoint: 'mode = "selective"' }))).from as unknown as { plan: object; notes: string[] };
    expect(unset.plan).toMatchObject({ recompute: "full", recomputeLayers: 16 });
    expect(unset.notes.join("\n")).toContain('activation_checkpoint.selective_ac_option not set: torchtitan\'s default "2": full recompute of every 2nd layer');
    const both = (await accepted(on8b({ activation_checkpoint: "" }))).from as unknown as { notes: string[] };
    expect(both.notes.join("\n")).toContain('default "2" (under the default mode, selective): full recompute of every 2nd layer');
    await refused(on8b({ activation_checkpoint: 'mode = "selective"\nselective_ac_option = "sometimes"' }), 'selective_ac_option = "sometimes" (line 15) is not "op" or a layer count');
    expect((await accepted(on8b({ activation_checkpoint: 'mode = "full"' }))).from.plan).toMatchObject({ recompute: "full" });
  });

  // torchtitan v0.2.x's llama3_405b.toml moved the setting under [quantize.linear.float8]; it was
  // read as unknown and the run priced with bf16 all-gathers, where 0.1's [float8] is refused.
  it("fp8 FSDP all-gathers are refused under 0.2's [quantize.linear.float8] as under 0.1's [float8]", async () => {
    await refused(on8b({ model: 'name = "llama3"\nflavor = "8B"\nconverters = ["float8"]', activation_checkpoint: 'mode = "full"\n[quantize.linear.float8]\nenable_fsdp_float8_all_gather = true' }), "quantize.linear.float8.enable_fsdp_float8_all_gather = true (line 17) gathers the FSDP parameters in fp8");
    const ok = await accepted(on8b({ model: 'name = "llama3"\nflavor = "8B"\nconverters = ["float8"]', activation_checkpoint: 'mode = "full"\n[quantize.linear.float8]\nenable_fsdp_float8_all_gather = false' }));
    expect(ok.from.plan).toMatchObject({ recompute: "full" });
  });

  // torchtitan v0.2.x's deepseek_v3 files name Interleaved1F1B with pipeline_parallel_degree 1,
  // where torchtitan builds no schedule; they were refused.
  it("a looped schedule named without a pipeline is not used, and said", async () => {
    const r = await accepted(on8b({ parallelism: 'data_parallel_shard_degree = -1\npipeline_parallel_degree = 1\npipeline_parallel_schedule = "Interleaved1F1B"' }));
    expect(r.from.plan).toMatchObject({ pp: 1, vpp: 1 });
    expect(r.from.notes.join(" ")).toContain("pipeline_parallel_schedule Interleaved1F1B is not used without a pipeline");
  });

  it("a pipeline schedule from a CSV file is refused", async () => {
    await refused(on8b({ parallelism: 'pipeline_parallel_degree = 2\npipeline_parallel_schedule = "1F1B"\npipeline_parallel_schedule_csv = "sched.csv"' }), "parallelism.pipeline_parallel_schedule_csv");
  });

  it("a Llama 3 flavor other than --model is a contradiction naming both; MX converters are refused, float8 is fp8", async () => {
    // (llama3/__init__.py:51 @ v0.2.0: dim 8192, n_layers 80, n_heads 64; FFN 28672, llama3-70b's)
    const line = await refused(on8b({ model: 'name = "llama3"\nflavor = "70B"' }), 'model.flavor = "70B" (line 3) builds llama3 "70B"', "not llama3-8b");
    expect(line).toContain("layers 80 (llama3-8b: 32), hidden 8192 (llama3-8b: 4096), heads 64 (llama3-8b: 32), ffnHidden 28672 (llama3-8b: 14336)");
    // (GPT-3 6.7B: the same 32 layers, hidden 4096 and 32 heads, but no grouped K/V heads, a GELU MLP, learned positions)
    const gpt = await refused(["--model", "gpt3-6.7b", "--gpus", "8", "--from", toml({ model: 'name = "llama3"\nflavor = "8B"' })], 'model.flavor = "8B"', "not gpt3-6.7b");
    expect(gpt).toContain("kvHeads 8 (gpt3-6.7b: 32)");
    expect(gpt).not.toContain("layers 32");
    // a flavor named after a JavaScript object member is no flavor (was read as one with no sizes)
    await refused(on8b({ model: 'name = "llama3"\nflavor = "constructor"' }), 'model.flavor = "constructor" (line 3) is not a llama3 flavor paraplan knows');
    await refused(on8b({ model: `${BASE.model}\nconverters = ["mx"]` }), 'model.converters = ["mx"] (line 4): paraplan models the float8 converter only (fp8 training), not MX formats');
    expect((await accepted(on8b({ model: `${BASE.model}\nconverters = ["float8"]` }))).precision).toBe("fp8");
  });
});

// A ds_config's train_batch_size of 10^300 was priced (a 300-digit step, MFU ∞%), and Megatron's
// --global-batch-size 6.4·10^13 exited 0: sizes read from files obey the flags' bounds.
describe("sizes a file states obey the flags' bounds", () => {
  it("global batch, micro-batch and sequence length beyond --global-batch, --micro-batch and --seq: exit 2 naming the bound and the file's setting", async () => {
    const ds = (o: Record<string, unknown>) => file("json", JSON.stringify({ train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 2 }, ...o }));
    await refused(["--model", "llama3-8b", "--from", ds({ train_batch_size: 1e300 })], "train_batch_size 1e+300 (line 1): global batch 1e+300 is not a whole number from 1 to 2,147,483,648, the bound paraplan plans within");
    await refused(["--model", "llama3-8b", "--from", ds({ train_batch_size: 2 ** 40 })], "global batch 1,099,511,627,776 is not a whole number");
    const meg = (extra: string) => file("txt", `--micro-batch-size 1\n--bf16\n${extra}\n`);
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", meg("--global-batch-size 64000000000000")], "--global-batch-size 64000000000000 (line 3): global batch 64,000,000,000,000 is not a whole number");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", meg("--global-batch-size 512\n--seq-length 999999999999")], "--seq-length 999999999999 (line 4): sequence length 999,999,999,999", "the bound paraplan plans within");
  });
});

// Settings that were priced as if absent: another model, another optimizer, compile and async TP,
// fp8 gathers, fp4, block-scaled fp8, Ulysses.
describe("settings that change the run are read or refused, not dropped", () => {
  const toml = readFileSync(fixture("user-llama3-8b-torchtitan.toml"), "utf8");
  const titan = (edit: (t: string) => string) => ["--model", "llama3-8b", "--gpus", "64", "--from", file("toml", edit(toml))];

  it("torchtitan: another model family or flavor, a non-Adam optimizer, fp8 parameter gathers: exit 2 by key", async () => {
    await refused(titan((t) => t.replace('flavor = "8B"', 'flavor = "debugmodel"')), 'model.flavor = "debugmodel" (line 20) builds llama3 "debugmodel"', "layers 6 (llama3-8b: 32)");
    await refused(titan((t) => t.replace('flavor = "8B"', 'flavor = "8B_custom"')), 'model.flavor = "8B_custom" (line 20) is not a llama3 flavor paraplan knows');
    await refused(titan((t) => t.replace('name = "llama3"', 'name = "deepseek_v3"')), 'model.flavor = "8B" (line 20) is not a deepseek_v3 flavor paraplan knows (debugmodel, debugmodel_flex_attn, 16B, 236B, 671B');
    for (const opt of ["SGD", "Lion"]) await refused(titan((t) => t.replace('name = "AdamW"', `name = "${opt}"`)), `optimizer.name = "${opt}" (line 24) holds other optimizer state than Adam`);
    await refused(titan((t) => t.replace("enable_fsdp_float8_all_gather = false", "enable_fsdp_float8_all_gather = true")), "float8.enable_fsdp_float8_all_gather");
  });

  it("torchtitan: compile.enable is the compiled engine; async TP its tensor-parallel overlap, and needs compile", async () => {
    const eager = await accepted(titan((t) => t));
    const compiled = await accepted(titan((t) => t.replace("compile = false", "compile = true")));
    expect((eager as unknown as { engine: string }).engine).toBe("torchtitan");
    expect((compiled as unknown as { engine: string }).engine).toBe("torchtitan-compile");
    const tp2 = (t: string) => t.replace("tensor_parallel_degree = 1", "tensor_parallel_degree = 2\nenable_async_tensor_parallel = true");
    await refused(titan(tp2), "parallelism.enable_async_tensor_parallel = true (line 45) needs torch.compile");
    const r = await cli(["plan", ...titan((t) => tp2(t).replace("compile = false", "compile = true"))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("tensor-parallel communication overlapped");
  });

  it("Megatron: another vocabulary, fp4, block-scaled fp8: exit 2 by flag; delayed and tensorwise fp8 read", async () => {
    const meg = (extra: string) => ["--model", "llama3-8b", "--gpus", "64", "--from", file("txt", `--tensor-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--bf16\n${extra}\n`)];
    await refused(meg("--vocab-size 32000"), "--vocab-size 32000 but the model llama3-8b has vocab 128256");
    await refused(meg("--fp4-format e2m1"), "--fp4-format", "trains in fp4");
    for (const recipe of ["blockwise", "mxfp8"]) await refused(meg(`--fp8-format hybrid\n--fp8-recipe ${recipe}`), `--fp8-recipe ${recipe}`);
    for (const recipe of ["delayed", "tensorwise"]) expect((await accepted(meg(`--fp8-format hybrid\n--fp8-recipe ${recipe}`))).precision).toBe("fp8");
  });

  it("DeepSpeed: sequence_parallel_size (Ulysses) > 1 is refused by key", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 512, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, sequence_parallel_size: 2 }));
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", ds], "sequence_parallel_size 2 (line 1) runs DeepSpeed-Ulysses");
  });
});

// paraplan's own launch files read as a ds_config ("train_batch_size … is required") or Megatron
// arguments ("--micro-batch-size is missing"); execute --plan on a run's launch.json said
// 'field "pp" … got undefined'.
describe("paraplan's own launch files", () => {
  it("--from names them and says where they go; --plan reads a launch spec's plan", async () => {
    const dir = tempDir();
    const r = await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    await refused(["--model", "llama3-8b", "--from", join(dir, "launch.json")], "is a paraplan launch spec, not an engine's configuration");
    await refused(["--model", "llama3-8b", "--from", join(dir, "torchrun.sh")], "launches paraplan's worker");
    const spec = JSON.parse(readFileSync(join(dir, "launch.json"), "utf8"));
    expect(planFromJson(spec, "launch.json")).toMatchObject({ tp: spec.plan.tp, pp: spec.plan.pp, dp: spec.plan.dp, microBatch: spec.plan.microBatch });
  });
});
