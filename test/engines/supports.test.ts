// The parallelisms each engine's stack runs (Engine.supports, profiles/engines/*.json): the search
// tries only those, a fixed dimension outside them is bad input naming its flag, and a profile
// that extends another may change them.
import { describe, expect, it } from "vitest";
import { search } from "../../planner/search.js";
import { checkFixed, checkTraining } from "../../planner/constraints.js";
import { spCandidates, tpCandidates, zeroCandidates } from "../../planner/space.js";
import { MEGATRON_SUPPORTS, type Engine } from "../../planner/engine.js";
import { parseEngineFile, resolveExtends } from "../../planner/index.js";
import type { Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { readFileSync } from "node:fs";

const engine = (name: string): Engine => loadEngine(name, undefined);
/** megatron-deepspeed as DeepSpeed 0.6–0.9 ran it: ZeRO-0 alone beside a pipeline under bf16. */
const oldDs: Engine = (() => {
  const e = engine("megatron-deepspeed");
  return { ...e, supports: { ...e.supports, zeroWithPipelineUnderBf16: [0] }, sources: { ...e.sources, "supports.zeroWithPipelineUnderBf16": "_exec_reduce_grads raises NotImplementedError for bf16 at stage 1 (deepspeed/runtime/pipe/engine.py @ v0.6.5)" } };
})();
const h100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, seqLen: number, e: Engine): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: e.attention.kernel !== "materialised", overlapGradReduce: e.dataParallel.overlapGradReduce, engine: e,
});
const plansOf = (name: string, e: Engine, gpus: number, batch: number, seq: number, precision: Training["precision"] = "bf16") =>
  search(preset(name), h100, { ...training(gpus, batch, seq, e), precision }, {}, { top: 1, keepAll: true }).all ?? [];

describe("the search tries only what the stack runs", () => {
  it("fsdp (llm-foundry): data parallel alone, ZeRO 0, 2 or 3 — no tp, pp, sp or ZeRO-1", () => {
    const all = plansOf("gpt3-1.3b", engine("fsdp"), 64, 512, 2048);
    expect(all.length).toBeGreaterThan(0);
    for (const p of all) {
      expect([p.tp, p.pp, p.cp, p.sequenceParallel]).toEqual([1, 1, 1, false]);
      expect([0, 2, 3]).toContain(p.zero);
    }
    expect(new Set(all.map((p) => p.zero))).toEqual(new Set([0, 2, 3]));
  });
  it("fsdp: recompute whole MPT blocks or nothing (activation_checkpointing), never selective; torchtitan all three", () => {
    expect(new Set(plansOf("gpt3-1.3b", engine("fsdp"), 64, 512, 2048).map((p) => p.recompute))).toEqual(new Set(["none", "full"]));
    expect(new Set(plansOf("llama3-8b", engine("torchtitan"), 64, 512, 4096).map((p) => p.recompute))).toEqual(new Set(["none", "selective", "full"]));
    // Megatron-LM and DeepSpeed of 2021: --checkpoint-activations or not (the search tried full
    // only, and --from told a DeepSpeed user without recompute to turn it on, 23 % slower)
    expect(new Set(plansOf("gpt3-13b", engine("megatron-2021"), 64, 256, 2048).map((p) => p.recompute))).toEqual(new Set(["none", "full"]));
    expect(new Set(plansOf("gpt3-1.3b", engine("megatron-deepspeed"), 8, 32, 2048).map((p) => p.recompute))).toEqual(new Set(["none", "full"]));
  });
  it("megatron-deepspeed: ZeRO 0 or 1 beside a pipeline (DeepSpeed's pipeline engine asserts it), 0 alone there under bf16 (its bf16 reduction at stage 1 raises), any stage without; never sequence parallel", () => {
    const all = plansOf("gpt3-13b", engine("megatron-deepspeed"), 64, 256, 2048, "fp16");
    const piped = all.filter((p) => p.pp > 1);
    const flat = all.filter((p) => p.pp === 1 && p.dp > 1);
    expect(piped.length).toBeGreaterThan(0);
    expect(new Set(piped.map((p) => p.zero))).toEqual(new Set([0, 1]));
    expect(new Set(flat.map((p) => p.zero))).toEqual(new Set([0, 1, 2, 3]));
    expect(all.some((p) => p.sequenceParallel)).toBe(false);
    // DeepSpeed 0.6–0.9's pipeline engine reduces bf16 gradients at stage 0 only
    // (pipe/engine.py _exec_reduce_grads @ v0.6.5): an engine file says so
    const bf16 = plansOf("gpt3-13b", oldDs, 64, 256, 2048);
    expect(new Set(bf16.filter((p) => p.pp > 1).map((p) => p.zero))).toEqual(new Set([0]));
    expect(new Set(plansOf("gpt3-13b", engine("megatron-deepspeed"), 64, 256, 2048).filter((p) => p.pp > 1).map((p) => p.zero))).toEqual(new Set([0, 1]));
    expect(new Set(bf16.filter((p) => p.pp === 1 && p.dp > 1).map((p) => p.zero))).toEqual(new Set([0, 1, 2, 3]));
  });
  it("torchtitan: sequence parallel whenever tp > 1, FSDP (2: \"never\", 3) or DDP (0) without a pipeline, no all-to-all context parallel", () => {
    const all = plansOf("llama3-8b", engine("torchtitan"), 64, 64, 65536);
    const tp = all.filter((p) => p.tp > 1);
    expect(tp.length).toBeGreaterThan(0);
    expect(tp.every((p) => p.sequenceParallel)).toBe(true);
    expect(new Set(all.filter((p) => p.pp === 1 && p.dp * p.cp > 1).map((p) => p.zero))).toEqual(new Set([2, 3]));
    // DDP (ZeRO-0) beside tp or pp would train in fp32 (maybe_enable_amp): never searched
    expect(all.some((p) => (p.tp > 1 || p.pp > 1) && p.cp === 1 && p.zero === 0)).toBe(false);
    const cp = all.filter((p) => p.cp > 1);
    expect(cp.length).toBeGreaterThan(0);
    expect(new Set(cp.map((p) => p.cpComm))).toEqual(new Set(["ring", "allgather"]));
  });
  it("a fixed ZeRO stage is searched only beside the pipelines the stack runs it with (--zero 3, pp free)", () => {
    for (const name of ["megatron-core", "torchtitan", "paraplan", "megatron-deepspeed"]) {
      const e = engine(name);
      const r = search(preset("llama3-70b"), h100, training(64, 512, 4096, e), { zero: 3 }, { top: 1, keepAll: true });
      const all = r.all ?? [];
      expect(all.length, name).toBeGreaterThan(0);
      // (dp 1: nothing to shard, the stage is ZeRO-0 under another name and evaluated as asked)
      expect(all.filter((p) => p.pp > 1 && p.dp * p.cp > 1), name).toEqual([]);
      expect(new Set(all.map((p) => p.zero)), name).toEqual(new Set([3]));
    }
    // ZeRO-1 beside a pipeline, which they all run: pipelines are searched.
    const piped = search(preset("llama3-70b"), h100, training(64, 512, 4096, engine("torchtitan")), { zero: 1 }, { top: 1, keepAll: true }).all ?? [];
    expect(piped.some((p) => p.pp > 1)).toBe(true);
  });
  it("megatron-core, the default: every parallelism, ZeRO 0 or 1 beside a pipeline (MEGATRON_SUPPORTS, as no engine)", () => {
    expect(engine("megatron-core").supports).toEqual({ ...MEGATRON_SUPPORTS, contextParallel: ["ring", "allgather", "a2a"] });
  });
  it("candidate lists: fixed values are kept as given (the application layer refuses them)", () => {
    const fsdp = engine("fsdp");
    const m = preset("llama3-8b");
    const t = training(64, 512, 4096, fsdp);
    expect(tpCandidates(m, t, {})).toEqual([1]);
    expect(tpCandidates(m, t, { tp: 8 })).toEqual([8]);
    expect(zeroCandidates({}, 64, 1, fsdp)).toEqual([0, 2, 3]);
    expect(zeroCandidates({}, 1, 1, fsdp)).toEqual([0]);
    expect(zeroCandidates({ zero: 1 }, 64, 1, fsdp)).toEqual([1]);
    // Beside a pipeline a fixed stage the engine does not run there leaves that pipeline out (pp is
    // searched; checkFixed refuses it when pp is fixed too); without an engine it is evaluated.
    expect(zeroCandidates({ zero: 3 }, 64, 2, engine("torchtitan"))).toEqual([]);
    expect(zeroCandidates({ zero: 1 }, 64, 2, engine("torchtitan"))).toEqual([1]);
    expect(zeroCandidates({ zero: 3 }, 64, 2)).toEqual([3]);
    expect(spCandidates({}, 4, false, "always")).toEqual([true]);
    expect(spCandidates({}, 4, false, "never")).toEqual([false]);
    expect(spCandidates({}, 4, false, "optional")).toEqual([false, true]);
  });
});

describe("a fixed dimension the engine cannot run is bad input naming its flag", () => {
  const m = preset("llama3-8b");
  const issue = (name: string, fixed: Parameters<typeof checkFixed>[2]) => checkFixed(m, training(64, 512, 4096, engine(name)), fixed, 8);
  it.each([
    ["fsdp", { tp: 2 }, "--tp", /does not run tensor parallel/],
    ["fsdp", { pp: 2 }, "--pp", /does not run pipeline parallel/],
    ["fsdp", { zero: 1 }, "--zero", /runs ZeRO stages 0, 2, 3, not 1/],
    ["megatron-deepspeed", { pp: 4, zero: 3 }, "--zero", /runs ZeRO stages 0, 1 beside a pipeline, not 3.*pipe\/engine\.py/],
    ["megatron-deepspeed", { tp: 2, sequenceParallel: true }, "--sequence-parallel", /does not run sequence parallel/],
    ["torchtitan", { tp: 2, sequenceParallel: false }, "--no-sequence-parallel", /always runs sequence parallel/],
    ["torchtitan", { cp: 2, cpComm: "a2a" }, "--cp-comm", /ring, allgather only, not a2a/],
    ["megatron-2021", { cp: 2 }, "--cp", /does not run context parallel/],
    ["megatron-core", { pp: 2, zero: 3 }, "--zero", /runs ZeRO stages 0, 1 beside a pipeline, not 3 \(.*Megatron-FSDP/],
    ["megatron-2021", { pp: 4, schedule: "zb1p" }, "--schedule", /runs the pipeline schedules 1f1b, interleaved, not zb1p/],
    ["megatron-deepspeed", { recompute: "selective" }, "--recompute", /has no selective recompute: it recomputes whole layers \(full\) or nothing/],
    ["fsdp", { recompute: "selective" }, "--recompute", /has no selective recompute.*MPTBlock/],
    ["fsdp", { vpp: 2 }, "--vpp", /does not run pipeline parallel \(vpp 2\)/],
    ["paraplan", { pp: 2, zero: 3 }, "--zero", /runs ZeRO stages 0, 1 beside a pipeline, not 3 \(torch\.distributed\.pipelining defers an FSDP2 stage's gradient reduction/],
    ["fsdp", { schedule: "zb1p" }, "--schedule", /does not run pipeline parallel \(no zb1p schedule\) \(.*Composer/],
    ["fsdp", { cpComm: "ring" }, "--cp-comm", /does not run context parallel/],
    ["megatron-2021", { cpSplit: "contiguous" }, "--cp-split", /does not run context parallel/],
  ] as const)("%s with %o: %s", (name, fixed, flag, message) => {
    const i = issue(name, fixed);
    expect(i?.code).toBe("engine_unsupported");
    expect(i?.flag).toBe(flag);
    expect(i?.message).toMatch(message);
    expect(i?.message).toMatch(new RegExp(`^engine ${name} `));
  });
  it("what the engine runs passes", () => {
    expect(issue("fsdp", { zero: 3, dp: 64 })).toBeNull();
    expect(issue("megatron-deepspeed", { pp: 4, zero: 1 })).toBeNull();
    expect(checkFixed(m, { ...training(64, 512, 4096, oldDs), precision: "fp16" }, { pp: 4, zero: 1 }, 8)).toBeNull();
    expect(checkFixed(m, training(64, 512, 4096, oldDs), { pp: 4, zero: 1 }, 8)?.message).toMatch(/runs ZeRO stage 0 beside a pipeline under bf16, not 1 .*NotImplementedError/);
    expect(issue("torchtitan", { tp: 2, sequenceParallel: true, pp: 2, zero: 1 })).toBeNull();
    expect(issue("megatron-core", { tp: 2, pp: 2, zero: 1, cp: 2, cpComm: "a2a" })).toBeNull();
    expect(issue("megatron-core", { pp: 1, zero: 3 })).toBeNull();
    expect(issue("paraplan", { pp: 2, zero: 1 })).toBeNull();
    expect(issue("torchtitan", { pp: 2, schedule: "zbv", recompute: "selective" })).toBeNull();
    expect(issue("megatron-2021", { pp: 1, schedule: "1f1b", recompute: "full" })).toBeNull();
    expect(issue("megatron-deepspeed", { recompute: "none" })).toBeNull();
    expect(issue("fsdp", { recompute: "full" })).toBeNull();
  });
});

describe("a precision the stack does not train in is bad input, not a plan priced as another run", () => {
  const m = preset("gpt3-1.3b"); // a model every engine builds
  const at = (name: string, precision: Training["precision"]) => checkTraining(m, h100, { ...training(64, 512, 4096, engine(name)), precision });
  it.each([
    ["megatron-2021", "fp8", /^engine megatron-2021 trains in fp16 or bf16, not fp8 \(.*Transformer Engine/],
    ["megatron-deepspeed", "fp8", /^engine megatron-deepspeed trains in fp16 or bf16, not fp8/],
    ["torchtitan", "fp16", /^engine torchtitan trains in bf16 or fp8, not fp16 \(training\.mixed_precision_param/],
    ["paraplan", "fp16", /^engine paraplan trains in bf16 or fp8, not fp16 \(the worker trains under bf16 autocast/],
  ] as const)("%s at %s: --precision refused, naming the engine and its source", (name, precision, message) => {
    const i = at(name, precision);
    expect(i?.code).toBe("engine_unsupported");
    expect(i?.flag).toBe("--precision");
    expect(i?.message).toMatch(message);
  });
  // An engine file with fp8.matmuls "none" and fp8 among its precisions (megatron-core's,
  // inherited) printed "fp8" above the bf16 step, to the digit.
  it("fp8 on a stack with no fp8 matmuls is refused", () => {
    const core = engine("megatron-core");
    const none = { ...core, name: "mine", fp8: { ...core.fp8, matmuls: "none" as const } };
    const i = checkTraining(m, h100, { ...training(64, 512, 4096, none), precision: "fp8" });
    expect([i?.code, i?.flag]).toEqual(["engine_unsupported", "--precision"]);
    expect(i?.message).toMatch(/^engine mine runs no fp8 matmuls \(fp8\.matmuls "none"\)/);
    expect(checkTraining(m, h100, { ...training(64, 512, 4096, none), precision: "bf16" })).toBeNull();
  });
  it("what each stack trains in passes", () => {
    for (const name of ["megatron-core", "fsdp", "torchtitan", "paraplan-compile"]) expect(at(name, "fp8"), name).toBeNull();
    for (const name of ["megatron-core", "fsdp", "megatron-2021", "megatron-deepspeed"]) expect(at(name, "fp16"), name).toBeNull();
    for (const name of ["torchtitan", "megatron-2021"]) expect(at(name, "bf16"), name).toBeNull();
  });
});

describe("a mixture-of-experts model under a stack without expert parallel is bad input", () => {
  const moe = (name: string) => checkTraining(preset("mixtral-8x7b"), h100, training(64, 64, 4096, engine(name)));
  // (megatron-deepspeed: DeepSpeed-MoE's einsum dispatch and capacity-padded experts, which
  // paraplan does not price; profiles/engines/megatron-deepspeed.json)
  it.each(["fsdp", "torchtitan", "megatron-2021", "megatron-deepspeed"])("%s: refused naming --engine and the profile's source", (name) => {
    const i = moe(name);
    expect(i?.code).toBe("engine_unsupported");
    expect(i?.flag).toBe("--engine");
    expect(i?.message).toMatch(new RegExp(`^engine ${name} runs no mixture-of-experts layers as paraplan prices them \\(.+\\), and mixtral-8x7b has 8 experts`));
  });
  it.each(["megatron-core", "paraplan"])("%s runs them", (name) => {
    expect(moe(name)).toBeNull();
  });
  it("a dense model passes under every engine", () => {
    for (const name of ["fsdp", "torchtitan", "megatron-deepspeed"]) expect(checkTraining(preset("llama3-8b"), h100, training(64, 64, 4096, engine(name)))).toBeNull();
    expect(checkTraining(preset("gpt3-13b"), h100, training(64, 64, 2048, engine("megatron-2021")))).toBeNull();
  });
});

describe("a model the stack's code cannot build is bad input naming --engine", () => {
  const check = (m: ReturnType<typeof preset>, name: string) => checkTraining(m, h100, training(64, 64, 2048, engine(name)));
  const llama2 = preset("llama2-7b"); // rotary, SwiGLU, one K/V head per query head
  it("Megatron-LM v2.6 builds GPT only: learned positions, GELU, no grouped-query attention", () => {
    const rope = check(llama2, "megatron-2021");
    expect(rope?.code).toBe("engine_unsupported");
    expect(rope?.flag).toBe("--engine");
    expect(rope?.message).toMatch(/^llama2-7b has rotary positions; engine megatron-2021 builds learned positions only \(.*@ v2\.6.*\)$/);
    // (llama2-7b's SwiGLU too: the hint names every key the profile would need, engine-hint.test.ts)
    expect(rope?.hint).toBe("pick an engine that builds it, or a profile that extends megatron-2021 and sets supports.positional and supports.mlp");
    const swiglu = check({ ...preset("gpt3-13b"), mlp: "swiglu" }, "megatron-2021");
    expect(swiglu?.message).toMatch(/has a SwiGLU MLP; engine megatron-2021 builds GELU MLPs only/);
    const gqa = check({ ...preset("gpt3-13b"), kvHeads: 8 }, "megatron-2021");
    expect(gqa?.message).toMatch(/grouped-query attention \(8 K\/V heads for 40 query heads\); engine megatron-2021 builds no grouped-query attention/);
  });
  it("ALiBi: llm-foundry and BigScience's Megatron-DeepSpeed build it; Megatron-Core and paraplan's worker do not", () => {
    const alibi = { ...preset("gpt3-1.3b"), positional: "alibi" as const };
    for (const name of ["fsdp", "megatron-deepspeed"]) expect(check(alibi, name), name).toBeNull();
    for (const name of ["megatron-core", "paraplan"]) expect(check(alibi, name)?.message, name).toMatch(new RegExp(`ALiBi positions; engine ${name} builds learned or rotary positions only`));
  });
  it("sliding windows: not under the 2021 stacks or the worker; Megatron-Core's window_size and llm-foundry's HF models do", () => {
    const window = { ...preset("llama3-8b"), slidingWindow: 4096, slidingWindowLayers: 16 };
    for (const name of ["megatron-core", "fsdp", "torchtitan"]) expect(check(window, name), name).toBeNull();
    for (const name of ["megatron-deepspeed", "paraplan"]) expect(check(window, name)?.message, name).toMatch(/sliding-window attention \(4096 keys\); engine .* builds no sliding-window attention/);
  });
  it("no engine (a library caller): nothing refused", () => {
    const { engine: _, ...bare } = training(64, 64, 2048, engine("megatron-2021"));
    expect(checkTraining(llama2, h100, bare)).toBeNull();
  });
  it("an engine file that extends megatron-2021 and adds rotary positions builds Llama 2's positions", () => {
    const r = resolveExtends({ name: "mine", extends: "megatron-2021", supports: { positional: { value: ["learned", "rope"], source: "my fork" }, mlp: ["gelu", "swiglu"] } }, (n) => JSON.parse(readFileSync(new URL(`../../profiles/engines/${n}.json`, import.meta.url), "utf8")), "mine.json");
    if (!r.ok) throw new Error(r.message);
    const e = parseEngineFile(r.value, "mine.json");
    if (!e.ok) throw new Error(e.message);
    expect(e.value.sources["supports.positional"]).toBe("my fork");
    expect(checkTraining(llama2, h100, training(64, 64, 2048, e.value))).toBeNull();
  });
});

describe("engine files state supports with sources; extends changes them", () => {
  const builtin = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../profiles/engines/${name}.json`, import.meta.url), "utf8"));
  const parse = (raw: unknown) => {
    const r = resolveExtends(raw, builtin, "mine.json");
    if (!r.ok) throw new Error(r.message);
    return parseEngineFile(r.value, "mine.json");
  };
  it("a file extending fsdp that adds tensor parallel keeps fsdp's other limits", () => {
    const r = parse({ name: "fsdp-tp", extends: "fsdp", supports: { tensorParallel: { value: true, source: "my fork" }, sequenceParallel: "optional" } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.supports).toEqual({ ...engine("fsdp").supports, tensorParallel: true, sequenceParallel: "optional" });
    expect(r.value.sources["supports.tensorParallel"]).toBe("my fork");
  });
  it("a ZeRO stage the planner does not know, or an unknown key, is refused naming it", () => {
    const bad = parse({ name: "x", extends: "fsdp", supports: { zero: [0, 4] } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/supports\.zero/);
    const unknown = parse({ name: "x", extends: "fsdp", supports: { dataParallel: true } });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.message).toMatch(/dataParallel/);
  });
  it("every built-in engine states each key with a source", () => {
    for (const name of ["megatron-core", "megatron-2021", "megatron-deepspeed", "fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"]) {
      const e = engine(name);
      for (const k of Object.keys(MEGATRON_SUPPORTS)) expect(e.sources[`supports.${k}`], `${name} supports.${k}`).toMatch(/\S/);
    }
  });
});

describe("Megatron-Core's experts under fp16", () => {
  // Two refusals leave Megatron-Core no fp16 plan of a mixture of experts: ep > 1 stops at start
  // (validate_args: assert not args.fp16, "Expert parallelism is not supported with fp16 training",
  // megatron/training/arguments.py:1041-1042 @ 000c4ac, :955-956 @ core_v0.14.0, :507-508 @
  // core_v0.7.0: rule moe_fp16_ep), and at ep 1 Mixtral's 8 experts are 8 / 1 = 8 local experts a
  // rank in SequentialMLP's loop (--moe-grouped-gemm asserts --bf16, :790-791 @ core_v0.14.0),
  // which paraplan does not price (rule moe_fp16_local_experts).
  const m8 = preset("mixtral-8x7b");
  const t = (precision: Training["precision"], e = engine("megatron-core")): Training => ({ ...training(64, 256, 4096, e), precision });
  const core = JSON.parse(readFileSync(new URL("../../profiles/engines/megatron-core.json", import.meta.url), "utf8")) as Record<string, unknown> & { supports: Record<string, unknown> };
  /** An engine file that states fp16 expert parallel runs: the loop alone is refused. */
  const permissive = (() => {
    const r = parseEngineFile({ ...core, name: "ep-fp16", supports: { ...core.supports, expertParallelUnderFp16: { value: true, source: "a stack without the assert" } } }, "ep-fp16.json");
    if (!r.ok) throw new Error(r.message);
    return r.value;
  })();
  it("the search finds no fp16 plan and counts ep > 1 under moe_fp16_ep, ep 1 under moe_fp16_local_experts; bf16 counts neither", () => {
    expect(engine("megatron-core").supports.expertParallelUnderFp16).toBe(false);
    const fp16 = search(m8, h100, t("fp16"), {}, { top: 1, keepAll: true });
    expect(fp16.feasible).toBe(0);
    expect(fp16.all ?? []).toHaveLength(0);
    expect(fp16.rejected.moe_fp16_ep).toBeGreaterThan(0);
    expect(fp16.rejected.moe_fp16_local_experts).toBeGreaterThan(0);
    const bf16 = search(m8, h100, t("bf16"), {}, { top: 1, keepAll: true });
    expect(bf16.rejected.moe_fp16_ep ?? 0).toBe(0);
    expect(bf16.rejected.moe_fp16_local_experts ?? 0).toBe(0);
    expect(new Set((bf16.all ?? []).map((p) => p.ep))).toEqual(new Set([1, 2, 4, 8]));
    // a dense model under fp16 is untouched (the rules look at the experts)
    const dense = search(preset("llama3-8b"), h100, t("fp16"), {}, { top: 1 });
    expect(dense.plans).toHaveLength(1);
    expect(dense.rejected.moe_fp16_ep ?? 0).toBe(0);
  });
  it("a file stating expertParallelUnderFp16 true keeps the one-local-expert plans (ep = 8 experts) and counts the loop only", () => {
    const fp16 = search(m8, h100, t("fp16", permissive), {}, { top: 1, keepAll: true });
    expect(fp16.rejected.moe_fp16_ep ?? 0).toBe(0);
    expect(fp16.rejected.moe_fp16_local_experts).toBeGreaterThan(0);
    expect((fp16.all ?? []).length).toBeGreaterThan(0);
    expect(new Set((fp16.all ?? []).map((p) => p.ep))).toEqual(new Set([8]));
  });
  it("a fixed ep is exit 2 naming --precision on Megatron-Core, --ep where fp16 expert parallel runs", () => {
    const ep8 = checkFixed(m8, t("fp16"), { ep: 8 }, 8);
    expect([ep8?.code, ep8?.flag]).toEqual(["moe_fp16_ep", "--precision"]);
    expect(ep8?.message).toContain("Expert parallelism is not supported with fp16 training");
    const ep1 = checkFixed(m8, t("fp16"), { ep: 1 }, 8);
    expect([ep1?.code, ep1?.flag]).toEqual(["engine_unsupported", "--precision"]);
    expect(ep1?.message).toContain("runs a rank's 8 local experts one after another");
    expect(ep1?.hint).toBe("use --precision bf16 or fp8");
    expect(checkFixed(m8, t("bf16"), { ep: 8 }, 8)).toBeNull();
    // the permissive file: ep 4 leaves 8 / 4 = 2 local experts, and ep 8 runs
    const ep4 = checkFixed(m8, t("fp16", permissive), { ep: 4 }, 8);
    expect([ep4?.flag, ep4?.hint]).toEqual(["--ep", "use --precision bf16 or fp8, or --ep 8"]);
    expect(checkFixed(m8, t("fp16", permissive), { ep: 8 }, 8)).toBeNull();
  });
});

describe("fp8 on a GPU without it names the precisions the stack trains in", () => {
  // A100: no fp8 tensor cores (profile dgx-a100-80g, peak.fp8 null). Megatron-Core trains in
  // fp16, bf16 and fp8, so both 16-bit ones; torchtitan and paraplan's worker in bf16 and fp8,
  // so bf16 alone: "use bf16 or fp16" sent them to a precision refused on the next try.
  const a100 = hardware("dgx-a100-80g");
  const m = preset("gpt3-1.3b");
  const said = (name: string) => checkTraining(m, a100, { ...training(64, 512, 4096, engine(name)), precision: "fp8" })?.message;
  it.each([
    ["megatron-core", "use bf16 or fp16"],
    ["torchtitan", "use bf16"],
    ["paraplan", "use bf16"],
  ])("%s: %s", (name, tail) => {
    expect(said(name)).toBe(`${a100.gpuName} has no fp8 tensor cores; ${tail}`);
  });
});
