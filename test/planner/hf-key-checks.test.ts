// HuggingFace config.json keys that were accepted without a check and so planned a plausible wrong
// model: layer_types naming attentions paraplan does not model or the wrong number of layers; MoE
// keys that contradict one another, a top-k with no experts, routers not modelled, MoE layers that
// never occur. Each is refused with one line naming the key(s).
import { describe, expect, it } from "vitest";
import { activeParams, totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";
import { fail, ok, raw } from "./hf-helpers.js";

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

describe("layer_types", () => {
  const gemma = raw("gemma-2-9b.json"); // 42 layers
  const alternating = Array.from({ length: 42 }, (_, i) => (i % 2 === 0 ? "sliding_attention" : "full_attention"));
  it("42 entries of full and sliding attention: 21 windowed layers, as Gemma2Config's default pattern", () => {
    const m = ok(parseHfConfig({ ...gemma, layer_types: alternating }, "c.json", "x"));
    expect([m.slidingWindow, m.slidingWindowLayers]).toEqual([4096, 21]);
  });
  it.each(["linear_attention", "chunked_attention"])("an entry %s is refused naming layer_types and the value", (kind) => {
    const types = alternating.map((t, i) => (i === 5 ? kind : t));
    expect(fail(parseHfConfig({ ...gemma, layer_types: types }, "c.json", "x"))).toBe(
      `c.json: "layer_types"[5] "${kind}": paraplan models "full_attention" and "sliding_attention" layers only`,
    );
  });
  it("a list whose length is not num_hidden_layers is refused", () => {
    expect(fail(parseHfConfig({ ...gemma, layer_types: alternating.slice(0, 40) }, "c.json", "x"))).toBe('c.json: "layer_types" has 40 entries for num_hidden_layers 42: one per layer');
  });
  it("sliding layers without a window stated are refused", () => {
    const qwen = raw("qwen2.5-7b.json"); // Qwen2Config reads layer_types; 28 layers
    const types = Array.from({ length: 28 }, (_, i) => (i < 4 ? "sliding_attention" : "full_attention"));
    expect(fail(parseHfConfig({ ...qwen, use_sliding_window: true, sliding_window: null, layer_types: types }, "c.json", "x"))).toContain('"layer_types" lists 4 "sliding_attention" layers without "sliding_window"');
  });
});

describe("mixture-of-experts keys", () => {
  it("num_local_experts 8 with num_experts 64 is refused naming both", () => {
    const msg = fail(parseHfConfig({ ...raw("mixtral-8x7b.json"), num_experts: 64 }, "c.json", "x"));
    expect(msg).toContain('"num_local_experts" 8');
    expect(msg).toContain('"num_experts" 64');
    // the same count under both names is one count (MixtralConfig's attribute_map)
    expect(ok(parseHfConfig({ ...raw("mixtral-8x7b.json"), num_experts: 8 }, "c.json", "x")).moe?.experts).toBe(8);
  });
  it("num_experts_per_tok without an expert count is refused (not planned dense)", () => {
    const llama = { ...raw("qwen2.5-7b.json"), model_type: "llama", num_experts_per_tok: 2 };
    expect(fail(parseHfConfig(llama, "c.json", "x"))).toMatch(/^c\.json: "num_experts_per_tok" 2 without an expert count/);
  });
  it("an MoE family without its expert count is refused naming the family's key", () => {
    expect(fail(parseHfConfig(without(raw("mixtral-8x7b.json"), "num_local_experts"), "c.json", "x"))).toContain('field "num_local_experts": missing (model_type "mixtral" is a mixture of experts');
    expect(fail(parseHfConfig(without(raw("deepseek-v3.json"), "n_routed_experts"), "c.json", "x"))).toContain('field "n_routed_experts": missing');
  });
  it("experts on a dense family are refused naming the key", () => {
    expect(fail(parseHfConfig({ ...raw("qwen2.5-7b.json"), num_experts: 60, num_experts_per_tok: 4 }, "c.json", "x"))).toContain('"num_experts" 60: model_type "qwen2" is not a mixture of experts');
  });
  it("Qwen-MoE's experts without moe_intermediate_size are refused, not given intermediate_size (Qwen1.5-MoE: 1408, not 5632)", () => {
    expect(fail(parseHfConfig(without(raw("qwen1.5-moe-a2.7b.json"), "moe_intermediate_size"), "c.json", "x"))).toContain('field "moe_intermediate_size": missing');
  });
  it.each(["softmax", "sigmoid"])("scoring_func %s is modelled", (f) => {
    expect(ok(parseHfConfig({ ...raw("deepseek-v3.json"), scoring_func: f }, "c.json", "x")).moe?.router).toBe(f);
  });
  it.each(["sqrtsoftplus", "softplus", 1])("scoring_func %s is refused naming it", (f) => {
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), scoring_func: f }, "c.json", "x"))).toBe(`c.json: "scoring_func" ${JSON.stringify(f)}: paraplan models softmax and sigmoid routers only`);
  });
  it("DeepSeek-V3 without scoring_func: sigmoid (DeepseekV3TopkRouter), the published 671B / 37B", () => {
    const m = ok(parseHfConfig(without(raw("deepseek-v3.json"), "scoring_func"), "c.json", "x"));
    expect(m.moe?.router).toBe("sigmoid");
    // DeepSeek-AI 2024 (V3 report): 671B total, 37B activated, the 14B MTP module aside
    expect(Math.abs(totalParams({ ...m, mtpLayers: undefined }, 4096) / 671e9 - 1)).toBeLessThan(0.01);
    expect(Math.abs(activeParams({ ...m, mtpLayers: undefined }, 4096, { inputEmbedding: true }) / 37e9 - 1)).toBeLessThan(0.03);
  });
  it.each([["capacity_factor", 1.0], ["train_capacity_factor", 1.25], ["eval_capacity_factor", 2]])("%s (token dropping at a capacity) is refused naming it, not read as metadata", (key, v) => {
    // ceil(T·k/E·CF) rows an expert at most (Fedus et al. 2022 §2.2): the routed work paraplan
    // prices as ρ·T·k/E (--moe-imbalance), so a stated capacity would go unpriced
    expect(fail(parseHfConfig({ ...raw("mixtral-8x7b.json"), [key]: v }, "c.json", "x"))).toContain(`"${key}"`);
    expect(fail(parseHfConfig({ ...raw("mixtral-8x7b.json"), [key]: v }, "c.json", "x"))).toContain('contains "capacity"');
    // off (0, null, false) states nothing and is accepted
    expect(ok(parseHfConfig({ ...raw("mixtral-8x7b.json"), [key]: null }, "c.json", "x")).moe?.experts).toBe(8);
  });
  it("decoder_sparse_step beyond the layer count (no MoE layer) is refused naming it", () => {
    const qwen = raw("qwen3-30b-a3b.json"); // 48 layers
    expect(fail(parseHfConfig({ ...qwen, decoder_sparse_step: 64 }, "c.json", "x"))).toBe('c.json: "decoder_sparse_step" 64 with num_hidden_layers 48: no layer is a mixture of experts, though "num_experts" states 128 experts');
    expect(ok(parseHfConfig({ ...qwen, decoder_sparse_step: 48 }, "c.json", "x")).moe?.layerFreq).toBe(48); // the last layer
    expect(fail(parseHfConfig({ ...raw("deepseek-v3.json"), first_k_dense_replace: 61 }, "c.json", "x"))).toContain('"first_k_dense_replace" 61 with num_hidden_layers 61: no layer is a mixture of experts');
  });
});
