// The family (model_type) is checked before any other key of a HuggingFace config.json: an
// architecture paraplan does not read is refused as one, not by whichever of its keys comes first,
// and a file without model_type is not guessed from its key names (GPT-2's n_layer and n_embd are
// CTRL's and GPT-J's too). Configs: Salesforce/ctrl, bigcode/starcoder2-15b, EleutherAI/pythia-1b,
// openai-community/gpt2 (test/planner/hf/).
import { describe, expect, it } from "vitest";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok, raw } from "./hf-helpers.js";

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const parse = (o: Record<string, unknown>) => parseHfConfig(o, "c.json", "x");

describe("a config without model_type is not read as GPT-2", () => {
  it("CTRL without model_type (dff 8192, no position table of 50,000 rows in GPT-2's sense) is exit 2 naming model_type", () => {
    // Read as GPT-2 it planned 1.32B (MLP of 4·1280, a learned table of 50,000 rows); CTRL is 1.63B
    // (Keskar et al. 2019) with an MLP of dff 8192 and sinusoidal positions.
    const msg = fail(parse(without(raw("ctrl.json"), "model_type")));
    expect(msg).toMatch(/^c\.json: field "model_type": missing \(/);
    expect(msg).toContain('add "model_type": "gpt2" if it is GPT-2');
  });
  it("GPT-2's published config without model_type is refused too (transformers' AutoConfig needs it, or the repository's name)", () => {
    expect(fail(parse(without(raw("gpt2.json"), "model_type")))).toMatch(/^c\.json: field "model_type": missing/);
    expect(ok(parse(raw("gpt2.json"))).layers).toBe(12);
  });
  it("a Llama config written with n_layer and no model_type is not told about GPT-2's config", () => {
    const llama = { ...without(raw("qwen2.5-7b.json"), "model_type", "num_hidden_layers"), n_layer: 28 };
    const msg = fail(parse(llama));
    expect(msg).toMatch(/^c\.json: field "model_type": missing/);
    expect(msg).not.toContain("GPT2Config");
  });
  it("CTRL with its model_type is refused by it: paraplan does not read CTRLConfig", () => {
    expect(fail(parse(raw("ctrl.json")))).toMatch(/^c\.json: "model_type" "ctrl": paraplan does not know how this architecture builds its MLP/);
  });
});

describe("FFN widths under other families' names are architectural", () => {
  it.each([["dff", 8192], ["d_ff", 3072], ["ffn_dim", 8192], ["d_model", 4096], ["inner_size", 16384], ["mlp_width", 11008]])("%s on a Llama config is refused naming it", (key, value) => {
    expect(fail(parse({ ...raw("qwen2.5-7b.json"), model_type: "llama", [key]: value }))).toMatch(new RegExp(`^c\\.json: "${key}": an unknown key that looks architectural`));
  });
});

describe("families paraplan does not read are refused by model_type, before their keys", () => {
  it("StarCoder2 (its first unknown key was residual_dropout)", () => {
    expect(fail(parse(raw("starcoder2-15b.json")))).toMatch(/^c\.json: "model_type" "starcoder2": paraplan does not know/);
  });
  it.each([
    ["internlm2", { attn_implementation: "eager", bias: false }],
    ["jamba", { attn_layer_offset: 4, attn_layer_period: 8, expert_layer_period: 2 }],
    ["mamba", { conv_kernel: 4, state_size: 16 }],
    ["dbrx", { attn_config: { kv_n_heads: 8 }, ffn_config: { moe_num_experts: 16 } }],
  ])("%s with its own keys", (type, keys) => {
    expect(fail(parse({ ...raw("qwen2.5-7b.json"), ...keys, model_type: type }))).toMatch(new RegExp(`^c\\.json: "model_type" "${type}": `));
  });
  it("Pythia-1b (GPT-NeoX): named by model_type, with the partial rotary and parallel blocks its keys state", () => {
    expect(fail(parse(raw("pythia-1b.json")))).toBe(
      'c.json: "model_type" "gpt_neox": paraplan does not model rotary embeddings on part of each head (rotary_pct 0.25), nor parallel attention and MLP blocks (use_parallel_residual true), nor biases on every MLP of a rotary model (GPTNeoXMLP\'s linears always have them)',
    );
  });
  it("GPT-NeoX with full rotary and sequential blocks is not told it has quarter rotary or parallel blocks", () => {
    const msg = fail(parse({ ...raw("pythia-1b.json"), rotary_pct: 1.0, use_parallel_residual: false }));
    expect(msg).toBe('c.json: "model_type" "gpt_neox": paraplan does not model biases on every MLP of a rotary model (GPTNeoXMLP\'s linears always have them)');
  });
  it("GPT-NeoX without the keys: GPTNeoXConfig's defaults are said as defaults", () => {
    const msg = fail(parse(without(raw("pythia-1b.json"), "rotary_pct", "use_parallel_residual")));
    expect(msg).toContain("(GPTNeoXConfig's default rotary_pct 0.25)");
    expect(msg).toContain("(GPTNeoXConfig's default use_parallel_residual true)");
  });
  it.each([
    [{ parallel_attn: true }, "parallel attention and MLP blocks (parallel_attn true)"],
    [{ new_decoder_architecture: true, parallel_attn: false }, "parallel attention and MLP blocks (new_decoder_architecture true)"],
    [{ parallel_attn: false, alibi: true }, "ALiBi in FalconAttention (alibi true)"],
  ])("Falcon %j: the message names what the config makes it do", (keys, said) => {
    expect(fail(parse({ ...raw("qwen2.5-7b.json"), ...keys, model_type: "falcon" }))).toBe(`c.json: "model_type" "falcon": paraplan does not model ${said}`);
  });
  it("a multimodal wrapper and an encoder-decoder are told what they are with their model_type", () => {
    expect(fail(parse({ model_type: "llava", text_config: { model_type: "llama" }, vision_config: { hidden_size: 1024 } }))).toMatch(/^c\.json: "model_type" "llava": a multimodal model \(its text model under text_config: pass that model's own config\.json\)/);
    expect(fail(parse({ ...raw("gpt2.json"), model_type: "t5", is_encoder_decoder: true }))).toMatch(/^c\.json: "model_type" "t5": an encoder-decoder model \(is_encoder_decoder\)/);
  });
});
