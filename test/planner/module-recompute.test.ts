// Megatron-Core's fine-grained selective recompute (--recompute-modules; planner/recompute-modules.ts,
// cost/module-recompute.ts) against hand computations from Korthikanti et al. 2022's tensor list
// and Megatron's layer specs: what each module drops, what it re-runs, the tp collectives again.
import { describe, expect, it } from "vitest";
import { activationOptions, layerActivationBytes, recomputeWorkingBytes } from "../../planner/cost/activations.js";
import { moeLayerActivationBytes } from "../../planner/cost/moe-memory.js";
import { gemmTime, hbm, layerTimes, matmulPeak } from "../../planner/cost/compute.js";
import { moeLayerTimes } from "../../planner/cost/moe-time.js";
import { recomputeTpShare } from "../../planner/cost/module-recompute.js";
import { rankImbalanceOf } from "../../planner/cost/moe-facts.js";
import { recomputeFlopsPerStep } from "../../planner/cost/flops.js";
import { evaluatePlan, microBatchCosts } from "../../planner/evaluate.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { simulate } from "../../planner/sim/simulate.js";
import { wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { degreesOf } from "../../planner/layout/layout.js";
import { ROOT, readJson } from "./fixtures.js";
import { wireOf } from "../../planner/wire/wire.js";
import { parseEngineFile, recomputeModulesRefusal, type Engine, type RecomputeModule } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const core = loadEngine("megatron-core", undefined);
const H100 = hardware("dgx-h100");
const withModules = (modules: RecomputeModule[], e: Engine = core): Engine => ({ ...e, recomputeModules: modules });
const training = (e: Engine, extra: Partial<Training> = {}): Training => ({
  gpus: 8, globalBatch: 8, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e, ...extra,
});
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, ...p });

describe("what each module drops from a layer's saved tensors (Korthikanti et al. 2022 §4.1 list)", () => {
  const llama = preset("llama3-8b"); // h 4096, 32 heads, 8 KV heads of 128, SwiGLU f 14336, no dropout
  const sbh = 4096 * 1 * 4096;
  it("llama3-8b, tp 1: none keeps 34·sbh (norm inputs 4, QKV and MLP inputs 2 + 2, Q 2, K and V 2·2·¼, output 2, gate/up/product 3·2·3.5); mlp drops its input 2 and the 21 of the f-wide tensors", () => {
    const o = (e: Engine, recompute: Plan["recompute"]) => activationOptions(training(e), plan({ recompute }));
    expect(layerActivationBytes(llama, 1, o(core, "none"))).toBe(34 * sbh);
    // the default, the attention core alone, drops nothing under a fused kernel
    expect(layerActivationBytes(llama, 1, o(core, "selective"))).toBe(34 * sbh);
    expect(layerActivationBytes(llama, 1, o(withModules(["core_attn", "mlp"]), "selective"))).toBe(11 * sbh);
    // a dense model's norms are fused into the next linear (IdentityOp in TE's spec): layernorm drops nothing
    expect(layerActivationBytes(llama, 1, o(withModules(["layernorm"]), "selective"))).toBe(34 * sbh);
    // the recompute working set: what mlp dropped, rebuilt one layer at a time
    expect(recomputeWorkingBytes(llama, 1, o(withModules(["mlp"]), "selective"))).toBe(23 * sbh);
  });
  it("unfused attention: the scores stay where core_attn is not named (5as²b without… 2as²b: llama has no dropout)", () => {
    const t = training(withModules(["mlp"]), { fusedAttention: false });
    const scores = 2 * 32 * 4096 * 4096;
    const none = layerActivationBytes(llama, 1, activationOptions(t, plan({ recompute: "none" })));
    expect(none).toBe(34 * sbh + scores);
    expect(layerActivationBytes(llama, 1, activationOptions(t, plan({ recompute: "selective" })))).toBe(11 * sbh + scores);
  });
  it("tp 4 with sequence parallelism: mlp's dropped input is a quarter, its f-wide tensors a quarter", () => {
    const o = activationOptions(training(withModules(["mlp"])), plan({ tp: 4, sequenceParallel: true, recompute: "selective" }));
    expect(layerActivationBytes(llama, 1, o)).toBe((11 * sbh) / 4);
  });

  const lite = preset("deepseek-v2-lite"); // h 2048, 16 heads, MLA: no r_q, r_kv 512, d_n 128, d_r 64, d_v 128; 64 experts, top 6, f_e 1408, 2 shared
  const t = (e: Engine) => training(e);
  const p = plan({ recompute: "selective" });
  const moeBytes = (e: Engine) => moeLayerActivationBytes(lite, t(e), p, activationOptions(t(e), p));
  it("DeepSeek-V2-Lite MoE layer: moe_act drops each routed row's activation output, 2·f_e bytes: 4096 tokens × 6 copies × 2 × 1408 at ep 1", () => {
    expect(moeBytes(core) - moeBytes(withModules(["core_attn", "moe_act"]))).toBe(4096 * 6 * 2 * 1408);
  });
  it("layernorm drops MLA's input-norm output and the MoE layer's pre-MLP-norm output, 2sbh each; a dense MLA layer only the first", () => {
    const lsbh = 4096 * 2048;
    expect(moeBytes(core) - moeBytes(withModules(["core_attn", "layernorm"]))).toBe(4 * lsbh);
    const dense = (e: Engine) => layerActivationBytes(lite, 1, activationOptions(t(e), p));
    expect(dense(core) - dense(withModules(["core_attn", "layernorm"]))).toBe(2 * lsbh);
  });
  it("mla_up_proj drops Q and K (n_h(d_n+d_r) = 3072 wide) and V (n_h·d_v = 2048) at 2 bytes: 16,384 bytes a token", () => {
    expect(moeBytes(core) - moeBytes(withModules(["core_attn", "mla_up_proj"]))).toBe(4096 * (2 * 3072 + 2 * 3072 + 2 * 2048));
  });
  it("shared_experts drops the shared experts' gate, up and product: 3 × 2 × (2 × 1408) bytes a token", () => {
    expect(moeBytes(core) - moeBytes(withModules(["core_attn", "shared_experts"]))).toBe(4096 * 3 * 2 * 2816);
  });
  it("moe keeps the MoE block's input alone: the routed copies (4h + 2·3·f_e bytes each, 6 a token), the router's fp32 logits and probabilities (8·64 a token) and the shared experts' tensors dropped", () => {
    const routed = 4096 * 6 * (4 * 2048 + 2 * 3 * 1408);
    const router = 4096 * 8 * 64;
    const shared = 4096 * 3 * 2 * 2816;
    expect(moeBytes(core) - moeBytes(withModules(["core_attn", "moe"]))).toBe(routed + router + shared);
    // with moe_act or shared_experts beside it, nothing is dropped twice
    expect(moeBytes(withModules(["core_attn", "moe", "moe_act", "shared_experts"]))).toBe(moeBytes(withModules(["core_attn", "moe"])));
  });
});

describe("what the modules re-run", () => {
  const llama = preset("llama3-8b");
  it("llama3-8b mlp at tp 1: the two MLP GEMMs, SwiGLU's 6 bytes an element and the fused norm's 4 bytes an element of h", () => {
    const t = training(withModules(["core_attn", "mlp"]));
    const T = 4096;
    const peak = matmulPeak(H100, "bf16", core);
    const expected = gemmTime(H100, peak, T, 14336, 4096, 2) + gemmTime(H100, peak, T, 4096, 14336, 1) + hbm(H100, 6 * T * 14336) + hbm(H100, 4 * T * 4096);
    const base = layerTimes(llama, H100, training(core), 1, 1, false);
    const modules = layerTimes(llama, H100, t, 1, 1, false);
    expect(modules.selectiveRecompute - base.selectiveRecompute).toBeCloseTo(expected, 12);
    expect(modules.forward).toBe(base.forward);
  });
  it("DeepSeek-V2-Lite moe_act: the routed rows' activation again, 6 bytes an element of f_e", () => {
    const lite = preset("deepseek-v2-lite");
    const ep = plan({ dp: 8, ep: 8 });
    const base = moeLayerTimes(lite, H100, training(core), ep);
    const act = moeLayerTimes(lite, H100, training(withModules(["core_attn", "moe_act"])), ep);
    // busiest rank: ρ · 4096 · 6 rows (ρ the busiest rank's share at ep 8, moe-facts.ts), each
    // reading gate and up (4 bytes) and writing the product (2) over f_e = 1408
    const rows = rankImbalanceOf(training(core), 8) * 4096 * 6;
    expect(act.selectiveRecompute - base.selectiveRecompute).toBeCloseTo(hbm(H100, rows * 6 * 1408), 15);
  });
  it("the tp collectives again: half a pass for each layer whose MLP or shared experts re-run", () => {
    const lite = preset("deepseek-v2-lite"); // 27 layers, the first dense
    expect(recomputeTpShare(lite, withModules(["mlp", "shared_experts"]), { recompute: "selective", pp: 1 })).toBe(0.5);
    expect(recomputeTpShare(lite, withModules(["mlp"]), { recompute: "selective", pp: 1 })).toBeCloseTo(0.5 / 27, 15);
    expect(recomputeTpShare(lite, core, { recompute: "selective", pp: 1 })).toBe(0);
    expect(recomputeTpShare(lite, core, { recompute: "full", pp: 1 })).toBe(1);
    const t = training(withModules(["mlp"]), { gpus: 8 });
    const p = plan({ tp: 8, sequenceParallel: true, recompute: "selective" });
    const calls = (tt: Training) => wireOf(llama, tt, p, wireLinks(H100, place(H100, degreesOf(p)))).find((i) => i.id === "tp-layer")!.calls;
    // 8 micro-batches × 32 layers × 2 of each kind a pass × (2 + ½) passes
    expect(calls(t)).toBe(8 * 32 * 2 * 2.5);
    expect(calls(training(core))).toBe(8 * 32 * 2 * 2);
  });
  it("recompute FLOPs: mlp adds each layer's MLP GEMMs, 2·3·h·f a token, to the attention cores", () => {
    const tok = { globalBatch: 8, seqLen: 4096 };
    const extra = recomputeFlopsPerStep(llama, { ...tok, engine: withModules(["core_attn", "mlp"]) }, "selective") - recomputeFlopsPerStep(llama, { ...tok, engine: core }, "selective");
    expect(extra).toBe(32 * 8 * 4096 * 2 * 3 * 4096 * 14336);
  });
});

describe("a plan under the modules: memory falls, the step grows, the simulator agrees", () => {
  it("DeepSeek-V2-Lite on 8 H100, ep 8: Megatron's recommended mla_up_proj layernorm moe_act lies between the attention core alone and full recompute", () => {
    const lite = preset("deepseek-v2-lite");
    const p = plan({ dp: 8, ep: 8, zero: 1, microBatch: 1, recompute: "selective" });
    const run = (e: Engine, q: Plan = p) => {
      const tt = training(e, { globalBatch: 64 });
      return evaluatePlan(lite, H100, tt, q, microBatchCosts(lite, H100, tt, q));
    };
    const base = run(core);
    const rec = run(withModules(["mla_up_proj", "layernorm", "moe_act"]));
    const full = run(core, { ...p, recompute: "full" });
    expect(rec.memory.activations).toBeLessThan(base.memory.activations);
    expect(rec.memory.activations).toBeGreaterThan(full.memory.activations);
    expect(rec.time.recompute).toBeGreaterThan(0);
    expect(rec.time.recompute).toBeLessThan(full.time.recompute);
    const tt = training(withModules(["mla_up_proj", "layernorm", "moe_act"]), { globalBatch: 64 });
    expect(simulate(lite, H100, tt, p).step / rec.time.step).toBeCloseTo(1, 2);
  });
  it("llama3-8b tp 8 with mlp: the step pays the MLP again and its collectives, the simulator the same", () => {
    const llama = preset("llama3-8b");
    const p = plan({ tp: 8, sequenceParallel: true, recompute: "selective" });
    const tt = training(withModules(["core_attn", "mlp"]));
    const a = evaluatePlan(llama, H100, tt, p, microBatchCosts(llama, H100, tt, p));
    const b = evaluatePlan(llama, H100, training(core), p, microBatchCosts(llama, H100, training(core), p));
    expect(a.time.tpComm / b.time.tpComm).toBeCloseTo(2.5 / 2, 6);
    expect(a.time.recompute).toBeGreaterThan(b.time.recompute);
    expect(simulate(llama, H100, tt, p).step / a.time.step).toBeCloseTo(1, 2);
  });
});

describe("moe: the MoE block again, its all-to-alls a third time", () => {
  const lite = preset("deepseek-v2-lite");
  const p = plan({ dp: 8, ep: 8, zero: 1, recompute: "selective" });
  const t = (e: Engine) => training(e, { globalBatch: 64 });
  it("the wire's dispatch and combine run 3 passes, as under full recompute; the tp share is half a pass on each MoE layer", () => {
    const calls = (e: Engine, q: Plan = p) => wireOf(lite, t(e), q, wireLinks(H100, place(H100, degreesOf(q)))).find((i) => i.id === "ep-dispatch")!.calls;
    expect(calls(withModules(["moe"])) / calls(core)).toBe(1.5);
    expect(calls(withModules(["moe"]))).toBe(calls(core, { ...p, recompute: "full" }));
    expect(recomputeTpShare(lite, withModules(["moe"]), { recompute: "selective", pp: 1 })).toBeCloseTo((0.5 * 26) / 27, 15);
  });
  it("the recompute re-runs the router, the routed experts, the shared experts and the block's memory-bound work: less than a full recompute, more than moe_act; the step's all-to-alls grow by half; the simulator agrees", () => {
    const run = (e: Engine, q: Plan = p) => evaluatePlan(lite, H100, t(e), q, microBatchCosts(lite, H100, t(e), q));
    const moe = run(withModules(["moe"]));
    const act = run(withModules(["moe_act"]));
    const full = run(core, { ...p, recompute: "full" });
    const none = run(core, { ...p, recompute: "none" });
    expect(moe.time.recompute).toBeGreaterThan(act.time.recompute);
    expect(moe.time.recompute).toBeLessThan(full.time.recompute);
    expect(moe.time.epComm / none.time.epComm).toBeCloseTo(1.5, 9);
    expect(moe.memory.activations).toBeLessThan(act.memory.activations);
    expect(simulate(lite, H100, t(withModules(["moe"])), p).step / moe.time.step).toBeCloseTo(1, 2);
    // hardware FLOPs: the router's and the experts' GEMMs again, 2·T·(h·E + k·3·h·f_e) a token
    const tok = { globalBatch: 64, seqLen: 4096 };
    const extra = recomputeFlopsPerStep(lite, { ...tok, engine: withModules(["moe"]) }, "selective") - recomputeFlopsPerStep(lite, { ...tok, engine: withModules(["shared_experts"]) }, "selective");
    expect(extra).toBe(26 * 64 * 4096 * 2 * (2048 * 64 + 6 * 3 * 2048 * 1408));
  });
});

describe("where the modules cannot be priced", () => {
  it("refused on a model without what they name, or on an engine whose selective recompute is another rule", () => {
    const titan = loadEngine("torchtitan", undefined);
    expect(recomputeModulesRefusal(["mla_up_proj"], core, preset("llama3-8b"))).toContain("multi-latent attention");
    expect(recomputeModulesRefusal(["moe_act"], core, preset("llama3-8b"))).toContain("no experts");
    expect(recomputeModulesRefusal(["moe"], core, preset("llama3-8b"))).toContain("no experts");
    expect(recomputeModulesRefusal(["shared_experts"], core, preset("mixtral-8x7b"))).toContain("has none");
    expect(recomputeModulesRefusal(["layernorm"], titan, preset("llama3-8b"))).toContain("alternate-matmuls");
    expect(recomputeModulesRefusal(["mlp"], loadEngine("megatron-2021", undefined), preset("llama3-8b"))).toContain("no selective recompute");
    expect(recomputeModulesRefusal(["layernorm", "moe_act", "mla_up_proj"], core, preset("deepseek-v2-lite"))).toBeNull();
    // (QA) what Megatron runs as nothing: mlp where every layer is MoE, layernorm where TE fuses
    // every norm (no latent attention, no MoE layer); DeepSeek-V2-Lite's dense first layer has an MLP
    expect(recomputeModulesRefusal(["mlp"], core, preset("mixtral-8x7b"))).toContain("every layer of the model is an MoE layer");
    expect(recomputeModulesRefusal(["mlp", "shared_experts"], core, preset("deepseek-v2-lite"))).toBeNull();
    expect(recomputeModulesRefusal(["core_attn", "layernorm"], core, preset("llama3-8b"))).toContain("fused into the next linear");
    expect(recomputeModulesRefusal(["layernorm"], core, preset("mixtral-8x7b"))).toBeNull();
  });
  it("an engine file: the list on a per-op SAC engine, or a module twice, is bad input naming the field", () => {
    const file = (name: string) => readJson(`${ROOT}/profiles/engines/${name}.json`) as Record<string, Record<string, unknown>>;
    const meg = file("megatron-core");
    const bad = parseEngineFile({ ...meg, activations: { ...meg.activations, selectiveRecompute: "alternate-matmuls", recomputeModules: ["layernorm"] } }, "x.json");
    expect(!bad.ok && bad.message).toContain("activations.recomputeModules");
    const twice = parseEngineFile({ ...meg, activations: { ...meg.activations, recomputeModules: ["mlp", "mlp"] } }, "x.json");
    const good = parseEngineFile({ ...meg, activations: { ...meg.activations, recomputeModules: { value: ["layernorm", "moe_act"], source: "Megatron MoE README" } } }, "x.json");
    expect(good.ok && good.value.recomputeModules).toEqual(["layernorm", "moe_act"]);
    expect(!twice.ok && twice.message).toContain("twice");
    // (QA) on a stack with no selective recompute (megatron-2021's "layers") the list changes nothing
    const layers = parseEngineFile({ ...meg, recompute: "layers", activations: { ...meg.activations, recomputeModules: ["mlp"] } }, "x.json");
    expect(!layers.ok && layers.message).toContain('field "activations.recomputeModules": the engine runs no selective recompute (recompute "layers")');
    const overlap = parseEngineFile({ ...meg, moe: { ...meg.moe, sharedExpertOverlap: { dispatch: "up", combine: "down", backward: true } }, activations: { ...meg.activations, recomputeModules: ["shared_experts"] } }, "x.json");
    expect(!overlap.ok && overlap.message).toContain("shared_experts beside moe.sharedExpertOverlap, which Megatron refuses");
  });
});
