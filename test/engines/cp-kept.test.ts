// What paraplan's worker keeps for backward under all-gather context parallel
// (executor/worker/context.py span_attention; planner/cost/cp-saved.ts), against hand counts of
// its saved tensors: each layer keeps the whole sequence's K and V at the key/value heads (the
// chunks' keys are views of them) in place of the rank's own K and V, and under zig-zag each
// chunk's output beside their concatenation; no (s/cp × s) mask. The same tensors at fp32 are
// what test/worker/test_context.py counts with torch's saved-tensor hooks on CPU.
import { describe, expect, it } from "vitest";
import { stageActivationBytes, stageMemory } from "../../planner/cost/memory.js";
import { stepWire } from "../../planner/wire/wire.js";
import type { Engine } from "../../planner/engine.js";
import type { CpSplit, Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 2, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, globalBatch: number, seqLen: number, e: Engine): Training => ({ gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
const paraplan = loadEngine("paraplan", undefined);

describe("the worker's all-gather context parallel keeps the gathered K/V, not a mask", () => {
  const tiny = preset("tiny"); // 4 layers, h 64, 4 heads of 16, 4 K/V heads
  // execute --model tiny --gpus 2 --cp 2 --seq 4096 --global-batch 2: micro-batch 2 of 2,048
  // tokens a rank; against cp 1 · dp 2 (micro-batch 1 of 4,096) every per-token tensor is equal.
  const cp2 = (split: CpSplit, e = paraplan) => stageActivationBytes(tiny, training(2, 2, 4096, e), plan({ cp: 2, cpComm: "allgather", cpSplit: split, microBatch: 2 }), "only");
  const dp2 = (e = paraplan) => stageActivationBytes(tiny, training(2, 2, 4096, e), plan({ dp: 2 }), "only");

  it("tiny at cp 2, zig-zag: 1,572,864 bytes a layer more than the same tokens without cp", () => {
    // per layer, bf16:
    //   gathered K and V:   2 · 4,096 tokens · 2 sequences · 64 · 2 B      = 2,097,152
    //   less the rank's own K and V the list counts: 2 · 2,048 · 2 · 64 · 2 = 1,048,576
    //   the chunks' outputs beside their concatenation: 2,048 · 2 · 64 · 2 =   524,288
    //   = 1,572,864 a layer; 4 layers 6,291,456
    expect(cp2("zigzag") - dp2()).toBe(6_291_456);
  });

  it("contiguous: one chunk, no copy of its output: 1,048,576 a layer", () => {
    expect(cp2("contiguous") - dp2()).toBe(4 * 1_048_576);
  });

  it("Megatron-Core gathers again in backward: nothing beyond the per-token tensors", () => {
    const core = loadEngine("megatron-core", undefined);
    expect(core.contextParallel.allgatherKeeps).toEqual([]);
    expect(cp2("zigzag", core)).toBe(dp2(core));
  });

  it("the engine file states it, with its source", () => {
    expect(paraplan.contextParallel.allgatherKeeps).toEqual(["gathered-kv", "chunk-outputs"]);
    expect(paraplan.sources["contextParallel.allgatherKeeps"]).toContain("context.py span_attention");
  });

  it("recomputed layers re-gather: full recompute keeps no more than without cp", () => {
    const full = (p: Partial<Plan>) => stageActivationBytes(tiny, training(2, 2, 4096, paraplan), plan({ recompute: "full", ...p }), "only");
    // the working set of the one layer recomputed in backward holds its gathered K/V again
    expect(full({ cp: 2, cpComm: "allgather", cpSplit: "zigzag", microBatch: 2 }) - full({ dp: 2 })).toBe(1_572_864);
  });

  it("llama3-8b at 262,144 tokens, tp 1 · cp 64: 31.0 GiB of gathered K/V the planner did not count", () => {
    const m = preset("llama3-8b"); // 32 layers, 32 query heads and 8 K/V heads of 128
    const t = training(64, 32, 262144, paraplan);
    const p = plan({ cp: 64, cpComm: "allgather", cpSplit: "zigzag", zero: 1 });
    const none = { ...paraplan, contextParallel: { ...paraplan.contextParallel, allgatherKeeps: [] } };
    // per layer: 2 · 262,144 · 1,024 · 2 = 1,073,741,824 gathered; less the rank's own K/V the
    // eager list counts repeated to the 4,096-wide query heads, 2 · 4,096 · 4,096 · 2 = 67,108,864;
    // plus the chunks' outputs, 4,096 · 4,096 · 2 = 33,554,432: 1,040,187,392 a layer, ×32
    const extra = stageActivationBytes(m, t, p, "only") - stageActivationBytes(m, { ...t, engine: none }, p, "only");
    expect(extra).toBe(33_285_996_544);
    // which no longer fits an H100 at ZeRO-1 (it did at 74.7 GiB)
    const mem = stageMemory(m, hardware("dgx-h100"), t, p, "only");
    expect(mem.total).toBeGreaterThan(mem.capacity);
  });

  it("keeping them, it gathers once a layer: no backward gather unless per-op SAC re-runs it", () => {
    const m = preset("tiny");
    const t = training(2, 2, 4096, paraplan);
    const gathers = (p: Partial<Plan>, e = paraplan) =>
      stepWire(m, { ...t, engine: e }, plan({ cp: 2, cpComm: "allgather", cpSplit: "zigzag", microBatch: 2, ...p }))
        .filter((i) => i.id === "cp-kv-gather").map((i) => [i.pass, i.calls]);
    // one micro-batch of 4 layers: forward 4 calls; the worker's SAC re-runs GatherSequence in
    // backward (4 more); full recompute re-runs the forward (8), its attention keeping those
    expect(gathers({})).toEqual([["forward", 4]]);
    expect(gathers({ recompute: "selective" })).toEqual([["forward", 4], ["backward", 4]]);
    expect(gathers({ recompute: "full" })).toEqual([["forward", 8]]);
    // Megatron-Core keeps its own chunk only and gathers again in every backward
    expect(gathers({}, loadEngine("megatron-core", undefined))).toEqual([["forward", 4], ["backward", 4]]);
  });
});
