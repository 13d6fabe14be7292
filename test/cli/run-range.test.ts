// The whole run's range (plan --tokens): the run again with the step shorter and longer by the
// engine's error on its published runs (profiles/calibration.json: the larger of its widest miss
// and its leave-one-source-out mean), so a budget carries the error the calibration showed.
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

  it("outside the runs it says the step may be off by more, and names how", async () => {
    const r = await runCli(["plan", "--model", "llama3-70b", "--gpus", "1024", "--tokens", "15T", "--top", "1"]);
    expect(r.stdout).toMatch(/range ±12\.4%: .*; it may be off by more here, outside those runs: sequence of 8,192 tokens\)/);
  });

  it("an engine no published run calibrates has no range (its error is unknown; the header says so)", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "64", "--engine", "paraplan", "--tokens", "1T", "--top", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.run.range).toBeUndefined();
    expect(j.calibration.runs).toBe(0);
  });
});

describe("--deadline with the engine's error: the count that meets it even with the step that much slower", () => {
  const sweep = (deadline: string, json = false) =>
    runCli(["plan", "--model", "llama3-70b", "--sweep-gpus", "512,1024,2048", "--tokens", "15T", "--price", "2", "--deadline", deadline, ...(json ? ["--json"] : [])]);

  // The deadline's line, before the sources of the run's figures.
  const deadlineOf = (stdout: string) => stdout.split("\n").find((l) => l.startsWith("deadline "));

  it("200 days: 1,024 GPUs meet it at 182.4 days, not at 12.4% slower (≈ 182.4 × 1.124 = 205.0 days); 2,048 still do (≈ 97.9 × 1.124 = 110.1)", async () => {
    const j = JSON.parse((await sweep("200d", true)).stdout);
    const days = (g: number) => j.points.find((p: any) => p.gpus === g).run.days as number;
    expect(j.deadline.gpus).toBe(1024);
    expect(days(1024)).toBeLessThan(200);
    expect(j.deadline.band).toBe(0.124);
    expect(j.deadline.pickDaysAtBand / days(1024)).toBeCloseTo(1.124, 2);
    expect(j.deadline.pickDaysAtBand).toBeGreaterThan(200);
    expect(j.deadline.gpusWithMargin).toBe(2048);
    const text = deadlineOf((await sweep("200d")).stdout);
    expect(text).toMatch(/^deadline 200\.0 days: the cheapest count that meets it is 1,024 GPUs, 182\.4 days, \$9\.0M; with the step 12\.4% slower \(megatron-core's error on its published runs\) it takes 205\.0 days: the cheapest count that meets it even then is 2,048 GPUs, 110\.1 days at that pace, \$10\.8M$/);
  }, 120_000);

  it("250 days: the pick meets it even 12.4% slower", async () => {
    const text = deadlineOf((await sweep("250d")).stdout);
    expect(text).toMatch(/1,024 GPUs, 182\.4 days, \$9\.0M; with the step 12\.4% slower \(megatron-core's error on its published runs\) it takes 205\.0 days, still within it$/);
  }, 120_000);
});

describe("the whole run's counts in words", () => {
  it("one GPU is '1 GPU' (it read '1 GPUs')", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--gpus", "1", "--tokens", "1B", "--top", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^whole run: 1\.0B tokens = [\d,]+ steps of [\d.]+k? tokens on 1 GPU$/m);
  });
});
