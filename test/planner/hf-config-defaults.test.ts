// HuggingFace config.json keys that are absent read as transformers reads them: whether the MLP is
// gated follows the architecture (model_type), not the activation's name; tie_word_embeddings,
// num_key_value_heads, head_dim and sliding_window take the family's config-class defaults. Checked
// against published parameter counts, not against paraplan's own formulas.
import { afterAll, describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";
import { fail, ok, raw } from "./hf-helpers.js";
import { removeTempFiles, runCli, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);
const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const near = (x: number, want: number, tol = 0.005) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);

/** meta-llama/Meta-Llama-3-8B config.json (8,030,261,248 parameters on its model card: 8.0B). */
const LLAMA3_8B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  hidden_act: "silu",
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 8192,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 500000.0,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
  transformers_version: "4.40.0.dev0",
  use_cache: true,
  vocab_size: 128256,
};
const LLAMA3_8B_PARAMS = 8.03e9;

describe("gating follows the architecture, not the activation's name", () => {
  it("Llama 3 8B as published: SwiGLU, untied, 8.03B", () => {
    const m = ok(parseHfConfig(LLAMA3_8B, "config.json", "x"));
    expect(m).toMatchObject({ mlp: "swiglu", tiedEmbeddings: false });
    near(totalParams(m, 8192), LLAMA3_8B_PARAMS);
  });
  it("llama without hidden_act: LlamaConfig's default silu, LlamaMLP gated: 8.03B (not 6.2B)", () => {
    const m = ok(parseHfConfig(without(LLAMA3_8B, "hidden_act"), "config.json", "x"));
    expect(m.mlp).toBe("swiglu");
    near(totalParams(m, 8192), LLAMA3_8B_PARAMS);
  });
  it('llama with hidden_act "gelu": still gate/up/down (GELU-gated): 8.03B', () => {
    const m = ok(parseHfConfig({ ...LLAMA3_8B, hidden_act: "gelu" }, "config.json", "x"));
    expect(m.mlp).toBe("geglu");
    near(totalParams(m, 8192), LLAMA3_8B_PARAMS);
  });
  it('GPT-2 with activation_function "silu" and n_inner 3072: GPT2MLP is never gated: 124M (not 153M)', () => {
    const m = ok(parseHfConfig({ ...raw("gpt2.json"), activation_function: "silu", n_inner: 3072 }, "config.json", "x"));
    expect(m).toMatchObject({ mlp: "gelu", ffnHidden: 3072 });
    near(totalParams(m, 1024), 124.44e6, 0.001);
  });
  it("a gated family with an activation paraplan does not model, and an ungated one, are refused naming it", () => {
    expect(fail(parseHfConfig({ ...LLAMA3_8B, hidden_act: "relu2" }, "c.json", "x"))).toContain('hidden_act "relu2"');
    expect(fail(parseHfConfig({ ...raw("gpt2.json"), activation_function: "sigmoid" }, "c.json", "x"))).toContain('hidden_act "sigmoid"');
  });
  it("an unknown model_type, a missing one, and families paraplan does not model are refused naming model_type", () => {
    expect(fail(parseHfConfig({ ...LLAMA3_8B, model_type: "my_arch" }, "c.json", "x"))).toBe(
      'c.json: "model_type" "my_arch": paraplan does not know how this architecture builds its MLP (gated or not) nor its defaults; it reads llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, gemma, gemma2, gemma3_text, deepseek_v2, deepseek_v3, olmo, olmo2, olmoe, phi3, gpt2, mpt, bloom',
    );
    expect(fail(parseHfConfig(without(LLAMA3_8B, "model_type"), "c.json", "x"))).toMatch(/^c\.json: field "model_type": missing \(/);
    // BLOOM is read (hf-alibi.test.ts), but not with a Llama's MLP width or grouped K/V heads
    expect(fail(parseHfConfig({ ...LLAMA3_8B, model_type: "bloom" }, "c.json", "x"))).toContain(`"intermediate_size" 14336: BloomMLP builds 4·hidden_size`);
    expect(fail(parseHfConfig({ ...without(LLAMA3_8B, "max_position_embeddings"), intermediate_size: 16384, model_type: "bloom" }, "c.json", "x"))).toContain(`"num_key_value_heads" 8 is not read by bloom's config`);
    expect(fail(parseHfConfig({ ...raw("gpt2.json"), model_type: "gptj" }, "c.json", "x"))).toContain('"model_type" "gptj": paraplan does not model parallel attention and MLP blocks');
    expect(fail(parseHfConfig({ ...LLAMA3_8B, model_type: "gpt_neox" }, "c.json", "x"))).toContain('"model_type" "gpt_neox"');
  });
});

describe("absent keys take the family's transformers default", () => {
  it("llama without tie_word_embeddings: LlamaConfig's False: 8.03B (not 7.5B)", () => {
    const m = ok(parseHfConfig(without(LLAMA3_8B, "tie_word_embeddings"), "config.json", "x"));
    expect(m.tiedEmbeddings).toBe(false);
    near(totalParams(m, 8192), LLAMA3_8B_PARAMS);
  });
  it("Qwen2.5-7B without it: Qwen2Config's False: 7.62B (HF: 7,615,616,512)", () => {
    const m = ok(parseHfConfig(without(raw("qwen2.5-7b.json"), "tie_word_embeddings"), "config.json", "x"));
    expect(m.tiedEmbeddings).toBe(false);
    near(totalParams(m, 8192), 7.6156e9);
  });
  it("Mixtral without it: MixtralConfig's False: 46.7B", () => {
    const m = ok(parseHfConfig(without(raw("mixtral-8x7b.json"), "tie_word_embeddings"), "config.json", "x"));
    expect(m.tiedEmbeddings).toBe(false);
    near(totalParams(m, 8192), 46.7e9, 0.01);
  });
  it("GPT-2 and Gemma-2 tie (PretrainedConfig's True, Gemma2Config's True)", () => {
    expect(ok(parseHfConfig(raw("gpt2.json"), "config.json", "x")).tiedEmbeddings).toBe(true);
    const g = ok(parseHfConfig(without(raw("gemma-2-9b.json"), "tie_word_embeddings"), "config.json", "x"));
    expect(g.tiedEmbeddings).toBe(true);
    near(totalParams(g, 8192), 9.2417e9);
  });
  it("Mistral-7B without num_key_value_heads and sliding_window: MistralConfig's 8 and 4096: 7.24B", () => {
    // mistralai/Mistral-7B-v0.1 (7,241,732,096 parameters) less the two keys
    const mistral = { ...without(LLAMA3_8B, "num_key_value_heads", "rope_theta"), model_type: "mistral", vocab_size: 32000, max_position_embeddings: 32768, rope_theta: 10000.0 };
    const m = ok(parseHfConfig(mistral, "config.json", "x"));
    expect([m.kvHeads, m.slidingWindow, m.slidingWindowLayers]).toEqual([8, 4096, 32]);
    near(totalParams(m, 8192), 7.2417e9);
    // null is None to MistralConfig: num_key_value_heads = num_attention_heads, no window
    const nulls = ok(parseHfConfig({ ...mistral, num_key_value_heads: null, sliding_window: null }, "config.json", "x"));
    expect([nulls.kvHeads, nulls.slidingWindow]).toEqual([32, undefined]);
  });
  it("Qwen3 without head_dim: Qwen3Config's 128, not hidden/heads", () => {
    const qwen3 = { ...raw("qwen2.5-7b.json"), model_type: "qwen3", hidden_size: 2560, num_attention_heads: 32, num_key_value_heads: 8 };
    expect(ok(parseHfConfig(qwen3, "config.json", "x")).headDim).toBe(128);
  });
  it("a family default paraplan does not state is refused when the key is absent", () => {
    const olmo = { ...LLAMA3_8B, model_type: "olmo" };
    expect(fail(parseHfConfig(without(olmo, "num_key_value_heads"), "c.json", "x"))).toContain('field "num_key_value_heads": missing (model_type "olmo"');
  });
});

describe("alias keys that disagree are refused naming both", () => {
  it.each([
    ["n_layer", "num_hidden_layers", 24],
    ["n_embd", "hidden_size", 1024],
    ["n_head", "num_attention_heads", 16],
    ["n_positions", "max_position_embeddings", 2048],
    ["activation_function", "hidden_act", "relu"],
  ])("%s and %s", (alias, common, other) => {
    const msg = fail(parseHfConfig({ ...raw("gpt2.json"), [common]: other }, "c.json", "x"));
    expect(msg).toContain(`"${alias}"`);
    expect(msg).toContain(`"${common}" ${JSON.stringify(other)}`);
  });
  it("the same value under both names is one setting", () => {
    const m = ok(parseHfConfig({ ...raw("gpt2.json"), num_hidden_layers: 12, hidden_size: 768 }, "c.json", "x"));
    near(totalParams(m, 1024), 124.44e6, 0.001);
  });
});

// A truncated config planned a plausible model silently (transformers builds the same one): each
// class default taken is said on the assumed line, naming key and value. By hand (Llama 3 8B's
// widths): attention 2·4096² + 2·4096·1024, MLP 3·4096·f, norms 2·4096 a layer, ×32, embeddings
// 2·128,256·4096, final norm 4096: 8,030,261,248 at f 14336; 6,721,638,400 at LlamaConfig's 11008;
// 8,835,567,616 with 32 K/V heads.
describe("class defaults taken are said", () => {
  const said = (o: Record<string, unknown>) => ok(parseHfConfig(o, "c.json", "x")).defaultsAssumed;
  it("intermediate_size absent: LlamaConfig's 11008, 6,721,638,400 parameters, said", () => {
    const m = ok(parseHfConfig(without(LLAMA3_8B, "intermediate_size"), "c.json", "x"));
    expect(totalParams(m, 8192)).toBe(6_721_638_400);
    expect(m.defaultsAssumed).toBe("intermediate_size 11008: c.json leaves it to LlamaConfig's defaults");
  });
  it("num_key_value_heads absent or null: one K/V head per query head, 8,835,567,616 parameters, said", () => {
    const m = ok(parseHfConfig(without(LLAMA3_8B, "num_key_value_heads"), "c.json", "x"));
    expect(totalParams(m, 8192)).toBe(8_835_567_616);
    expect(m.defaultsAssumed).toBe("num_key_value_heads 32 (= num_attention_heads): c.json leaves it to LlamaConfig's defaults");
    expect(said({ ...LLAMA3_8B, num_key_value_heads: null })).toBe("num_key_value_heads 32 (null: = num_attention_heads): c.json leaves it to LlamaConfig's defaults");
  });
  it("Mistral without sliding_window: MistralConfig's 4096 on every layer, said", () => {
    const mistral = { ...LLAMA3_8B, model_type: "mistral", vocab_size: 32000, sliding_window: 4096 };
    const m = ok(parseHfConfig(without(mistral, "sliding_window"), "c.json", "x"));
    expect([m.slidingWindow, m.slidingWindowLayers]).toEqual([4096, 32]);
    expect(m.defaultsAssumed).toBe("sliding_window 4096: c.json leaves it to MistralConfig's defaults");
  });
  it("Gemma without head_dim (GemmaConfig's 256), tie_word_embeddings and hidden_act: all said", () => {
    const gemma = { ...LLAMA3_8B, model_type: "gemma", num_attention_heads: 16, num_key_value_heads: 16 };
    expect(said(without(gemma, "tie_word_embeddings", "hidden_act"))).toBe("tie_word_embeddings true, hidden_act gelu_pytorch_tanh, head_dim 256: c.json leaves them to GemmaConfig's defaults");
  });
  it("GPT-2: n_inner 4·n_embd and GPT2Config's dropouts of 0.1 when absent", () => {
    expect(said(raw("gpt2.json"))).toBe("tie_word_embeddings true, n_inner 3072 (4·n_embd): c.json leaves them to GPT2Config's defaults");
    const m = ok(parseHfConfig(without(raw("gpt2.json"), "resid_pdrop", "embd_pdrop", "attn_pdrop"), "c.json", "x"));
    expect(m.dropout).toBe(true);
    expect(m.defaultsAssumed).toContain("resid_pdrop 0.1, embd_pdrop 0.1, attn_pdrop 0.1");
  });
  it("MoE and window defaults: DeepSeek-V3's sigmoid router, Qwen2's use_sliding_window false", () => {
    expect(said(without(raw("deepseek-v3.json"), "scoring_func"))).toBe("scoring_func sigmoid: c.json leaves it to DeepseekV3Config's defaults");
    expect(said(without(raw("qwen2.5-7b.json"), "use_sliding_window"))).toBe("use_sliding_window false: c.json leaves it to Qwen2Config's defaults");
  });
  it("a config stating every key says nothing", () => {
    for (const c of [LLAMA3_8B, raw("qwen2.5-7b.json"), raw("mixtral-8x7b.json"), raw("deepseek-v3.json")]) expect(said(c)).toBeUndefined();
  });
});

describe("text-only decoders", () => {
  it.each([
    ["vision_config", { model_type: "siglip_vision_model", hidden_size: 1152 }],
    ["audio_config", { model_type: "whisper", d_model: 1280 }],
    ["text_config", { model_type: "gemma3_text" }],
    ["is_encoder_decoder", true],
  ])("%s is refused by name", (key, value) => {
    expect(fail(parseHfConfig({ ...LLAMA3_8B, [key]: value }, "c.json", "x"))).toMatch(new RegExp(`^c\\.json: "${key}": paraplan does not model`));
  });
  it("is_encoder_decoder false and vision_config null state a text-only decoder", () => {
    expect(parseHfConfig({ ...LLAMA3_8B, is_encoder_decoder: false, vision_config: null }, "c.json", "x").ok).toBe(true);
  });
  it("a multimodal wrapper (Gemma 3: text_config and vision_config, no top-level widths) is exit 2 naming model_type and text_config", async () => {
    const wrapper = { architectures: ["Gemma3ForConditionalGeneration"], model_type: "gemma3", text_config: { hidden_size: 2560 }, vision_config: { hidden_size: 1152 } };
    const r = await runCli(["plan", "--model", tempFile("gemma3.json", JSON.stringify(wrapper))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"model_type" "gemma3": a multimodal model (its text model under text_config: pass that model\'s own config.json)');
  });
});

describe("keys named after JavaScript's object members are named themselves", () => {
  it.each(["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty"])("%s", (key) => {
    // JSON.parse makes "__proto__" an own key, as a config.json read from disk has it
    const text = JSON.stringify(LLAMA3_8B).replace(/^\{/, `{${JSON.stringify(key)}: {"a": 1}, `);
    const msg = fail(parseHfConfig(JSON.parse(text), "c.json", "x"));
    expect(msg).toMatch(new RegExp(`^c\\.json: "${key}": `));
    expect(msg).not.toContain("[object Object]");
    expect(msg).not.toContain("native code");
  });
  it("plan --model: exit 2, one line naming the key", async () => {
    const text = JSON.stringify(LLAMA3_8B).replace(/^\{/, '{"constructor": 1, ');
    const r = await runCli(["plan", "--model", tempFile("proto.json", text)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain('"constructor": a key named after a built-in property of JavaScript objects');
  });
});
