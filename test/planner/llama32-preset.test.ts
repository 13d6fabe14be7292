// The llama3.2-3b preset against Meta's published size. Convention (as totalParams and the model
// card): trainable parameters with the unpadded vocabulary, the tied embedding/output matrix counted
// once, no positional table (RoPE).
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { loadModel } from "../../src/load.js";

describe("llama3.2-3b preset", () => {
  const m = loadModel("llama3.2-3b");

  it("has the shape of meta-llama/Llama-3.2-3B config.json", () => {
    expect([m.layers, m.hidden, m.heads, m.kvHeads, m.ffnHidden, m.vocab]).toEqual([28, 3072, 24, 8, 8192, 128256]);
    expect(m.tiedEmbeddings).toBe(true);
    expect(m.ropeTheta).toBe(500000);
    expect(m.ropeScaling).toEqual({ type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  });

  it("≈ 3.21B parameters (Meta's Llama 3.2 model card), within 0.5%", () => {
    const p = totalParams(m, m.defaultSeqLen);
    expect(Math.abs(p / 3.21e9 - 1)).toBeLessThan(0.005);
  });

  it("by hand: 28·(2h² + 2·h·1024 + 3·h·8192 + 2h) + 128256·h + h = 3,212,749,824 (h = 3072, tied)", () => {
    const h = 3072;
    const byHand = 28 * (2 * h * h + 2 * h * 1024 + 3 * h * 8192 + 2 * h) + 128256 * h + h;
    expect(byHand).toBe(3_212_749_824);
    expect(totalParams(m, m.defaultSeqLen)).toBe(byHand);
  });
});
