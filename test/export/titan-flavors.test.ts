// torchtitan v0.2.0's flavors as paraplan holds them (src/engines/titan-flavors.ts), against the
// flavor dicts copied verbatim from the tag (fixtures/torchtitan-flavors-v0.2.0.txt) with each
// family's args.py defaults; the computed FFN widths against the published configs; which presets
// are a flavor's sizes.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TITAN_MODELS, flavorModel, llama4Moe, llamaFfn, sizeDifferences, titanFlavorOf } from "../../src/engines/titan-flavors.js";
import { fixture, model } from "./helpers.js";

type Value = number | string | boolean | null | Call;
interface Call { call: string; args: Record<string, Value> }

/** The Python of a flavor dict: `"name": Class(k=v, …)` entries, MoEArgs(…) nested, comments dropped. */
function parseFlavors(text: string): Map<string, { line: number; args: Record<string, Value> }> {
  const lines = text.split("\n");
  const out = new Map<string, { line: number; args: Record<string, Value> }>();
  const src = lines.map((l) => l.replace(/#.*$/, "")).join("\n");
  let i = 0;
  const ws = () => { while (/\s/.test(src[i] ?? "")) i++; };
  const value = (): Value => {
    ws();
    const m = /^(-?[0-9][0-9_.eE+-]*|"[^"]*"|True|False|None|[A-Za-z_]\w*)/.exec(src.slice(i))!;
    i += m[0].length;
    const t = m[0];
    if (t === "True" || t === "False") return t === "True";
    if (t === "None") return null;
    if (t.startsWith('"')) return t.slice(1, -1);
    if (/^-?[0-9]/.test(t)) return Number(t.replace(/_/g, ""));
    ws();
    expect(src[i]).toBe("(");
    i++;
    const args: Record<string, Value> = {};
    for (;;) {
      ws();
      if (src[i] === ")") { i++; break; }
      const k = /^\w+/.exec(src.slice(i))![0];
      i += k.length;
      ws();
      expect(src[i]).toBe("=");
      i++;
      args[k] = value();
      ws();
      if (src[i] === ",") i++;
    }
    return { call: t, args };
  };
  const key = /^ {4}"([^"]+)": /gm;
  for (let m = key.exec(src); m !== null; m = key.exec(src)) {
    i = m.index + m[0].length;
    const v = value() as Call;
    out.set(m[1]!, { line: src.slice(0, m.index).split("\n").length, args: v.args });
  }
  return out;
}

/** Each family's section of the fixture: its flavors, with the line in its own file. */
function fixtureFamilies(): Map<string, { path: string; flavors: Map<string, { line: number; args: Record<string, Value> }> }> {
  const text = readFileSync(fixture("torchtitan-flavors-v0.2.0.txt"), "utf8");
  const parts = text.split(/^# ---- /m).slice(1);
  return new Map(parts.map((p) => {
    const [head, ...body] = p.split("\n");
    const [path, start] = head!.split(":");
    const flavors = parseFlavors(body.join("\n"));
    // (the dict's first line is body line 1 at `start`)
    for (const f of flavors.values()) f.line += Number(start) - 1;
    return [path!.split("/")[2]!, { path: path!, flavors }];
  }));
}

// The defaults of each family's ModelArgs (model/args.py @ v0.2.0) and MoEArgs (models/moe/moe.py:19-31).
const DEFAULTS: Record<string, Record<string, Value>> = {
  llama3: { vocab_size: 128256, n_kv_heads: null, multiple_of: 256, ffn_dim_multiplier: null, norm_eps: 1e-5, use_flex_attn: false },
  qwen3: { vocab_size: 151936, head_dim: 128, norm_eps: 1e-6, qk_norm: true, enable_weight_tying: false, moe_enabled: false, moe_inter_dim: 768, use_flex_attn: false },
  deepseek_v3: { vocab_size: 102400, dim: 2048, inter_dim: 10944, moe_inter_dim: 1408, n_layers: 27, n_dense_layers: 1, n_heads: 16, norm_eps: 1e-5, q_lora_rank: 0, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, use_flex_attn: false, rope_theta: 10000 },
  llama4: { vocab_size: 202048, n_kv_heads: null, multiple_of: 256, ffn_dim_multiplier: null, norm_eps: 1e-5, use_flex_attn: false, interleave_moe_layer_step: 2, every_n_layers_nope: null, fixed_attn_block_size: 8192, rope_scaling_args: null },
};
const MOE_DEFAULTS: Record<string, Value> = { num_experts: 8, num_shared_experts: 1, score_func: "sigmoid", top_k: 1 };

describe("torchtitan v0.2.0's flavors", () => {
  const families = fixtureFamilies();

  it("the table has every flavor of the four families the tag ships, and no other, each at its line", () => {
    expect([...families.keys()].sort()).toEqual(Object.keys(TITAN_MODELS).sort());
    for (const [name, fam] of families) {
      expect(Object.keys(TITAN_MODELS[name]!.flavors), name).toEqual([...fam.flavors.keys()]);
      for (const [flavor, f] of fam.flavors) expect(TITAN_MODELS[name]!.flavors[flavor]!.at, `${name} ${flavor}`).toBe(`${fam.path}:${f.line}`);
    }
  });

  it("each flavor's sizes are its arguments over the family's defaults", () => {
    for (const [name, fam] of families)
      for (const [flavor, { args: given }] of fam.flavors) {
        const a = { ...DEFAULTS[name], ...given };
        const moeArgs = a.moe_args ? { ...MOE_DEFAULTS, ...(a.moe_args as Call).args } : undefined;
        const t = TITAN_MODELS[name]!.flavors[flavor]!;
        const at = `${name} ${flavor}`;
        expect([t.layers, t.hidden, t.heads, t.kvHeads, t.vocab], at).toEqual([a.n_layers, a.dim, a.n_heads, a.n_kv_heads ?? a.n_heads, a.vocab_size]);
        expect([t.ropeTheta, t.normEps, t.flex ?? false], at).toEqual([a.rope_theta, a.norm_eps, a.use_flex_attn]);
        if (name === "qwen3") {
          expect([t.headDim, t.tied, t.qkNorm], at).toEqual([a.head_dim, a.enable_weight_tying, "head"]);
          if (a.moe_enabled) expect([t.ffnHidden, t.moe], at).toEqual([undefined, { experts: moeArgs!.num_experts, topK: moeArgs!.top_k, sharedExperts: moeArgs!.num_shared_experts, expertFfnHidden: a.moe_inter_dim, denseLayers: 0, layerFreq: 1, router: moeArgs!.score_func }]);
          else expect([t.ffnHidden, t.moe], at).toEqual([a.hidden_dim, undefined]);
        }
        if (name === "deepseek_v3") {
          expect(t.ffnHidden, at).toBe(a.inter_dim);
          // group-limited routing where n_limited_groups < n_expert_groups (args.py defaults 1, 1)
          const g = (a.n_expert_groups ?? 1) as number;
          const l = (a.n_limited_groups ?? 1) as number;
          const groups = l < g ? { routingGroups: g, groupsPerToken: l } : {};
          expect(t.moe, at).toEqual({ experts: moeArgs!.num_experts, topK: moeArgs!.top_k, sharedExperts: moeArgs!.num_shared_experts, expertFfnHidden: a.moe_inter_dim, denseLayers: a.n_dense_layers, layerFreq: 1, router: moeArgs!.score_func, ...groups });
          expect(t.mla, at).toEqual({ qLoraRank: a.q_lora_rank, kvLoraRank: a.kv_lora_rank, qkNopeHeadDim: a.qk_nope_head_dim, qkRopeHeadDim: a.qk_rope_head_dim, vHeadDim: a.v_head_dim });
        }
        if (name === "llama3") expect([t.ffnHidden, t.moe, t.ropeScaling?.factor], at).toEqual([llamaFfn(a.dim as number, a.multiple_of as number, (a.ffn_dim_multiplier ?? undefined) as number | undefined), undefined, 8]);
        if (name === "llama4") {
          const step = a.interleave_moe_layer_step as number;
          const mult = (a.ffn_dim_multiplier ?? undefined) as number | undefined;
          const m = { ...MOE_DEFAULTS, ...(a.moe_args as Call | undefined)?.args };
          expect(t.ffnHidden, at).toBe(step > 1 ? llamaFfn(a.dim as number, a.multiple_of as number, mult) : undefined);
          expect(t.moe, at).toEqual({ experts: m.num_experts, topK: m.top_k, sharedExperts: m.num_shared_experts, expertFfnHidden: llama4Moe(a.dim as number, a.multiple_of as number, mult, m.top_k as number, m.num_shared_experts as number), denseLayers: 0, layerFreq: step, router: m.score_func });
          expect(t.ropeScaling !== undefined, at).toBe(a.rope_scaling_args !== null);
          expect(t.chunked, at).toEqual(a.every_n_layers_nope === null ? undefined : { nopeEvery: a.every_n_layers_nope, block: a.fixed_attn_block_size });
        }
      }
  });

  it("the widths torchtitan computes are the published models': Llama 3 8B/70B/405B, Llama 4 Scout's", () => {
    // (Llama 3 herd Table 3 and the HF configs' intermediate_size: 14336, 28672, 53248)
    expect([llamaFfn(4096, 1024, 1.3), llamaFfn(8192, 4096, 1.3), llamaFfn(16384, 4096, 1.2)]).toEqual([14336, 28672, 53248]);
    // (meta-llama/Llama-4-Scout-17B-16E config.json: intermediate_size 8192 a routed and the shared
    // expert, intermediate_size_mlp 16384 a dense layer; by hand: ⌊2·20480/3⌋ = 13653, ⌊1.2·13653⌋ =
    // 16383, over top-1 + 1 shared 8191, up to a multiple of 2048 = 8192; dense: 16383 up to 16384)
    expect([llama4Moe(5120, 2048, 1.2, 1, 1), llamaFfn(5120, 2048, 1.2)]).toEqual([8192, 16384]);
    // (llama3 debugmodel: ⌊2·1024/3⌋ = 682 up to a multiple of 256 = 768)
    expect(llamaFfn(256, 256)).toBe(768);
  });

  it("the presets a flavor builds, dimension by dimension, and no other preset", () => {
    const presets = readdirSync(new URL("../../profiles/models/", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    const expected: Record<string, string> = {
      "llama3-8b": "llama3 8B", "llama3-70b": "llama3 70B", "llama3-405b": "llama3 405B",
      "qwen3-30b-a3b": "qwen3 30B-A3B", "qwen3-235b-a22b": "qwen3 235B-A22B",
      // DeepSeek-V2-Lite: 27 layers, h 2048, 16 heads, kv rank 512 and no q compression, qk 128+64,
      // v 128, 64 routed + 2 shared experts of 1408, top-6, first layer dense of 10944, vocab 102400
      "deepseek-v2-lite": "deepseek_v3 16B",
    };
    for (const p of presets) {
      const found = titanFlavorOf(model(p));
      expect(found ? `${found.name} ${found.flavor}` : null, p).toBe(expected[p] ?? null);
      if (found) expect(found.f.preset, p).toBe(p);
    }
    for (const [name, fam] of Object.entries(TITAN_MODELS))
      for (const [flavor, f] of Object.entries(fam.flavors))
        if (f.preset) expect(sizeDifferences(flavorModel(name, flavor, f), model(f.preset)), `${name} ${flavor}`).toEqual([]);
  });

  it("DeepSeek-V3 671B is the preset's sizes but for its multi-token-prediction module, which torchtitan does not build", () => {
    const f = TITAN_MODELS.deepseek_v3!.flavors["671B"]!;
    expect(sizeDifferences(flavorModel("deepseek_v3", "671B", f), model("deepseek-v3"))).toEqual(["mtpLayers 0 (deepseek-v3: 1)"]);
  });
});
