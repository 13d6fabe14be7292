// Megatron-LM's gradient bytes follow the training's precision: --bf16 forces
// accumulate_allreduce_grads_in_fp32 (an fp32 main_grad buffer all-reduced in fp32), --fp16 keeps
// 16-bit gradients unless told otherwise (megatron/arguments.py @ v2.6, validate_args;
// megatron/training/arguments.py @ core_r0.14.0). DeepSpeed's ZeRO optimizer and FSDP set theirs
// whatever the precision. Each figure below is that rule, and the memory it costs by hand.
import { describe, expect, it } from "vitest";
import { gradBufferBytes, gradReduceBytes, stateBytes } from "../../planner/cost/engine-terms.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import { evaluatePlan, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import { wireOf } from "../../planner/wire/wire.js";
import type { Plan, Precision, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { cli } from "../export/helpers.js";

const engine = (name: string) => loadEngine(name, undefined);
const on = (name: string, precision: Precision) => ({ engine: engine(name), precision });

describe("gradient bytes by precision", () => {
  it("Megatron-LM 2021: 16-bit under fp16, fp32 buffer and reduction under bf16", () => {
    expect([gradBufferBytes(on("megatron-2021", "fp16")), gradReduceBytes(on("megatron-2021", "fp16"))]).toEqual([2, 2]);
    expect([gradBufferBytes(on("megatron-2021", "bf16")), gradReduceBytes(on("megatron-2021", "bf16"))]).toEqual([4, 4]);
  });

  it("Megatron-Core: fp32 under bf16 and fp8 (whose weights are bf16), 16-bit under fp16", () => {
    for (const p of ["bf16", "fp8"] as const) expect([gradBufferBytes(on("megatron-core", p)), gradReduceBytes(on("megatron-core", p))]).toEqual([4, 4]);
    expect([gradBufferBytes(on("megatron-core", "fp16")), gradReduceBytes(on("megatron-core", "fp16"))]).toEqual([2, 2]);
    // no engine: the default engine's rule
    expect(gradReduceBytes({ engine: undefined, precision: "fp16" })).toBe(2);
    expect(gradReduceBytes({ engine: undefined, precision: "bf16" })).toBe(4);
  });

  it("DeepSpeed's ZeRO and FSDP ignore Megatron's rule: their own figures under both precisions", () => {
    for (const p of ["fp16", "bf16"] as const) {
      expect(gradReduceBytes(on("megatron-deepspeed", p))).toBe(2);
      expect(gradReduceBytes(on("fsdp", p))).toBe(2);
      expect(gradReduceBytes(on("torchtitan", p))).toBe(4);
    }
  });

  it("--grad-reduce-in-bf16 and --grad-reduce-in-fp32 fix the bytes whatever the precision", () => {
    const bf16Flag = withOverrides(engine("megatron-core"), { gradReduceInBf16: true });
    expect(gradReduceBytes({ engine: bf16Flag, precision: "bf16" })).toBe(2);
    expect(gradBufferBytes({ engine: bf16Flag, precision: "bf16" })).toBe(2);
    const fp32Flag = withOverrides(engine("megatron-2021"), { gradReduceInFp32: true });
    expect(gradReduceBytes({ engine: fp32Flag, precision: "fp16" })).toBe(4);
    expect(stateBytes({ engine: fp32Flag, precision: "fp16" }, 12).grad).toBe(4);
  });

  it("a bf16 run on Megatron-LM 2021 holds 2 bytes more per parameter than the fp16 one and all-reduces twice the bytes", () => {
    const m = preset("gpt3-1.3b");
    const hw = hardware("dgx-a100-80g");
    const plan: Plan = { tp: 2, pp: 1, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
    const t = (precision: Precision): Training => ({ gpus: 8, globalBatch: 32, seqLen: 2048, precision, fusedAttention: false, overlapGradReduce: false, engine: engine("megatron-2021") });
    const fp16 = evaluatePlan(m, hw, t("fp16"), plan);
    const bf16 = evaluatePlan(m, hw, t("bf16"), plan);
    // Ψ/t parameters on each GPU (pp 1): the fp32 buffer's 2 extra bytes each
    const psi = stageParamsPerGpu(m, 2048, 2, 1, m.layers, "only");
    expect(bf16.memory.gradients - fp16.memory.gradients).toBeCloseTo(2 * psi, -3);
    expect(bf16.memory.weights).toBe(fp16.memory.weights);
    const links = wireLinks(hw, place(hw, plan));
    const grads = (p: Precision) => wireOf(m, t(p), plan, links).find((i) => i.id === "dp-gradients")!.bytes;
    expect(grads("bf16") / grads("fp16")).toBeCloseTo(2, 9);
  });
});

describe("a switch the stack does not have", () => {
  // Megatron-LM v2.6 forces fp32 gradients under --bf16 and has no --grad-reduce-in-bf16
  // (megatron/arguments.py @ v2.6): the flag on that engine is bad input, not a 16-bit price.
  it("--grad-reduce-in-bf16 on megatron-2021 under bf16 is exit 2 naming it; under fp16 (16 bits already) it is read", async () => {
    const r = await cli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--engine", "megatron-2021", "--grad-reduce-in-bf16"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --grad-reduce-in-bf16: engine megatron-2021 keeps fp32 gradients under bf16 with no switch to another type/);
    const fp16 = await cli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--engine", "megatron-2021", "--grad-reduce-in-bf16", "--precision", "fp16", "--json", "--top", "1"]);
    expect(fp16.code, fp16.stderr).toBe(0);
    expect(JSON.parse(fp16.stdout).gradReduceBytes).toBe(2);
    // megatron-core has the switch (--grad-reduce-in-bf16, core_v0.12.0 on)
    const core = await cli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--grad-reduce-in-bf16", "--json", "--top", "1"]);
    expect(JSON.parse(core.stdout).gradReduceBytes).toBe(2);
  });
});

describe("Megatron's fp32 copy of 16-bit gradients for the step", () => {
  // Float16OptimizerWithFloat16Params: main_param.grad = model_param.main_grad.float()
  // (optimizer.py _copy_model_grads_to_main_grads @ core_r0.14.0, v2.6): under fp16 without fp32
  // accumulation the step holds 4 bytes a parameter it steps more, after the activations are freed.
  it("adds max(0, 4Ψ − activations) at ZeRO-0 and max(0, 4Ψ/d − activations) at ZeRO-1, under fp16 only", () => {
    const m = preset("gpt3-1.3b");
    const hw = hardware("dgx-a100-80g");
    const core = engine("megatron-core");
    const noCopy = { ...core, dataParallel: { ...core.dataParallel, fp32GradCopyAtStep: false } };
    const t = (precision: Precision, e = core): Training => ({ gpus: 8, globalBatch: 8, seqLen: 2048, precision, fusedAttention: true, overlapGradReduce: true, engine: e });
    const psi = stageParamsPerGpu(m, 2048, 1, 1, m.layers, "only");
    for (const zero of [0, 1] as const) {
      const plan: Plan = { tp: 1, pp: 1, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" };
      const withCopy = evaluatePlan(m, hw, t("fp16"), plan).memory;
      const without = evaluatePlan(m, hw, t("fp16", noCopy), plan).memory;
      const owned = zero === 0 ? psi : psi / 8;
      const added = Math.max(0, 4 * owned - withCopy.activations) * (1 + hw.fragmentation);
      expect(withCopy.total - without.total, `ZeRO-${zero}`).toBeCloseTo(added, -3);
      // bf16: main_grad is fp32 already, .float() copies nothing
      expect(evaluatePlan(m, hw, t("bf16"), plan).memory.total).toBeCloseTo(evaluatePlan(m, hw, t("bf16", noCopy), plan).memory.total, -3);
    }
  });
});
