// transformers 5 writes a config's rotary settings as one `rope_parameters` object ({rope_type,
// rope_theta, and the scaling's keys}) where earlier versions wrote `rope_theta` and
// `rope_scaling`. paraplan refused the new key as an unknown architectural one; it now reads it as
// the old pair, and refuses it beside them or keyed by layer type.
import { describe, expect, it } from "vitest";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok } from "./hf-helpers.js";

// meta-llama/Llama-3.1-8B config.json as transformers 4.x writes it.
const LLAMA31 = {
  model_type: "llama", architectures: ["LlamaForCausalLM"], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, hidden_act: "silu",
  rms_norm_eps: 1e-5, tie_word_embeddings: false, rope_theta: 500000.0,
  rope_scaling: { rope_type: "llama3", factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
};
const { rope_theta: theta, rope_scaling: scaling, ...rest } = LLAMA31;
const V5 = { ...rest, rope_parameters: { ...scaling, rope_theta: theta } };

describe("rope_parameters (transformers 5)", () => {
  it("reads as rope_theta and rope_scaling: the same model as the 4.x file", () => {
    const old = ok(parseHfConfig(LLAMA31, "old.json", "llama31"));
    const v5 = ok(parseHfConfig(V5, "old.json", "llama31")); // (the origin is in a message)
    expect(v5).toEqual(old);
    expect(v5.ropeTheta).toBe(500000);
    expect(v5.ropeScaling).toEqual({ type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  });

  it("rope_type default is no scaling", () => {
    const m = ok(parseHfConfig({ ...rest, rope_parameters: { rope_type: "default", rope_theta: 10000.0 } }, "d.json", "x"));
    expect(m.ropeTheta).toBe(10000);
    expect(m.ropeScaling).toBeUndefined();
  });

  it("beside rope_theta, or one set per layer type, is refused naming the key", () => {
    expect(fail(parseHfConfig({ ...V5, rope_theta: 500000.0 }, "both.json", "x"))).toMatch(/"rope_parameters" and "rope_theta" both given/);
    const perType = { ...rest, rope_parameters: { full_attention: { rope_type: "default", rope_theta: 1e6 }, sliding_attention: { rope_type: "default", rope_theta: 1e4 } } };
    expect(fail(parseHfConfig(perType, "types.json", "x"))).toMatch(/"rope_parameters": paraplan reads one set/);
  });
});
