// What one GPU stages and writes per checkpoint (planner/run/inputs.ts checkpointBytesPerGpu):
// its share of the states counted once where the stack spreads the replicas' save over them
// (Megatron-Core's fully parallel save, torch DCP's dedup), else all it holds (Megatron-LM v2,
// DeepSpeed: data-parallel rank 0 writes).
import { describe, expect, it } from "vitest";
import { checkpointBytes, checkpointBytesPerGpu } from "../../planner/run/inputs.js";
import { checkpointTimes } from "../../planner/run/goodput.js";
import { search } from "../../planner/search.js";
import { loadEngine } from "../../src/load-engine.js";
import { bf16Training, hardware, preset, RUN_BASE } from "./fixtures.js";

// Llama 3 8B, by hand: a layer 2·4096² (q, o) 33,554,432 + 2·4096·1024 (k, v) 8,388,608 +
// 3·4096·14336 (MLP) 176,160,768 + 2·4096 (norms) = 218,112,000; 32 layers 6,979,584,000;
// embedding and untied output 128,256·4096 each = 525,336,576; final norm 4096.
// Ψ = 8,030,261,248. Megatron's states: 2Ψ + 4Ψ + 8Ψ = 14Ψ = 112,423,657,472 B.
const PSI = 8_030_261_248;
const LAYER = 218_112_000;
const EMBED = 525_336_576;

describe("checkpoint bytes per GPU", () => {
  const m = preset("llama3-8b");
  const hw = hardware("dgx-h100");
  const core = loadEngine("megatron-core", undefined);
  const t = { ...bf16Training(64, 512, 8192), engine: core };

  it("Megatron-Core, dp 64: a 64th of the checkpoint, 14Ψ / 64 = 1,756,619,648 B, not the 17.6 GB a ZeRO-2 GPU holds", () => {
    const plan = search(m, hw, t, { tp: 1, pp: 1, cp: 1, zero: 2 }, { top: 1 }).plans[0]!;
    expect(plan.dp).toBe(64);
    expect(checkpointBytes(m, t)).toBe(14 * PSI);
    const share = checkpointBytesPerGpu(m, t, plan);
    expect(share).toBeCloseTo((14 * PSI) / 64, 0);
    // It stages in 1,756,619,648 / 64 GB/s = 27.447 ms, under the write of 14Ψ = 112.4 GB at
    // 2 TB/s = 56.212 ms: the write, not the copy, blocks a sync checkpoint.
    const c = checkpointTimes({ ...RUN_BASE, checkpointBytes: 14 * PSI, checkpointBytesPerGpu: share, checkpointBandwidth: 2e12, stagingBandwidth: 64e9, mode: "sync" });
    expect(c.staging).toBeCloseTo(0.027447, 5);
    expect(c.blocking).toBeCloseTo(0.056212, 5);
  });

  it("pp 2, dp 32: the busier pipeline rank's share, the last (16 layers + output + final norm)", () => {
    const t2 = { ...t, globalBatch: 512 };
    const plan = search(m, hw, t2, { tp: 1, pp: 2, cp: 1, zero: 1 }, { top: 1 }).plans[0]!;
    expect(plan.dp).toBe(32);
    // Last rank: 16·218,112,000 + 525,336,576 + 4096 = 4,015,132,672 parameters; 14 bytes each
    // over 32 replicas = 1,756,620,544 B (the first rank, 4096 fewer, writes 1,792 B less).
    expect(checkpointBytesPerGpu(m, t2, plan)).toBeCloseTo((14 * (16 * LAYER + EMBED + 4096)) / 32, 0);
  });

  it("a stack whose data-parallel rank 0 writes (checkpointDedup false): all that GPU holds, 2Ψ + 12Ψ/64 at ZeRO-2", () => {
    const noDedup = { ...core, dataParallel: { ...core.dataParallel, checkpointDedup: false } };
    const t3 = { ...t, engine: noDedup };
    const plan = search(m, hw, t3, { tp: 1, pp: 1, cp: 1, zero: 2 }, { top: 1 }).plans[0]!;
    // 2·8,030,261,248 + 12·8,030,261,248 / 64 = 16,060,522,496 + 1,505,673,984 = 17,566,196,480.
    expect(checkpointBytesPerGpu(m, t3, plan)).toBeCloseTo(2 * PSI + (12 * PSI) / 64, 0);
  });

  it("which built-in stacks spread the save: Megatron-Core and the torch DCP ones do, Megatron-LM v2 and DeepSpeed do not", () => {
    for (const n of ["megatron-core", "torchtitan", "fsdp", "paraplan"]) expect(loadEngine(n, undefined).dataParallel.checkpointDedup).toBe(true);
    for (const n of ["megatron-2021", "megatron-deepspeed"]) expect(loadEngine(n, undefined).dataParallel.checkpointDedup).toBe(false);
  });
});
