// plan --recompute-num-layers N: full recompute re-runs the first N layers of each pipeline (or
// virtual) stage (Megatron's --recompute-method block --recompute-num-layers N; the plans'
// recomputeLayers, planner/cost/block-recompute.ts), a cap the search gives every full-recompute
// plan; without it the search finds the least depth that fits where the engine runs the block
// method. Named in the table ("block N"), the plan's line and --json, read back from a --plan
// file; exit 2 with one line naming the flag where it cannot apply. The export and plan --from
// sides are test/export/from-recompute-block.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../tmp-dirs.js";
import { cli, planJson, refusedLine, removeTemp, tempFile } from "../export/helpers.js";

afterAll(removeTemp);

/** Llama 3 70B on 64 GPUs at one layout: tp 8, pp 8 (10 layers a stage), ZeRO-1, micro-batch 1. */
const LLAMA = ["--model", "llama3-70b", "--gpus", "64", "--tp", "8", "--pp", "8", "--vpp", "1", "--zero", "1", "--micro-batch", "1"];
type Out = { plans: { recompute: string; recomputeLayers?: number; tokensPerSecond: number; memory: { total: number }; time: { recompute: number } }[] };
const json = (argv: string[]) => planJson<Out>(argv);

describe("plan --recompute-num-layers", () => {
  it("block 2 under full recompute: in --json and the table; priced between full and none", async () => {
    const block = await json([...LLAMA, "--recompute", "full", "--recompute-num-layers", "2"]);
    const full = await json([...LLAMA, "--recompute", "full"]);
    const none = await json([...LLAMA, "--recompute", "none"]);
    expect(block.plans[0]!.recomputeLayers).toBe(2);
    // (a fixed --recompute full without a count is every layer, as Megatron's uniform method)
    expect(full.plans[0]!.recomputeLayers).toBeUndefined();
    expect((await json([...LLAMA, "--recompute", "full", "--recompute-num-layers", "10"])).plans[0]!.recomputeLayers).toBeUndefined();
    expect(block.plans[0]!.recompute).toBe("full");
    const text = await cli(["plan", ...LLAMA, "--recompute", "full", "--recompute-num-layers", "2", "--top", "1", "--simulate-top", "0"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^1 +8 +8 +1 +1 +1 +1 +block 2 /m);
    expect(text.stdout).toContain("full recompute of the first 2 layers of each stage");
    const [b, f, n] = [block.plans[0]!, full.plans[0]!, none.plans[0]!];
    expect(b.memory.total).toBeGreaterThan(f.memory.total);
    expect(b.memory.total).toBeLessThan(n.memory.total);
    expect(b.time.recompute).toBeCloseTo(f.time.recompute / 5, 6);
  });

  it("a --plan file's recomputeLayers is read back; a plan flag beside it is exit 2", async () => {
    const r = await cli(["plan", ...LLAMA, "--recompute", "full", "--recompute-num-layers", "2", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const path = tempFile("recompute-block-plan.json", r.stdout);
    const e = await cli(["export", "--format", "megatron", "--plan", path]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--recompute-method block\n--recompute-num-layers 2$/m);
    const other = await cli(["export", "--format", "megatron", "--plan", path, "--recompute-num-layers", "3"]);
    expect(other.code).toBe(2);
    expect(other.errLines).toHaveLength(1);
    expect(other.errLines[0]).toContain("--plan fixes every dimension; drop the plan flags (recomputeLayers)");
  });

  it("an earlier paraplan's file-wide recomputeBlockLayers is refused, not dropped (each plan states its depth now)", async () => {
    const r = await cli(["plan", ...LLAMA, "--recompute", "full", "--json", "--top", "1", "--simulate-top", "0"]);
    const old = tempFile("recompute-block-old.json", JSON.stringify({ ...JSON.parse(r.stdout), recomputeBlockLayers: 2 }));
    const e = await cli(["export", "--format", "megatron", "--plan", old]);
    expect(e.code).toBe(2);
    expect(e.errLines).toHaveLength(1);
    expect(e.errLines[0]).toContain("recomputeBlockLayers 2: written by an earlier paraplan");
    expect(e.errLines[0]).toContain('"recomputeLayers"');
  });

  it("a plan file's depth at or above a stage's layers, or beside selective recompute, is refused naming the field", async () => {
    const r = await cli(["plan", ...LLAMA, "--recompute", "full", "--recompute-num-layers", "2", "--json", "--top", "1", "--simulate-top", "0"]);
    const out = JSON.parse(r.stdout) as { plans: Record<string, unknown>[] };
    const withPlan = (p: Record<string, unknown>) => JSON.stringify({ ...out, plans: [{ ...out.plans[0], ...p }] });
    const deep = tempFile("recompute-block-deep.json", withPlan({ recomputeLayers: 10 }));
    const e = await cli(["export", "--format", "megatron", "--plan", deep]);
    expect(e.code).toBe(2);
    expect(e.errLines).toHaveLength(1);
    expect(e.errLines[0]).toContain('field "recomputeLayers": recomputeLayers 10 is not below the 10 layers of the largest stage');
    const sel = tempFile("recompute-block-sel.json", withPlan({ recompute: "selective" }));
    const s = await cli(["export", "--format", "megatron", "--plan", sel]);
    expect(s.code).toBe(2);
    expect(s.errLines[0]).toContain("recomputeLayers 2 with selective recompute");
  });
});

describe("paraplan's worker runs a depth", () => {
  it("export --format torchrun: the plan's recomputeLayers in launch.json, the least depth that fits on the worker's engine", async () => {
    const dir = tempDir("recompute-block-torchrun");
    const r = await cli(["export", "--format", "torchrun", "--model", "llama3-70b", "--gpus", "64", "--tp", "8", "--pp", "8", "--vpp", "1", "--micro-batch", "4", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(dir, "launch.json"), "utf8")) as { plan: { recompute: string; recomputeLayers?: number } };
    // (the worker's fp32 residual stream holds more than Megatron-Core's: 8 of each stage's 10 layers)
    expect(spec.plan).toMatchObject({ recompute: "full", recomputeLayers: 8 });
    expect(r.stdout + r.stderr).toContain("full recompute of the first 8 layers of each stage");
  });
});

describe("the search's own depth", () => {
  it("without --recompute, a full-recompute plan takes the least depth that fits where none fits no more (micro-batch 4)", async () => {
    const out = await json(["--model", "llama3-70b", "--gpus", "64", "--tp", "8", "--pp", "8", "--vpp", "1", "--zero", "1", "--micro-batch", "4"]);
    const full = out.plans.find((p) => p.recompute === "full")!;
    expect(out.plans.some((p) => p.recompute === "none")).toBe(false);
    expect(full.recomputeLayers).toBeGreaterThanOrEqual(1);
    expect(full.recomputeLayers).toBeLessThan(10);
  });
});

describe("--recompute-num-layers where it cannot apply: exit 2, one line", () => {
  it("beside --recompute none or selective (the count changes nothing), below 1 or not an integer", async () => {
    expect(await refusedLine([...LLAMA, "--recompute", "none", "--recompute-num-layers", "2"])).toContain("--recompute-num-layers: --recompute none re-runs nothing");
    expect(await refusedLine([...LLAMA, "--recompute", "selective", "--recompute-num-layers", "2"])).toContain("--recompute-num-layers: --recompute selective re-runs modules, not layers");
    for (const bad of ["0", "-1", "1.5", "two"]) expect(await refusedLine([...LLAMA, "--recompute-num-layers", bad]), bad).toContain(`--recompute-num-layers: "${bad}" is not a positive integer`);
  });

  // (torchtitan re-runs every N-th layer, a depth where an N gives it: test/planner/nth-recompute.test.ts)
  it("on engines whose full recompute wraps every layer: fsdp, megatron-2021, megatron-deepspeed (paraplan's worker runs it)", async () => {
    for (const engine of ["fsdp", "megatron-2021", "megatron-deepspeed"]) {
      const line = await refusedLine(["--model", "gpt3-1.3b", "--gpus", "8", "--engine", engine, "--recompute-num-layers", "2"]);
      expect(line, engine).toContain(`engine ${engine}`);
      expect(line, engine).toContain("re-runs every layer under full recompute, not only the first 2 of each stage (Megatron-Core's --recompute-method block) (");
      expect(line, engine).toMatch(/^paraplan: --recompute-num-layers/);
    }
  });
});
