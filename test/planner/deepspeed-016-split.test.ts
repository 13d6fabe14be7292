// DeepSpeed 0.16's pipeline split of Megatron-DeepSpeed's GPT (planner/layout/deepspeed-016-split.ts),
// against splits computed by DeepSpeed 0.16.0's own partition_balanced (deepspeed/runtime/utils.py
// @ v0.16.0, run under Python 3 with numpy on GPTModelPipe's spec weights, [0, 0, 1 × L, (0 MoE
// loss,) 0, 0, 0]), and its properties: every layer placed, the smallest spread.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepspeed016Split, gptModelPipeWeights, partitionBalanced, partitionUniform } from "../../planner/layout/deepspeed-016-split.js";

describe("DeepSpeed 0.16's partition_balanced over GPTModelPipe", () => {
  it.each([
    // layers, stages, MoE, DeepSpeed's boundaries over the specs, transformer layers per stage
    [70, 12, false, [0, 8, 14, 20, 26, 32, 38, 44, 50, 56, 62, 67, 75], [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5]],
    [126, 12, false, [0, 13, 24, 35, 46, 57, 68, 78, 88, 98, 108, 118, 131], [11, 11, 11, 11, 11, 11, 10, 10, 10, 10, 10, 10]],
    [126, 8, false, [0, 18, 34, 50, 66, 82, 98, 113, 131], [16, 16, 16, 16, 16, 16, 15, 15]],
    [96, 8, false, [0, 14, 26, 38, 50, 62, 74, 86, 101], [12, 12, 12, 12, 12, 12, 12, 12]],
    [9, 4, false, [0, 5, 7, 9, 14], [3, 2, 2, 2]],
    [30, 4, true, [0, 10, 18, 25, 36], [8, 8, 7, 7]],
    [61, 4, true, [0, 18, 33, 48, 67], [16, 15, 15, 15]],
    [32, 5, false, [0, 9, 16, 22, 28, 37], [7, 7, 6, 6, 6]],
    // more stages than layers: the stages past the layers hold only the specs after them
    [10, 12, false, [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]],
  ])("%i layers on %i stages (MoE %s)", (layers, pp, moe, bounds, split) => {
    expect(partitionBalanced(gptModelPipeWeights(layers, moe), pp)).toEqual(bounds);
    expect(deepspeed016Split(layers, pp, moe)).toEqual(split);
  });

  it("no more items than stages: partition_uniform's one item a stage", () => {
    expect(partitionBalanced([1, 1, 1], 5)).toEqual([0, 1, 2, 3, 3, 3]);
    // ⌊7/3⌋ = 2 a stage, the first 7 mod 3 = 1 one more (DeepSpeed 0.16's partition_uniform)
    expect(partitionUniform(7, 3)).toEqual([0, 3, 5, 7]);
  });

  it("every layer placed, stages within one layer of each other where each can hold one, even where pp divides L", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 16 }), fc.boolean(), (layers, pp, moe) => {
        const split = deepspeed016Split(layers, pp, moe)!;
        expect(split.reduce((a, b) => a + b, 0)).toBe(layers);
        if (layers >= pp) expect(Math.max(...split) - Math.min(...split)).toBeLessThanOrEqual(1);
        if (layers % pp === 0) expect(split.every((n) => n === layers / pp)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("bounded: a split too large to work out is null, not a wait", () => {
    expect(deepspeed016Split(10_000, 100, false)).toBeNull();
    expect(partitionBalanced(gptModelPipeWeights(100, false), 8, 1000)).toBeNull();
  });
});
