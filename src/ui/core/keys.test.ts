import { describe, expect, it } from "vitest";
import { allOptions } from "../test-utils.js";
import { HINT, KEY_HELP, type KeyFlags, type KeyPress, commandFor, hintFor, toKeyPress, toKeyPresses } from "./keys.js";
import { type AppState, type RunState, type RunStatus, initialState } from "./state.js";

const none: KeyFlags = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false,
  end: false, return: false, escape: false, tab: false, shift: false, ctrl: false, backspace: false, delete: false,
};
const ch = (c: string): KeyPress => ({ name: "char", char: c });
const key = (name: KeyPress["name"]): KeyPress => ({ name, char: "" });
const on = (screen: AppState["stack"][number], patch: Partial<AppState> = {}): AppState => ({
  ...initialState(allOptions()),
  stack: screen === "setup" ? ["setup"] : ["setup", "results", ...(screen === "results" ? [] : [screen])],
  ...patch,
});

describe("keys", () => {
  it("normalises ink's key flags", () => {
    expect(toKeyPress("", { ...none, upArrow: true })).toEqual(key("up"));
    expect(toKeyPress("", { ...none, tab: true, shift: true })).toEqual(key("backtab"));
    expect(toKeyPress("c", { ...none, ctrl: true })).toEqual(key("ctrl-c"));
    expect(toKeyPress("", { ...none, delete: true })).toEqual(key("backspace"));
    expect(toKeyPress("x", none)).toEqual(ch("x"));
  });

  it("splits a pasted chunk into its text and the Enter after each line", () => {
    expect(toKeyPresses("path/to/model.json\r", none)).toEqual([ch("path/to/model.json"), key("enter")]);
    expect(toKeyPresses("/a.json\r\n", none)).toEqual([ch("/a.json"), key("enter")]);
    expect(toKeyPresses("\x1b[200~/a.json\x1b[201~", none)).toEqual([ch("/a.json")]);
    expect(toKeyPresses("[200~/a.json[201~\r", none)).toEqual([ch("/a.json"), key("enter")]);
    expect(toKeyPresses("x", none)).toEqual([ch("x")]);
    expect(toKeyPresses("", { ...none, return: true })).toEqual([key("enter")]);
  });

  it("on the setup, a pasted relative path (several characters with a / or ending in .json) is a path", () => {
    const s = on("setup");
    expect(commandFor(s, ch("path/to/model.json"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: "path/to/model.json" } });
    expect(commandFor(s, ch("model.json"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: "model.json" } });
    expect(commandFor(s, ch("qq"))).toEqual({ kind: "none" });
    expect(commandFor({ ...s, setup: { ...s.setup, focus: "batch" } }, ch("a/b.json"))).toEqual({ kind: "none" });
  });

  it("on the setup: fields, changes, digits, paths, Enter plans", () => {
    const s = on("setup");
    expect(commandFor(s, key("down"))).toEqual({ kind: "dispatch", action: { type: "setup/focus", delta: 1 } });
    expect(commandFor(s, key("right"))).toEqual({ kind: "dispatch", action: { type: "setup/change", delta: 1 } });
    expect(commandFor(s, key("enter"))).toEqual({ kind: "plan" });
    expect(commandFor(s, ch("/"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: "/" } });
    expect(commandFor(s, ch("7"))).toEqual({ kind: "none" });
    expect(commandFor({ ...s, setup: { ...s.setup, focus: "batch" } }, ch("7"))).toEqual({ kind: "dispatch", action: { type: "setup/digit", digit: "7" } });
    expect(commandFor(s, ch("q"))).toEqual({ kind: "quit" });
    // Pasted: a whole path, a whole number.
    expect(commandFor(s, ch("/data/m.json"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: "/data/m.json" } });
    expect(commandFor({ ...s, setup: { ...s.setup, focus: "nodes" } }, ch("128"))).toEqual({ kind: "dispatch", action: { type: "setup/digit", digit: "128" } });
    // While a path is typed, q and ? are characters of it.
    const typing = { ...s, setup: { ...s.setup, text: "./a" } };
    expect(commandFor(typing, ch("q"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: "./aq" } });
    expect(commandFor(typing, key("enter"))).toEqual({ kind: "load-file" });
    expect(commandFor(typing, key("escape"))).toEqual({ kind: "dispatch", action: { type: "setup/text", text: null } });
  });

  it("on the results, detail, frontier and execute screens", () => {
    expect(commandFor(on("results"), ch("s"))).toEqual({ kind: "dispatch", action: { type: "results/sort" } });
    expect(commandFor(on("results"), ch("z"))).toEqual({ kind: "dispatch", action: { type: "results/filter", dim: "zero" } });
    expect(commandFor(on("results"), key("enter"))).toEqual({ kind: "dispatch", action: { type: "detail/open" } });
    expect(commandFor(on("results"), ch("e"))).toEqual({ kind: "export" });
    expect(commandFor(on("detail"), ch("x"))).toEqual({ kind: "execute" });
    expect(commandFor(on("detail"), key("down"))).toEqual({ kind: "dispatch", action: { type: "detail/step", delta: 1 } });
    expect(commandFor(on("detail"), ch("b"))).toEqual({ kind: "back" });
    expect(commandFor(on("frontier"), key("left"))).toEqual({ kind: "dispatch", action: { type: "frontier/move", delta: -1 } });
    expect(commandFor(on("execute"), ch("c"))).toEqual({ kind: "stop-run" });
    expect(commandFor(on("execute"), ch("x"))).toEqual({ kind: "none" });
    expect(commandFor(on("results"), key("escape"))).toEqual({ kind: "back" });
    expect(commandFor(on("results"), key("ctrl-c"))).toEqual({ kind: "quit" });
  });

  it("? opens the key list; any key but q closes it", () => {
    expect(commandFor(on("results"), ch("?"))).toEqual({ kind: "dispatch", action: { type: "help", open: true } });
    expect(commandFor(on("results", { help: true }), ch("s"))).toEqual({ kind: "dispatch", action: { type: "help", open: false } });
    expect(commandFor(on("results", { help: true }), ch("q"))).toEqual({ kind: "quit" });
  });

  it("hints c on the execute screen only while the run can be stopped (QA: shown, doing nothing, after it ended)", () => {
    const run = (status: RunStatus) => on("execute", { run: { status } as RunState });
    for (const status of ["preparing", "running"] as const) expect(hintFor(run(status))).toBe(HINT.execute);
    for (const status of ["stopping", "done", "failed", "stopped", "refused"] as const) {
      expect(hintFor(run(status))).toBe("b back  ? keys  q quit");
      // (c does nothing then: the controller has no run to stop)
    }
    expect(hintFor(on("results"))).toBe(HINT.results);
  });

  it("lists keys for every screen, hints within 80 columns", () => {
    for (const [screen, hint] of Object.entries(HINT)) {
      expect(hint.length).toBeLessThanOrEqual(80);
      expect(KEY_HELP[screen as keyof typeof HINT].length).toBeGreaterThan(0);
    }
  });
});
