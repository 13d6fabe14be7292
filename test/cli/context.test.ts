// Issue 14's done-when checks through the CLI: context parallel searched and fixed, its column,
// its exchange in the breakdown and JSON, the reason a cp plan wins; the cp flags' bad input.
import { describe, expect, it } from "vitest";
import { isOneLine, runCli } from "./helpers.js";

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
