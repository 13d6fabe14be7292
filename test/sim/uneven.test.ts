// Uneven pipeline stages in the simulator: each stage plays its own layers (Plan.stageLayers,
// planner/layout/stages.ts). On uniform layers (forward 1 s, backward 2 s each, nothing else) the
// steps are worked by hand; on a real plan the closed form, which charges (m + p − 1) of the
// slowest stage's F+B (Narayanan et al. 2021 §2.2), stays within the 5 % the calibration rows keep
// (planner/sim/README.md "Agreement with the closed form").
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { uniformCosts } from "../../planner/sim/costs.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "../planner/fixtures.js";

const stages = (stageLayers: number[], schedule: "1f1b" | "gpipe" = "1f1b") =>
  simulateCosts({ ...uniformCosts({ schedule, pp: 4, microBatches: 8, forward: 1, backward: 2 }), stageLayers });

describe("uniform layers, 4 stages, 8 micro-batches, F = 1 s and B = 2 s per layer", () => {
  it("[1,1,1,3] 1F1B: the last stage (9 s per micro-batch) runs 8 × 9 = 72 s, after 3 s of forwards reach it and before 3 × 2 s of backwards leave: 81 s", () => {
    expect(stages([1, 1, 1, 3]).step).toBeCloseTo(81, 9);
  });
  it("[3,1,1,1] 1F1B: the first stage never waits (its 4 warm-up forwards, 12 s, cover micro-batch 0's trip, 3 + 3 + 6 s): 8 × 9 = 72 s", () => {
    expect(stages([3, 1, 1, 1]).step).toBeCloseTo(72, 9);
  });
  it("the even split [2,2,2,2] is the uniform pipeline: (m + p − 1)·(f + b) = 11 × 6 = 66 s", () => {
    expect(stages([2, 2, 2, 2]).step).toBeCloseTo(66, 9);
    expect(stages([2, 2, 2, 2], "gpipe").step).toBeCloseTo(66, 9);
  });
  it("every split lies between m·t_max and the closed form's (m + p − 1)·t_max", () => {
    for (const split of [[1, 3, 3, 1], [1, 3, 1, 1], [3, 1, 1, 1], [1, 1, 1, 3]])
      for (const schedule of ["1f1b", "gpipe"] as const) {
        const tMax = 3 * Math.max(...split);
        const step = stages(split, schedule).step;
        expect(step).toBeGreaterThanOrEqual(8 * tMax - 1e-9);
        expect(step).toBeLessThanOrEqual(11 * tMax + 1e-9);
      }
  });
});

describe("GPT-3 1.3B, pp 4 · dp 4, stages [5,7,7,5], 16 micro-batches", () => {
  const m = preset("gpt3-1.3b");
  const hw = hardware("dgx-h100");
  const t: Training = { gpus: 16, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
  const base: Plan = { tp: 1, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", stageLayers: [5, 7, 7, 5] };
  it.each(["1f1b", "gpipe", "zb1p"] as const)("%s: closed form within 5 % of the simulation", (schedule) => {
    const plan = { ...base, schedule };
    const closed = evaluatePlan(m, hw, t, plan).time.step;
    const simulated = simulate(m, hw, t, plan).step;
    expect(Math.abs(closed - simulated) / simulated).toBeLessThan(0.05);
  });
  it("the simulation plays 7 layers on the middle stages: slower than [6,6,6,6] by about one layer per micro-batch", () => {
    const even = simulate(m, hw, t, { ...base, stageLayers: [6, 6, 6, 6] }).step;
    const uneven = simulate(m, hw, t, base).step;
    expect(uneven).toBeLessThan(even * (7 / 6));
    expect(uneven).not.toBeCloseTo(even, 6);
  });
});
