// Published configs whose extra keys do not change the cost are read (they were refused), with
// the window each family applies; and refusals name the config.json key the user wrote.
import { afterAll, describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { attentionFlops } from "../../planner/cost/flops.js";
import { parseHfConfig } from "../../planner/schema/model.js";
import { fail, ok, raw } from "./hf-helpers.js";
import { removeTempFiles, runCli, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);
const without = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const near = (x: number, want: number, tol: number) => expect(Math.abs(x / want - 1)).toBeLessThan(tol);
const parse = (o: Record<string, unknown>) => parseHfConfig(o, "c.json", "x");
/** Qwen2.5-7B's widths as a Llama (no window keys: LlamaConfig reads none). */
const llama = { ...without(raw("qwen2.5-7b.json"), "sliding_window", "use_sliding_window", "max_window_layers"), model_type: "llama" };

describe("published configs with cost-free keys", () => {
  it("Phi-3-mini-4k-instruct: 3,821,079,552 parameters (its Hugging Face page: 3.82B), a 2047-token window on all 32 layers", () => {
    const m = ok(parse(raw("phi-3-mini-4k.json")));
    expect(totalParams(m, 4096)).toBe(3_821_079_552);
    // Phi3Attention passes config.sliding_window on every layer, as Mistral's does
    expect([m.slidingWindow, m.slidingWindowLayers, m.defaultSeqLen]).toEqual([2047, 32, 4096]);
    // every layer's scores over s·w keys rather than s², as Gemma-2's windowed layers are counted
    // (hf-config.test.ts): 2047/4096 of full attention, 4·s²·(a·d) with a·d = 3072
    const full = { ...m, slidingWindow: undefined, slidingWindowLayers: undefined };
    expect(attentionFlops(full, 4096, 1, 1)).toBe(4 * 4096 * 4096 * 3072);
    expect(attentionFlops(m, 4096, 1, 1) / attentionFlops(full, 4096, 1, 1)).toBeCloseTo(2047 / 4096, 12);
  });
  it("Gemma-3-1B (gemma3_text): sliding_window_pattern 6 makes 22 of 26 layers local, as its layer_types list says; 1.0B", () => {
    const g = raw("gemma-3-1b.json");
    const m = ok(parse(g));
    // layer i is global when (i + 1) % 6 == 0: layers 5, 11, 17, 23
    expect([m.slidingWindow, m.slidingWindowLayers]).toEqual([512, 22]);
    const listed = Array.from({ length: 26 }, (_, i) => ((i + 1) % 6 === 0 ? "full_attention" : "sliding_attention"));
    expect(ok(parse({ ...without(g, "sliding_window_pattern"), layer_types: listed }))).toEqual(m);
    // Google's model card: 1B; the checkpoint holds 999,885,952 (norms of q and k included)
    near(totalParams(m, 8192), 999_885_952, 0.001);
    // without the key, Gemma3TextConfig's default pattern is 6 too
    expect(ok(parse(without(g, "sliding_window_pattern"))).slidingWindowLayers).toBe(22);
  });
  it("Qwen2 without use_sliding_window: Qwen2Config's False, no window (7.62B)", () => {
    const m = ok(parse(without(raw("qwen2.5-7b.json"), "use_sliding_window")));
    expect(m.slidingWindow).toBeUndefined();
    near(totalParams(m, 8192), 7.6156e9, 0.001);
  });
  const base = ok(parse(llama));
  it.each([
    ["partial_rotary_factor", 1.0],
    ["_attn_implementation", "flash_attention_2"],
    ["original_max_position_embeddings", 4096],
    ["rope_scaling", { rope_type: "default" }],
    ["rope_scaling", { type: "linear", factor: 2.0 }],
    ["rope_scaling", { type: "dynamic", factor: 2.0 }],
    ["rope_scaling", { rope_type: "yarn", factor: 4.0, original_max_position_embeddings: 32768 }],
    ["rope_scaling", { rope_type: "longrope", short_factor: [1], long_factor: [2], original_max_position_embeddings: 4096 }],
  ])("%s %j is accepted: the same model", (key, value) => {
    // the same figures; a frequency-only scaling is named for the exports, which do not write it
    const { ropeScalingNotExported, ...rest } = ok(parse({ ...llama, [key]: value }));
    expect(rest).toEqual(base);
    const type = (value as { type?: string; rope_type?: string } | null);
    const named = key === "rope_scaling" ? (type?.rope_type ?? type?.type) : undefined;
    expect(ropeScalingNotExported).toBe(named === "default" ? undefined : named);
  });
  it("what does change the cost is still refused", () => {
    expect(fail(parse({ ...llama, partial_rotary_factor: 0.5 }))).toContain('"partial_rotary_factor": paraplan does not model rotary embeddings on part of each head');
    expect(fail(parse({ ...llama, rope_scaling: { rope_type: "mrope", mrope_section: [16, 24, 24] } }))).toContain('"rope_scaling" of type "mrope"');
  });
});

describe("messages name the keys the user wrote", () => {
  it("GPT-2's n_head 7: n_embd and n_head, not paraplan's hidden and heads (and no head_dim advice: GPT-2 has none)", () => {
    expect(fail(parse({ ...raw("gpt2.json"), n_head: 7 }))).toBe('c.json: "n_embd" (768) must be a multiple of "n_head" (7)');
    expect(fail(parse({ ...raw("qwen2.5-7b.json"), num_key_value_heads: 5 }))).toBe('c.json: "num_key_value_heads" (5) must divide "num_attention_heads" (28)');
  });
  it("rope_scaling {} says what is missing", () => {
    expect(fail(parse({ ...llama, rope_scaling: {} }))).toBe('c.json: "rope_scaling" has no "rope_type" (nor "type"): state which scaling (default, linear, dynamic, yarn, longrope, llama3), or remove the key (null) for none');
  });
  it("sliding_window_size: Gemma-2's published copy of sliding_window is accepted, a different one refused", () => {
    const g = raw("gemma-2-9b.json");
    expect(g.sliding_window_size).toBe(4096);
    expect(fail(parse({ ...g, sliding_window_size: 1024 }))).toContain('"sliding_window_size" 1024 and "sliding_window" 4096 differ');
  });
  it("a paraplan model file that also has hidden_size: told the file mixes the two formats (plan --model: exit 2)", async () => {
    const mixed = { name: "m", layers: 4, hidden: 64, heads: 4, vocab: 256, seqLen: 32, hidden_size: 64 };
    expect(fail(parse(mixed))).toBe('c.json: the file mixes paraplan\'s model format ("layers") with a HuggingFace config.json ("hidden_size"): write one or the other (README "Inputs")');
    const r = await runCli(["plan", "--model", tempFile("mixed.json", JSON.stringify(mixed))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the file mixes paraplan's model format");
  });
});
