// Uneven pipeline stages in the exports: Megatron-LM core_r0.14 states [first, middle…, last] with
// --decoder-first/last-pipeline-num-layers, torchtitan v0.2.0 with module_fqns_per_model_part
// (each stage's module names); both read back to the same plan. Releases without the options, DeepSpeed, and
// splits Megatron cannot state are refused with the reason.
import { afterAll, describe, expect, it } from "vitest";
import { exportPlan } from "../../src/engines/export-plan.js";
import { readConfigs } from "../../src/engines/read-back.js";
import { parseToml } from "../../src/engines/toml.js";
import { LLAMA, LLAMA2, argValue, h100, model, plan, refusalMessage, removeTemp, tempFile, training } from "./helpers.js";

afterAll(removeTemp);

// Llama 3 70B: 80 layers; tp 8 · pp 4 · dp 2 on 64 GPUs; 19 + 21 + 21 + 19 = 80.
const m = model(LLAMA);
const uneven = plan({ tp: 8, pp: 4, zero: 1, stageLayers: [19, 21, 21, 19] });
const t = training();

function readBack(format: "megatron" | "torchtitan", p: typeof uneven, release: string) {
  const r = exportPlan(format, m, p, t, h100, { release });
  const paths = r.files.map((f, i) => tempFile(`stages-${format}-${release}-${i}-${f.name}`, f.content));
  return { exported: r, back: readConfigs(paths, { model: m, gpus: t.gpus, defaultGpus: 1, defaultGpusFrom: "test" }) };
}
const refusal = refusalMessage;

describe("Megatron-LM", () => {
  it("core_r0.14: --decoder-first-pipeline-num-layers 19, --decoder-last-pipeline-num-layers 19, read back as [19,21,21,19]", () => {
    const { exported, back } = readBack("megatron", uneven, "core_r0.14");
    const args = exported.files[0]!.content;
    expect(argValue(args, "--decoder-first-pipeline-num-layers")).toBe("19");
    expect(argValue(args, "--decoder-last-pipeline-num-layers")).toBe("19");
    expect(back.plan).toEqual(uneven);
    expect(back.warnings).toEqual([]);
  });
  it("pp 2: [39, 41] is first and last", () => {
    const p = plan({ tp: 8, pp: 2, zero: 1, stageLayers: [39, 41] });
    const { exported, back } = readBack("megatron", p, "core_r0.14");
    expect(argValue(exported.files[0]!.content, "--decoder-last-pipeline-num-layers")).toBe("41");
    expect(back.plan).toEqual(p);
  });
  it("even stages write neither flag", () => {
    const args = exportPlan("megatron", m, plan({ tp: 8, pp: 4, zero: 1 }), t, h100).files[0]!.content;
    expect(argValue(args, "--decoder-first-pipeline-num-layers")).toBeUndefined();
  });
  it("refuses unequal middle stages and core_v0.7 (no such flags), with the reason", () => {
    expect(refusal(() => exportPlan("megatron", m, { ...uneven, stageLayers: [19, 20, 22, 19] }, t, h100))).toMatch(/first and last stage .*19,20,22,19 has unequal middle stages/);
    expect(refusal(() => exportPlan("megatron", model("llama2-70b"), uneven, t, h100, { release: "core_v0.7" }))).toMatch(/core_v0\.7\.0 does not have/);
    // Virtual stages: the two flags set whole ranks, not each of the 8 virtual stages; only the
    // accounted split is stated (below), which for 80 layers needs pp·vpp = 8 to divide 82.
    const v2 = { ...uneven, vpp: 2, schedule: "interleaved" as const, stageLayers: [9, 10, 10, 10, 10, 10, 10, 11] };
    expect(refusal(() => exportPlan("megatron", m, v2, t, h100, { release: "core_r0.14" }))).toMatch(/needs pp·vpp = 8 to divide the 80 layers \+ 2/);
  });
  it("virtual stages: the accounted split, --account-for-embedding/loss-in-pipeline-split, read back as the same split and vpp", () => {
    // Llama 3 405B's 126 layers on tp 8 · pp 4 · vpp 2 (64 GPUs): 128 units / (4·2) = 16 a virtual
    // stage, the first and the last 15 (core_r0.14 get_num_layers_to_build).
    const m405 = model("llama3-405b");
    const p = plan({ tp: 8, pp: 4, vpp: 2, zero: 1, schedule: "interleaved", stageLayers: [15, 16, 16, 16, 16, 16, 16, 15] });
    const r = exportPlan("megatron", m405, p, t, h100, { release: "core_r0.14" });
    const args = r.files[0]!.content;
    expect(args).toContain("--account-for-embedding-in-pipeline-split");
    expect(args).toContain("--account-for-loss-in-pipeline-split");
    expect(argValue(args, "--num-virtual-stages-per-pipeline-rank")).toBe("2");
    expect(argValue(args, "--decoder-first-pipeline-num-layers")).toBeUndefined();
    const paths = r.files.map((f, i) => tempFile(`stages-accounted-${i}-${f.name}`, f.content));
    expect(readConfigs(paths, { model: m405, gpus: t.gpus, defaultGpus: 1, defaultGpusFrom: "test" }).plan).toEqual(p);
    // whole ranks: --decoder-first/last-pipeline-num-layers 30 and 32 cut into 15 + 15 and 16 + 16,
    // the middle ranks (126 − 30 − 32)/2 = 32 into 16 + 16: virtual stages 15, 16, 16, 16, 15, 16, 16, 16
    const ranks = { ...p, stageLayers: [15, 16, 16, 16, 15, 16, 16, 16] };
    const w = exportPlan("megatron", m405, ranks, t, h100, { release: "core_r0.14" });
    expect(argValue(w.files[0]!.content, "--decoder-first-pipeline-num-layers")).toBe("30");
    expect(argValue(w.files[0]!.content, "--decoder-last-pipeline-num-layers")).toBe("32");
    expect(w.files[0]!.content).not.toContain("--account-for");
    const wPaths = w.files.map((f, i) => tempFile(`stages-ranks-${i}-${f.name}`, f.content));
    expect(readConfigs(wPaths, { model: m405, gpus: t.gpus, defaultGpus: 1, defaultGpusFrom: "test" }).plan).toEqual(ranks);
    // another split of the same eight virtual stages is refused, naming the one Megatron builds
    expect(refusal(() => exportPlan("megatron", m405, { ...p, stageLayers: [16, 15, 16, 16, 16, 16, 16, 15] }, t, h100, { release: "core_r0.14" }))).toMatch(/\(15,16×6,15 for pp 4 · vpp 2\)/);
  });
});

describe("torchtitan", () => {
  /** module_fqns_per_model_part as written: each stage's module names. */
  const parts = (content: string) => {
    const t = parseToml(content, "torchtitan.toml") as Record<string, Record<string, unknown>>;
    return t.parallelism!.module_fqns_per_model_part as string[][];
  };
  const layersOf = (part: string[]) => part.filter((n) => n.startsWith("layers.")).map((n) => Number(n.slice(7)));
  it("v0.2.0: module_fqns_per_model_part with layers 0-18, 19-39, 40-60, 61-79, read back as [19,21,21,19]", () => {
    const { exported, back } = readBack("torchtitan", uneven, "0.2");
    const content = exported.files[0]!.content;
    // (v0.2.0 has no pipeline_parallel_split_points: _dict_to_dataclass raises on the key)
    expect(content).not.toContain("pipeline_parallel_split_points");
    expect(content).not.toContain("pipeline_parallel_layers_per_stage");
    const p = parts(content);
    // running sums 19, 40, 61: stage s holds layers [sum before, sum through s)
    expect(p.map(layersOf)).toEqual([range(0, 19), range(19, 40), range(40, 61), range(61, 80)]);
    expect([p[0]![0], p[3]!.slice(-2)]).toEqual(["tok_embeddings", ["norm", "output"]]);
    expect(content).toContain('module_fqns_per_model_part = [\n  ["tok_embeddings", "layers.0", "layers.1",');
    // (torchtitan runs ZeRO-1 as its nearest, FSDP: the plan it runs is the one read back)
    expect(exported.plan.stageLayers).toEqual([19, 21, 21, 19]);
    expect(back.plan).toEqual(exported.plan);
    expect(back.notes.join("\n")).not.toMatch(/uneven/);
  });
  it("v0.2.0 writes any split, unequal middles too: [19,20,22,19] → 19, 20, 22, 19 names of layers", () => {
    const p = { ...uneven, stageLayers: [19, 20, 22, 19] };
    const { exported, back } = readBack("torchtitan", p, "0.2");
    expect(parts(exported.files[0]!.content).map((x) => layersOf(x).length)).toEqual([19, 20, 22, 19]);
    expect(back.plan).toEqual(exported.plan);
    expect(back.plan.stageLayers).toEqual([19, 20, 22, 19]);
  });
  it("v0.2.0 with vpp 2: eight virtual stages [9,10,11,10,10,10,11,9], read back as the same split and vpp", () => {
    // Running sums 9, 19, 30, 40, 50, 60, 71; rank r runs stages r and r + 4 (pipeline_module_split "loop").
    const p = { ...uneven, vpp: 2, schedule: "interleaved" as const, stageLayers: [9, 10, 11, 10, 10, 10, 11, 9] };
    const { exported, back } = readBack("torchtitan", p, "0.2");
    expect(parts(exported.files[0]!.content).map((x) => layersOf(x)[0])).toEqual([0, 9, 19, 30, 40, 50, 60, 71]);
    expect(back.plan).toEqual(exported.plan);
    expect([back.plan.vpp, back.plan.stageLayers]).toEqual([2, [9, 10, 11, 10, 10, 10, 11, 9]]);
    expect(back.notes.join("\n")).not.toMatch(/uneven/);
  });
  it("main: uneven stages are module_fqns_per_model_part there, which its overrides do not carry: refused with that reason", () => {
    const why = refusal(() => exportPlan("torchtitan", m, uneven, t, h100, { release: "main" }));
    expect(why).toMatch(/^--format torchtitan: uneven stages \(19,21,21,19\): torchtitan main states them only as parallelism\.module_fqns_per_model_part/);
    expect(why).toContain("use --release 0.2, whose TOML job file writes it");
    expect(why).not.toContain("split_points");
  });
  it("a file of the releases before v0.2.0 (split points) still reads, with a note that v0.2.0 rejects the key", () => {
    const old = exportPlan("torchtitan", m, uneven, t, h100).files[0]!.content.replace(/module_fqns_per_model_part = \[[^]*?\n\]/, 'pipeline_parallel_split_points = ["layers.19", "layers.40", "layers.61"]');
    const back = readConfigs([tempFile("old-split.toml", old)], { model: m, gpus: t.gpus, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.plan.stageLayers).toEqual([19, 21, 21, 19]);
    expect(back.notes.join("\n")).toContain("pipeline_parallel_split_points is a key of torchtitan before v0.2.0, which rejects it");
  });
  it("module names out of order, a layer twice or missing, or the output off the last stage are refused", () => {
    const content = exportPlan("torchtitan", m, uneven, t, h100).files[0]!.content;
    const read = (text: string) => () => readConfigs([tempFile("bad-fqns.toml", text)], { model: m, gpus: t.gpus, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(read(content.replace('"layers.19", "layers.20"', '"layers.20", "layers.19"'))).toThrow(/module_fqns_per_model_part = .*: stage 1 lists layers\.20 where layers\.19 comes next/);
    expect(read(content.replace('"layers.79", ', ""))).toThrow(/lists 79 layers and the model has 80/);
    expect(read(content.replace('"layers.79", "norm", "output"', '"layers.79"').replace('["tok_embeddings", ', '["tok_embeddings", "output", '))).toThrow(/stage 0 lists "output"/);
  });
});

/** The integers lo … hi − 1. */
function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo }, (_, i) => lo + i);
}

describe("DeepSpeed", () => {
  it("mapped to the split DeepSpeed 0.16 makes by itself: 80 layers evenly on 4 stages, said in a note", () => {
    // Llama 2 70B, 80 layers too, which Megatron-DeepSpeed's arguments build (Llama 3.1's rope
    // scaling they cannot)
    const r = exportPlan("deepspeed", model(LLAMA2), uneven, t, h100);
    const { stageLayers, ...even } = uneven;
    expect(stageLayers).toEqual([19, 21, 21, 19]);
    expect(r.plan).toEqual(even);
    expect(r.notes.join("\n")).toContain("DeepSpeed 0.16 splits the 80 layers over 4 stages evenly by itself (partition_method type:transformer, the smallest spread between stages), not 19,21,21,19; exported and predicted with DeepSpeed's split");
  });
});

describe("the release a torchtitan file belongs to", () => {
  it("main's overrides free the last stage's logits (keptOutputBytes 0); a 0.2 TOML file keeps the engine's (2, undefined here)", () => {
    const even = plan({ tp: 8, pp: 4, zero: 1 });
    expect(readBack("torchtitan", even, "main").back.keptOutputBytes).toBe(0);
    expect(readBack("torchtitan", even, "0.2").back.keptOutputBytes).toBeUndefined();
  });
});

// An fp16 export priced fp32 gradient reduction (megatron-core's) but wrote no
// --accumulate-allreduce-grads-in-fp32, so Megatron would reduce in fp16 and the file read back
// at another speed (504,495 against 508,797 tokens/s for llama3-8b on 64 GPUs).
describe("an fp16 Megatron export reduces gradients as it was priced", () => {
  it("writes --accumulate-allreduce-grads-in-fp32, and reads back with fp32 reduction", () => {
    const t16 = { ...training(), precision: "fp16" as const };
    const r = exportPlan("megatron", m, plan({ tp: 8, pp: 4, zero: 1 }), t16, h100, { release: "core_r0.14" });
    const args = r.files[0]!.content;
    expect(args).toContain("--fp16");
    expect(args).toContain("--accumulate-allreduce-grads-in-fp32");
    const back = readConfigs([tempFile("fp16-args.txt", args)], { model: m, gpus: t16.gpus, defaultGpus: 1, defaultGpusFrom: "test" });
    expect(back.precision).toBe("fp16");
    expect(back.gradReduceInBf16 ?? false).toBe(false);
    expect(back.gradReduceInFp32).toBe(true);
  });
});
