// MoE presets: total parameters (all weights, both embedding matrices, no multi-token-prediction
// modules) within 1% of the published totals, and active parameters against each publisher's own
// convention (planner/model.ts activeParams: DeepSeek leaves the input embedding out; Mistral,
// Qwen and OLMoE count it).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activeParams, stageParamSplit, totalParams } from "../../planner/model.js";
import { wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { wireOf } from "../../planner/wire/wire.js";
import { loadProfile } from "../../src/load.js";
import { moeLayerCount } from "../../planner/moe.js";
import { ordinal, parseModelFile } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";

const preset = (name: string): ModelSpec => {
  const r = parseModelFile(JSON.parse(readFileSync(join("profiles/models", `${name}.json`), "utf8")), name);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

// [preset, published total, published active, whether the publisher counts the input embedding]
const PUBLISHED: [string, number, number, boolean][] = [
  ["mixtral-8x7b", 46.7e9, 12.9e9, true], // Jiang et al. 2024 Table 1 / §2.1
  ["mixtral-8x22b", 141e9, 39e9, true], // mistral.ai/news/mixtral-8x22b
  ["deepseek-v3", 671e9, 37e9, false], // report abstract, §4.2 (README_WEIGHTS: 36.7B)
  ["deepseek-v2-lite", 15.7e9, 2.4e9, false], // DeepSeek-V2 Appendix B
  ["qwen3-30b-a3b", 30.5e9, 3.3e9, true], // Qwen3 report Table 2
  ["qwen3-235b-a22b", 235e9, 22e9, true], // Qwen3 report Table 2
  ["olmoe-1b-7b", 6.9e9, 1.3e9, true], // OLMoE Table 1
];

describe("MoE presets against the published parameter counts", () => {
  it.each(PUBLISHED)("%s: total within 1%% of the published total, active per the publisher's convention", (name, total, active, withEmbedding) => {
    const m = preset(name);
    expect(Math.abs(totalParams(m, m.defaultSeqLen) / total - 1)).toBeLessThan(0.01);
    // Published active counts are rounded to two or three figures: within half a unit of the last
    // figure stated, or 2.5% where that is tighter.
    const a = activeParams(m, m.defaultSeqLen, { inputEmbedding: withEmbedding });
    expect(Math.abs(a / active - 1)).toBeLessThan(0.025);
  });
  it("DeepSeek-V3 reproduces the reference arithmetic (formulas-scale §1.3): 671,026,419,200 total", () => {
    const m = preset("deepseek-v3");
    expect(totalParams(m, 4096)).toBe(671_026_419_200);
    expect(moeLayerCount(m)).toBe(58);
    // Active with both embedding matrices: 37,552,297,472 (formulas-scale §1.3)
    expect(activeParams(m, 4096, { inputEmbedding: true })).toBe(37_552_297_472);
    expect(activeParams(m, 4096)).toBe(37_552_297_472 - 926_679_040);
  });
  it("a dense model's active parameters are its total less the input embedding", () => {
    const m = preset("tiny");
    expect(activeParams(m, 32, { inputEmbedding: true })).toBe(totalParams(m, 32));
  });
  it("tiny-moe: 2 MoE layers of 4 experts, small enough for CPU ranks", () => {
    const m = preset("tiny-moe");
    expect(m.moe).toMatchObject({ experts: 4, topK: 2, sharedExperts: 0, denseLayers: 0, layerFreq: 1 });
    expect(moeLayerCount(m)).toBe(2);
    expect(totalParams(m, 32)).toBeLessThan(1e6);
  });
});

describe("which layers are MoE", () => {
  it("a layer frequency that leaves no MoE layer is refused, not priced as a dense model called MoE", () => {
    const raw = JSON.parse(readFileSync(join("profiles/models", "mixtral-8x7b.json"), "utf8"));
    // 32 layers, every 64th a mixture of experts: none (it printed "7.2B parameters, 8 experts")
    const r = parseModelFile({ ...raw, moe: { ...raw.moe, layerFreq: 64 } }, "m.json");
    expect(r.ok ? "" : r.message).toBe('m.json: "moe.layerFreq" (64) leaves no layer of the 32 a mixture of experts: every 64th layer is one');
    // 2 layers, every 3rd (layers 3, 6, …): none, said with the ordinal's own suffix
    const third = parseModelFile({ ...raw, layers: 2, moe: { ...raw.moe, layerFreq: 3 } }, "m.json");
    expect(third.ok ? "" : third.message).toBe('m.json: "moe.layerFreq" (3) leaves no layer of the 2 a mixture of experts: every 3rd layer is one');
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 64, 101, 111, 112].map(ordinal)).toEqual(["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "64th", "101st", "111th", "112th"]);
    // every 32nd: the last layer alone, accepted
    const one = parseModelFile({ ...raw, moe: { ...raw.moe, layerFreq: 32 } }, "m.json");
    expect(one.ok && moeLayerCount(one.value)).toBe(1);
  });

  it("counts in closed form equal the layer-by-layer rule", async () => {
    const { isMoeLayer, moeLayersIn } = await import("../../planner/moe.js");
    const base = preset("deepseek-v3");
    for (const [denseLayers, layerFreq] of [[0, 1], [3, 1], [1, 2], [2, 3], [0, 4]] as const) {
      const m = { ...base, layers: 13, moe: { ...base.moe!, denseLayers, layerFreq } };
      for (let from = 0; from <= 13; from++)
        for (let to = from; to <= 13; to++) {
          let n = 0;
          for (let i = from; i < to; i++) if (isMoeLayer(m, i)) n++;
          expect(moeLayersIn(m, from, to)).toBe(n);
        }
    }
  });
});

describe("the stage holding DeepSeek-V3's MTP module builds an embedding of its own", () => {
  // GPTModel builds the embedding `if self.pre_process or self.mtp_process` (Megatron-Core
  // gpt_model.py); with pp > 1 the last stage's copy is V·h/t = 129,280 · 7,168 = 926,679,040
  // weights at tp 1, its gradient all-reduced with the first stage's.
  const m = preset("deepseek-v3");
  const last = (x: ModelSpec, pp: number, stage: "last" | "only") => stageParamSplit(x, 4096, 1, pp, 4, stage, 64, 1).dense;

  it("adds V·h/t on the last stage where the first is elsewhere; nothing without MTP, with a tied head or on one stage", () => {
    expect(m.mtpLayers).toBe(1);
    expect(m.vocab * m.hidden).toBe(926_679_040);
    const noMtp = { ...m, mtpLayers: 0 };
    const mtpBlock = last(m, 16, "last") - last(noMtp, 16, "last");
    // the MTP block itself (one MoE layer's dense share and its projection/norms) plus the copy
    expect(mtpBlock - (last(m, 16, "only") - last(noMtp, 16, "only"))).toBe(926_679_040);
    // a tied output layer is that copy already
    const tied = { ...m, tiedEmbeddings: true };
    expect(last(tied, 16, "last") - last({ ...tied, mtpLayers: 0 }, 16, "last")).toBe(last(m, 16, "only") - last(noMtp, 16, "only"));
  });

  it("keeps it in sync with the first stage's once a step, as a tied embedding is (wire tied-embedding)", () => {
    const plan = { tp: 1, pp: 16, dp: 128, cp: 1, ep: 64, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" } as const;
    const t = { gpus: 2048, globalBatch: 15360, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true } as const;
    const links = wireLinks(loadProfile("dgx-h100"), place(loadProfile("dgx-h100"), { tp: 1, cp: 1, dp: 128, pp: 16, ep: 64, etp: 1 }));
    const ids = (x: ModelSpec) => wireOf(x, t, plan, links).map((i) => i.id);
    expect(ids(m)).toContain("tied-embedding");
    expect(ids({ ...m, mtpLayers: 0 })).not.toContain("tied-embedding");
  });
});
