// HuggingFace config.json files as published, read truly: Gemma-2's head width, gated GELU and
// sliding windows; GPT-2's own key names; every key modelled, accepted or refused by name; the
// sequence length a config is planned at, said; bounds and "missing" in model files.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { attentionFlops } from "../../planner/cost/flops.js";
import { parseHfConfig, parseModelFile } from "../../planner/schema/model.js";
import { parseHardwareFile } from "../../planner/schema/hardware.js";
import { classifyHfKey } from "../../planner/schema/hf-keys.js";
import type { ModelSpec } from "../../planner/types.js";
import { rawHardware } from "./fixtures.js";

const HF = join(dirname(fileURLToPath(import.meta.url)), "hf");
const raw = (name: string) => JSON.parse(readFileSync(join(HF, name), "utf8")) as Record<string, unknown>;
const ok = (r: ReturnType<typeof parseHfConfig>): ModelSpec => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const message = (r: { ok: boolean; message?: string }): string => {
  expect(r.ok).toBe(false);
  return (r as { message: string }).message;
};

describe("Gemma-2-9B (google/gemma-2-9b config.json)", () => {
  const m = ok(parseHfConfig(raw("gemma-2-9b.json"), "config.json", "gemma"));
  it("head width 256 (not 3584/16 = 224), gated GELU, tied, rotary θ 10,000, eps 1e-6", () => {
    expect(m).toMatchObject({ hidden: 3584, heads: 16, kvHeads: 8, headDim: 256, ffnHidden: 14336, mlp: "geglu", tiedEmbeddings: true });
    expect(m).toMatchObject({ positional: "rope", ropeTheta: 10000, normEps: 1e-6, dropout: false });
  });
  it("is planned at 9.24B parameters (Gemma Team 2024, Table 1 lists 9B; HF reports 9,241,705,984)", () => {
    // 42 · (3584·(4096 + 2·2048) + 4096·3584 + 3·3584·14336) + 256000·3584 ≈ 9.2417e9 (+ norms)
    expect(Math.abs(totalParams(m, 8192) / 9.2417e9 - 1)).toBeLessThan(0.005);
  });
  it("21 of 42 layers attend over a 4096-key window: attention work at s = 8192 is ¾ of full", () => {
    expect([m.slidingWindow, m.slidingWindowLayers]).toEqual([4096, 21]);
    const full = { ...m, slidingWindow: undefined, slidingWindowLayers: undefined };
    expect(attentionFlops(m, 8192, 1, 1) / attentionFlops(full, 8192, 1, 1)).toBeCloseTo(0.75, 12);
    // full attention: 4·b·s²·(a·d) with a·d = 16·256 = 4096, not h = 3584
    expect(attentionFlops(full, 8192, 1, 1)).toBe(4 * 8192 * 8192 * 4096);
    expect(attentionFlops(m, 2048, 1, 1)).toBe(attentionFlops(full, 2048, 1, 1)); // s ≤ window
  });
});

describe("GPT-2 (openai-community/gpt2 config.json) is read with its own key names", () => {
  const m = ok(parseHfConfig(raw("gpt2.json"), "config.json", "gpt2"));
  it("n_layer 12, n_embd 768, n_head 12, 4h GELU, learned positions, tied, dropout: 124M", () => {
    expect(m).toMatchObject({ layers: 12, hidden: 768, heads: 12, ffnHidden: 3072, vocab: 50257, mlp: "gelu", positional: "learned", tiedEmbeddings: true, dropout: true, defaultSeqLen: 1024, normEps: 1e-5 });
    expect(Math.abs(totalParams(m, 1024) / 124.44e6 - 1)).toBeLessThan(0.001);
  });
});

describe("every key modelled, accepted or refused", () => {
  it("Mixtral is read as a mixture of experts (8 experts, top-2), not planned as dense", () => {
    const m = ok(parseHfConfig(raw("mixtral-8x7b.json"), "config.json", "x"));
    expect(m.moe).toEqual({ experts: 8, topK: 2, sharedExperts: 0, expertFfnHidden: 14336, denseLayers: 0, layerFreq: 1, router: "softmax" });
    expect(Math.abs(totalParams(m, 8192) / 46.7e9 - 1)).toBeLessThan(0.01);
  });
  it("an unknown key that looks architectural is refused by name; metadata is accepted", () => {
    const base = raw("qwen2.5-7b.json");
    // Latent attention in a family whose config does not read it is refused naming the key.
    expect(message(parseHfConfig({ ...base, kv_lora_rank: 512 }, "c.json", "x"))).toContain('"kv_lora_rank" 512 is not read by qwen2\'s config (transformers Qwen2Config');
    expect(message(parseHfConfig({ ...base, local_window_stride: 64 }, "c.json", "x"))).toContain('"local_window_stride": an unknown key that looks architectural (it contains "window")');
    expect(message(parseHfConfig({ ...base, num_experts: 60 }, "c.json", "x"))).toContain('"num_experts"');
    expect(parseHfConfig({ ...base, num_experts: 0, chat_template_name: "x" }, "c.json", "x").ok).toBe(true);
    expect(classifyHfKey("attn_logit_softcapping", 50).kind).toBe("harmless");
    expect(classifyHfKey("hidden_size", 1).kind).toBe("modelled");
  });
  it("rope scaling of a type paraplan does not know and activations it does not model are refused", () => {
    const base = raw("qwen2.5-7b.json");
    expect(message(parseHfConfig({ ...base, rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] } }, "c.json", "x"))).toContain('"rope_scaling" of type "mrope"');
    expect(message(parseHfConfig({ ...base, hidden_act: "relu" }, "c.json", "x"))).toContain('hidden_act "relu"');
  });
  it("a dropout probability outside [0, 1) is refused naming the key (torch.nn.Dropout raises)", () => {
    const base = raw("qwen2.5-7b.json");
    for (const p of [-0.1, 1, 5]) expect(message(parseHfConfig({ ...base, attention_dropout: p }, "c.json", "x"))).toBe('c.json: field "attention_dropout": must be a dropout probability, from 0 to below 1');
    expect(message(parseHfConfig({ ...raw("gpt2.json"), resid_pdrop: 1.5 }, "c.json", "x"))).toContain('field "resid_pdrop": must be a dropout probability');
    expect(ok(parseHfConfig({ ...base, attention_dropout: 0.1 }, "c.json", "x")).dropout).toBe(true);
  });
  it('hidden_act "SiLU" is refused: transformers looks activations up as written (ACT2FN["SiLU"] raises)', () => {
    expect(message(parseHfConfig({ ...raw("qwen2.5-7b.json"), hidden_act: "SiLU" }, "c.json", "x"))).toBe(
      'c.json: hidden_act "SiLU": transformers\' activation names (ACT2FN) are lower case ("silu"), and it cannot build this one; paraplan models GELU, SiLU-gated (SwiGLU) and GELU-gated (GeGLU) MLPs',
    );
    expect(message(parseHfConfig({ ...raw("gpt2.json"), activation_function: "GELU_new" }, "c.json", "x"))).toContain('"GELU_new"');
  });
  it("Llama 3.1's rope_scaling is read", () => {
    const m = ok(parseHfConfig({ ...raw("qwen2.5-7b.json"), model_type: "llama", rope_theta: 500000, rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, "c.json", "x"));
    expect(m.ropeScaling).toEqual({ type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  });
  it("a scaling transformers would refuse is exit 2 naming the key: a factor below 1, a negative one, a key llama3 does not have (QA)", () => {
    const llama = (over: Record<string, unknown>) => ({ ...raw("qwen2.5-7b.json"), model_type: "llama", rope_theta: 500000, rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, ...over } });
    // transformers' rope_config_validation: linear, dynamic, yarn and llama3 need a factor ≥ 1
    expect(message(parseHfConfig({ ...raw("qwen2.5-7b.json"), rope_scaling: { type: "linear", factor: -2 } }, "c.json", "x"))).toBe('c.json: "rope_scaling" factor -2: must be a number of at least 1 (transformers\' rope_config_validation)');
    expect(message(parseHfConfig(llama({ factor: -8 }), "c.json", "x"))).toMatch(/"rope_scaling" factor -8: must be a number of at least 1/);
    expect(message(parseHfConfig(llama({ low_freq_factor: -1 }), "c.json", "x"))).toBe('c.json: "rope_scaling" low_freq_factor -1: must be a positive number');
    // an extra key would be dropped from the export unsaid
    expect(message(parseHfConfig(llama({ extra_thing: 1 }), "c.json", "x"))).toMatch(/"rope_scaling" of type llama3 has "extra_thing", which paraplan does not carry/);
    // the four keys all missing one: the same message as before
    expect(message(parseHfConfig(llama({ high_freq_factor: undefined }), "c.json", "x"))).toMatch(/needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings/);
  });
});

describe("the sequence length of a config.json", () => {
  it("Qwen2.5: min(max_position_embeddings 131072, 8192), said", () => {
    const m = ok(parseHfConfig(raw("qwen2.5-7b.json"), "config.json", "x"));
    expect(m.defaultSeqLen).toBe(8192);
    expect(m.defaultSeqLenAssumed).toBe("sequence 8192 = min(max_position_embeddings 131072, 8192) of config.json (--seq to change)");
    expect(m.slidingWindow).toBeUndefined(); // use_sliding_window: false
  });
});

describe("model-file bounds and missing fields", () => {
  const good = { name: "m", layers: 4, hidden: 64, heads: 4, vocab: 256, seqLen: 32 };
  it.each([
    ["layers", 1e12, "10,000"],
    ["hidden", 2 ** 21, "1,048,576"],
    ["vocab", 2 ** 60, "16,777,216"],
    ["seqLen", 2 ** 53 + 2, "16,777,216"],
    ["globalBatch", 1e9, "16,777,216"],
    ["gpus", 9007199254740993, "1,048,576"],
  ])("%s: %d is refused naming the key and the bound %s", (key, value, bound) => {
    const msg = message(parseModelFile({ ...good, [key]: value }, "m.json"));
    expect(msg).toBe(`m.json: field "${key}": must be at most ${bound} (paraplan's bound, README "Inputs")`);
  });
  it("an odd rotary head dimension names the fields it comes from (QA: hidden 4000 over 32 heads)", () => {
    expect(message(parseModelFile({ ...good, hidden: 4000, heads: 32, positional: "rope" }, "m.json"))).toMatch(/rotary positions need an even head dimension, and "hidden" \/ "heads" is 4000 \/ 32 = 125$/);
    expect(message(parseModelFile({ ...good, headDim: 63, positional: "rope" }, "m.json"))).toMatch(/rotary positions need an even head dimension, and "headDim" is 63$/);
  });
  it("an HF config's count is bounded under its own name", () => {
    expect(message(parseHfConfig({ ...raw("qwen2.5-7b.json"), num_hidden_layers: 1e12 }, "c.json", "x"))).toContain('field "num_hidden_layers": must be at most 10,000');
  });
  it('a missing field says "missing": model files and profiles', () => {
    const { layers: _l, ...noLayers } = good;
    expect(message(parseModelFile(noLayers, "m.json"))).toBe('m.json: field "layers": missing');
    const hw = rawHardware("dgx-h100") as { gpu: Record<string, unknown> };
    const { memory: _m, ...gpu } = hw.gpu;
    // (QA: and for a profile what to write: the quantity's range, or the profile to extend)
    const extend = '(or "extends": "dgx-h100", a built-in profile, for every figure the file leaves out)';
    expect(message(parseHardwareFile({ ...hw, gpu }, "p.json"))).toBe(`p.json: field "gpu.memory": missing; give a GPU's memory from 100 MB to 4 TB, like 80 GiB ${extend}`);
    const { name: _n, ...unnamed } = hw.gpu;
    expect(message(parseHardwareFile({ ...hw, gpu: unnamed }, "p.json"))).toBe(`p.json: field "gpu.name": missing; add it ${extend}`);
  });
});
