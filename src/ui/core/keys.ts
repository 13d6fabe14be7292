// Keys: what each key does on each screen (one table, used both to act and to list the keys).
import type { Action } from "./actions.js";
import { isNumeric } from "./setup.js";
import { type AppState, type FilterDim, type Screen, screenOf } from "./state.js";

export type KeyName =
  | "up" | "down" | "left" | "right" | "enter" | "escape" | "tab" | "backtab" | "backspace"
  | "pageup" | "pagedown" | "home" | "end" | "ctrl-c" | "char";

export interface KeyPress {
  name: KeyName;
  /** The character typed, for "char". */
  char: string;
}

/** The fields of ink's Key this needs (structural: core does not import ink). */
export interface KeyFlags {
  upArrow: boolean; downArrow: boolean; leftArrow: boolean; rightArrow: boolean;
  pageUp: boolean; pageDown: boolean; home: boolean; end: boolean;
  return: boolean; escape: boolean; tab: boolean; shift: boolean; ctrl: boolean;
  backspace: boolean; delete: boolean;
}

export function toKeyPress(input: string, k: KeyFlags): KeyPress {
  const named = (name: KeyName): KeyPress => ({ name, char: "" });
  if (k.ctrl && input === "c") return named("ctrl-c");
  if (k.upArrow) return named("up");
  if (k.downArrow) return named("down");
  if (k.leftArrow) return named("left");
  if (k.rightArrow) return named("right");
  if (k.pageUp) return named("pageup");
  if (k.pageDown) return named("pagedown");
  if (k.home) return named("home");
  if (k.end) return named("end");
  if (k.return) return named("enter");
  if (k.escape) return named("escape");
  if (k.tab) return named(k.shift ? "backtab" : "tab");
  if (k.backspace || k.delete) return named("backspace");
  return { name: "char", char: input };
}

/** Bracketed-paste markers (ESC [200~ … ESC [201~), with or without the ESC ink strips. */
const PASTE_MARKS = /\x1b?\[20[01]~/g;

/**
 * The keys in one chunk of input. A paste arrives as one chunk: "path/to/model.json\r" is the
 * text and then Enter (any of \r, \n, \r\n ends a line), so a pasted path followed by Enter
 * loads it as typed keys would.
 */
export function toKeyPresses(input: string, k: KeyFlags): KeyPress[] {
  const one = toKeyPress(input, k);
  if (one.name !== "char" || !/[\r\n]|\[20[01]~/.test(one.char)) return [one];
  const keys: KeyPress[] = [];
  one.char
    .replace(PASTE_MARKS, "")
    .split(/\r\n|\r|\n/)
    .forEach((line, i) => {
      if (i > 0) keys.push({ name: "enter", char: "" });
      if (line !== "") keys.push({ name: "char", char: line });
    });
  return keys;
}

export type Command =
  | { kind: "dispatch"; action: Action }
  | { kind: "plan" }
  | { kind: "load-file" }
  | { kind: "export" }
  | { kind: "export-engines" }
  | { kind: "execute" }
  | { kind: "stop-run" }
  | { kind: "back" }
  | { kind: "quit" }
  | { kind: "none" };

const act = (action: Action): Command => ({ kind: "dispatch", action });
const NONE: Command = { kind: "none" };
const FILTER_KEYS: Record<string, FilterDim> = { t: "tp", p: "pp", d: "dp", E: "ep", z: "zero", r: "recompute" };
const PAGE = 10;

/** A path starts with / . ~ when typed; pasted (several characters at once), also a relative
 *  path with a / or a .json file name. */
const looksLikePath = (t: string) =>
  /^[^\x00-\x1f]+$/.test(t) && (/^[/.~]/.test(t) || (t.length > 1 && (t.includes("/") || /\.json$/i.test(t))));

function setupCommand(s: AppState, k: KeyPress): Command {
  const { setup } = s;
  if (setup.text !== null) {
    if (k.name === "enter") return { kind: "load-file" };
    if (k.name === "escape") return act({ type: "setup/text", text: null });
    if (k.name === "backspace") return act({ type: "setup/backspace" });
    if (k.name === "char" && /^[^\x00-\x1f]+$/.test(k.char)) return act({ type: "setup/text", text: setup.text + k.char });
    return NONE;
  }
  switch (k.name) {
    case "up": case "backtab": return act({ type: "setup/focus", delta: -1 });
    case "down": case "tab": return act({ type: "setup/focus", delta: 1 });
    case "left": return act({ type: "setup/change", delta: -1 });
    case "right": return act({ type: "setup/change", delta: 1 });
    case "enter": return { kind: "plan" };
    case "backspace": return act({ type: "setup/backspace" });
    case "escape": return act({ type: "setup/error", message: null });
    default: break;
  }
  if (k.name !== "char") return NONE;
  // A paste arrives as one string: digits into a number, a path into the model, cluster or software.
  if (/^\d+$/.test(k.char) && isNumeric(setup.focus)) return act({ type: "setup/digit", digit: k.char });
  if (looksLikePath(k.char) && !isNumeric(setup.focus)) return act({ type: "setup/text", text: k.char });
  return NONE;
}

function listCommand(screen: Screen, k: KeyPress): Command {
  const results = screen === "results";
  const move = (delta: number) => act(results ? { type: "results/move", delta } : { type: "detail/step", delta });
  switch (k.name) {
    case "up": return move(-1);
    case "down": return move(1);
    case "pageup": return move(-PAGE);
    case "pagedown": return move(PAGE);
    case "home": return move(-Infinity);
    case "end": return move(Infinity);
    case "enter": return results ? act({ type: "detail/open" }) : NONE;
    default: break;
  }
  if (k.name !== "char") return NONE;
  if (results && k.char === "s") return act({ type: "results/sort" });
  if (results && k.char === "c") return act({ type: "results/clear-filters" });
  const dim = FILTER_KEYS[k.char];
  if (results && dim) return act({ type: "results/filter", dim });
  return NONE;
}

/** While a run setting is typed (w, $ on the detail): every printable key is text. */
function entryCommand(k: KeyPress): Command {
  if (k.name === "enter") return act({ type: "entry/submit" });
  if (k.name === "escape") return act({ type: "entry/cancel" });
  if (k.name === "backspace") return act({ type: "entry/backspace" });
  if (k.name === "char" && /^[^\x00-\x1f]+$/.test(k.char)) return act({ type: "entry/type", text: k.char });
  return NONE;
}

/** What a key does in this state. */
export function commandFor(s: AppState, k: KeyPress): Command {
  const screen = screenOf(s);
  if (k.name === "ctrl-c") return { kind: "quit" };
  if (s.help) return k.name === "char" && k.char === "q" ? { kind: "quit" } : act({ type: "help", open: false });
  if (s.entry) return entryCommand(k);
  if (screen === "setup") {
    if (s.setup.text === null && k.name === "char" && k.char === "q") return { kind: "quit" };
    if (s.setup.text === null && k.name === "char" && k.char === "?") return act({ type: "help", open: true });
    return setupCommand(s, k);
  }
  if (k.name === "escape" || (k.name === "char" && k.char === "b") || k.name === "backspace") return { kind: "back" };
  if (k.name === "char") {
    if (k.char === "q") return { kind: "quit" };
    if (k.char === "?") return act({ type: "help", open: true });
  }
  if (screen === "execute") return k.name === "char" && k.char === "c" ? { kind: "stop-run" } : NONE;
  if (k.name === "char") {
    if (k.char === "e") return { kind: "export" };
    if (k.char === "g") return { kind: "export-engines" };
    if (k.char === "x") return { kind: "execute" };
    if (k.char === "f" && screen !== "frontier") return act({ type: "frontier/open" });
    if (screen === "detail" && k.char === "w") return act({ type: "entry/open", field: "tokens" });
    if (screen === "detail" && k.char === "$") return act({ type: "entry/open", field: "price" });
  }
  if (screen === "frontier") {
    if (k.name === "left" || k.name === "down") return act({ type: "frontier/move", delta: -1 });
    if (k.name === "right" || k.name === "up") return act({ type: "frontier/move", delta: 1 });
    if (k.name === "enter") return s.selected ? act({ type: "detail/open", plan: s.selected }) : NONE;
    return NONE;
  }
  return listCommand(screen, k);
}

export interface KeyHelp {
  keys: string;
  does: string;
}

export const KEY_HELP: Record<Screen, KeyHelp[]> = {
  setup: [
    { keys: "↑ ↓ / Tab", does: "move between fields" },
    { keys: "← →", does: "previous / next model, cluster or software; halve / double a number" },
    { keys: "0-9  ⌫", does: "type a number" },
    { keys: "/ . ~", does: "type a model or profile file path (Enter loads it, Esc cancels)" },
    { keys: "Enter", does: "search the plans" },
  ],
  results: [
    { keys: "↑ ↓ PgUp PgDn", does: "move in the ranked plans" },
    { keys: "Enter", does: "plan detail" },
    { keys: "s", does: "sort: throughput → memory per GPU → MFU" },
    { keys: "t p d E z r", does: "filter tp, pp, dp, ep (a mixture of experts' expert parallel; E is shift-e), ZeRO stage, recompute (cycle values)" },
    { keys: "c", does: "clear the filters" },
    { keys: "f", does: "frontier chart" },
    { keys: "e  x", does: "export the plan as JSON  ·  execute it" },
    { keys: "g", does: "export Megatron/DeepSpeed/torchtitan/llm-foundry/torchrun/Slurm configs" },
    { keys: "b Esc", does: "back to the setup" },
  ],
  detail: [
    { keys: "↑ ↓", does: "previous / next plan of the table" },
    { keys: "w  $", does: "whole run: the tokens to train (like 15.6T)  ·  the USD price per GPU-hour (Enter sets, Esc cancels)" },
    { keys: "f", does: "frontier chart" },
    { keys: "e  x", does: "export the plan as JSON  ·  execute it" },
    { keys: "g", does: "export Megatron/DeepSpeed/torchtitan/llm-foundry/torchrun/Slurm configs" },
    { keys: "b Esc", does: "back" },
  ],
  frontier: [
    { keys: "← →", does: "move along the frontier" },
    { keys: "Enter", does: "detail of the selected plan" },
    { keys: "e  x", does: "export  ·  execute the selected plan" },
    { keys: "b Esc", does: "back" },
  ],
  execute: [
    { keys: "c", does: "stop the run" },
    { keys: "b Esc", does: "back (stops a run in progress)" },
  ],
};

export const GLOBAL_HELP: KeyHelp[] = [
  { keys: "?", does: "this list of keys" },
  { keys: "q  Ctrl-C", does: "quit" },
];

/** The one-line key hint at the bottom of each screen. */
export const HINT: Record<Screen, string> = {
  setup: "↑↓ field  ←→ change  0-9 type  Enter plan  ? keys  q quit",
  results: "↑↓ move  Enter detail  s sort  t p d E z r filter  f frontier  e export  x run",
  detail: "↑↓ other plan  w tokens  $ price  f frontier  e export  x run  b back",
  frontier: "←→ along the frontier  Enter detail  e export  x execute  b back  ? keys",
  execute: "c stop the run  b back  ? keys  q quit",
};

export const ENTRY_HINT = "type the value  Enter set  Esc cancel  ⌫ delete";

/** The hint for this state: on the execute screen "c stop the run" only while there is a run to
 *  stop (the controller's stop does nothing after it ended, stopping included). */
export function hintFor(s: AppState): string {
  const screen = screenOf(s);
  if (s.entry) return ENTRY_HINT;
  const status = s.run?.status;
  if (screen === "execute" && status !== "preparing" && status !== "running") return "b back  ? keys  q quit";
  return HINT[screen];
}
