// Keys that current transformers writes into saved configs, read rather than refused: the kernel
// choice (attn_implementation, _attn_implementation_autoset), Gemma 3's saved pattern beside
// layer_types (transformers ≥ 4.53), DeepseekV3Config's derived widths and rotary layout. Each is
// accepted where it agrees with the architecture and refused where it contradicts it. Counts:
// Meta-Llama-3-8B 8,030,261,248 (model card); google/gemma-3-270m 268,098,176 (by hand below);
// DeepSeek-V3 671B (DeepSeek-AI 2024).
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok, raw } from "./hf-helpers.js";

const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const near = (x: number, want: number, tol: number) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);
const parse = (o: Record<string, unknown>) => parseHfConfig(o, "c.json", "x");

describe("the attention kernel transformers loads with is not the architecture", () => {
  it.each([
    ["_attn_implementation_autoset", true],
    ["attn_implementation", "flash_attention_2"],
    ["attn_implementation", "sdpa"],
  ])("%s %j: Qwen2.5-7B reads as without it (7,615,616,512)", (key, value) => {
    const m = ok(parse({ ...raw("qwen2.5-7b.json"), [key]: value }));
    expect(m).toEqual(ok(parse(raw("qwen2.5-7b.json"))));
    near(totalParams(m, 8192), 7_615_616_512, 0.001);
  });
});

describe("Gemma 3's _sliding_window_pattern (transformers ≥ 4.53)", () => {
  const g = raw("gemma-3-270m.json"); // 18 layers, pattern 6: layers 5, 11, 17 global
  it("agreeing with layer_types: 15 windowed layers of 512; 268,098,176 parameters", () => {
    const m = ok(parse(g));
    expect([m.slidingWindow, m.slidingWindowLayers]).toEqual([512, 15]);
    // by hand: embedding 262,144·640 = 167,772,160 (tied); per layer q, o 2·640·1024, k, v
    // 2·640·256, MLP 3·640·2048, norms 4·640 + q/k norms 2·256: 5,573,632; ×18 + final norm 640
    // (paraplan counts two norms a layer: Gemma's extra two and its q/k norms, 32,256, are not)
    near(totalParams(m, 8192), 268_098_176, 0.0002);
    expect(m).toEqual(ok(parse(without(g, "_sliding_window_pattern"))));
  });
  it("agreeing with the default pattern when layer_types is absent", () => {
    expect(ok(parse(without(g, "layer_types"))).slidingWindowLayers).toBe(15);
  });
  it("contradicting layer_types is refused naming both and the first layer they differ on", () => {
    expect(fail(parse({ ...g, _sliding_window_pattern: 4 }))).toBe(
      'c.json: "_sliding_window_pattern" 4 and "layer_types"[3] "sliding_attention" disagree (pattern 4 makes layer 3 full_attention): transformers builds the layers layer_types names; remove _sliding_window_pattern or correct it',
    );
  });
  it("contradicting the pattern transformers builds without layer_types is refused", () => {
    expect(fail(parse({ ...without(g, "layer_types"), _sliding_window_pattern: 4 }))).toContain(`"_sliding_window_pattern" 4 and Gemma3TextConfig's default sliding_window_pattern 6 disagree`);
    expect(fail(parse({ ...without(g, "layer_types"), _sliding_window_pattern: 4, sliding_window_pattern: 6 }))).toContain(`"_sliding_window_pattern" 4 and "sliding_window_pattern" 6 disagree`);
  });
  it("on a family that does not read it, it is refused as any such key", () => {
    expect(fail(parse({ ...raw("qwen2.5-7b.json"), _sliding_window_pattern: 6 }))).toContain(`"_sliding_window_pattern" 6 is not read by qwen2's config`);
  });
});

describe("DeepSeek-V3 configs saved by transformers' DeepseekV3Config", () => {
  const v3 = raw("deepseek-v3.json"); // qk_nope_head_dim 128, qk_rope_head_dim 64
  it("head_dim 64 (= qk_rope_head_dim), qk_head_dim 192 (= 128 + 64), rope_interleave true: the published model, 671B", () => {
    const m = ok(parse({ ...v3, head_dim: 64, qk_head_dim: 192, rope_interleave: true }));
    expect(m).toEqual(ok(parse(v3)));
    expect(m.headDim).toBeUndefined();
    near(totalParams({ ...m, mtpLayers: undefined }, 4096), 671e9, 0.001);
  });
  it("head_dim other than qk_rope_head_dim is refused, saying what the class sets (not that it ignores it)", () => {
    const msg = fail(parse({ ...v3, head_dim: 128 }));
    expect(msg).toBe('c.json: "head_dim" 128 is not "qk_rope_head_dim" 64: the config class sets head_dim to qk_rope_head_dim; remove it or make it agree');
    expect(msg).not.toContain("builds the model without it");
  });
  it("qk_head_dim other than nope + rope is refused; with the widths absent, their defaults are said as such", () => {
    expect(fail(parse({ ...v3, qk_head_dim: 128 }))).toContain('"qk_head_dim" 128 is not "qk_nope_head_dim" 128 + "qk_rope_head_dim" 64');
    expect(fail(parse({ ...without(v3, "qk_rope_head_dim"), head_dim: 32 }))).toContain(`"qk_rope_head_dim" 64 (the class's default)`);
  });
  it("rope_interleave that is not a boolean is refused", () => {
    expect(fail(parse({ ...v3, rope_interleave: "yes" }))).toContain('"rope_interleave" "yes": true or false');
  });
  it("DeepSeek-V2-Lite with head_dim = qk_rope_head_dim reads as without it", () => {
    const v2 = raw("deepseek-v2-lite.json");
    expect(ok(parse({ ...v2, head_dim: v2.qk_rope_head_dim }))).toEqual(ok(parse(v2)));
  });
});
