// --stage-layers a,b,… (uneven pipeline stages) on plan, export and execute: bad input is exit 2
// with one line naming the flag; a good split reaches the plan table and the JSON.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "./helpers.js";
import { CLI, build, tmp } from "../executor/e2e-helpers.js";

afterAll(removeTempFiles);

// gpt3-1.3b: 24 layers; 16 GPUs, pp 4 from the split's length.
const PLAN = ["plan", "--model", "gpt3-1.3b", "--gpus", "16", "--global-batch", "64", "--seq", "2048", "--profile", "dgx-h100", "--simulate-top", "0"];

describe("bad --stage-layers: exit 2, one line naming the flag", () => {
  it.each([
    ["5,7,x", /--stage-layers: "5,7,x" is not a comma-separated list of layer counts/],
    ["5,,7", /--stage-layers: "5,,7" is not a comma-separated list/],
    ["0,8,8,8", /--stage-layers: 0,8,8,8 leaves stage 0 without layers/],
    ["5,7,7,6", /--stage-layers: 5,7,7,6 sums to 25, not the model's 24 layers/],
  ])("plan --stage-layers %s", async (value, message) => {
    const r = await runCli([...PLAN, "--stage-layers", value]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(message);
  });
  it("a count that is not pp's: named with pp", async () => {
    const r = await runCli([...PLAN, "--pp", "2", "--stage-layers", "5,7,7,5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stage-layers: 5,7,7,5 lists 4 stages but pp = 2/);
  });
  it("with virtual stages, one count per rank: refused, asking for one per virtual stage", async () => {
    const r = await runCli([...PLAN, "--pp", "4", "--vpp", "2", "--stage-layers", "5,7,7,5"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/--stage-layers: with vpp 2 give one layer count per virtual stage \(pp·vpp = 8\), not one per rank \(4\)/);
  });
  it("with virtual stages in a V (zbv): refused", async () => {
    const r = await runCli([...PLAN, "--pp", "4", "--vpp", "2", "--schedule", "zbv", "--stage-layers", "2,3,3,3,2,3,5,3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--stage-layers: uneven stages \(2,3,3,3,2,3,5,3\) run with interleaved or zb1p/);
  });
  it("export and execute read the same flag", async () => {
    for (const cmd of [
      ["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16", "--stage-layers", "5,7,x"],
      ["execute", "--model", "gpt3-1.3b", "--gpus", "16", "--print-launch", "--stage-layers", "5,7,x"],
    ]) {
      const r = await runCli(cmd);
      expect(r.code, cmd[0]).toBe(2);
      expect(isOneLine(r.stderr), cmd[0]).toBe(true);
      expect(r.stderr, cmd[0]).toMatch(/--stage-layers: "5,7,x" is not a comma-separated list/);
    }
    const r = await runCli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16", "--stage-layers", "5,7,7,6"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toMatch(/--stage-layers: 5,7,7,6 sums to 25/);
  });
});

describe("a good split", () => {
  it("reaches the table (pp 4 [5,7,7,5]), the best plan's line and the JSON", async () => {
    const r = await runCli([...PLAN, "--stage-layers", "5,7,7,5", "--top", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("4 [5,7,7,5]");
    expect(r.stdout).toContain("pp 4 (stage layers 5,7,7,5)");
    expect(r.stdout).toMatch(/pipeline stage 2 of 4, the fullest/);
    const j = await runCli([...PLAN, "--stage-layers", "5,7,7,5", "--top", "2", "--json"]);
    const plans = (JSON.parse(j.stdout) as { plans: { stageLayers?: number[]; worstStage: string; worstStageIndex?: number }[] }).plans;
    expect(plans.map((p) => p.stageLayers)).toEqual([[5, 7, 7, 5], [5, 7, 7, 5]]);
    // the stage the text names, in the JSON too (index from 0: "stage 2 of 4")
    expect([plans[0]!.worstStage, plans[0]!.worstStageIndex]).toEqual(["middle", 1]);
  });
  it("export --format megatron writes the first and last stage's layers", async () => {
    const r = await runCli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--gpus", "16", "--global-batch", "64", "--stage-layers", "5,7,7,5", "--tp", "1", "--zero", "1"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("pp 4 (stage layers 5,7,7,5)");
    expect(r.stdout).toContain("--decoder-first-pipeline-num-layers 5");
    expect(r.stdout).toContain("--decoder-last-pipeline-num-layers 5");
  });
});

describe("a split of virtual stages (--vpp 2)", () => {
  it("pp 4 from 8 counts and --vpp 2: the plan keeps them, interleaved or zb1p, rank 2 (3 + 5 layers) the fullest", async () => {
    const r = await runCli([...PLAN, "--vpp", "2", "--stage-layers", "2,3,3,3,2,3,5,3", "--top", "2", "--json"]);
    expect(r.code).toBe(0);
    const plans = (JSON.parse(r.stdout) as { plans: { pp: number; vpp: number; schedule: string; stageLayers?: number[] }[] }).plans;
    expect(plans.length).toBeGreaterThan(0);
    for (const p of plans) {
      expect([p.pp, p.vpp, p.stageLayers]).toEqual([4, 2, [2, 3, 3, 3, 2, 3, 5, 3]]);
      expect(["interleaved", "zb1p"]).toContain(p.schedule);
    }
  });
  it("export: Megatron-LM refuses by code, torchtitan 0.2 writes the 8 stages' module names", async () => {
    const args = ["--model", "gpt3-1.3b", "--gpus", "16", "--global-batch", "64", "--vpp", "2", "--stage-layers", "2,3,3,3,2,3,5,3", "--tp", "1", "--zero", "1", "--schedule", "interleaved"];
    const meg = await runCli(["export", "--format", "megatron", ...args]);
    expect([meg.code, isOneLine(meg.stderr)]).toEqual([2, true]);
    expect(meg.stderr).toMatch(/megatron_stage_layers|cannot be expressed|2,3,3,3,2,3,5,3 is neither/);
    const tt = await runCli(["export", "--format", "torchtitan", "--release", "0.2", ...args]);
    expect(tt.code).toBe(0);
    // each stage's first layer is the running sum of the ones before it: 0, 2, 5, 8, 11, 13, 16, 21
    // (v0.2.0's module_fqns_per_model_part, one line a stage)
    const firsts = tt.stdout.split("\n").filter((l) => l.startsWith("  [")).map((l) => /"layers\.(\d+)"/.exec(l)![1]);
    expect(firsts).toEqual(["0", "2", "5", "8", "11", "13", "16", "21"]);
    // the last stage, 3 of gpt3-1.3b's 24 layers, with the final norm and the output layer
    expect(tt.stdout).toContain('  ["layers.21", "layers.22", "layers.23", "norm", "output"],');
  });
});

// README "Uneven stages": the even split given as a list prices as no list at all — Llama 3 8B's 32
// layers on pp 4 · vpp 2 are 4 a virtual stage, tiny's 4 on pp 2 · vpp 2 one each.
describe("an even split given as a list is no list", () => {
  const LLAMA = ["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "paraplan", "--simulate-top", "0", "--json", "--top", "5"];
  const plans = async (argv: string[]) => {
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { plans: Record<string, unknown>[] }).plans;
  };
  it("zbv at pp 4 · vpp 2 with 4,4,4,4,4,4,4,4: the plans without the list (it was refused as uneven stages in a V)", async () => {
    const given = await plans([...LLAMA, "--schedule", "zbv", "--vpp", "2", "--pp", "4", "--stage-layers", "4,4,4,4,4,4,4,4"]);
    expect(given.length).toBeGreaterThan(0);
    expect(given.every((p) => p.schedule === "zbv" && p.stageLayers === undefined)).toBe(true);
    expect(given).toEqual(await plans([...LLAMA, "--schedule", "zbv", "--vpp", "2", "--pp", "4"]));
  });
  it("a list of one count a rank keeps one stage a rank: 8,8,8,8 is pp 4 · vpp 1, as --pp 4 --vpp 1", async () => {
    const given = await plans([...LLAMA, "--stage-layers", "8,8,8,8"]);
    expect(given.every((p) => p.pp === 4 && p.vpp === 1 && p.stageLayers === undefined)).toBe(true);
    expect(given).toEqual(await plans([...LLAMA, "--pp", "4", "--vpp", "1"]));
    // (uneven lists stay lists: 7,9,9,7 is priced as given)
    expect((await plans([...LLAMA, "--stage-layers", "7,9,9,7"]))[0]!.stageLayers).toEqual([7, 9, 9, 7]);
  });
  it("execute: the worker runs 1,1,1,1 at vpp 2 interleaved as without the list, the same launch spec (it was refused: uneven stages one a rank)", () => {
    build();
    const run = (dir: string, list: string[]) =>
      execFileSync(process.execPath, [CLI, "execute", "--model", "tiny", "--gpus", "4", "--device", "cpu", "--pp", "2", "--vpp", "2", "--schedule", "interleaved", "--print-launch", "--run-dir", dir, ...list], { stdio: "pipe" });
    const [a, b] = [tmp(), tmp()].map((d) => join(d, "run"));
    run(a!, ["--stage-layers", "1,1,1,1"]); // (exit 2 would throw)
    run(b!, []);
    const spec = (dir: string) => readFileSync(join(dir, "launch.json"), "utf8").replaceAll(dir, "RUN");
    expect(spec(a!)).toEqual(spec(b!));
    expect(JSON.parse(spec(a!)).plan).toMatchObject({ pp: 2, vpp: 2, schedule: "interleaved" });
    expect(JSON.parse(spec(a!)).plan).not.toHaveProperty("stageLayers");
  }, 120_000);
});

describe("the default split when pp does not divide the layers", () => {
  it("--pp 16 on Llama 3 405B's 126 layers: one layer fewer on the first and last stage, said as assumed", async () => {
    const r = await runCli(["plan", "--model", "llama3-405b", "--gpus", "2048", "--pp", "16", "--vpp", "1", "--tp", "8", "--top", "1", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    // ⌊126/16⌋ = 7 on every stage, the 14 extra layers on the 14 middle ones (Llama 3 §3.3.2).
    expect(r.stdout).toContain("assumed: ");
    expect(r.stdout).toContain("stage layers 7,8,8,8,8,8,8,8,8,8,8,8,8,8,8,7 (pp 16 does not divide 126 layers");
    expect(r.stdout).toMatch(/\n1 +8 +16 \[7,8×14,7\] /);
  });
  it("--pp 16 with vpp left to the search: one stage a rank and, as for a searched pp, each vpp with Megatron-Core's accounted split (126 + 2 = 128 = 16 · 8: vpp 2 and 4)", async () => {
    const args = ["plan", "--model", "llama3-405b", "--gpus", "8192", "--tp", "8", "--pp", "16", "--seq", "8192", "--global-batch", "2048", "--simulate-top", "0"];
    const r = await runCli([...args, "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("stage layers 7,8,8,8,8,8,8,8,8,8,8,8,8,8,8,7 (pp 16 does not divide 126 layers: Megatron-Core's --decoder-first/last-pipeline-num-layers, ⌈L/p⌉ on the middle stages and the rest on the first and the last; with vpp 2 or 4, the embedding and the loss counted as a layer each");
    const json = await runCli([...args, "--json", "--top", "1000"]);
    const plans = JSON.parse(json.stdout).plans as { vpp: number; stageLayers?: number[]; time: { step: number; bubble: number } }[];
    expect([...new Set(plans.map((p) => p.vpp))].sort()).toEqual([1, 2, 4]);
    // vpp 4: 128/(16·4) = 2 units a virtual stage, the first and the last one layer
    const v4 = plans.find((p) => p.vpp === 4)!;
    expect(v4.stageLayers!.length).toBe(64);
    expect(v4.stageLayers!.slice(0, 17)).toEqual([1, ...Array(15).fill(2), 2]);
    expect(v4.stageLayers!.at(-1)).toBe(1);
    // 32 micro-batches a replica on 16 stages: 1F1B's bubble (p−1)/m ≈ 47% of the compute, which
    // interleaving over v chunks divides by v (Narayanan et al. 2021 §2.2): the best plan interleaves
    // (the best 1F1B plan recomputes 1 layer of each 8-layer stage, the best interleaved one 1 of
    // each 2-layer virtual stage: 5.19 s of bubble against 1.48 s, a 16.5 s step against 14.3 s)
    const best1 = plans.find((p) => p.vpp === 1)!;
    expect(plans[0]!.vpp).toBeGreaterThan(1);
    expect(plans[0]!.time.bubble).toBeLessThan(0.35 * best1.time.bubble);
    expect(plans[0]!.time.step).toBeLessThan(0.9 * best1.time.step);
  });
  it("--pp 16 --schedule interleaved: the accounted splits of vpp 2 and 4 only (it had been refused as vpp 1's split)", async () => {
    const r = await runCli(["plan", "--model", "llama3-405b", "--gpus", "8192", "--tp", "8", "--pp", "16", "--schedule", "interleaved", "--json", "--top", "1000", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { assumed: string[]; plans: { vpp: number; schedule: string }[] };
    expect(out.assumed.join("; ")).toContain("stage layers with vpp 2 or 4 (pp 16 does not divide 126 layers: the embedding and the loss counted as a layer each");
    expect([...new Set(out.plans.map((p) => p.vpp))].sort()).toEqual([2, 4]);
    expect(new Set(out.plans.map((p) => p.schedule))).toEqual(new Set(["interleaved"]));
  });
  it("with virtual stages: Megatron-Core's accounted split where p·v divides L + 2 in ≥ 2 a stage, else refused", async () => {
    // 126 + 2 = 128 units over 16 · 2 = 32 virtual stages: 4 each, the first and the last 3
    const r = await runCli(["plan", "--model", "llama3-405b", "--gpus", "2048", "--pp", "16", "--vpp", "2", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("stage layers 3,4×30,3 (pp 16 · vpp 2 does not divide 126 layers: the embedding and the loss counted as a layer each");
    expect(r.stdout).toMatch(/best plan: .*pp 16 \(stage layers 3,4×30,3\) · vpp 2 /);
    // 128 / (16 · 8) = 1 a virtual stage would leave the first without a layer
    const v8 = await runCli(["plan", "--model", "llama3-405b", "--gpus", "2048", "--pp", "16", "--vpp", "8"]);
    expect(v8.code).toBe(2);
    expect(v8.stderr).toMatch(/^paraplan: --vpp: pp 16 · vpp 8 = 128 virtual stages do not divide the 126 layers, .*needs \(126 \+ 2\)\/128 to be a whole number of at least 2 layers a stage; with pp 16, --vpp 2 or 4 gives one/);
    // torchtitan splits virtual stages unevenly only as given
    const tt = await runCli(["plan", "--model", "llama3-405b", "--gpus", "2048", "--pp", "16", "--vpp", "2", "--engine", "torchtitan"]);
    expect(tt.code).toBe(2);
    expect(tt.stderr).toMatch(/^paraplan: --vpp: pp 16 · vpp 2 = 32 virtual stages do not divide the 126 layers, and engine torchtitan has no default uneven split of virtual stages; give --stage-layers with 32 counts/);
  });
});

describe("the default split is the engine's (profiles/engines supports.stageSplit)", () => {
  const PP12 = ["--model", "llama3-405b", "--gpus", "1536", "--pp", "12", "--tp", "8"];
  it("megatron-core: ⌈126/12⌉ = 11 on the ten middle stages, 8 on the first and last; export --format megatron writes that split, where torchtitan's [10,11×6,10×5] was refused", async () => {
    const r = await runCli(["plan", ...PP12, "--top", "1", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stage layers 8,11,11,11,11,11,11,11,11,11,11,8 (pp 12 does not divide 126 layers: Megatron-Core's --decoder-first/last-pipeline-num-layers, ⌈L/p⌉ on the middle stages and the rest on the first and the last");
    const e = await runCli(["export", "--format", "megatron", ...PP12]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain("--decoder-first-pipeline-num-layers 8");
    expect(e.stdout).toContain("--decoder-last-pipeline-num-layers 8");
  });
  it("megatron-deepspeed: DeepSpeed's partition_balanced fills 11 a stage from the first, 5 on the last", async () => {
    const r = await runCli(["plan", ...PP12, "--engine", "megatron-deepspeed", "--top", "1", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stage layers 11,11,11,11,11,11,11,11,11,11,11,5 (pp 12 does not divide 126 layers: DeepSpeed ≤ 0.12.4's partition_balanced, the heavier first");
  });
  it("export --format deepspeed splits as DeepSpeed 0.16 does (min-spread), not as the 2021–22 engine; another split given is mapped to it, said, and predicted so", async () => {
    // 96 layers on 10 stages: DeepSpeed 0.16's smallest spread 10 × 6, 9 × 4
    // (test/planner/deepspeed-016-split.test.ts); the engine's ≤ 0.12.4 rule 10 × 9, 6.
    const args = ["--format", "deepspeed", "--model", "gpt3-175b", "--gpus", "960", "--pp", "10", "--tp", "8", "--global-batch", "1536"];
    const own = await runCli(["export", ...args]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain("deepspeed (0.16): tp 8 · pp 10 (stage layers 10×6,9×4)");
    expect(own.stderr).toContain("note: stages of 10,10,10,10,10,10,9,9,9,9 layers: DeepSpeed 0.16 splits the layers so by itself");
    expect(own.stdout).toContain("--pipeline-model-parallel-size 10");
    const given = await runCli(["export", ...args, "--stage-layers", "10,10,10,10,10,10,10,10,10,6"]);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toContain("deepspeed (0.16): tp 8 · pp 10 (stage layers 10×6,9×4)");
    expect(given.stderr).toContain("note: DeepSpeed 0.16 splits the 96 layers over 10 stages as 10,10,10,10,10,10,9,9,9,9 by itself (partition_method type:transformer, the smallest spread between stages), not 10,10,10,10,10,10,10,10,10,6; exported and predicted with DeepSpeed's split");
    // the same plan either way: the prediction is that of DeepSpeed's split
    const predicted = (r: { stderr: string }) => r.stderr.match(/predicted ([\d,]+) tokens\/s/)?.[1];
    expect(predicted(own)).toBeDefined();
    expect(predicted(given)).toBe(predicted(own));
    // 24 layers on 7 stages: DeepSpeed 0.16 runs 4 × 3, 3 × 4, which the 2021–22 engine cannot
    const seven = await runCli(["export", "--format", "deepspeed", "--model", "gpt3-1.3b", "--gpus", "7", "--pp", "7", "--global-batch", "14"]);
    expect(seven.code, seven.stderr).toBe(0);
    expect(seven.stderr).toContain("pp 7 (stage layers 4×3,3×4)");
    const engine = await runCli(["plan", "--engine", "megatron-deepspeed", "--model", "gpt3-1.3b", "--gpus", "7", "--pp", "7", "--global-batch", "14"]);
    expect(engine.code).toBe(2);
    expect(isOneLine(engine.stderr)).toBe(true);
    expect(engine.stderr).toMatch(/^paraplan: --pp: 7 does not divide the 24 layers, and engine megatron-deepspeed splits them as DeepSpeed ≤ 0.12.4 does, 4,4,4,4,4,4,0, which leaves stage 6 without a layer; .* supports.stageSplit "min-spread"/);
    // ... which an engine file for a newer DeepSpeed states, and the plan splits so
    const file = tempFile("ds-min-spread.json", JSON.stringify({ extends: "megatron-deepspeed", name: "megatron-deepspeed-new", supports: { stageSplit: { value: "min-spread", source: "DeepSpeed 0.12.5+ partition_balanced" } } }));
    const newer = await runCli(["plan", "--engine", file, "--model", "gpt3-1.3b", "--gpus", "7", "--pp", "7", "--global-batch", "14", "--simulate-top", "0"]);
    expect(newer.code, newer.stderr).toBe(0);
    expect(newer.stdout).toContain("stage layers 4,4,4,3,3,3,3 (pp 7 does not divide 24 layers: DeepSpeed 0.16 balances the stages, the heavier first");
  });
  it("megatron-2021 runs even stages only: --stage-layers is exit 2 naming the flag, a pp that does not divide the layers is refused", async () => {
    const r = await runCli([...PLAN, "--engine", "megatron-2021", "--stage-layers", "5,7,7,5"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^paraplan: --stage-layers: engine megatron-2021 runs even pipeline stages only, not 5,7,7,5 \(ParallelTransformer asserts/);
    const p = await runCli(["plan", "--model", "gpt3-1.3b", "--gpus", "80", "--pp", "5", "--engine", "megatron-2021"]);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/^paraplan: --pp: 5 does not divide the 24 layers/);
  });
});
