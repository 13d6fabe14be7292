// export --format torchtitan --release 0.2.2 (the default, the newest release): v0.2.2's job file,
// priced as v0.2.2 runs it (the last pipeline stage frees its logits, train.py:508 @ v0.2.2), read
// back by `plan --from` to the same prediction; an engine whose dispatcher is deepep is written as
// expert_parallel_comm_backend = "deepep" where read-titan-deepep.ts reads it so, refused otherwise.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseToml } from "../../src/engines/toml.js";
import { cli, recorded, removeTemp, tempDir, tomlKeys } from "./helpers.js";
import { fileWriter } from "./from-cli.js";

afterAll(removeTemp);

const file = fileWriter("titan-export-v022");
function predicted(text: string): [number, number] {
  const m = /predicted ([\d,]+) tokens\/s, ([\d.]+) GiB/.exec(text);
  expect(m, text).not.toBeNull();
  return [Number(m![1]!.replace(/,/g, "")), Number(m![2])];
}
let n = 0;
async function exported(argv: string[]): Promise<{ out: string; toml: string; path: string }> {
  const dir = join(tempDir(), `titan-v022-${n++}`);
  const r = await cli(["export", "--format", "torchtitan", ...argv, "--out", dir]);
  expect(r.code, r.stderr).toBe(0);
  const path = join(dir, "torchtitan.toml");
  return { out: r.stdout, toml: readFileSync(path, "utf8"), path };
}
async function readBack(path: string, argv: string[]): Promise<{ tokens: number; gib: number; notes: string[]; warnings: string[] }> {
  const r = await cli(["plan", "--from", path, ...argv, "--json", "--top", "1"]);
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  return { tokens: Math.round(j.from.plan.tokensPerSecond), gib: Number((j.from.plan.memory.total / 2 ** 30).toFixed(1)), notes: j.from.notes, warnings: j.from.warnings };
}

const v022 = recorded("torchtitan-v0.2.2.txt");
const LLAMA = ["--model", "llama3-8b", "--gpus", "16", "--tp", "2", "--pp", "2", "--global-batch", "64", "--seq", "2048"];

describe("torchtitan 0.2.2: v0.2.2's names, priced as v0.2.2 runs", () => {
  it("is the default release; the header names it, every key is v0.2.2's, and plan --from gives the export's prediction", async () => {
    const e = await exported(LLAMA);
    expect(e.out.split("\n")[0]).toMatch(/^torchtitan \(0\.2\.2\): tp 2 · pp 2 /);
    expect(e.toml).toContain("# names from torchtitan v0.2.2 TOML job files (torchtitan/config/job_config.py at pytorch/torchtitan v0.2.2, 73a0e697, 2026-02-20)");
    const keys = tomlKeys(parseToml(e.toml, "t.toml"));
    expect(keys.filter((k) => !v022.has(k))).toEqual([]);
    expect(keys).toContain("comm.mode"); // a v0.2.1+ key: the file is read back as that release
    const back = await readBack(e.path, ["--gpus", "16"]);
    expect(back.warnings).toEqual([]);
    expect([back.tokens, back.gib]).toEqual(predicted(e.out));
  });
  it("the same plan as 0.2 (v0.2.0) keeps the last stage's logits: more memory, the same step time, each read back alike", async () => {
    const plan = ["--zero", "1", "--micro-batch", "1", "--recompute", "full", "--schedule", "1f1b"];
    const fresh = await exported([...LLAMA, ...plan]);
    const old = await exported([...LLAMA, ...plan, "--release", "0.2"]);
    expect(old.toml).toContain("v0.2.0");
    expect(old.toml).not.toContain("[comm]");
    const [tNew, gNew] = predicted(fresh.out);
    const [tOld, gOld] = predicted(old.out);
    expect(tNew).toBe(tOld);
    // 16 micro-batches of 2048 × 128,256 bf16 logits on the last stage, 2 B each (vocab over tp 2): 3.9 GiB
    expect(gOld - gNew).toBeGreaterThanOrEqual(3.9);
    expect([(await readBack(old.path, ["--gpus", "16"])).gib, (await readBack(fresh.path, ["--gpus", "16"])).gib]).toEqual([gOld, gNew]);
  });
});

// Qwen3-30B-A3B's experts (128, top-8, no shared experts) on 40 layers: no torchtitan flavor builds
// it, so [model] is left for the user's registry entry (read back as --model, family undefined).
const qwen = JSON.parse(readFileSync(new URL("../../profiles/models/qwen3-30b-a3b.json", import.meta.url), "utf8"));
const OWN = file("json", JSON.stringify({ ...qwen, name: "moe-40l", layers: 40, source: "test: qwen3-30b-a3b's sizes on 40 layers" }));
const supportsEp = { expertParallel: { value: true, source: "torchtitan/models/moe @ v0.2.2" } };
const DEEPEP = file("json", JSON.stringify({ name: "torchtitan-deepep", extends: "torchtitan", description: "torchtitan with DeepEP", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "job_config.py:474 @ v0.2.2" } } }));
const STANDARD = file("json", JSON.stringify({ name: "torchtitan-moe", extends: "torchtitan", description: "torchtitan with its MoE models", supports: supportsEp }));
const MOE = ["--gpus", "32", "--ep", "16", "--tp", "1", "--pp", "1", "--zero", "3", "--global-batch", "64", "--seq", "4096", "--recompute", "full"];

describe("torchtitan 0.2.2: an engine whose dispatcher is deepep", () => {
  it('is written as expert_parallel_comm_backend = "deepep" for a model without shared experts and no flavor, read back to the same prediction', async () => {
    const e = await exported(["--engine", DEEPEP, "--model", OWN, ...MOE]);
    const par = parseToml(e.toml, "t.toml").parallelism as Record<string, unknown>;
    expect([par.expert_parallel_degree, par.expert_parallel_comm_backend]).toEqual([16, "deepep"]);
    expect(parseToml(e.toml, "t.toml").model).toEqual({});
    expect(tomlKeys(parseToml(e.toml, "t.toml")).filter((k) => !v022.has(k))).toEqual([]);
    expect(e.out).toContain('build_moe(moe_impl="deepep")');
    // read back on an engine with the plain all-to-all: the key alone makes it the deepep dispatcher
    const back = await readBack(e.path, ["--engine", STANDARD, "--model", OWN, "--gpus", "32"]);
    expect([back.tokens, back.gib]).toEqual(predicted(e.out));
    // and the key matters: the same file with "standard" is another prediction
    const plain = file("toml", e.toml.replace('expert_parallel_comm_backend = "deepep"', 'expert_parallel_comm_backend = "standard"'));
    expect((await readBack(plain, ["--engine", STANDARD, "--model", OWN, "--gpus", "32"])).tokens).not.toBe(back.tokens);
  });
  it("with shared experts, where the engine prices them beside the combine as DeepEP's MoE runs them, is written for the deepseek_v3 flavor and read back to the same prediction", async () => {
    const shared = file("json", JSON.stringify({ name: "torchtitan-deepep-shared", extends: "torchtitan", description: "torchtitan's DeepEP MoE", supports: supportsEp, moe: { dispatcher: { value: "deepep", source: "job_config.py:474 @ v0.2.2" }, sharedExpertOverlap: { value: { dispatch: "none", combine: "all", backward: false }, source: "moe/moe_deepep.py:69-77 @ v0.2.2" } } }));
    const e = await exported(["--engine", shared, "--model", "deepseek-v2-lite", ...MOE]);
    const toml = parseToml(e.toml, "t.toml");
    expect((toml.parallelism as Record<string, unknown>).expert_parallel_comm_backend).toBe("deepep");
    expect((toml.model as Record<string, unknown>).name).toBe("deepseek_v3");
    // read back on the plain all-to-all engine: the key makes it DeepEP with the shared overlap
    const back = await readBack(e.path, ["--engine", STANDARD, "--model", "deepseek-v2-lite", "--gpus", "32"]);
    expect([back.tokens, back.gib]).toEqual(predicted(e.out));
  });
  // (tp or etp beside ep: the torchtitan export refuses expert parallel with tensor parallel before
  // the dispatcher, torchtitanMoeRefusal)
  it("is refused, naming moe.dispatcher deepep and why, where v0.2.2 would not run DeepEP as priced", async () => {
    const cases: [string[], string][] = [
      [["--model", "qwen3-30b-a3b", ...MOE], "never reads expert_parallel_comm_backend"],
      // (DeepSeek-V2-Lite's 2 shared experts, which DeepEP's MoE runs beside the combine, where
      // the engine prices them after the routed experts)
      [["--model", "deepseek-v2-lite", ...MOE], "moe/moe_deepep.py:69-77 @ v0.2.2; moe.sharedExpertOverlap"],
    ];
    for (const [argv, why] of cases) {
      const r = await cli(["export", "--format", "torchtitan", "--engine", DEEPEP, ...argv, "--out", join(tempDir(), `titan-v022-${n++}`)]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toContain("the engine torchtitan-deepep dispatches with DeepEP (moe.dispatcher deepep), and torchtitan v0.2.2 ");
      expect(r.stderr).toContain(why);
    }
  });
});
