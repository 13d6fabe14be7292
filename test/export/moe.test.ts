// Mixtures of experts, latent attention and multi-token prediction through the exports and back
// (issue 13 "Exports and read-back"): Megatron-LM (core_r0.14 has every argument; core_v0.7.0
// refuses what it lacks, naming it), Megatron-DeepSpeed where it has an equivalent, torchtitan's
// expert-parallel degree; every name in the recorded release lists; round trips.
import { afterAll, describe, expect, it } from "vitest";
import type { ModelSpec, Plan } from "../../planner/index.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import type { ReadContext } from "../../src/engines/read-config.js";
import { layerPattern, parseLayerFreq, patternExpr } from "../../src/engines/moe-args.js";
import { argFlags, argValue, h100, model, plan, recorded, refusalMessage, removeTemp, tempFile, training } from "./helpers.js";
import { loadEngine } from "../../src/load-engine.js";

afterAll(removeTemp);

/** DeepSeek-V3 (HF config.json of deepseek-ai/DeepSeek-V3): 61 layers, the first 3 dense, 256
 *  routed experts of width 2048 (top-8, sigmoid), one shared expert, MLA ranks 1536 / 512,
 *  head dims 128 + 64 rope, value 128, one MTP module. */
const DSV3: ModelSpec = {
  ...model("llama3-70b"), name: "deepseek-v3-like", layers: 61, hidden: 7168, heads: 128, kvHeads: 128, ffnHidden: 18432, vocab: 129280,
  moe: { experts: 256, topK: 8, sharedExperts: 1, expertFfnHidden: 2048, denseLayers: 3, layerFreq: 1, router: "sigmoid" },
  mla: { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
  mtpLayers: 1,
  ropeTheta: 10000,
};
delete (DSV3 as { ropeScaling?: unknown }).ropeScaling;
/** Mixtral 8x7B (HF config.json of mistralai/Mixtral-8x7B-v0.1): Llama-like, 8 experts of the
 *  FFN's width on every layer, top-2, no shared expert. */
const MIXTRAL: ModelSpec = {
  ...model("llama3-8b"), name: "mixtral-like", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffnHidden: 14336, vocab: 32000,
  ropeTheta: 1e6, ropeScaling: undefined,
  moe: { experts: 8, topK: 2, sharedExperts: 0, expertFfnHidden: 14336, denseLayers: 0, layerFreq: 1, router: "softmax" },
};
delete (MIXTRAL as { ropeScaling?: unknown }).ropeScaling;

const ctx = (m: ModelSpec): ReadContext => ({ model: m, gpus: 64, defaultGpus: 64, defaultGpusFrom: "test" });
const megatronFile = (m: ModelSpec, p: Plan, release?: string) =>
  exportPlan("megatron", m, p, training(), h100, release ? { release } : {}).files[0]!.content;

describe("Megatron-LM MoE arguments", () => {
  const p = plan({ tp: 2, pp: 1, ep: 8, etp: 1, zero: 1 });

  it("core_r0.14 states DeepSeek-V3's experts, dense layers, router, MLA, MTP and the expert layout", () => {
    const text = megatronFile(DSV3, p);
    const want: [string, string][] = [
      ["--num-experts", "256"], ["--moe-router-topk", "8"], ["--moe-ffn-hidden-size", "2048"], ["--moe-shared-expert-intermediate-size", "2048"],
      ["--moe-layer-freq", "[0]*3+[1]*58"], ["--moe-router-score-function", "sigmoid"], ["--moe-token-dispatcher-type", "alltoall"],
      ["--moe-grouped-gemm", ""], ["--expert-model-parallel-size", "8"], ["--expert-tensor-parallel-size", "1"],
      ["--multi-latent-attention", ""], ["--q-lora-rank", "1536"], ["--kv-lora-rank", "512"], ["--qk-head-dim", "128"],
      ["--qk-pos-emb-head-dim", "64"], ["--v-head-dim", "128"], ["--mtp-num-layers", "1"],
      // the RMSNorms on the compressed latents DeepSeek's MLA has (gpt_layer_specs.py:127-137 @000c4ac:
      // the up-projections as layer-norm linears only with --qk-layernorm)
      ["--qk-layernorm", ""],
      // load balancing, which Megatron leaves off (--moe-aux-loss-coeff 0.0): DeepSeek-V3's
      // auxiliary-loss-free bias at update speed 0.001 (report §2.1.2) and its sequence-wise loss
      // at 1e-4 (§4.2)
      ["--moe-router-enable-expert-bias", ""], ["--moe-router-bias-update-rate", "1e-3"],
      ["--moe-router-load-balancing-type", "seq_aux_loss"], ["--moe-aux-loss-coeff", "1e-4"],
    ];
    for (const [flag, value] of want) expect(argValue(text, flag), flag).toBe(value);
    const names = recorded("megatron-lm-core_r0.14.txt");
    for (const f of argFlags(text)) expect(names.has(f), f).toBe(true);
    // ungrouped: no group flags; DeepSeek-V3's node-limited routing, 4 of 8 groups (§2.1.2): both
    expect(argValue(text, "--moe-router-num-groups")).toBeUndefined();
    const grouped = megatronFile({ ...DSV3, moe: { ...DSV3.moe!, routingGroups: 8, groupsPerToken: 4 } }, p);
    expect([argValue(grouped, "--moe-router-num-groups"), argValue(grouped, "--moe-router-group-topk")]).toEqual(["8", "4"]);
  });

  it("core_v0.7.0 runs Mixtral's experts (every layer, the FFN's width, split tp ways) and refuses what it cannot say", () => {
    // (core_v0.7.0 has no --rotary-base: a Mixtral with its RoPE base at the release's 10,000)
    const mixtral = { ...MIXTRAL, ropeTheta: 10000 };
    const text = megatronFile(mixtral, plan({ tp: 2, ep: 8, etp: 2, zero: 1 }), "core_v0.7");
    expect(argValue(text, "--num-experts")).toBe("8");
    expect(argValue(text, "--expert-model-parallel-size")).toBe("8");
    expect(argValue(text, "--expert-tensor-parallel-size")).toBeUndefined();
    // a softmax router balanced by the auxiliary loss at Megatron's recommended 1e-2 (its Mixtral
    // example), not the release's default coefficient 0.0, which balances nothing
    expect(argValue(text, "--moe-router-load-balancing-type")).toBe("aux_loss");
    expect(argValue(text, "--moe-aux-loss-coeff")).toBe("1e-2");
    const names = recorded("megatron-lm-core_v0.7.0.txt");
    for (const f of argFlags(text)) expect(names.has(f), f).toBe(true);
    expect(() => megatronFile(mixtral, plan({ tp: 2, ep: 8, etp: 1 }), "core_v0.7")).toThrow(/no --expert-tensor-parallel-size.*etp = 1/);
    expect(() => megatronFile(DSV3, p, "core_v0.7")).toThrow(/no multi-latent-attention arguments/);
    expect(() => megatronFile({ ...DSV3, mla: undefined, mtpLayers: 0 }, p, "core_v0.7")).toThrow(/shared-expert/);
  });

  it("reads its own export back to the same plan, and refuses it against a dense --model", () => {
    for (const [m, pl] of [[DSV3, p], [MIXTRAL, plan({ tp: 2, pp: 2, ep: 4, etp: 2, zero: 1 })]] as const) {
      const file = tempFile(`${m.name}-args.txt`, megatronFile(m, pl));
      const r = readConfigs([file], ctx(m));
      expect(r.plan).toMatchObject({ tp: pl.tp, pp: pl.pp, dp: pl.dp, ep: pl.ep, etp: pl.etp });
      expect(() => readConfigs([file], ctx(model("llama3-70b")))).toThrow(/but the model llama3-70b has/);
    }
    // a dense configuration is not read as the MoE model either
    const { moe: _, ...denseMixtral } = MIXTRAL;
    const dense = tempFile("dense-args.txt", megatronFile(denseMixtral, plan({ tp: 2 })));
    expect(() => readConfigs([dense], ctx(MIXTRAL))).toThrow(/states no experts \(a dense model\) but the model mixtral-like has moe 8 experts top-2/);
  });

  it("DeepSeek-V3's export with the flex dispatcher and DeepEP reads back as deepep, its 4-of-8 groups the model's; the same file against an ungrouped model is refused", () => {
    const grouped: ModelSpec = { ...DSV3, moe: { ...DSV3.moe!, routingGroups: 8, groupsPerToken: 4 } };
    const flex = megatronFile(grouped, p).replace("--moe-token-dispatcher-type alltoall", "--moe-token-dispatcher-type flex --moe-enable-deepep");
    const file = tempFile("dsv3-flex-args.txt", flex);
    expect(readConfigs([file], ctx(grouped)).moeDispatcher).toBe("deepep");
    expect(readConfigs([tempFile("dsv3-a2a-args.txt", megatronFile(grouped, p))], ctx(grouped)).moeDispatcher).toBeUndefined();
    expect(() => readConfigs([file], ctx(DSV3))).toThrow(/routes with 4 of 8 groups a token .* the model deepseek-v3-like with no group limit/);
  });

  it("an engine that dispatches with DeepEP and overlaps the all-to-all exports flex, --moe-enable-deepep and --overlap-moe-expert-parallel-comm, read back to the same; fp8 dispatch, which Megatron does not run, is refused (megatron-moe-engine.ts)", () => {
    const grouped: ModelSpec = { ...DSV3, moe: { ...DSV3.moe!, routingGroups: 8, groupsPerToken: 4 } };
    const core = loadEngine("megatron-core", undefined);
    // DeepEP on 20 of 132 SMs (Megatron-Core's default --moe-deepep-num-sms), no full recompute
    const engine = { ...core, moe: { dispatcher: "deepep" as const, fp8DispatchBytes: null, overlap: { slowdown: 20 / 132, fullRecompute: false, schedules: ["interleaved" as const] } } };
    const text = exportPlan("megatron", grouped, p, training({ engine }), h100).files[0]!.content;
    expect(argValue(text, "--moe-token-dispatcher-type")).toBe("flex");
    for (const f of ["--moe-enable-deepep", "--overlap-moe-expert-parallel-comm"]) expect(argValue(text, f), f).toBe("");
    expect(argValue(text, "--moe-deepep-num-sms")).toBeUndefined();
    const back = readConfigs([tempFile("dsv3-deepep-args.txt", text)], ctx(grouped));
    expect([back.moeDispatcher, back.moeOverlap]).toEqual(["deepep", { sms: 20 }]);
    // fp8 dispatch under fp8: Megatron-Core's dispatchers send 16-bit tokens
    const fp8 = { ...engine, moe: { ...engine.moe, fp8DispatchBytes: 1.03125 } };
    expect(refusalMessage(() => exportPlan("megatron", grouped, p, training({ engine: fp8, precision: "fp8" }), h100))).toContain("dispatches in fp8");
  });
});

describe("shared experts beside the all-to-alls (Engine.moe.sharedExpertOverlap) in the Megatron-LM export", () => {
  const p = plan({ tp: 2, pp: 1, ep: 8, etp: 1, zero: 1 });
  const core = loadEngine("megatron-core", undefined);
  const withShared = (o: { dispatch: "none" | "up" | "all"; combine: "none" | "down" | "all"; backward: boolean }, dispatcher: "alltoall" | "deepep" = "alltoall") =>
    ({ ...core, moe: { ...core.moe, dispatcher, sharedExpertOverlap: o } });
  it("Megatron's own split (up beside the dispatch, down beside the combine, both passes) is --moe-shared-expert-overlap, read back to the same engine field", () => {
    const text = exportPlan("megatron", DSV3, p, training({ engine: withShared({ dispatch: "up", combine: "down", backward: true }) }), h100).files[0]!.content;
    expect(argValue(text, "--moe-shared-expert-overlap")).toBe("");
    expect(argValue(text, "--moe-token-dispatcher-type")).toBe("alltoall");
    expect(readConfigs([tempFile("dsv3-shared-overlap-args.txt", text)], ctx(DSV3)).moeSharedOverlap).toEqual({ dispatch: "up", combine: "down", backward: true });
    // (the default engine writes no such flag, and reads back without the field)
    const plain = exportPlan("megatron", DSV3, p, training({ engine: core }), h100).files[0]!.content;
    expect(argValue(plain, "--moe-shared-expert-overlap")).toBeUndefined();
    expect(readConfigs([tempFile("dsv3-plain-args.txt", plain)], ctx(DSV3)).moeSharedOverlap).toBeUndefined();
  });
  it("another split, or DeepEP's flex dispatcher (core_v0.14.0 raises under it), is refused naming the engine field", () => {
    const titan = refusalMessage(() => exportPlan("megatron", DSV3, p, training({ engine: withShared({ dispatch: "none", combine: "all", backward: false }) }), h100));
    expect(titan).toContain('moe.sharedExpertOverlap {"dispatch":"none","combine":"all","backward":false}');
    const flex = refusalMessage(() => exportPlan("megatron", DSV3, p, training({ engine: withShared({ dispatch: "up", combine: "down", backward: true }, "deepep") }), h100));
    expect(flex).toContain("transformer_config.py:771-776 @ core_v0.14.0");
  });
});

describe("--moe-layer-freq", () => {
  it("an integer N makes every N-th layer MoE from layer 0; list expressions as Megatron's moe_freq_type", () => {
    expect(parseLayerFreq("2", 6, "f")).toEqual([1, 0, 1, 0, 1, 0]);
    expect(parseLayerFreq("([1]*3+[0]*1)*2", 8, "f")).toEqual([1, 1, 1, 0, 1, 1, 1, 0]);
    expect(parseLayerFreq("[0,0,1]+[1]*2", 5, "f")).toEqual([0, 0, 1, 1, 1]);
    expect(() => parseLayerFreq("[1]*3", 4, "f")).toThrow(/lists 3 layers, the model has 4/);
    expect(() => parseLayerFreq("[2]*4", 4, "f")).toThrow(/0 \(dense\) or 1 \(MoE\)/);
    expect(() => parseLayerFreq("[1]*99999999", 4, "f")).toThrow(/too long/);
    expect(() => parseLayerFreq("import os", 4, "f")).toThrow(/expected "\[" or "\("/);
  });

  it("the pattern of the planner's convention, written back as runs", () => {
    // Qwen2-MoE's decoder_sparse_step 2: layers 1, 3, 5 (0-based) are MoE
    expect(layerPattern(6, { denseLayers: 0, layerFreq: 2 })).toEqual([0, 1, 0, 1, 0, 1]);
    expect(patternExpr(layerPattern(61, { denseLayers: 3, layerFreq: 1 }))).toBe("[0]*3+[1]*58");
    expect(parseLayerFreq(patternExpr([0, 1, 1, 0]), 4, "f")).toEqual([0, 1, 1, 0]);
  });
});

describe("Megatron-DeepSpeed and torchtitan", () => {
  it("Megatron-DeepSpeed: Mixtral's experts with their recorded names, read back; DeepSeek refused with the reason", () => {
    const r = exportPlan("deepspeed", MIXTRAL, plan({ ep: 8, zero: 1 }), training(), h100);
    const args = r.files.find((f) => f.name.endsWith(".txt"))!.content;
    for (const [flag, value] of [["--num-experts", "8"], ["--topk", "2"], ["--expert-interval", "1"], ["--moe-expert-parallel-size", "8"]])
      expect(argValue(args, flag!), flag).toBe(value);
    const names = recorded("megatron-deepspeed.txt");
    for (const f of argFlags(args)) expect(names.has(f), f).toBe(true);
    const paths = r.files.map((f) => tempFile(f.name, f.content));
    expect(readConfigs(paths, ctx(MIXTRAL)).plan).toMatchObject({ ep: 8, etp: 1, dp: 64 });
    // Without --disable-moe-token-dropping the fork drops tokens (capacity factor 1.0, batches padded
    // to capacity: megatron/arguments.py @ deepspeedai/Megatron-DeepSpeed): refused, not priced dropless
    const dropping = r.files.map((f) => tempFile(`drop-${f.name}`, f.content.replace(/^--disable-moe-token-dropping\s*$/m, "")));
    expect(() => readConfigs(dropping, ctx(MIXTRAL))).toThrow(/without --disable-moe-token-dropping: Megatron-DeepSpeed drops tokens by default/);
    expect(() => exportPlan("deepspeed", DSV3, plan({ ep: 8 }), training(), h100)).toThrow(/no multi-head latent attention/);
    expect(() => exportPlan("deepspeed", { ...DSV3, mla: undefined, mtpLayers: 0 }, plan({ ep: 8 }), training(), h100)).toThrow(/no shared experts/);
  });

  it("torchtitan: the expert-parallel degree over FSDP-sharded ranks, read back; refused without sharding or with etp", () => {
    const r = exportPlan("torchtitan", MIXTRAL, plan({ ep: 8, zero: 3 }), training(), h100, { release: "0.2" });
    const toml = r.files[0]!.content;
    expect(toml).toMatch(/^expert_parallel_degree = 8$/m);
    const back = readConfigs([tempFile("moe.toml", toml)], ctx(MIXTRAL));
    expect(back.plan).toMatchObject({ ep: 8, dp: 64, zero: 3 });
    expect(() => readConfigs([tempFile("moe2.toml", toml)], ctx(model("llama3-8b")))).toThrow(/has no experts/);
    expect(() => exportPlan("torchtitan", MIXTRAL, plan({ ep: 8, zero: 0 }), training(), h100)).toThrow(/ZeRO-2 or 3/);
    expect(() => exportPlan("torchtitan", MIXTRAL, plan({ tp: 2, ep: 4, etp: 2, zero: 3 }), training(), h100)).toThrow(/does not export torchtitan's expert tensor parallel degree/);
  });
});
