// The attention backend the Megatron export writes for multi-latent attention: DeepSeek's query/key
// heads (qk_nope + qk_rope = 192) and value heads (128) differ in width, and the export wrote
// --attention-backend flash, which turns Transformer Engine's cuDNN attention off. Megatron's own
// MLA tests and DeepSeek-V3 recipe run cuDNN's fused attention (fixtures/megatron-mla-attention-
// 000c4ac.txt, verbatim at the commit): the export writes the backend whose environment is theirs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { argValue, fixture, h100, model, plan, removeTemp, tempFile, training } from "./helpers.js";
import { afterAll } from "vitest";

afterAll(removeTemp);

/** The fixture's excerpts by path. */
function excerpts(): Map<string, string> {
  const text = readFileSync(fixture("megatron-mla-attention-000c4ac.txt"), "utf8");
  return new Map(text.split(/^# ---- /m).slice(1).map((p) => {
    const [head, ...body] = p.split("\n");
    return [head!.split(":")[0]!, body.join("\n")];
  }));
}

/** language_module.py _set_attention_backend: the NVTE_* values each --attention-backend sets. */
function backendEnv(src: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let backend = "";
  for (const line of src.split("\n")) {
    const b = /AttnBackend\.(\w+):$/.exec(line.trim());
    if (b) backend = b[1]!;
    const v = /check_and_set_env_variable\("(NVTE_\w+)", (\d)/.exec(line);
    if (v && backend) out.set(backend, { ...out.get(backend), [v[1]!]: v[2]! });
  }
  return out;
}

const MLA_TEST = "tests/unit_tests/transformer/test_multi_latent_attention.py";
const DSV3_RECIPE = "tests/functional_tests/test_cases/mixtral/deepseekv3_proxy_flex_tp1pp4emp16etp1cp1_release/model_config.yaml";
const LANGUAGE_MODULE = "megatron/core/models/common/language_module/language_module.py";

describe("Megatron export: the attention backend of multi-latent attention", () => {
  const src = excerpts();
  const env = backendEnv(src.get(LANGUAGE_MODULE)!);
  const p = plan({ tp: 1, pp: 1, dp: 64, zero: 1 });
  const args = (name: string, fused = true) => {
    const r = exportPlan("megatron", model(name), p, training({ fusedAttention: fused }), h100);
    return { r, text: r.files.find((f) => f.name.endsWith(".txt") || f.name.endsWith(".sh"))!.content };
  };

  it("language_module.py's backends: flash turns cuDNN's fused attention off, fused turns FlashAttention off", () => {
    expect(env.get("flash")).toEqual({ NVTE_FLASH_ATTN: "1", NVTE_FUSED_ATTN: "0", NVTE_UNFUSED_ATTN: "0" });
    expect(env.get("fused")).toEqual({ NVTE_FLASH_ATTN: "0", NVTE_FUSED_ATTN: "1", NVTE_UNFUSED_ATTN: "0" });
  });

  it("deepseek-v2-lite and deepseek-v3 (192-wide query/key heads, 128-wide value heads) get the backend Megatron's MLA tests set, with a note saying so", () => {
    // the MLA GPU tests' environment (test_multi_latent_attention.py:227-228) and the DeepSeek-V3
    // proxy's NVTE_FUSED_ATTN
    const tests = src.get(MLA_TEST)!;
    const testEnv = Object.fromEntries([...tests.matchAll(/os\.environ\['(NVTE_\w+)'\] = "(\d)"/g)].map((m) => [m[1]!, m[2]!]));
    expect(testEnv).toEqual({ NVTE_FUSED_ATTN: "1", NVTE_FLASH_ATTN: "0" });
    expect(src.get(DSV3_RECIPE)).toMatch(/^ {2}NVTE_FUSED_ATTN: 1$/m);
    const theirs = [...env].filter(([, e]) => e.NVTE_FUSED_ATTN === testEnv.NVTE_FUSED_ATTN && e.NVTE_FLASH_ATTN === testEnv.NVTE_FLASH_ATTN).map(([b]) => b);
    expect(theirs).toEqual(["fused"]);
    for (const name of ["deepseek-v2-lite", "deepseek-v3"]) {
      const m = model(name);
      expect(m.mla!.qkNopeHeadDim + m.mla!.qkRopeHeadDim).not.toBe(m.mla!.vHeadDim);
      const { r, text } = args(name);
      expect(argValue(text, "--multi-latent-attention"), name).toBe("");
      expect(argValue(text, "--attention-backend"), name).toBe(theirs[0]);
      expect(r.notes.join("\n"), name).toContain("multi-latent attention: --attention-backend fused (cuDNN), not flash");
      expect(r.notes.join("\n"), name).toContain("test_multi_latent_attention.py:227-228");
    }
  });

  it("standard attention keeps flash, unfused stays unfused, each without the note; the fused MLA file reads back fused", () => {
    const llama = args("llama3-8b");
    expect(argValue(llama.text, "--attention-backend")).toBe("flash");
    expect(llama.r.notes.join("\n")).not.toContain("multi-latent");
    const unfused = args("deepseek-v2-lite", false);
    expect(argValue(unfused.text, "--attention-backend")).toBe("unfused");
    expect(unfused.r.notes.join("\n")).not.toContain("multi-latent");
    const back = readConfigs([tempFile("dsv2-lite-args.txt", args("deepseek-v2-lite").text)], { model: model("deepseek-v2-lite"), gpus: 64, defaultGpus: 8, defaultGpusFrom: "test" });
    expect(back.fusedAttention).toBe(true);
  });
});
