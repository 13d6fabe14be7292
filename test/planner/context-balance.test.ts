// Context parallel, second part: which exchanges carry the causal imbalance (Ulysses does not; a
// sliding window balances contiguous chunks), the stacks' sliding-window exchanges, the backward
// ring send's hiding window, and the fixed inputs of this area that can never form a plan.
import { describe, expect, it } from "vitest";
import { checkFixed } from "../../planner/constraints.js";
import { callTime } from "../../planner/cost/collectives.js";
import { attentionBackwardFactor, layerTimes } from "../../planner/cost/compute.js";
import { cpAttentionImbalance, cpCallWindow, cpImbalance, cpWindowImbalance } from "../../planner/cost/context.js";
import { OVERLAP_SLOWDOWN } from "../../planner/cost/overlap.js";
import { evaluatePlan, microBatchCosts, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { degreesOf } from "../../planner/layout/layout.js";
import { search } from "../../planner/search.js";
import { simulate } from "../../planner/sim/simulate.js";
import type { ModelSpec, Plan, Training } from "../../planner/types.js";
import { wireOf } from "../../planner/wire/wire.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const llama8b = preset("llama3-8b");
const windowed: ModelSpec = { ...llama8b, name: "swa-8b", slidingWindow: 4096, slidingWindowLayers: 32 };
const training = (gpus: number, globalBatch: number, seqLen: number): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true,
});
const plan = (p: Partial<Plan>): Plan => ({
  tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p,
});

/** (query, key) pairs each rank computes with a window of w keys (query q attends to
 *  min(q + 1, w) keys), counted token by token; its max over its mean. */
function bruteImbalance(s: number, cp: number, zigzag: boolean, w: number): number {
  const chunk = s / (zigzag ? 2 * cp : cp);
  const owner = (c: number) => (zigzag ? (c < cp ? c : 2 * cp - 1 - c) : c);
  const work = new Array<number>(cp).fill(0);
  for (let q = 0; q < s; q++) work[owner(Math.floor(q / chunk))]! += Math.min(q + 1, w);
  return Math.max(...work) / (work.reduce((a, b) => a + b, 0) / cp);
}

describe("the busiest rank's attention under a sliding window (formulas-scale §2.4's count, with a window)", () => {
  it("matches the token-by-token count, both splits, windows shorter and longer than a chunk", () => {
    for (const [cp, w] of [[4, 1000], [4, 3000], [8, 700], [2, 5000]] as const)
      for (const zigzag of [false, true]) expect(cpWindowImbalance(8192, cp, zigzag ? "zigzag" : "contiguous", w)).toBeCloseTo(bruteImbalance(8192, cp, zigzag, w), 12);
    // A window spanning the sequence is the causal mask: the (2c−1)/c of cpImbalance.
    expect(cpWindowImbalance(8192, 4, "contiguous", 8192)).toBe(7 / 4);
  });
  it("131,072 tokens, cp 16, a 4,096-key window: ×1.0159 under both splits, not the causal ×31/16", () => {
    // Contiguous chunks of 8,192: ranks 1–15 give each query 4,096 keys, 8,192·4,096 = 33,554,432
    // pairs; rank 0 gives 4,096·4,097/2 + 4,096·4,096 = 25,167,872. Mean (15·33,554,432 +
    // 25,167,872)/16 = 33,030,272; max/mean = 33,554,432/33,030,272. Zig-zag (chunks of 4,096):
    // rank 0 holds chunk 0 (8,390,656) and chunk 31 (16,777,216), every other rank 2·16,777,216:
    // the same max and mean.
    const hand = 33554432 / 33030272;
    expect(hand).toBeCloseTo(1.0158690, 6);
    expect(cpWindowImbalance(131072, 16, "contiguous", 4096)).toBeCloseTo(hand, 12);
    expect(cpWindowImbalance(131072, 16, "zigzag", 4096)).toBeCloseTo(hand, 12);
    expect(cpAttentionImbalance(windowed, 131072, { cp: 16, split: "contiguous" })).toBeCloseTo(hand, 12);
    // So the layer's attention is the same under either split (it was ×31/16 / 1 before).
    const t = training(16, 1, 131072);
    const zig = layerTimes(windowed, H100, t, 1, 1, false, { cp: 16, split: "zigzag", comm: "allgather" });
    const contiguous = layerTimes(windowed, H100, t, 1, 1, false, { cp: 16, split: "contiguous", comm: "allgather" });
    expect(contiguous.attentionCore / zig.attentionCore).toBeCloseTo(1, 12);
  });
  it("half the layers windowed: the two kinds weighted by the flash kernel's keys per query", () => {
    // Full layers: n = 131,072/128 = 1,024 tiles a side, s·(n+1)/(2n) = 65,600 keys a query, at
    // ×31/16. Window layers: k = ⌈4,095/128⌉ = 32 tiles back, (33·34)/2 + (1,024 − 33)·33 = 33,264
    // tiles of 128 keys per 1,024 queries → 4,158 keys a query, at ×33,554,432/33,030,272.
    // (65,600·31/16 + 4,158·1.0158690)/(65,600 + 4,158) = (127,100 + 4,223.98)/69,758 = 1.88257.
    const half: ModelSpec = { ...windowed, slidingWindowLayers: 16 };
    const hand = (65600 * (31 / 16) + 4158 * (33554432 / 33030272)) / (65600 + 4158);
    expect(hand).toBeCloseTo(1.88257, 5);
    expect(cpAttentionImbalance(half, 131072, { cp: 16, split: "contiguous", comm: "ring" })).toBeCloseTo(hand, 12);
  });
});

describe("Ulysses (a2a) has no causal imbalance: each rank attends over the whole sequence for h/c heads", () => {
  it("contiguous a2a costs what zig-zag a2a costs; the all-gather keeps ×(2c−1)/c", () => {
    expect(cpAttentionImbalance(llama8b, 131072, { cp: 8, split: "contiguous", comm: "a2a" })).toBe(1);
    expect(cpAttentionImbalance(llama8b, 131072, { cp: 8, split: "contiguous", comm: "allgather" })).toBe(cpImbalance(8, "contiguous"));
    const t = training(8, 1, 131072);
    const a2a = (split: "zigzag" | "contiguous") => layerTimes(llama8b, H100, t, 1, 1, false, { cp: 8, split, comm: "a2a" }).attentionCore;
    expect(a2a("contiguous")).toBe(a2a("zigzag"));
    const gather = (split: "zigzag" | "contiguous") => layerTimes(llama8b, H100, t, 1, 1, false, { cp: 8, split, comm: "allgather" }).attentionCore;
    expect(gather("contiguous") / gather("zigzag")).toBeCloseTo(15 / 8, 12);
  });
});

describe("a sliding window under context parallel: only the exchanges the stack runs it in", () => {
  const t = (engine?: string) => ({ ...training(64, 64, 131072), ...(engine ? { engine: loadEngine(engine) } : {}) });
  it("Megatron-Core: all-gather and a2a, not the p2p ring (Transformer Engine asserts it)", () => {
    const ring = checkFixed(windowed, t("megatron-core"), { cp: 16, cpComm: "ring" });
    expect([ring?.code, ring?.flag]).toEqual(["engine_unsupported", "--cp-comm"]);
    expect(ring?.message).toMatch(/runs context parallel with a sliding window only as allgather, a2a .*swa-8b attends over a 4096-key window \(cp 16, ring\)/);
    expect(ring?.hint).toBe("use --cp-comm allgather or a2a, or cp 1");
    expect(checkFixed(windowed, t("megatron-core"), { cp: 16, cpComm: "allgather" })).toBeNull();
    expect(checkFixed(windowed, t("megatron-core"), { cp: 16 })).toBeNull();
    // The same model without its window keeps the ring.
    expect(checkFixed(llama8b, t("megatron-core"), { cp: 16, cpComm: "ring" })).toBeNull();
  });
  it("torchtitan: none (torch's ring attention takes no mask); its search leaves cp at 1", () => {
    const r = checkFixed(windowed, t("torchtitan"), { cp: 4 });
    expect([r?.code, r?.flag, r?.hint]).toEqual(["engine_unsupported", "--cp", "use cp 1"]);
    // a fixed exchange too: no other exchange windows there, so cp is the flag to change
    const ring = checkFixed(windowed, t("torchtitan"), { cp: 4, cpComm: "ring" });
    expect([ring?.code, ring?.flag, ring?.hint]).toEqual(["engine_unsupported", "--cp", "use cp 1"]);
    const found = search(windowed, H100, t("torchtitan"), {}, { top: 5, keepAll: true });
    expect(found.all!.every((p) => p.cp === 1)).toBe(true);
  });
  it("the Megatron-Core search prices no ring plan for the windowed model", () => {
    const found = search(windowed, H100, t("megatron-core"), {}, { top: 5, keepAll: true });
    const comms = new Set(found.all!.filter((p) => p.cp > 1).map((p) => p.cpComm));
    expect(comms.has("ring")).toBe(false);
    expect(comms.has("allgather")).toBe(true);
  });
});

describe("a backward ring send hides behind its share of a backward step", () => {
  it("Megatron's 16-bit dK,dV: 2(c−1) sends over c−1 steps of 2.5 forward steps, 1.25 steps each", () => {
    // flash backward 2.5× the forward (Dao 2023 §3.1): 2.5·step·(c−1)/(2(c−1)) = 1.25·step.
    expect(attentionBackwardFactor({ fusedAttention: true })).toBe(2.5);
    expect(cpCallWindow({ kind: "p2p", pass: "backward", perUnit: 30 }, 1, 16, 2.5)).toBe(1.25);
    // torch's fp32 dK,dV count as two sends: 3(c−1) over c−1 steps → 2.5/3 of a step each.
    expect(cpCallWindow({ kind: "p2p", pass: "backward", perUnit: 45 }, 1, 16, 2.5)).toBeCloseTo(2.5 / 3, 15);
    expect(cpCallWindow({ kind: "p2p", pass: "forward", perUnit: 15 }, 1, 16, 2.5)).toBe(1);
    expect(cpCallWindow({ kind: "allGather", pass: "backward", perUnit: 1 }, 1, 16, 2.5)).toBe(1);
  });
  it("16 ranks × 1,024 tokens over two nodes: the exposed ring, closed form = simulator = the hand sum", () => {
    // A send T (a 4 MiB K,V chunk over one 50 GB/s NIC) outlasts the forward step S and the
    // backward window 1.25·S: forward 15·(T − S + 0.189·S), backward 30·(T − 1.25S + 0.189·1.25S)
    // per layer, 32 layers, one micro-batch.
    const t = training(16, 1, 16384);
    const p = plan({ cp: 16, cpComm: "ring", zero: 0 });
    const costs = microBatchCosts(llama8b, H100, t, p);
    const S = costs.layer.attentionCore / 16;
    const send = wireOf(llama8b, t, p, wireLinks(H100, place(H100, degreesOf(p)))).find((i) => i.id === "cp-kv-ring")!;
    const T = callTime(send);
    expect(T).toBeGreaterThan(1.25 * S);
    const hand = 32 * (15 * (T - S + OVERLAP_SLOWDOWN * S) + 30 * (T - 1.25 * S + OVERLAP_SLOWDOWN * 1.25 * S));
    const cf = evaluatePlan(llama8b, H100, t, p, costs).time.cpComm;
    expect(cf).toBeCloseTo(hand, 12);
    const st = simulate(llama8b, H100, t, p, { closedFormOnly: true }).stages[0]!;
    expect(Math.abs(st.cpComm - cf) / cf).toBeLessThan(1e-12);
  });
});

describe("fixed inputs that can never form a plan: exit 2 naming the flag", () => {
  it("a2a with cp not dividing the K/V heads, tp searched: cp_heads on the fixed cp alone", () => {
    // 8 K/V heads: cp 16 cannot scatter them at tp 1, and a larger tp leaves fewer.
    const r = checkFixed(llama8b, training(64, 64, 131072), { cp: 16, cpComm: "a2a" });
    expect([r?.code, r?.flag]).toEqual(["cp_heads", "--cp"]);
    expect(r?.message).toMatch(/cp 16 must divide the 32 query and 8 key\/value heads of each tp rank \(tp 1, the most heads a rank can keep\)/);
    expect(checkFixed(llama8b, training(64, 64, 131072), { cp: 8, cpComm: "a2a" })).toBeNull();
    expect(checkFixed(llama8b, training(64, 64, 131072), { cp: 16 })).toBeNull();
  });
  it("zbv and dualpipev with 2·pp not dividing the layers: v_schedule_layers, naming the pps that would", () => {
    // 32 layers: 2·3 = 6 does not divide them; pp 2, 4, 8 (dividing 24 GPUs) would; 16 does not divide 24.
    const r = checkFixed(llama8b, training(24, 24, 8192), { pp: 3, schedule: "zbv" });
    expect([r?.code, r?.flag]).toEqual(["v_schedule_layers", "--schedule"]);
    expect(r?.message).toMatch(/2·pp = 6 stages do not divide the 32 layers \(pp 2, 4, 8 would\)/);
    expect(checkFixed(llama8b, training(24, 24, 8192), { pp: 3, schedule: "dualpipev" })?.code).toBe("v_schedule_layers");
    expect(checkFixed(llama8b, training(24, 24, 8192), { pp: 4, schedule: "zbv" })).toBeNull();
    // zb1p runs an uneven split: not this rule.
    expect(checkFixed(llama8b, training(24, 24, 8192), { pp: 3, schedule: "zb1p", stageLayers: [10, 11, 11] })).toBeNull();
  });
  it("dualpipev with fewer than 2·pp micro-batches at dp 1 and micro-batch 1", () => {
    // m = B/(dp·b) ≤ 4 for B = 4; pp 4 needs 8.
    const r = checkFixed(llama8b, training(8, 4, 8192), { pp: 4, schedule: "dualpipev" });
    expect([r?.code, r?.flag]).toEqual(["dualpipev_microbatches", "--schedule"]);
    expect(r?.message).toMatch(/at least 2·pp = 8 micro-batches a step, and global batch 4 gives at most 4/);
    expect(checkFixed(llama8b, training(8, 8, 8192), { pp: 4, schedule: "dualpipev" })).toBeNull();
    expect(checkFixed(llama8b, training(8, 8, 8192), { pp: 4, dp: 2, schedule: "dualpipev" })?.code).toBe("dualpipev_microbatches");
  });
});
