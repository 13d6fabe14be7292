// DeepSpeed ZeRO-3 of 2021 releases a submodule's parameters after its forward unless reused within
// stage3_max_reuse_distance elements, so under full recompute part of each layer is gathered twice
// in its backward (planner/cost/regather.ts). Hand computations of the share, and that the closed
// form, the wire and the simulator all carry the same extra gather.
import { describe, expect, it } from "vitest";
import { layerSubmodules, regatherFraction } from "../../planner/cost/regather.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import { wireOf } from "../../planner/wire/wire.js";
import { microBatchCosts } from "../../planner/evaluate.js";
import { simulateSummary } from "../../planner/sim/simulate.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const ds = loadEngine("megatron-deepspeed", undefined);
const keeps: Engine = { ...ds, dataParallel: { ...ds.dataParallel, maxReuseDistance: null } };
const a100 = hardware("dgx-a100-80g");

describe("the share of a layer gathered again", () => {
  it("GPT-3 175B: every submodule but the last MLP (2·Σ later > 1e9 elements): 8h² of 12h²", () => {
    const m = preset("gpt3-175b");
    const h = m.hidden;
    expect(layerSubmodules(m, 1)).toEqual([3 * h * h, h * h, 4 * h * h, 4 * h * h]);
    // MLP out: nothing after it (0 ≤ 1e9, kept); MLP in: 2·4h² = 1.21e9 > 1e9; projection and QKV further.
    expect(regatherFraction(m, 1, ds, "full")).toBeCloseTo(8 / 12, 12);
  });

  it("nothing for a small model, without full recompute, or on a stack that keeps them (FSDP)", () => {
    // GPT-3 1.3B: h 2048, 2·(h² + 8h²) = 75.5M elements before QKV's reuse, far under 1e9.
    expect(regatherFraction(preset("gpt3-1.3b"), 1, ds, "full")).toBe(0);
    expect(regatherFraction(preset("gpt3-175b"), 1, ds, "selective")).toBe(0);
    expect(regatherFraction(preset("gpt3-175b"), 1, loadEngine("fsdp", undefined), "full")).toBe(0);
    expect(loadEngine("fsdp", undefined).dataParallel.maxReuseDistance).toBeNull();
  });

  it("tensor parallel shrinks the submodules on a rank: GPT-3 175B at tp 8 keeps them all", () => {
    // 2·Σ later for QKV = 2·9h²/8 = 3.4e8 < 1e9.
    expect(regatherFraction(preset("gpt3-175b"), 8, ds, "full")).toBe(0);
  });
});

describe("one extra gather, in the closed form, the wire and the simulator", () => {
  const m = preset("gpt3-175b");
  const t = (e: Engine): Training => ({ gpus: 768, globalBatch: 1536, seqLen: 2048, precision: "fp16", fusedAttention: false, overlapGradReduce: false, engine: e });
  const plan: Plan = { tp: 1, pp: 1, dp: 768, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 2, recompute: "full", sequenceParallel: false, schedule: "1f1b" };

  it("the wire carries 2/3 of the layer's gradient bytes per micro-batch, the step pays for it", () => {
    const wire = wireOf(m, t(ds), plan, microBatchCosts(m, a100, t(ds), plan).links);
    const again = wire.find((i) => i.id === "zero3-gather-recompute")!;
    const once = wire.find((i) => i.id === "zero3-gather-backward")!;
    expect(again.bytes).toBeCloseTo((2 / 3) * once.bytes, 0);
    expect(again.calls).toBe(once.calls);
    expect(wireOf(m, t(keeps), plan, microBatchCosts(m, a100, t(keeps), plan).links).some((i) => i.id === "zero3-gather-recompute")).toBe(false);
    const step = (e: Engine) => evaluatePlan(m, a100, t(e), plan).time;
    expect(step(ds).dpComm).toBeGreaterThan(step(keeps).dpComm);
    expect(step(ds).compute).toBe(step(keeps).compute);
  });

  it("the simulated step grows too", () => {
    const small = { ...plan, dp: 8 };
    const tt = (e: Engine) => ({ ...t(e), gpus: 8, globalBatch: 32 });
    expect(simulateSummary(m, a100, tt(ds), small).step).toBeGreaterThan(simulateSummary(m, a100, tt(keeps), small).step);
  });
});
