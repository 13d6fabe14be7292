// Norm weights of the families whose decoder layer is not two weighted norms (ModelSpec.norms):
// Gemma 2 and 3 normalise each sublayer's input and output (four RMSNorms a layer:
// transformers' Gemma2DecoderLayer/Gemma3DecoderLayer input_layernorm, post_attention_layernorm,
// pre_feedforward_layernorm, post_feedforward_layernorm; Gemma Team 2024, "Gemma 2", §2), OLMo-1's
// LayerNorm has no weight or bias (OlmoLayerNorm: F.layer_norm(x, shape, None, None)). QA found
// Gemma counted with two norms (Gemma-3-1B 59,904 short, Gemma-2-9B 301,056 = 2·h·L short) and OLMo
// with weights (h·(2L + 1) over). The published checkpoints' counts, exactly:
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { totalParams } from "../../planner/model.js";
import { parseHfConfig, parseModelFile } from "../../planner/schema/model.js";
import type { ModelSpec } from "../../planner/types.js";

const HF = join(dirname(fileURLToPath(import.meta.url)), "hf");
const model = (name: string): ModelSpec => {
  const r = parseHfConfig(JSON.parse(readFileSync(join(HF, name), "utf8")), name, name);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe("norm weights as the checkpoints hold them", () => {
  it("Gemma-2-9B: 9,241,705,984 (google/gemma-2-9b safetensors), four RMSNorms a layer", () => {
    const m = model("gemma-2-9b.json");
    expect(m.norms).toBe("sandwich");
    // h 3584, L 42, a 16 × d 256 = 4096, g 8 × 256 = 2048, f 14336, V 256000 tied:
    // layer = 3584·4096 (q) + 2·3584·2048 (k, v) + 4096·3584 (o) + 3·3584·14336 (GeGLU) + 4·3584
    //       = 14,680,064 + 14,680,064 + 14,680,064 + 154,140,672 + 14,336 = 198,195,200
    // 42 · 198,195,200 + 256000·3584 + 3584 (final norm) = 8,324,198,400 + 917,504,000 + 3,584
    expect(totalParams(m, 8192)).toBe(9_241_705_984);
    // two norms a layer were 2·h·L = 2·3584·42 = 301,056 short
    expect(totalParams(m, 8192) - totalParams({ ...m, norms: undefined }, 8192)).toBe(301_056);
  });
  it("Gemma-3-1B: 999,885,952 (google/gemma-3-1b-pt), four RMSNorms and the q/k norms a layer", () => {
    const m = model("gemma-3-1b.json");
    // h 1152, L 26, a 4 × d 256 = 1024, g 1 × 256, f 6912, V 262144 tied:
    // layer = 1152·1024 + 2·1152·256 + 1024·1152 + 3·1152·6912 + 4·1152 + 2·256
    //       = 1,179,648 + 589,824 + 1,179,648 + 23,887,872 + 4,608 + 512 = 26,842,112
    // 26 · 26,842,112 + 262144·1152 + 1152 = 697,894,912 + 301,989,888 + 1,152
    expect(totalParams(m, 8192)).toBe(999_885_952);
    expect(totalParams(m, 8192) - totalParams({ ...m, norms: undefined }, 8192)).toBe(2 * 1152 * 26); // 59,904
  });
  it("OLMo-7B: 6,888,095,744 (allenai/OLMo-7B-hf), no norm weights", () => {
    const m = model("olmo-7b.json");
    expect(m.norms).toBe("nonparametric");
    // h 4096, L 32, MHA, f 11008 SwiGLU, V 50304 untied:
    // layer = 4·4096² + 3·4096·11008 = 67,108,864 + 135,266,304 = 202,375,168
    // 32 · 202,375,168 + 2·50304·4096 = 6,476,005,376 + 412,090,368
    expect(totalParams(m, 2048)).toBe(6_888_095_744);
    // with RMSNorm weights: h·(2L + 1) = 4096·65 = 266,240 over
    expect(totalParams({ ...m, norms: undefined }, 2048) - totalParams(m, 2048)).toBe(266_240);
  });
  it("other families keep two weighted norms; a paraplan model file may state norms", () => {
    expect(model("qwen2.5-7b.json").norms).toBeUndefined();
    const r = parseModelFile({ name: "x", layers: 2, hidden: 64, heads: 4, vocab: 100, seqLen: 128, mlp: "swiglu", positional: "rope", norms: "sandwich" }, "x.json");
    expect(r.ok && r.value.norms).toBe("sandwich");
    expect(parseModelFile({ name: "x", layers: 2, hidden: 64, heads: 4, vocab: 100, seqLen: 128, norms: "three" }, "x.json").ok).toBe(false);
  });
});
