// Context parallel (issue 14): hand-computed activation memory, K/V volumes of a GQA model, the
// ring's overlap condition, the causal imbalance of contiguous chunks and the Ulysses heads rule.
import { describe, expect, it } from "vitest";
import { checkFixed } from "../../planner/constraints.js";
import { callTime } from "../../planner/cost/collectives.js";
import { cpBufferBytes, cpImbalance, ringMinChunk } from "../../planner/cost/context.js";
import { layerTimes } from "../../planner/cost/compute.js";
import { stageActivationBytes, stageMemory } from "../../planner/cost/memory.js";
import { evaluatePlan, microBatchCosts, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { degreesOf } from "../../planner/layout/layout.js";
import { checkLayout } from "../../planner/space.js";
import { simulate } from "../../planner/sim/simulate.js";
import type { ModelSpec, Plan, Training } from "../../planner/types.js";
import { stepVolumes, wireOf } from "../../planner/wire/wire.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const llama8b = preset("llama3-8b");
const training = (gpus: number, globalBatch: number, seqLen: number, overlapGradReduce = true): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce,
});
const plan = (p: Partial<Plan>): Plan => ({
  tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: false, schedule: "1f1b", ...p,
});

describe("activation memory ÷ cp (Korthikanti et al. 2022 §4 accounting on s/cp tokens)", () => {
  it("llama3-8b, selective recompute, fused attention, 131,072 tokens, cp 8: 34·s·b·h per layer + the head, ÷ 8", () => {
    // Per layer (no dropout, SwiGLU, GQA 8 of 32 heads): replicated 2+2+2+2 = 8; split: Q 2 +
    // K,V 4·(1024/4096) = 1 + output-projection input 2 + SwiGLU 3·2·14336/4096 = 21 → 26; 34 in all.
    // The only stage holds 32 layers and the head: fp32 logits 4·s·b·V (V = 128,256 is a multiple
    // of 128, no padding) and the final norm's input 2·s·b·h.
    const s = 131072;
    const h = 4096;
    const whole = s * h * (34 * 32 + 2) + 4 * s * 128256;
    const t = training(8, 8, s);
    expect(stageActivationBytes(llama8b, t, plan({ cp: 8 }), "only")).toBeCloseTo(whole / 8, 0);
    expect(stageActivationBytes(llama8b, t, plan({ cp: 1 }), "only")).toBeCloseTo(whole, 0);
  });
});

describe("K/V exchange volumes (formulas-scale §2.1)", () => {
  const t = training(16, 16, 131072);
  const items = (p: Plan) => wireOf(llama8b, t, p, wireLinks(H100, place(H100, degreesOf(p))));
  it("all-gather of a GQA model moves only the 8 K/V heads: 2·s·b·8·128·2 bytes gathered per layer", () => {
    const gathers = items(plan({ cp: 16, cpComm: "allgather", cpSplit: "zigzag" })).filter((i) => i.id === "cp-kv-gather");
    // 2 (K and V) · 131,072 tokens · 1,024 (8 heads × 128) · 2 bytes = 512 MiB, not the 2 GiB of 32 heads.
    expect(gathers.map((i) => i.bytes)).toEqual([512 * 2 ** 20, 512 * 2 ** 20]);
    // Forward and backward each gather once per layer: 32 layers × 16 micro-batches a step; the
    // backward reduce-scatters dK, dV too.
    expect(gathers.map((i) => [i.pass, i.perUnit, i.calls])).toEqual([["forward", 1, 512], ["backward", 1, 512]]);
    expect(items(plan({ cp: 16, cpComm: "allgather" })).find((i) => i.id === "cp-dkv-scatter")!.calls).toBe(512);
  });
  it("the 405B worked example: tp 8, cp 16, 131,072 tokens receive ≈ 63 MB per layer in the forward all-gather", () => {
    const m = preset("llama3-405b");
    const p = plan({ tp: 8, cp: 16, dp: 1, cpComm: "allgather" });
    const g = wireOf(m, training(128, 1, 131072), p, wireLinks(H100, place(H100, degreesOf(p)))).find((i) => i.id === "cp-kv-gather")!;
    // 2·s·h_kv·β·(c−1)/c/t = 2·131072·1024·2·(15/16)/8 = 62,914,560 bytes (formulas-scale §2.4).
    expect((g.bytes * 15) / 16).toBe(62914560);
  });
  it("ring: the local chunk (1/cp of K,V) passes cp−1 times forward, 2(cp−1) backward", () => {
    const ring = items(plan({ cp: 16, cpComm: "ring" })).filter((i) => i.id === "cp-kv-ring");
    expect(ring.map((i) => [i.pass, i.perUnit, i.bytes])).toEqual([["forward", 15, 32 * 2 ** 20], ["backward", 30, 32 * 2 ** 20]]);
  });
  it("the executor's step volumes: every rank's ring sends and receives, 2·(tp·cp·dp)·L·m·3(cp−1)·chunk", () => {
    // cp 16, dp 1, tp 1, 16 micro-batches, 32 layers, forward 15 + backward 30 sends of 32 MiB.
    const v = stepVolumes(llama8b, t, plan({ cp: 16, cpComm: "ring", zero: 0 }));
    expect(v.p2p).toBe(2 * 16 * 32 * 16 * 45 * 32 * 2 ** 20);
  });
  it("buffers in flight: all-gather the whole K,V of a layer, the ring two chunks of it", () => {
    const kv = 512 * 2 ** 20;
    expect(cpBufferBytes(llama8b, t, plan({ cp: 16, cpComm: "allgather" }))).toBe(kv);
    expect(cpBufferBytes(llama8b, t, plan({ cp: 16, cpComm: "ring" }))).toBe((2 * kv) / 16);
  });
});

describe("the ring's overlap condition (Ring Attention, Liu et al. 2023 §3)", () => {
  const mha: ModelSpec = { ...llama8b, kvHeads: 32 };
  it("c_b ≥ F/B for multi-head attention at full work: H100 989 TFLOP/s over 450 GB/s → 2,198 tokens", () => {
    expect(ringMinChunk(mha, 989e12, 450e9, 1)).toBeCloseTo(989e12 / 450e9, 6);
    expect(Math.round(ringMinChunk(mha, 989e12, 450e9, 1))).toBe(2198);
  });
  it("the causal mask halves the work per step (doubles the bound); 8 of 32 K/V heads divide it by 4", () => {
    expect(ringMinChunk(mha, 989e12, 450e9)).toBeCloseTo((2 * 989e12) / 450e9, 6);
    expect(ringMinChunk(llama8b, 989e12, 450e9)).toBeCloseTo((2 * 989e12) / 450e9 / 4, 6);
  });
  it("in the closed form the ring hides behind long chunks and shows with short ones", () => {
    const long = plan({ cp: 16, dp: 1, cpComm: "ring", zero: 0 });
    const tl = training(16, 1, 131072);
    // Hidden, the sends cost only the slowdown they inflict on the attention beside them (Lee et
    // al. 2025, cost/overlap.ts): nothing without it, and in proportion to it.
    expect(evaluatePlan(llama8b, H100, { ...tl, overlapSlowdown: 0 }, long).time.cpComm).toBe(0);
    const at = (slowdown: number) => evaluatePlan(llama8b, H100, { ...tl, overlapSlowdown: slowdown }, long).time.cpComm;
    expect(at(0.189) / at(0.4)).toBeCloseTo(0.189 / 0.4, 12);
    // 16 ranks × 1,024 tokens across two nodes: a 4 MiB chunk over one 50 GB/s NIC (≈ 99 µs)
    // outlasts a step's attention (≈ 44 µs).
    const ts = training(16, 1, 16384);
    expect(evaluatePlan(llama8b, H100, ts, long).time.cpComm).toBeGreaterThan(0);
  });
});

describe("causal load balance (formulas-scale §2.4)", () => {
  /** (query, key) pairs with key ≤ query a rank computes, counted token by token. */
  function pairs(s: number, cp: number, zigzag: boolean): number[] {
    const n = zigzag ? 2 * cp : cp;
    const chunk = s / n;
    const owner = (c: number) => (zigzag ? (c < cp ? c : 2 * cp - 1 - c) : c);
    const out = new Array<number>(cp).fill(0);
    for (let q = 0; q < s; q++) out[owner(Math.floor(q / chunk))]! += q + 1;
    return out;
  }
  const ratio = (w: number[]) => Math.max(...w) / (w.reduce((a, b) => a + b, 0) / w.length);
  it("contiguous: the last rank does (2cp−1)/cp of the mean; zig-zag: every rank the same", () => {
    for (const cp of [2, 4, 8]) {
      expect(ratio(pairs(8192, cp, false))).toBeCloseTo(cpImbalance(cp, "contiguous"), 2);
      expect(ratio(pairs(8192, cp, true))).toBeCloseTo(1, 3);
    }
    expect(cpImbalance(4, "contiguous")).toBe(7 / 4);
    expect(cpImbalance(4, "zigzag")).toBe(1);
  });
  it("the layer's attention time carries the factor", () => {
    const t = training(8, 8, 131072);
    const zig = layerTimes(llama8b, H100, t, 1, 1, false, { cp: 8, split: "zigzag" });
    const contiguous = layerTimes(llama8b, H100, t, 1, 1, false, { cp: 8, split: "contiguous" });
    expect(contiguous.attentionCore / zig.attentionCore).toBeCloseTo(15 / 8, 9);
  });
});

describe("Ulysses across nodes: each rank's own NIC (collectives.ts allToAllTime)", () => {
  it("gpt3-like tp 2 · cp 16: 4 of each group's ranks share a node, 12/16 of the buffer leaves on one NIC", () => {
    // It ran on the cp group's ring link, 4 NICs' share (200 GB/s), as the experts' all-to-all did.
    const m = preset("gpt3-like");
    const p = plan({ tp: 2, cp: 16, dp: 32, cpComm: "a2a" });
    const items = wireOf(m, training(1024, 64, 32768), p, wireLinks(H100, place(H100, degreesOf(p))));
    const q = items.find((i) => i.id === "cp-a2a-q-out")!;
    // q and the output: s/c·b·h·β/t = 32768/16 · 12288 · 2 / 2 bytes (formulas-scale §2).
    expect(q.bytes).toBe((32768 / 16) * 12288);
    // (n−1)·α + (n − k)/n · M/B: 15 steps of 6 µs, 12/16 of M over one NIC, 50 GB/s at 0.85.
    expect(callTime(q)).toBeCloseTo(15 * 6e-6 + (12 / 16) * (q.bytes / (50e9 * 0.85)), 15);
  });
});

describe("layout rules with codes", () => {
  const t = training(64, 64, 131072);
  it("Ulysses (a2a) needs cp to divide the query and K/V heads of a tp rank: tp 2 leaves 4 K/V heads", () => {
    expect(checkLayout(llama8b, t, 8, plan({ tp: 2, cp: 8, dp: 4, cpComm: "a2a" }))?.code).toBe("cp_heads");
    expect(checkLayout(llama8b, t, 8, plan({ tp: 2, cp: 4, dp: 8, cpComm: "a2a" }))).toBeNull();
    // The all-gather and the ring have no such rule.
    expect(checkLayout(llama8b, t, 8, plan({ tp: 2, cp: 8, dp: 4, cpComm: "ring" }))).toBeNull();
  });
  it("zig-zag needs 2·cp to divide the sequence, contiguous only cp", () => {
    // 12,006 tokens: 8 zig-zag chunks of cp 4 do not divide it (12,006 / 8 = 1,500.75).
    expect(checkFixed(llama8b, training(12, 12, 12006), { cp: 4 })?.code).toBe("cp_seq");
    // 12,291 = 3 · 4,097 tokens: 3 contiguous chunks divide it, 6 zig-zag chunks do not.
    expect(checkFixed(llama8b, training(3, 3, 3 * 4097), { cp: 3, cpSplit: "contiguous" })).toBeNull();
    expect(checkFixed(llama8b, training(3, 3, 3 * 4097), { cp: 3 })?.code).toBe("cp_seq");
  });
  it("cp with a mixture-of-experts model is refused: cp_moe", () => {
    expect(checkFixed(preset("mixtral-8x7b"), training(64, 64, 32768), { cp: 2 })?.code).toBe("cp_moe");
  });
});

describe("closed form and simulator agree on a cp plan", () => {
  it("all-gather cp 4 · tp 2 · dp 2, reduction after backward: the cp exchange and the step", () => {
    const t = training(16, 8, 32768, false);
    const p = plan({ tp: 2, cp: 4, dp: 2, cpComm: "allgather", cpSplit: "zigzag", zero: 1 });
    const cf = evaluatePlan(llama8b, H100, t, p, microBatchCosts(llama8b, H100, t, p)).time;
    const tl = simulate(llama8b, H100, t, p, { closedFormOnly: true });
    const st = tl.stages[0]!;
    const rel = (a: number, b: number) => Math.abs(a - b) / b;
    expect(cf.cpComm).toBeGreaterThan(0);
    expect(rel(st.cpComm, cf.cpComm)).toBeLessThan(1e-12);
    expect(rel(tl.step, cf.compute + cf.recompute + cf.tpComm + cf.cpComm + cf.dpComm + cf.optimizer)).toBeLessThan(1e-12);
  });
  it("ZeRO shards dense states over dp·cp: optimizer bytes ÷ 8 with dp 2 × cp 4", () => {
    const t = training(16, 8, 32768);
    const a = stageMemory(llama8b, H100, t, plan({ tp: 2, cp: 4, dp: 2 }), "only");
    const b = stageMemory(llama8b, H100, t, plan({ tp: 2, cp: 1, dp: 8 }), "only");
    expect(a.optimizer).toBeCloseTo(b.optimizer, 0);
  });
});
