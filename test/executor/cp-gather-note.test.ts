// execute's all_gather row with context parallel on CPU ranks: the worker gathers K/V once a layer
// and keeps it (executor/worker/context.py), in fp32 on CPU, and FSDP2 gathers the ZeRO-2
// parameters in fp32 there too, so the measured bytes are twice the planner's 16-bit count and the
// summary says why, as it does without cp. The measured figures are the real run's:
//   paraplan execute --model tiny --gpus 2 --steps 3 --device cpu --cp 2 --dp 1 --seq 4096 --global-batch 2
// (torch 2.13.0+cpu, summary.json collectives): 26 all-gathers, 37,383,168 bytes.
import { describe, expect, it } from "vitest";
import { predictedVolumes } from "../../executor/comms.js";
import { buildSummary } from "../../executor/summary.js";
import { type Plan, type Training, evaluatePlan } from "../../planner/index.js";
import { summaryText } from "../../src/format/execute-text.js";
import { loadEngine } from "../../src/load-engine.js";
import { loadModel, loadProfile } from "../../src/load.js";

const tiny = loadModel("tiny");
const t: Training = { gpus: 2, globalBatch: 2, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: loadEngine("paraplan", undefined) };
const cp2: Plan = { tp: 1, pp: 1, dp: 1, cp: 2, cpComm: "allgather", cpSplit: "zigzag", ep: 1, etp: 1, vpp: 1, zero: 2, microBatch: 2, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

describe("the all_gather note with context parallel", () => {
  it("the planner counts K/V once a layer at 16 bits, and the ZeRO-2 parameter gather", () => {
    // K and V of 4,096 tokens × 2 sequences × 64 wide × 2 B = 2,097,152 a layer, gathered on both
    // cp ranks, forward only: 4 layers × 2 × 2,097,152 = 16,777,216; the parameters' 16-bit
    // gather, 478,592 parameters × 2 B on each of the 2 ranks: 1,914,368. Total 18,691,584, half
    // of the 37,383,168 fp32 bytes measured (before: 35,468,800, a backward re-gather counted).
    expect(predictedVolumes(tiny, t, cp2).all_gather).toBe(16_777_216 + 1_914_368);
  });

  it("the measured fp32 bytes get the note, beside the CPU K/V-gradient note", () => {
    const hw = loadProfile("cpu");
    const comms = { all_gather: { count: 26, bytes: 37_383_168 }, all_reduce: { count: 16, bytes: 33_554_432 }, reduce_scatter: { count: 10, bytes: 3_828_736 } };
    const worker = { stepTime: 1.68, tokensPerSecond: 4877, peakMemory: 187_861_020, flopsPerStep: 113_548_197_888, loss: [5.5592, 5.5565], comms };
    const s = buildSummary({ model: tiny, hw, profile: "cpu", training: t, result: evaluatePlan(tiny, hw, t, cp2), device: "cpu", runDir: "/runs/cp", steps: 3, worker });
    const text = summaryText(s);
    expect(text).toMatch(/^\(all_gather: the worker moved fp32 tensors where the planner counts 16-bit ones, twice the bytes\)$/m);
    expect(text).toMatch(/^\(context parallel on CPU ranks: the worker all-reduces the K\/V gradients whole/m);
  });
});
