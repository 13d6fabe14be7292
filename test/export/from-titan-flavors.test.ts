// The model a torchtitan job's [model] name and flavor build, checked against --model in `plan
// --from` (src/engines/read-titan-model.ts): a qwen3, deepseek_v3 or llama4 flavor of other sizes
// was read as --model with a warning, or with none; and the export names the flavor that builds a
// preset (deepseek-v2-lite is deepseek_v3 "16B"), not "torchtitan ships no …".
import { afterAll, describe, expect, it } from "vitest";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { parseToml } from "../../src/engines/toml.js";
import { cli, h100, model, plan, removeTemp, training } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-titan-flavors");
// (the stock torchtitan engine runs no experts, profiles/engines/torchtitan.json: a user's profile)
const engine = file("json", JSON.stringify({ name: "torchtitan-moe", extends: "torchtitan", description: "torchtitan 0.2 with its MoE models", supports: { expertParallel: { value: true, source: "torchtitan/models/moe @ v0.2.0" } } }));
const job = (name: string, flavor: string | undefined, parallelism = "", seq = 4096) =>
  file("toml", `[model]\nname = "${name}"\n${flavor === undefined ? "" : `flavor = "${flavor}"\n`}[training]\nlocal_batch_size = 8\nseq_len = ${seq}\n[parallelism]\ndata_parallel_shard_degree = -1\n${parallelism}\n[activation_checkpoint]\nmode = "full"\n`);

describe("plan --from a torchtitan job checks its flavor against --model", () => {
  it("qwen3 30B-A3B against llama3-8b: exit 2 naming model.flavor and every size that differs (was a warning and llama3-8b's price)", async () => {
    // (qwen3/__init__.py:145 @ v0.2.0: dim 2048, 48 layers, 32/4 heads, 128 experts top-8 of 768)
    const line = await refused(["--model", "llama3-8b", "--gpus", "64", "--from", job("qwen3", "30B-A3B")], 'model.flavor = "30B-A3B" (line 3) builds qwen3 "30B-A3B" (torchtitan/models/qwen3/__init__.py:145 @ v0.2.0), not llama3-8b');
    expect(line).toContain("layers 48 (llama3-8b: 32), hidden 2048 (llama3-8b: 4096), kvHeads 4 (llama3-8b: 8), vocab 151936 (llama3-8b: 128256), qkNorm head (llama3-8b: none), moe 128 experts top-8, expert width 768");
  });

  it("MoE flavors of other sizes under an engine with experts: exit 2 (was accepted without a word)", async () => {
    const on = (m: string, f: string) => ["--engine", engine, "--model", m, "--gpus", "64", "--from", f];
    await refused(on("qwen3-30b-a3b", job("deepseek_v3", "16B")), 'model.flavor = "16B"', "not qwen3-30b-a3b", "layers 27 (qwen3-30b-a3b: 48)", "mla q rank 0, kv rank 512");
    await refused(on("deepseek-v2-lite", job("deepseek_v3", "671B")), 'model.flavor = "671B"', "layers 61 (deepseek-v2-lite: 27)", "256 experts top-8");
    // (torchtitan's DeepSeek-V3 builds no multi-token-prediction module; the preset has one)
    await refused(on("deepseek-v3", job("deepseek_v3", "671B")), "not deepseek-v3: mtpLayers 0 (deepseek-v3: 1)");
    // (no flavor: torchtitan's default, debugmodel, job_config.py Model @ v0.2.0)
    await refused(on("deepseek-v2-lite", job("deepseek_v3", undefined)), 'model.flavor not set (torchtitan\'s default "debugmodel") builds deepseek_v3 "debugmodel"', "layers 6 (deepseek-v2-lite: 27)");
    await refused(on("qwen3-30b-a3b", job("qwen3", "30B")), 'model.flavor = "30B" (line 3) is not a qwen3 flavor paraplan knows');
  });

  it("a flavor with --model's sizes is read, with or without --model; FlexAttention's document masks are said", async () => {
    const ds = job("deepseek_v3", "16B", "expert_parallel_degree = 8");
    const r = await accepted(["--engine", engine, "--model", "deepseek-v2-lite", "--gpus", "64", "--from", ds]);
    expect(r.from.plan).toMatchObject({ dp: 64, ep: 8 });
    expect(r.from.warnings).toEqual([]);
    expect(r.from.notes.join("\n")).toContain('torchtitan\'s deepseek_v3 flavor "16B" runs FlexAttention with block_causal masks');
    const alone = await cli(["plan", "--engine", engine, "--from", ds, "--gpus", "64", "--json", "--top", "1"]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout).model.name).toBe("deepseek-v2-lite");
    const q = await cli(["plan", "--engine", engine, "--from", job("qwen3", "30B-A3B", "expert_parallel_degree = 8"), "--gpus", "64", "--json", "--top", "1"]);
    expect(JSON.parse(q.stdout).model.name).toBe("qwen3-30b-a3b");
  });

  it("what the flavor cannot run is exit 2 by key: a pipeline on qwen3 (no pipelining_fn), cp beside FlexAttention, iRoPE blocks shorter than the sequence", async () => {
    const pp = "pipeline_parallel_degree = 2\npipeline_parallel_microbatch_size = 1";
    await refused(["--engine", engine, "--model", "qwen3-30b-a3b", "--gpus", "64", "--from", job("qwen3", "30B-A3B", pp)], "parallelism.pipeline_parallel_degree = 2 (line 9) with qwen3, whose TrainSpec has no pipelining_fn", "torchtitan/train.py:221-226");
    const tiny = file("json", JSON.stringify({ name: "tt-debug", layers: 6, hidden: 256, heads: 16, ffnHidden: 768, vocab: 2048, seqLen: 4096, mlp: "swiglu", positional: "rope" }));
    await refused(["--model", tiny, "--gpus", "8", "--from", job("llama3", "debugmodel_flex_attn", "context_parallel_degree = 2")], "parallelism.context_parallel_degree = 2 (line 9) with llama3 \"debugmodel_flex_attn\", which runs FlexAttention", "torchtitan/models/llama3/infra/parallelize.py:71-72 @ v0.2.0");
    expect((await accepted(["--model", tiny, "--gpus", "8", "--from", job("llama3", "debugmodel_flex_attn")])).from.plan).toMatchObject({ dp: 8 });
    // (llama4 debugmodel_irope: every 4th layer NoPE, the others within blocks of 256, llama4/__init__.py:61)
    const irope = file("json", JSON.stringify({ name: "l4-debug", layers: 6, hidden: 256, heads: 16, ffnHidden: 768, vocab: 2048, seqLen: 4096, mlp: "swiglu", positional: "rope", moe: { experts: 8, topK: 1, sharedExperts: 1, expertFfnHidden: 512, layerFreq: 2, router: "sigmoid" } }));
    await refused(["--engine", engine, "--model", irope, "--gpus", "8", "--from", job("llama4", "debugmodel_irope")], "attends within fixed blocks of 256 tokens", "training.seq_len = 4096 (line 6)", "chunked attention, which paraplan does not model");
    expect((await accepted(["--engine", engine, "--model", irope, "--gpus", "8", "--from", job("llama4", "debugmodel_irope", "", 256)])).from.plan).toMatchObject({ dp: 8 });
  });

  it("a model outside torchtitan's registry (llama3_ft's DiLoCo, a user's entry) stays a warning", async () => {
    const r = await accepted(["--model", "llama3-8b", "--gpus", "8", "--from", job("my_llama", "8B")]);
    expect(r.from.warnings.join("\n")).toContain('model.name "my_llama" flavor "8B": a model paraplan cannot check against --model llama3-8b; read as it');
  });
});

describe("the torchtitan export names the flavor that builds the preset", () => {
  const ctx = (m: string) => ({ model: model(m), gpus: 64, defaultGpus: 8, defaultGpusFrom: "test" });
  const exported = (m: string, p = plan({ dp: 64, zero: 3, recompute: "full" })) => {
    const r = exportPlan("torchtitan", model(m), p, training({ seqLen: 4096, globalBatch: 512 }), h100);
    return { r, text: r.files[0]!.content, t: parseToml(r.files[0]!.content, "torchtitan.toml") as Record<string, Record<string, unknown>> };
  };

  it("deepseek-v2-lite: deepseek_v3 \"16B\", its norm epsilon and FlexAttention in notes; read back as itself", () => {
    const { r, text, t } = exported("deepseek-v2-lite");
    expect(t.model).toEqual({ name: "deepseek_v3", flavor: "16B" });
    expect(text).not.toContain("ships no");
    expect(text).toContain('# deepseek_v3 flavor "16B" builds deepseek-v2-lite\'s sizes with rotary base 10000, rope scaling none, norm epsilon 0.00001');
    // (DeepSeekV3ModelArgs.norm_eps 1e-5, which the 16B flavor keeps; DeepSeek-V2-Lite's rms_norm_eps is 1e-6)
    expect(r.notes.join("\n")).toContain("where deepseek-v2-lite has rotary base 10000, rope scaling none, norm epsilon 0.000001");
    expect(r.notes.join("\n")).toContain("runs FlexAttention with block_causal masks");
    const back = readConfigs([file("toml", text)], ctx("deepseek-v2-lite"));
    expect(back.plan).toMatchObject({ dp: 64, zero: 3, recompute: "full" });
  });

  it("qwen3-30b-a3b: qwen3 \"30B-A3B\", the same facts, no note; beside a pipeline qwen3 has none, so [model] is left, said", () => {
    const { r, t } = exported("qwen3-30b-a3b");
    expect(t.model).toEqual({ name: "qwen3", flavor: "30B-A3B" });
    expect(r.notes).toEqual([]);
    const piped = exported("qwen3-30b-a3b", plan({ pp: 2, dp: 32, zero: 1, recompute: "full" }));
    expect(piped.t.model).toEqual({});
    expect(piped.text).toContain('# torchtitan\'s qwen3 flavor "30B-A3B" builds qwen3-30b-a3b\'s sizes but has no pipelining_fn');
    expect(piped.r.notes.join("\n")).toContain("[model] is left for your own registry entry");
  });

  it("qwen3-235b-a22b: its flavor's rotary base 5,000,000 (qwen3/__init__.py:178) against the preset's 1,000,000 is a note; mixtral and deepseek-v3 are no flavor", () => {
    const { r, t } = exported("qwen3-235b-a22b", plan({ dp: 64, zero: 3, recompute: "full" }));
    expect(t.model).toEqual({ name: "qwen3", flavor: "235B-A22B" });
    expect(r.notes.join("\n")).toContain('torchtitan\'s qwen3 flavor "235B-A22B" builds rotary base 5000000');
    for (const m of ["mixtral-8x7b", "deepseek-v3"]) expect(exported(m).text).toContain(`# torchtitan ships no ${m}`);
  });
});
