// Mixture-of-experts inputs that can never form a plan the engine runs: a fixed ep (or etp) whose
// groups cannot fold onto a pipeline stage, an etp that does not divide the experts' width, and
// Megatron-Core's refusal of tp > 1 beside MoE layers without sequence parallel. Each is bad
// input naming its flag (exit 2 in the CLI), not a search that finds nothing or a plan the
// engine raises on. The arithmetic of each case is in its comment.
import { describe, expect, it } from "vitest";
import { checkFixed } from "../../planner/constraints.js";
import { ruleContext, validate, dimsOf } from "../../planner/layout/layout.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { search } from "../../planner/search.js";
import type { Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, seqLen: number, engine?: string): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...(engine ? { engine: loadEngine(engine) } : {}),
});

describe("a fixed ep or etp that cannot fold onto a pipeline stage", () => {
  const ds = preset("deepseek-v3");
  it("ep 128 on 64 GPUs: 128 ∤ 64 whatever tp·dp is (tp·cp·dp = gpus/pp = 64)", () => {
    // 128 divides the 256 experts, so ep_experts holds; the fold cannot.
    expect(checkFixed(ds, training(64, 64, 4096), { ep: 128 })).toEqual({
      code: "expert_fold", flag: "--ep",
      message: "ep 128 does not divide the 64 GPUs: the expert groups fold onto each stage's tp·cp·dp ranks (Megatron-Core MoE parallel folding)",
    });
  });
  it("Mixtral ep 8 with pp 4 on 16 GPUs: a stage has 16/4 = 4 ranks, 8 ∤ 4; with pp 2 (8 ranks) it folds", () => {
    const mx = preset("mixtral-8x7b");
    expect(checkFixed(mx, training(16, 16, 4096), { ep: 8, pp: 4 })?.message).toBe(
      "ep 8 does not divide the 4 GPUs of a pipeline stage (16 GPUs / pp 4): the expert groups fold onto each stage's tp·cp·dp ranks (Megatron-Core MoE parallel folding)",
    );
    expect(checkFixed(mx, training(16, 16, 4096), { ep: 8, pp: 2 })).toBeNull();
  });
  it("etp 4 · ep 8 = 32 on 16 GPUs: 32 ∤ 16; etp 2 · ep 8 = 16 folds", () => {
    const mx = preset("mixtral-8x7b");
    expect(checkFixed(mx, training(16, 16, 4096), { ep: 8, etp: 4 })).toMatchObject({ code: "expert_fold", flag: "--ep", message: expect.stringMatching(/^etp·ep = 4·8 = 32 does not divide the 16 GPUs/) });
    expect(checkFixed(mx, training(16, 16, 4096), { ep: 8, etp: 2 })).toBeNull();
    // only --etp given: 16 ∤ 8 GPUs names --etp
    expect(checkFixed(mx, training(8, 8, 4096), { etp: 16 })).toMatchObject({ code: "expert_fold", flag: "--etp" });
  });
  it("an ep that does not divide the experts still says so first", () => {
    expect(checkFixed(ds, training(64, 64, 4096), { ep: 3 })).toMatchObject({ code: "ep_experts", message: "3 does not divide the 256 experts" });
  });
});

describe("etp must divide the routed experts' FFN width", () => {
  it("Mixtral's experts are 14,336 wide: 14336 / 3 = 4778.67, refused; 14336 / 2 = 7168 fits", () => {
    const mx = preset("mixtral-8x7b");
    // 24 GPUs, tp 1, ep 8, etp 3: 3·8 = 24 folds onto tp·dp = 24, so only the width is wrong
    expect(checkFixed(mx, training(24, 48, 4096), { tp: 1, ep: 8, etp: 3 })).toEqual({
      code: "etp_ffn", flag: "--etp", message: "etp 3 does not divide the routed experts' FFN width 14336 (each etp rank holds width/etp of every expert)",
    });
    expect(checkFixed(mx, training(16, 16, 4096), { ep: 8, etp: 2 })).toBeNull();
  });
  it("the search counts a tp that does not divide the width as etp = tp under etp_ffn", () => {
    // a Mixtral with 1,000-wide experts: 1000 / 8 = 125 fits, so use 1,004 = 4 · 251: etp 8 ∤ 1004
    const m = { ...preset("mixtral-8x7b"), moe: { ...preset("mixtral-8x7b").moe!, expertFfnHidden: 1004 } };
    const r = search(m, H100, training(64, 64, 4096), { tp: 8 }, { top: 1, keepAll: true });
    expect(r.rejected.etp_ffn).toBeGreaterThan(0);
    expect((r.all ?? []).every((p) => p.etp === 1)).toBe(true);
  });
});

describe("Megatron-Core: tp > 1 beside MoE layers needs sequence parallel", () => {
  // megatron/core/transformer/moe/moe_layer.py MoELayer.forward @ core_v0.14.0 raises ValueError
  // when training with an attention tp group > 1 and sequence_parallel off.
  const mx = preset("mixtral-8x7b");
  it("a fixed tp 2 with --no-sequence-parallel is bad input naming --no-sequence-parallel", () => {
    const issue = checkFixed(mx, training(64, 512, 4096, "megatron-core"), { tp: 2, sequenceParallel: false });
    expect(issue).toMatchObject({ code: "moe_tp_sp", flag: "--no-sequence-parallel" });
    // tp 1 has nothing to split: fine
    expect(checkFixed(mx, training(64, 512, 4096, "megatron-core"), { tp: 1, sequenceParallel: false })).toBeNull();
  });
  it("the search gives every tp > 1 MoE plan sequence parallel; a dense model keeps both", () => {
    const r = search(mx, H100, training(64, 512, 4096, "megatron-core"), {}, { top: 1, keepAll: true });
    const tp = (r.all ?? []).filter((p) => p.tp > 1);
    expect(tp.length).toBeGreaterThan(0);
    expect(tp.every((p) => p.sequenceParallel)).toBe(true);
    const dense = search(preset("llama2-7b"), H100, training(64, 512, 4096, "megatron-core"), {}, { top: 1, keepAll: true });
    expect((dense.all ?? []).some((p) => p.tp > 1 && !p.sequenceParallel)).toBe(true);
  });
  it("a whole plan read from a file is refused by the rule; DeepSpeed-MoE (megatron-deepspeed) runs it", () => {
    const plan = { ...ONE_PLAN, tp: 2, dp: 32, ep: 8, sequenceParallel: false };
    const core = training(64, 512, 4096, "megatron-core");
    expect(validate(ruleContext(mx, core, 8), dimsOf(plan)).map((i) => i.code)).toEqual(["moe_tp_sp"]);
    // Megatron-DeepSpeed: DeepSpeed's MOELayer drops the tp ranks' duplicate tokens itself
    // (sharded_moe.py drop_tokens); it has no sequence parallel to need.
    // (an engine file extending megatron-deepspeed with supports.expertParallel: the stock profile
    // refuses MoE models, whose einsum dispatch paraplan does not price)
    const stock = loadEngine("megatron-deepspeed");
    const ds: Training = { ...training(64, 512, 4096), engine: { ...stock, supports: { ...stock.supports!, expertParallel: true } } };
    expect(validate(ruleContext(mx, ds, 8), dimsOf(plan))).toEqual([]);
    expect(checkFixed(mx, ds, { tp: 2, ep: 8 })).toBeNull();
  });
});
