// QA defects in the number flags: -0 printed as $-0.00, --moe-imbalance read by Number() (hex,
// signs), --zero's huge values called "too large", --restart-time's units read case-blind.
import { describe, expect, it } from "vitest";
import { takeRunArgs } from "../../src/run-args.js";
import { parsePlanArgs } from "../../src/plan-args.js";

const run = (...a: string[]) => takeRunArgs(["--tokens", "1B", ...a]).run;
const fails = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
};

describe("number flags", () => {
  it("--price -0 is 0, not -0 (printed $-0.00)", () => {
    expect(Object.is(run("--price", "-0").price, 0)).toBe(true);
  });

  it("--moe-imbalance reads decimal digits only, as the integer flags do", () => {
    for (const bad of ["0x10", "+8", "1e1", "", "Infinity"]) expect(fails(() => parsePlanArgs(["--moe-imbalance", bad])), bad).toMatch(/^--moe-imbalance: ".*" must be a number from 1/);
    expect(parsePlanArgs(["--moe-imbalance", "1.25"]).moeImbalance).toBe(1.25);
    expect(parsePlanArgs(["--moe-imbalance", "8"]).moeImbalance).toBe(8);
  });

  it("--zero above 3, however large, is not one of the stages", () => {
    // 9007199254740993 = 2^53 + 1, past Number.MAX_SAFE_INTEGER: it said "too large".
    expect(fails(() => parsePlanArgs(["--zero", "9007199254740993"]))).toBe('--zero: "9007199254740993" is not one of 0, 1, 2, 3');
    expect(fails(() => parsePlanArgs(["--zero", "4"]))).toBe('--zero: "4" is not one of 0, 1, 2, 3');
    expect(parsePlanArgs(["--zero", "3"]).fixed.zero).toBe(3);
  });

  it("--restart-time units are case-sensitive: 10 M is not 10 minutes", () => {
    expect(fails(() => run("--restart-time", "10 M"))).toMatch(/^--restart-time: "10 M" is not a duration.*M is not m/);
    expect(fails(() => run("--restart-time", "1 H"))).toMatch(/not a duration/);
    expect(run("--restart-time", "10 m").restartTime).toBe(600); // 10 × 60 s
    expect(run("--restart-time", "10min").restartTime).toBe(600);
  });

  it("--ckpt-bandwidth below 1 MB/s is refused (1e-30 B/s priced a write at 10^18 years)", () => {
    expect(fails(() => run("--ckpt-bandwidth", "1e-30 B/s"))).toBe('--ckpt-bandwidth: "1e-30 B/s" is out of range; give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s');
    expect(run("--ckpt-bandwidth", "1 MB/s").ckptBandwidth).toBe(1e6);
  });
});
