// Count flags: bounded, safe integers, dash-leading values read as values (issue 17).
import { describe, expect, it } from "vitest";
import { divisors } from "../../planner/space.js";
import { runCli, isOneLine } from "./helpers.js";

const timed = async (argv: string[]) => {
  const t0 = performance.now();
  const r = await runCli(argv);
  return { ...r, ms: performance.now() - t0 };
};

describe("count flags have an upper bound", () => {
  it.each([
    ["gpus", "9007199254740993", "1048576"],
    ["gpus", "99999999999999999999", "1048576"],
    ["gpus", "2000000", "1048576"],
    ["global-batch", "9007199254740993", "2147483648"],
    ["seq", "99999999", "16777216"],
    ["micro-batch", "9007199254740993", "2147483648"],
    ["tp", "2000000", "1048576"],
    ["top", "9007199254740993", "10000"],
    ["simulate-top", "100000", "1000"],
  ])("plan --%s %s: exit 2 naming the flag and the bound %s, at once", async (flag, value, bound) => {
    const r = await timed(["plan", "--model", "tiny", `--${flag}`, value]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain(`--${flag}`);
    expect(r.stderr.replace(/,/g, "")).toContain(bound);
    expect(r.ms).toBeLessThan(5000);
  });

  it("execute and export check the same bounds, and their own flags", async () => {
    for (const argv of [
      ["export", "--format", "megatron", "--model", "tiny", "--gpus", "9007199254740993"],
      ["execute", "--model", "tiny", "--print-launch", "--steps", "9007199254740993"],
      ["execute", "--model", "tiny", "--print-launch", "--nnodes", "99999999999999999999", "--rdzv-endpoint", "h:1"],
      ["profile", "--gpus", "99999999999999999999"],
    ]) {
      const r = await timed(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/at most|≤/);
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it("the largest values allowed plan in seconds (bounded enumeration and simulation)", async () => {
    const r = await timed(["plan", "--model", "tiny", "--gpus", "1048576", "--global-batch", "2147483648", "--json"]);
    expect([0, 1]).toContain(r.code);
    expect(r.ms).toBeLessThan(20000);
  }, 30000);

  it("huge batches: the simulation is skipped with a note, --timeline refused; both at once", async () => {
    const r = await timed(["plan", "--model", "gpt3-like", "--gpus", "720720", "--global-batch", "2095133040", "--top", "3"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not simulated: .*too many micro-batches/);
    const t = await timed(["plan", "--model", "tiny", "--gpus", "8", "--global-batch", "16777216", "--dp", "8", "--micro-batch", "1", "--timeline"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--timeline: .*too many to simulate/);
    expect(r.ms + t.ms).toBeLessThan(20000);
  }, 30000);

  it("divisors(n) in O(√n), in order", () => {
    expect(divisors(1)).toEqual([1]);
    expect(divisors(36)).toEqual([1, 2, 3, 4, 6, 9, 12, 18, 36]);
    expect(divisors(97)).toEqual([1, 97]);
    const t0 = performance.now();
    expect(divisors(2 ** 31)).toHaveLength(32);
    expect(divisors(2147483647)).toEqual([1, 2147483647]);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe("a dash-leading value is a value, not an option", () => {
  it.each([
    ["plan", "gpus"], ["plan", "global-batch"], ["plan", "seq"], ["plan", "tp"], ["plan", "micro-batch"],
    ["plan", "top"], ["plan", "simulate-top"], ["export", "gpus"], ["execute", "steps"], ["execute", "nnodes"],
  ])("%s --%s -1 says what --%s=-1 says", async (cmd, flag) => {
    const extra = cmd === "export" ? ["--format", "megatron"] : cmd === "execute" ? ["--print-launch"] : [];
    const spaced = await runCli([cmd, "--model", "tiny", ...extra, `--${flag}`, "-1"]);
    const joined = await runCli([cmd, "--model", "tiny", ...extra, `--${flag}=-1`]);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toBe(joined.stderr);
    expect(spaced.stderr).toContain(`--${flag}: "-1" is not a`);
    expect(spaced.stderr).not.toMatch(/ambiguous/);
  });

  it("profile --gpus -1 and --ranks -3 likewise", async () => {
    expect((await runCli(["profile", "--gpus", "-1"])).stderr).toContain('--gpus: "-1" is not a positive integer');
    expect((await runCli(["profile", "--device", "cpu", "--ranks", "-3"])).stderr).toContain('--ranks: "-3"');
  });

  it("a flag where its value should be says the value is missing", async () => {
    const r = await runCli(["plan", "--model", "--gpus", "8"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model needs a value/);
  });
});

// `--gpus 64 --gpus 128` planned on 128 GPUs and `--profile h800 --profile dgx-b200` on B200,
// the earlier value dropped without a word.
describe("a value flag given twice", () => {
  it("with two values is exit 2 naming both; with one value twice it is the same flag", async () => {
    const r = await runCli(["plan", "--model", "tiny", "--gpus", "64", "--gpus=128"]);
    expect(r.code).toBe(2);
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain('--gpus is given twice, as "64" and "128"; give it once');
    expect((await runCli(["export", "--format", "megatron", "--model", "tiny", "--profile", "h800", "--profile", "dgx-b200"])).stderr).toContain('--profile is given twice, as "h800" and "dgx-b200"');
    expect((await runCli(["plan", "--model", "tiny", "--gpus", "8", "--gpus", "8", "--top", "1", "--simulate-top", "0"])).code).toBe(0);
  });
});
