// count() writes what toLocaleString("en-US") writes, without Intl.
import { describe, expect, it } from "vitest";
import { count, grouped, percent } from "./units.js";

describe("count", () => {
  it("thousands separators as toLocaleString('en-US'), rounding, signs and edge values", () => {
    const xs = [0, 1, 12, 123, 1234, 12345, 123456, 1234567, 63828, 5424.4, 999.5, -0.2, -1, -999, -1000, -1234567, 1e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, NaN, Infinity];
    for (let k = 0; k < 2000; k++) xs.push(Math.sin(k) * 10 ** (k % 17));
    for (const x of xs) expect(count(x)).toBe(Math.round(x).toLocaleString("en-US"));
    expect(count(1234567)).toBe("1,234,567");
  });
});

describe("grouped", () => {
  it("writes what toLocaleString('en-US') writes with 0–3 fraction digits, rounding and signs included", () => {
    const xs = [0, -0, 1.005, 2.5, -2.5, 0.125, 999.995, 1234.5, -0.2, -0.004, 1e-7, -1e-7, 123456789.987654, 5e20, 9.999e20, 1e21, 1e25, NaN, -Infinity];
    for (let k = 0; k < 3000; k++) xs.push(Math.sin(k) * 10 ** ((k % 25) - 6));
    for (const x of xs)
      for (const d of [0, 1, 2, 3]) expect(grouped(x, d), `${x} with ${d}`).toBe(x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
  });
});

describe("percent", () => {
  it("a share below 100% never reads as 100: it takes the digits that show it (99.96%, not 100.0%)", () => {
    expect(percent(0.9996)).toBe("99.96%");
    expect(percent(0.99983)).toBe("99.98%");
    expect(percent(0.999996)).toBe("99.9996%");
    expect(percent(0.996, 0)).toBe("99.6%");
    expect(percent(1 - 1e-12)).toBe("<100%");
    // rounding elsewhere, and 100% itself, are as before
    expect([percent(1), percent(0.9994), percent(0.5326), percent(1.0004), percent(0.994, 0)]).toEqual(["100.0%", "99.9%", "53.3%", "100.0%", "99%"]);
    for (let k = 1; k < 2000; k++) {
      const x = 1 - k * 1e-7;
      const s = percent(x);
      expect(s === "<100%" || Number(s.slice(0, -1)) < 100, `${x}: ${s}`).toBe(true);
      // the digits shown are the share rounded, not cut
      if (s !== "<100%") expect(Math.abs(Number(s.slice(0, -1)) - 100 * x)).toBeLessThanOrEqual(0.5 * 10 ** -s.split(".")[1]!.slice(0, -1).length + 1e-9);
    }
  });
});
