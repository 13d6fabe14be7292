// Each engine's own split when pp does not divide the layers (planner/layout/stages.ts StageSplit):
// Megatron-Core's first/last flags, torchtitan's generate_split_points, DeepSpeed's
// partition_balanced over "type:transformer", and Megatron-LM 2021's even stages only. Splits worked
// by hand; the search and the input checks read the engine's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unsupportedByEngine } from "../../planner/constraints.js";
import { accountedVirtualSplit, defaultStageLayers, defaultVirtualStageLayers, firstHeavySplit, firstLastSplit, STAGE_SPLITS, virtualSplitVpps } from "../../planner/layout/stages.js";
import { typeSplit } from "../../planner/layout/gpt-model-pipe.js";
import { deepspeed016Split } from "../../planner/layout/deepspeed-016-split.js";
import { search } from "../../planner/search.js";
import type { Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const rep = (n: number, k: number) => Array.from({ length: k }, () => n);

describe("Megatron-Core: ⌈L/p⌉ on the middle stages, the rest on the first and last (the last lighter)", () => {
  it("126 on 12: 11 × 10 middle = 110, 16 left: 8 and 8; 100 on 8: 13 × 6 = 78, 22 left: 11, 11; 127 on 12: 17 left: 9, 8", () => {
    expect(firstLastSplit(126, 12)).toEqual([8, ...rep(11, 10), 8]);
    expect(firstLastSplit(100, 8)).toEqual([11, ...rep(13, 6), 11]);
    expect(firstLastSplit(127, 12)).toEqual([9, ...rep(11, 10), 8]);
  });
  it("pp 2 is first and last alone: 5 on 2 is 3, 2; a remainder below 2 (5 on 4: 2 × 2 middle, 1 left) falls back to torchtitan's", () => {
    expect(firstLastSplit(5, 2)).toEqual([3, 2]);
    expect(firstLastSplit(5, 4)).toBeNull();
    expect(defaultStageLayers(5, 4, "first-last")).toEqual([1, 2, 1, 1]);
  });
  it("where torchtitan's split already has the form it is the same (70 on 12: 5, 6 × 10, 5; 126 on 16: 7, 8 × 14, 7)", () => {
    expect(defaultStageLayers(70, 12, "first-last")).toEqual(defaultStageLayers(70, 12, "middle-heavy"));
    expect(defaultStageLayers(126, 16, "first-last")).toEqual([7, ...rep(8, 14), 7]);
  });
});

// Each split as DeepSpeed v0.12.4's partition_balanced (deepspeed/runtime/utils.py) gives it for
// GPTModelPipe's L + 7 specs with weight 1 on the transformer layers, run under Python; the port
// (planner/layout/gpt-model-pipe.ts typeSplit) agreed with it on every L ≤ 300 and p ≤ 64.
describe("DeepSpeed ≤ 0.12.4's partition_balanced over GPTModelPipe's type:transformer weights", () => {
  it("72 on 12: 6 each; 70 on 12: 6 × 11 and 4; 9 on 4: 3, 3, 3 and nothing; and where the probe departs from ⌈L/p⌉ a stage", () => {
    expect(typeSplit(72, 12, 0)).toEqual(rep(6, 12));
    expect(typeSplit(70, 12, 0)).toEqual([...rep(6, 11), 4]);
    expect(typeSplit(9, 4, 0)).toEqual([3, 3, 3, 0]);
    expect(typeSplit(24, 7, 0)).toEqual([...rep(4, 6), 0]);
    // ⌈L/p⌉ from the first would leave the last stages empty or light; DeepSpeed's probe does not
    expect(typeSplit(64, 9, 0)).toEqual([...rep(7, 8), 8]);
    expect(typeSplit(64, 7, 0)).toEqual([...rep(9, 6), 10]);
    expect(typeSplit(16, 3, 0)).toEqual([5, 5, 6]);
    expect(typeSplit(4, 3, 0)).toEqual([1, 1, 2]);
    // with the tied embeddings weighed too (bigscience's type:transformer|embedding)
    expect(typeSplit(70, 12, 2)).toEqual([5, ...rep(6, 10), 5]);
    expect(typeSplit(62, 7, 2)).toEqual([8, ...rep(9, 6)]);
  });
  it("a stage without a layer is no split DeepSpeed's pipeline runs: null, and no default split", () => {
    expect(firstHeavySplit(70, 12)).toEqual([...rep(6, 11), 4]);
    expect(firstHeavySplit(9, 4)).toBeNull();
    expect(defaultStageLayers(9, 4, "first-heavy")).toBeUndefined();
    // 64 on 9 runs (it was refused while paraplan filled ⌈64/9⌉ = 8 a stage from the first: 8 × 8, 0)
    expect(defaultStageLayers(64, 9, "first-heavy")).toEqual([...rep(7, 8), 8]);
  });
});

describe("DeepSpeed 0.12.5 and later (min-spread): the smallest spread, the heavier stages first", () => {
  it("96 on 10: 10 × 6, 9 × 4; 126 on 12: 11 × 6, 10 × 6; 24 on 7: 4 × 3, 3 × 4, where ≤ 0.12.4 leaves the last stage empty", () => {
    expect(defaultStageLayers(96, 10, "min-spread")).toEqual([...rep(10, 6), ...rep(9, 4)]);
    expect(defaultStageLayers(126, 12, "min-spread")).toEqual([...rep(11, 6), ...rep(10, 6)]);
    expect(defaultStageLayers(24, 7, "min-spread")).toEqual([...rep(4, 3), ...rep(3, 4)]);
    expect(defaultStageLayers(24, 7, "first-heavy")).toBeUndefined();
  });
  it("the default split leaves out GPTModelPipe's MoE-loss spec: with a layer on every stage it moves no split", () => {
    for (let layers = 1; layers <= 64; layers++)
      for (let pp = 2; pp <= Math.min(layers, 12); pp++) expect(deepspeed016Split(layers, pp, true)).toEqual(deepspeed016Split(layers, pp, false));
  });
  it("an engine file that extends megatron-deepspeed for a newer DeepSpeed states it: the search splits so", () => {
    const e = { ...loadEngine("megatron-deepspeed"), supports: { ...loadEngine("megatron-deepspeed").supports, stageSplit: "min-spread" as const } };
    const m = preset("gpt3-1.3b");
    const t: Training = { gpus: 7, globalBatch: 14, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e };
    // 7 GPUs: pp 1 or 7; the search gives pp 7 the engine's split (as under megatron-deepspeed's
    // own rule it has none: 4 × 6 leaves the last stage empty)
    const pp7 = (engine: typeof e) => search(m, hardware("dgx-h100"), { ...t, engine }, { tp: 1 }, { top: 100 }).plans.filter((p) => p.pp === 7);
    expect(pp7(e).map((p) => p.stageLayers)).toContainEqual([4, 4, 4, 3, 3, 3, 3]);
    expect(pp7(e).every((p) => p.stageLayers?.join() === "4,4,4,3,3,3,3")).toBe(true);
    expect(pp7(loadEngine("megatron-deepspeed"))).toEqual([]);
  });
});

describe("every engine's split", () => {
  it("property: sums to L over p stages of at least one layer, the fullest ⌈L/p⌉; even where p divides L or the stack splits evenly only", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.integer({ min: 2, max: 400 }), fc.constantFrom(...STAGE_SPLITS), (p, layers, how) => {
        const split = defaultStageLayers(layers, p, how);
        if (layers % p === 0 || p > layers || how === "even") return split === undefined;
        if (split === undefined) return how === "first-heavy" && typeSplit(layers, p, 0).includes(0);
        return split.length === p && split.every((n) => n >= 1) && split.reduce((a, b) => a + b, 0) === layers && Math.max(...split) === Math.ceil(layers / p);
      }),
    );
  });

  it.each([
    ["megatron-core", [8, ...rep(11, 10), 8]],
    ["torchtitan", [10, ...rep(11, 6), ...rep(10, 5)]],
    ["paraplan", [10, ...rep(11, 6), ...rep(10, 5)]],
    ["megatron-deepspeed", [...rep(11, 11), 5]],
    ["megatron-2021", undefined],
  ])("126 layers on 12 stages under %s's profile", (name, split) => {
    expect(defaultStageLayers(126, 12, loadEngine(name).supports.stageSplit)).toEqual(split);
  });
  it("the search gives a searched pp the engine's split: gpt3-1.3b's 24 layers at pp 5 (80 GPUs), none for megatron-2021", () => {
    const m = preset("gpt3-1.3b");
    const train = (name: string): Training => ({ gpus: 80, globalBatch: 80, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: loadEngine(name) });
    const pp5 = (name: string) => search(m, hardware("dgx-h100"), train(name), { tp: 1 }, { top: 10_000, keepAll: true }).all!.filter((r) => r.pp === 5).map((r) => r.stageLayers);
    // 24 on 5: Megatron-Core [5, 5, 5, 5, 4] (⌈24/5⌉ = 5 middle, 9 left: 5, 4); DeepSpeed the same by filling from the first.
    expect(new Set(pp5("megatron-core").map(String))).toEqual(new Set(["5,5,5,5,4"]));
    expect(new Set(pp5("megatron-deepspeed").map(String))).toEqual(new Set(["5,5,5,5,4"]));
    expect(new Set(pp5("torchtitan").map(String))).toEqual(new Set(["4,5,5,5,5"]));
    expect(pp5("megatron-2021")).toEqual([]);
  });
  it("megatron-2021 runs even stages only: an uneven --stage-layers is refused naming the flag and the source", () => {
    const e = loadEngine("megatron-2021");
    const issue = unsupportedByEngine({ pp: 4, stageLayers: [5, 7, 7, 5] }, e);
    expect(issue?.flag).toBe("--stage-layers");
    expect(issue?.message).toMatch(/runs even pipeline stages only, not 5,7,7,5 \(ParallelTransformer asserts num_layers % pipeline_model_parallel_size == 0/);
    expect(unsupportedByEngine({ pp: 4, stageLayers: [6, 6, 6, 6] }, e)).toBeNull();
  });
});

// Megatron-Core core_r0.14 get_num_layers_to_build with --account-for-embedding-in-pipeline-split
// and --account-for-loss-in-pipeline-split: L + 2 units, (L + 2)/p a rank, ÷ v a virtual stage; the
// first virtual stage of rank 0 and the last of rank p − 1 build one layer fewer.
describe("Megatron-Core's accounted split of virtual stages", () => {
  it("126 layers (Llama 3 405B) on 16 ranks: 128/16 = 8 a rank; v 4 → 2 a chunk, [1, 2 × 62, 1]; v 2 → 4, [3, 4 × 30, 3]; v 8 → 1 a chunk leaves the first empty", () => {
    expect(accountedVirtualSplit(126, 16, 4)).toEqual([1, ...rep(2, 62), 1]);
    expect(accountedVirtualSplit(126, 16, 2)).toEqual([3, ...rep(4, 30), 3]);
    expect(accountedVirtualSplit(126, 16, 8)).toBeNull();
    expect(virtualSplitVpps(126, 16, "first-last")).toEqual([2, 4]);
    // 128/8 = 16 a rank: v 2, 4, 8 (16 would leave the first chunk without a layer)
    expect(virtualSplitVpps(126, 8, "first-last")).toEqual([2, 4, 8]);
    // 126 + 2 = 128 is not a multiple of 12, and p·v dividing L needs no uneven split
    expect(accountedVirtualSplit(126, 12, 2)).toBeNull();
    expect(accountedVirtualSplit(96, 8, 2)).toBeNull();
    // only Megatron-Core builds it: torchtitan's and DeepSpeed's virtual splits are not defaults
    expect(defaultVirtualStageLayers(126, 16, 4, "middle-heavy")).toBeUndefined();
    expect(virtualSplitVpps(126, 16, "first-heavy")).toEqual([]);
  });
  it("the search tries them beside one stage per rank: llama3-405b on 16,384 H100s ranks an interleaved accounted split first, ahead of every 1F1B plan", () => {
    const m = preset("llama3-405b");
    const t: Training = { gpus: 16384, globalBatch: 2048, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: loadEngine("megatron-core") };
    const r = search(m, hardware("dgx-h100"), t, { tp: 8 }, { top: 10_000, keepAll: true });
    const best = r.plans[0]!;
    expect(best.vpp).toBeGreaterThan(1);
    expect(best.stageLayers).toEqual(accountedVirtualSplit(126, best.pp, best.vpp));
    // with vpp the 1F1B bubble (p − 1)/m shrinks v-fold (Narayanan et al. 2021 §2.2.2): at pp 16,
    // dp 128 each pipeline runs 16 micro-batches, so the one-stage-a-rank plan idles ~15/16 of its work
    const at = (vpp: number) => r.all!.filter((p) => p.pp === 16 && p.vpp === vpp && p.memory.total <= p.memory.capacity).sort((a, b) => a.time.step - b.time.step)[0]!;
    expect(at(1).stageLayers).toEqual([7, ...rep(8, 14), 7]);
    expect(at(4).stageLayers).toEqual([1, ...rep(2, 62), 1]);
    expect(at(4).time.bubble).toBeLessThan(at(1).time.bubble / 3);
    expect(at(4).time.step).toBeLessThan(at(1).time.step);
  });
});
