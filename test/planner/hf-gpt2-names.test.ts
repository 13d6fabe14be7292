// QA: GPT-2's key names were read as aliases in every family's config: a Llama config.json with
// "n_layer": 40 and no num_hidden_layers planned 40 layers (9.8B parameters), but LlamaConfig has
// no such alias: LlamaConfig(n_layer=40) keeps num_hidden_layers at its default 32 and n_layer as
// an attribute no module reads. They are aliases in GPT2Config (attribute_map) and, n_layer and
// n_head, in BloomConfig; elsewhere each is a key the family's config does not read, exit 2 naming
// it as moe_intermediate_size on Llama is.
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok, raw } from "./hf-helpers.js";

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

describe("GPT-2's key names outside GPT-2 and BLOOM", () => {
  const qwen = raw("qwen2.5-7b.json");
  it("n_layer in place of num_hidden_layers is not read as it", () => {
    expect(fail(parseHfConfig({ ...without(qwen, "num_hidden_layers"), n_layer: 40 }, "c.json", "x"))).toBe(
      'c.json: "n_layer" 40 is not read by qwen2\'s config (transformers Qwen2Config builds the model without it): remove it, or name the model_type whose config reads it',
    );
  });
  it("nor beside it, agreeing or not", () => {
    expect(fail(parseHfConfig({ ...qwen, n_embd: qwen.hidden_size }, "c.json", "x"))).toMatch(/^c\.json: "n_embd" 3584 is not read by qwen2's config/);
    expect(fail(parseHfConfig({ ...qwen, n_inner: 20000 }, "c.json", "x"))).toMatch(/^c\.json: "n_inner" 20000 is not read by qwen2's config/);
  });
  it("a null n_inner states nothing: accepted", () => {
    expect(ok(parseHfConfig({ ...qwen, n_inner: null }, "c.json", "x")).layers).toBe(28);
  });
  it("GPT-2's own config reads them (124M)", () => {
    const m = ok(parseHfConfig(raw("gpt2.json"), "c.json", "x"));
    expect(Math.abs(totalParams(m, 1024) / 124.44e6 - 1)).toBeLessThan(0.001);
  });
});

// QA: hidden_activation was read before hidden_act in every family, though only Gemma's configs
// have it (LlamaMLP is ACT2FN[config.hidden_act]): a Llama config with "hidden_act": "silu" and a
// stray "hidden_activation": "gelu" was planned as GeGLU, and export --format megatron refused it
// ("no GELU-gated MLP argument"), where transformers builds SwiGLU.
describe("hidden_activation outside Gemma", () => {
  const qwen = raw("qwen2.5-7b.json");
  it("is a key the class does not read, exit 2 naming it", () => {
    expect(fail(parseHfConfig({ ...qwen, hidden_activation: "gelu" }, "c.json", "x"))).toMatch(/^c\.json: "hidden_activation" "gelu" is not read by qwen2's config/);
  });
  it("null states nothing: SwiGLU from hidden_act", () => {
    expect(ok(parseHfConfig({ ...qwen, hidden_activation: null }, "c.json", "x")).mlp).toBe("swiglu");
  });
  it("Gemma 2 reads it", () => {
    expect(ok(parseHfConfig(raw("gemma-2-9b.json"), "c.json", "x")).mlp).toBe("geglu");
  });
  // (QA: Gemma2MLP and Gemma3MLP build ACT2FN[config.hidden_activation], modeling_gemma2.py: a
  // hidden_act beside it changes nothing, and without it the default gelu_pytorch_tanh holds)
  it("Gemma 2 and 3 read it alone: hidden_act \"silu\" there is GeGLU still", () => {
    for (const f of ["gemma-2-9b.json", "gemma-3-1b.json"]) {
      const { hidden_activation: _, ...without } = raw(f) as Record<string, unknown>;
      expect(ok(parseHfConfig({ ...without, hidden_act: "silu" }, "c.json", "x")).mlp, f).toBe("geglu");
      expect(ok(parseHfConfig({ ...raw(f), hidden_act: "silu", hidden_activation: "silu" }, "c.json", "x")).mlp, f).toBe("swiglu");
    }
  });
});
