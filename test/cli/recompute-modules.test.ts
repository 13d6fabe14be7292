// plan --recompute-modules a,b: what "selective" recompute re-runs on a Megatron-Core engine
// (Megatron's --recompute-modules; planner/recompute-modules.ts), set on the engine by
// withOverrides (src/plan-engine.ts), named in the header's engine line and --json's
// recomputeModules; exit 2 with one line naming the flag where it cannot apply. The export and
// plan --from sides are test/export/from-recompute-modules.test.ts.
import { afterAll, describe, expect, it } from "vitest";
import { cli, planJson, refusedLine, removeTemp, tempFile } from "../export/helpers.js";

afterAll(removeTemp);

/** Llama 3 8B on 8 GPUs at one layout, selective recompute: tp 1, dp 8, ZeRO-1, micro-batch 1, 2,048 tokens. */
const LLAMA = ["--model", "llama3-8b", "--gpus", "8", "--seq", "2048", "--tp", "1", "--pp", "1", "--zero", "1", "--micro-batch", "1", "--recompute", "selective"];
type Out = { recomputeModules?: string[]; plans: { tokensPerSecond: number; memory: { total: number; activations: number }; time: { recompute: number } }[] };
const json = (argv: string[]) => planJson<Out>(argv);

describe("plan --recompute-modules", () => {
  it("core_attn,mlp on a dense model: less kept, more re-run than the attention core alone; named in --json and the header", async () => {
    const plain = await json(LLAMA);
    const mlp = await json([...LLAMA, "--recompute-modules", "mlp,core_attn"]);
    expect(plain.recomputeModules).toBeUndefined();
    // (Megatron's order, each once)
    expect(mlp.recomputeModules).toEqual(["core_attn", "mlp"]);
    const [a, b] = [plain.plans[0]!, mlp.plans[0]!];
    // the MLP's normed input (2sbh) and its three f-wide tensors (2·3·14336/4096 sbh) a layer
    expect(b.memory.activations).toBeLessThan(a.memory.activations * 0.6);
    expect(b.time.recompute).toBeGreaterThan(a.time.recompute);
    expect(b.tokensPerSecond).toBeLessThan(a.tokensPerSecond);
    const text = await cli(["plan", ...LLAMA, "--recompute-modules", "core_attn,mlp", "--top", "1", "--simulate-top", "0"]);
    expect(text.stdout).toMatch(/^engine megatron-core \(default; recompute modules core_attn, mlp\)$/m);
    // core_attn alone is the default: the same plan, nothing said
    const same = await json([...LLAMA, "--recompute-modules", "core_attn"]);
    expect(same.plans[0]!.tokensPerSecond).toBe(a.tokensPerSecond);
    expect(same.recomputeModules).toBeUndefined();
  });

  it("priced as an engine file stating activations.recomputeModules; with --recompute left to the search it prices the selective plans", async () => {
    // (in any order: read in Megatron's, as the flag's)
    const engine = tempFile("mcore-mlp-recompute.json", JSON.stringify({ name: "mcore-mlp-recompute", extends: "megatron-core", description: "Megatron-Core recomputing the dense MLP", activations: { recomputeModules: { value: ["mlp", "core_attn"], source: "transformer_config.py @ core_r0.14.0" } } }));
    const flag = await json([...LLAMA, "--recompute-modules", "core_attn,mlp"]);
    const file = await json([...LLAMA, "--engine", engine]);
    expect(file.plans[0]!.tokensPerSecond).toBe(flag.plans[0]!.tokensPerSecond);
    expect(file.plans[0]!.memory.total).toBe(flag.plans[0]!.memory.total);
    expect(file.recomputeModules).toEqual(["core_attn", "mlp"]);
    // (QA) the file's modules against the model, as the flag's: exit 2 naming the field; the flag replaces them
    const mla = tempFile("mcore-mla-recompute.json", JSON.stringify({ name: "mcore-mla-recompute", extends: "megatron-core", activations: { recomputeModules: ["mla_up_proj"] } }));
    expect(await refusedLine([...LLAMA, "--engine", mla])).toBe('paraplan: --engine mcore-mla-recompute: activations.recomputeModules ["mla_up_proj"] on llama3-8b: mla_up_proj needs multi-latent attention (Megatron raises ValueError), which the model has not; drop the module from the engine file, or pick another --engine');
    expect((await json([...LLAMA, "--engine", mla, "--recompute-modules", "core_attn"])).plans[0]!.tokensPerSecond).toBe((await json(LLAMA)).plans[0]!.tokensPerSecond);
    const searched = await cli(["plan", "--model", "llama3-8b", "--gpus", "8", "--recompute-modules", "mlp", "--json", "--top", "1"]);
    expect(searched.code, searched.stderr).toBe(0);
    expect(JSON.parse(searched.stdout).recomputeModules).toEqual(["mlp"]);
  });

  it("the MoE modules on DeepSeek-V2-Lite, as export and sweep take the flag", async () => {
    const dsv2 = ["--model", "deepseek-v2-lite", "--gpus", "16", "--tp", "1", "--ep", "8", "--zero", "1", "--micro-batch", "1", "--recompute", "selective", "--global-batch", "256"];
    const core = await json(dsv2);
    const modules = await json([...dsv2, "--recompute-modules", "mla_up_proj,layernorm,moe_act,shared_experts"]);
    expect(modules.recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act", "shared_experts"]);
    expect(modules.plans[0]!.memory.total).toBeLessThan(core.plans[0]!.memory.total);
    const sweep = await cli(["plan", "--model", "llama3-8b", "--sweep-gpus", "8,16", "--tokens", "1T", "--recompute-modules", "core_attn,mlp"]);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(sweep.stdout).toContain("recompute modules core_attn, mlp");
    // (QA) the sweep's --json names them as plan --json does
    const sweepJson = await cli(["plan", "--model", "llama3-8b", "--sweep-gpus", "8,16", "--tokens", "1T", "--recompute-modules", "mlp,core_attn", "--json"]);
    expect(sweepJson.code, sweepJson.stderr).toBe(0);
    expect(JSON.parse(sweepJson.stdout).recomputeModules).toEqual(["core_attn", "mlp"]);
  });

  it("exit 2, one line naming the flag: another name, moe on a dense model, beside --recompute none or full", async () => {
    expect(await refusedLine([...LLAMA, "--recompute-modules", "core_atn"])).toBe('paraplan: --recompute-modules: "core_atn" is not one of core_attn, layernorm, mla_up_proj, mlp, moe_act, moe, shared_experts (did you mean core_attn?)');
    expect(await refusedLine([...LLAMA, "--recompute-modules", "mlp moe_act"])).toContain('"mlp moe_act" is not one of');
    expect(await refusedLine([...LLAMA, "--recompute-modules", "mlp,"])).toContain("is not a comma-separated list of modules");
    // (QA) each says what to write: the list without the empty item, commas between the modules
    expect(await refusedLine([...LLAMA, "--recompute-modules", "mlp,,core_attn"])).toMatch(/; drop the empty item: --recompute-modules mlp,core_attn$/);
    expect(await refusedLine([...LLAMA, "--recompute-modules", "mlp core_attn"])).toMatch(/; separate the modules by commas: --recompute-modules mlp,core_attn$/);
    expect(await refusedLine([...LLAMA, "--recompute-modules", "mlp", "core_attn"])).toBe("paraplan: --recompute-modules mlp core_attn: the flag takes one comma-separated list, not one word an item: --recompute-modules mlp,core_attn; see paraplan plan --help");
    expect(await refusedLine([...LLAMA, "--recompute-modules", "moe"])).toContain("moe recomputes MoE layers, and the model has no experts");
    const base = ["--model", "llama3-8b", "--gpus", "8", "--recompute-modules", "mlp"];
    expect(await refusedLine([...base, "--recompute", "full"])).toBe("paraplan: --recompute-modules: --recompute full re-runs every layer whole, so the modules (selective recompute's) would change nothing; drop one");
    expect(await refusedLine([...base, "--recompute", "none"])).toContain("--recompute none re-runs nothing");
  });

  it("exit 2 on an engine whose selective recompute is not Megatron-Core's or that runs none, and on a module the model has nothing for", async () => {
    const base = ["--model", "llama3-8b", "--gpus", "8", "--recompute-modules", "mlp"];
    expect(await refusedLine([...base, "--engine", "torchtitan"])).toBe("paraplan: --recompute-modules mlp: recompute modules are Megatron-Core's selective recompute; this engine's selective recompute is alternate-matmuls over 16-bit tensors (engine torchtitan); pick a Megatron-Core engine or drop the flag");
    expect(await refusedLine([...base, "--engine", "paraplan"])).toContain("matmul-outputs over autocast-eager tensors (engine paraplan)");
    expect(await refusedLine([...base, "--engine", "fsdp"])).toContain('engine fsdp recomputes whole layers or none (recompute "layers")');
    expect(await refusedLine(["--model", "llama3-8b", "--recompute-modules", "mla_up_proj"])).toBe("paraplan: --recompute-modules mla_up_proj on llama3-8b: mla_up_proj needs multi-latent attention (Megatron raises ValueError), which the model has not; drop the module");
    expect(await refusedLine(["--model", "llama3-8b", "--recompute-modules", "moe_act"])).toContain("on llama3-8b: moe_act recomputes routed experts' activation, and the model has no experts");
    expect(await refusedLine(["--model", "mixtral-8x7b", "--recompute-modules", "shared_experts"])).toContain("on mixtral-8x7b: shared_experts recomputes shared experts, and the model has none");
    // (QA: these two were accepted and priced as nothing re-run)
    expect(await refusedLine(["--model", "mixtral-8x7b", "--recompute-modules", "mlp"])).toBe("paraplan: --recompute-modules mlp on mixtral-8x7b: mlp recomputes a dense layer's MLP (an MoE layer's experts are moe_act's and shared_experts'), and every layer of the model is an MoE layer; drop the module");
    expect(await refusedLine(["--model", "llama3-8b", "--recompute-modules", "core_attn,layernorm"])).toContain("on llama3-8b: layernorm recomputes the norms that are modules of their own");
    // export and execute read plan's flags: the same refusals (the worker's engine, torchtitan's)
    const e = await cli(["export", "--format", "torchtitan", ...base]);
    expect(e.code).toBe(2);
    expect(e.errLines[0]).toContain("(engine torchtitan)");
    // (execute's exit status is the process's: the CLI's line is what it says)
    const x = await cli(["execute", "--model", "tiny", "--gpus", "2", "--recompute-modules", "mlp"]);
    expect(x.errLines[0]).toContain("--recompute-modules mlp: recompute modules are Megatron-Core's selective recompute");
  });
});

describe("a plan --json file records the modules, and export --plan prices and writes them", () => {
  it("DeepSeek-V2-Lite's selective plan with mla_up_proj, layernorm and moe_act: the same prediction, the list written; the flag against the file's contradicts it", async () => {
    const planned = await cli(["plan", "--model", "deepseek-v2-lite", "--gpus", "16", "--recompute", "selective", "--recompute-modules", "mla_up_proj,layernorm,moe_act", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(planned.code, planned.stderr).toBe(0);
    const j = JSON.parse(planned.stdout) as Out;
    expect(j.recomputeModules).toEqual(["layernorm", "mla_up_proj", "moe_act"]);
    const file = tempFile("dsv2-modules-plan.json", planned.stdout);
    const e = await cli(["export", "--format", "megatron", "--plan", file]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--recompute-modules layernorm mla_up_proj moe_act$/m);
    expect(e.stderr).toContain(`predicted ${Math.round(j.plans[0]!.tokensPerSecond).toLocaleString("en-US")} tokens/s`);
    const clash = await cli(["export", "--format", "megatron", "--plan", file, "--recompute-modules", "mlp"]);
    expect(clash.code).toBe(2);
    expect(clash.errLines[0]).toContain(`--recompute-modules mlp contradicts --plan ${file}, which was planned with recomputeModules ["layernorm","mla_up_proj","moe_act"]`);
    const bad = tempFile("dsv2-modules-bad.json", planned.stdout.replace(/"recomputeModules": \[[^\]]*\]/, '"recomputeModules": ["moe_layer"]'));
    const refused = await cli(["export", "--format", "megatron", "--plan", bad]);
    expect(refused.code).toBe(2);
    expect(refused.errLines[0]).toContain('field "recomputeModules": ["moe_layer"] must be among core_attn, layernorm');
  });
});
