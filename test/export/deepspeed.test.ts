// The DeepSpeed export: ds_config.json values (batch arithmetic, ZeRO sections and their bucket
// sizes worked out by hand), when the Megatron-DeepSpeed arguments come along, and refusals.
import { afterAll, describe, expect, it } from "vitest";
import { type Training, layerParams } from "../../planner/index.js";
import { loadEngine } from "../../src/load-engine.js";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { GPT, LLAMA, argValue, h100, model, plan, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

/** A training on the engine the DeepSpeed export runs on (its settings as the test gives them). */
const onDs = (t: Training): Training => ({ ...t, engine: loadEngine("megatron-deepspeed") });
const ds = (r: ReturnType<typeof exportPlan>) => JSON.parse(r.files.find((f) => f.name === "ds_config.json")!.content);
const mds = (r: ReturnType<typeof exportPlan>) => r.files.find((f) => f.name === "megatron-deepspeed-args.txt")?.content;

describe("ds_config.json", () => {
  it("ZeRO-3, data parallel only: batch 512 = 2 × 4 × 64; the priced 5e8-element bucket, 0.9 h² prefetch, 10 h persistence, two layers live", () => {
    const m = model(LLAMA);
    const r = exportPlan("deepspeed", m, plan({ zero: 3, microBatch: 2, recompute: "full" }), onDs(training()), h100);
    expect(r.files.map((f) => f.name)).toEqual(["ds_config.json"]); // no tp, pp, SP, selective or fp8
    const twoLayers = Math.ceil(2 * layerParams(m));
    expect(ds(r)).toEqual({
      train_batch_size: 512,
      train_micro_batch_size_per_gpu: 2,
      gradient_accumulation_steps: 4,
      bf16: { enabled: true },
      zero_optimization: {
        stage: 3,
        overlap_comm: true,
        reduce_scatter: true,
        contiguous_gradients: true,
        // the megatron-deepspeed profile's dataParallel.bucketSize "1 GB" = 1e9 bytes / 2 bytes a
        // 16-bit gradient = 500,000,000 elements, the bucket the prediction prices
        reduce_bucket_size: 500_000_000,
        stage3_prefetch_bucket_size: Math.floor(0.9 * 8192 * 8192),
        stage3_param_persistence_threshold: 81920,
        stage3_max_live_parameters: twoLayers,
        // the reuse distance the price takes (the megatron-deepspeed profile's maxReuseDistance,
        // DeepSpeed's default 1e9): read back, the file prices the same re-gathers
        stage3_max_reuse_distance: 1_000_000_000,
      },
      activation_checkpointing: { partition_activations: false, contiguous_memory_optimization: false, cpu_checkpointing: false },
    });
    // Llama 3 70B layer: 8192·(8192 + 2·1024) + 8192² + 3·8192·28672 matrix weights + 2·8192 norm weights.
    expect(twoLayers).toBe(2 * (8192 * 10240 + 8192 * 8192 + 3 * 8192 * 28672 + 2 * 8192));
  });

  it("ZeRO-1 with tp 4: the priced bucket whatever tp (5e8 elements, not h²/4), fp16, overlap off as trained", () => {
    const r = exportPlan("deepspeed", model(GPT), plan({ tp: 4, zero: 1 }), onDs(training({ precision: "fp16", overlapGradReduce: false })), h100);
    expect(ds(r)).toEqual({
      train_batch_size: 512,
      train_micro_batch_size_per_gpu: 1,
      gradient_accumulation_steps: 32,
      fp16: { enabled: true },
      zero_optimization: {
        stage: 1,
        overlap_comm: false,
        reduce_scatter: true,
        contiguous_gradients: true,
        reduce_bucket_size: 500_000_000,
        allgather_partitions: true,
        allgather_bucket_size: 500_000_000,
      },
    });
  });

  it("ZeRO-0 (fp16) notes that DeepSpeed reduces after the backward pass", () => {
    const r = exportPlan("deepspeed", model(GPT), plan({}), training({ precision: "fp16" }), h100);
    expect(r.nearest).toBe(false);
    expect(ds(r).zero_optimization).toEqual({ stage: 0 });
    expect(r.notes.join(" ")).toContain("not overlapped");
  });

  // DeepSpeed 0.16 wraps bf16 without ZeRO in BF16_Optimizer (runtime/engine.py
  // _do_optimizer_sanity_check), which the megatron-deepspeed engine prices: written as it is,
  // stage 0, and read back so (BLOOM's run).
  it("ZeRO-0 under bf16 on the megatron-deepspeed engine is BF16_Optimizer: stage 0 written, said, and read back as ZeRO-0", () => {
    const m = model(GPT);
    const r = exportPlan("deepspeed", m, plan({ pp: 2 }), onDs(training()), h100);
    expect(r.nearest).toBe(false);
    expect(r.plan.zero).toBe(0);
    expect(ds(r).zero_optimization.stage).toBe(0);
    expect(ds(r).bf16).toEqual({ enabled: true });
    expect(r.notes.join(" ")).toContain("runs DeepSpeed's BF16_Optimizer");
    expect(r.notes.join(" ")).toContain("as predicted");
    const back = readConfigs(r.files.map((f) => tempFile(`bf16opt-${f.name}`, f.content)), { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.plan).toMatchObject({ pp: 2, zero: 0 });
    expect(back.notes.join(" ")).toContain("BF16_Optimizer");
  });

  // Predicted without that engine (plain ZeRO-0), the nearest plan DeepSpeed runs as priced is ZeRO-1.
  it("ZeRO-0 under bf16 predicted as plain data parallelism is exported as the nearest plan DeepSpeed runs, ZeRO-1, and reads back as ZeRO-1", () => {
    const m = model(GPT);
    const r = exportPlan("deepspeed", m, plan({ pp: 2 }), training(), h100);
    expect(r.nearest).toBe(true);
    expect(r.plan.zero).toBe(1);
    expect(ds(r).zero_optimization.stage).toBe(1);
    expect(argValue(mds(r)!, "--zero-stage")).toBe("1");
    expect(r.notes.join(" ")).toContain("BF16_Optimizer");
    expect(r.notes.join(" ")).not.toContain("not overlapped");
    const back = readConfigs(r.files.map((f) => tempFile(`bf16z0-${f.name}`, f.content)), { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.plan).toMatchObject({ pp: 2, zero: 1 });
  });
});

describe("Megatron-DeepSpeed at pp 1 without --no-pipeline-parallel", () => {
  // pretrain_gpt.py builds GPTModelPipe unless --no-pipeline-parallel, and DeepSpeed's pipeline
  // engine asserts ZeRO < 2 (pipe/engine.py @ v0.16.0), pp 1 or not: such a file at ZeRO-2 is refused.
  it("a ZeRO-2 config whose arguments drop the flag is refused, naming it", () => {
    const m = model(LLAMA);
    const r = exportPlan("deepspeed", m, plan({ tp: 2, pp: 1, zero: 2 }), onDs(training()), h100);
    expect(mds(r)).toMatch(/--no-pipeline-parallel/);
    const files = r.files.map((f) => tempFile(`nopp-${f.name}`, f.content.replace(/^--no-pipeline-parallel\s*$/m, "")));
    expect(() => readConfigs(files, { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" })).toThrow(/ZeRO-2 with .* lacking --no-pipeline-parallel: .*add --no-pipeline-parallel/);
    const kept = r.files.map((f) => tempFile(`withpp-${f.name}`, f.content));
    expect(readConfigs(kept, { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" }).plan).toMatchObject({ tp: 2, pp: 1, zero: 2 });
  });
});

describe("Megatron-DeepSpeed arguments, with tp or pp (or SP, selective recompute, fp8)", () => {
  it("tp 8 · pp 4 · ZeRO-1 · full recompute: DeepSpeed's checkpointing, --zero-stage 1, the ds_config named", () => {
    const r = exportPlan("deepspeed", model(LLAMA), plan({ tp: 8, pp: 4, zero: 1, recompute: "full", sequenceParallel: true }), training(), h100);
    const a = mds(r)!;
    expect(ds(r).gradient_accumulation_steps).toBe(256); // 512 / (2 · 1)
    expect(argValue(a, "--tensor-model-parallel-size")).toBe("8");
    expect(argValue(a, "--pipeline-model-parallel-size")).toBe("4");
    expect(argValue(a, "--no-pipeline-parallel")).toBeUndefined();
    expect(argValue(a, "--num-key-value-heads")).toBe("8");
    expect(argValue(a, "--normalization")).toBe("rmsnorm"); // Megatron-DeepSpeed's choices are lower case
    expect(argValue(a, "--use-rotary-position-embeddings")).toBe("");
    expect(argValue(a, "--checkpoint-activations")).toBe("");
    expect(argValue(a, "--deepspeed-activation-checkpointing")).toBe("");
    expect(argValue(a, "--sequence-parallel")).toBe("");
    expect(argValue(a, "--zero-stage")).toBe("1");
    expect(argValue(a, "--deepspeed_config")).toBe("ds_config.json");
    expect(argValue(a, "--use-flash-attn-v2")).toBe("");
  });
  it("tp 2 with ZeRO-2 and selective recompute: --no-pipeline-parallel keeps pp 1 off the pipeline engine", () => {
    const a = mds(exportPlan("deepspeed", model(GPT), plan({ tp: 2, zero: 2, recompute: "selective" }), training(), h100))!;
    expect(argValue(a, "--no-pipeline-parallel")).toBe("");
    expect(argValue(a, "--recompute-granularity")).toBe("selective");
    expect(argValue(a, "--checkpoint-activations")).toBeUndefined();
  });
  it("fp8 alone brings the arguments: --fp8-hybrid through Transformer Engine, bf16 in the ds_config", () => {
    const r = exportPlan("deepspeed", model(GPT), plan({ zero: 1 }), training({ precision: "fp8" }), h100);
    expect(ds(r).bf16).toEqual({ enabled: true });
    expect(argValue(mds(r)!, "--fp8-hybrid")).toBe("");
    expect(argValue(mds(r)!, "--transformer-impl")).toBe("transformer_engine");
  });
});

describe("plans DeepSpeed's pipeline engine cannot run", () => {
  const reason = (p: ReturnType<typeof plan>) => {
    try {
      exportPlan("deepspeed", model(GPT), p, training(), h100);
      return "accepted";
    } catch (e) {
      expect(e).toBeInstanceOf(ExportRefused);
      return (e as Error).message;
    }
  };
  it("ZeRO-2/3 with pp > 1, interleaving, GPipe; ZeRO-3 without a pipeline is fine", () => {
    expect(reason(plan({ pp: 2, zero: 2 }))).toContain("accepts ZeRO stages 0 and 1 only");
    expect(reason(plan({ tp: 8, pp: 4, vpp: 2, schedule: "interleaved" }))).toContain("one stage per rank");
    expect(reason(plan({ tp: 8, pp: 8, schedule: "gpipe" }))).toContain("not GPipe");
    expect(reason(plan({ zero: 3 }))).toBe("accepted");
  });
});
