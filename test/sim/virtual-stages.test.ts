// Uneven virtual stages in the simulator (vpp > 1): each chunk plays its own virtual stage's layers
// (Plan.stageLayers in model order, rank r holding r, r + p, …; planner/layout/stages.ts). On
// uniform layers (forward 1 s, backward 2 s each, nothing else) against hand figures; on a real
// plan against the closed form, which charges m·t_max of the slowest rank plus the interleaved
// bubble (p−1)/(v·m) of it (Narayanan et al. 2021 §2.2.2).
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { uniformCosts } from "../../planner/sim/costs.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "../planner/fixtures.js";

const run = (M: number, stageLayers?: number[], schedule: "interleaved" | "zb1p" = "interleaved", layersPerChunk = 1) =>
  simulateCosts({ ...uniformCosts({ schedule, pp: 3, vpp: 2, microBatches: M, forward: 1, backward: 2, layersPerChunk }), ...(stageLayers ? { stageLayers } : {}) }).step;

describe("uniform layers, pp 3 · vpp 2, F = 1 s and B = 2 s per layer", () => {
  it("the even split [2×6] given explicitly is the uniform pipeline: (m + (p−1)/v)·t = (6 + 1) × 12 = 84 s", () => {
    expect(run(6, [2, 2, 2, 2, 2, 2])).toBeCloseTo(84, 9);
    expect(run(6, undefined, "interleaved", 2)).toBeCloseTo(84, 9);
  });
  it("[1,1,3,3,1,1]: ranks hold 1+3, 1+1, 3+1 layers; the step lies between m × 12 s and the closed form m × 12 + 2/2 × 12", () => {
    // (played per rank instead of per virtual stage, rank 2 would run 3 + 3 layers: at least m × 18 s)
    for (const M of [6, 12, 30]) {
      const step = run(M, [1, 1, 3, 3, 1, 1]);
      expect(step).toBeGreaterThanOrEqual(M * 12 - 1e-9);
      expect(step).toBeLessThanOrEqual(M * 12 + 12 + 1e-9);
    }
    for (const schedule of ["interleaved", "zb1p"] as const) expect(run(6, [1, 1, 3, 3, 1, 1], schedule)).toBeLessThan(6 * 18);
  });
  it("moving layers between the chunks of one rank leaves its pace: [1,2,2,2,2,1] (ranks 3, 4, 3) runs within a chunk of m × 12 s", () => {
    const step = run(12, [1, 2, 2, 2, 2, 1]);
    expect(step).toBeGreaterThanOrEqual(12 * 12 - 1e-9);
    expect(step).toBeLessThanOrEqual(12 * 12 + 12 + 1e-9);
  });
});

describe("GPT-3 1.3B, pp 4 · vpp 2 · dp 4, virtual stages [2,3,3,3,2,3,5,3], 16 micro-batches", () => {
  const m = preset("gpt3-1.3b");
  const hw = hardware("dgx-h100");
  const t: Training = { gpus: 16, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
  const base: Plan = { tp: 1, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "interleaved", stageLayers: [2, 3, 3, 3, 2, 3, 5, 3] };
  it.each(["interleaved", "zb1p"] as const)("%s: the simulated step is at least the closed form's compute (16 × rank 2's 8 layers) and within 5 % of its step", (schedule) => {
    const plan = { ...base, schedule };
    const closed = evaluatePlan(m, hw, t, plan).time;
    const simulated = simulate(m, hw, t, plan).step;
    expect(simulated).toBeGreaterThan(closed.compute);
    expect(Math.abs(closed.step - simulated) / simulated).toBeLessThan(0.05);
  });
  it("the even split [3×8] given explicitly simulates as no split at all", () => {
    const { stageLayers: _, ...even } = base;
    expect(simulate(m, hw, t, { ...even, stageLayers: [3, 3, 3, 3, 3, 3, 3, 3] }).step).toBeCloseTo(simulate(m, hw, t, even).step, 12);
  });
});
