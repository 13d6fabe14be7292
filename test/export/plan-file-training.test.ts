// `export --plan FILE` / `execute --plan FILE` price the plan with the training the file records
// (src/plan-file-settings.ts). QA: a torchrun export for 131,072 tokens, global batch 64, fp8, read
// back with `export --plan launch.json` came back at llama3-8b's defaults (8,192 tokens, batch 512,
// bf16: the model file's seqLen 8192 and globalBatch 512, plan-args.ts's bf16), as did
// --no-grad-overlap and --moe-imbalance: planFromJson kept only the plan.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, removeTemp, tempDir, tempFile } from "./helpers.js";
import { run, tmp } from "../executor/e2e-helpers.js";
import { count } from "../../src/format/units.js";

afterAll(removeTemp);

const predicted = (r: { stdout: string; stderr: string }) => (r.stdout + "\n" + r.stderr).split("\n").find((l) => /predicted [\d,]+ tokens\/s/.test(l))?.replace(/^paraplan: /, "");
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

describe("export --plan launch.json: the file's sequence, batch and precision", () => {
  const a = join(tempDir(), "A");
  const b = join(tempDir(), "B");
  const first = ["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "64", "--seq", "131072", "--global-batch", "64", "--precision", "fp8"];

  it("round-trips: the same training in B/launch.json and the same predicted figures, without --model", async () => {
    const ra = await cli([...first, "--out", a]);
    expect(ra.code, ra.stderr).toBe(0);
    // no --model: the launch spec names llama3-8b, a built-in
    const rb = await cli(["export", "--format", "torchrun", "--plan", join(a, "launch.json"), "--out", b]);
    expect(rb.code, rb.stderr).toBe(0);
    const tb = readJson(join(b, "launch.json")).training;
    // the figures given on the first command line, not llama3-8b's 8192 / 512 / bf16
    expect([tb.seqLen, tb.globalBatch, tb.precision]).toEqual([131072, 64, "fp8"]);
    expect(readJson(join(b, "launch.json"))).toEqual(readJson(join(a, "launch.json")));
    expect(predicted(rb)).toBe(predicted(ra));
    // (the test can fail: the same plan at the model's defaults is priced otherwise)
    const dflt = await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "64", "--plan", tempFile("bare.json", JSON.stringify(readJson(join(a, "launch.json")).plan))]);
    expect(predicted(dflt)).not.toBe(predicted(ra));
  });

  it("a flag that contradicts the file is exit 2 naming the flag and the file's value; an equal one is fine", async () => {
    const file = join(a, "launch.json");
    for (const [flag, value, said] of [["--seq", "8192", "training.seqLen 131072"], ["--global-batch", "512", "training.globalBatch 64"], ["--precision", "bf16", 'training.precision "fp8"']] as const) {
      const r = await cli(["export", "--format", "torchrun", "--plan", file, flag, value]);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([`paraplan: ${flag} ${value} contradicts --plan ${file}, which was planned with ${said}; drop ${flag} (the file's is used), or plan again with ${flag} ${value}`]);
    }
    const same = await cli(["export", "--format", "torchrun", "--plan", file, "--seq", "131072", "--precision", "fp8"]);
    expect(same.code, same.stderr).toBe(0);
  });
});

describe("export --plan: gradient overlap and expert imbalance (mixtral-8x7b)", () => {
  const flags = ["--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--global-batch", "256", "--ep", "8", "--etp", "1", "--moe-imbalance", "1.5", "--no-grad-overlap"];

  it("a whole plan --json output: export prices its first plan as plan did", async () => {
    const p = await cli(["plan", ...flags, "--json", "--top", "1", "--simulate-top", "0"]);
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout);
    expect([out.overlapGradReduce, out.moeImbalance]).toEqual([false, 1.5]);
    const file = tempFile("mixtral-plan.json", p.stdout);
    const e = await cli(["export", "--format", "megatron", "--plan", file]);
    expect(e.code, e.stderr).toBe(0);
    // plan's tokensPerSecond, as export's summary rounds it (format/units.ts count)
    expect(predicted(e)).toMatch(new RegExp(`^predicted ${count(out.plans[0].tokensPerSecond)} tokens/s`));
    // (the defaults, imbalance 1.25 and the overlap on, price it otherwise)
    const bare = tempFile("mixtral-bare.json", JSON.stringify(out.plans[0]));
    const d = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--global-batch", "256", "--plan", bare]);
    expect(predicted(d)).not.toBe(predicted(e));
    const clash = await cli(["export", "--format", "megatron", "--plan", file, "--moe-imbalance", "1.2"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`--moe-imbalance 1.2 contradicts --plan ${file}, which was planned with moeImbalance 1.5`);
  });

  it("torchrun's launch.json records them under prediction, and export --plan reads them back", async () => {
    const a = join(tempDir(), "MA");
    const b = join(tempDir(), "MB");
    const ra = await cli(["export", "--format", "torchrun", ...flags.filter((f, i, all) => f !== "--ep" && all[i - 1] !== "--ep" && f !== "--etp" && all[i - 1] !== "--etp"), "--out", a]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(readJson(join(a, "launch.json")).prediction).toEqual({ profile: "dgx-h100", overlapGradReduce: false, moeImbalance: 1.5 });
    const rb = await cli(["export", "--format", "torchrun", "--plan", join(a, "launch.json"), "--out", b]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(predicted(rb)).toBe(predicted(ra));
  });
});

describe("execute --plan: the same reading", () => {
  it("a plan --json made for tiny at seq 16, batch 4 runs at 16 and 4 (--print-launch), not the model's 32 and 8", async () => {
    const p = await cli(["plan", "--model", "tiny", "--gpus", "2", "--seq", "16", "--global-batch", "4", "--profile", "cpu", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(p.code, p.stderr).toBe(0);
    const file = tempFile("tiny-plan.json", p.stdout);
    const cwd = tmp();
    const r = await run(["--device", "cpu", "--plan", file, "--print-launch", "--run-dir", "r"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const spec = readJson(join(cwd, "r", "launch.json"));
    expect([spec.training.seqLen, spec.training.globalBatch]).toEqual([16, 4]);
    const clash = await run(["--device", "cpu", "--plan", file, "--seq", "32", "--print-launch", "--run-dir", "r2"], { cwd });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`--seq 32 contradicts --plan ${file}, which was planned with model.seqLen 16`);
  });
});

describe("megatron-args.txt's read-back line names every flag the prediction needs", () => {
  const readBack = (stdout: string) => stdout.split("\n").find((l) => l.startsWith("# plan --from megatron-args.txt"));
  it("--moe-imbalance and --profile where not the defaults (1.25, dgx-h100); --gpus alone otherwise", async () => {
    const moe = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--global-batch", "256", "--ep", "8", "--etp", "1", "--moe-imbalance", "1.5"]);
    expect(moe.code, moe.stderr).toBe(0);
    expect(readBack(moe.stdout)).toBe("# plan --from megatron-args.txt reads this plan back with --gpus 64 --moe-imbalance 1.5 (the arguments do not state the GPU count or the expert load imbalance priced)");
    const a100 = await cli(["export", "--format", "megatron", "--model", "gpt3-175b", "--gpus", "1024", "--profile", "dgx-a100-80g"]);
    expect(a100.code, a100.stderr).toBe(0);
    expect(readBack(a100.stdout)).toBe("# plan --from megatron-args.txt reads this plan back with --gpus 1024 --profile dgx-a100-80g (the arguments do not state the GPU count or the hardware)");
    const plain = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8"]);
    expect(readBack(plain.stdout)).toBe("# plan --from megatron-args.txt reads this plan back with --gpus 8 (the arguments do not state the GPU count)");
    // a profile path with a space, quoted so the line pastes (QA)
    const dir = join(tempDir(), "my dir");
    mkdirSync(dir, { recursive: true });
    const hw = join(dir, "hw x.json");
    writeFileSync(hw, JSON.stringify({ name: "hw-x", extends: "dgx-a100-80g" }));
    const spaced = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "16", "--profile", hw]);
    expect(spaced.code, spaced.stderr).toBe(0);
    expect(readBack(spaced.stdout)).toBe(`# plan --from megatron-args.txt reads this plan back with --gpus 16 --profile '${hw}' (the arguments do not state the GPU count or the hardware)`);
  });

  it("the flags it names reproduce the export's figures (mixtral, imbalance 1.5)", async () => {
    const out = join(tempDir(), "MG");
    const e = await cli(["export", "--format", "megatron", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "4096", "--global-batch", "256", "--ep", "8", "--etp", "1", "--moe-imbalance", "1.5", "--out", out]);
    expect(e.code, e.stderr).toBe(0);
    const p = await cli(["plan", "--model", "mixtral-8x7b", "--from", join(out, "megatron-args.txt"), "--gpus", "64", "--moe-imbalance", "1.5", "--json", "--top", "1", "--simulate-top", "0"]);
    expect(p.code, p.stderr).toBe(0);
    expect(predicted(e)).toMatch(new RegExp(`^predicted ${count(JSON.parse(p.stdout).from.plan.tokensPerSecond)} tokens/s`));
  });
});

describe("export --plan plan.json: settings it takes from the file are named as the file's fields", () => {
  // Review: a plan --json made with --tp-comm-overlap, exported as DeepSpeed (whose engine has no
  // such overlap), was refused as "--tp-comm-overlap: …", a flag the user never typed.
  it("the file's tpCommOverlap, not --tp-comm-overlap", async () => {
    const made = await cli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--tp", "2", "--tp-comm-overlap", "--json", "--top", "1"]);
    expect(made.code, made.stderr).toBe(0);
    const r = await cli(["export", "--format", "deepspeed", "--plan", tempFile("tco.json", made.stdout)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paraplan: --plan \S*tco\.json: tpCommOverlap true: the megatron-deepspeed engine has no tensor-parallel communication overlap/);
  });

  // Review: plan --profile ./myhw.json records the path as given; export --plan from elsewhere
  // looked for it where export ran and named a --profile the user did not give.
  it("a profile file named by a relative path is found beside the plan file; a missing one names the field", async () => {
    const dir = join(tempDir(), "beside");
    mkdirSync(dir, { recursive: true });
    const hw = readJson(join("profiles", "hardware", "dgx-a100-80g.json"));
    writeFileSync(join(dir, "myhw.json"), JSON.stringify({ ...hw, name: "myhw" }));
    const made = await cli(["plan", "--model", "gpt3-1.3b", "--gpus", "8", "--profile", join(dir, "myhw.json"), "--json", "--top", "1"]);
    expect(made.code, made.stderr).toBe(0);
    // the file as plan wrote it had it been run inside `dir` with --profile ./myhw.json
    const planJson = readJson(tempFile("unused.json", made.stdout));
    planJson.cluster.profile = "./myhw.json";
    writeFileSync(join(dir, "ph.json"), JSON.stringify(planJson));
    const r = await cli(["export", "--format", "megatron", "--plan", join(dir, "ph.json")]);
    expect(r.code, r.stderr).toBe(0);
    // priced on the A100 profile beside it: the same figures as plan printed for it
    expect(r.stdout + r.stderr).toContain(`${count(Math.round(planJson.plans[0].tokensPerSecond))} tokens/s`);
    rmSync(join(dir, "myhw.json"));
    const gone = await cli(["export", "--format", "megatron", "--plan", join(dir, "ph.json")]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/cluster\.profile "\.\/myhw\.json" cannot be read here or beside the plan file; pass --profile with the file/);
  });
});

describe("export --plan: the attention the plan was priced with is kept where the export's engine defaults to another", () => {
  // QA: a megatron-core plan (fusedAttention true, its default) exported for DeepSpeed was priced
  // with materialised scores, megatron-deepspeed's default (201 GiB, refused for memory without
  // naming attention); a torchrun launch.json (its worker runs SDPA) the same.
  const fusedNote = "note: fused attention priced: your model code must run a flash kernel";
  it("a megatron-core plan --json and a torchrun launch.json export for DeepSpeed with fused attention, as priced", async () => {
    const made = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--json", "--top", "1"]);
    expect(made.code, made.stderr).toBe(0);
    expect([JSON.parse(made.stdout).engine, JSON.parse(made.stdout).fusedAttention]).toEqual(["megatron-core", true]);
    const file = tempFile("mcore-fused.json", made.stdout);
    const r = await cli(["export", "--format", "deepspeed", "--plan", file, "--out", join(tempDir(), "ds-fused")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(fusedNote);
    // the same figures as the flag gives (given equal to the file's, it is no contradiction)
    const flag = await cli(["export", "--format", "deepspeed", "--plan", file, "--attention", "fused", "--out", join(tempDir(), "ds-flag")]);
    expect(predicted(flag)).toBe(predicted(r));
    const tr = join(tempDir(), "tr-fused");
    expect((await cli(["export", "--format", "torchrun", "--model", "llama3-8b", "--gpus", "16", "--out", tr])).code).toBe(0);
    const fromLaunch = await cli(["export", "--format", "deepspeed", "--plan", join(tr, "launch.json"), "--out", join(tempDir(), "ds-launch")]);
    expect(fromLaunch.code, fromLaunch.stderr).toBe(0);
    expect(fromLaunch.stdout).toContain(fusedNote);
    const unfused = await cli(["export", "--format", "deepspeed", "--plan", join(tr, "launch.json"), "--attention", "unfused"]);
    expect(unfused.code).toBe(2);
    expect(unfused.errLines).toEqual([`paraplan: --attention unfused contradicts --plan ${join(tr, "launch.json")}, which was planned with paraplan's worker's fused attention (F.scaled_dot_product_attention, executor/worker/model.py); drop --attention (the file's is used), or plan again with --attention unfused`]);
  });

  it("an unfused default of the file's engine (megatron-deepspeed) is not carried: torchtitan runs its own fused kernel", async () => {
    const made = await cli(["plan", "--model", "llama3-8b", "--gpus", "16", "--engine", "megatron-deepspeed", "--json", "--top", "1"]);
    expect(made.code, made.stderr).toBe(0);
    const r = await cli(["export", "--format", "torchtitan", "--plan", tempFile("mds-unfused.json", made.stdout)]);
    expect(r.code, r.stderr).toBe(0);
  });
});
