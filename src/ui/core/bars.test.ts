import { describe, expect, it } from "vitest";
import { fit, meter, sparkline, stackedBar, wrapItems } from "./bars.js";

const G = { a: "A", b: "B", c: "C", free: "." };

describe("character-cell bars", () => {
  it("stacks parts against a capacity, the rest free, always exactly the width", () => {
    const segs = stackedBar([{ key: "a", value: 30 }, { key: "b", value: 20 }, { key: "c", value: 10 }], 100, 20, G);
    expect(segs.map((s) => s.text).join("")).toBe("AAAAAABBBBCC........");
    for (const w of [7, 13, 31]) {
      const s = stackedBar([{ key: "a", value: 1 }, { key: "b", value: 1 }, { key: "c", value: 1 }], 3, w, G);
      expect(s.reduce((n, x) => n + x.width, 0)).toBe(w);
      expect(s.some((x) => x.key === "free")).toBe(false);
    }
  });

  it("squeezes parts above the capacity into the bar", () => {
    const segs = stackedBar([{ key: "a", value: 150 }, { key: "b", value: 50 }], 100, 10, G);
    expect(segs.map((s) => s.text).join("")).toBe("AAAAAAAABB");
  });

  it("draws meters, sparklines, wrapped legends and cut lines", () => {
    expect(meter(25, 100, 8)).toBe("██······");
    expect(sparkline([5, 4, 3, 2, 1], 10)).toBe("█▆▅▃▁");
    expect(sparkline([2, 2], 10)).toBe("▄▄");
    expect(sparkline([1, NaN, 3], 10)).toBe("▁█");
    expect(wrapItems(["aaaa", "bbbb", "cccc"], 10)).toEqual(["aaaa  bbbb", "cccc"]);
    expect(fit("abcdef", 4)).toBe("abc…");
    expect(fit("abc", 4)).toBe("abc");
  });
});
