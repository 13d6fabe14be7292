// A plan's full-recompute depth in torchtitan's files: 0.2's layer option selective_ac_option "N"
// re-runs every N-th block a rank counts (activation_checkpoint.py _apply_layer_sac @ v0.2.0,
// v0.2.2), so the export writes the N that gives each stage the plan's count, refuses a count no N
// gives (and main's overrides, which have no layer option), and plan --from reads the N back as
// the same depth and price.
import { afterAll, describe, expect, it } from "vitest";
import type { Plan } from "../../planner/index.js";
import { exportPlan } from "../../src/engines/export-plan.js";
import { parseToml } from "../../src/engines/toml.js";
import { loadEngine } from "../../src/load-engine.js";
import { cli, h100, model, plan, refusalMessage, removeTemp, training } from "./helpers.js";
import { accepted, fileWriter, refused } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("titan-every-nth");
const llama = model("llama3-70b"); // 80 layers
const t = training({ engine: loadEngine("torchtitan", undefined) });
const depth = (n: number, over: Partial<Plan> = {}) => plan({ zero: 3, recompute: "full", recomputeLayers: n, ...over });
const ac = (p: Plan) => {
  const r = exportPlan("torchtitan", llama, p, t, h100);
  const toml = parseToml(r.files[0]!.content, "torchtitan.toml") as Record<string, Record<string, unknown>>;
  return { text: r.files[0]!.content, ac: toml.activation_checkpoint };
};

describe("the torchtitan export of a depth", () => {
  it("4 of 80 layers (pp 1): every 20th; 7: every 11th (⌊80/11⌋ = 7); the header says which", () => {
    const four = ac(depth(4));
    expect(four.ac).toEqual({ mode: "selective", selective_ac_option: "20" });
    expect(four.text).toContain("full recompute of every 20th layer (4 of each stage)");
    expect(ac(depth(7)).ac).toEqual({ mode: "selective", selective_ac_option: "11" });
    // pp 8 (10 layers a stage): 2 of each is every 5th
    expect(ac(depth(2, { pp: 8, zero: 1 })).ac).toEqual({ mode: "selective", selective_ac_option: "5" });
  });
  it("a count no N gives is refused, naming recomputeLayers; main's overrides have no layer option", () => {
    // ⌊80/2⌋ = 40, ⌊80/3⌋ = 26: nothing re-runs 30
    expect(refusalMessage(() => exportPlan("torchtitan", llama, depth(30), t, h100))).toContain("recomputeLayers 30: torchtitan re-runs every N-th layer a rank counts");
    expect(refusalMessage(() => exportPlan("torchtitan", llama, depth(4), t, h100, { release: "main" }))).toContain("torchtitan main has no layer option");
  });
});

describe("exported, then read back by plan --from", () => {
  it("Llama 3 70B on 64 GPUs, pp 1, ZeRO-3, every 8th layer: the same depth and price", async () => {
    const argv = ["--model", "llama3-70b", "--gpus", "64", "--tp", "4", "--pp", "1", "--zero", "3", "--micro-batch", "1", "--recompute", "full", "--recompute-num-layers", "10"];
    const e = await cli(["export", "--format", "torchtitan", ...argv]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('selective_ac_option = "8"');
    const predicted = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB per GPU/.exec(e.stderr)!;
    const back = (await accepted(["--model", "llama3-70b", "--gpus", "64", "--from", file("toml", e.stdout + "\n")])).from as unknown as {
      plan: { recompute: string; recomputeLayers?: number; tokensPerSecond: number; memory: { total: number } };
      notes: string[];
    };
    expect(back.plan.recompute).toBe("full");
    expect(back.plan.recomputeLayers).toBe(10);
    expect(back.notes.join("\n")).toContain("full recompute of every 8th layer, 10 of each stage");
    expect(Math.round(back.plan.tokensPerSecond).toLocaleString("en-US")).toBe(predicted[1]);
    expect((back.plan.memory.total / 2 ** 30).toFixed(1)).toBe(predicted[2]);
  });
});

describe("command-line overrides", () => {
  it("are read as main's, which has no layer option: a layer count is exit 2 naming it; 1 is full recompute", async () => {
    const over = (n: string) => ["--model", "llama3-8b", "--gpus", "8", "--from", file("txt", `--parallelism.data_parallel_shard_degree 8\n--activation_checkpoint.mode selective\n--activation_checkpoint.selective_ac_option ${n}\n`)];
    await refused(over("2"), "--activation_checkpoint.selective_ac_option 2 (line 3): command-line overrides are read as torchtitan main's, whose activation checkpointing has no layer option");
    expect((await accepted(over("1"))).from.plan).toMatchObject({ recompute: "full" });
  });
});
