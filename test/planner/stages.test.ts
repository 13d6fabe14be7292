// Uneven pipeline stages (planner/layout/stages.ts): the slowest stage sets the step, the fullest
// stage the memory, and the layout rules refuse splits that do not fit the model. Figures worked by
// hand for GPT-3 1.3B (24 layers, h = 2048, s = 2048, 16 heads, dropout, fused attention).
import { describe, expect, it } from "vitest";
import { headTimes, layerTimes } from "../../planner/cost/compute.js";
import { stageMemory } from "../../planner/cost/memory.js";
import { unevenStageActivationBytes, unevenStageMemory } from "../../planner/cost/stage-memory.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildLayout } from "../../planner/layout/layout.js";
import { firstMiddleLast, inFlightMicroBatches, middleHeavySplit, slowestStage } from "../../planner/layout/stages.js";
import { search } from "../../planner/search.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "./fixtures.js";

const m = preset("gpt3-1.3b");
const hw = hardware("dgx-h100");
// 16 GPUs, pp 4 · dp 4, micro-batch 1: m = 64 / 4 = 16 micro-batches.
const t: Training = { gpus: 16, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
const base: Plan = { tp: 1, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const uneven: Plan = { ...base, stageLayers: [5, 7, 7, 5] };
const s = 2048;
const h = 2048;
// Korthikanti et al. 2022 Table 2, no parallelism, flash attention (no s² scores): 34·s·b·h bytes.
const perLayer = 34 * s * h;

describe("the slowest stage sets the step", () => {
  const layer = layerTimes(m, hw, t, 1, 1, false);
  const head = headTimes(m, hw, t, 1, 1);
  const fb = layer.forward + layer.backward;

  it("[4,8,8,4]: an 8-layer middle stage (8·(f+b)) outruns the last (4·(f+b) + head): compute 16 × 8·(f+b)", () => {
    // The head of gpt3-1.3b (logits GEMM of V/(12h) ≈ 2 layers' FLOPs, and the loss's passes over
    // the logits) costs more than two layers but less than four, so 8 layers beat 4 layers + head.
    const split = { ...base, stageLayers: [4, 8, 8, 4] };
    expect(head.forward + head.backward).toBeGreaterThan(2 * fb);
    expect(head.forward + head.backward).toBeLessThan(4 * fb);
    expect(slowestStage(split, 24, fb, head.forward + head.backward)).toEqual({ index: 2, layers: 8, withHead: false });
    // [5,7,7,5]: 5 layers + head outrun 7 now.
    expect(slowestStage(uneven, 24, fb, head.forward + head.backward)).toEqual({ index: 3, layers: 5, withHead: true });
    const time = evaluatePlan(m, hw, t, split).time;
    expect(time.compute).toBeCloseTo(16 * 8 * fb, 12);
    // 1F1B bubble (p−1)/m of the ideal time (Narayanan et al. 2021 §2.2): (p−1) of the slowest stage's F+B and its pp comm.
    expect(time.bubble).toBeCloseTo((3 / 16) * (time.compute + time.tpComm + time.ppComm + time.epComm), 12);
  });

  it("[7,5,5,7]: the last stage, 7 layers and the head, is the slowest: compute 16 × (7·(f+b) + head)", () => {
    const p = { ...base, stageLayers: [7, 5, 5, 7] };
    expect(evaluatePlan(m, hw, t, p).time.compute).toBeCloseTo(16 * (7 * fb + head.forward + head.backward), 12);
  });

  // The fullest rank's per-layer collectives, as its compute: they priced L/p layers before,
  // whatever the split (70B on [10,30,30,10] charged 20 layers' tp all-gathers).
  it("tensor-parallel and expert all-to-all time follow the fullest rank's layers: [4,8,8,4] is 8/6 of the even split's", () => {
    const tp2 = { ...base, tp: 2, dp: 2, sequenceParallel: true };
    const even = evaluatePlan(m, hw, t, tp2).time.tpComm;
    expect(evaluatePlan(m, hw, t, { ...tp2, stageLayers: [4, 8, 8, 4] }).time.tpComm).toBeCloseTo((8 / 6) * even, 12);
    expect(evaluatePlan(m, hw, t, { ...tp2, stageLayers: [7, 5, 5, 7] }).time.tpComm).toBeCloseTo((7 / 6) * even, 12);
    // Mixtral 8x7B (32 MoE layers) on pp 4 · ep 8: the 12-layer middle ranks of [4,12,12,4]
    // dispatch and combine for 12 layers, 3/2 of the even 8; the last rank's 4 priced 1/2 before.
    const mx = preset("mixtral-8x7b");
    const tm: Training = { gpus: 64, globalBatch: 256, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const pm: Plan = { ...base, tp: 2, pp: 4, dp: 8, ep: 8, zero: 1, sequenceParallel: true };
    const ep = evaluatePlan(mx, hw, tm, pm).time.epComm;
    expect(ep).toBeGreaterThan(0);
    expect(evaluatePlan(mx, hw, tm, { ...pm, stageLayers: [4, 12, 12, 4] }).time.epComm).toBeCloseTo(1.5 * ep, 12);
  });

  it("the even split [6,6,6,6] prices exactly as no split at all (the last stage, with the head)", () => {
    const even = evaluatePlan(m, hw, t, base).time;
    expect(evaluatePlan(m, hw, t, { ...base, stageLayers: [6, 6, 6, 6] }).time).toEqual(even);
    expect(even.compute).toBeCloseTo(16 * (6 * fb + head.forward + head.backward), 12);
  });
});

describe("the fullest stage sets the memory", () => {
  it("in flight under 1F1B: min(p − k, m) micro-batches on stage k (4, 3, 2, 1); GPipe m; zb1p min(p, m)", () => {
    expect([0, 1, 2, 3].map((k) => inFlightMicroBatches("1f1b", 4, k, 16))).toEqual([4, 3, 2, 1]);
    expect([0, 3].map((k) => inFlightMicroBatches("1f1b", 4, k, 2))).toEqual([2, 1]);
    expect(inFlightMicroBatches("gpipe", 4, 2, 16)).toBe(16);
    expect(inFlightMicroBatches("zb1p", 4, 3, 16)).toBe(4);
  });

  it("[5,7,7,5] activations by hand: 4·5 layers + dropout mask, 3·7, 2·7, 1·5 + fp32 logits", () => {
    const act = (k: number) => unevenStageActivationBytes(m, t, uneven, k);
    // Embedding dropout mask: one byte per element per micro-batch held (4 on stage 0).
    expect(act(0)).toBe(20 * perLayer + 4 * s * h);
    expect(act(1)).toBe(21 * perLayer);
    expect(act(2)).toBe(14 * perLayer);
    // Logits 4·s·V (V padded to 50,304 for tp 1) and the final norm's input 2·s·h.
    expect(act(3)).toBe(5 * perLayer + 4 * s * 50304 + 2 * s * h);
  });

  it("[5,7,7,5]: stage 1 (21 layer-activations and 7 layers of states) is the fullest, named as a middle stage", () => {
    const r = evaluatePlan(m, hw, t, uneven);
    expect(r.worstStage).toBe("middle");
    expect(r.worstStageIndex).toBe(1);
    expect(r.memory).toEqual(unevenStageMemory(m, hw, t, uneven, 1));
    for (const k of [0, 2, 3]) expect(unevenStageMemory(m, hw, t, uneven, k).total).toBeLessThan(r.memory.total);
  });

  it("with an even split, stage by stage gives stageMemory's first and last figures exactly", () => {
    // (with context parallel too: activations ÷ cp, states sharded over dp·cp, the K/V buffers)
    const cp2: Plan = { ...base, dp: base.dp / 2, cp: 2, cpComm: "allgather", cpSplit: "zigzag", zero: 1 };
    for (const plan of [base, { ...base, schedule: "gpipe" as const }, { ...base, schedule: "zb1p" as const }, { ...base, recompute: "full" as const, zero: 3 as const }, cp2]) {
      const split = { ...plan, stageLayers: [6, 6, 6, 6] };
      expect(unevenStageMemory(m, hw, t, split, 0)).toEqual(stageMemory(m, hw, t, plan, "first"));
      expect(unevenStageMemory(m, hw, t, split, 3)).toEqual(stageMemory(m, hw, t, plan, "last"));
    }
  });
});

describe("layout rules for stage layers", () => {
  const codes = (p: Plan) => {
    const b = buildLayout(m, hw, t, p);
    return b.ok ? [] : b.issues.map((i) => i.code);
  };
  it("a valid split passes even where pp does not divide the layers (24 on pp 16 is refused without one)", () => {
    expect(codes(uneven)).toEqual([]);
    const pp16: Plan = { ...base, pp: 16, dp: 1 };
    expect(codes(pp16)).toEqual(["pp_layers", "vpp_layers"]);
    expect(codes({ ...pp16, stageLayers: [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1] })).toEqual([]);
  });
  it("count, empty stage, sum and vpp > 1 each have a code", () => {
    expect(codes({ ...base, stageLayers: [12, 12] })).toEqual(["stage_layers_count"]);
    expect(codes({ ...base, stageLayers: [0, 8, 8, 8] })).toEqual(["stage_layers_min"]);
    expect(codes({ ...base, stageLayers: [5, 7, 7, 6] })).toEqual(["stage_layers_sum"]);
    expect(codes({ ...uneven, vpp: 2, schedule: "interleaved" })).toContain("stage_layers_vpp");
  });
});

describe("the search with a given split", () => {
  it("keeps it on every plan, with vpp 1, and ranks them", () => {
    const r = search(m, hw, t, { pp: 4, stageLayers: [5, 7, 7, 5] }, { top: 5 });
    expect(r.plans.length).toBeGreaterThan(0);
    for (const p of r.plans) expect([p.stageLayers, p.vpp]).toEqual([[5, 7, 7, 5], 1]);
  });
});

describe("Megatron-LM's form: first, middle…equal, last", () => {
  it("[5,7,7,5] and [11,13] fit it, [5,6,8,5] does not", () => {
    expect(firstMiddleLast([5, 7, 7, 5])).toEqual({ first: 5, middle: 7, last: 5 });
    expect(firstMiddleLast([11, 13])).toEqual({ first: 11, middle: null, last: 13 });
    expect(firstMiddleLast([5, 6, 8, 5])).toBeNull();
  });
});

describe("torchtitan's own split of uneven layer counts (generate_split_points)", () => {
  it("126 layers on 8 stages: 15 first, 16 on the six middle stages, 15 last; 24 on 5: 4,5,5,5,5", () => {
    expect(middleHeavySplit(126, 8)).toEqual([15, 16, 16, 16, 16, 16, 16, 15]);
    expect(middleHeavySplit(24, 5)).toEqual([4, 5, 5, 5, 5]);
    // More remainder than middle stages: the last stage takes the rest (26 on 4: 6, 7, 7, 6).
    expect(middleHeavySplit(26, 4)).toEqual([6, 7, 7, 6]);
    expect(middleHeavySplit(27, 4)).toEqual([6, 7, 7, 7]);
  });
});
