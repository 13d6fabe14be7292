// Model files: a HuggingFace config.json and paraplan's own format, good and bad.
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import type { ModelSpec } from "../../planner/types.js";
import { LLAMA2_7B_CONFIG, expectRel } from "./fixtures.js";
import { looksLikeHfConfig, parseHfConfig, parseModelFile } from "../../planner/schema/model.js";

/** Parameters at the model file's sequence length (what `plan` reports by default). */
const params = (m: ModelSpec) => totalParams(m, m.defaultSeqLen);


describe("HuggingFace config.json", () => {
  it("is recognised as one", () => {
    expect(looksLikeHfConfig(LLAMA2_7B_CONFIG)).toBe(true);
    expect(looksLikeHfConfig({ name: "x", layers: 2, hidden: 8, heads: 2, vocab: 10, seqLen: 4 })).toBe(false);
  });

  it("Llama-2-7b → SwiGLU, rotary, untied, no dropout, 6.74B parameters", () => {
    const r = parseHfConfig(LLAMA2_7B_CONFIG, "config.json", "config");
    expect(r.ok, r.ok ? "" : r.message).toBe(true);
    if (!r.ok) return;
    const m = r.value;
    expect(m).toMatchObject({
      layers: 32,
      hidden: 4096,
      heads: 32,
      kvHeads: 32,
      ffnHidden: 11008,
      vocab: 32000,
      defaultSeqLen: 4096,
      mlp: "swiglu",
      positional: "rope",
      tiedEmbeddings: false,
      dropout: false,
    });
    expectRel(params(m), 6.74e9, 0.005);
  });

  it("a missing required key names it", () => {
    const { num_hidden_layers: _drop, ...rest } = LLAMA2_7B_CONFIG;
    const r = parseHfConfig(rest, "config.json", "config");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("num_hidden_layers");
  });
});

describe("paraplan model files: bad input is one line naming the field", () => {
  const good = { name: "m", layers: 4, hidden: 64, heads: 4, vocab: 256, seqLen: 32 };

  it("the good file parses, with GPT defaults (4h GELU MLP, learned positions, dropout)", () => {
    const r = parseModelFile(good, "m.json");
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject({ ffnHidden: 256, kvHeads: 4, mlp: "gelu", positional: "learned", dropout: true });
  });

  it("SwiGLU default width is 2/3·4h rounded up to a multiple of 256 (Llama: 4096 → 11008)", () => {
    const r = parseModelFile({ ...good, hidden: 4096, heads: 32, mlp: "swiglu" }, "m.json");
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.ffnHidden).toBe(11008);
  });

  const { layers: _l, ...missingLayers } = good;
  it.each([
    ["missing field", missingLayers, "layers"],
    ["zero count", { ...good, heads: 0 }, "heads"],
    ["negative count", { ...good, layers: -2 }, "layers"],
    ["fractional count", { ...good, seqLen: 2.5 }, "seqLen"],
    ["wrong type", { ...good, vocab: "256" }, "vocab"],
    ["unknown key", { ...good, hiddn: 64 }, "hiddn"],
    ["hidden not divisible by heads", { ...good, hidden: 66 }, "hidden"],
    ["kvHeads not dividing heads", { ...good, kvHeads: 3 }, "kvHeads"],
    ["unknown mlp", { ...good, mlp: "relu" }, "mlp"],
  ])("%s → ok:false naming %s", (_label, raw, field) => {
    const r = parseModelFile(raw, "m.json");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(field);
      expect(r.message).toContain("m.json");
      expect(r.message).not.toContain("\n");
    }
  });

  it("hidden not divisible by heads names both", () => {
    const r = parseModelFile({ ...good, hidden: 66 }, "m.json");
    expect(!r.ok && r.message.includes("heads")).toBe(true);
  });
});
