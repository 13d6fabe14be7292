// The search's step floor (cost/time.ts stepFloor) must never exceed a plan's step time, for any
// recompute mode, ZeRO stage, schedule or split, else the search would drop a plan that belongs in
// the top; and the top it returns must be the one it returns when every plan is priced.
import { describe, expect, it } from "vitest";
import { search } from "../../planner/search.js";
import { computeFloor, stepFloor } from "../../planner/cost/time.js";
import { microBatchCosts } from "../../planner/evaluate.js";
import { bf16Training, hardware, preset } from "./fixtures.js";

const training = bf16Training;

const cases = [
  ["gpt3-13b", "dgx-a100-80g", 64, 256],
  ["llama3-8b", "dgx-h100", 32, 128],
  ["llama3-70b", "dgx-h100", 128, 256],
  ["llama3-70b", "gb200-nvl72", 144, 288],
  ["mixtral-8x7b", "dgx-h100", 64, 256],
  // an MoE model whose ranks differ (the first layer dense): the floor of its pacing rank (cost/pace.ts)
  ["deepseek-v2-lite", "dgx-h100", 96, 384],
] as const;

describe.each(cases)("%s on %s, %i GPUs", (model, profile, gpus, batch) => {
  const m = preset(model);
  const hw = hardware(profile);
  const t = training(gpus, batch, m.defaultSeqLen);
  const all = search(m, hw, t, {}, { top: 10, keepAll: true });

  it("the floor is at most the step of every feasible plan, and within it for some", () => {
    expect(all.all!.length).toBeGreaterThan(100);
    let tight = 0;
    for (const p of all.all!) {
      const costs = microBatchCosts(m, hw, t, p);
      const floor = stepFloor(m, hw, t, p, costs);
      expect(computeFloor(m, t, p, costs)).toBeLessThanOrEqual(floor * (1 + 1e-12));
      expect(floor).toBeLessThanOrEqual(p.time.step * (1 + 1e-12));
      // compute plus bubble is most of a good plan's step (not a vacuous bound such as 0)
      if (floor > 0.8 * p.time.step) tight++;
    }
    expect(tight).toBeGreaterThan(0);
  });

  it("the pruned search returns the plans the unpruned one ranks first", () => {
    const pruned = search(m, hw, t, {}, { top: 10 });
    expect(pruned.searched).toBe(all.searched);
    expect(pruned.feasible).toBe(all.feasible);
    expect(pruned.plans.map((p) => p.time.step)).toEqual(all.plans.map((p) => p.time.step));
  });
});
