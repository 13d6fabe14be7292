import { describe, expect, it } from "vitest";
import { DEFAULT_RUN, applyEntry, entryReducer, footerMessage, runChoiceText } from "./run-settings.js";
import { commandFor, ENTRY_HINT, hintFor } from "./keys.js";
import { initialState } from "./state.js";
import { allOptions } from "../test-utils.js";

describe("the whole run's tokens and price, typed as plan --tokens and --price take them", () => {
  it("reads 15.6T, 300B, 2e12 and 1,000,000 as the CLI does", () => {
    const tokens = (text: string) => applyEntry(DEFAULT_RUN, { field: "tokens", text });
    expect(tokens("15.6T")).toEqual({ run: { tokens: 15_600_000_000_000, price: null } });
    expect(tokens("300B")).toEqual({ run: { tokens: 300_000_000_000, price: null } });
    expect(tokens("2e12")).toEqual({ run: { tokens: 2_000_000_000_000, price: null } });
    expect(tokens("1,000,000")).toEqual({ run: { tokens: 1_000_000, price: null } });
  });

  it("refuses what the CLI refuses, in its words without the flag", () => {
    expect(applyEntry(DEFAULT_RUN, { field: "tokens", text: "lots" })).toEqual({ error: 'tokens: "lots" is not a token count; write it like 15.6T, 300B, 2e12 or 1,000,000 (a point for decimals)' });
    expect(applyEntry(DEFAULT_RUN, { field: "tokens", text: "0.5" })).toEqual({ error: 'tokens: "0.5" is below 1 token: a run trains at least one' });
    expect(applyEntry(DEFAULT_RUN, { field: "price", text: "-1" })).toEqual({ error: "GPU-hour price: -1 is negative; give USD per GPU-hour from 0 to 1,000,000, like 2.5" });
    expect(applyEntry(DEFAULT_RUN, { field: "price", text: "two" })).toEqual({ error: 'GPU-hour price: "two" is not a number; give USD per GPU-hour from 0 to 1,000,000, like 2.5' });
  });

  it("a price: 2.5 is $2.5 an hour, 0 is free, empty removes it", () => {
    const priced = { tokens: 1e12, price: 4 };
    expect(applyEntry(priced, { field: "price", text: "2.5" })).toEqual({ run: { tokens: 1e12, price: 2.5 } });
    expect(applyEntry(priced, { field: "price", text: "0" })).toEqual({ run: { tokens: 1e12, price: 0 } });
    expect(applyEntry(priced, { field: "price", text: " " })).toEqual({ run: { tokens: 1e12, price: null } });
    expect(runChoiceText({ tokens: 15.6e12, price: 1500 })).toBe("whole run: 15.6T tokens, $1,500/GPU-hour");
  });
});

describe("typing a run setting on the detail screen", () => {
  const detail = { ...initialState(allOptions()), stack: ["setup" as const, "results" as const, "detail" as const] };
  const keys = (s: typeof detail, ...typed: string[]) =>
    typed.reduce((st, ch) => {
      const k = ch === "\r" ? { name: "enter" as const, char: "" } : ch === "\x1b" ? { name: "escape" as const, char: "" } : { name: "char" as const, char: ch };
      const c = commandFor(st, k);
      if (c.kind !== "dispatch") throw new Error(`${JSON.stringify(ch)} gave ${c.kind}`);
      return entryReducer(st, c.action as Parameters<typeof entryReducer>[1]);
    }, s);

  it("w, 2T, Enter sets two trillion tokens; $, 3, Enter the price; the message says so", () => {
    const s = keys(detail, "w", "2", "T", "\r", "$", "3", "\r");
    expect(s.runChoice).toEqual({ tokens: 2e12, price: 3 });
    expect(s.entry).toBeNull();
    expect(s.message).toEqual({ text: "whole run: 2.0T tokens, $3/GPU-hour", tone: "info" });
  });

  it("while typing, q and b are text (not quit, not back), the row shows the value and the hint how to end", () => {
    const s = keys(detail, "$", "q", "b");
    expect(s.entry).toEqual({ field: "price", text: "qb" });
    expect(footerMessage(s.entry, s.message)).toEqual({ text: "USD per GPU-hour (like 2.5; empty: no price): qb▌", tone: "info" });
    expect(hintFor(s)).toBe(ENTRY_HINT);
  });

  it("bad input: one error message, the run as it was; Esc cancels without a message", () => {
    const set = keys(detail, "w", "3", "0", "0", "B", "\r");
    const bad = keys(set, "w", "x", "\r");
    expect(bad.runChoice).toBe(set.runChoice);
    expect(bad.runChoice.tokens).toBe(300e9);
    expect(bad.message).toEqual({ text: 'tokens: "x" is not a token count; write it like 15.6T, 300B, 2e12 or 1,000,000 (a point for decimals)', tone: "error" });
    const cancelled = keys(set, "$", "9", "\x1b");
    expect(cancelled.entry).toBeNull();
    expect(cancelled.runChoice).toBe(set.runChoice);
  });

  it("w and $ do nothing on the results screen (the whole run is the detail's)", () => {
    const results = { ...detail, stack: ["setup" as const, "results" as const] };
    expect(commandFor(results, { name: "char", char: "w" })).toEqual({ kind: "none" });
    expect(commandFor(results, { name: "char", char: "$" })).toEqual({ kind: "none" });
  });
});
