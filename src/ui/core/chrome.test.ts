import { describe, expect, it } from "vitest";
import { allOptions, finished, sessionOf } from "../test-utils.js";
import { helpLines, screenTitle } from "./chrome.js";
import { GLOBAL_HELP, KEY_HELP } from "./keys.js";
import { reducer } from "./reducer.js";
import { initialState } from "./state.js";

describe("the key list", () => {
  it("lists the screen's keys, the global keys, and the reasons of the rejections that occurred", () => {
    const lines = helpLines("results", KEY_HELP.results, GLOBAL_HELP, 76, 40, { out_of_memory: 3, tp_heads: 1 });
    const text = lines.map((l) => l.text);
    expect(text[0]).toBe("keys — results (any key closes this)");
    expect(text).toContain("s              sort: throughput → memory per GPU → MFU");
    expect(text).toContain("q  Ctrl-C      quit");
    expect(text.slice(-3)).toEqual([
      "rejected configurations, by reason",
      "tp∤heads: tp does not divide the attention heads",
      "out of memory: does not fit in GPU memory",
    ]);
    for (const l of text) expect(l.length).toBeLessThanOrEqual(76);
    expect(helpLines("results", KEY_HELP.results, GLOBAL_HELP, 76, 5)).toHaveLength(5);
  });

  it("wraps a long entry under its own text where rows are free, instead of cutting it mid-word (QA)", () => {
    const reason = "interleaved schedule needs the micro-batch count divisible by pp";
    const lines = helpLines("results", KEY_HELP.results, GLOBAL_HELP, 40, 60, { interleaved_microbatches: 5 }).map((l) => l.text);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.some((l) => l.endsWith("…"))).toBe(false);
    // The reason's words all appear, in order, over its lines (the continuation indented by 2).
    const at = lines.findIndex((l) => l.startsWith("pp∤micro-batches: "));
    const joined = lines.slice(at, at + 3).map((l) => l.trim()).join(" ");
    expect(joined).toContain(`pp∤micro-batches: ${reason}`);
    expect(lines[at + 1]).toMatch(/^  \S/);
    // Too few rows for the wrapped list: one line an entry, cut, as before.
    const short = helpLines("results", KEY_HELP.results, GLOBAL_HELP, 40, 12).map((l) => l.text);
    expect(short).toHaveLength(12);
    expect(short.some((l) => l.endsWith("…"))).toBe(true);
  });
});

describe("the screen title", () => {
  it("names the screen, and where the plan in detail stands in the table", () => {
    const session = sessionOf("tiny", 1, 4, 8);
    let s = initialState(allOptions());
    expect(screenTitle(s)).toBe("paraplan · setup");
    s = [{ type: "search/start", session } as const, { type: "search/progress", progress: finished(session) } as const].reduce(reducer, s);
    expect(screenTitle(s)).toBe("paraplan · ranked plans");
    s = reducer(reducer(s, { type: "results/move", delta: 2 }), { type: "detail/open" });
    expect(screenTitle(s)).toBe(`paraplan · plan detail · #3 of ${s.search!.plans.length.toLocaleString("en-US")} by throughput`);
    expect(screenTitle(reducer(s, { type: "help", open: true }))).toBe("paraplan · keys (plan detail)");
  });
});
