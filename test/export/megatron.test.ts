// The Megatron-LM export: exact argument lists for hand-worked cases, and the plans it refuses.
import { afterAll, describe, expect, it } from "vitest";
import { ExportRefused } from "../../src/engines/engine-plan.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { loadProfile } from "../../src/load.js";
import type { Plan } from "../../planner/index.js";
import { GPT, LLAMA, LLAMA2, argValue, h100, model, plan, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

const args = (content: string) => content.split("\n").filter((l) => l.startsWith("--"));

describe("megatron-args.txt", () => {
  const interleaved = plan({ tp: 8, pp: 4, vpp: 2, zero: 1, recompute: "full", sequenceParallel: true, schedule: "interleaved" });

  it("Llama 3 70B, tp 8 · pp 4 · vpp 2 · ZeRO-1 · full recompute · SP, core_r0.14: the whole list", () => {
    const r = exportPlan("megatron", model(LLAMA), interleaved, training(), h100);
    expect(r.files.map((f) => f.name)).toEqual(["megatron-args.txt"]);
    expect(args(r.files[0]!.content)).toEqual([
      "--num-layers 80",
      "--hidden-size 8192",
      "--ffn-hidden-size 28672",
      "--num-attention-heads 64",
      "--group-query-attention",
      "--num-query-groups 8",
      "--max-position-embeddings 2048",
      "--position-embedding-type rope",
      "--rotary-base 500000",
      "--swiglu",
      "--normalization RMSNorm",
      "--norm-epsilon 0.00001",
      "--untie-embeddings-and-output-weights",
      "--attention-dropout 0",
      "--hidden-dropout 0",
      "--seq-length 2048",
      "--tensor-model-parallel-size 8",
      "--pipeline-model-parallel-size 4",
      "--num-virtual-stages-per-pipeline-rank 2",
      "--use-distributed-optimizer",
      "--overlap-grad-reduce",
      // the weights' gather overlapping the next forward, as predicted (Megatron's default is off)
      "--overlap-param-gather",
      "--sequence-parallel",
      "--recompute-granularity full",
      "--recompute-method uniform",
      "--recompute-num-layers 1",
      "--micro-batch-size 1",
      "--global-batch-size 512",
      "--disable-bias-linear",
      "--attention-backend flash",
      "--bf16",
    ]);
    expect(r.files[0]!.content).toContain("# names from Megatron-LM core_r0.14");
    expect(r.files[0]!.content).toContain("CUDA_DEVICE_MAX_CONNECTIONS=1");
  });

  it("says what validate_args asks of CUDA_DEVICE_MAX_CONNECTIONS: 1 for tensor or context parallel on core_r0.14, 1 for every core_v0.7 run", () => {
    const note = (p: Plan, release?: string) => exportPlan("megatron", model(LLAMA2), p, training(), h100, release ? { release } : {}).files[0]!.content.split("\n").filter((l) => l.includes("CUDA_DEVICE_MAX_CONNECTIONS"));
    // core_r0.14 asserts it for tp > 1 or cp > 1 before Blackwell (arguments.py:850-875 @ core_r0.14.0)
    expect(note(plan({ tp: 1, pp: 1, cp: 2, zero: 1 }))).toEqual([expect.stringContaining("context parallel needs CUDA_DEVICE_MAX_CONNECTIONS=1")]);
    expect(note(plan({ tp: 1, pp: 1, zero: 1 }))).toEqual([]);
    // core_v0.7 raises without it whenever the async tensor-parallel all-reduce is on, its default
    // (arguments.py:450-461 @307dcf37), tp 1 included
    expect(note(plan({ tp: 1, pp: 1, zero: 1 }), "core_v0.7")).toEqual([expect.stringContaining("core_v0.7 needs CUDA_DEVICE_MAX_CONNECTIONS=1")]);
  });

  it("the profile's GPU decides: Blackwell (arch 10) is asked nothing, the MI300X (ROCm torch: gfx942 is 9.4) is", () => {
    // validate_args asserts it where get_device_arch_version() = torch's compute-capability major
    // is below 10 (arguments.py:850 @ core_r0.14.0; training/utils.py "10: Blackwell")
    const note = (profile: string, release?: string) =>
      exportPlan("megatron", model(LLAMA2), plan({ tp: 8, pp: 1, zero: 1, sequenceParallel: true }), training(), loadProfile(profile), release ? { release } : {})
        .files[0]!.content.split("\n").filter((l) => l.includes("CUDA_DEVICE_MAX_CONNECTIONS"));
    expect(note("dgx-b200")).toEqual([]);
    expect(note("gb200-nvl72")).toEqual([]);
    expect(note("mi300x")).toEqual([expect.stringContaining("tensor parallel needs CUDA_DEVICE_MAX_CONNECTIONS=1 in the environment on MI300X too")]);
    expect(note("hgx-h200")).toEqual([expect.stringContaining("on Hopper and earlier GPUs")]);
    // core_v0.7 raises without it on every GPU
    expect(note("dgx-b200", "core_v0.7")).toEqual([expect.stringContaining("core_v0.7 needs CUDA_DEVICE_MAX_CONNECTIONS=1")]);
  });

  it("Llama 3.2's RoPE factor 32 is written, with a note that Megatron-LM's GPTModel builder leaves it at 8", () => {
    const r = exportPlan("megatron", model("llama3.2-3b"), plan({ tp: 1, pp: 1, zero: 1 }), training({ gpus: 8 }), h100);
    expect(argValue(r.files[0]!.content, "--rope-scaling-factor")).toBe("32");
    expect(r.notes).toContainEqual(expect.stringContaining("--rope-scaling-factor 32: Megatron-LM's gpt_builders.py does not pass it to GPTModel, which scales by its default 8"));
    // Llama 3.1's own factor is that default: no note
    expect(exportPlan("megatron", model("llama3-8b"), plan({ tp: 1, pp: 1, zero: 1 }), training({ gpus: 8 }), h100).notes.join(" ")).not.toContain("--rope-scaling-factor");
  });

  it("core_v0.7 states virtual stages as layers per stage (80 / (4·2) = 10) and flash attention as --use-flash-attn", () => {
    // Llama 2 70B: the same layout as Llama 3 70B, with the RoPE base 10,000 core_v0.7 is fixed at.
    const a = args(exportPlan("megatron", model(LLAMA2), interleaved, training(), h100, { release: "core_v0.7" }).files[0]!.content);
    expect(a).toContain("--num-layers-per-virtual-pipeline-stage 10");
    expect(a).not.toContain("--num-virtual-stages-per-pipeline-rank 2");
    expect(a).toContain("--use-flash-attn");
    expect(a.some((l) => l.startsWith("--attention-backend"))).toBe(false);
  });

  it("GPT-3 175B, tp 4 · pp 2 · ZeRO-0 · selective, fp16, unfused, no overlap, seq 4096: GPT-style, no extras", () => {
    const p = plan({ tp: 4, pp: 2, zero: 0, microBatch: 2, recompute: "selective", sequenceParallel: true });
    const t = training({ precision: "fp16", fusedAttention: false, overlapGradReduce: false, seqLen: 4096 });
    expect(args(exportPlan("megatron", model(GPT), p, t, h100).files[0]!.content)).toEqual([
      "--num-layers 96",
      "--hidden-size 12288",
      "--ffn-hidden-size 49152",
      "--num-attention-heads 96",
      "--max-position-embeddings 4096",
      "--norm-epsilon 0.00001",
      "--seq-length 4096",
      "--tensor-model-parallel-size 4",
      "--pipeline-model-parallel-size 2",
      "--sequence-parallel",
      "--recompute-granularity selective",
      "--micro-batch-size 2",
      "--global-batch-size 512",
      "--attention-backend unfused",
      "--fp16",
      // priced with fp32 gradient reduction (Megatron-Core's under bf16), which fp16 must ask for
      "--accumulate-allreduce-grads-in-fp32",
    ]);
  });

  it("fp8 is --bf16 with --fp8-format hybrid", () => {
    const a = args(exportPlan("megatron", model(LLAMA), plan({}), training({ precision: "fp8" }), h100).files[0]!.content);
    expect(a.slice(-2)).toEqual(["--bf16", "--fp8-format hybrid"]);
  });
});

describe("plans Megatron-LM cannot run are refused with the reason", () => {
  const refused = (p: ReturnType<typeof plan>, release?: string) => {
    try {
      exportPlan("megatron", model(GPT), p, training(), h100, release ? { release } : {});
    } catch (e) {
      expect(e).toBeInstanceOf(ExportRefused);
      return (e as Error).message;
    }
    throw new Error("not refused");
  };
  it("ZeRO-2 and ZeRO-3: core_v0.7's distributed optimizer is ZeRO-1; with a pipeline, Megatron-FSDP is not exported", () => {
    for (const zero of [2, 3] as const) {
      const msg = refused(plan({ zero }), "core_v0.7");
      expect(msg).toBe(
        `--format megatron: ZeRO-${zero} has no Megatron-LM core_v0.7 equivalent: --use-distributed-optimizer shards the optimizer states only (ZeRO-1) and Megatron-FSDP arrived later (core_r0.14 --use-megatron-fsdp); use --release core_r0.14, --format deepspeed or torchtitan, or fix --zero 0 or 1`,
      );
      expect(msg.includes("\n")).toBe(false);
      expect(refused(plan({ zero, tp: 2, pp: 2 }))).toContain("with pipeline parallel (pp = 2)");
    }
  });
  it("ZeRO-2 and ZeRO-3 in core_r0.14: Megatron-FSDP with its sharding strategy, read back as the same plan", () => {
    for (const [zero, strategy] of [[2, "optim_grads"], [3, "optim_grads_params"]] as const) {
      const out = exportPlan("megatron", model(GPT), plan({ zero }), training(), h100);
      const a = args(out.files[0]!.content);
      expect(a).toEqual(expect.arrayContaining(["--use-megatron-fsdp", `--data-parallel-sharding-strategy ${strategy}`, "--ckpt-format fsdp_dtensor"]));
      // beside the distributed optimizer, which copies Megatron-FSDP's updated main weights back
      // (Megatron's functional tests pair the flags: gpt3_mcore_te_tp2_zp_z3_resume_fsdp_dtensor
      // model_config.yaml @000c4ac; without it Float16OptimizerWithFloat16Params is built)
      expect(a).toContain("--use-distributed-optimizer");
      expect(out.files[0]!.content).toContain("CUDA_DEVICE_MAX_CONNECTIONS unset or above 1");
      const path = tempFile(`fsdp-${zero}.txt`, out.files[0]!.content);
      expect(readConfigs([path], { model: model(GPT), gpus: training().gpus, defaultGpus: 1, defaultGpusFrom: "test" }).plan.zero).toBe(zero);
    }
  });
  it("GPipe: Megatron-LM schedules are 1F1B and interleaved", () => {
    expect(refused(plan({ tp: 8, pp: 8, schedule: "gpipe" }))).toContain("no GPipe schedule");
  });
  it("core_v0.7 with interleaving over 2 stages (validate_args wants pp > 2); core_r0.14 accepts it", () => {
    const p = plan({ tp: 8, pp: 2, vpp: 2, schedule: "interleaved" });
    expect(refused(p, "core_v0.7")).toContain("> 2");
    expect(exportPlan("megatron", model(GPT), p, training(), h100).plan).toEqual(p);
  });
  it("an unknown release is bad input naming the known ones", () => {
    expect(() => exportPlan("megatron", model(GPT), plan({}), training(), h100, { release: "core_r0.99" })).toThrow(/core_r0.14, core_v0.7/);
  });
});
