// Each model_type reads its own keys with its own defaults (planner/schema/hf-families.ts): an
// absent MoE or latent-attention key takes the transformers config class's default (it was read
// as 0, "no latent attention", "no shared expert"); a size given as null is refused; a key the
// family's config does not read is refused rather than applied. Checked against published
// parameter counts, not against paraplan's own formulas.
import { describe, expect, it } from "vitest";
import { activeParams, totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";
import { fail, ok, raw } from "./hf-helpers.js";

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const near = (x: number, want: number, tol: number) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);
/** Parameters of the main model (DeepSeek-V3's multi-token-prediction module aside, as the
 *  report's 671B / 37B count it), total and activated per token with the input embedding. */
const total = (m: ModelSpec) => totalParams({ ...m, mtpLayers: undefined }, 4096);
const active = (m: ModelSpec) => activeParams({ ...m, mtpLayers: undefined }, 4096, { inputEmbedding: true });
const parse = (o: Record<string, unknown>) => parseHfConfig(o, "c.json", "x");

// DeepseekV3Config's and DeepseekV2Config's latent-attention defaults (configuration_deepseek_v3.py,
// configuration_deepseek_v2.py): kv_lora_rank 512, q_lora_rank 1536, qk_rope_head_dim 64,
// qk_nope_head_dim 128, v_head_dim 128.
const MLA = ["kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"];

describe("absent MoE and latent-attention keys take the config class's defaults", () => {
  const v3 = raw("deepseek-v3.json");
  it("DeepSeek-V3 without its MLA keys: DeepseekV3Config's ranks, 671B total / 37B activated (DeepSeek-AI 2024)", () => {
    const m = ok(parse(without(v3, ...MLA)));
    expect(m.mla).toEqual({ qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
    near(total(m), 671e9, 0.001);
    near(active(m), 37e9, 0.03);
  });
  it("DeepSeek-V3 without first_k_dense_replace: 3 dense layers (not 0: 704B)", () => {
    const m = ok(parse(without(v3, "first_k_dense_replace")));
    expect(m.moe?.denseLayers).toBe(3);
    near(total(m), 671e9, 0.001);
  });
  it("DeepSeek-V3 without n_shared_experts: one shared expert (not none: 35.0B activated)", () => {
    const m = ok(parse(without(v3, "n_shared_experts")));
    expect(m.moe?.sharedExperts).toBe(1);
    near(active(m), 37e9, 0.03);
    // one shared expert is 58 MoE layers · 3 · 7168 · 2048 = 2.55B of the activated count
    expect(active(m) - active(ok(parse({ ...v3, n_shared_experts: 0 })))).toBe(58 * 3 * 7168 * 2048);
  });
  it("DeepSeek-V2 without its MLA keys: 236B total / 21B activated (DeepSeek-AI 2024, V2 report)", () => {
    const v2 = raw("deepseek-v2.json");
    near(total(ok(parse(v2))), 236e9, 0.005);
    const m = ok(parse(without(v2, ...MLA)));
    expect(m.mla).toEqual({ qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
    near(total(m), 236e9, 0.005);
    near(active(m), 21e9, 0.03);
  });
  it("DeepSeek-V2 defaults: first_k_dense_replace 0, n_shared_experts 2 (DeepseekV2Config)", () => {
    const lite = raw("deepseek-v2-lite.json"); // first_k_dense_replace 1, n_shared_experts 2
    expect(ok(parse(without(lite, "first_k_dense_replace"))).moe?.denseLayers).toBe(0);
    expect(ok(parse(without(lite, "n_shared_experts"))).moe?.sharedExperts).toBe(2);
    // V2-Lite has no query compression: q_lora_rank null stays none, not the default 1536
    expect(ok(parse(lite)).mla?.qLoraRank).toBe(0);
  });
  it("Qwen1.5-MoE-A2.7B without shared_expert_intermediate_size: Qwen2MoeConfig's 5632: 14.3B / 2.7B (Qwen blog 2024)", () => {
    const m = ok(parse(without(raw("qwen1.5-moe-a2.7b.json"), "shared_expert_intermediate_size")));
    expect(m.moe).toMatchObject({ sharedExperts: 1, sharedFfnHidden: 5632 });
    near(totalParams(m, 8192), 14.3e9, 0.005);
    near(activeParams(m, 8192, { inputEmbedding: true }), 2.7e9, 0.025);
  });
  it("Qwen2-57B-A14B as published: 57.4B total (its Hugging Face model page), 14.2B activated", () => {
    const m = ok(parse(raw("qwen2-57b-a14b.json")));
    near(totalParams(m, 8192), 57.4e9, 0.002);
    near(activeParams(m, 8192, { inputEmbedding: true }), 14.2e9, 0.01);
  });
  it("DeepSeek's attention is always latent: kv_lora_rank null or 0 is refused, not read as no MLA", () => {
    expect(fail(parse({ ...v3, kv_lora_rank: null }))).toBe('c.json: field "kv_lora_rank": null (model_type "deepseek_v3" cannot be built with None there); state it');
    expect(fail(parse({ ...v3, kv_lora_rank: 0 }))).toContain('field "kv_lora_rank": 0: model_type "deepseek_v3" always compresses keys and values');
    expect(fail(parse({ ...v3, first_k_dense_replace: null }))).toContain('field "first_k_dense_replace": null');
    expect(fail(parse({ ...raw("qwen1.5-moe-a2.7b.json"), shared_expert_intermediate_size: null }))).toContain('field "shared_expert_intermediate_size": null');
  });
});

describe("a size given as null is refused naming the key (transformers cannot build it)", () => {
  it.each([
    ["qwen2.5-7b.json", "Qwen2Config"],
    ["gemma-2-9b.json", "Gemma2Config"],
    ["mixtral-8x7b.json", "MixtralConfig"],
  ])("%s with intermediate_size null: not paraplan's own width", (file, cls) => {
    expect(fail(parse({ ...raw(file), intermediate_size: null }))).toContain(`field "intermediate_size": null (model_type "${raw(file).model_type}": ${cls} cannot build a model with None here`);
  });
  it("GPT-2's n_inner null is 4h (GPT2Config), still 124M", () => {
    near(totalParams(ok(parse({ ...raw("gpt2.json"), n_inner: null })), 1024), 124.44e6, 0.001);
  });
  it("head_dim null: Gemma builds its attention from config.head_dim (refused); Llama's None is hidden/heads", () => {
    expect(fail(parse({ ...raw("gemma-2-9b.json"), head_dim: null }))).toContain('field "head_dim": null');
    const llama = { ...raw("qwen2.5-7b.json"), model_type: "llama", head_dim: null };
    expect(ok(parse(llama)).headDim).toBeUndefined();
  });
});

describe("a key the model_type's config does not read is refused, not applied", () => {
  const mixtral = raw("mixtral-8x7b.json");
  const qwen3moe = raw("qwen3-30b-a3b.json");
  const q2moe = raw("qwen2-57b-a14b.json");
  const v3 = raw("deepseek-v3.json");
  const olmoe = raw("olmoe-1b-7b.json");
  const gpt2 = raw("gpt2.json");
  const gemma = { ...without(raw("gemma-2-9b.json"), "sliding_window", "sliding_window_size"), model_type: "gemma" };
  const llama = { ...without(raw("qwen2.5-7b.json"), "sliding_window", "use_sliding_window", "max_window_layers"), model_type: "llama" };
  it.each([
    ["mixtral", "moe_intermediate_size", 1024, "MixtralConfig", mixtral],
    ["mixtral", "decoder_sparse_step", 2, "MixtralConfig", mixtral],
    ["mixtral", "first_k_dense_replace", 4, "MixtralConfig", mixtral],
    ["mixtral", "n_shared_experts", 2, "MixtralConfig", mixtral],
    ["qwen3_moe", "first_k_dense_replace", 4, "Qwen3MoeConfig", qwen3moe],
    ["qwen3_moe", "shared_expert_intermediate_size", 4096, "Qwen3MoeConfig", qwen3moe],
    ["qwen2_moe", "n_shared_experts", 4, "Qwen2MoeConfig", q2moe],
    ["deepseek_v3", "decoder_sparse_step", 2, "DeepseekV3Config", v3],
    ["deepseek_v3", "shared_expert_intermediate_size", 9999, "DeepseekV3Config", v3],
    ["deepseek_v3", "mlp_only_layers", [0, 1, 2], "DeepseekV3Config", v3],
    ["olmoe", "moe_intermediate_size", 4096, "OlmoeConfig", olmoe],
    ["gpt2", "num_key_value_heads", 4, "GPT2Config", gpt2],
    ["gpt2", "head_dim", 128, "GPT2Config", gpt2],
    ["gpt2", "rope_theta", 10000, "GPT2Config", gpt2],
    ["llama", "sliding_window", 1024, "LlamaConfig", llama],
    ["llama", "sliding_window_size", 1024, "LlamaConfig", llama],
    ["gemma", "layer_types", Array.from({ length: 42 }, (_, i) => (i % 2 ? "full_attention" : "sliding_attention")), "GemmaConfig", gemma],
  ])("%s with %s %j", (type, key, value, cls, base) => {
    expect(fail(parse({ ...base, [key]: value }))).toMatch(new RegExp(`^c\\.json: "${key}" .* is not read by ${type}'s config \\(transformers ${cls} builds the model without it\\): remove it`));
  });
  it("values that state nothing are accepted (0, null, an empty list, a step of 1)", () => {
    const m = ok(parse({ ...mixtral, n_shared_experts: 0, first_k_dense_replace: null, decoder_sparse_step: 1, mlp_only_layers: [] }));
    near(totalParams(m, 8192), 46.7e9, 0.01);
  });
  it("use_sliding_window false does not turn off Mistral's window (MistralConfig does not read it): refused", () => {
    const mistral = { ...llama, model_type: "mistral", sliding_window: 4096, use_sliding_window: false };
    expect(fail(parse(mistral))).toContain('"use_sliding_window" false is not read by mistral\'s config (transformers MistralConfig applies sliding_window 4096');
  });
});
