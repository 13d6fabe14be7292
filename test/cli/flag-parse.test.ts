// QA defects in the number flags: -0 printed as $-0.00, --moe-imbalance read by Number() (hex,
// signs), --zero's huge values called "too large", --restart-time's units read case-blind.
import { describe, expect, it } from "vitest";
import { takeRunArgs } from "../../src/run-args.js";
import { parsePlanArgs } from "../../src/plan-args.js";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { rawHardware } from "../planner/fixtures.js";

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

  // QA: --restart-time 30d was refused while the profile's run.restartTime "1 day" was taken (the
  // flag read s, min, m, h; the profile any time unit of mathjs). Both read parseDuration now.
  it("--restart-time and run.restartTime take the same durations, to the same seconds", () => {
    const profile = (restartTime: string) => {
      const merged = resolveExtends({ name: "mine", extends: "dgx-h100", run: { restartTime } }, rawHardware, "mine.json");
      if (!merged.ok) return merged.message;
      const r = parseHardwareFile(merged.value, "mine.json");
      return r.ok ? r.value.run?.restartTime : r.message;
    };
    // 30 × 86,400; 86,400; 2 × 604,800; 10 × 60; 1.5 × 3,600; 0
    const cases: Array<[string, number]> = [["30d", 2_592_000], ["1 day", 86_400], ["2w", 1_209_600], ["10 minutes", 600], ["1.5 hours", 5400], ["10min", 600], ["10 m", 600], ["0 s", 0]];
    for (const [text, seconds] of cases) {
      expect(run("--restart-time", text).restartTime, text).toBe(seconds);
      expect(profile(text), text).toBe(seconds);
    }
    // Refused alike: no unit, a unit of no time, the wrong case.
    for (const bad of ["600", "5 us", "10 M"]) {
      expect(fails(() => run("--restart-time", bad)), bad).toMatch(new RegExp(`^--restart-time: "${bad}" is not a duration`));
      expect(profile(bad), bad).toMatch(new RegExp(`^mine\\.json: field "run\\.restartTime": "${bad}" is not a duration`));
    }
  });

  it("--restart-time 0 is 0 s, as 0s is (zero in any unit; it was \"not a duration\"), in a profile too", () => {
    for (const zero of ["0", "0.0", "-0", "0s", "0 min"]) expect(run("--restart-time", zero).restartTime, zero).toBe(0);
    const merged = resolveExtends({ name: "mine", extends: "dgx-h100", run: { restartTime: "0" } }, rawHardware, "mine.json");
    const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
    expect(r.ok ? r.value.run?.restartTime : r.message).toBe(0);
    // a bare number other than 0 still has no unit (600 s or 600 min?)
    expect(fails(() => run("--restart-time", "600"))).toMatch(/^--restart-time: "600" is not a duration; write a number and one of s, min/);
  });

  it("a restart time without a unit is shown an example in its own scale, not a link latency's 5 us", () => {
    expect(fails(() => run("--restart-time", "600"))).toBe('--restart-time: "600" is not a duration; write a number and one of s, min, m, h, d, w (or second, minute, hour, day, week), like 10min');
    const merged = resolveExtends({ name: "mine", extends: "dgx-h100", run: { restartTime: "600" } }, rawHardware, "mine.json");
    const r = merged.ok ? parseHardwareFile(merged.value, "mine.json") : merged;
    expect(r.ok ? "" : r.message).toBe('mine.json: field "run.restartTime": "600" is not a duration; write a number and one of s, min, m, h, d, w (or second, minute, hour, day, week), like "10 min"');
  });

  it("--ckpt-bandwidth below 1 MB/s is refused (1e-30 B/s priced a write at 10^18 years)", () => {
    expect(fails(() => run("--ckpt-bandwidth", "1e-30 B/s"))).toBe('--ckpt-bandwidth: "1e-30 B/s" is out of range; give an aggregate write bandwidth from 1 MB/s to 100 TB/s, like 2 TB/s');
    expect(run("--ckpt-bandwidth", "1 MB/s").ckptBandwidth).toBe(1e6);
  });
});
