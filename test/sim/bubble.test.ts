// On uniform stages (every layer the same, no embedding or logits, no communication) the
// simulated bubble is exactly the closed form's: (p−1)/m for GPipe and 1F1B, (p−1)/(v·m) for
// interleaved 1F1B (Narayanan et al. 2021 §2.2). Equivalently, with f and b the forward and
// backward of one chunk, the step is (m·v + p − 1)·(f + b).
import { describe, expect, it } from "vitest";
import { uniformCosts } from "../../planner/sim/costs.js";
import { simulateCosts } from "../../planner/sim/simulate.js";
import type { Schedule } from "../../planner/types.js";

const cases: Array<[Schedule, number, number, number, number, number]> = [
  // schedule, p, v, m, f, b (per chunk, seconds) → step (m·v + p − 1)(f + b)
  ["1f1b", 4, 1, 8, 1, 2],
  ["1f1b", 8, 1, 3, 1, 2], // fewer micro-batches than stages
  ["1f1b", 4, 1, 8, 0.7, 1.9],
  ["gpipe", 4, 1, 8, 1, 2],
  ["gpipe", 3, 1, 5, 1, 1],
  ["interleaved", 4, 2, 8, 1, 2],
  ["interleaved", 4, 3, 4, 1, 2], // m = p: all forwards first
  ["interleaved", 4, 2, 12, 0.7, 1.9],
  ["interleaved", 8, 6, 24, 1, 2], // the shape of gpt3-like's best plan
];

describe("exact bubble on uniform stages", () => {
  it.each(cases)("%s p=%i v=%i m=%i f=%f b=%f", (schedule, p, v, m, f, b) => {
    const tl = simulateCosts(uniformCosts({ schedule, pp: p, vpp: v, microBatches: m, forward: f, backward: b }));
    const vEff = schedule === "interleaved" ? v : 1;
    expect(tl.step).toBeCloseTo((m * vEff + p - 1) * (f + b), 9);
    expect(tl.bubbleFraction).toBeCloseTo((p - 1) / (vEff * m), 12);
    // The critical stage's breakdown sums to the step: m·v·(f + b) of work plus the bubble.
    const st = tl.stages[tl.criticalStage]!;
    expect(st.forward + st.backward).toBeCloseTo(m * vEff * (f + b), 9);
    expect(st.bubble).toBeCloseTo((p - 1) * (f + b), 9);
  });

  it("counts layers: 3 layers per chunk of 1 s forward, 2 s backward each is f = 3, b = 6", () => {
    const tl = simulateCosts(uniformCosts({ schedule: "interleaved", pp: 2, vpp: 2, microBatches: 4, forward: 1, backward: 2, layersPerChunk: 3 }));
    expect(tl.step).toBeCloseTo((4 * 2 + 1) * 9, 9);
    expect(tl.bubbleFraction).toBeCloseTo(1 / 8, 12);
  });

  it("has no bubble without a pipeline", () => {
    const tl = simulateCosts(uniformCosts({ schedule: "1f1b", pp: 1, microBatches: 5, forward: 1, backward: 2 }));
    expect(tl.step).toBe(15);
    expect(tl.bubbleFraction).toBe(0);
  });
});
