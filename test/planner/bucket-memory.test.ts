// Gradient buckets in the memory model (cost/memory.ts bufferBytes). Megatron-Core's buckets are
// views into its contiguous gradient buffer, which the model states already count; the planner
// added two buckets of max(40M, 1M·dp) parameters on top, so a ZeRO-1 plan's "other" memory grew
// with dp without bound: gpt3-125m at dp 4096 held 16.4 GB of buckets for 0.5 GB of gradients.
// DeepSpeed's ZeRO-1/2 keep buffers of their own (reduce_bucket_size), which stay counted.
import { describe, expect, it } from "vitest";
import { stageMemory } from "../../planner/cost/memory.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const h100 = hardware("dgx-h100");
const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, e: Engine): Training => ({ gpus, globalBatch: 4096, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
const states = (mem: { weights: number; gradients: number; optimizer: number; activations: number }) => mem.weights + mem.gradients + mem.optimizer + mem.activations;

describe("gradient buckets", () => {
  const m = preset("gpt3-125m");

  it("megatron-core: no memory of their own at any dp, so 'other' is fragmentation and the reserve alone", () => {
    const core = loadEngine("megatron-core", undefined);
    for (const dp of [8, 1024, 4096]) {
      const mem = stageMemory(m, h100, training(dp, core), plan({ dp, zero: 1 }), "only");
      // total = allocated·(1 + fragmentation) + reserve, and nothing is allocated beyond the states
      // and activations (no ZeRO-3 gathers, no fp8 copies)
      expect(mem.other).toBeCloseTo(h100.fragmentation * states(mem) + h100.reserve, 0);
    }
    const at = (dp: number) => stageMemory(m, h100, training(dp, core), plan({ dp, zero: 1 }), "only").total;
    expect(at(4096)).toBeLessThan(at(8)); // the optimizer shards further; nothing grows
  });

  it("megatron-deepspeed keeps its two 5e8-element buckets of 2 bytes (reduce_bucket_size)", () => {
    const ds = loadEngine("megatron-deepspeed", undefined);
    const dp = 64;
    const mem = stageMemory(m, h100, training(dp, ds), plan({ dp, zero: 1 }), "only");
    const buffers = 2 * 1e9;
    expect(mem.other).toBeCloseTo(h100.fragmentation * (states(mem) + buffers) + buffers + h100.reserve, 0);
  });

  it("ZeRO-3 per-GPU memory does not grow with dp (llama3-8b, 128 → 512 GPUs)", () => {
    const core = loadEngine("megatron-core", undefined);
    const l = preset("llama3-8b");
    const at = (dp: number) => stageMemory(l, h100, { ...training(dp, core), globalBatch: 512 }, plan({ dp, zero: 3, recompute: "full" }), "only").total;
    expect(at(256)).toBeLessThanOrEqual(at(128));
    expect(at(512)).toBeLessThanOrEqual(at(256));
  });
});
