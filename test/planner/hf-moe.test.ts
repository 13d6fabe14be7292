// HuggingFace configs of mixture-of-experts families read as MoE (planner/schema/hf-moe.ts), every
// key modelled, known not to change the cost, or refused by name (planner/schema/hf-keys.ts).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { activeParams, totalParams } from "../../planner/model.js";
import { parseHfConfig, parseModelFile } from "../../planner/schema/model.js";
import { classifyHfKey } from "../../planner/schema/hf-keys.js";
import type { ModelSpec } from "../../planner/types.js";

const HF = join(dirname(fileURLToPath(import.meta.url)), "hf");
const raw = (name: string) => JSON.parse(readFileSync(join(HF, name), "utf8")) as Record<string, unknown>;
const ok = (r: ReturnType<typeof parseHfConfig>): ModelSpec => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const fail = (r: { ok: boolean; message?: string }): string => {
  expect(r.ok).toBe(false);
  return (r as { message: string }).message;
};
const preset = (name: string): ModelSpec => {
  const r = parseModelFile(JSON.parse(readFileSync(join("profiles/models", `${name}.json`), "utf8")), name);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
/** The fields that change the cost: a config and its preset describe the same model. */
const shape = (m: ModelSpec) => ({ layers: m.layers, hidden: m.hidden, heads: m.heads, kvHeads: m.kvHeads, headDim: m.headDim, vocab: m.vocab, mlp: m.mlp, positional: m.positional, tied: m.tiedEmbeddings, moe: m.moe, mla: m.mla, mtp: m.mtpLayers });

describe("MoE configs as published read into the presets' fields", () => {
  it.each([
    ["deepseek-v3.json", "deepseek-v3"],
    ["deepseek-v2-lite.json", "deepseek-v2-lite"],
    ["qwen3-30b-a3b.json", "qwen3-30b-a3b"],
    ["olmoe-1b-7b.json", "olmoe-1b-7b"],
    ["mixtral-8x7b.json", "mixtral-8x7b"],
  ])("%s = preset %s", (file, name) => {
    const m = ok(parseHfConfig(raw(file), "config.json", "x"));
    expect(shape(m)).toEqual(shape(preset(name)));
    expect(totalParams(m, 4096)).toBe(totalParams(preset(name), 4096));
  });
  it("DeepSeek-V3: 256 routed + 1 shared experts, top-8, 3 dense layers, sigmoid router, MLA ranks, one MTP module", () => {
    const m = ok(parseHfConfig(raw("deepseek-v3.json"), "config.json", "x"));
    expect(m.moe).toEqual({ experts: 256, topK: 8, sharedExperts: 1, expertFfnHidden: 2048, denseLayers: 3, layerFreq: 1, router: "sigmoid", routingGroups: 8, groupsPerToken: 4 });
    expect(m.mla).toEqual({ qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
    expect(m.mtpLayers).toBe(1);
    expect(m.ffnHidden).toBe(18432);
    expect(m.ropeScaling).toBeUndefined(); // YaRN of the long-context extension: no work
  });
  it("Qwen2-MoE (Qwen1.5-MoE-A2.7B): 60 experts top-4 and one shared expert of width 5632: 14.3B total, 2.7B active", () => {
    const m = ok(parseHfConfig(raw("qwen1.5-moe-a2.7b.json"), "config.json", "x"));
    expect(m.moe).toEqual({ experts: 60, topK: 4, sharedExperts: 1, expertFfnHidden: 1408, sharedFfnHidden: 5632, denseLayers: 0, layerFreq: 1, router: "softmax" });
    // Qwen blog "Qwen1.5-MoE: Matching 7B Model Performance with 1/3 Activated Parameters" (2024): 14.3B / 2.7B
    expect(Math.abs(totalParams(m, 8192) / 14.3e9 - 1)).toBeLessThan(0.01);
    expect(Math.abs(activeParams(m, 8192, { inputEmbedding: true }) / 2.7e9 - 1)).toBeLessThan(0.025);
  });
  it("Qwen's mlp_only_layers as the first k layers are dense layers; any other set is refused by name", () => {
    const base = raw("qwen3-30b-a3b.json");
    expect(ok(parseHfConfig({ ...base, mlp_only_layers: [0, 1] }, "c.json", "x")).moe?.denseLayers).toBe(2);
    expect(fail(parseHfConfig({ ...base, mlp_only_layers: [3, 7] }, "c.json", "x"))).toContain('"mlp_only_layers" [3,7]');
  });
});

describe("every key modelled, known harmless, or refused", () => {
  it("DeepSeek's routing settings and the checkpoint's quantisation do not change the cost", () => {
    for (const k of ["scoring_func", "num_nextn_predict_layers", "kv_lora_rank", "topk_method", "n_group", "topk_group"]) expect(classifyHfKey(k, 1).kind).toBe("modelled");
    for (const k of ["routed_scaling_factor", "quantization_config", "initializer_range", "norm_topk_prob", "router_aux_loss_coef"])
      expect(classifyHfKey(k, 1).kind).toBe("harmless");
  });
  it("an unknown architectural key is refused by name, in MoE and dense families alike", () => {
    expect(fail(parseHfConfig({ ...raw("qwen3-30b-a3b.json"), interleave_moe_layer_step: 2 }, "c.json", "x"))).toContain('"interleave_moe_layer_step": an unknown key that looks architectural');
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), expert_layer_period: 2 }, "c.json", "x"))).toContain('"expert_layer_period"');
    expect(fail(parseHfConfig({ ...raw("qwen2.5-7b.json"), router_type: "hash" }, "c.json", "x"))).toContain('"router_type": an unknown key that looks architectural (it contains "router")');
  });
  it("experts without top-k, and DeepSeek's moe_layer_freq other than 1, are refused naming the key", () => {
    const { num_experts_per_tok: _k, ...noTopK } = raw("olmoe-1b-7b.json");
    expect(fail(parseHfConfig(noTopK, "c.json", "x"))).toContain('field "num_experts_per_tok": missing');
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), moe_layer_freq: 2 }, "c.json", "x"))).toContain('"moe_layer_freq" 2');
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), n_routed_experts: 1e9 }, "c.json", "x"))).toContain('field "n_routed_experts": must be a whole number from 0 to 65,536');
  });
});

describe("group-limited routing: n_group / topk_group where topk_method limits groups (hf-moe.ts routingGroupsOf)", () => {
  it("DeepSeek-V3 (noaux_tc, 8 groups, 4 a token) and V2 (group_limited_greedy, 8, 3) read as routingGroups / groupsPerToken; V2-Lite's greedy is ungrouped", () => {
    expect(ok(parseHfConfig(raw("deepseek-v2.json"), "c.json", "x")).moe).toMatchObject({ routingGroups: 8, groupsPerToken: 3 });
    // V2-Lite: topk_method "greedy" with n_group 1, topk_group 1: every expert open to every token.
    const lite = ok(parseHfConfig(raw("deepseek-v2-lite.json"), "c.json", "x")).moe!;
    expect(lite.routingGroups).toBeUndefined();
    expect(lite.groupsPerToken).toBeUndefined();
    // greedy ignores n_group even where it is set.
    expect(ok(parseHfConfig({ ...raw("deepseek-v3.json"), topk_method: "greedy" }, "c.json", "x")).moe?.routingGroups).toBeUndefined();
    // topk_group = n_group limits nothing: stated only where it limits.
    expect(ok(parseHfConfig({ ...raw("deepseek-v3.json"), topk_group: 8 }, "c.json", "x")).moe?.routingGroups).toBeUndefined();
  });
  it("DeepseekV3Config's defaults (8, 4) where a deepseek_v3 config leaves the keys out, named on the assumed line", () => {
    const { n_group: _g, topk_group: _t, topk_method: _m, ...bare } = raw("deepseek-v3.json");
    const m = ok(parseHfConfig(bare, "c.json", "x"));
    expect(m.moe).toMatchObject({ routingGroups: 8, groupsPerToken: 4 });
  });
  it("groups that do not divide the experts, more groups a token than groups, too few experts open, or an unknown method are refused naming the key", () => {
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), n_group: 6 }, "c.json", "x"))).toContain('"n_group" (6) must divide "n_routed_experts" (256)');
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), topk_group: 9 }, "c.json", "x"))).toContain('"topk_group" (9) must be at most "n_group" (8)');
    // 1 group of 256/128 = 2 experts holds fewer than the top-8.
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), n_group: 128, topk_group: 1 }, "c.json", "x"))).toContain("fewer than");
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), topk_method: "sinkhorn" }, "c.json", "x"))).toContain('"topk_method" "sinkhorn"');
    const { n_group: _g, ...noGroups } = raw("deepseek-v2.json");
    expect(fail(parseHfConfig(noGroups, "c.json", "x"))).toContain('field "n_group": missing');
  });
  it("a paraplan model file states both or neither, and only where they limit", () => {
    const file = JSON.parse(readFileSync(join("profiles/models", "deepseek-v3.json"), "utf8")) as { moe: Record<string, unknown> };
    const { groupsPerToken: _m, ...half } = file.moe;
    expect(fail(parseModelFile({ ...file, moe: half }, "m.json"))).toContain('"moe.routingGroups" needs "moe.groupsPerToken"');
    expect(preset("deepseek-v3").moe).toMatchObject({ routingGroups: 8, groupsPerToken: 4 });
  });
});
