// A two-pod fabric oversubscribed 1:7 above the pods (Llama 3's ratio, §3.3.1) on 32 GPUs of
// dgx-h100 nodes: pods of 16 GPUs (2 nodes). With tp 8, pp 2, dp 2 one of dp and pp must cross the
// pods; the search prices both rank orders and keeps the faster. Hand computations use the
// profile's own figures: network 50 GB/s each way at efficiency 0.85, 6 µs per step.
import { describe, expect, it } from "vitest";
import { stepTime } from "../../planner/cost/time.js";
import { allGatherTime } from "../../planner/cost/collectives.js";
import { allReduceChoice, ringAllReduce } from "../../planner/cost/tuner.js";
import { microBatchCosts } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { ordersToPrice } from "../../planner/layout/order.js";
import { podExits } from "../../planner/layout/fabric.js";
import { parseHardwareFile, mergeProfiles } from "../../planner/schema/hardware.js";
import { search } from "../../planner/search.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import type { Hardware, Plan, RankOrder, Training } from "../../planner/types.js";
import { expectRel, hardware, model, rawHardware } from "./fixtures.js";

function twoPods(): Hardware {
  // dgx-h100 without its NVLS, so that the pods' effect stands alone (NVLS is tuner.test.ts's).
  const { fabric: _nvls, ...h100 } = rawHardware("dgx-h100") as Record<string, unknown>;
  const raw = mergeProfiles(h100, {
    name: "two-pods-1-7",
    fabric: {
      pod: { gpus: { value: 16, source: "test fixture: two nodes per pod" }, oversubscription: { value: 7, source: "Llama 3 §3.3.1: 1:7 above the pods" } },
    },
  });
  const r = parseHardwareFile(raw, "two-pods.json");
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const hw = twoPods();
const B = 50e9; // 400 Gb/s per GPU each way
const R = B * 0.85; // achieved
const ALPHA = 6e-6;
const degrees = { tp: 8, cp: 1, dp: 2, pp: 2, ep: 1, etp: 1 };
const fixed: Plan = { tp: 8, pp: 2, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const training = (globalBatch: number, seqLen: number): Training => ({
  gpus: 32, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: false,
});

// Heavy dp: 32 wide layers (≈ 6.4B parameters), one micro-batch of 512 tokens per replica.
const dpHeavy = model({ layers: 32, hidden: 4096, heads: 32, ffnHidden: 16384, vocab: 32000, seqLen: 512, mlp: "gelu", positional: "rope", tiedEmbeddings: false });
// Heavy pp: 4 layers, 8192-token sequences, 64 micro-batches per replica.
const ppHeavy = model({ layers: 4, hidden: 4096, heads: 32, ffnHidden: 16384, vocab: 32000, seqLen: 8192, mlp: "gelu", positional: "rope", tiedEmbeddings: false });

describe("placement on a two-pod 1:7 fabric", () => {
  it("the fabric parses and the default order keeps dp inside a pod, pp across (and the other the reverse)", () => {
    expect(hw.fabric).toEqual({ nvlinkDomain: 8, nvls: null, leaf: null, pod: { gpus: 16, oversubscription: 7 }, sharp: null });
    const a = place(hw, degrees);
    expect([a.dp.level, a.pp.level, a.tp.level]).toEqual(["pod", "network", "node"]);
    expect(a.dp.link!.bandwidth).toBe(B);
    // pp: 16 chains of 2 ranks (stride 16) each leave each pod once: 16 exits share 16·B/7.
    expect(podExits({ size: 2, stride: 16 }, 32, 16, true)).toBe(16);
    expectRel(a.pp.link!.bandwidth, B / 7, 1e-12);
    const b = place(hw, degrees, "tp-cp-pp-dp");
    expect([b.dp.level, b.pp.level]).toEqual(["network", "pod"]);
    expectRel(b.dp.link!.bandwidth, B / 7, 1e-12);
    expect(b.pp.link!.bandwidth).toBe(B);
    expect(ordersToPrice(hw, degrees).map((o) => o.order)).toEqual(["tp-cp-dp-pp", "tp-cp-pp-dp"]);
  });

  it("a ring over many ranks leaves each pod once per group and NIC channel (dp 16 over 2 pods)", () => {
    // 16 ranks, stride 2, pods of 16: 2 groups, each leaves each pod once → 2 exits; with 4 ranks
    // a node each runs 4 channels on 4 NICs (nic-share.ts), 8 flows on 16·B/7: 4·B·16/(7·2·4).
    expect(podExits({ size: 16, stride: 2 }, 32, 16, false)).toBe(2);
    expectRel(place(hw, { tp: 2, cp: 1, dp: 16, pp: 1, ep: 1, etp: 1 }).dp.link!.bandwidth, (4 * B * 16) / (7 * 2 * 4), 1e-12);
  });

  it("a group with 8 ranks in each node runs on 8 NICs with a fabric as without one (dgx-b200: FSDP over 64 GPUs)", () => {
    // It ran on one: FSDP's exposed dp comm was 592 ms with the fabric block, 87 ms without.
    const b200 = hardware("dgx-b200");
    const shard = place(b200, { tp: 1, cp: 1, dp: 64, pp: 1, ep: 1, etp: 1 }).shard;
    expect([shard.level, shard.link!.bandwidth, shard.link!.latency]).toEqual(["leaf", 8 * 50e9, 4e-6]);
    const S = 16e9; // 8B parameters' bf16 weights
    // formulas.md, ring all-gather: (n−1)·α + (n−1)/n · M/B, B = 8 NICs of 50 GB/s at 0.85.
    expectRel(allGatherTime(S, 64, shard.link!), 63 * 4e-6 + (63 / 64) * (S / (8 * 50e9 * 0.85)), 1e-12);
    // The all-reduce's hierarchical form still sends S/8 on each rank's own NIC.
    const hier = 2 * (7 * 3e-6 + (7 / 8) * (S / (900e9 * 0.8))) + (2 * 7 * 4e-6 + ((2 * 7) / 8) * (S / 8 / (50e9 * 0.85)));
    expectRel(allReduceChoice(S, 64, shard.link!).time, Math.min(hier, ringAllReduce(S, 64, shard.link!)), 1e-12);
    // A pipeline chain's p2p keeps one NIC: tp-cp-pp-dp puts 4 stages of pp 16 in each node.
    const pp = place(b200, { tp: 2, cp: 1, dp: 4, pp: 16, ep: 1, etp: 1 }, "tp-cp-pp-dp").pp;
    expect([pp.stride, pp.link!.bandwidth]).toEqual([2, 50e9]);
  });

  it("a hierarchical all-reduce's 4 rails per node leave each pod 4 times per group: B·16/(7·2·4) each", () => {
    const link = place(hw, { tp: 2, cp: 1, dp: 16, pp: 1, ep: 1, etp: 1 }).dp.link!;
    expect([link.topology!.perDomain, link.topology!.domains]).toEqual([4, 4]);
    const S = 1e9;
    const rail = B * (16 / (7 * 2 * 4)) * 0.85; // 12.1 GB/s achieved per rail
    // formulas-scale.md §5.2: reduce-scatter and all-gather over the node's 4 ranks (NVLink 450
    // GB/s at 0.8, 3 µs), all-reduce of S/4 across the 4 nodes on each rail; §5.3: the 2 groups ×
    // 4 rails leaving a pod split its uplinks, 16·B/7.
    const hier = 2 * (3 * 3e-6 + (3 / 4) * (S / (450e9 * 0.8))) + (2 * 3 * ALPHA + ((2 * 3) / 4) * (S / 4 / rail)); // 35.1 ms
    const ring = 2 * 15 * ALPHA + ((2 * 15) / 16) * (S / ((4 * B * 16) / (7 * 2 * 4) * 0.85)); // 38.8 ms: 4 channels, 8 flows
    const c = allReduceChoice(S, 16, link);
    expect(c.algorithm).toBe("hierarchical");
    expectRel(c.time, hier, 1e-12);
    expect(hier).toBeLessThan(ring);
  });

  it("no fabric, no second order; nor without dp or pp", () => {
    expect(ordersToPrice(hardware("dgx-h100"), degrees)).toHaveLength(1);
    expect(ordersToPrice(hw, { ...degrees, dp: 1, pp: 4 })).toHaveLength(1);
    expect(place(hardware("dgx-h100"), degrees).pp.level).toBe("network");
  });

  const comm = (m: typeof dpHeavy, t: Training, order: RankOrder) => {
    const plan = { ...fixed, order };
    const costs = microBatchCosts(m, hw, t, plan);
    return stepTime(m, hw, t, plan, costs);
  };

  const cases = [
    { name: "heavy dp traffic: dp inside the pods (tp-cp-dp-pp)", m: dpHeavy, t: training(2, 512), wins: "tp-cp-dp-pp" as const },
    { name: "heavy pp traffic: pp inside the pods (tp-cp-pp-dp)", m: ppHeavy, t: training(128, 8192), wins: "tp-cp-pp-dp" as const },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const m = c.m;
      const t = c.t;
      const micro = t.globalBatch / 2;
      // Hand: the p2p carries b·s·h/tp bf16 bytes, 2 per micro-batch (forward, back); the dp ring
      // of 2 all-reduces the last stage's gradients, fp32 under Megatron's bf16 rule (no engine:
      // megatron-core's): 2α + 2·(1/2)·G/R, at R or R/7.
      const p2pBytes = (2 * t.seqLen * m.hidden) / 8;
      const p2p = (rate: number) => 2 * micro * (ALPHA + p2pBytes / rate);
      const G = 4 * stageParamsPerGpu(m, t.seqLen, 8, 2, m.layers / 2, "last");
      const dp = (rate: number) => 2 * ALPHA + G / rate;
      const a = comm(m, t, "tp-cp-dp-pp");
      const b = comm(m, t, "tp-cp-pp-dp");
      // The tp group all-gathers the activation on arrival, on NVLink (450 GB/s · 0.8, 3 µs) in both.
      const gather = 2 * micro * (7 * 3e-6 + (7 / 8) * (8 * p2pBytes) / (450e9 * 0.8));
      expectRel(a.ppComm, p2p(R / 7) + gather, 1e-9);
      expectRel(b.ppComm, p2p(R) + gather, 1e-9);
      expectRel(a.dpComm, dp(R), 1e-9);
      expectRel(b.dpComm, dp(R / 7), 1e-9);
      const r = search(m, hw, t, fixed, { top: 1 });
      const best = r.plans[0]!;
      expect(best.order).toBe(c.wins);
      expect(best.time.step).toBe(Math.min(a.step, b.step));
      const other = c.wins === "tp-cp-dp-pp" ? "tp-cp-pp-dp" : "tp-cp-dp-pp";
      expect(best.orderReason).toMatch(new RegExp(`^${c.wins}: .* against .* with ${other} `));
      expect(best.orderReason).toContain("across pods at 7.14 GB/s");
      if (c.wins === "tp-cp-dp-pp") expect(best.orderReason).toMatch(/^tp-cp-dp-pp: dp inside a pod at 50.0 GB\/s, pp across pods at 7.14 GB\/s; step /);
      // The simulator prices the same links: the pipeline's transfer and the dp ring.
      const sim = buildSimCosts(m, hw, t, best);
      const ppRate = c.wins === "tp-cp-pp-dp" ? R : R / 7;
      const dpRate = c.wins === "tp-cp-pp-dp" ? R / 7 : R;
      expectRel(sim.p2p.work, p2pBytes / ppRate, 1e-9);
      expectRel(sim.dpCollective("allReduce", G).work, G / dpRate, 1e-9);
      expect(sim.p2p.inter).toBe(true);
    });
  }
});
