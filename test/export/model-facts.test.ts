// The model facts that do not change cost travel with every export, under the argument its
// recorded release has, and come back when the export is read back: the whole model, not only
// the parallel layout. Where a release cannot state the model, the export is refused with why.
import { afterAll, describe, expect, it } from "vitest";
import type { ModelSpec } from "../../planner/index.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { type ClaimField, modelFact } from "../../src/engines/read-config.js";
import { h100, model, plan, refusalMessage, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

const WHOLE: ClaimField[] = ["layers", "hidden", "heads", "kvHeads", "ffnHidden", "mlp", "positional", "tiedEmbeddings", "dropout", "normalization", "normEps"];
const ROPE: ClaimField[] = ["ropeTheta", "ropeScaling"];
const tp2 = plan({ tp: 2, pp: 2, zero: 1 }); // needs Megatron-DeepSpeed's arguments
const GEMMA_LIKE: ModelSpec = { ...model("llama3-8b"), name: "wide-heads", headDim: 256, heads: 16, kvHeads: 8, hidden: 3584, normEps: 1e-6 };

function readBack(format: "megatron" | "deepspeed", m: ModelSpec, release?: string) {
  const r = exportPlan(format, m, tp2, training(), h100, release ? { release } : {});
  const paths = r.files.map((f) => tempFile(`${format}-${release}-${m.name}-${f.name}`, f.content));
  return readConfigs(paths, { model: m, gpus: 64, defaultGpus: 64, defaultGpusFrom: "test" });
}

/** Megatron-LM's arguments also say the query/key norm, and beside --disable-bias-linear the Q/K/V
 *  biases (Megatron-DeepSpeed has neither argument). The head width comes back either way: stated
 *  (--kv-channels) or, without it, hidden/heads as validate_args derives it (arguments.py:753-755
 *  @ core_v0.14.0), which is the model's h/a (planner/model.ts headDim). */
function expectWholeModel(m: ModelSpec, claims: { field: ClaimField; value: unknown }[], format: "megatron" | "deepspeed" = "megatron") {
  const qk: ClaimField[] = format === "megatron" ? ["qkNorm", ...(m.positional === "rope" ? (["qkvBias"] as ClaimField[]) : [])] : [];
  const fields = [...WHOLE, ...(m.positional === "rope" ? ROPE : []), "headDim" as ClaimField, ...qk];
  const back = Object.fromEntries(claims.map((c) => [c.field, c.value]));
  expect(back).toEqual(Object.fromEntries(fields.map((f) => [f, modelFact(m, f)])));
}

describe("presets carry the published facts (HF config.json of each model)", () => {
  it("Llama 2: θ 10,000, eps 1e-5; Llama 3: θ 500,000, eps 1e-5; Llama 3.1 405B: llama3 scaling 8/1/4/8192; GPT-3: learned, LayerNorm eps 1e-5", () => {
    for (const n of ["llama2-7b", "llama2-13b", "llama2-70b"]) expect(model(n)).toMatchObject({ ropeTheta: 10000, normEps: 1e-5 });
    for (const n of ["llama3-8b", "llama3-70b"]) expect(model(n)).toMatchObject({ ropeTheta: 500000, normEps: 1e-5, tiedEmbeddings: false });
    expect(model("llama3-8b").ropeScaling).toBeUndefined();
    expect(model("llama3-405b")).toMatchObject({ ropeTheta: 500000, normEps: 1e-5, ropeScaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } });
    expect(model("gpt3-175b")).toMatchObject({ positional: "learned", normEps: 1e-5 });
    expect(model("gpt3-175b").ropeTheta).toBeUndefined();
  });
});

describe("Megatron-LM core_r0.14 and Megatron-DeepSpeed: the whole model comes back", () => {
  for (const name of ["llama3-70b", "llama3-405b", "llama2-70b", "gpt3-175b"])
    it(`${name}`, () => {
      const m = model(name);
      const r = readBack("megatron", m);
      expectWholeModel(m, r.claims);
      if (m.ropeScaling === undefined) expectWholeModel(m, readBack("deepspeed", m).claims, "deepspeed");
    });
  it("a head width that is not hidden/heads travels as --kv-channels", () => {
    expectWholeModel(GEMMA_LIKE, readBack("megatron", GEMMA_LIKE).claims);
    expectWholeModel(GEMMA_LIKE, readBack("deepspeed", GEMMA_LIKE).claims, "deepspeed");
  });
  it("Llama 3 70B's arguments say --rotary-base 500000 and --norm-epsilon; Megatron-DeepSpeed's its own names", () => {
    const a = exportPlan("megatron", model("llama3-70b"), tp2, training(), h100).files[0]!.content;
    expect(a).toContain("\n--rotary-base 500000\n");
    expect(a).toContain("\n--norm-epsilon 0.00001\n");
    const d = exportPlan("deepspeed", model("llama3-70b"), tp2, training(), h100).files.find((f) => f.name.endsWith(".txt"))!.content;
    expect(d).toContain("\n--rotary-position-embeddings-theta 500000\n");
    expect(d).toContain("\n--layernorm-epsilon 0.00001\n");
  });
  it("a configuration without the rotary base reads as 10,000 and is not Llama 3", () => {
    const path = tempFile("no-base.txt", "--num-layers 80 --hidden-size 8192 --num-attention-heads 64 --group-query-attention --num-query-groups 8 --ffn-hidden-size 28672 --swiglu --position-embedding-type rope --untie-embeddings-and-output-weights --micro-batch-size 1 --tensor-model-parallel-size 8");
    expect(() => readConfigs([path], { model: model("llama3-70b"), gpus: 64, defaultGpus: 64, defaultGpusFrom: "test" })).toThrow(
      "no --rotary-base (the engine's default 10000) but the model llama3-70b has ropeTheta 500000",
    );
  });
});

describe("releases that cannot state the model refuse it", () => {
  const refused = refusalMessage;
  it("core_v0.7 has no --rotary-base: Llama 3 refused, Llama 2 exported", () => {
    expect(refused(() => exportPlan("megatron", model("llama3-70b"), tp2, training(), h100, { release: "core_v0.7" }))).toContain(
      "no --rotary-base: its RoPE base is fixed at 10,000 and llama3-70b's is 500,000",
    );
    expectWholeModel(model("llama2-70b"), readBack("megatron", model("llama2-70b"), "core_v0.7").claims);
  });
  it("Megatron-DeepSpeed has no RoPE scaling; no Megatron has a GELU-gated MLP or paraplan's windows", () => {
    expect(refused(() => exportPlan("deepspeed", model("llama3-405b"), tp2, training(), h100))).toContain("no RoPE scaling arguments");
    const geglu = { ...model("llama3-8b"), mlp: "geglu" as const };
    expect(refused(() => exportPlan("megatron", geglu, tp2, training(), h100))).toContain("no GELU-gated MLP");
    const window = { ...model("llama3-8b"), slidingWindow: 4096, slidingWindowLayers: 16 };
    expect(refused(() => exportPlan("megatron", window, tp2, training(), h100))).toContain("sliding-window");
  });
  it("a ds_config alone, torchtitan's files and the launch spec say or carry the facts", () => {
    const ds = exportPlan("deepspeed", model("llama3-70b"), plan({ zero: 3 }), training(), h100);
    expect(ds.notes.join(" ")).toContain("rotary base 500000");
    const titan = exportPlan("torchtitan", model("llama3-405b"), plan({}), training(), h100).files[0]!.content;
    expect(titan).toContain("rotary base 500000, rope scaling llama3 factor 8, low 1, high 4, original 8192, norm epsilon 0.00001");
    const spec = JSON.parse(exportPlan("torchrun", model("llama3-405b"), plan({}), training(), h100).files.find((f) => f.name === "launch.json")!.content);
    expect(spec.model).toMatchObject({ ropeTheta: 500000, ropeScaling: { type: "llama3", factor: 8 } });
    expect(spec.model.normEps).toBeUndefined(); // 1e-5: the worker's default (PROTOCOL.md)
    const gemmaLike = JSON.parse(exportPlan("torchrun", GEMMA_LIKE, plan({}), training(), h100).files.find((f) => f.name === "launch.json")!.content);
    expect(gemmaLike.model).toMatchObject({ headDim: 256, normEps: 1e-6, ropeTheta: 500000 });
  });
});

// Qwen2's Q/K/V biases and Qwen3's per-head query/key norm (QA: the Megatron export wrote
// --disable-bias-linear alone, a model without the biases, and no --qk-layernorm).
describe("Q/K/V biases and query/key norms", () => {
  const refused = refusalMessage;
  const QWEN2: ModelSpec = { ...model("llama3-8b"), name: "qwen2-like", qkvBias: true };
  const QWEN3: ModelSpec = { ...model("llama3-8b"), name: "qwen3-like", qkNorm: "head" };
  it("Megatron-LM writes --add-qkv-bias and --qk-layernorm, and reads them back as the model", () => {
    const a = exportPlan("megatron", QWEN2, tp2, training(), h100).files[0]!.content;
    expect(a).toContain("\n--disable-bias-linear\n--add-qkv-bias\n");
    expect(exportPlan("megatron", QWEN3, tp2, training(), h100).files[0]!.content).toContain("\n--qk-layernorm\n");
    expectWholeModel(QWEN2, readBack("megatron", QWEN2).claims);
    expectWholeModel(QWEN3, readBack("megatron", QWEN3).claims);
    // read against a model without them, the flags are a contradiction named by flag
    const path = tempFile("qwen2-args.txt", a);
    expect(() => readConfigs([path], { model: model("llama3-8b"), gpus: 64, defaultGpus: 64, defaultGpusFrom: "test" })).toThrow("--add-qkv-bias but the model llama3-8b has qkvBias false");
  });
  it("what cannot state them refuses the model: Megatron-DeepSpeed, llm-foundry's MPT, Megatron's per-head norm for OLMo 2's", () => {
    expect(refused(() => exportPlan("deepspeed", QWEN2, tp2, training(), h100))).toContain("biases on Q, K and V only");
    expect(refused(() => exportPlan("deepspeed", QWEN3, tp2, training(), h100))).toContain("normalises queries and keys per head");
    expect(refused(() => exportPlan("llm-foundry", QWEN2, plan({ zero: 3 }), training(), h100))).toContain("biases on every linear layer or none");
    expect(refused(() => exportPlan("megatron", { ...QWEN3, qkNorm: "full" }, tp2, training(), h100))).toContain("over the whole projections (OLMo 2)");
    // paraplan's worker builds both: the launch spec carries them (executor/PROTOCOL.md)
    const spec = JSON.parse(exportPlan("torchrun", { ...QWEN2, qkNorm: "head" }, plan({}), training(), h100).files.find((f) => f.name === "launch.json")!.content);
    expect(spec.model).toMatchObject({ qkvBias: true, qkNorm: "head" });
    // torchtitan's job names a registered model: the facts go in words
    expect(exportPlan("torchtitan", QWEN3, plan({}), training(), h100).files[0]!.content).toContain("RMSNorm on queries and keys over each head's channels");
  });
});

