// The whole run's range (plan --tokens): the run again with the step shorter and longer by the
// engine's error on its published runs (profiles/calibration.json: the larger of its widest miss
// and its leave-one-source-out mean), so a budget carries the error the calibration showed; beyond
// those runs in degree, by the widest error known out of sample; beyond them in kind, none
// (src/calibration-band.ts).
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { envelopePath } from "../../src/calibration-standing.js";
import { runCli } from "./helpers.js";

const engines = JSON.parse(readFileSync(envelopePath(), "utf8")).engines;

describe("gpt3-175b on 1,024 H100s, 300B tokens at $2/GPU-hour (inside megatron-core's runs)", () => {
  let j: any;
  let text: string;
  beforeAll(async () => {
    const args = ["plan", "--model", "gpt3-175b", "--gpus", "1024", "--tokens", "300B", "--price", "2", "--top", "1"];
    j = JSON.parse((await runCli([...args, "--json"])).stdout);
    text = (await runCli(args)).stdout;
  }, 120_000);

  it("draws the range at megatron-core's widest miss, 12.4% (MEG24-01; above its 5.0% left-out mean)", () => {
    const a = engines["megatron-core"].accuracy;
    expect(a.max).toBe(0.124);
    expect(a.max).toBeGreaterThan(a.losoMean);
    expect(j.run.range.band).toBe(0.124);
    expect(j.run.range.basis).toBe("megatron-core's widest miss on its 21 published runs");
  });

  it("the steps' time scales with the step: 95,368 steps × step × (1 ± 0.124); the price follows GPU-hours", () => {
    const r = j.run;
    // 300e9 tokens / (1,536 × 2,048 tokens a step) = 95,367.4 → 95,368 steps.
    expect(Math.ceil(r.steps)).toBe(95368);
    const [lo, hi] = r.range.days as [number, number];
    expect(lo).toBeLessThan(r.days);
    expect(hi).toBeGreaterThan(r.days);
    // Wall-clock is the steps' time over goodput; goodput moves little with the step (a longer step
    // spaces checkpoints further), so the days move by the band to within 0.5%.
    expect(lo / r.days).toBeCloseTo(1 - 0.124, 2);
    expect(hi / r.days).toBeCloseTo(1 + 0.124, 2);
    expect(r.range.cost[0]).toBeCloseTo(2 * r.range.gpuHours[0], 3);
    expect(r.range.gpuHours[1]).toBeCloseTo(1024 * 24 * hi, 0);
  });

  it("prints one line under the cost", () => {
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.includes("GPU-hours · cost"));
    expect(lines[at + 1]).toMatch(/^ {2}range ±12\.4%: \d+\.\d–\d+\.\d days, \d+k–\d+k GPU-hours, \$\d+k–\$\d+k \(the step off by megatron-core's widest miss on its 21 published runs\)$/);
  });
});

describe("other engines and requests", () => {
  it("fsdp's range is its widest miss, 24.2% (llm-foundry's MPT-140)", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "fsdp", "--tokens", "1T", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(engines.fsdp.accuracy.max).toBe(0.242);
    expect(r.stdout).toMatch(/\n {2}range ±24\.2%: .* \(the step off by fsdp's widest miss on its 216 published runs\)\n/);
  });

  it("torchtitan, with two runs, takes its left-out mean: the widest of two misses says little", async () => {
    const a = engines.torchtitan.accuracy;
    expect(a.losoMean).toBeGreaterThan(a.max);
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "torchtitan", "--profile", "h100-96g-500w", "--tokens", "1T", "--top", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const range = JSON.parse(r.stdout).run.range;
    expect(range.band).toBe(a.losoMean);
    expect(range.basis).toBe("torchtitan's mean miss on its published runs predicted without their own source");
  });

  it("beyond the runs in degree (8,192 tokens) the band is the worst out-of-sample miss, 20.5% (NeMo 24.07's LLAMA2-70B row), not the 12.4% in-sample", async () => {
    const v = engines["megatron-core"].validation;
    expect(v.max).toBe(0.205);
    const r = await runCli(["plan", "--model", "llama3-70b", "--gpus", "1024", "--tokens", "15T", "--top", "1"]);
    expect(r.stdout).toMatch(
      /\n {2}range ±20\.5%: .* \(the step off by the worst miss known beyond fitted runs, megatron-core on NVIDIA's Megatron-Core tables \(NeMo 24\.03 and 24\.07, Llama at fp8 on DGX-H100\), which nothing was fitted to; the request lies beyond megatron-core's 21 published runs in degree: sequence of 8,192 tokens\)\n/,
    );
  });

  it("an engine without out-of-sample runs of its own takes the widest known beyond its runs: torchtitan 8.2% → 20.5%; fsdp keeps its own 24.2%, wider", async () => {
    // torchtitan's runs are 8,192 tokens on 8–128 GPUs: 256 GPUs is beyond them in degree.
    const tt = JSON.parse((await runCli(["plan", "--model", "llama3-8b", "--gpus", "256", "--engine", "torchtitan", "--profile", "h100-96g-500w", "--tokens", "1T", "--top", "1", "--json"])).stdout);
    expect(tt.calibration.outside).toEqual(["256 GPUs"]);
    expect(tt.run.range.band).toBe(0.205);
    expect(tt.run.range.basis).toContain("(torchtitan has no such runs); the request lies beyond torchtitan's 2 published runs in degree: 256 GPUs");
    // fsdp's runs are 512–65,536 tokens on 8–512 GPUs: 1,024 GPUs is beyond them in degree.
    const fsdp = JSON.parse((await runCli(["plan", "--model", "llama3-8b", "--gpus", "1024", "--global-batch", "1024", "--engine", "fsdp", "--tokens", "1T", "--top", "1", "--json"])).stdout);
    expect(fsdp.calibration.outside).toEqual(["1,024 GPUs"]);
    expect(fsdp.run.range.band).toBe(0.242);
    expect(fsdp.run.range.basis).toMatch(/^fsdp's widest miss on its 216 published runs, no narrower than the worst miss known beyond fitted runs \(20\.5%, megatron-core on /);
  });

  it("llama3-405b on 16,384 GPUs at 8,192 tokens: Meta's 30.84M GPU-hours (Llama 3.1 model card) lies inside the range (it was below ±12.4%'s 32.3M)", async () => {
    const j = JSON.parse((await runCli(["plan", "--model", "llama3-405b", "--gpus", "16384", "--tokens", "15.6T", "--json"])).stdout);
    expect(j.calibration.outsideKind).toEqual(["degree", "degree"]);
    expect(j.run.range.band).toBe(0.205);
    // 36.9M GPU-hours at 8.08 s a step; the step 20.5% shorter: ≈ 36.9M × 0.795 = 29.3M (goodput
    // moves little with the step), below 30.84M; the longer ≈ 44.5M.
    const [lo, hi] = j.run.range.gpuHours as [number, number];
    expect(lo).toBeLessThan(30.84e6);
    expect(hi).toBeGreaterThan(30.84e6);
    expect(lo / j.run.gpuHours).toBeCloseTo(0.795, 2);
  }, 60_000);

  it("DeepSeek-V3 on 2,048 H800s: beyond the runs in kind (no run on H800, none a mixture of experts), so no range, and says why", async () => {
    // (its report, Table 1: 2.664M pre-training GPU-hours; the plan prints 8.8M, and ±12.4% was 7.7M–9.9M)
    const args = ["plan", "--model", "deepseek-v3", "--profile", "h800", "--gpus", "2048", "--tokens", "14.8T", "--precision", "fp8", "--optimizer-states", "bf16", "--tp", "1", "--pp", "16", "--ep", "64", "--top", "1"];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.includes("GPU-hours · cost"));
    expect(lines[at + 1]).toBe(
      "  range: none stated: the step's error is unknown where no published run of megatron-core reaches: h800: no published run on this hardware (its figures are the profile's priors); a mixture of experts (its runs are dense models)",
    );
    expect(r.stdout).not.toMatch(/range ±/);
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.calibration.outside).toEqual(["h800: no published run on this hardware (its figures are the profile's priors)", "671B parameters", "a mixture of experts (its runs are dense models)"]);
    expect(j.calibration.outsideKind).toEqual(["kind", "degree", "kind"]);
    expect(j.run.range).toBeNull();
    expect(j.run.noRange).toMatch(/^the step's error is unknown where no published run of megatron-core reaches: h800: .*; a mixture of experts/);
  }, 60_000);

  it("what the plan uses beyond its engine's runs counts too: a fixed GPipe schedule, which no published run used, leaves no range", async () => {
    // llama3-8b on 64 GPUs is inside torchtitan-compile's runs (8,192 tokens, 8–512 GPUs); its
    // pipelined runs ran 1F1B and interleaved 1F1B (and it runs no zero-bubble schedule at all:
    // profiles/engines/torchtitan-compile.json schedules).
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "torchtitan-compile", "--profile", "h100-96g-500w", "--pp", "4", "--schedule", "gpipe", "--tokens", "1T", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("this request is within them");
    expect(r.stdout).toContain("\n  range: none stated: the step's error is unknown where no published run of torchtitan-compile reaches: the GPipe schedule\n");
    // torchtitan (eager) has no pipelined run at all: the pipeline itself is beyond them
    const eager = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "torchtitan", "--profile", "h100-96g-500w", "--pp", "4", "--schedule", "zbv", "--tokens", "1T", "--top", "1"]);
    expect(eager.stdout).toContain("\n  range: none stated: the step's error is unknown where no published run of torchtitan reaches: a pipeline\n");
  });

  it("an engine no published run calibrates has no range (its error is unknown; the header says so)", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "paraplan", "--tokens", "1T", "--top", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.run.range).toBeNull();
    expect(j.run.noRange).toMatch(/^paraplan: no published run calibrates this engine \(this project's own runs of it/);
    expect(j.calibration.runs).toBe(0);
  });
});

describe("--deadline with the engine's error: the count that meets it even with the step that much slower", () => {
  const sweep = (deadline: string, json = false) =>
    runCli(["plan", "--model", "llama3-70b", "--sweep-gpus", "512,1024,2048", "--tokens", "15T", "--price", "2", "--deadline", deadline, ...(json ? ["--json"] : [])]);

  // The deadline's line, before the sources of the run's figures.
  const deadlineOf = (stdout: string) => stdout.split("\n").find((l) => l.startsWith("deadline "));

  // llama3-70b at 8,192 tokens lies beyond megatron-core's runs (2,048–4,096) in degree: the margin
  // is the worst out-of-sample miss, 20.5%, as the range's.
  it("200 days: 1,024 GPUs meet it at 177.8 days, not at 20.5% slower (≈ 177.8 × 1.205 = 214.3 days); 2,048 still do (≈ 96.1 × 1.205 = 115.8)", async () => {
    const j = JSON.parse((await sweep("200d", true)).stdout);
    const days = (g: number) => j.points.find((p: any) => p.gpus === g).run.days as number;
    expect(j.deadline.gpus).toBe(1024);
    expect(days(1024)).toBeLessThan(200);
    expect(j.deadline.band).toBe(0.205);
    expect(j.deadline.pickDaysAtBand / days(1024)).toBeCloseTo(1.205, 2);
    expect(j.deadline.pickDaysAtBand).toBeGreaterThan(200);
    expect(j.deadline.gpusWithMargin).toBe(2048);
    const text = deadlineOf((await sweep("200d")).stdout);
    expect(text).toMatch(/^deadline 200\.0 days: the cheapest count that meets it is 1,024 GPUs, 177\.8 days, \$8\.7M; with the step 20\.5% slower \(the worst miss known beyond fitted runs; the request lies beyond megatron-core's runs in degree\) it takes 214\.3 days: the cheapest count that meets it even then is 2,048 GPUs, 115\.8 days at that pace, \$11\.4M$/);
  }, 120_000);

  it("250 days: the pick meets it even 20.5% slower", async () => {
    const text = deadlineOf((await sweep("250d")).stdout);
    expect(text).toMatch(/1,024 GPUs, 177\.8 days, \$8\.7M; with the step 20\.5% slower \(the worst miss known beyond fitted runs; the request lies beyond megatron-core's runs in degree\) it takes 214\.3 days, still within it$/);
  }, 120_000);

  it("beyond the runs in kind (a mixture of experts on H800) no margin is stated, and the line says why", async () => {
    const args = ["plan", "--model", "deepseek-v3", "--profile", "h800", "--sweep-gpus", "1024,2048", "--tokens", "14.8T", "--precision", "fp8", "--optimizer-states", "bf16", "--deadline", "300d"];
    expect(deadlineOf((await runCli(args)).stdout)).toMatch(/; no margin for the step's error is stated: the step's error is unknown where no published run of megatron-core reaches: h800: .*; a mixture of experts \(its runs are dense models\)$/);
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.deadline.band).toBeNull();
    expect(j.deadline.noBand).toMatch(/^the step's error is unknown where/);
  }, 120_000);
});

describe("the whole run's counts in words", () => {
  it("one GPU is '1 GPU' (it read '1 GPUs')", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--gpus", "1", "--tokens", "1B", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^whole run: 1\.0B tokens = [\d,]+ steps of [\d.]+k? tokens on 1 GPU$/m);
  });
});
