// The whole run the plan detail prices: the tokens to train and the USD price per GPU-hour, which
// the user sets with `w` and `$` (one line typed into the message row, Enter sets it, Esc
// cancels), validated as `plan --tokens` and `--price` validate them (src/run-args.ts).
import { UserError } from "../../errors.js";
import { priceText } from "../../format/run-text.js";
import { compact } from "../../format/units.js";
import { parsePriceFlag, parseTokensFlag } from "../../run-args.js";
import type { Message } from "./state.js";

export interface RunChoice {
  /** Tokens to train. */
  tokens: number;
  /** USD per GPU-hour; null: no price (no cost shown). */
  price: number | null;
}

/** Until the user sets them: a trillion tokens, no price. */
export const DEFAULT_RUN: RunChoice = { tokens: 1e12, price: null };

export type EntryField = "tokens" | "price";

/** A value being typed into the message row. */
export interface Entry {
  field: EntryField;
  text: string;
}

const PROMPT: Record<EntryField, string> = {
  tokens: "tokens to train (like 15.6T, 300B, 2e12)",
  price: "USD per GPU-hour (like 2.5; empty: no price)",
};

/** What the CLI's refusal names as a flag, the screen names by what it is. */
const NAME: Record<EntryField, string> = { tokens: "tokens", price: "GPU-hour price" };

/** The run with the typed value set, or why it is refused (the run then stays as it was). */
export function applyEntry(run: RunChoice, e: Entry): { run: RunChoice } | { error: string } {
  try {
    if (e.field === "tokens") return { run: { ...run, tokens: parseTokensFlag(e.text) } };
    return { run: { ...run, price: e.text.trim() === "" ? null : parsePriceFlag(e.text) } };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { error: `${NAME[e.field]}: ${err.message.replace(/^--[a-z]+: /, "")}` };
  }
}

/** "whole run: 15.6T tokens at $2.5/GPU-hour" (or "no price"). */
export function runChoiceText(run: RunChoice): string {
  return `whole run: ${compact(run.tokens)} tokens, ${run.price === null ? "no price" : `$${priceText(run.price)}/GPU-hour`}`;
}

/** The message row: the value being typed (with a cursor), else the message. */
export function footerMessage(entry: Entry | null, message: Message | null): Message | null {
  if (entry === null) return message;
  return { text: `${PROMPT[entry.field]}: ${entry.text}▌`, tone: "info" };
}

export type EntryAction =
  | { type: "entry/open"; field: EntryField }
  | { type: "entry/type"; text: string }
  | { type: "entry/backspace" }
  | { type: "entry/cancel" }
  | { type: "entry/submit" };

export interface EntryState {
  runChoice: RunChoice;
  entry: Entry | null;
  message: Message | null;
}

/** How typing a run setting changes the state: a value refused leaves the run as it was and
 *  says why in one message. */
export function entryReducer<S extends EntryState>(s: S, a: EntryAction): S {
  switch (a.type) {
    case "entry/open":
      return { ...s, entry: { field: a.field, text: "" }, message: null };
    case "entry/type":
      return s.entry ? { ...s, entry: { ...s.entry, text: s.entry.text + a.text } } : s;
    case "entry/backspace":
      return s.entry ? { ...s, entry: { ...s.entry, text: s.entry.text.slice(0, -1) } } : s;
    case "entry/cancel":
      return s.entry ? { ...s, entry: null } : s;
    case "entry/submit": {
      if (!s.entry) return s;
      const r = applyEntry(s.runChoice, s.entry);
      if ("error" in r) return { ...s, entry: null, message: { text: r.error, tone: "error" } };
      return { ...s, entry: null, runChoice: r.run, message: { text: runChoiceText(r.run), tone: "info" } };
    }
  }
}
