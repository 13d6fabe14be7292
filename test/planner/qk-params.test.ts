// Q/K/V biases (Qwen2) and query/key norms (Qwen3 per head, OLMo 2 / OLMoE over the projections)
// in the parameter count, against the published models' counts worked by hand from config.json.
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { model, model as modelFromFields, preset } from "./fixtures.js";

describe("qkvBias and qkNorm in the parameter count", () => {
  it("Qwen2.5-7B: 7,615,616,512 with the Q/K/V biases (3,584 + 2 · 4 · 128 a layer), 129,024 more than without", () => {
    // config.json: 28 layers, hidden 3584, 28 heads, 4 K/V heads, intermediate 18944, vocab 152064, untied.
    const fields = { layers: 28, hidden: 3584, heads: 28, kvHeads: 4, ffnHidden: 18944, vocab: 152064, seqLen: 32768, mlp: "swiglu", positional: "rope", tiedEmbeddings: false };
    // a layer: Q 3584², K and V 2 · 3584 · 512, O 3584², MLP 3 · 3584 · 18944, two norms 2 · 3584, biases 4,608
    const layer = 3584 * 3584 * 2 + 2 * 3584 * 512 + 3 * 3584 * 18944 + 2 * 3584 + 4608;
    expect(totalParams(modelFromFields({ ...fields, qkvBias: true }), 32768)).toBe(28 * layer + 2 * 152064 * 3584 + 3584);
    expect(totalParams(modelFromFields({ ...fields, qkvBias: true }), 32768)).toBe(7_615_616_512);
    expect(totalParams(modelFromFields(fields), 32768)).toBe(7_615_616_512 - 28 * 4608);
    // a GPT-style model has every bias already: the flag adds nothing
    const gpt = { layers: 24, hidden: 2048, heads: 16, vocab: 50257, seqLen: 2048 };
    expect(totalParams(modelFromFields({ ...gpt, qkvBias: true }), 2048)).toBe(totalParams(modelFromFields(gpt), 2048));
  });
  it("Qwen3-0.6B: 596,049,920 with q_norm and k_norm of head_dim 128 (its card's 0.44B without the embedding)", () => {
    const fields = { layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, ffnHidden: 3072, vocab: 151936, seqLen: 40960, mlp: "swiglu", positional: "rope", tiedEmbeddings: true };
    const m = modelFromFields({ ...fields, qkNorm: "head" });
    expect(totalParams(m, 40960)).toBe(596_049_920);
    expect(totalParams(m, 40960) - 151936 * 1024).toBe(440_467_456);
    expect(totalParams(m, 40960) - totalParams(modelFromFields(fields), 40960)).toBe(28 * 2 * 128);
  });
  it("OLMoE's norms over the whole projections: (16 + 16) · 128 weights a layer; the presets state them", () => {
    const olmoe = preset("olmoe-1b-7b");
    expect(olmoe.qkNorm).toBe("full");
    expect(totalParams(olmoe, 4096) - totalParams({ ...olmoe, qkNorm: undefined }, 4096)).toBe(16 * (2048 + 2048));
    expect(preset("qwen3-30b-a3b").qkNorm).toBe("head");
    expect(preset("qwen3-235b-a22b").qkNorm).toBe("head");
  });
});

describe("stacks that cannot build them refuse the model (EngineSupports.qkvBias, qkNorm)", () => {
  it("the 2021–22 Megatron stacks refuse them; Megatron-Core builds per-head norms only; paraplan's worker, llm-foundry's HF path and torchtitan build all", async () => {
    const { checkTraining } = await import("../../planner/constraints.js");
    const { loadEngine } = await import("../../src/load-engine.js");
    const { hardware } = await import("./fixtures.js");
    const t = (engine: string) => ({ gpus: 64, globalBatch: 64, seqLen: 4096, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true, engine: loadEngine(engine) });
    const dense = model({ layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, vocab: 151936, seqLen: 4096, mlp: "swiglu", positional: "rope", qkNorm: "head", qkvBias: true });
    for (const ok of ["megatron-core", "torchtitan", "fsdp", "paraplan"]) expect(checkTraining(dense, hardware("dgx-h100"), t(ok))).toBeNull();
    const olmo2 = { ...dense, qkvBias: undefined, qkNorm: "full" as const };
    expect(checkTraining(olmo2, hardware("dgx-h100"), t("megatron-core"))?.message).toContain("builds query/key norms over each head only");
    // (the worker's full-projection norm runs at tp 1: layout rule qk_norm_tp, test/planner/qk-norm-tp.test.ts)
    expect(checkTraining(olmo2, hardware("dgx-h100"), t("paraplan"))).toBeNull();
    expect(checkTraining(olmo2, hardware("dgx-h100"), t("fsdp"))).toBeNull();
    // (Megatron-LM 2021 builds learned positions only: a GPT-style model with a query/key norm)
    const gptNorm = model({ layers: 24, hidden: 2048, heads: 16, vocab: 50257, seqLen: 2048, qkNorm: "head" });
    expect(checkTraining(gptNorm, hardware("dgx-a100-80g"), { ...t("megatron-2021"), precision: "fp16" })?.message).toContain("engine megatron-2021 builds no query/key norms");
    const qwen2 = model({ layers: 4, hidden: 512, heads: 8, vocab: 1000, seqLen: 512, mlp: "swiglu", positional: "rope", qkvBias: true });
    const mds = loadEngine("megatron-deepspeed");
    const ropeMds = { ...mds, supports: { ...mds.supports, positional: ["learned", "rope"] as const } };
    expect(checkTraining(qwen2, hardware("dgx-h100"), { ...t("paraplan"), engine: ropeMds })?.message).toContain("has biases on Q, K and V; engine megatron-deepspeed builds no Q/K/V biases");
  });
});

describe("config.json: the families that always build them", () => {
  it("qwen2 (Qwen2.5-7B's config.json) reads with its Q/K/V biases: 7,615,616,512; qwen3 with per-head norms", async () => {
    const { parseHfConfig } = await import("../../planner/schema/model.js");
    const qwen25 = {
      architectures: ["Qwen2ForCausalLM"], hidden_act: "silu", hidden_size: 3584, intermediate_size: 18944, max_position_embeddings: 32768,
      max_window_layers: 28, model_type: "qwen2", num_attention_heads: 28, num_hidden_layers: 28, num_key_value_heads: 4, rms_norm_eps: 1e-6,
      rope_theta: 1000000.0, sliding_window: 131072, tie_word_embeddings: false, use_sliding_window: false, vocab_size: 152064,
    };
    const r = parseHfConfig(qwen25, "config.json");
    expect(r.ok && r.value.qkvBias).toBe(true);
    expect(r.ok && totalParams(r.value, 32768)).toBe(7_615_616_512);
    const qwen3 = { ...qwen25, architectures: ["Qwen3ForCausalLM"], model_type: "qwen3", head_dim: 128 };
    const q3 = parseHfConfig(qwen3, "config.json");
    expect(q3.ok && [q3.value.qkNorm, q3.value.qkvBias]).toEqual(["head", undefined]);
  });
});
