// Issue 14's done-when checks through the CLI: context parallel searched and fixed, its column,
// its exchange in the breakdown and JSON, the reason a cp plan wins; the cp flags' bad input.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "./helpers.js";

describe("plan with context parallel", () => {
  it("llama3-8b --seq 1048576 --gpus 256 --global-batch 8: a cp column, cp in the best plan and why", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--seq", "1048576", "--gpus", "256", "--global-batch", "8", "--top", "3", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# +tp +cp +pp +vpp +dp +zero/m);
    expect(r.stdout).toMatch(/best plan: tp \d+ · cp \d+ \((K\/V all-gather|ring|all-to-all), zig-zag\)/);
    expect(r.stdout).toMatch(/cp exchange [^,]+ \([\d.]+%\)/);
    expect(r.stdout).toMatch(/why context parallel: without context parallel no plan fits: the best cp=1 needs \d+\.\d GiB of 79\.6 GiB per GPU/);
  });
  it("a sequence no 2·cp divides (1,048,577 tokens): nothing fits, and the message says context parallel was left out and why", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--seq", "1048577", "--gpus", "256", "--global-batch", "8", "--simulate-top", "0"]);
    expect(r.code).toBe(1);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/Context parallel, which would split the activations, was left out: 2·cp does not divide the 1,048,577-token sequence \([\d,]+ configurations, \[cp_seq\]\)/);
  });
  it("--cp 4 --cp-comm a2a --json: cp, cpComm, cpSplit on every plan and time.cpComm > 0", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--seq", "32768", "--gpus", "64", "--global-batch", "64", "--cp", "4", "--cp-comm", "a2a", "--top", "3", "--json", "--simulate-top", "0"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.plans.length).toBeGreaterThan(0);
    for (const p of j.plans) {
      expect([p.cp, p.cpComm, p.cpSplit]).toEqual([4, "a2a", "zigzag"]);
      expect(p.time.cpComm).toBeGreaterThan(0);
    }
    // cp fixed: no cp = 1 plan was searched, so there is nothing to compare with.
    expect(j.cpWhy).toBeUndefined();
    const searched = JSON.parse((await runCli(["plan", "--model", "llama3-8b", "--seq", "1048576", "--gpus", "256", "--global-batch", "8", "--top", "1", "--json", "--simulate-top", "0"])).stdout);
    expect(searched.plans[0].cp).toBeGreaterThan(1);
    expect(searched.cpWhy).toMatch(/^without context parallel no plan fits/);
  });
  it("bad cp flags are one-line errors naming the flag (exit 2)", async () => {
    for (const [argv, flag] of [
      [["--cp-comm", "p2p"], "--cp-comm"],
      [["--cp-split", "striped"], "--cp-split"],
      [["--cp", "1", "--cp-comm", "ring"], "--cp-comm"],
      [["--cp", "3"], "--cp"],
    ] as const) {
      const r = await runCli(["plan", "--model", "llama3-8b", "--seq", "32768", "--gpus", "64", ...argv]);
      expect(r.code).toBe(2);
      expect(isOneLine(r.stderr)).toBe(true);
      expect(r.stderr).toContain(flag);
    }
    const moe = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--seq", "32768", "--cp", "2"]);
    expect(moe.code).toBe(2);
    expect(moe.stderr).toMatch(/cp 2 with a mixture-of-experts model is not modelled/);
  });
});

// --cp-comm / --cp-split for a search that tries no context parallel were accepted and ignored
// (a Mixtral plan "with ring attention" had none), where --cp 2 is refused.
describe("a cp exchange or cut for a search without context parallel", () => {
  it("is exit 2 saying why the search has no cp: a mixture of experts, a sequence under 16,384 tokens", async () => {
    const moe = await runCli(["plan", "--model", "mixtral-8x7b", "--gpus", "64", "--cp-comm", "ring"]);
    expect(moe.code).toBe(2);
    expect(isOneLine(moe.stderr)).toBe(true);
    expect(moe.stderr).toContain("--cp-comm ring: mixtral-8x7b is a mixture of experts, which paraplan plans without context parallel");
    const short = await runCli(["plan", "--model", "llama3-8b", "--seq", "8192", "--cp-split", "contiguous"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("--cp-split contiguous: context parallel is searched from 16,384 tokens, and the sequence is 8,192 (--cp N fixes it)");
    // with --cp the flags fix its exchange, whatever the sequence
    expect((await runCli(["plan", "--model", "llama3-8b", "--seq", "8192", "--gpus", "16", "--cp", "2", "--cp-comm", "allgather", "--top", "1", "--simulate-top", "0"])).code).toBe(0);
  });
});

// Inputs of this area that can never form a plan were exit 1 ("no valid configuration", or "no
// configuration matches the fixed dimensions together") or a misleading reason; now exit 2, one
// line, naming the flag and why.
describe("long-context and V-schedule inputs that can never form a plan", () => {
  afterAll(() => removeTempFiles());
  it("a2a with cp 16 and 8 K/V heads, tp searched: --cp, at tp 1", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--seq", "131072", "--gpus", "64", "--cp", "16", "--cp-comm", "a2a"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toContain("--cp: all-to-all context parallel (cp exchange a2a) scatters heads over cp: cp 16 must divide the 32 query and 8 key/value heads of each tp rank (tp 1, the most heads a rank can keep)");
  });
  it("a sliding-window model with the ring under Megatron-Core: --cp-comm, fixed cp or searched", async () => {
    const swa = tempFile("swa-8b.json", JSON.stringify({ ...JSON.parse(readFileSync(new URL("../../profiles/models/llama3-8b.json", import.meta.url), "utf8")), name: "swa-8b", slidingWindow: 4096 }));
    const fixed = await runCli(["plan", "--model", swa, "--seq", "131072", "--gpus", "64", "--cp", "16", "--cp-comm", "ring"]);
    expect([fixed.code, isOneLine(fixed.stderr)]).toEqual([2, true]);
    expect(fixed.stderr).toMatch(/^paraplan: --cp-comm: engine megatron-core runs context parallel with a sliding window only as allgather, a2a .*; use --cp-comm allgather or a2a, or cp 1$/);
    const searched = await runCli(["plan", "--model", swa, "--seq", "131072", "--gpus", "64", "--cp-comm", "ring"]);
    expect([searched.code, isOneLine(searched.stderr)]).toEqual([2, true]);
    expect(searched.stderr).toMatch(/--cp-comm ring: engine megatron-core runs no ring context parallel with swa-8b's sliding window .*the flag would change nothing, drop it/);
    const gather = await runCli(["plan", "--model", swa, "--seq", "131072", "--gpus", "64", "--cp", "16", "--cp-comm", "allgather", "--top", "1", "--simulate-top", "0"]);
    expect(gather.code).toBe(0);
  });
  it("zbv with pp 3 for 32 layers: --schedule, 2·pp does not divide the layers (not 'needs vpp 2 (not 1)')", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "24", "--global-batch", "24", "--engine", "torchtitan", "--pp", "3", "--schedule", "zbv"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toContain("--schedule: zbv runs two stages a rank in a V, even ones: 2·pp = 6 stages do not divide the 32 layers (pp 2, 4, 8 would)");
    expect(r.stderr).not.toContain("needs vpp 2");
  });
  it("dualpipev with global batch 4 on pp 4: --schedule, fewer than 2·pp micro-batches", async () => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "8", "--global-batch", "4", "--engine", "torchtitan", "--pp", "4", "--schedule", "dualpipev"]);
    expect([r.code, isOneLine(r.stderr)]).toEqual([2, true]);
    expect(r.stderr).toContain("--schedule: dualpipev needs at least 2·pp = 8 micro-batches a step, and global batch 4 gives at most 4");
  });
});

// QA: an engine file extending megatron-deepspeed with Ulysses alone ranked "cp 4 (all-to-all,
// zig-zag)" first, a cut Megatron-DeepSpeed does not make (pretrain_gpt.py get_batch @ 207b2d5a:
// rank r takes the r-th contiguous seq/cp tokens); export --format deepspeed then wrote tp 4 and no
// cp (the zigzag plan refused), or with --cp 4 a contiguous plan: plan and export disagreed.
describe("the cuts an engine makes (supports.contextParallelSplits)", () => {
  afterAll(() => removeTempFiles());
  const ulysses = () => tempFile("mds-ulysses.json", JSON.stringify({ name: "mds-ulysses", extends: "megatron-deepspeed", supports: { contextParallel: { value: ["a2a"], source: "test" } } }));
  const ARGS = ["--attention", "fused", "--seq", "131072", "--gpus", "64", "--model", "llama3-8b"];
  it("Ulysses is searched with its contiguous cut only, and plan's best is what export writes, at the same tokens/s", async () => {
    const engine = ulysses();
    const r = await runCli(["plan", "--engine", engine, ...ARGS, "--top", "20", "--json", "--simulate-top", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const plans = JSON.parse(r.stdout).plans as { cp: number; cpComm?: string; cpSplit?: string; tokensPerSecond: number }[];
    const cp = plans.filter((p) => p.cp > 1);
    expect(cp.length).toBeGreaterThan(0);
    expect(cp.every((p) => p.cpComm === "a2a" && p.cpSplit === "contiguous")).toBe(true);
    const best = plans[0]!;
    const e = await runCli(["export", "--format", "deepspeed", "--engine", engine, ...ARGS]);
    expect(e.code, e.stderr).toBe(0);
    const line = e.stderr.split("\n")[0]!;
    expect(line).toContain(`cp ${best.cp} (all-to-all, contiguous)`);
    expect(e.stderr).toContain(`predicted ${Math.round(best.tokensPerSecond).toLocaleString("en-US")} tokens/s`);
    expect(e.stdout).toContain(`--ds-sequence-parallel-size ${best.cp}`);
  });
  it("a --cp-split the engine does not cut is exit 2 naming it and the engine's source; one it cuts is priced", async () => {
    const zig = await runCli(["plan", "--engine", ulysses(), ...ARGS, "--cp", "4", "--cp-split", "zigzag"]);
    expect([zig.code, isOneLine(zig.stderr)]).toEqual([2, true]);
    expect(zig.stderr).toMatch(/^paraplan: --cp-split: engine mds-ulysses cuts the sequence for context parallel contiguous only, not zigzag \(.*pretrain_gpt\.py:138-143 @ deepspeedai\/Megatron-DeepSpeed 207b2d5a/);
    const meg = await runCli(["plan", ...ARGS, "--cp", "4", "--cp-split", "contiguous"]);
    expect([meg.code, isOneLine(meg.stderr)]).toEqual([2, true]);
    expect(meg.stderr).toMatch(/^paraplan: --cp-split: engine megatron-core cuts the sequence for context parallel zigzag only, not contiguous \(get_batch_on_this_cp_rank/);
    const titan = await runCli(["plan", "--engine", "torchtitan", ...ARGS, "--cp", "4", "--cp-split", "contiguous", "--top", "1", "--json", "--simulate-top", "0"]);
    expect(titan.code, titan.stderr).toBe(0);
    expect(JSON.parse(titan.stdout).plans[0]).toMatchObject({ cp: 4, cpSplit: "contiguous" });
  });
});
