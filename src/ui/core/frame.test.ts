import { describe, expect, it } from "vitest";
import { search } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { exportEngineConfigs } from "./export.js";
import { MAX_WIDTH, firstLines, frameLayout, keepWithin, terminalOf, wrapText } from "./frame.js";

describe("the frame", () => {
  it("leaves out a group's lines together (a table whole or not at all)", () => {
    const l = (text: string, priority: number, group?: string) => ({ text, priority, ...(group ? { group } : {}) });
    // t1..t3 a table of priority 2 under a title of priority 5 and a note n of priority 1.
    const lines = [l("T", 5), l("1", 2, "t"), l("2", 2, "t"), l("3", 2, "t"), l("n", 1)];
    const kept = (h: number) => keepWithin(lines, h).map((x) => x.text).join("");
    expect(kept(5)).toBe("T123n");
    // 4 rows: the note goes (priority 1)
    expect(kept(4)).toBe("T123");
    // 3 rows: one more line must go, the lowest of the table's (3): all three go, not "T12"
    expect(kept(3)).toBe("T");
    expect(kept(1)).toBe("T");
  });

  it("keeps whole lines within a height, leaving out the lowest priority first (the lowest on screen of equal ones)", () => {
    const l = (text: string, priority: number) => ({ text, priority });
    const lines = [l("a", 3), l("b", 1), l("c", 2), l("d", 1), l("e", 3)];
    const kept = (h: number) => keepWithin(lines, h).map((x) => x.text).join("");
    expect(kept(5)).toBe("abcde");
    expect(kept(9)).toBe("abcde");
    // 4 rows: one of the two priority-1 lines goes, the lower one (d).
    expect(kept(4)).toBe("abce");
    expect(kept(3)).toBe("ace");
    // then the priority-2 line, then of the two 3s the lower (e)
    expect(kept(2)).toBe("ae");
    expect(kept(1)).toBe("a");
    expect(kept(0)).toBe("");
  });

  it("wraps text between words, cuts a word longer than a line, and keeps line breaks", () => {
    expect(wrapText("one two three four", 9)).toEqual(["one two", "three", "four"]);
    expect(wrapText("abcdefghij k", 4)).toEqual(["abcd", "efgh", "ij k"]);
    expect(wrapText("a\nb c", 10)).toEqual(["a", "b c"]);
    expect(wrapText("", 10)).toEqual([""]);
    expect(firstLines(["aaa", "bbb", "ccc"], 2, 10)).toEqual(["aaa", "bbb …"]);
    expect(firstLines(["aaa", "bbbbbbbbbb", "ccc"], 2, 10)).toEqual(["aaa", "bbbbbbbbb…"]);
  });

  it("shows the whole reason g could not write a format (was cut at the width)", () => {
    const req = sessionOf("gpt3-like", 128, 8).request;
    const top = search(req.model, req.hw, req.training, {}, { top: 1 }).plans[0]!;
    const r = exportEngineConfigs(req, top, "/tmp/out", () => {}, () => {}, () => false);
    expect(r.message).toMatch(/; not runnable as is: deepspeed, llm-foundry — deepspeed \(.*\), llm-foundry \(.*\)$/);
    expect(r.message.length).toBeGreaterThan(160);
    for (const cols of [60, 80, 200]) {
      const f = frameLayout({ cols, rows: 24 }, r.message);
      if (f.kind !== "frame") throw new Error("too small");
      expect(f.message.join(" ")).toBe(r.message);
      for (const l of f.message) expect(l.length).toBeLessThanOrEqual(Math.min(cols, MAX_WIDTH));
      // Title, body, message, hint: the terminal's height less one line.
      expect(1 + f.body + f.message.length + 1).toBe(23);
    }
  });

  it("gives a message at most a third of the screen, ending in … when cut", () => {
    const f = frameLayout({ cols: 60, rows: 24 }, "word ".repeat(200));
    if (f.kind !== "frame") throw new Error("too small");
    expect(f.message).toHaveLength(7);
    expect(f.message[6]).toMatch(/…$/);
    const none = frameLayout({ cols: 60, rows: 24 }, null);
    expect(none).toMatchObject({ kind: "frame", width: 60, height: 23, body: 20, message: [" "] });
  });

  it("below 60 × 20 is one message naming both sizes, wrapped to the terminal", () => {
    expect(frameLayout({ cols: 40, rows: 10 }, "anything")).toEqual({
      kind: "too-small",
      lines: ["terminal too small: need at least 60×20,", "have 40×10 (enlarge it; q quits)"],
    });
    expect(frameLayout({ cols: 60, rows: 19 }, null).kind).toBe("too-small");
    expect(frameLayout({ cols: 59, rows: 40 }, null).kind).toBe("too-small");
    expect(frameLayout({ cols: 60, rows: 20 }, null)).toMatchObject({ kind: "frame", width: 60, height: 19 });
    expect(frameLayout({ cols: 10, rows: 3 }, null)).toEqual({ kind: "too-small", lines: ["terminal", "too small…"] });
    expect(frameLayout({ cols: 300, rows: 50 }, null)).toMatchObject({ width: MAX_WIDTH, height: 49 });
  });

  it("measures the terminal (80 × 24 unknown), a fixed frame standing for one a row taller", () => {
    expect(terminalOf(undefined, undefined)).toEqual({ cols: 80, rows: 24 });
    expect(terminalOf(100, 40)).toEqual({ cols: 100, rows: 40 });
    expect(terminalOf(100, 40, 80, 23)).toEqual({ cols: 80, rows: 24 });
  });
});
