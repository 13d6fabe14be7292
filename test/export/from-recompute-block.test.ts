// `plan --from` a Megatron-LM file's --recompute-method block --recompute-num-layers N (src/engines/
// megatron-recompute.ts blockRecomputeLayers): under full recompute with N below a chunk's layers,
// the first N layers of each pipeline (or virtual) stage are recomputed and the others keep their
// activations, read as the plan's recomputeLayers (planner/cost/block-recompute.ts); N covering
// every chunk is plain full recompute. The Megatron export writes it
// back (src/engines/recompute-block-export.ts); the other formats refuse such a plan.
import { afterAll, describe, expect, it } from "vitest";
import { exportPlan } from "../../src/engines/export-plan.js";
import type { ExportFormat } from "../../src/engines/engine-plan.js";
import { loadEngine } from "../../src/load-engine.js";
import { cli, h100, model, plan, refusalMessage, removeTemp, training } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("from-recompute-block");

/** Llama 3 70B on 512 GPUs as Megatron-LM trains it: tp 8 (sequence parallel), pp 8 (10 layers a
 *  stage), dp 8, ZeRO-1, micro-batch 1, 8,192 tokens (8 lines; the recompute is each test's). */
const LLAMA70B = [
  "--tensor-model-parallel-size 8", "--pipeline-model-parallel-size 8", "--sequence-parallel", "--use-distributed-optimizer",
  "--micro-batch-size 1", "--global-batch-size 512", "--seq-length 8192", "--bf16",
];
const FULL = (method: string, n: number) => ["--recompute-granularity full", `--recompute-method ${method}`, `--recompute-num-layers ${n}`];
const llama = (lines: string[]) => ["--model", "llama3-70b", "--gpus", "512", "--from", file("txt", [...LLAMA70B, ...lines].join("\n") + "\n")];
type Priced = { from: { plan: { recompute: string; recomputeLayers?: number; tokensPerSecond: number; memory: { total: number; activations: number }; time: { recompute: number } }; notes: string[] } };
const priced = async (argv: string[]) => (await accepted(argv)) as unknown as Priced;

describe("--recompute-method block below a stage's layers: the plan's recomputeLayers, priced", () => {
  it("Llama 3 70B, pp 8, block 2: the first 2 of each stage's 10 layers recomputed; memory and recompute time between full and none", async () => {
    const block = await priced(llama(FULL("block", 2)));
    const full = await priced(llama(FULL("uniform", 1)));
    const none = await priced(llama([]));
    expect(block.from.plan.recomputeLayers).toBe(2);
    expect(block.from.plan.recompute).toBe("full");
    expect(full.from.plan.recomputeLayers).toBeUndefined();
    expect(block.from.notes.join("\n")).toContain("--recompute-method block (line 10) --recompute-num-layers 2 (line 11): the first 2 layers of each pipeline stage (of 10) recomputed");
    const text = await cli(["plan", ...llama(FULL("block", 2)), "--top", "1", "--simulate-top", "0"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("full recompute of the first 2 layers of each stage");
    // (the cost model reads the count: planner/cost/block-recompute.ts)
    const mem = (p: Priced) => p.from.plan.memory.total;
    expect(mem(block)).toBeGreaterThan(mem(full));
    expect(mem(block)).toBeLessThan(mem(none));
    expect(block.from.plan.time.recompute).toBeGreaterThan(0);
    expect(block.from.plan.time.recompute).toBeLessThan(full.from.plan.time.recompute);
    expect(block.from.plan.tokensPerSecond).toBeGreaterThan(full.from.plan.tokensPerSecond);
  });

  it("block covering each stage's 10 layers is every layer: the same plan and price as uniform groups of one", async () => {
    const block = await priced(llama(FULL("block", 10)));
    const full = await priced(llama(FULL("uniform", 1)));
    expect(block.from.plan.recomputeLayers).toBeUndefined();
    expect(block.from.plan.tokensPerSecond).toBe(full.from.plan.tokensPerSecond);
    expect(block.from.plan.memory.total).toBe(full.from.plan.memory.total);
  });

  it("the flag beside the file: the same count agrees, another contradicts it; beside no or selective recompute it changes nothing", async () => {
    expect((await priced([...llama(FULL("block", 2)), "--recompute-num-layers", "2"])).from.plan.recomputeLayers).toBe(2);
    await refused([...llama(FULL("block", 2)), "--recompute-num-layers", "4"], "--recompute-num-layers 4 but", "--recompute-num-layers 2 (line 11)");
    // (beside a file recomputing every layer: the first N of each stage instead, a what-if)
    expect((await priced([...llama(FULL("uniform", 1)), "--recompute-num-layers", "3"])).from.plan.recomputeLayers).toBe(3);
    await refused([...llama([]), "--recompute-num-layers", "2"], "--recompute-num-layers 2:", "runs no recompute", "would change nothing");
    await refused([...llama(["--recompute-granularity selective"]), "--recompute-num-layers", "2"], "--recompute-num-layers 2: ", "--recompute-granularity selective (line 9) runs selective recompute");
  });

  it("on torchtitan, which re-runs every N-th layer: a count an N gives each stage is priced, another is exit 2 naming the file's setting", async () => {
    // (Megatron-DeepSpeed and FSDP refuse this file's sequence parallel and tensor parallel first;
    // 10 layers a stage: every 5th re-runs 2 of each, no N re-runs 4)
    expect((await priced(["--engine", "torchtitan", ...llama(FULL("block", 2))])).from.plan.recomputeLayers).toBe(2);
    await refused(["--engine", "torchtitan", ...llama(FULL("block", 4))], "--recompute-num-layers 4 (line 11): recomputeLayers 4: the engine re-runs every N-th layer", "depths it gives: 1 (every 10), 2 (every 5), 3 (every 3), 5 (every 2)", "[recompute_every]");
  });
});

describe("the Megatron export writes block recompute, and plan --from reads the same plan back", () => {
  it("Llama 3 70B, tp 8, pp 8, full recompute of each stage's first 2 layers: the file's plan priced as exported", async () => {
    const argv = ["--model", "llama3-70b", "--gpus", "512", "--tp", "8", "--pp", "8", "--vpp", "1", "--zero", "1", "--micro-batch", "1", "--recompute", "full", "--recompute-num-layers", "2"];
    const e = await cli(["export", "--format", "megatron", ...argv]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--recompute-granularity full\n--recompute-method block\n--recompute-num-layers 2$/m);
    const predicted = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB per GPU/.exec(e.stderr)!;
    const back = await priced(["--model", "llama3-70b", "--gpus", "512", "--from", file("txt", e.stdout + "\n")]);
    expect(back.from.plan.recomputeLayers).toBe(2);
    expect(back.from.plan.recompute).toBe("full");
    expect(Math.round(back.from.plan.tokensPerSecond).toLocaleString("en-US")).toBe(predicted[1]);
    expect((back.from.plan.memory.total / 2 ** 30).toFixed(1)).toBe(predicted[2]);
    // (a count covering every stage's layers writes uniform groups of one, as before)
    const all = await cli(["export", "--format", "megatron", ...argv.slice(0, -1), "10"]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^--recompute-method uniform\n--recompute-num-layers 1$/m);
  });
});

describe("the export's own refusals: the other formats recompute every layer", () => {
  const core = loadEngine("megatron-core", undefined);
  const llama = model("llama3-8b");

  // (torchtitan writes a depth an N gives as its layer option: test/planner/nth-recompute.test.ts)
  it("deepspeed and llm-foundry refuse a full-recompute plan with a depth, naming recomputeLayers; other plans pass", () => {
    const t = training({ engine: core });
    const p = plan({ zero: 3, recompute: "full", recomputeLayers: 4 });
    for (const format of ["deepspeed", "llm-foundry"] as ExportFormat[]) {
      const why = refusalMessage(() => exportPlan(format, llama, p, t, h100));
      expect(why, format).toContain("recomputeLayers 4: the plan's full recompute re-runs only the first 4 layers of each pipeline (or virtual) stage");
      expect(why, format).toContain("use --format megatron");
      // (full recompute of every layer: nothing to refuse)
      expect(() => exportPlan(format, llama, { ...p, recomputeLayers: undefined }, t, h100), format).not.toThrow(/recomputeLayers/);
    }
  });
});
