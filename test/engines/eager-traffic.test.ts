// The eager worker's element-wise traffic under bf16 autocast (planner/cost/eager-traffic.ts,
// Engine.elementwise "autocast-eager"): the op-by-op count by hand, and what it changes.
import { describe, expect, it } from "vitest";
import { autocastEagerBytes } from "../../planner/cost/eager-traffic.js";
import { layerMemoryBoundBytes } from "../../planner/cost/compute.js";
import { loadEngine } from "../../src/load-engine.js";
import { model, preset } from "../planner/fixtures.js";

describe("autocast-eager element-wise bytes, forward, per token", () => {
  it("a GPT block (LayerNorm, GELU, MHA): 16h norms + 24h casts + 20h residual, 4f activation", () => {
    const m = preset("gpt3-1.3b"); // h 2048, f 8192
    expect(autocastEagerBytes(m)).toEqual({ replicated: (16 + 24 + 20) * 2048, split: 4 * 8192 });
  });

  it("a Llama block (RMSNorm, RoPE, 3-way GQA, SwiGLU): 56h + 30h + 20h; RoPE 48(q + kv), repeat 2(2kv + 2q), 10f", () => {
    const m = preset("llama3.2-3b"); // h 3072, 24 heads of 128, 8 kv heads, f 8192
    const q = 24 * 128, kv = 8 * 128;
    expect(autocastEagerBytes(m)).toEqual({ replicated: (56 + 30 + 20) * 3072, split: 48 * (q + kv) + 2 * (2 * kv + 2 * q) + 10 * 8192 });
  });

  it("no repeat without GQA, no RoPE with learned positions", () => {
    const m = model({ layers: 2, hidden: 1024, heads: 8, kvHeads: 8, ffnHidden: 4096, vocab: 1000, seqLen: 128, mlp: "gelu", positional: "learned" });
    expect(autocastEagerBytes(m).split).toBe(4 * 4096);
  });

  it("the layer's bytes: the engines' choice; tp splits the split part, sequence parallel the rest", () => {
    const m = preset("llama3.2-3b");
    const eager = { seqLen: 2048, fusedAttention: true, engine: loadEngine("paraplan", undefined) };
    const b = autocastEagerBytes(m);
    expect(layerMemoryBoundBytes(m, eager, 1, 2, false)).toBe(2 * 2048 * (b.replicated + b.split));
    expect(layerMemoryBoundBytes(m, eager, 4, 2, false)).toBe(2 * 2048 * (b.replicated + b.split / 4));
    expect(layerMemoryBoundBytes(m, eager, 4, 2, true)).toBe(2 * 2048 * (b.replicated + b.split) / 4);
    // The compiled worker keeps the grouped counts: fewer bytes (Inductor fuses the chain).
    const compiled = { ...eager, engine: loadEngine("paraplan-compile", undefined) };
    expect(layerMemoryBoundBytes(m, compiled, 1, 2, false)).toBeLessThan(0.5 * layerMemoryBoundBytes(m, eager, 1, 2, false));
  });
});
