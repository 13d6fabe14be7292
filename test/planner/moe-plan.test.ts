// Expert parallelism in the cost model and the search: FLOPs of the active parameters, memory split
// by ep·etp and edp, routed activations that ep does not shrink, all-to-alls on the ep group's link,
// imbalance, rejection codes, and a dense search that does not enumerate ep.
import { describe, expect, it } from "vitest";
import { modelFlopsPerStep, attentionFlops } from "../../planner/cost/flops.js";
import { stageMemory } from "../../planner/cost/memory.js";
import { moeLayerTimes } from "../../planner/cost/moe-time.js";
import { layerMemoryBoundBytes } from "../../planner/cost/compute.js";
import { evaluatePlan, microBatchCosts } from "../../planner/evaluate.js";
import { activeParams } from "../../planner/model.js";
import { checkFixed, search } from "../../planner/index.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { wireOf } from "../../planner/wire/wire.js";
import { simulate } from "../../planner/sim/simulate.js";
import type { Plan, Training } from "../../planner/types.js";
import { expertDpExposed } from "../../planner/cost/expert-time.js";
import { degreesOf } from "../../planner/layout/layout.js";
import { loadEngine } from "../../src/load-engine.js";
import { expectRel, hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, seqLen: number, extra: Partial<Training> = {}): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...extra,
});
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, ...p });

describe("FLOPs count the active parameters", () => {
  it("DeepSeek-V3: the token-linear FLOPs are 6 × active parameters, MTP adds a layer and a logits pass", () => {
    const m = preset("deepseek-v3");
    const t = { globalBatch: 1, seqLen: 4096 };
    const noMtp = { ...m, mtpLayers: 0 };
    const attention = 3 * m.layers * attentionFlops(m, 4096, 1, 1);
    const linear = (modelFlopsPerStep(noMtp, t, m.vocab) - attention) / 4096;
    // 6·N_active, the router among the active weights (formulas-scale §1.3: 219.1 GFLOP per token
    // in Megatron's formula, which leaves the router's 6·h·E = 0.64 GFLOP over 58 layers out)
    expect(Math.abs(linear / (6 * activeParams(m, 4096)) - 1)).toBeLessThan(0.0005);
    expect(Math.abs(linear / 219.7e9 - 1)).toBeLessThan(0.01);
    expect(modelFlopsPerStep(m, t, m.vocab)).toBeGreaterThan(modelFlopsPerStep(noMtp, t, m.vocab) * 1.01);
  });
  it("MFU and tokens/s come from the active FLOPs: Mixtral's model FLOPs are far below 6 × its total", () => {
    const m = preset("mixtral-8x7b");
    const t = training(64, 64, 4096);
    const r = evaluatePlan(m, H100, t, plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true, zero: 1 }));
    const tokens = 64 * 4096;
    expect(r.modelFlopsPerStep / tokens).toBeLessThan(6 * 14e9 + 3 * 32 * attentionFlops(m, 4096, 1, 1) / 4096);
    expect(r.mfu).toBeCloseTo(r.modelFlopsPerStep / (r.time.step * 64) / H100.peak.bf16, 12);
  });
});

describe("memory", () => {
  const m = preset("mixtral-8x7b");
  const t = training(64, 64, 4096);
  it("expert weights divide by ep·etp; their gradients and optimizer states shard over edp", () => {
    const one = stageMemory(m, H100, t, plan({ tp: 8, dp: 8, ep: 1, sequenceParallel: true }), "only");
    const eight = stageMemory(m, H100, t, plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true }), "only");
    expect(one.experts! / eight.experts!).toBeCloseTo(8, 9);
    const z1 = stageMemory(m, H100, t, plan({ tp: 8, dp: 8, ep: 8, zero: 1, sequenceParallel: true }), "only");
    // edp = tp·dp/(ep·etp) = 8: the experts' 12 bytes of optimizer state per parameter ÷ 8; beside
    // them 2 B weights and 4 B fp32 gradients (Megatron's bf16 rule, no engine): 18 B unsharded.
    const expertParams = eight.experts! / 18;
    expect(z1.experts!).toBeCloseTo(6 * expertParams + (12 * expertParams) / 8, 0);
  });
  it("bf16 moments: 8 bytes of optimizer state per parameter instead of 12 (DeepSeek-V3 §3.3.3)", () => {
    const p = plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true });
    const fp32 = stageMemory(m, H100, t, p, "only");
    const bf16 = stageMemory(m, H100, { ...t, optimizerStates: "bf16" }, p, "only");
    expect(bf16.optimizer / fp32.optimizer).toBeCloseTo(8 / 12, 12);
  });
  it("routed activations: ep moves them, it does not shrink them; the imbalance scales them where ep > 1", () => {
    const a1 = stageMemory(m, H100, t, plan({ tp: 8, dp: 8, ep: 1, sequenceParallel: true }), "only").activations;
    const a8 = stageMemory(m, H100, t, plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true }), "only").activations;
    const even = stageMemory(m, H100, { ...t, moeImbalance: 1 }, plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true }), "only").activations;
    // ep = 1: every rank holds every expert and keeps exactly its own T_r·k copies, so ρ does not
    // apply (moe-facts.ts rankImbalanceOf): the same bytes as ep 8 under perfect balance.
    expect(a1).toBe(even);
    // ep 8 at ρ 1.25: T_r = 4096/8 = 512 tokens, k 2 → 1,024 copies of 4h + 6·f_e = 16,384 + 86,016 =
    // 102,400 B each = 104,857,600 B a layer; ρ − 1 = 0.25 of that over 32 layers = 838,860,800 B more
    expect(a8 - even).toBe(838_860_800);
  });
});

describe("time and the wire", () => {
  const m = preset("mixtral-8x7b");
  const t = training(64, 64, 4096);
  it("ep = 1 computes exactly T_r·k routed rows whatever --moe-imbalance says; ep > 1 the busiest rank's ρ·T_r·k", () => {
    // tp 8, b 1, s 4096: T_r = 512 tokens, k 2 → 1,024 rows a rank. At ep 1 all 8 experts are local
    // (128 rows each on average): ρ = 3 changes nothing. At ep 8, one expert a rank, the busiest
    // gets ρ·1,024 rows: its routed GEMMs and memory-bound work grow with ρ.
    const one = plan({ tp: 8, dp: 8, ep: 1, sequenceParallel: true });
    expect(moeLayerTimes(m, H100, { ...t, moeImbalance: 3 }, one)).toEqual(moeLayerTimes(m, H100, { ...t, moeImbalance: 1 }, one));
    const eight = plan({ tp: 8, dp: 8, ep: 8, sequenceParallel: true });
    expect(moeLayerTimes(m, H100, { ...t, moeImbalance: 3 }, eight).forward).toBeGreaterThan(moeLayerTimes(m, H100, { ...t, moeImbalance: 1 }, eight).forward * 1.5);
    // and ep 8 under perfect balance is the ep 1 layer but for the GEMMs' shapes: 1 expert of 1,024 rows
    // against 8 of 128 (a larger GEMM, more efficient), so no slower
    expect(moeLayerTimes(m, H100, { ...t, moeImbalance: 1 }, eight).forward).toBeLessThanOrEqual(moeLayerTimes(m, H100, t, one).forward);
  });
  it("the dispatch and combine all-to-alls run on NVLink when the ep group fits a node, on the network when it does not", () => {
    const inNode = plan({ tp: 1, dp: 64, ep: 8 });
    const linksIn = wireLinks(H100, place(H100, { tp: 1, cp: 1, dp: 64, pp: 1, ep: 8, etp: 1 }));
    const a2a = wireOf(m, t, inNode, linksIn).filter((i) => i.group === "ep");
    expect(a2a.map((i) => [i.id, i.kind, i.link.kind])).toEqual([["ep-dispatch", "allToAll", "nvlink"], ["ep-combine", "allToAll", "nvlink"]]);
    const across = wireLinks(H100, place(H100, { tp: 8, cp: 1, dp: 8, pp: 1, ep: 8, etp: 1 }));
    // ep 8 at stride etp 1 inside tp·dp = 64 ranks: ranks 0–7, one node
    expect(across.ep.link.kind).toBe("nvlink");
    const wide = wireLinks(H100, place(H100, { tp: 8, cp: 1, dp: 8, pp: 1, ep: 8, etp: 8 }));
    expect(wide.ep.where).toBe("network");
  });
  it("the step has an ep all-to-all line; ep = 1 has none", () => {
    const r8 = evaluatePlan(m, H100, t, plan({ tp: 1, dp: 64, ep: 8, zero: 1 }));
    const r1 = evaluatePlan(m, H100, t, plan({ tp: 1, dp: 64, ep: 1, zero: 1 }));
    expect(r8.time.epComm).toBeGreaterThan(0);
    expect(r1.time.epComm).toBe(0);
    const sum = r8.time.compute + r8.time.recompute + r8.time.tpComm + r8.time.ppComm + r8.time.epComm + r8.time.bubble + r8.time.dpComm + r8.time.optimizer;
    expect(sum).toBeCloseTo(r8.time.step, 9);
  });
  it("load imbalance: the busiest expert sets the pace", () => {
    const p = plan({ tp: 1, dp: 64, ep: 8 });
    const even = moeLayerTimes(m, H100, { ...t, moeImbalance: 1 }, p).forward;
    const skewed = moeLayerTimes(m, H100, { ...t, moeImbalance: 2 }, p).forward;
    expect(skewed).toBeGreaterThan(1.3 * even);
  });
  it("grouped GEMM: many small experts per rank run less efficiently than few large ones of the same work", () => {
    const q = preset("qwen3-30b-a3b");
    const tq = training(64, 64, 4096);
    const few = moeLayerTimes(q, H100, { ...tq, moeImbalance: 1 }, plan({ dp: 64, ep: 64, microBatch: 1 }));
    const many = moeLayerTimes(q, H100, { ...tq, moeImbalance: 1 }, plan({ dp: 64, ep: 1, microBatch: 1 }));
    expect(many.forward).toBeGreaterThan(few.forward);
  });
  it("the simulator plays the all-to-alls on the layers' critical path", () => {
    const p = plan({ tp: 1, dp: 64, ep: 8, zero: 1 });
    const s = simulate(m, H100, t, p).stages[0]!;
    expect(s.epComm).toBeGreaterThan(0);
    const closed = evaluatePlan(m, H100, t, p, microBatchCosts(m, H100, t, p));
    expect(s.epComm).toBeCloseTo(closed.time.epComm, 6);
  });
});

describe("the search", () => {
  it("ranks ep with the other dimensions for a MoE model and counts the folds that fail", () => {
    const m = preset("mixtral-8x7b");
    const r = search(m, H100, training(64, 64, 4096), {}, { top: 20 });
    expect(r.plans.length).toBeGreaterThan(0);
    expect(r.plans.some((p) => p.ep > 1)).toBe(true);
    const fixed = search(m, H100, training(64, 64, 4096), { ep: 8, tp: 2, pp: 8 }, { top: 5 });
    // tp 2 · dp 4 = 8 ranks a stage: ep 8 folds with etp 1, not with etp 2
    expect(fixed.rejected.expert_fold).toBeGreaterThan(0);
    expect(fixed.plans.every((p) => p.ep === 8 && p.etp === 1)).toBe(true);
  });
  it("a fixed ep that does not divide the experts, or ep on a dense model, is bad input naming --ep", () => {
    const m = preset("mixtral-8x7b");
    expect(checkFixed(m, training(64, 64, 4096), { ep: 3 })).toMatchObject({ code: "ep_experts", flag: "--ep", message: "3 does not divide the 8 experts" });
    expect(checkFixed(preset("gpt3-like"), training(64, 64, 2048), { ep: 2 })).toMatchObject({ code: "ep_experts", message: "ep 2 needs a mixture-of-experts model" });
  });
  it("a dense model's search does not enumerate ep: every plan has ep = etp = 1 and the space is unchanged", () => {
    const r = search(preset("gpt3-like"), H100, training(1024, 1536, 2048), {}, { top: 3 });
    // the same space as with ep and etp fixed to 1: nothing is enumerated for them
    expect(r.searched).toBe(search(preset("gpt3-like"), H100, training(1024, 1536, 2048), { ep: 1, etp: 1 }, { top: 3 }).searched);
    expect(r.plans.every((p) => p.ep === 1 && p.etp === 1)).toBe(true);
  });
});

describe("MoE with uneven stages", () => {
  it("the expert wire counts the last stage's own layers: whole calls, its MoE layers only", () => {
    // DeepSeek-V3's 61 layers on pp 4: the default split 15,16,15,15; the last stage holds layers
    // 46–60, all MoE (the first 3 are dense), so 15 MoE layers × 2 passes × m micro-batches.
    const m = preset("deepseek-v3");
    const t = training(256, 64, 4096);
    const p = plan({ tp: 1, pp: 4, dp: 64, ep: 8, zero: 1, stageLayers: [15, 16, 15, 15] });
    const links = wireLinks(H100, place(H100, { tp: 1, cp: 1, dp: 64, pp: 4, ep: 8, etp: 1 }));
    const dispatch = wireOf(m, t, p, links).find((i) => i.id === "ep-dispatch")!;
    const microBatches = 64 / 64;
    expect(dispatch.calls).toBe(microBatches * (15 + (m.mtpLayers ?? 0)) * 2);
    expect(Number.isInteger(dispatch.calls)).toBe(true);
  });
});

describe("the experts' data-parallel collectives in the closed form (over edp, by the dense ones' overlap rules)", () => {
  // Mixtral tp 8 · dp 8 · ep 2, 64 × 32,768 tokens, micro-batch 1: edp = 8·8/2 = 32 ranks, 4 a
  // node on 4 NICs (170 GB/s after the 0.85 efficiency), (n−1)·α = 31 · 6 µs. The stage's experts
  // E = 32 layers · 4 experts · 3·4096·14336 · 2 B = 45,097,156,608 B:
  //   gather 0.000186 + 0.96875 · E/170e9 = 0.257173 s; fp32 reduce-scatter (2E) 0.514161 s.
  const m = preset("mixtral-8x7b");
  const t = (engine: string, extra: Partial<Training> = {}) => training(64, 64, 32768, { engine: loadEngine(engine, undefined), ...extra });
  const qa = plan({ tp: 8, dp: 8, ep: 2, zero: 3, sequenceParallel: true });
  const ag = 31 * 6e-6 + ((31 / 32) * 45_097_156_608) / 170e9;
  const rs = 31 * 6e-6 + ((31 / 32) * 2 * 45_097_156_608) / 170e9;
  it("hidden, each slows the compute it overlaps by the engine's 0.189 (cost/overlap.ts), as the dense ones; exposed, it costs its time", () => {
    const tr = t("megatron-core");
    const wire = wireOf(m, tr, qa, wireLinks(H100, place(H100, degreesOf(qa))));
    // ZeRO-3: 8 micro-batches × (2 gathers + 1 reduce-scatter) = 16 · 0.257173 + 8 · 0.514161 = 8.227 s
    const all = 16 * ag + 8 * rs;
    expectRel(expertDpExposed(wire, 0, 0, 0.189), all, 1e-9);
    expectRel(expertDpExposed(wire, 1e6, 1e6, 0.189), 0.189 * all, 1e-9);
  });
  it("a stack that gathers ZeRO-1's weights in its step (DeepSpeed) leaves the experts' gather exposed too", () => {
    // megatron-deepspeed, ZeRO-1, no slowdown: the reduce-scatters hide behind the backward; the
    // gathers after the step are all exposed: the dense stage's 405,282,816 B over dp 8 on one NIC
    // (42.5 GB/s, 7 · 6 µs) = 0.008386 s, and the experts' 0.257173 s (hidden before, as if the
    // forward overlapped it).
    const r = evaluatePlan(m, H100, t("megatron-deepspeed", { overlapSlowdown: 0 }), { ...qa, zero: 1 });
    const dense = 7 * 6e-6 + ((7 / 8) * 405_282_816) / 42.5e9;
    expectRel(r.time.dpComm, dense + ag, 1e-6);
  });
});

describe("MLA's rotary bytes", () => {
  it("DeepSeek-V3 rotates q^R (128 heads × 64) split over tp and one shared k^R of 64 on every rank, not a·d + g·d", () => {
    // dense layer, T = 4096, h = 7168, f = 18432, no engine (fused: traffic factor 1):
    //   norms 8Th = 234,881,024; residual 12Th = 352,321,536; SwiGLU 6Tf = 452,984,832;
    //   rotary 4T(n_h·d_r + d_r) = 4·4096·(8192 + 64) = 135,266,304 → 1,175,453,696 at tp 1.
    // (the old a·d + g·d with d = h/a: 4·4096·14,336 = 234,881,024 of rotary)
    const m = preset("deepseek-v3");
    const t = { seqLen: 4096, fusedAttention: true };
    expect(layerMemoryBoundBytes(m, t, 1, 1, false)).toBe(1_175_453_696);
    // tp 2 with sequence parallel: (norms + residual)/2 = 293,601,280; (6Tf + 4T·8192)/2 =
    // 293,601,280; the shared key whole on each rank 4·4096·64 = 1,048,576 → 588,251,136
    expect(layerMemoryBoundBytes(m, t, 2, 1, true)).toBe(588_251_136);
  });
});
