// The torchtitan export: FSDP2 mapping of ZeRO (exact where it exists, nearest with a note where
// not), pipeline stages, batch settings, both releases' forms.
import { describe, expect, it } from "vitest";
import type { Plan } from "../../planner/index.js";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { parseToml } from "../../src/engines/toml.js";
import { GPT, LLAMA, argValue, h100, model, plan, training } from "./helpers.js";

const toml = (p: Plan, over = {}) => {
  const r = exportPlan("torchtitan", model(LLAMA), p, training(over), h100);
  return { r, t: parseToml(r.files[0]!.content, "torchtitan.toml") as Record<string, Record<string, unknown>> };
};
const overrides = (p: Plan) => exportPlan("torchtitan", model(LLAMA), p, training(), h100, { release: "main" });

describe("torchtitan 0.2 TOML", () => {
  it("tp 8 · pp 4 · vpp 2 · ZeRO-1 · full: exact — FSDP2 beside a pipeline (never reshard), 8 stages of 10 layers, whole replica batch", () => {
    const { r, t } = toml(plan({ tp: 8, pp: 4, vpp: 2, zero: 1, recompute: "full", sequenceParallel: true, schedule: "interleaved" }));
    expect(r.files.map((f) => f.name)).toEqual(["torchtitan.toml"]);
    expect(r.plan.zero).toBe(1);
    // (the one note: the flavor's RoPE scaling, which this model, without one, does not have)
    expect(r.notes).toEqual([expect.stringContaining('torchtitan\'s llama3 flavor "70B" builds')]);
    expect(t.model).toEqual({ name: "llama3", flavor: "70B" });
    expect(t.training).toEqual({ local_batch_size: 256, global_batch_size: 512, seq_len: 2048, mixed_precision_param: "bfloat16", mixed_precision_reduce: "float32" });
    expect(t.parallelism).toEqual({
      data_parallel_replicate_degree: 1,
      data_parallel_shard_degree: 2,
      fsdp_reshard_after_forward: "never",
      tensor_parallel_degree: 8,
      enable_async_tensor_parallel: false,
      pipeline_parallel_degree: 4,
      pipeline_parallel_schedule: "Interleaved1F1B",
      // 80 layers / (pp 4 · vpp 2) = 10 a stage; ⌈(80 + 0 + 0) / 10⌉ = 8 stages (pipeline_llm @ v0.2.0)
      pipeline_parallel_layers_per_stage: 10,
      pipeline_parallel_first_stage_less_layers: 0,
      pipeline_parallel_last_stage_less_layers: 0,
      pipeline_parallel_microbatch_size: 1,
      context_parallel_degree: 1,
    });
    expect(t.activation_checkpoint).toEqual({ mode: "full" });
  });
  it("beside a pipeline ZeRO-2/3 are ZeRO-1 in torchtitan (gradients unsharded until the last micro-batch), said in a note; without one ZeRO-1 is ZeRO-2", () => {
    for (const zero of [2, 3] as const) {
      const { r, t } = toml(plan({ tp: 8, pp: 4, zero, recompute: "full", sequenceParallel: true }));
      expect(r.plan.zero).toBe(1);
      expect(r.notes.join(" ")).toContain(`ZeRO-${zero} beside a pipeline: torch.distributed.pipelining holds each FSDP2 stage's gradients unsharded`);
      expect((t.parallelism as Record<string, unknown>).fsdp_reshard_after_forward).toBe("never");
    }
    const { r } = toml(plan({ tp: 8, zero: 1, sequenceParallel: true }));
    expect(r.plan.zero).toBe(2);
    expect(r.notes[0]).toContain("ZeRO-1 has no torchtitan equivalent without a pipeline");
  });

  it("ZeRO-0 without other parallelism is DDP: replicate 64, shard 1, no resharding key", () => {
    const { r, t } = toml(plan({}));
    expect(r.notes.length).toBe(1); // the flavor's RoPE scaling
    expect(t.parallelism).toMatchObject({ data_parallel_replicate_degree: 64, data_parallel_shard_degree: 1 });
    expect(t.parallelism).not.toHaveProperty("fsdp_reshard_after_forward");
    expect(t.training).toMatchObject({ local_batch_size: 1, global_batch_size: 512 });
  });

  it("ZeRO-3 reshards always; selective is per-op, with a note", () => {
    const { r, t } = toml(plan({ zero: 3, recompute: "selective" }));
    expect(t.parallelism).toMatchObject({ data_parallel_shard_degree: 64, fsdp_reshard_after_forward: "always" });
    expect(t.activation_checkpoint).toEqual({ mode: "selective", selective_ac_option: "op" });
    expect(r.notes.join(" ")).toContain("per-op");
  });

  it("0.2 has no DDP beside tensor parallel and always runs TP sequence-parallel: nearest plan, noted", () => {
    const { r } = toml(plan({ tp: 2, zero: 0, sequenceParallel: false }));
    expect(r.plan).toMatchObject({ tp: 2, zero: 2, sequenceParallel: true });
    expect(r.notes.length).toBe(3); // DDP, sequence parallel, and the flavor's RoPE scaling
  });

  it("fp8 adds the float8 converter (v0.2.0's name, quantize.linear.float8); fp16 is refused; a model torchtitan lacks gets a comment", () => {
    expect(toml(plan({}), { precision: "fp8" }).t.model).toEqual({ name: "llama3", flavor: "70B", converters: ["quantize.linear.float8"] });
    expect(() => toml(plan({}), { precision: "fp16" })).toThrow(ExportRefused);
    const gpt = exportPlan("torchtitan", model(GPT), plan({}), training(), h100).files[0]!.content;
    expect(gpt).toContain("# torchtitan ships no gpt3-175b");
  });
});

describe("torchtitan main: command-line overrides", () => {
  it("DDP beside tensor parallel would train in fp32 (maybe_enable_amp): nearest FSDP plan, noted; sequence parallel can be off", () => {
    const r = overrides(plan({ tp: 2, zero: 0, sequenceParallel: false }));
    expect(r.plan).toMatchObject({ tp: 2, zero: 2, sequenceParallel: false });
    expect(r.notes.join(" ")).toContain("DDP beside tensor or pipeline parallel turns torchtitan's mixed precision off");
    const o = r.files[0]!.content;
    expect(r.files[0]!.name).toBe("torchtitan-overrides.txt");
    expect(argValue(o, "--parallelism.data_parallel_replicate_degree")).toBe("1");
    expect(argValue(o, "--parallelism.data_parallel_shard_degree")).toBe("32");
    expect(argValue(o, "--parallelism.fsdp_reshard_after_forward")).toBe("never");
    expect(argValue(o, "--parallelism.no_enable_sequence_parallel")).toBe("");
    // Booleans at torchtitan's defaults (async TP off) are left out.
    expect(o).not.toContain("async_tensor_parallel");
  });
  it("pipeline stages by layers per stage, with the embedding and output not counted as layers", () => {
    const o = overrides(plan({ tp: 2, pp: 4, vpp: 4, zero: 2, schedule: "interleaved" })).files[0]!.content;
    expect(argValue(o, "--parallelism.pipeline_parallel_layers_per_stage")).toBe("5");
    expect(argValue(o, "--parallelism.pipeline_parallel_first_stage_less_layers")).toBe("0");
    expect(argValue(o, "--parallelism.pipeline_parallel_last_stage_less_layers")).toBe("0");
    expect(argValue(o, "--parallelism.pipeline_parallel_schedule")).toBe("Interleaved1F1B");
    expect(argValue(o, "--training.local_batch_size")).toBe("64"); // 512 / dp 8
  });
});
