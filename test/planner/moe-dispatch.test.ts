// The experts' dispatcher as engine data (Engine.moe, planner/cost/dispatch.ts): DeepEP's per-node
// deduplicated dispatch under group-limited routing, fp8 dispatch, against hand computations; the
// alltoall dispatcher unchanged by group-limited routing.
import { describe, expect, it } from "vitest";
import { dispatchBytes, epPassExposed, expectedNodes, nodeHit, offNodeShare, overlapsAllToAll, overlapsSharedExperts, sharedExpertExposed } from "../../planner/cost/dispatch.js";
import { overlapCost } from "../../planner/cost/overlap.js";
import { moeLayerTimes, sharedExpertTimes } from "../../planner/cost/moe-time.js";
import { evaluatePlan, microBatchCosts } from "../../planner/evaluate.js";
import { simulate } from "../../planner/sim/simulate.js";
import { allToAllTime, callTime } from "../../planner/cost/collectives.js";
import { wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { ONE_PLAN, degreesOf } from "../../planner/layout/layout.js";
import { wireOf } from "../../planner/wire/wire.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import type { Engine, Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { expectRel, hardware, preset, readJson, ROOT } from "./fixtures.js";

const core = loadEngine("megatron-core", undefined);
const report = loadEngine(`${ROOT}/profiles/engines/examples/deepseek-v3-report.json`, undefined);
const H800 = hardware("h800");
const m = preset("deepseek-v3");
// DeepSeek-V3's layout (report §3.2): tp 1 · pp 16 · ep 64 over 8 nodes, dp 128, 2,048 GPUs.
const plan: Plan = { ...ONE_PLAN, pp: 16, dp: 128, ep: 64, zero: 1, recompute: "full", stageLayers: [3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2] };
const training = (engine: Engine, over: Partial<Training> = {}): Training => ({ gpus: 2048, globalBatch: 15360, seqLen: 4096, precision: "fp8", fusedAttention: true, overlapGradReduce: true, engine, ...over });
const wire = (mm = m, t = training(report)) => wireOf(mm, t, plan, wireLinks(H800, place(H800, degreesOf(plan), plan.order)));
const item = (w: ReturnType<typeof wire>, id: string) => w.find((i) => i.id === id)!;

describe("expected nodes a token reaches (cost/dispatch.ts)", () => {
  it("uniform over N nodes: N·(1 − (1 − 1/N)^k); N = 8, k = 8: 8·(1 − (7/8)^8) = 5.2511", () => {
    expect(expectedNodes(8, 8)).toBeCloseTo(5.25113, 4);
    expect(nodeHit(8, 8)).toBeCloseTo(1 - 0.343609, 5);
    expect(nodeHit(1, 8)).toBe(1);
  });
  it("groups equal to nodes (G = N = 8, M = 4, k = 8): the node's group chosen with probability 4/8, then missed by all 8 copies with (3/4)^8 → ½·(1 − 0.100113) = 0.44994, 3.60 nodes ≤ 4", () => {
    expect(nodeHit(8, 8, 8, 4)).toBeCloseTo(0.5 * (1 - 0.75 ** 8), 12);
    expect(8 * nodeHit(8, 8, 8, 4)).toBeLessThanOrEqual(4);
  });
  it("two groups a node (N = 4, G = 8, M = 4): hypergeometric P(1) = 2·20/70, P(2) = 15/70 → 4/7·(1 − (3/4)^8) + 3/14·(1 − (1/2)^8) = 0.72767", () => {
    expect(nodeHit(4, 8, 8, 4)).toBeCloseTo((4 / 7) * (1 - 0.75 ** 8) + (3 / 14) * (1 - 0.5 ** 8), 12);
    expect(nodeHit(4, 8, 8, 4)).toBeCloseTo(0.72767, 4);
  });
  it("a group over two nodes (N = 16, G = 8, M = 4): (4/8)·(1 − (1 − 1/8)^8) = 0.32820", () => {
    expect(nodeHit(16, 8, 8, 4)).toBeCloseTo(0.5 * (1 - (7 / 8) ** 8), 12);
  });
  it("the off-node share of the k-copy buffer: (N − 1)·P(hit)/k; DeepSeek-V3's ep 64 over 8 nodes: 7·0.44994/8 = 0.39370 (the alltoall dispatcher's 56/64 = 0.875)", () => {
    expect(offNodeShare(m, { engine: report }, 64, 8)).toBeCloseTo((7 * 0.5 * (1 - 0.75 ** 8)) / 8, 12);
    expect(offNodeShare(m, { engine: report }, 64, 8)).toBeCloseTo(0.3937, 4);
    // without grouping: 7·(1 − (7/8)^8)/8 = 0.57434
    const { routingGroups: _g, groupsPerToken: _t, ...ungrouped } = m.moe!;
    expect(offNodeShare({ ...m, moe: ungrouped }, { engine: report }, 64, 8)).toBeCloseTo((7 * (1 - (7 / 8) ** 8)) / 8, 12);
    // inside one node, or under the alltoall dispatcher: nothing deduplicates
    expect(offNodeShare(m, { engine: report }, 8, undefined)).toBeUndefined();
    expect(offNodeShare(m, { engine: core }, 64, 8)).toBeUndefined();
  });
});

describe("fp8 dispatch: the engine's bytes an element, only under --precision fp8", () => {
  it("1 + 4/128 = 1.03125 for the report's stack at fp8; 2 at bf16, and 2 for Megatron-Core (null) at fp8", () => {
    expect(dispatchBytes({ engine: report, precision: "fp8" })).toBe(1.03125);
    expect(dispatchBytes({ engine: report, precision: "bf16" })).toBe(2);
    expect(dispatchBytes({ engine: core, precision: "fp8" })).toBe(2);
    expect(core.moe).toEqual({ dispatcher: "alltoall", fp8DispatchBytes: null, overlap: null, sharedExpertOverlap: null });
  });
});

describe("the wire of DeepSeek-V3's layout on H800", () => {
  // T_r·k = 1·4096·8 = 32,768 copies a rank a layer, h = 7168, ρ = 1.25.
  const copies = 4096 * 8;
  it("deepep + fp8: dispatch 1.25·1.03125·32768·7168 = 302,776,320 bytes, combine 1.25·2·32768·7168 = 587,202,560, both with 0.3937 of the buffer on the NIC", () => {
    const w = wire();
    const d = item(w, "ep-dispatch");
    const c = item(w, "ep-combine");
    expect(d.bytes).toBeCloseTo(1.25 * 1.03125 * copies * 7168, 3);
    expect(d.bytes).toBeCloseTo(302_776_320, 3);
    expect(c.bytes).toBeCloseTo(587_202_560, 3);
    expect(d.link.offNode).toBeCloseTo(0.3937, 4);
    // one call: 63·α + max(0.3937·M/(B_nic·eff), 7/8·M/(B_nvlink·eff)), the NIC the slower
    const nic = H800.inter;
    const nv = H800.intra;
    const M = d.bytes;
    const net = (0.5 * (1 - 0.75 ** 8) * 7 / 8) * (M / (nic.bandwidth * nic.efficiency));
    const fan = (7 / 8) * (M / (nv.bandwidth * nv.efficiency));
    expect(net).toBeGreaterThan(fan);
    expectRel(callTime(d), 63 * d.link.latency + net, 1e-12);
  });
  it("the alltoall dispatcher (megatron-core) sends every copy, 16-bit, 56/64 of it off the node, with or without group-limited routing", () => {
    const grouped = wire(m, training(core));
    const { routingGroups: _g, groupsPerToken: _t, ...ungrouped } = m.moe!;
    const plain = wire({ ...m, moe: ungrouped }, training(core));
    const d = item(grouped, "ep-dispatch");
    expect(d.bytes).toBeCloseTo(1.25 * 2 * copies * 7168, 3);
    expect(d.link.offNode).toBeUndefined();
    expectRel(callTime(d), 63 * d.link.latency + (56 / 64) * (d.bytes / (H800.inter.bandwidth * H800.inter.efficiency)), 1e-12);
    for (const id of ["ep-dispatch", "ep-combine"]) expect(callTime(item(grouped, id))).toBe(callTime(item(plain, id)));
  });
  it("allToAllTime with a dedup share takes the slower of the NIC and the NVLink fan-out", () => {
    const link = { ...H800.inter, local: 8, offNode: 0.1, intra: H800.intra };
    const M = 1e9;
    const fan = (7 / 8) * (M / (H800.intra.bandwidth * H800.intra.efficiency));
    const net = 0.1 * (M / (H800.inter.bandwidth * H800.inter.efficiency));
    expectRel(allToAllTime(M, 64, link), 63 * link.latency + Math.max(net, fan), 1e-12);
  });
});

describe("the engine file's moe block (planner/schema/engine-moe.ts)", () => {
  const raw = readJson(`${ROOT}/profiles/engines/megatron-core.json`) as Record<string, unknown>;
  const parse = (moe: unknown) => parseEngineFile({ ...raw, moe }, "e.json");
  it("absent: Megatron-Core's alltoall in 16 bits; each figure may carry its source", () => {
    const { moe: _m, ...bare } = raw;
    const r = parseEngineFile(bare, "e.json");
    expect(r.ok && r.value.moe).toEqual({ dispatcher: "alltoall", fp8DispatchBytes: null, overlap: null, sharedExpertOverlap: null });
    const s = parse({ dispatcher: { value: "deepep", source: "x" }, fp8DispatchBytes: 1.03125, sharedExpertOverlap: { value: { dispatch: "none", combine: "all", backward: false }, source: "x" } });
    expect(s.ok && s.value.moe).toEqual({ dispatcher: "deepep", fp8DispatchBytes: 1.03125, overlap: null, sharedExpertOverlap: { dispatch: "none", combine: "all", backward: false } });
  });
  it("an unknown dispatcher, or dispatch bytes outside [1, 2], are refused naming the field", () => {
    const a = parse({ dispatcher: "nccl" });
    expect(a.ok).toBe(false);
    expect(!a.ok && a.message).toContain("moe.dispatcher");
    const b = parse({ fp8DispatchBytes: 0.5 });
    expect(!b.ok && b.message).toContain("moe.fp8DispatchBytes");
    const c = parse({ sharedExpertOverlap: { dispatch: "down", combine: "all", backward: false } });
    expect(!c.ok && c.message).toContain("moe.sharedExpertOverlap");
  });
});

describe("the all-to-all overlapped with another micro-batch's compute (Engine.moe.overlap, cost/dispatch.ts)", () => {
  // Megatron-Core's rule (transformer_config.py:1298-1337 @ core_v0.14.0): no full recompute, a
  // virtual pipeline with pp > 1; NCCL's all-to-all beside compute at the engine's 0.189.
  const megatron: Engine = { ...core, moe: { ...core.moe, overlap: { slowdown: 0.189, fullRecompute: false, schedules: ["interleaved"] } } };
  it("applies where the stack runs it: not beside full recompute, with pp > 1 only under its schedules, never at ep 1", () => {
    const t = { engine: megatron };
    expect(overlapsAllToAll(t, { ep: 8, pp: 1, recompute: "selective", schedule: "1f1b" })).toBe(true);
    expect(overlapsAllToAll(t, { ep: 8, pp: 1, recompute: "full", schedule: "1f1b" })).toBe(false);
    expect(overlapsAllToAll(t, { ep: 8, pp: 4, recompute: "none", schedule: "1f1b" })).toBe(false);
    expect(overlapsAllToAll(t, { ep: 8, pp: 4, recompute: "none", schedule: "interleaved" })).toBe(true);
    expect(overlapsAllToAll(t, { ep: 1, pp: 1, recompute: "none", schedule: "1f1b" })).toBe(false);
    // the report's stack: any schedule, beside full recompute too; 20 of 132 SMs
    expect(report.moe.overlap).toEqual({ slowdown: 0.15152, fullRecompute: true, schedules: null });
    expect(overlapsAllToAll({ engine: report }, { ep: 64, pp: 16, recompute: "full", schedule: "1f1b" })).toBe(true);
  });
  it("a pass's all-to-alls a behind the MoE layer's mean pass w = (F + B)/2: a − min(a, w) + s·min(a, w)", () => {
    const t = { engine: report };
    const p = { ep: 64, pp: 16, recompute: "full" as const, schedule: "1f1b" as const };
    // a = 10 ms under w = (20 + 40)/2 = 30 ms: hidden, 0.15152·10 = 1.5152 ms; a = 50 ms: 20 + 0.15152·30 = 24.5456 ms
    const layer = { moe: { forward: 0.02, backward: 0.04 } };
    const calls = () => ({ dispatch: 0.025, combine: 0.025, other: 0 });
    expect(epPassExposed(0.01, layer, m, t, p, calls)).toBeCloseTo(0.0015152, 12);
    expect(epPassExposed(0.05, layer, m, t, p, calls)).toBeCloseTo(0.0245456, 12);
    expect(epPassExposed(0.05, layer, m, { engine: core }, p, calls)).toBe(0.05);
  });
  it("Mixtral tp 1 · dp 64 · ep 8 at pp 1: the step's ep time is the overlapped share of the critical-path one, and the simulator plays the same", () => {
    const mx = preset("mixtral-8x7b");
    const H100 = hardware("dgx-h100");
    const p: Plan = { ...ONE_PLAN, dp: 64, ep: 8, zero: 1 };
    const base: Training = { gpus: 64, globalBatch: 64, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: core };
    const over: Training = { ...base, engine: megatron };
    const plain = evaluatePlan(mx, H100, base, p, microBatchCosts(mx, H100, base, p)).time.epComm;
    const hidden = evaluatePlan(mx, H100, over, p, microBatchCosts(mx, H100, over, p)).time.epComm;
    // one pass's all-to-alls: the step's over 64/64 micro-batches × 2 passes × 32 MoE layers
    const a = plain / (1 * 2 * 32);
    const layer = moeLayerTimes(mx, H100, over, p);
    expect(hidden).toBeCloseTo(2 * 32 * overlapCost(a, (layer.forward + layer.backward) / 2, 0.189), 9);
    expect(hidden).toBeLessThan(plain);
    expect(simulate(mx, H100, over, p).stages[0]!.epComm).toBeCloseTo(hidden, 6);
  });
});

describe("the shared experts beside the same micro-batch's all-to-alls (Engine.moe.sharedExpertOverlap, cost/dispatch.ts)", () => {
  const megatronSplit = { dispatch: "up" as const, combine: "down" as const, backward: true };
  const titanSplit = { dispatch: "none" as const, combine: "all" as const, backward: false };
  const withSplit = (o: typeof megatronSplit | typeof titanSplit, e: Engine = core): Engine => ({ ...e, moe: { ...e.moe, sharedExpertOverlap: o } });
  it("applies with shared experts, ep > 1, and not where the all-to-all already overlaps another micro-batch", () => {
    const p = { ep: 8, pp: 1, recompute: "none" as const, schedule: "1f1b" as const };
    expect(overlapsSharedExperts(m, { engine: withSplit(megatronSplit) }, p)).toBe(true);
    expect(overlapsSharedExperts(m, { engine: core }, p)).toBe(false);
    expect(overlapsSharedExperts(m, { engine: withSplit(megatronSplit) }, { ...p, ep: 1 })).toBe(false);
    expect(overlapsSharedExperts(preset("mixtral-8x7b"), { engine: withSplit(megatronSplit) }, p)).toBe(false); // no shared experts
    // the report's stack overlaps the all-to-alls with another micro-batch: that takes precedence
    expect(overlapsSharedExperts(m, { engine: withSplit(megatronSplit, report) }, p)).toBe(false);
  });
  it("each all-to-all behind its part of the shared experts, the backward's parts twice the forward's: hand computations", () => {
    // dispatch 4 ms, combine 4 ms, etp 1 ms; shared up 3 ms, down 1.5 ms; slowdown 0.2
    const c = { dispatch: 0.004, combine: 0.004, other: 0.001 };
    const sh = { up: 0.003, down: 0.0015 };
    // Megatron's split, no recompute. Forward: dispatch 4 behind 3 → 1 + 0.2·3 = 1.6; combine 4
    // behind 1.5 → 2.5 + 0.3 = 2.8; + 1 = 5.4 ms. Backward: behind 6 and 3 → 0 + 0.8 = 0.8, 1 +
    // 0.6 = 1.6; + 1 = 3.4 ms. Mean of 2 passes: 4.4 ms.
    expect(sharedExpertExposed(c, sh, megatronSplit, 2, 0.2)).toBeCloseTo(0.0044, 12);
    // torchtitan's DeepEP split under full recompute: forward (twice) dispatch 4 exposed, combine
    // 4 behind 4.5 → 0.8; 4 + 0.8 + 1 = 5.8 ms; backward 9 ms: (2·5.8 + 9)/3 = 6.8667 ms.
    expect(sharedExpertExposed(c, sh, titanSplit, 3, 0.2)).toBeCloseTo((2 * 0.0058 + 0.009) / 3, 12);
  });
  it("DeepSeek-V2-Lite tp 1 · dp 32 · ep 8 on dgx-h100: the closed form's ep time is the mean exposed pass per MoE layer pass, and the simulator plays the same", () => {
    const lite = preset("deepseek-v2-lite");
    const H100 = hardware("dgx-h100");
    const p: Plan = { ...ONE_PLAN, dp: 32, ep: 8, zero: 1 };
    const base: Training = { gpus: 32, globalBatch: 32, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: core };
    const over: Training = { ...base, engine: withSplit(megatronSplit) };
    const plain = evaluatePlan(lite, H100, base, p, microBatchCosts(lite, H100, base, p)).time.epComm;
    const hidden = evaluatePlan(lite, H100, over, p, microBatchCosts(lite, H100, over, p)).time.epComm;
    // 26 MoE layers of 27 (the first dense), 1 micro-batch, 2 passes; ep 8 in one node, the
    // dispatch and the combine the same bytes: each half of a pass's all-to-all
    const a = plain / (1 * 2 * 26);
    const sh = sharedExpertTimes(lite, H100, over, p)!;
    expect(sh.up).toBeGreaterThan(sh.down); // (gate and up: two GEMMs, the down one)
    const expected = sharedExpertExposed({ dispatch: a / 2, combine: a / 2, other: 0 }, sh, megatronSplit, 2, core.overlapSlowdown);
    expect(hidden).toBeCloseTo(2 * 26 * expected, 9);
    expect(hidden).toBeLessThan(plain);
    expect(simulate(lite, H100, over, p).stages[0]!.epComm).toBeCloseTo(hidden, 6);
  });
});
