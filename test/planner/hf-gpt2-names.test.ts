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
