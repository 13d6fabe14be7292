// The profiler's attention measurement becomes an efficiency in the units the planner times
// attention in: causal keys and a 2.5× backward (planner/cost/compute.ts attentionTime,
// attentionBackwardFactor). Before, the profile divided the reporting convention's FLOPs (full
// square, backward 2×: 12·b·s²·a·d) by the measured time, so the H200's profile said 0.82 where the
// planner needed 0.50 and priced attention about 1.6× faster than measured.
import { describe, expect, it } from "vitest";
import { attentionBackwardFactor, attentionTime, causalAttentionWork } from "../../planner/cost/compute.js";
import type { Training } from "../../planner/index.js";
import { attentionRate } from "../../src/profile/tables.js";
import { hardware, model } from "../planner/fixtures.js";

const t: Training = { gpus: 1, globalBatch: 4, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };

describe("measured attention in the planner's units", () => {
  it("the work of one causal forward + backward, by hand: s = 256 is two 128-tiles, 3 of 4 computed", () => {
    // keys per query 256·3/4 = 192; forward 4·b·s·192·a·d, backward 2.5× that.
    expect(causalAttentionWork(1, 256, 1, 64)).toBe(3.5 * 4 * 256 * 192 * 64);
  });

  it("an efficiency built from a measured time gives that time back through the planner", () => {
    const seconds = 0.0125; // one timed SDPA forward + backward of (b 4, a 32, s 2048, d 128)
    const reported = 12 * 4 * 2048 ** 2 * 32 * 128; // what the profiler reports as FLOPs
    const rate = attentionRate([{ batch: 4, heads: 32, seq: 2048, headDim: 128, flops: reported, seconds }])!;
    const h100 = hardware("dgx-h100");
    const hw = { ...h100, attentionEfficiency: rate / h100.peak.bf16 };
    const m = model({ layers: 2, hidden: 4096, heads: 32, vocab: 32000, seqLen: 2048 });
    const planned = attentionTime(m, hw, t, 1, 4) * (1 + attentionBackwardFactor(t));
    expect(planned).toBeCloseTo(seconds, 12);
    // The reporting convention's rate is 12 / (3.5 · 2 · 17/32) ≈ 1.61× the planner's.
    expect(reported / seconds / rate).toBeCloseTo(12 / (3.5 * 4 * (17 / 32)), 12);
  });
});
