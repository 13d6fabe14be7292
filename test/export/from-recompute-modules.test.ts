// `plan --from` a Megatron-LM file's --recompute-modules (src/engines/megatron-recompute.ts
// readRecomputeModules): under selective recompute the modules are read as the engine's
// activations.recomputeModules (planner/recompute-modules.ts), priced as an engine file stating
// them; where Megatron raises at start (transformer_config.py:864-937 @ core_r0.14.0) and on a
// module the model has nothing for, exit 2 with one line naming the flag.
// The Megatron export writes them back (src/engines/recompute-modules-export.ts).
import { afterAll, describe, expect, it } from "vitest";
import type { RecomputeModule } from "../../planner/index.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import type { ExportFormat } from "../../src/engines/engine-plan.js";
import { loadEngine } from "../../src/load-engine.js";
import { cli, h100, model, plan, refusalMessage, removeTemp, training } from "./helpers.js";
import { MIXTRAL_MEGATRON, accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-recompute-modules");

/** DeepSeek-V2-Lite on 16 GPUs (tp 1, ep 8, ZeRO-1, micro-batch 1) as Megatron-LM core_r0.14 trains
 *  it, with MLA, grouped GEMM and the alltoall dispatcher (34 lines; a flag added is line 35). */
const DSV2_LITE = [
  "--num-layers 27", "--hidden-size 2048", "--ffn-hidden-size 10944", "--num-attention-heads 16", "--position-embedding-type rope",
  "--rotary-base 10000", "--swiglu", "--normalization RMSNorm", "--norm-epsilon 0.000001", "--untie-embeddings-and-output-weights",
  "--multi-latent-attention", "--kv-lora-rank 512", "--qk-head-dim 128", "--qk-pos-emb-head-dim 64", "--v-head-dim 128", "--qk-layernorm",
  "--num-experts 64", "--moe-router-topk 6", "--moe-ffn-hidden-size 1408", "--moe-shared-expert-intermediate-size 2816",
  "--moe-layer-freq [0]+[1]*26", "--moe-token-dispatcher-type alltoall", "--moe-grouped-gemm", "--expert-model-parallel-size 8",
  "--attention-dropout 0", "--hidden-dropout 0", "--seq-length 4096", "--use-distributed-optimizer", "--overlap-grad-reduce",
  "--micro-batch-size 1", "--global-batch-size 256", "--disable-bias-linear", "--attention-backend fused", "--bf16",
];
const SELECTIVE = "--recompute-granularity selective";
/** The output-discarding modules of Megatron's MoE README (megatron/core/transformer/moe/README.md
 *  "Checkpointing" @ core_r0.14.0) that a DeepSeek-style model has: MLA's up-projections, the norms
 *  and the experts' activation. */
const DEEPSEEK_MODULES = "--recompute-modules mla_up_proj layernorm moe_act";

const dsv2 = (lines: string[], drop: string[] = []) =>
  ["--model", "deepseek-v2-lite", "--gpus", "16", "--from", file("txt", [...DSV2_LITE.filter((l) => !drop.some((d) => l.startsWith(d))), ...lines].join("\n") + "\n")];
type Priced = { from: { plan: { recompute: string; tokensPerSecond: number; memory: { total: number; activations: number }; time: { recompute: number } }; notes: string[] }; recomputeModules?: string[] };
const priced = async (argv: string[]) => (await accepted(argv)) as unknown as Priced;

describe("--recompute-modules under selective recompute: the engine's modules, priced", () => {
  it("DeepSeek-V2-Lite with mla_up_proj, layernorm and moe_act keeps less than the attention core alone, and more than full recompute", async () => {
    const modules = await priced(dsv2([SELECTIVE, DEEPSEEK_MODULES]));
    const coreAttn = await priced(dsv2([SELECTIVE]));
    const none = await priced(dsv2([]));
    const full = await priced(dsv2(["--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1"]));
    // (read in Megatron's order of RECOMPUTE_MODULES, as --json names them)
    expect(modules.recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act"]);
    expect(coreAttn.recomputeModules).toBeUndefined();
    expect(modules.from.plan.recompute).toBe("selective");
    const mem = (p: Priced) => p.from.plan.memory.total;
    // 48.3 GiB against 53.0: the up-projections' Q, K and V, two norms' outputs and the experts'
    // activation output dropped on each MoE layer (activations 15.5 GiB against 19.9)
    expect(mem(modules)).toBeLessThan(mem(coreAttn) - 4 * 2 ** 30);
    expect(modules.from.plan.memory.activations).toBeLessThan(coreAttn.from.plan.memory.activations);
    expect(mem(full)).toBeLessThan(mem(modules));
    // Under cuDNN's fused attention the attention core keeps no scores: core_attn alone drops
    // nothing and costs its re-run (Megatron warns as much, transformer_config.py:895-901).
    expect(mem(coreAttn)).toBe(mem(none));
    expect(none.from.plan.time.recompute).toBe(0);
    expect(modules.from.plan.time.recompute).toBeGreaterThan(0);
    expect(modules.from.plan.time.recompute).toBeLessThan(full.from.plan.time.recompute);
  });

  it("a dense model's MLP (Llama 3 8B, core_attn mlp): its normed input and f-wide tensors dropped, its GEMMs and tp collectives re-run", async () => {
    const llama = (extra: string) => ["--model", "llama3-8b", "--gpus", "64", "--from", file("txt", `--tensor-model-parallel-size 2\n--sequence-parallel\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n--recompute-granularity selective\n${extra}`)];
    const mlp = await priced(llama("--recompute-modules core_attn mlp\n"));
    const coreAttn = await priced(llama(""));
    expect(mlp.recomputeModules).toEqual(["core_attn", "mlp"]);
    expect(mlp.from.plan.memory.activations).toBeLessThan(coreAttn.from.plan.memory.activations * 0.6);
    expect(mlp.from.plan.time.recompute).toBeGreaterThan(coreAttn.from.plan.time.recompute);
    expect(mlp.from.plan.tokensPerSecond).toBeLessThan(coreAttn.from.plan.tokensPerSecond);
  });

  it("priced as an engine file stating activations.recomputeModules; the header's engine line names them", async () => {
    const engine = file("json", JSON.stringify({ name: "mcore-deepseek-recompute", extends: "megatron-core", description: "Megatron-Core recomputing MLA's up-projections, the norms and the experts' activation", activations: { recomputeModules: { value: ["layernorm", "mla_up_proj", "moe_act"], source: "megatron/core/transformer/moe/README.md @ core_r0.14.0" } } }));
    const fromFile = await priced(dsv2([SELECTIVE, DEEPSEEK_MODULES]));
    const viaEngine = await priced(["--engine", engine, ...dsv2([SELECTIVE])]);
    expect(viaEngine.from.plan.tokensPerSecond).toBe(fromFile.from.plan.tokensPerSecond);
    expect(viaEngine.from.plan.memory.total).toBe(fromFile.from.plan.memory.total);
    const text = await cli(["plan", ...dsv2([SELECTIVE, DEEPSEEK_MODULES]), "--top", "1", "--simulate-top", "0"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^engine megatron-core \(.*recompute modules layernorm, mla_up_proj, moe_act\)$/m);
  });

  it("core_attn (the default) reads as before; the list under full or no recompute changes nothing, said in a note; an empty list is no recompute", async () => {
    const plain = await priced(dsv2([SELECTIVE]));
    const said = await priced(dsv2([SELECTIVE, "--recompute-modules core_attn"]));
    expect(said.from.plan.tokensPerSecond).toBe(plain.from.plan.tokensPerSecond);
    expect(said.recomputeModules).toBeUndefined();
    const fullArgs = ["--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1"];
    const full = await priced(dsv2([...fullArgs, "--recompute-modules mlp"]));
    expect(full.from.plan.tokensPerSecond).toBe((await priced(dsv2(fullArgs))).from.plan.tokensPerSecond);
    expect(full.recomputeModules).toBeUndefined();
    expect(full.from.notes.join("\n")).toContain("--recompute-modules mlp (line 38) changes nothing under full recompute");
    const none = await priced(dsv2(["--recompute-modules mlp"]));
    expect(none.from.notes.join("\n")).toContain("--recompute-modules mlp (line 35) changes nothing under no recompute");
    // (nargs='*': selective with no module checkpoints nothing)
    const empty = await priced(dsv2([SELECTIVE, "--recompute-modules"]));
    expect(empty.from.plan.recompute).toBe("none");
    expect(empty.from.plan.tokensPerSecond).toBe((await priced(dsv2([]))).from.plan.tokensPerSecond);
    expect(empty.from.notes.join("\n")).toContain("--recompute-modules (line 36) names no module");
  });

  it("the flag beside the file: the same modules agree, other ones contradict it", async () => {
    expect((await priced([...dsv2([SELECTIVE, DEEPSEEK_MODULES]), "--recompute-modules", "moe_act,layernorm,mla_up_proj"])).recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act"]);
    await refused([...dsv2([SELECTIVE, DEEPSEEK_MODULES]), "--recompute-modules", "mlp"], "--recompute-modules mlp but", "has layernorm,mla_up_proj,moe_act");
  });
});

describe("--recompute-modules Megatron refuses at start, or paraplan does not price: exit 2 naming the flag and line", () => {
  it("a name outside Megatron's set (AssertionError); the deprecated --moe-layer-recompute beside full recompute (ValueError)", async () => {
    await refused(dsv2([SELECTIVE, "--recompute-modules core_attn mla_up_proj,layernorm"]), "--recompute-modules core_attn mla_up_proj,layernorm (line 36): mla_up_proj,layernorm is not among Megatron's modules", "AssertionError", "transformer_config.py:868-882");
    await refused(dsv2(["--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1", "--moe-layer-recompute"]), "--moe-layer-recompute (line 38) with full recompute granularity", "ValueError");
  });

  it("moe re-runs the MoE block: its routed copies, router and shared experts dropped, its all-to-alls run a third time; --moe-layer-recompute is selective core_attn + moe", async () => {
    const moe = await priced(dsv2([SELECTIVE, "--recompute-modules moe"]));
    const coreAttn = await priced(dsv2([SELECTIVE]));
    const full = await priced(dsv2(["--recompute-granularity full", "--recompute-method uniform", "--recompute-num-layers 1"]));
    expect(moe.recomputeModules).toEqual(["moe"]);
    expect(moe.from.plan.memory.activations).toBeLessThan(coreAttn.from.plan.memory.activations / 2);
    expect(moe.from.plan.memory.activations).toBeGreaterThan(full.from.plan.memory.activations);
    expect(moe.from.plan.time.recompute).toBeLessThan(full.from.plan.time.recompute);
    const layer = await priced(dsv2(["--moe-layer-recompute"]));
    expect(layer.recomputeModules).toEqual(["core_attn", "moe"]);
    expect(layer.from.plan.recompute).toBe("selective");
  });

  it("mla_up_proj without --multi-latent-attention, shared_experts beside --moe-shared-expert-overlap: ValueError", async () => {
    // (Llama 3 8B, whose file states no latent attention: Megatron raises before any model check)
    const llama = file("txt", "--tensor-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n--recompute-granularity selective\n--recompute-modules mla_up_proj\n");
    await refused(["--model", "llama3-8b", "--gpus", "64", "--from", llama], "--recompute-modules mla_up_proj (line 7): mla_up_proj without --multi-latent-attention", "ValueError", "transformer_config.py:889-893");
    await refused(dsv2([SELECTIVE, "--recompute-modules shared_experts", "--moe-shared-expert-overlap"]), "shared_experts with --moe-shared-expert-overlap (line 37)", "transformer_config.py:903-910");
  });

  it("moe_act without --moe-grouped-gemm (SequentialMLP: one expert a rank, otherwise read)", async () => {
    const mixtral = (lines: string[], drop: string[] = []) =>
      ["--model", "mixtral-8x7b", "--gpus", "64", "--from", file("txt", [...MIXTRAL_MEGATRON, "--bf16", "--moe-token-dispatcher-type alltoall", "--expert-model-parallel-size 8", ...lines].filter((l) => !drop.some((d) => l.startsWith(d))).join("\n") + "\n")];
    await refused(mixtral([SELECTIVE, "--recompute-modules moe_act"]), "--recompute-modules moe_act (line 34): moe_act without --moe-grouped-gemm", "ValueError", "transformer_config.py:884-887");
    expect((await priced(mixtral([SELECTIVE, "--recompute-modules moe_act", "--moe-grouped-gemm"]))).recomputeModules).toEqual(["moe_act"]);
    // Mixtral has no shared experts: nothing for shared_experts to recompute
    await refused(mixtral([SELECTIVE, "--recompute-modules shared_experts", "--moe-grouped-gemm"]), "--recompute-modules shared_experts (line 34) on mixtral-8x7b: shared_experts recomputes shared experts, and the model has none");
  });

  it("layernorm and moe_act under fp8 need a recipe other than delayed (Megatron's default); tensorwise reads, with Transformer Engine 2.6's note", async () => {
    await refused(dsv2([SELECTIVE, "--recompute-modules layernorm", "--fp8-format hybrid"]), "layernorm under fp8 with the delayed recipe (--fp8-recipe's default)", "transformer_config.py:912-918");
    await refused(dsv2([SELECTIVE, "--recompute-modules moe_act", "--fp8-format hybrid", "--fp8-recipe delayed"]), "moe_act under fp8 with --fp8-recipe delayed (line 38)");
    const tensorwise = await priced(dsv2([SELECTIVE, DEEPSEEK_MODULES, "--fp8-format hybrid", "--fp8-recipe tensorwise"]));
    expect(tensorwise.recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act"]);
    expect(tensorwise.from.notes.join("\n")).toContain("layernorm and moe_act recomputed under fp8 needs Transformer Engine 2.6.0dev0 or later");
    // (mla_up_proj alone is not rebuilt in fp8: the default recipe reads)
    expect((await priced(dsv2([SELECTIVE, "--recompute-modules mla_up_proj", "--fp8-format hybrid"]))).recomputeModules).toEqual(["mla_up_proj"]);
  });

  it("(QA) each line says what to change: the list as Megatron reads it, the missing flag, the recipe", async () => {
    await refused(dsv2([SELECTIVE, "--recompute-modules mla_up_proj,layernorm"]), "so the run never trains; write them as Megatron reads them, a lower-case word each: --recompute-modules mla_up_proj layernorm");
    await refused(dsv2([SELECTIVE, "--recompute-modules MLP"]), "a lower-case word each: --recompute-modules mlp");
    await refused(dsv2([SELECTIVE, "--recompute-modules layernorm", "--fp8-format hybrid"]), "; set --fp8-recipe tensorwise (as paraplan's export writes it), or drop layernorm");
    await refused(dsv2([SELECTIVE, "--recompute-modules shared_experts", "--moe-shared-expert-overlap"]), "; drop shared_experts or --moe-shared-expert-overlap");
    // (a variable set to a list of words is not resolved: said as such, not as Megatron's assertion)
    const script = file("sh", `MODS="mla_up_proj moe_act"\ntorchrun --nproc-per-node 16 pretrain_gpt.py ${DSV2_LITE.join(" ")} --bf16 ${SELECTIVE} --recompute-modules $MODS\n`);
    await refused(["--model", "deepseek-v2-lite", "--gpus", "16", "--from", script], "--recompute-modules $MODS (line 2): $MODS is a shell variable paraplan does not resolve (one set to a list of words); write the modules in its place, a word each");
  });

  it("(QA) model code that runs the list otherwise: the legacy models re-run core_attn alone, the local spec every layer's norms", async () => {
    const llama = (extra: string) => ["--model", "llama3-8b", "--gpus", "64", "--from", file("txt", `--tensor-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n--recompute-granularity selective\n${extra}`)];
    await refused(llama("--use-legacy-models\n--use-flash-attn\n--recompute-modules core_attn mlp\n"), "--recompute-modules core_attn mlp (line 9) beside --use-legacy-models (line 7): the legacy models re-run only core_attn of the list", "so mlp would re-run nothing; drop it, or the legacy models");
    await refused(llama("--transformer-impl local\n--recompute-modules layernorm\n"), "--recompute-modules layernorm (line 8) beside --transformer-impl local (line 7): the local spec's input and pre-MLP norms are modules of their own on every layer", "drop layernorm, or run Transformer Engine");
    // (on Transformer Engine a dense model's norms are fused: layernorm re-runs nothing, refused as such)
    await refused(llama("--recompute-modules core_attn layernorm\n"), "on llama3-8b: layernorm recomputes the norms that are modules of their own");
  });

  it("(QA) Megatron-DeepSpeed has no --recompute-modules: under selective any module but core_attn is refused as that, under full it is said", async () => {
    const ds = file("json", JSON.stringify({ train_batch_size: 96, train_micro_batch_size_per_gpu: 4, zero_optimization: { stage: 1 }, bf16: { enabled: true } }));
    const script = (extra: string) => ["--model", "gpt3-1.3b", "--from", ds, "--from", file("sh", `deepspeed --num_gpus 8 pretrain_gpt.py --tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 --num-layers 24 --hidden-size 2048 --num-attention-heads 16 --seq-length 2048 --max-position-embeddings 2048 --micro-batch-size 4 --global-batch-size 96 --bf16 ${extra} --deepspeed\n`)];
    for (const list of ["mlp", "CORE_ATTN", "core_attn mlp"])
      await refused(script(`--recompute-granularity selective --recompute-modules ${list}`), `--recompute-modules ${list} (line 1): Megatron-DeepSpeed has no --recompute-modules (megatron/arguments.py @207b2d5a): its selective recompute re-runs the attention core alone; drop the flag`);
    const full = await accepted(script("--checkpoint-activations --recompute-modules mlp"));
    expect(full.from.notes.join("\n")).toContain("--recompute-modules mlp (line 1): Megatron-DeepSpeed has no --recompute-modules (megatron/arguments.py @207b2d5a): its selective recompute re-runs the attention core alone; read as full recompute");
  });

  it("on an engine whose selective recompute is another rule: named by the file's setting", async () => {
    // (Llama 3 8B's dense MLP, which the torchtitan engine runs as paraplan prices it)
    const llama = file("txt", "--tensor-model-parallel-size 2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n--recompute-granularity selective\n--recompute-modules mlp\n");
    await refused(["--engine", "torchtitan", "--model", "llama3-8b", "--gpus", "64", "--from", llama], "--recompute-modules mlp (line 7): recompute modules are Megatron-Core's selective recompute", "alternate-matmuls", "(engine torchtitan)");
  });
});

describe("the Megatron export writes the modules, and plan --from reads the same plan back", () => {
  it("DeepSeek-V2-Lite, selective with mla_up_proj, layernorm and moe_act: the file's plan priced as exported", async () => {
    const e = await cli(["export", "--format", "megatron", "--model", "deepseek-v2-lite", "--gpus", "16", "--recompute", "selective", "--recompute-modules", "mla_up_proj,layernorm,moe_act"]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--recompute-granularity selective\n--recompute-modules layernorm mla_up_proj moe_act$/m);
    const predicted = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB per GPU/.exec(e.stderr)!;
    const back = await priced(["--model", "deepseek-v2-lite", "--gpus", "16", "--from", file("txt", e.stdout + "\n")]);
    expect(back.recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act"]);
    expect(Math.round(back.from.plan.tokensPerSecond).toLocaleString("en-US")).toBe(predicted[1]);
    expect((back.from.plan.memory.total / 2 ** 30).toFixed(1)).toBe(predicted[2]);
    // (the default writes no list)
    const plain = await cli(["export", "--format", "megatron", "--model", "deepseek-v2-lite", "--gpus", "16", "--recompute", "selective"]);
    expect(plain.stdout).not.toContain("--recompute-modules");
  });

  it("under fp8 with layernorm or moe_act the file states the tensorwise recipe, and reads back", async () => {
    const e = await cli(["export", "--format", "megatron", "--model", "deepseek-v2-lite", "--gpus", "16", "--precision", "fp8", "--recompute", "selective", "--recompute-modules", "layernorm,moe_act"]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--fp8-recipe tensorwise$/m);
    expect(e.stderr).toContain("written with --fp8-recipe tensorwise");
    const back = await priced(["--model", "deepseek-v2-lite", "--gpus", "16", "--from", file("txt", e.stdout + "\n")]);
    expect(back.recomputeModules).toEqual(["layernorm", "moe_act"]);
  });
});

describe("the export's own refusals: the file would not run the modules as priced", () => {
  const core = loadEngine("megatron-core", undefined);
  const withModules = (modules: RecomputeModule[]) => ({ ...core, recomputeModules: modules });
  const selective = plan({ tp: 2, zero: 1, recompute: "selective", sequenceParallel: true });
  const llama = model("llama3-8b");

  it("formats with no module list refuse a selective plan with other modules than core_attn, naming --recompute-modules; the default and other recomputes pass", () => {
    const t = training({ engine: withModules(["mlp"]) });
    // (each format's check on its own, on the engine the plan was priced with: the CLI refuses the
    // flag on those formats' engines before, plan-engine.ts recomputeModulesIssue)
    // (llm-foundry writes no selective recompute at all: refused whatever the modules)
    expect(refusalMessage(() => exportPlan("llm-foundry", llama, plan({ zero: 3, recompute: "selective" }), t, h100))).toContain("selective recompute cannot be written");
    for (const format of ["deepspeed", "torchtitan", "torchrun"] as ExportFormat[]) {
      const p = plan({ zero: 3, recompute: "selective" });
      const why = refusalMessage(() => exportPlan(format, llama, p, t, h100));
      expect(why, format).toContain("--recompute-modules mlp: the engine megatron-core's selective recompute re-runs mlp");
      expect(why, format).toContain("use --format megatron");
      // (the same plan without recompute, or the default modules, is not refused for them)
      expect(() => exportPlan(format, llama, { ...p, recompute: "none" }, t, h100), format).not.toThrow(/recompute-modules/);
      expect(() => exportPlan(format, llama, p, training({ engine: withModules(["core_attn"]) }), h100), format).not.toThrow(/recompute-modules/);
    }
  });

  it("Megatron-LM: core_v0.7 has no --recompute-modules; moe_act under fp16 has no grouped GEMM; shared_experts beside the shared-expert overlap", () => {
    expect(refusalMessage(() => exportPlan("megatron", model("llama2-70b"), plan({ tp: 8, zero: 1, recompute: "selective", sequenceParallel: true }), training({ engine: withModules(["mlp"]) }), h100, { release: "core_v0.7" }))).toContain("--recompute-modules mlp: Megatron-LM core_v0.7 has no --recompute-modules");
    const moe = plan({ tp: 1, ep: 8, zero: 1, recompute: "selective" });
    const dsv2 = model("deepseek-v2-lite");
    // (one expert a rank, which Megatron runs without grouped GEMM under fp16: moe-args.ts)
    expect(refusalMessage(() => exportPlan("megatron", dsv2, { ...moe, ep: 64 }, training({ engine: withModules(["moe_act"]), precision: "fp16" }), h100))).toContain("moe_act needs --moe-grouped-gemm");
    const shared = { ...withModules(["shared_experts"]), moe: { ...core.moe, sharedExpertOverlap: { dispatch: "up" as const, combine: "down" as const, backward: true } } };
    expect(refusalMessage(() => exportPlan("megatron", dsv2, moe, training({ engine: shared }), h100))).toContain("transformer_config.py:903-910");
    // a module the model has nothing for: Megatron raises (mla_up_proj) or re-runs nothing priced
    expect(refusalMessage(() => exportPlan("megatron", llama, selective, training({ engine: withModules(["mla_up_proj"]) }), h100))).toContain("mla_up_proj needs multi-latent attention");
    // (written where it runs: the list in Megatron's order)
    const text = exportPlan("megatron", llama, selective, training({ engine: withModules(["mlp", "core_attn"]) }), h100).files[0]!.content;
    expect(text).toMatch(/^--recompute-modules core_attn mlp$/m);
  });
});
