// The gradient shard ZeRO-2/3 keep (Engine.dataParallel.shardedGradBytes). Megatron-Core runs
// them as Megatron-FSDP, whose sharded main_grad_buffer is
// DataParallelBuffer(dtype=torch.float32 if grad_reduce_in_fp32 else grad_dtype)
// (megatron/core/distributed/fsdp/src/megatron_fsdp/param_and_grad_buffer.py:1859-1867 @
// core_v0.14.0, :1895-1903 @ 000c4ac), grad_reduce_in_fp32 = args.accumulate_allreduce_grads_in_fp32
// (megatron/training/training.py:926 @ core_v0.14.0): 4 bytes under bf16 and fp8, 2 under fp16 or
// with --grad-reduce-in-bf16. DeepSpeed keeps 16-bit partitions (stage3.py:581-585 @ v0.6.5), FSDP
// casts the shard to its fp32 parameter's dtype.
import { describe, expect, it } from "vitest";
import { shardedGradBytes } from "../../planner/cost/engine-terms.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import type { Plan, Precision, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { cli } from "../export/helpers.js";

const engine = (name: string) => loadEngine(name, undefined);
const GiB = 2 ** 30;

describe("the ZeRO-2/3 gradient shard's bytes per parameter", () => {
  it("Megatron-Core follows its reduce dtype: 4 under bf16 and fp8, 2 under fp16, the --grad-reduce-in-* flags move it", () => {
    const core = engine("megatron-core");
    expect(core.dataParallel.shardedGradBytes).toBe("gradReduce");
    for (const p of ["bf16", "fp8"] as const) expect(shardedGradBytes({ engine: core, precision: p })).toBe(4);
    expect(shardedGradBytes({ engine: core, precision: "fp16" })).toBe(2);
    expect(shardedGradBytes({ engine: withOverrides(core, { gradReduceInBf16: true }), precision: "bf16" })).toBe(2);
    expect(shardedGradBytes({ engine: withOverrides(core, { gradReduceInFp32: true }), precision: "fp16" })).toBe(4);
  });
  it("the other stacks keep their own: DeepSpeed 2 (stated, not Megatron-Core's rule by inheritance), FSDP and its children 4; no engine Megatron-Core's", () => {
    for (const p of ["fp16", "bf16"] as const) expect(shardedGradBytes({ engine: engine("megatron-deepspeed"), precision: p })).toBe(2);
    for (const name of ["fsdp", "torchtitan", "paraplan"]) expect(shardedGradBytes({ engine: engine(name), precision: "bf16" }), name).toBe(4);
    expect(shardedGradBytes({ engine: undefined, precision: "bf16" })).toBe(4);
    expect(shardedGradBytes({ engine: undefined, precision: "fp16" })).toBe(2);
  });
});

describe("Mixtral 8x7B at ZeRO-2 and 3 on Megatron-Core: 64 GPUs, tp 1, pp 1, ep 8 (edp 8)", () => {
  // Dense parameters: embedding and output 2 × 32000 × 4096 = 262,144,000; a layer's Q and O
  // 2 × 4096², K and V 2 × 4096 × 1024, router 4096 × 8, two norms 2 × 4096 = 41,984,000,
  // × 32 = 1,343,488,000; the final norm 4096: 1,605,636,096, sharded over dp 64.
  // Routed: 32 layers × 8 experts × 3 × 4096 × 14336 = 45,097,156,608, over ep 8 = 5,637,144,576,
  // sharded over edp 8.
  // fp32 shard: 4 × (1,605,636,096 / 64 + 5,637,144,576 / 8) = 4 × (25,088,064 + 704,643,072)
  // = 2,918,924,544 B = 2.72 GiB; 16-bit (--grad-reduce-in-bf16, or fp16) 1,459,462,272 B = 1.36 GiB.
  const m = preset("mixtral-8x7b");
  const hw = hardware("dgx-h100");
  const plan = (zero: 2 | 3): Plan => ({ tp: 1, pp: 1, dp: 64, cp: 1, ep: 8, etp: 1, vpp: 1, zero, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
  const t = (precision: Precision, e = engine("megatron-core")): Training => ({ gpus: 64, globalBatch: 64, seqLen: 4096, precision, fusedAttention: true, overlapGradReduce: true, engine: e });
  it("holds 2,918,924,544 B of fp32 gradient shards, half with --grad-reduce-in-bf16", () => {
    for (const zero of [2, 3] as const) {
      expect(evaluatePlan(m, hw, t("bf16"), plan(zero)).memory.gradients, `ZeRO-${zero}`).toBe(2_918_924_544);
      const bf16Reduce = withOverrides(engine("megatron-core"), { gradReduceInBf16: true });
      expect(evaluatePlan(m, hw, t("bf16", bf16Reduce), plan(zero)).memory.gradients, `ZeRO-${zero}`).toBe(1_459_462_272);
    }
  });
  it("plan prints gradients 2.72 GiB, and 1.36 GiB with --grad-reduce-in-bf16 (its --json gradReduceBytes 4, then 2)", async () => {
    const argv = ["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--global-batch", "64", "--seq", "4096", "--tp", "1", "--pp", "1", "--ep", "8", "--zero", "2", "--micro-batch", "1", "--recompute", "none"];
    expect(2_918_924_544 / GiB).toBeCloseTo(2.72, 2);
    const fp32 = await cli(argv);
    expect(fp32.code, fp32.stderr).toBe(0);
    expect(fp32.stdout).toContain("gradients 2.72 GiB");
    const bf16 = await cli([...argv, "--grad-reduce-in-bf16"]);
    expect(bf16.stdout).toContain("gradients 1.36 GiB");
    expect(JSON.parse((await cli([...argv, "--json"])).stdout).gradReduceBytes).toBe(4);
    expect(JSON.parse((await cli([...argv, "--grad-reduce-in-bf16", "--json"])).stdout).gradReduceBytes).toBe(2);
  });
});

describe("a dense model: Llama 3 8B at ZeRO-3 on 16 GPUs (tp 1, pp 1)", () => {
  // Ψ = 8,030,261,248 (embedding and output 2 × 128256 × 4096 = 1,050,673,152; 32 layers of
  // 218,112,000; the final norm 4096): bf16 keeps 4Ψ/16 = 2,007,565,312 B of gradient shard,
  // fp16 2Ψ/16 = 1,003,782,656 B.
  it("4Ψ/d under bf16, 2Ψ/d under fp16", () => {
    const m = preset("llama3-8b");
    const plan: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" };
    const t = (precision: Precision): Training => ({ gpus: 16, globalBatch: 16, seqLen: 8192, precision, fusedAttention: true, overlapGradReduce: true, engine: engine("megatron-core") });
    expect(evaluatePlan(m, hardware("dgx-h100"), t("bf16"), plan).memory.gradients).toBe(2_007_565_312);
    expect(evaluatePlan(m, hardware("dgx-h100"), t("fp16"), plan).memory.gradients).toBe(1_003_782_656);
  });
});
