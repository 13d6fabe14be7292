// `paraplan export` and `paraplan plan --from` through main(argv, io): output, files, exit codes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluatePlan, search } from "../../planner/index.js";
import { changeLine, gainLine } from "../../src/engines/compare-report.js";
import { buildRequest } from "../../src/plan-request.js";
import { parsePlanArgs } from "../../src/plan-args.js";
import { cli, fixture, removeTemp, tempDir, tempFile } from "./helpers.js";

afterAll(removeTemp);

/** The planner inputs `paraplan plan ARGS` searches with. */
const planInputs = (args: string[]) => {
  const req = buildRequest(parsePlanArgs(args));
  return [req.model, req.hw, req.training, req.fixed] as const;
};

describe("paraplan export", () => {
  it("prints a single file as is; the plan and prediction go to stderr", async () => {
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "16"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("# Megatron-LM pretrain_gpt.py arguments: llama3-8b on 16 x H100 SXM5 80GB (dgx-h100)")).toBe(true);
    expect(r.stdout).toContain("\n--tensor-model-parallel-size ");
    expect(r.errLines[0]).toMatch(/^paraplan: megatron \(core_r0\.14\): tp \d+ · pp \d+ · dp \d+ · ZeRO-\d ·/);
    expect(r.errLines[1]).toMatch(/^paraplan: predicted [\d,]+ tokens\/s, [\d.]+ GiB per GPU/);
  });

  it("--out DIR writes every file, and the JSON is the ds_config", async () => {
    const dir = join(tempDir(), "ds-out");
    const r = await cli(["export", "--format", "deepspeed", "--model", "gpt3-175b", "--tp", "8", "--pp", "4", "--zero", "1", "--out", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("wrote "))).toEqual([`wrote ${join(dir, "ds_config.json")}`, `wrote ${join(dir, "megatron-deepspeed-args.txt")}`]);
    const ds = JSON.parse(readFileSync(join(dir, "ds_config.json"), "utf8"));
    expect(ds.zero_optimization.stage).toBe(1);
    expect(ds.train_batch_size).toBe(1536); // the gpt3-175b model file's batch
    expect(readFileSync(join(dir, "megatron-deepspeed-args.txt"), "utf8")).toContain("\n--pipeline-model-parallel-size 4\n");
  });

  it("--out never replaces the files of a run of paraplan execute (its launch.json, what the worker ran)", async () => {
    const dir = join(tempDir(), "run");
    mkdirSync(dir);
    writeFileSync(join(dir, "plan.json"), "{}\n");
    writeFileSync(join(dir, "launch.json"), '{"ran": true}\n');
    const r = await cli(["export", "--format", "torchrun", "--model", "tiny", "--profile", "cpu", "--gpus", "2", "--out", dir]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`paraplan: --out: "${dir}" holds a run of paraplan execute (plan.json, launch.json); export would replace its launch.json; write elsewhere`]);
    expect(readFileSync(join(dir, "launch.json"), "utf8")).toBe('{"ran": true}\n');
    expect(existsSync(join(dir, "torchrun.sh"))).toBe(false);
  });

  // (was: megatron never picks ZeRO-2/3.) core_r0.14 runs them as Megatron-FSDP, which the export
  // writes; searching ZeRO 0 and 1 only, it exported a slower plan than plan's first.
  it("searches what the release runs: core_r0.14 exports the ZeRO-2/3 plan plan ranks first (core_v0.7, without Megatron-FSDP, is refused ZeRO-2/3 in capabilities.ts)", async () => {
    // On 8 GPUs llama3-8b is memory-bound: the unrestricted best shards gradients (ZeRO-2, dp 8, no
    // recompute). (On 16 GPUs the overlap slowdown, Lee et al. 2025, now makes ZeRO-1 the best.)
    const free = JSON.parse((await cli(["plan", "--model", "llama3-8b", "--gpus", "8", "--json", "--top", "1"])).stdout);
    expect(free.plans[0].zero).toBeGreaterThanOrEqual(2);
    const dir = join(tempDir(), "m-out");
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-8b", "--gpus", "8", "--out", dir]);
    expect(r.code).toBe(0);
    const p = free.plans[0];
    expect(r.stdout.split("\n")[0]).toContain(`tp ${p.tp} · pp ${p.pp} · dp ${p.dp} · ZeRO-${p.zero} ·`);
    expect(readFileSync(join(dir, "megatron-args.txt"), "utf8")).toContain("--use-megatron-fsdp");
  });

  it("torchtitan beside a pipeline: FSDP2 is ZeRO-1 there (unsharded gradients until the last micro-batch), so the export is the plan `plan --engine torchtitan` ranks first for that release, and --from reads it back the same", async () => {
    // Llama 3 70B on 64 H100s under torchtitan main, which frees the last stage's logits
    // (step(return_outputs=False)): the engine's best has a pipeline. Before, the export searched
    // ZeRO-2/3 beside it and priced sharded gradients torchtitan does not keep (77.9 GiB printed
    // for a tp 2 · pp 4 · ZeRO-3 run whose unsharded fp32 gradients alone take 33 GiB: 8.8 B
    // parameters a GPU × 4 bytes).
    const [model, hw, training, fixed] = planInputs(["--model", "llama3-70b", "--gpus", "64", "--engine", "torchtitan"]);
    const main = { ...training, engine: { ...training.engine!, keptOutputBytes: 0 } };
    const best = search(model, hw, main, fixed, { top: 1 }).plans[0]!;
    expect(best.pp).toBeGreaterThan(1);
    expect(best.zero).toBe(1);
    const dir = join(tempDir(), "titan-pp");
    const r = await cli(["export", "--format", "torchtitan", "--release", "main", "--model", "llama3-70b", "--gpus", "64", "--out", dir]);
    expect(r.code).toBe(0);
    const shown = `tp ${best.tp} · pp ${best.pp} · vpp ${best.vpp} · dp ${best.dp} · ZeRO-1 ·`;
    expect(r.stdout.split("\n")[0]).toContain(shown); // with --out the summary is the output
    // Naming the format's own engine changes nothing (it dropped main's freed logits: 0.2's plan).
    const named = await cli(["export", "--format", "torchtitan", "--release", "main", "--model", "llama3-70b", "--gpus", "64", "--engine", "torchtitan", "--out", join(tempDir(), "titan-named")]);
    const summary = (out: string) => out.split("\n").filter((l) => !l.startsWith("wrote "));
    expect(summary(named.stdout)).toEqual(summary(r.stdout));
    const args = readFileSync(join(dir, "torchtitan-overrides.txt"), "utf8");
    expect(args).toContain(`--parallelism.data_parallel_shard_degree ${best.dp}`);
    const back = await cli(["plan", "--model", "llama3-70b", "--gpus", "64", "--from", join(dir, "torchtitan-overrides.txt")]);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(`from torchtitan-overrides.txt (torchtitan): ${shown}`);
  });

  it("torchtitan 0.2 keeps every micro-batch's logits on the last stage (256 micro-batches: 63 GiB at tp 8), so its export of the same run has no pipeline", async () => {
    const [model, hw, training, fixed] = planInputs(["--model", "llama3-70b", "--gpus", "64", "--engine", "torchtitan"]);
    expect(training.engine!.keptOutputBytes).toBe(2);
    const best = search(model, hw, training, fixed, { top: 1 }).plans[0]!;
    expect(best.pp).toBe(1);
    const r = await cli(["export", "--format", "torchtitan", "--release", "0.2", "--model", "llama3-70b", "--gpus", "64", "--out", join(tempDir(), "titan-02")]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toContain(`tp ${best.tp} · pp 1 ·`);
    // The same pipeline plan priced both ways: 512 sequences on dp 2 at micro-batch 1 are 256
    // micro-batches of 8192 × 128,256/8 bf16 logits, 2 B each, on the last stage.
    const pp = { tp: 8, pp: 4, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1 as const, microBatch: 1, recompute: "full" as const, sequenceParallel: true, schedule: "1f1b" as const };
    const kept = evaluatePlan(model, hw, training, pp).memory.total;
    const freed = evaluatePlan(model, hw, { ...training, engine: { ...training.engine!, keptOutputBytes: 0 } }, pp).memory.total;
    expect(kept).toBeGreaterThan(hw.memory);
    expect(kept - freed).toBeGreaterThanOrEqual(256 * 8192 * (128_256 / 8) * 2);
  });

  it("refuses ZeRO-3 for megatron core_v0.7 with the reason, one line, exit 2", async () => {
    const r = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", "gpt3-1.3b", "--gpus", "8", "--zero", "3"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      "paraplan: --format megatron: ZeRO-3 has no Megatron-LM core_v0.7 equivalent: --use-distributed-optimizer shards the optimizer states only (ZeRO-1) and Megatron-FSDP arrived later (core_r0.14 --use-megatron-fsdp); use --release core_r0.14, --format deepspeed or torchtitan, or fix --zero 0 or 1",
    ]);
    expect(r.stdout).toBe("");
  });

  it("when nothing the engine runs fits, it says so: Llama 3 405B on 2048 GPUs with pp 2 has ZeRO 0 or 1 only beside Megatron's pipeline", async () => {
    // megatron-core's search never tries ZeRO-2/3 beside a pipeline (Megatron-FSDP documents TP,
    // CP and EP, not pipelines: profiles/engines/megatron-core.json supports.zeroWithPipeline), so
    // the best it finds is a ZeRO-1 plan that does not fit, not a ZeRO-3 plan the export refuses.
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-405b", "--gpus", "2048", "--pp", "2"]);
    expect(r.code).toBe(1);
    expect(r.errLines.length).toBe(1);
    expect(r.stderr).toMatch(/^paraplan: no plan fits in memory; the closest, tp 8 · pp 2 · dp 128 · ZeRO-1 /);
  });

  it("when no plan the search found runs on the release, the refusal says the search ended there (core_v0.7 has no ZeRO-3)", async () => {
    const r = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", "llama2-70b", "--gpus", "64", "--pp", "1", "--tp", "1"]);
    expect(r.code).toBe(2);
    expect(r.errLines.length).toBe(1);
    expect(r.stderr).toMatch(/^paraplan: --format megatron: none of the plans Megatron-LM runs as is fits here; the best plan found, .* ZeRO-3 .*, cannot run on it: ZeRO-3 has no Megatron-LM core_v0\.7 equivalent/);
  });

  it("a model the release cannot build is refused by the model before any plan is sought (core_v0.7's fixed RoPE base)", async () => {
    const r = await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", "llama3-70b", "--gpus", "64", "--pp", "1"]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(["paraplan: --format megatron: Megatron-LM core_v0.7 has no --rotary-base: its RoPE base is fixed at 10,000 and llama3-70b's is 500,000; use --release core_r0.14"]);
  });

  it("Llama 3 405B on 2048 GPUs: pp 16 with one layer fewer on the first and last stage, as Llama 3 ran (§3.3.2)", async () => {
    // With 16-bit gradients (--grad-reduce-in-bf16): Megatron's own bf16 default, fp32 gradients,
    // holds 2 bytes more a parameter under ZeRO-1 and leaves pp 16 short of memory here.
    const r = await cli(["export", "--format", "megatron", "--model", "llama3-405b", "--gpus", "2048", "--grad-reduce-in-bf16"]);
    expect(r.code).toBe(0);
    expect(r.errLines[0]).toMatch(/^paraplan: megatron \(core_r0\.14\): tp 8 · pp 16 \(stage layers 7,8×14,7\) · dp 16 /);
    expect(r.stdout).toContain("\n--grad-reduce-in-bf16\n");
    // Megatron-Core's uneven pipeline: the first and last stages' counts, the rest even.
    expect(r.stdout).toContain("\n--decoder-first-pipeline-num-layers 7\n");
    expect(r.stdout).toContain("\n--decoder-last-pipeline-num-layers 7\n");
  });

  it("--plan FILE: that plan, checked and exported; a ZeRO-2 plan file is refused for megatron core_v0.7", async () => {
    const ok = tempFile("plan-ok.json", JSON.stringify({ tp: 2, pp: 2, dp: 2, zero: 1, microBatch: 1 }));
    const r = await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--plan", ok]);
    expect(r.code).toBe(0);
    expect(r.errLines[0]).toBe("paraplan: megatron (core_r0.14): tp 2 · pp 2 · dp 2 · ZeRO-1 · micro-batch 1 · no recompute · 1F1B");
    const z2 = tempFile("plan-z2.json", JSON.stringify({ tp: 1, pp: 1, dp: 8, zero: 2, microBatch: 1 }));
    expect((await cli(["export", "--format", "megatron", "--release", "core_v0.7", "--model", "gpt3-1.3b", "--plan", z2])).code).toBe(2);
    expect((await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--plan", z2])).code).toBe(0); // core_r0.14: Megatron-FSDP
    expect((await cli(["export", "--format", "megatron", "--model", "gpt3-1.3b", "--plan", ok, "--tp", "2"])).code).toBe(2);
  });

  it("bad input is exit 2; nothing that fits is exit 1", async () => {
    for (const argv of [["--format", "bogus"], ["--model", "tiny"], ["--format", "megatron", "--model", "tiny", "--release", "r9"]]) {
      const r = await cli(["export", ...argv]);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.errLines.length).toBe(1);
    }
    const blocked = tempFile("not-a-dir", "x");
    const w = await cli(["export", "--format", "megatron", "--model", "tiny", "--out", join(blocked, "sub")]);
    expect(w.code).toBe(2);
    expect(w.errLines).toEqual([expect.stringMatching(/^paraplan: --out: cannot write into ".*sub" \(ENOTDIR\)$/)]);
    const none = await cli(["export", "--format", "deepspeed", "--model", "gpt3-175b", "--gpus", "8"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no plan fits in memory");
  });

  // torchrun/Slurm launch paraplan's worker by default: an exported Mixtral job of tp 8 · ep 8 at
  // ZeRO-2 was refused by the worker at launch (moe at tp 1 and ZeRO 0 only, capabilities.ts).
  it("torchrun and Slurm with the default worker export only plans the worker runs; --script lifts that", async () => {
    for (const format of ["torchrun", "slurm"]) {
      const r = await cli(["export", "--format", format, "--model", "mixtral-8x7b", "--gpus", "64"]);
      expect(r.code).toBe(0);
      const plan = /: tp (\d+) · pp \d+ · dp \d+(?: · ep (\d+))? · ZeRO-(\d)/.exec(r.errLines[0]!)!;
      expect(Number(plan[1])).toBe(1); // the worker runs mixtures of experts at tp 1 only
      if (plan[2] !== undefined) expect(Number(plan[3])).toBe(0); // and expert parallel at ZeRO 0
    }
    // (tp 8, which the worker does not run beside experts: refused without --script, exported with
    // it as the default engine prices it; the default engine's free best is now tp 1 · ZeRO-3 at
    // ep 1, which the worker runs, since ep 1 is no longer priced at the imbalance of ep > 1)
    const notWorker = await cli(["export", "--format", "torchrun", "--model", "mixtral-8x7b", "--gpus", "64", "--tp", "8"]);
    expect(notWorker.code).toBe(2);
    // (the worker's engine profile says so: supports.moeWithTensorParallel false, rule moe_tp)
    expect(notWorker.errLines[0]).toBe("paraplan: --tp: tp 8: this engine runs mixture-of-experts models at tp 1 only (its profile's supports.moeWithTensorParallel is false); --format torchrun launches paraplan's worker: give --script to launch a trainer of your own");
    const own = await cli(["export", "--format", "torchrun", "--model", "mixtral-8x7b", "--gpus", "64", "--script", "train.py", "--tp", "8"]);
    expect(own.code).toBe(0);
    expect(own.errLines[0]).toMatch(/tp 8 · pp \d+ (· vpp \d+ )?· dp \d+ · ep 8/);
    const mla = await cli(["export", "--format", "slurm", "--model", "deepseek-v3", "--gpus", "256"]);
    expect(mla.code).toBe(2);
    expect(mla.errLines).toEqual([
      "paraplan: --format slurm: deepseek-v3 has multi-head latent attention (MLA); engine paraplan-compile builds no latent attention (the worker builds multi-head attention with optional grouped K/V heads, no latent attention (executor/worker/spec.py moe_checks refuses mla; model.py Attention)); --format slurm launches paraplan's worker: give --script to launch a trainer of your own",
    ]);
  });

  it("--plan of another model is refused, as execute refuses it (it exported a gpt3-like job from a Llama 3 70B plan)", async () => {
    const dir = tempDir("export-plan-model");
    expect((await cli(["export", "--format", "torchrun", "--model", "llama3-70b", "--gpus", "64", "--out", dir])).code).toBe(0);
    const r = await cli(["export", "--format", "slurm", "--model", "gpt3-like", "--plan", join(dir, "launch.json")]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([`paraplan: --plan ${join(dir, "launch.json")} is a plan for the model llama3-70b, not for --model gpt3-like; pass --model llama3-70b, or plan again for gpt3-like`]);
    expect((await cli(["export", "--format", "slurm", "--model", "llama3-70b", "--plan", join(dir, "launch.json")])).code).toBe(0);
  });

  // Qwen2.5's YaRN scaling is read (frequencies only: no cost) but no exporter writes it; the
  // files went out without a word, and the trainer would train unscaled rotary positions.
  it("a config.json's rope scaling that no exporter writes is said; Llama 3.1's is written", async () => {
    const qwen = JSON.parse(readFileSync(join("test", "planner", "hf", "qwen2.5-7b.json"), "utf8"));
    const yarn = tempFile("qwen-yarn.json", JSON.stringify({ ...qwen, rope_scaling: { type: "yarn", factor: 4, original_max_position_embeddings: 32768 } }));
    const r = await cli(["export", "--format", "megatron", "--model", yarn, "--gpus", "8", "--global-batch", "64"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("note: the model's rope_scaling (yarn) is not in these files: paraplan writes only Llama 3.1's; give it to the trainer yourself");
    const plain = await cli(["export", "--format", "megatron", "--model", tempFile("qwen.json", JSON.stringify(qwen)), "--gpus", "8", "--global-batch", "64"]);
    expect(plain.stderr).not.toContain("rope_scaling");
  });

  it("--help exits 0 with the usage; the top-level usage lists export", async () => {
    expect((await cli(["export", "--help"])).stdout).toContain("--format megatron|deepspeed|torchtitan|llm-foundry|torchrun|slurm");
    expect((await cli(["--help"])).stdout).toContain("paraplan export --format F");
  });
});

describe("paraplan plan --from", () => {
  const script = fixture("user-gpt3-175b-megatron.sh");

  it("the GPT-3 script beside the best plan: its plan, the gain and the changes the planner predicts", async () => {
    const r = await cli(["plan", "--model", "gpt3-175b", "--from", script]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    expect(lines).toContain("from user-gpt3-175b-megatron.sh (megatron): tp 8 · pp 16 · dp 8 · ZeRO-0 · micro-batch 1 · no recompute · 1F1B");
    expect(lines[1]).toBe("global batch 1536 × 2048 tokens, fp16, fused attention, Adam with fp32 master weights");
    // The same evaluation and search by hand: fp16, no grad overlap (the script has no
    // --overlap-grad-reduce), 16-bit gradients (Megatron forces fp32 reduction only under bf16).
    const req = buildRequest(parsePlanArgs(["--model", "gpt3-175b", "--precision", "fp16", "--no-grad-overlap", "--grad-reduce-in-bf16"]));
    const current = evaluatePlan(req.model, req.hw, req.training, { tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    const best = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    expect(best.tokensPerSecond).toBeGreaterThan(current.tokensPerSecond);
    expect(lines).toContain(gainLine(current, best));
    expect(lines).toContain(changeLine(current, best));
    // The best plan now keeps pp 16 (interleaved, with the engine's overlap slowdown on larger dp);
    // the exact line is the hand search's changeLine above. tp still changes first.
    expect(changeLine(current, best)).toMatch(/^changes: tp 8 → \d+; /);
  });

  it("--json adds the from object: its plan, the predicted gain and the changes", async () => {
    const j = JSON.parse((await cli(["plan", "--model", "gpt3-175b", "--from", script, "--json"])).stdout);
    expect(Object.keys(j.from).sort()).toEqual(["changes", "fits", "format", "gpus", "notes", "plan", "predictedGain", "sources", "warnings"]);
    expect(j.from.plan).toMatchObject({ tp: 8, pp: 16, dp: 8, zero: 0, microBatch: 1 });
    expect(j.from.predictedGain).toBeCloseTo(j.plans[0].tokensPerSecond / j.from.plan.tokensPerSecond, 12);
    expect(j.from.changes[0]).toEqual({ dimension: "tp", from: 8, to: j.plans[0].tp });
    expect(j.globalBatch).toBe(1536);
    expect(j.precision).toBe("fp16");
  });

  it("unknown settings are warnings on stderr, one per setting; the comparison still runs", async () => {
    const r = await cli(["plan", "--model", "llama3-70b", "--from", fixture("user-llama3-70b-ds-zero3.json")]);
    expect(r.code).toBe(0);
    expect(r.errLines).toEqual([
      'paraplan: warning: user-llama3-70b-ds-zero3.json: "train_micro_batch_size" is not a DeepSpeed configuration key paraplan knows; ignored',
      'paraplan: warning: user-llama3-70b-ds-zero3.json: "zero_optimization_legacy" is not a DeepSpeed configuration key paraplan knows; ignored',
    ]);
    expect(r.stdout).toContain("assumed: 64 GPUs from user-llama3-70b-ds-zero3.json");
    expect(r.stdout).toMatch(/\npredicted gain: [\d.]+×/);
  });

  it("a configuration its own stack cannot run is refused by its engine's profile, not priced: Megatron's torch FSDP2 beside a pipeline", async () => {
    // Megatron asserts pipeline_model_parallel_size == 1 under --use-torch-fsdp2 (arguments.py).
    const args = tempFile("fsdp2-pp.txt", "--tensor-model-parallel-size 2\n--pipeline-model-parallel-size 2\n--use-torch-fsdp2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n");
    const r = await cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--from", args]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([expect.stringMatching(/^paraplan: fsdp2-pp\.txt: --use-torch-fsdp2 \(line 3\): engine megatron-core runs ZeRO stages 0, 1 beside a pipeline, not 3 \(.*pipeline_model_parallel_size == 1.*\) \(the plan read: tp 2 · pp 2 · dp 16 · ZeRO-3 .*\) \[engine_unsupported\]$/)]);
    // Without the pipeline it is priced.
    const flat = tempFile("fsdp2.txt", "--tensor-model-parallel-size 2\n--use-torch-fsdp2\n--micro-batch-size 1\n--global-batch-size 512\n--seq-length 8192\n--bf16\n");
    expect((await cli(["plan", "--model", "llama3-8b", "--gpus", "64", "--from", flat])).code).toBe(0);
  });

  it("contradictions are one line, exit 2: GPU count, model mismatch, plan flags beside --from", async () => {
    const cases: [string[], string][] = [
      [["--model", "gpt3-175b", "--gpus", "64", "--from", script], "(torchrun --nproc_per_node 8 --nnodes 128) makes 1024 GPUs but --gpus is 64; they must agree"],
      [["--model", "gpt3-6.7b", "--from", script], "--num-layers 96 but the model gpt3-6.7b has layers 32"],
      [["--model", "gpt3-175b", "--from", script, "--tp", "4"], "--from fixes every plan dimension; drop the plan flags (tp)"],
      [["--model", "gpt3-175b", "--from", script, "--global-batch", "512"], "--global-batch 512 but user-gpt3-175b-megatron.sh has 1536"],
      [["--model", "gpt3-175b", "--from"], "--from needs a file"],
    ];
    for (const [argv, msg] of cases) {
      const r = await cli(["plan", ...argv]);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.errLines.length, argv.join(" ")).toBe(1);
      expect(r.stderr, argv.join(" ")).toContain(msg);
    }
  });

  it("without --from, plan is unchanged: no from object in its JSON", async () => {
    const j = JSON.parse((await cli(["plan", "--model", "tiny", "--json"])).stdout);
    expect(j).not.toHaveProperty("from");
    expect(existsSync(script)).toBe(true);
  });
});
