// torchtitan exports against what the releases read (QA, 2025): v0.2.0's job file names the
// model's flavor truthfully (every llama3 flavor applies Llama 3.1's RoPE scaling), zb1p at one
// stage per rank is what v0.2.0 builds from module names and main refuses, and the settings no
// release has a knob for (--grad-reduce-in-bf16, --no-grad-overlap, --attention unfused) are exit 2
// naming the flag rather than a file that runs something else than was priced.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { torchtitanRefusal } from "../../planner/layout/capabilities.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { parseToml } from "../../src/engines/toml.js";
import { cli, h100, model, plan, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

const header = (content: string) => content.split("\n").filter((l) => l.startsWith("#")).join("\n");

describe("the model a v0.2.0 job file names", () => {
  it('llama3-8b: flavor "8B" builds RoPE scaling factor 8 (RoPEScalingArgs), which the header says and a note contrasts with the preset\'s none', () => {
    const r = exportPlan("torchtitan", model("llama3-8b"), plan({ zero: 3 }), training(), h100);
    const h = header(r.files[0]!.content);
    expect(h).toContain('llama3 flavor "8B" builds llama3-8b\'s sizes with rotary base 500000, rope scaling llama3 factor 8, low 1, high 4, original 8192, norm epsilon 0.00001, untied embeddings');
    // the header no longer asks the registry entry for "rope scaling none", which "8B" is not
    expect(h).not.toContain("rope scaling none");
    expect(r.notes.join("\n")).toContain('torchtitan\'s llama3 flavor "8B" builds rotary base 500000, rope scaling llama3 factor 8, low 1, high 4, original 8192, norm epsilon 0.00001, untied embeddings, where llama3-8b has rotary base 500000, rope scaling none, norm epsilon 0.00001, untied embeddings');
    expect(parseToml(r.files[0]!.content, "t.toml").model).toEqual({ name: "llama3", flavor: "8B" });
  });
  it("llama3-405b has Llama 3.1's scaling itself: the header states it, no note; a model torchtitan lacks keeps the facts to give its registry entry", () => {
    const r = exportPlan("torchtitan", model("llama3-405b"), plan({ zero: 3 }), training(), h100);
    expect(header(r.files[0]!.content)).toContain('llama3 flavor "405B" builds llama3-405b\'s sizes with rotary base 500000, rope scaling llama3 factor 8');
    expect(r.notes.join("\n")).not.toContain("flavor");
    const gpt = exportPlan("torchtitan", model("gpt3-175b"), plan({ zero: 3 }), training(), h100);
    expect(header(gpt.files[0]!.content)).toContain("model facts the registry entry must have (the job file cannot state them): norm epsilon 0.00001, tied embeddings");
  });
});

describe("zb1p at one stage per rank", () => {
  const ctx = { precision: "bf16" as const, globalBatch: 512, seqLen: 2048, ffnHidden: 28672, gpus: 64, gpusPerNode: 8 };
  const zb1 = plan({ tp: 8, pp: 2, zero: 1, schedule: "zb1p", sequenceParallel: true });
  it("main refuses it (its pipeline_llm raises \"Multi-stage schedule requires at least 2 stages per rank\"); v0.2.0 and vpp 2 do not", () => {
    expect(torchtitanRefusal(zb1, { ...ctx, release: "main" })?.code).toBe("torchtitan_multi_stage");
    expect(torchtitanRefusal(zb1, { ...ctx, release: "main" })?.reason).toMatch(/^zb1p at vpp 1: torchtitan main runs InterleavedZeroBubble, a multi-stage schedule, with at least 2 stages per rank/);
    expect(torchtitanRefusal({ ...zb1, vpp: 2 }, { ...ctx, release: "main" })).toBeNull();
    expect(torchtitanRefusal(zb1, { ...ctx, release: "0.2" })).toBeNull();
  });
  it("v0.2.0 writes it as module names (two stages of 40 layers), not layers per stage, and reads it back as zb1p at vpp 1", () => {
    const m = model("llama3-70b");
    const r = exportPlan("torchtitan", m, zb1, training(), h100);
    const par = parseToml(r.files[0]!.content, "t.toml").parallelism as Record<string, unknown>;
    expect(par.pipeline_parallel_schedule).toBe("InterleavedZeroBubble");
    expect(par).not.toHaveProperty("pipeline_parallel_layers_per_stage");
    // 80 layers / pp 2 = 40 a stage, the embedding on the first, norm and output on the last
    const parts = par.module_fqns_per_model_part as string[][];
    expect(parts.map((p) => p.length)).toEqual([1 + 40, 40 + 2]);
    expect([parts[0]![40], parts[1]![0]]).toEqual(["layers.39", "layers.40"]);
    const back = readConfigs([tempFile("zb1.toml", r.files[0]!.content)], { model: m, gpus: 64, defaultGpus: 1, defaultGpusFrom: "test" });
    expect([back.plan.schedule, back.plan.vpp, back.plan.stageLayers]).toEqual(["zb1p", 1, undefined]);
  });
  it("a file sizing zb1p's stages as one a rank by layers per stage is refused as torchtitan refuses it", () => {
    // 32 layers / 16 a stage = 2 stages on pp 2: one a rank
    const text = "--parallelism.pipeline_parallel_degree 2\n--parallelism.pipeline_parallel_schedule InterleavedZeroBubble\n--parallelism.pipeline_parallel_layers_per_stage 16\n--parallelism.pipeline_parallel_first_stage_less_layers 0\n--parallelism.pipeline_parallel_last_stage_less_layers 0\n--training.local_batch_size 64\n--training.global_batch_size 512\n";
    expect(() => readConfigs([tempFile("zb1-overrides.txt", text)], { model: model("llama3-8b"), gpus: 16, defaultGpus: 1, defaultGpusFrom: "test" })).toThrow(
      /--parallelism\.pipeline_parallel_layers_per_stage 16 \(line 3\) gives one stage per rank, and torchtitan runs InterleavedZeroBubble, a multi-stage schedule, with at least 2/,
    );
  });
  it("export --release main for llama3-8b on 16 GPUs at pp 2 no longer picks zb1p at vpp 1; what it writes reads back as itself", async () => {
    const dir = tempFile("main-pp2-marker", "") + "-dir";
    const r = await cli(["export", "--format", "torchtitan", "--release", "main", "--model", "llama3-8b", "--gpus", "16", "--pp", "2", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    // (with --out the summary is the standard output)
    const line = r.stdout.split("\n").find((l) => l.startsWith("torchtitan (main): "))!;
    // QA saw "tp 1 · pp 2 · dp 8 · ZeRO-1 · micro-batch 1 · no recompute · ZB1P zero bubble", which
    // main refuses; a zb1p plan now has two stages a rank or more
    expect(line).toMatch(/^torchtitan \(main\): tp \d+ · pp 2 · /);
    if (line.includes("ZB1P")) expect(line).toMatch(/ · vpp [2-9]/);
    const overrides = readFileSync(`${dir}/torchtitan-overrides.txt`, "utf8");
    const back = await cli(["plan", "--from", `${dir}/torchtitan-overrides.txt`, "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1"]);
    expect(back.code, back.stderr).toBe(0);
    const predicted = /predicted ([\d,]+) tokens\/s/.exec(r.stdout)![1]!.replace(/,/g, "");
    expect(Math.round(JSON.parse(back.stdout).from.plan.tokensPerSecond)).toBe(Number(predicted));
    expect(overrides).toContain("--parallelism.pipeline_parallel_degree 2");
  });
});

describe("layers per stage with the embedding and output weighted (torchtitan's defaults, 1 and 1)", () => {
  const read = (extra: string) =>
    readConfigs([tempFile("per-stage.txt", `--parallelism.pipeline_parallel_degree 4\n--parallelism.data_parallel_shard_degree 4\n--training.local_batch_size 128\n--training.global_batch_size 512\n${extra}`)], { model: model("llama3-8b"), gpus: 16, defaultGpus: 1, defaultGpusFrom: "test" });
  it("32 layers, 9 a stage: ⌈(32 + 1 + 1)/9⌉ = 4 stages of 34 effective layers, one more on the first two, less the weights: 8, 9, 8, 7", () => {
    // pipeline_llm @ v0.2.0: S = ⌈34/9⌉ = 4; generate_llm_fqn_per_model_part: per = ⌊34/4⌋ = 8,
    // extra = 34 mod 4 = 2; stage 0: 8 + 1 − 1 = 8, stage 1: 8 + 1 = 9, stage 2: 8, stage 3:
    // 8 − 1 = 7 (sum 32)
    const back = read("--parallelism.pipeline_parallel_layers_per_stage 9\n");
    expect([back.plan.pp, back.plan.vpp, back.plan.stageLayers]).toEqual([4, 1, [8, 9, 8, 7]]);
  });
  it("with both weights 0, as the export writes them, 8 a stage are 4 equal stages (no stageLayers)", () => {
    const back = read("--parallelism.pipeline_parallel_layers_per_stage 8\n--parallelism.pipeline_parallel_first_stage_less_layers 0\n--parallelism.pipeline_parallel_last_stage_less_layers 0\n");
    expect([back.plan.pp, back.plan.vpp, back.plan.stageLayers]).toEqual([4, 1, undefined]);
  });
});

describe("settings no torchtitan release has a knob for: exit 2 naming the flag", () => {
  // (QA: the 0.2 export priced --no-grad-overlap at 107,850 tokens/s and its file read back at
  // 114,666; --attention unfused at 85,503 against 105,750)
  it.each([
    ["--grad-reduce-in-bf16", [], /--grad-reduce-in-bf16: torchtitan's training\.mixed_precision_reduce takes "float32" only/],
    ["--no-grad-overlap", [], /--no-grad-overlap: torchtitan's FSDP2 reduce-scatters each block's gradients during the backward/],
    ["--attention", ["unfused"], /--attention unfused: torchtitan runs F\.scaled_dot_product_attention/],
  ] as const)("%s %s", async (flag, value, says) => {
    for (const release of ["0.2", "main"]) {
      const r = await cli(["export", "--format", "torchtitan", "--release", release, "--model", "llama3-8b", "--gpus", "16", flag, ...value]);
      expect(r.code, release).toBe(2);
      expect(r.errLines, release).toHaveLength(1);
      expect(r.errLines[0], release).toMatch(new RegExp(`^paraplan: --format torchtitan: ${says.source}`));
    }
  });
  it("without them the same export is exit 0, and --attention fused (the default) stays allowed", async () => {
    expect((await cli(["export", "--format", "torchtitan", "--model", "llama3-8b", "--gpus", "16"])).code).toBe(0);
    expect((await cli(["export", "--format", "torchtitan", "--model", "llama3-8b", "--gpus", "16", "--attention", "fused"])).code).toBe(0);
  });
});

// QA: the embedding's and output's weights (pipeline_parallel_first/last_stage_less_layers) were
// read only beside pipeline_parallel_layers_per_stage: pp 2 with weights 8 and 0 priced 16/16
// where torchtitan builds 12/20, and the defaults (1, 1) at pp 4 priced 8 × 4 where it builds
// 8, 9, 8, 7. The cuts by hand from generate_llm_fqn_per_model_part (pipeline_parallel.py @ v0.2.0:
// E = L + first + last effective layers, ⌊E/S⌋ a stage, one more on the first E mod S, less the
// weights on the first and the last).
describe("stages torchtitan cuts by the embedding's and output's weights without layers per stage", () => {
  const job = (parallelism: string) =>
    `[model]\nname = "llama3"\nflavor = "8B"\n[training]\nlocal_batch_size = 8\nglobal_batch_size = 64\nseq_len = 4096\n[activation_checkpoint]\nmode = "full"\n[parallelism]\ndata_parallel_shard_degree = -1\n${parallelism}\n`;
  const read = (name: string, parallelism: string) => readConfigs([tempFile(name, job(parallelism))], { model: model("llama3-8b"), gpus: 16, defaultGpus: 1, defaultGpusFrom: "test" });
  it("pp 2, first 8, last 0: E = 32 + 8 = 40, 20 a stage: 20 − 8 = 12 and 20 → [12, 20]", () => {
    const back = read("w80.toml", "pipeline_parallel_degree = 2\npipeline_parallel_first_stage_less_layers = 8\npipeline_parallel_last_stage_less_layers = 0");
    expect([back.plan.pp, back.plan.vpp, back.plan.stageLayers]).toEqual([2, 1, [12, 20]]);
  });
  it("pp 2, the defaults 1 and 1 (no key): E = 34, 17 a stage: 16 and 16, even, no note", () => {
    const back = read("w-pp2.toml", "pipeline_parallel_degree = 2");
    expect([back.plan.pp, back.plan.stageLayers]).toEqual([2, undefined]);
    expect(back.notes.join("\n")).not.toContain("less_layers");
  });
  it("pp 4, the defaults: E = 34, 8 a stage and one more on stages 0 and 1: 9 − 1, 9, 8, 8 − 1 → [8, 9, 8, 7], said", () => {
    const back = read("w-pp4.toml", "pipeline_parallel_degree = 4").plan;
    expect([back.pp, back.dp, back.stageLayers]).toEqual([4, 4, [8, 9, 8, 7]]);
    const notes = read("w-pp4.toml", "pipeline_parallel_degree = 4").notes.join("\n");
    expect(notes).toContain("pipeline_parallel_first_stage_less_layers and pipeline_parallel_last_stage_less_layers not set: torchtitan's defaults, 1 and 1, cut the 32 layers 8,9,8,7");
  });
  it("Interleaved1F1B at pp 2, the defaults: 2 · 2 = 4 virtual stages of E = 34 → [8, 9, 8, 7] at vpp 2", () => {
    const back = read("w-int.toml", 'pipeline_parallel_degree = 2\npipeline_parallel_schedule = "Interleaved1F1B"');
    expect([back.plan.vpp, back.plan.schedule, back.plan.stageLayers]).toEqual([2, "interleaved", [8, 9, 8, 7]]);
  });
  it("ZBVZeroBubble at pp 2, the defaults: 4 stages 8, 9, 8, 7, which paraplan's equal V stages are not: exit 2 naming the weights", () => {
    expect(() => read("w-zbv.toml", 'pipeline_parallel_degree = 2\npipeline_parallel_schedule = "ZBVZeroBubble"')).toThrow(
      /pipeline_parallel_degree = 2 \(line 12\), with torchtitan's default pipeline_parallel_first_stage_less_layers 1 and pipeline_parallel_last_stage_less_layers 1: torchtitan cuts the 32 layers 8,9,8,7 over the ZBVZeroBubble schedule's 4 stages/,
    );
    // both weights 0: E = 32, 8 a stage, equal: read
    expect(read("w-zbv0.toml", 'pipeline_parallel_degree = 2\npipeline_parallel_schedule = "ZBVZeroBubble"\npipeline_parallel_first_stage_less_layers = 0\npipeline_parallel_last_stage_less_layers = 0').plan.vpp).toBe(2);
  });
  it("the weights 8 and 0 are priced as the same 12/20 stated by module names, not as 16/16", async () => {
    const tokens = async (name: string, parallelism: string) => {
      const r = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", tempFile(name, job(parallelism)), "--json", "--top", "1"]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).from.plan.tokensPerSecond as number;
    };
    const fqns = (counts: number[]) => {
      let at = 0;
      const parts = counts.map((n, i) => [...(i === 0 ? ["tok_embeddings"] : []), ...Array.from({ length: n }, () => `layers.${at++}`), ...(i === counts.length - 1 ? ["norm", "output"] : [])]);
      return `module_fqns_per_model_part = ${JSON.stringify(parts)}`;
    };
    const weighed = await tokens("t-w80.toml", "pipeline_parallel_degree = 2\npipeline_parallel_first_stage_less_layers = 8\npipeline_parallel_last_stage_less_layers = 0");
    expect(weighed).toBe(await tokens("t-f1220.toml", `pipeline_parallel_degree = 2\n${fqns([12, 20])}`));
    expect(weighed).not.toBe(await tokens("t-f1616.toml", `pipeline_parallel_degree = 2\n${fqns([16, 16])}`));
    // a V schedule's stages stated unevenly by name: exit 2, not priced as four equal ones
    const v = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--from", tempFile("t-zbv.toml", job(`pipeline_parallel_degree = 2\npipeline_parallel_schedule = "ZBVZeroBubble"\n${fqns([7, 9, 9, 7])}`))]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("module_fqns_per_model_part gives the ZBVZeroBubble schedule's 4 stages 7,9,9,7 layers, and paraplan models a V schedule's stages equal");
  });
});
