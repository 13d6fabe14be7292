// plan --recompute-num-layers N: what "full" recompute re-runs on a Megatron-Core engine, the first
// N layers of each pipeline (or virtual) stage (Megatron's --recompute-method block
// --recompute-num-layers N; planner/cost/block-recompute.ts), set on the engine by withOverrides
// (src/plan-engine.ts), named in the header's engine line and --json's recomputeBlockLayers, and
// read back from a --plan file; exit 2 with one line naming the flag where it cannot apply. The
// export and plan --from sides are test/export/from-recompute-block.test.ts.
import { afterAll, describe, expect, it } from "vitest";
import { cli, planJson, refusedLine, removeTemp, tempFile } from "../export/helpers.js";

afterAll(removeTemp);

/** Llama 3 70B on 64 GPUs at one layout: tp 8, pp 8 (10 layers a stage), ZeRO-1, micro-batch 1. */
const LLAMA = ["--model", "llama3-70b", "--gpus", "64", "--tp", "8", "--pp", "8", "--vpp", "1", "--zero", "1", "--micro-batch", "1"];
type Out = { recomputeBlockLayers?: number; plans: { recompute: string; tokensPerSecond: number; memory: { total: number }; time: { recompute: number } }[] };
const json = (argv: string[]) => planJson<Out>(argv);

describe("plan --recompute-num-layers", () => {
  it("block 2 under full recompute: named in --json and the header; priced between full and none", async () => {
    const block = await json([...LLAMA, "--recompute", "full", "--recompute-num-layers", "2"]);
    const full = await json([...LLAMA, "--recompute", "full"]);
    const none = await json([...LLAMA, "--recompute", "none"]);
    expect(block.recomputeBlockLayers).toBe(2);
    expect(full.recomputeBlockLayers).toBeUndefined();
    expect(block.plans[0]!.recompute).toBe("full");
    const text = await cli(["plan", ...LLAMA, "--recompute", "full", "--recompute-num-layers", "2", "--top", "1", "--simulate-top", "0"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^engine megatron-core \(default; recompute block 2 layers a chunk\)$/m);
    // (the cost model reads the count: planner/cost/block-recompute.ts)
    const [b, f, n] = [block.plans[0]!, full.plans[0]!, none.plans[0]!];
    expect(b.memory.total).toBeGreaterThan(f.memory.total);
    expect(b.memory.total).toBeLessThan(n.memory.total);
    expect(b.time.recompute).toBeGreaterThan(0);
    expect(b.time.recompute).toBeLessThan(f.time.recompute);
  });

  it("a --plan file's recomputeBlockLayers is read back; the flag against another is exit 2", async () => {
    const r = await cli(["plan", ...LLAMA, "--recompute", "full", "--recompute-num-layers", "2", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const path = tempFile("recompute-block-plan.json", r.stdout);
    const e = await cli(["export", "--format", "megatron", "--plan", path]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^--recompute-method block\n--recompute-num-layers 2$/m);
    const other = await cli(["export", "--format", "megatron", "--plan", path, "--recompute-num-layers", "3"]);
    expect(other.code).toBe(2);
    expect(other.errLines).toHaveLength(1);
    expect(other.errLines[0]).toContain("--recompute-num-layers 3 contradicts --plan");
    expect(other.errLines[0]).toContain("recomputeBlockLayers 2");
  });
});

describe("--recompute-num-layers where it cannot apply: exit 2, one line", () => {
  it("beside --recompute none or selective (the count changes nothing), below 1 or not an integer", async () => {
    expect(await refusedLine([...LLAMA, "--recompute", "none", "--recompute-num-layers", "2"])).toContain("--recompute-num-layers: --recompute none re-runs nothing");
    expect(await refusedLine([...LLAMA, "--recompute", "selective", "--recompute-num-layers", "2"])).toContain("--recompute-num-layers: --recompute selective re-runs modules, not layers");
    for (const bad of ["0", "-1", "1.5", "two"]) expect(await refusedLine([...LLAMA, "--recompute-num-layers", bad]), bad).toContain(`--recompute-num-layers: "${bad}" is not a positive integer`);
  });

  it("on engines without Megatron-Core's recompute: torchtitan, fsdp, paraplan, megatron-2021, megatron-deepspeed", async () => {
    for (const engine of ["torchtitan", "fsdp", "paraplan", "megatron-2021", "megatron-deepspeed"]) {
      const line = await refusedLine(["--model", "llama3-8b", "--gpus", "8", "--engine", engine, "--recompute-num-layers", "2"]);
      expect(line, engine).toContain(`--recompute-num-layers 2: engine ${engine}`);
      expect(line, engine).toContain("Megatron-Core's --recompute-method block (megatron-core engine)");
    }
  });
});
