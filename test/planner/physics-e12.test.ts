// Physics of issue 12 against hand computations: causal attention time under flash attention,
// its backward, and the slowdown of compute that overlapped communication causes.
import { describe, expect, it } from "vitest";
import { attentionWorkShare, causalKeysPerQuery, windowKeys } from "../../planner/cost/causal.js";
import { layerTimes } from "../../planner/cost/compute.js";
import { attentionFlops, modelFlopsPerStep } from "../../planner/cost/flops.js";
import { OVERLAP_SLOWDOWN, overlapCost } from "../../planner/cost/overlap.js";
import type { Training } from "../../planner/index.js";
import { expectRel, hardware, preset } from "./fixtures.js";

const training = (over: Partial<Training> = {}): Training => ({
  gpus: 8, globalBatch: 8, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...over,
});

describe("causal attention time", () => {
  const m = preset("gpt3-1.3b");
  it("flash computes n(n+1)/2 of n² tiles: s = 2048, 128-blocks → 17/32 of the square", () => {
    expect(causalKeysPerQuery(m, 2048)).toBeCloseTo((2048 * 17) / 32, 9);
    expect(attentionWorkShare(m, { seqLen: 2048, fusedAttention: true })).toBeCloseTo(17 / 32, 12);
    expect(attentionWorkShare(m, { seqLen: 65536, fusedAttention: true })).toBeCloseTo(513 / 1024, 12);
  });
  it("a sliding window computes its tiles, ramping up from the first query: w = s/2 is 3/4 of the causal work", () => {
    // s = 8192, B = 128: n = 64 tiles a side, k = ⌈4095/128⌉ = 32 tiles before the diagonal:
    // 33·34/2 + 31·33 = 1584 tiles against the causal 64·65/2 = 2080, s/n = 128 keys each.
    const w = { ...m, slidingWindow: 4096 };
    expect(windowKeys(8192, 4096)).toBeCloseTo((1584 * 128) / 64, 9);
    expect(causalKeysPerQuery(w, 8192)).toBeCloseTo(3168, 9);
    expect(causalKeysPerQuery(w, 8192) / causalKeysPerQuery(m, 8192)).toBeCloseTo(1584 / 2080, 12);
    // a window as long as the sequence is the causal square
    expect(windowKeys(2048, 2048)).toBeCloseTo(causalKeysPerQuery(m, 2048), 9);
    // s = 131,072, w = 4096: n = 1024, k = 32: 561 + 991·33 = 33,264 tiles of 128 keys over 1024 rows
    expect(windowKeys(131072, 4096)).toBeCloseTo((33264 * 128) / 1024, 9);
    // half the layers windowed: the mean of the two
    expect(causalKeysPerQuery({ ...w, slidingWindowLayers: m.layers / 2 }, 8192)).toBeCloseTo((3168 + causalKeysPerQuery(m, 8192)) / 2, 9);
  });
  it("materialised scores compute the whole square", () => {
    expect(attentionWorkShare(m, { seqLen: 2048, fusedAttention: false })).toBe(1);
  });
  it("the attention core's time is the causal work at the attention efficiency; model FLOPs keep the full square", () => {
    const hw = hardware("dgx-h100");
    const t = training();
    const core = layerTimes(m, hw, t, 1, 1, false).attentionCore;
    const full = attentionFlops(m, 2048, 1, 1);
    expect(core).toBeCloseTo((full * 17) / 32 / (hw.peak.bf16 * hw.attentionEfficiency), 15);
    // Reporting convention unchanged: 4·b·s²·h per layer forward in the step's model FLOPs.
    const flops = modelFlopsPerStep(m, t, 51200);
    const noAttn = modelFlopsPerStep({ ...m, slidingWindow: 1 }, t, 51200);
    expect(flops - noAttn).toBeCloseTo(3 * m.layers * 8 * 4 * 2048 * (2048 - 1) * m.hidden, -6);
  });
});

describe("flash attention's backward", () => {
  const m = preset("gpt3-1.3b");
  const hw = hardware("dgx-h100");
  it("is 2.5× its forward (Dao 2023 §3.1: five GEMMs against two); materialised scores' is 2×", () => {
    const flash = layerTimes(m, hw, training(), 1, 1, false);
    // backward = 2 × (GEMMs + memory-bound) + 2.5 × attention = 2 × forward + 0.5 × attention
    expect(flash.backward).toBeCloseTo(2 * flash.forward + 0.5 * flash.attentionCore, 15);
    const mat = layerTimes(m, hw, training({ fusedAttention: false }), 1, 1, false);
    expect(mat.backward).toBeCloseTo(2 * mat.forward, 15);
  });
});

describe("overlapped communication slows compute", () => {
  it("costs its excess plus the slowdown of the compute it hides behind (Lee et al. 2025)", () => {
    expect(OVERLAP_SLOWDOWN).toBeCloseTo(0.189, 12);
    expect(overlapCost(1, 3)).toBeCloseTo(0.189, 12); // fully hidden: 1 s of compute slowed
    expect(overlapCost(3, 1)).toBeCloseTo(2 + 0.189, 12); // 2 s exposed, 1 s hidden
    expect(overlapCost(1, 3, 0)).toBe(0); // the former model: hidden completely
    expect(overlapCost(1, 0)).toBe(1); // nothing to overlap: all exposed, no slowdown
  });
});

describe("power-capped parts", () => {
  it("sustain (limit/rated)^(1/3) of the rated part's compute (cube-law prior, planner/power.ts)", async () => {
    const { powerThrottle } = await import("../../planner/power.js");
    expect(powerThrottle(500, 700)).toBeCloseTo(Math.cbrt(5 / 7), 12);
    expect(powerThrottle(700, 700)).toBe(1);
    expect(powerThrottle(800, 700)).toBe(1);
  });
  it("h100-96g-500w: 96 GB, 2.4 TB/s, 500 W, dgx-h100's efficiencies × 0.894", () => {
    const capped = hardware("h100-96g-500w");
    const rated = hardware("dgx-h100");
    // 96 GB as nvidia-smi reports a 96 GB Hopper part, 97,871 MiB (95.6 GiB), not 96e9 bytes (89.4)
    expect(capped.memory).toBe(97871 * 2 ** 20);
    expect(capped.memoryBandwidth).toBe(2.4e12);
    expect(capped.powerLimit).toBe(500);
    expect(capped.attentionEfficiency).toBeCloseTo(rated.attentionEfficiency * Math.cbrt(5 / 7), 12);
    capped.matmul.points.forEach(([x, e], i) => {
      expect(x).toBe(rated.matmul.points[i]![0]);
      expect(e).toBeCloseTo(rated.matmul.points[i]![1] * Math.cbrt(5 / 7), 12);
    });
    expect(capped.inter.bandwidth).toBe(rated.inter.bandwidth);
  });
});

describe("network share of a group with several ranks per node (NCCL rings over every NIC)", () => {
  it("k ranks in each node drive k NICs, capped at NVLink", async () => {
    const { networkLink, ranksPerNode } = await import("../../planner/layout/nic-share.js");
    expect(ranksPerNode(64, 1, 8)).toBe(8); // dp 64 contiguous: 8 per node
    expect(ranksPerNode(16, 8, 8)).toBe(1); // dp behind tp 8: one per node
    expect(ranksPerNode(32, 2, 8)).toBe(4); // dp behind tp 2: 4 per node
    const hw = hardware("dgx-a100-80g");
    expect(networkLink(hw, 64, 1).bandwidth).toBe(Math.min(8 * hw.inter.bandwidth, hw.intra.bandwidth));
    expect(networkLink(hw, 32, 2).bandwidth).toBe(4 * hw.inter.bandwidth);
    expect(networkLink(hw, 16, 8)).toBe(hw.inter);
  });
  it("place() gives a contiguous dp group across nodes the node's NIC share", async () => {
    const { place } = await import("../../planner/layout/groups.js");
    const hw = hardware("dgx-h100");
    const p = place(hw, { tp: 1, cp: 1, dp: 64, pp: 1, ep: 1, etp: 1 });
    expect(p.dp.where).toBe("network");
    expect(p.dp.link!.bandwidth).toBe(Math.min(8 * hw.inter.bandwidth, hw.intra.bandwidth));
    const q = place(hw, { tp: 8, cp: 1, dp: 8, pp: 1, ep: 1, etp: 1 });
    expect(q.dp.link!.bandwidth).toBe(hw.inter.bandwidth);
    // A pipeline's p2p is not a ring: tp 2 · dp 2 · pp 16 puts 2 stages in each node (stride 4),
    // yet each stage boundary is one transfer on one NIC (it was priced at 2 NICs, 100 GB/s).
    const r = place(hw, { tp: 2, cp: 1, dp: 2, pp: 16, ep: 1, etp: 1 });
    expect([r.pp.stride, r.pp.where, r.pp.link!.bandwidth]).toEqual([4, "network", hw.inter.bandwidth]);
  });
  it("the experts' all-to-all sends what leaves the node on each rank's own NIC (ep 64 over 8 nodes, DeepSeek-V3's layout)", async () => {
    // It ran at 8 NICs' share (400 GB/s) as a ring does: 7× DeepEP's > 40 GB/s per GPU
    // (hardware-2026.md, H800) and formulas-scale §1.7's "~40 GB/s effective NIC".
    const { place } = await import("../../planner/layout/groups.js");
    const { allToAllTime } = await import("../../planner/cost/collectives.js");
    const M = 469.762048e6; // 4096 tokens · top-8 · 7168 · 2 bytes
    for (const [name, alpha] of [["dgx-h100", 6e-6], ["dgx-b200", 4e-6]] as const) {
      const ep = place(hardware(name), { tp: 1, cp: 1, dp: 128, pp: 1, ep: 64, etp: 1 }).ep;
      // 63 peers, 7 of them in the node over NVLink beside the 56/64 that leave on one NIC, 50 GB/s at 0.85.
      expectRel(allToAllTime(M, 64, ep.link!), 63 * alpha + (56 / 64) * (M / (50e9 * 0.85)), 1e-12);
    }
    // Inside a node the whole buffer but its own share moves over NVLink, as before.
    const inNode = place(hardware("dgx-h100"), { tp: 1, cp: 1, dp: 8, pp: 1, ep: 8, etp: 1 }).ep.link!;
    expectRel(allToAllTime(M, 8, inNode), 7 * 3e-6 + (7 / 8) * (M / (450e9 * 0.8)), 1e-12);
  });
});

describe("ZeRO-3 gather calls", () => {
  it("each call beyond the wire's one pays a ring latency (n−1)·α", async () => {
    const { extraGatherLatency } = await import("../../planner/cost/gather-calls.js");
    // 96 layers × 12 tensors on 1536 ranks at 6 µs: (1152 − 1) · 1535 · 6e-6 s.
    expect(extraGatherLatency(96, 12, 1536, 6e-6)).toBeCloseTo(1151 * 1535 * 6e-6, 12);
    expect(extraGatherLatency(1, 1, 1536, 6e-6)).toBe(0);
    expect(extraGatherLatency(96, 1, 1, 6e-6)).toBe(0);
  });
});

describe("ALiBi positions", () => {
  it("have no position table (parameters as a rotary model's table-free count) and GPT-style norms", async () => {
    const { totalParams, finalNormParams } = await import("../../planner/model.js");
    const gpt = preset("gpt3-1.3b");
    const alibi = { ...gpt, positional: "alibi" as const };
    expect(totalParams(gpt, 2048) - totalParams(alibi, 2048)).toBe(2048 * gpt.hidden);
    expect(finalNormParams(alibi)).toBe(2 * gpt.hidden);
  });
  it("the Megatron exports refuse them by name", async () => {
    const { megatronModelRefusal } = await import("../../src/engines/model-facts.js");
    const alibi = { ...preset("gpt3-1.3b"), positional: "alibi" as const };
    expect(megatronModelRefusal(alibi, "core_r0.14")).toMatch(/ALiBi/);
    expect(megatronModelRefusal(alibi, "megatron-deepspeed")).toMatch(/ALiBi/);
  });
});
