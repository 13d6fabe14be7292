// Uneven stages with virtual stages (vpp > 1): Plan.stageLayers lists the p·v virtual stages in
// model order and rank r holds r, r + p, … (the looped placement of interleaved 1F1B, Narayanan et
// al. 2021 §2.2.2; torchtitan stage_ids_this_rank "loop"). Figures worked by hand for GPT-3 1.3B
// (24 layers, h = 2048, s = 2048, dropout, fused attention) on pp 4 · vpp 2 · dp 4, 16 micro-batches.
import { describe, expect, it } from "vitest";
import { headTimes, layerTimes } from "../../planner/cost/compute.js";
import { stageMemory } from "../../planner/cost/memory.js";
import { unevenStageActivationBytes, unevenStageMemory } from "../../planner/cost/stage-memory.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildLayout } from "../../planner/layout/layout.js";
import { inFlightPerChunk, rankLayers, rankStages, slowestStage } from "../../planner/layout/stages.js";
import { search } from "../../planner/search.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "./fixtures.js";

const m = preset("gpt3-1.3b");
const hw = hardware("dgx-h100");
const t: Training = { gpus: 16, globalBatch: 64, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
const base: Plan = { tp: 1, pp: 4, dp: 4, cp: 1, ep: 1, etp: 1, vpp: 2, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "interleaved" };
// Virtual stages 0…7; rank 0 holds 0 and 4 (2 + 2), rank 1 1 and 5 (3 + 3), rank 2 2 and 6
// (3 + 5), rank 3 3 and 7 (3 + 3, with the output layer).
const split = [2, 3, 3, 3, 2, 3, 5, 3];
const uneven: Plan = { ...base, stageLayers: split };
const s = 2048;
const h = 2048;
// Korthikanti et al. 2022 Table 2, no parallelism, flash attention: 34·s·b·h bytes a layer.
const perLayer = 34 * s * h;

describe("ranks hold their virtual stages", () => {
  it("10 layers as [1,2,2,2,2,1] on pp 3 · vpp 2: ranks hold stages (0,3), (1,4), (2,5) = 3, 4, 3 layers", () => {
    expect([0, 1, 2].map((r) => rankStages(3, 2, r))).toEqual([[0, 3], [1, 4], [2, 5]]);
    const p = { pp: 3, vpp: 2, stageLayers: [1, 2, 2, 2, 2, 1] };
    expect([0, 1, 2].map((r) => rankLayers(p, 10, r))).toEqual([3, 4, 3]);
    // 1 s a layer: rank 1's 4 s beat rank 2's 3 s + a 0.5 s head; a 1.5 s head makes rank 2 the slowest.
    expect(slowestStage(p, 10, 1, 0.5)).toEqual({ index: 1, layers: 4, withHead: false });
    expect(slowestStage(p, 10, 1, 1.5)).toEqual({ index: 2, layers: 3, withHead: true });
  });

  it("interleaved in flight per chunk (groups of p micro-batches per chunk): rank r runs N = (v−1)p + 2(p−1−r) + 1 forwards", () => {
    // p 4, v 2, m 16: N = 11, 9, 7, 5; forwards 0–3 on chunk 0, 4–7 on chunk 1, 8–10 on chunk 0 again.
    expect([0, 1, 2, 3].map((r) => inFlightPerChunk("interleaved", 4, 2, r, 16))).toEqual([[7, 4], [5, 4], [4, 3], [4, 1]]);
    // zb1p keeps min(p, m) of every chunk until its W.
    expect(inFlightPerChunk("zb1p", 4, 2, 3, 16)).toEqual([4, 4]);
    expect(inFlightPerChunk("zb1p", 4, 2, 0, 2)).toEqual([2, 2]);
  });
});

describe("the slowest rank sets the step", () => {
  const layer = layerTimes(m, hw, t, 1, 1, false);
  const head = headTimes(m, hw, t, 1, 1);
  const fb = layer.forward + layer.backward;

  it("rank 2's 9 layers outrun rank 3's 5 layers + head: compute 16 × 9·(f+b), bubble (p−1)/(v·m) = 3/32 of the ideal", () => {
    // [2,3,3,2,2,3,6,3]: ranks hold 4, 6, 9 and 5 layers; the head costs less than 4 layers.
    expect(head.forward + head.backward).toBeLessThan(4 * fb);
    const time = evaluatePlan(m, hw, t, { ...base, stageLayers: [2, 3, 3, 2, 2, 3, 6, 3] }).time;
    expect(time.compute).toBeCloseTo(16 * 9 * fb, 12);
    // Interleaved bubble (Narayanan et al. 2021 §2.2.2), of the slowest rank's ideal time.
    expect(time.bubble).toBeCloseTo((3 / 32) * (time.compute + time.tpComm + time.ppComm + time.epComm), 12);
  });

  it("the even split given explicitly, [3×8], prices as no split at all", () => {
    const even = evaluatePlan(m, hw, t, base);
    const given = evaluatePlan(m, hw, t, { ...base, stageLayers: [3, 3, 3, 3, 3, 3, 3, 3] });
    for (const k of Object.keys(even.time) as (keyof typeof even.time)[]) expect(given.time[k], k).toBeCloseTo(even.time[k], 9);
    expect(even.time.compute).toBeCloseTo(16 * (6 * fb + head.forward + head.backward), 12);
    expect(given.memory.total).toBeCloseTo(even.memory.total, 0);
  });
});

describe("the fullest rank sets the memory", () => {
  it("activations by hand: Σ held × layers of each chunk, the dropout mask with chunk 0, the logits with the last", () => {
    const act = (r: number) => unevenStageActivationBytes(m, t, uneven, r);
    // Rank 0: 7 micro-batches of stage 0 (2 layers), 4 of stage 4 (2), the mask of 7.
    expect(act(0)).toBe((7 * 2 + 4 * 2) * perLayer + 7 * s * h);
    expect(act(1)).toBe((5 * 3 + 4 * 3) * perLayer);
    expect(act(2)).toBe((4 * 3 + 3 * 5) * perLayer);
    // Rank 3: fp32 logits 4·s·V (V padded to 50,304) and the final norm's input 2·s·h.
    expect(act(3)).toBe((4 * 3 + 1 * 3) * perLayer + 4 * s * 50304 + 2 * s * h);
  });

  it("rank 2 (27 layer-activations like rank 1, but 8 layers of states against 6) is the fullest", () => {
    const r = evaluatePlan(m, hw, t, uneven);
    expect([r.worstStage, r.worstStageIndex]).toEqual(["middle", 2]);
    expect(r.memory).toEqual(unevenStageMemory(m, hw, t, uneven, 2));
    for (const k of [0, 1, 3]) expect(unevenStageMemory(m, hw, t, uneven, k).total).toBeLessThan(r.memory.total);
    // Rank 2 against rank 1: two layers more of ZeRO-1 states (2 + 2 + 12/4 bytes a parameter) and
    // of fp32 buffers nothing else; the activations are equal.
    const diff = unevenStageMemory(m, hw, t, uneven, 2).weights - unevenStageMemory(m, hw, t, uneven, 1).weights;
    expect(diff).toBeCloseTo(2 * 2 * (12 * h * h + 13 * h), 0);
  });

  it("with an even split rank by rank gives stageMemory's first and last figures", () => {
    const even = { ...uneven, stageLayers: [3, 3, 3, 3, 3, 3, 3, 3] };
    for (const schedule of ["interleaved", "zb1p"] as const) {
      const a = unevenStageMemory(m, hw, t, { ...even, schedule }, 0);
      const b = stageMemory(m, hw, t, { ...base, schedule }, "first");
      expect(a.activations).toBeCloseTo(b.activations, 0);
      expect(a.total).toBeCloseTo(b.total, 0);
      expect(unevenStageMemory(m, hw, t, { ...even, schedule }, 3).total).toBeCloseTo(stageMemory(m, hw, t, { ...base, schedule }, "last").total, 0);
    }
  });
});

describe("interleaved warm-up per chunk", () => {
  // The definition (Narayanan et al. 2021 §2.2.2): forward i < N = min(m·v, (v−1)·p + 2(p−1−r) + 1)
  // is of local chunk ⌊(i mod p·v)/p⌋; counted one by one here, in closed form in stages.ts.
  it("the closed form counts each chunk's forwards as the loop over them does", () => {
    for (let pp = 2; pp <= 7; pp++)
      for (let vpp = 2; vpp <= 5; vpp++)
        for (const m of [1, 2, pp, 2 * pp + 1, 4 * pp * vpp])
          for (let rank = 0; rank < pp; rank++) {
            const n = Math.min(m * vpp, (vpp - 1) * pp + 2 * (pp - 1 - rank) + 1);
            const loop = Array.from({ length: vpp }, () => 0);
            for (let i = 0; i < n; i++) loop[Math.floor((i % (pp * vpp)) / pp)]!++;
            expect(inFlightPerChunk("interleaved", pp, vpp, rank, m)).toEqual(loop);
          }
  });
});

describe("a V's rank 0 holds both ends of the model", () => {
  // GPT-3 1.3B ties its embeddings (Brown et al. 2020, as GPT-2): in zbv/dualpipev rank 0 holds the
  // first and the last stage, so one V×h matrix serves the input and the output layer; it was
  // counted twice (51,200 × 2048 / 1 more parameters, 210 MB of 16-bit weights at tp 1).
  it("zbv rank 0: the 1F1B first stage's weights plus the final LayerNorm (2h), not a second embedding", () => {
    const oneF = stageMemory(m, hw, t, { ...base, vpp: 1, schedule: "1f1b" }, "first").weights;
    const v = stageMemory(m, hw, t, { ...base, vpp: 2, schedule: "zbv" }, "first").weights;
    // 24 layers on pp 4: 6 per rank either way (zbv: two virtual stages of 3)
    expect(v - oneF).toBe(2 * (2 * 2048));
  });
});

describe("layout rules", () => {
  const codes = (p: Plan) => {
    const b = buildLayout(m, hw, t, p);
    return b.ok ? [] : b.issues.map((i) => i.code);
  };
  it("p·v counts pass with interleaved and zb1p, even where p·v does not divide the layers", () => {
    expect(codes(uneven)).toEqual([]);
    expect(codes({ ...uneven, schedule: "zb1p" })).toEqual([]);
    // 24 layers on pp 4 · vpp 4 = 16 virtual stages: refused without a split.
    const v4: Plan = { ...base, vpp: 4 };
    expect(codes(v4)).toContain("vpp_layers");
    expect(codes({ ...v4, stageLayers: [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1] })).toEqual([]);
  });
  it("neither p nor p·v counts: stage_layers_count; p counts with vpp 2: stage_layers_vpp; a V schedule: stage_layers_v", () => {
    expect(codes({ ...base, stageLayers: [4, 4, 4, 4, 4, 4] })).toEqual(["stage_layers_count"]);
    expect(codes({ ...base, stageLayers: [5, 7, 7, 5] })).toEqual(["stage_layers_vpp"]);
    expect(codes({ ...uneven, schedule: "zbv" })).toEqual(["stage_layers_v"]);
    expect(codes({ ...base, stageLayers: [2, 3, 3, 3, 2, 3, 5, 4] })).toEqual(["stage_layers_sum"]);
  });
  it("the message names the flag", () => {
    const b = buildLayout(m, hw, t, { ...base, stageLayers: [5, 7, 7, 5] });
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.issues[0]!.flag).toBe("--stage-layers");
  });
});

describe("the search with a given split of virtual stages", () => {
  it("with vpp 2 keeps the split on every plan, looped schedules only; without a vpp the 8 counts are refused on pp 4", () => {
    expect(search(m, hw, t, { pp: 4, stageLayers: split }, { top: 5 }).plans).toEqual([]);
    const r = search(m, hw, t, { pp: 4, vpp: 2, stageLayers: split }, { top: 5 });
    expect(r.plans.length).toBeGreaterThan(0);
    for (const p of r.plans) {
      expect([p.stageLayers, p.vpp]).toEqual([split, 2]);
      expect(["interleaved", "zb1p"]).toContain(p.schedule);
    }
  });
});
