// DeepSpeed-MoE through Megatron-DeepSpeed's arguments and a ds_config (src/engines/moe-args.ts
// readDeepSpeedMoe, ds-config-features.ts deepspeedMoeLayers): a layer paraplan does not price, or
// a run DeepSpeed stops at start, is exit 2 naming the flag or key, never priced as the plain
// experts; the DeepSpeed export writes what its ZeRO optimizer needs. DeepSpeed @ v0.16.0,
// Megatron-DeepSpeed @ deepspeedai 207b2d5a. The stock megatron-deepspeed profile runs no experts
// as paraplan prices them (its einsum dispatch, profiles/engines/megatron-deepspeed.json): these
// run under an engine file that extends it with supports.expertParallel, as a user's would.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-deepspeed-moe");
const engine = file("json", JSON.stringify({ name: "mds-moe", extends: "megatron-deepspeed", description: "DeepSpeed-MoE priced as Megatron-Core's experts", supports: { expertParallel: { value: true, source: "the user's" } } }));

/** The DeepSpeed export of Mixtral 8x7B on 64 GPUs (tp 2, ep 8, ZeRO-2): its ds_config and arguments. */
async function exported(): Promise<{ ds: string; args: string }> {
  const out = join(tempDir(), "mixtral-ds");
  const e = await cli(["export", "--format", "deepspeed", "--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--out", out]);
  expect(e.code, e.stderr).toBe(0);
  return { ds: readFileSync(join(out, "ds_config.json"), "utf8"), args: readFileSync(join(out, "megatron-deepspeed-args.txt"), "utf8") };
}
const lines = (args: string) => args.split("\n").filter((l) => l.startsWith("--"));

describe("the stock megatron-deepspeed engine", () => {
  it("refuses a Megatron-DeepSpeed MoE run by --engine: DeepSpeed-MoE's einsum dispatch is not the grouped GEMM and all-to-all paraplan prices", async () => {
    // sharded_moe.py MOELayer.forward: dispatch sec,sm->ecm and combine sec,ecm->sm over the S = b·s
    // tokens a rank feeds the layer, 2·S·E·C·h FLOPs each; the tp ranks' duplicate tokens are
    // dropped after the dispatch (drop_tokens on the capacity dimension), so each SwiGLU expert
    // computes C/tp rows of 3 matrices h·f: 4·S·E·C·h / (6·E·(C/tp)·h·f) = 2·S·tp/(3f) of the
    // experts' forward FLOPs; the export's Mixtral plan (seq 32,768, micro-batch 1, tp 2):
    // 2·32,768·2/(3·14,336) = 3.05.
    const { ds, args } = await exported();
    expect(args).toMatch(/^--seq-length 32768$/m);
    expect(args).toMatch(/^--tensor-model-parallel-size 2$/m);
    await refused(["--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", ds), "--from", file("txt", args)], "engine megatron-deepspeed runs no mixture-of-experts layers as paraplan prices them", "sec,sm->ecm", "(Mixtral at 32,768 tokens, tp 2: 3.0)");
  });

  it("says so before the flags the reader asks of the experts it would price (--expert-interval 1, --disable-moe-token-dropping, --create-moe-param-group), which the user engine still asks for", async () => {
    const { ds, args } = await exported();
    const asked = ["--expert-interval 1", "--disable-moe-token-dropping", "--create-moe-param-group"];
    const bare = lines(args).filter((l) => !asked.includes(l));
    expect(bare).toHaveLength(lines(args).length - 3);
    const on = (extra: string[]) => [...extra, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", ds), "--from", file("txt", bare.join("\n") + "\n")];
    const stock = await refused(on([]), "--from: engine megatron-deepspeed runs no mixture-of-experts layers as paraplan prices them", "and mixtral-8x7b has 8 experts");
    for (const flag of asked) expect(stock).not.toContain(flag);
    // --engine megatron-2021 (no experts before Megatron-Core) is named by the flag the user gave
    await refused(on(["--engine", "megatron-2021"]), "--engine: engine megatron-2021 runs no mixture-of-experts layers");
    // an engine that prices them reads on, and asks for the first flag
    await refused(on(["--engine", engine]), "--num-experts 8 without --expert-interval 1");
  });
});

describe("Megatron-DeepSpeed's MoE arguments", () => {
  it("the export writes --create-moe-param-group, which ZeRO-1/2 assert (stage_1_and_2.py:621-622); the file reads back, and without the flag is exit 2", async () => {
    const { ds, args } = await exported();
    expect(args).toMatch(/^--create-moe-param-group$/m);
    expect(args).toMatch(/^--zero-stage 2$/m);
    const on = (a: string[]) => ["--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", ds), "--from", file("txt", a.join("\n") + "\n")];
    expect((await accepted(on(lines(args)))).from.plan).toMatchObject({ ep: 8, tp: 2, zero: 2 });
    await refused(on(lines(args).filter((l) => l !== "--create-moe-param-group")), "--num-experts at ZeRO stage 2 without --create-moe-param-group", "so the run stops at start");
  });

  it("ZeRO-3 with experts: DeepSpeed asserts \"MoE not supported with Stage 3\" (runtime/engine.py:1600): read back exit 2, the export refuses it", async () => {
    const { ds, args } = await exported();
    const ds3 = ds.replace(/"stage": 2/, '"stage": 3');
    const args3 = lines(args).map((l) => (l === "--zero-stage 2" ? "--zero-stage 3" : l));
    await refused(["--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", ds3), "--from", file("txt", args3.join("\n") + "\n")], "ZeRO stage 3 with Megatron-DeepSpeed's experts", "MoE not supported with Stage 3");
    const e = await cli(["export", "--format", "deepspeed", "--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--zero", "3"]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain("DeepSpeed runs no MoE layers under ZeRO stage 3");
  });

  it("a pyramid of expert counts, Residual-MoE, Megatron's SwitchMLP and Tutel's top-1 dispatch are exit 2; Tutel beside a top-2 gate is not used", async () => {
    const { ds, args } = await exported();
    const base = lines(args);
    const on = (a: string[]) => ["--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", ds), "--from", file("txt", a.join("\n") + "\n")];
    const n = base.length + 1;
    // get_num_experts_per_layer: one count per MoE layer, 32 at --expert-interval 1 (PR-MoE's
    // pyramid: 8 experts in the first 16 layers, 16 in the last 16)
    const pyramid = `--num-experts ${[...Array(16).fill(8), ...Array(16).fill(16)].join(" ")}`;
    await refused(on(base.map((l) => (l === "--num-experts 8" ? pyramid : l))), "--num-experts 8 8", "differing expert counts");
    // A list of one count but not one per MoE layer: the assert stops the run (2 counts, 32 layers).
    await refused(on(base.map((l) => (l === "--num-experts 8" ? "--num-experts 8 8" : l))), "--num-experts 8 8", "gives 2 counts for 32 MoE layers");
    await accepted(on(base.map((l) => (l === "--num-experts 8" ? `--num-experts ${Array(32).fill(8).join(" ")}` : l))));
    await refused(on([...base, "--mlp-type residual"]), `--mlp-type residual (line ${n}) adds a dense MLP beside each MoE layer's experts`);
    await refused(on([...base, "--num-experts-switch 8"]), `--num-experts-switch 8 (line ${n}) builds Megatron's SwitchMLP`);
    await refused(on([...base.map((l) => (l === "--topk 2" ? "--topk 1" : l)), "--use-tutel"]), `--use-tutel (line ${n}) dispatches the top-1 gate's tokens with Tutel's kernels`);
    // sharded_moe.py MOELayer: use_tutel and gate.k == 1, else the einsums as without it
    const plain = await accepted(on(base));
    const tutel = await accepted(on([...base, "--use-tutel"]));
    expect((tutel.from.plan as { tokensPerSecond: number }).tokensPerSecond).toBe((plain.from.plan as { tokensPerSecond: number }).tokensPerSecond);
  });
});

describe("ds_config.json", () => {
  it("AutoEP (expert_parallel.enabled, DeepSpeed after 0.16) is exit 2, not priced at ep 1; disabled it is read as absent", async () => {
    const base = { train_batch_size: 64, train_micro_batch_size_per_gpu: 1, bf16: { enabled: true }, zero_optimization: { stage: 2 } };
    const on = (over: Record<string, unknown>) => ["--engine", engine, "--model", "mixtral-8x7b", "--gpus", "64", "--from", file("json", JSON.stringify({ ...base, ...over }))];
    await refused(on({ expert_parallel: { enabled: true, autoep_size: 8, preset_model: "mixtral" } }), "expert_parallel (line 1) is enabled: DeepSpeed's AutoEP");
    expect((await accepted(on({ expert_parallel: { enabled: false, autoep_size: 8 } }))).from.plan).toMatchObject({ ep: 1, dp: 64 });
  });
});
