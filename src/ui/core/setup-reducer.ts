// How the setup form changes: moving between fields, cycling options, typing numbers and paths.
import { MAX } from "../../flags.js";
import { count } from "../../format/units.js";
import type { SetupAction } from "./actions.js";
import { FIELDS, FIELD_LABEL, type NumericField, type SetupOptions, clusterFor, defaultsFor, isNumeric } from "./setup.js";
import { type SetupState, chosenModel, chosenProfile } from "./state.js";

/** The largest value of each number: the plan command's bounds (src/flags.ts MAX: nodes and GPUs
 *  2^20, the global batch 2^31, the sequence 2^24), so that what the setup plans, `paraplan plan`
 *  plans too. (QA: every field stopped at 9,999,999, seven digits: a sequence of 16,777,216 could
 *  not be typed, and → from 8,388,608 gave 9,999,999.) */
export const FIELD_MAX: Readonly<Record<NumericField, number>> = { nodes: MAX.gpus, perNode: MAX.gpus, batch: MAX.batch, seq: MAX.seq };

/** The field's bound, as said when a value would pass it. */
const tooLarge = (f: NumericField, value: string) => `${FIELD_LABEL[f]} takes at most ${count(FIELD_MAX[f])} (${value.length > 16 ? `${value.slice(0, 15)}…` : value} not taken)`;

const wrap = (i: number, n: number) => ((i % n) + n) % n;

/** A number typed so far, when it is a usable value. */
const parsed = (draft: string): number | null => (/^\d+$/.test(draft) && Number(draft) > 0 ? Number(draft) : null);

/** What is wrong with digits typed into a numeric field (null: a usable number). */
export function draftProblem(draft: string): string | null {
  if (draft === "") return "empty: type a number (1 or more)";
  return parsed(draft) === null ? "must be 1 or more" : null;
}

export interface FieldProblem {
  field: NumericField;
  problem: string;
}

/** The numeric fields holding no usable number, in the form's order (planning waits for them). */
export function fieldProblems(s: SetupState): FieldProblem[] {
  return FIELDS.filter(isNumeric).flatMap((field) => {
    const draft = s.drafts[field];
    const problem = draft === undefined ? null : draftProblem(draft);
    return problem === null ? [] : [{ field, problem }];
  });
}

/** The drafts without those of `fields`. */
function without(drafts: SetupState["drafts"], ...fields: NumericField[]): SetupState["drafts"] {
  const out = { ...drafts };
  for (const f of fields) delete out[f];
  return out;
}

/** Leaving a field keeps what was typed only when it is not a usable number (shown, with why). */
function leave(s: SetupState, f: SetupState["focus"]): SetupState["drafts"] {
  if (!isNumeric(f)) return s.drafts;
  const draft = s.drafts[f];
  return draft !== undefined && draftProblem(draft) === null ? without(s.drafts, f) : s.drafts;
}

/** Digits typed into the focused numeric field: the value follows when they make a usable number. */
function typed(s: SetupState, f: NumericField, draft: string): SetupState {
  const v = parsed(draft);
  const next = v === null ? s : setNumber(s, f, v);
  return { ...next, drafts: { ...s.drafts, [f]: draft }, error: null };
}

/** A new model sets every number to its defaults; typed ones are replaced. */
function withModel(o: SetupOptions, next: SetupState): SetupState {
  return { ...next, drafts: {}, ...defaultsFor(chosenModel(next, o), chosenProfile(next, o)) };
}

/** A different node size keeps the GPU count when it can (nodes and GPUs per node replaced). */
function withProfile(s: SetupState, o: SetupOptions, next: SetupState): SetupState {
  return { ...next, drafts: without(next.drafts, "nodes", "perNode"), ...clusterFor(s.nodes * s.perNode, chosenProfile(next, o).gpusPerNode) };
}

/** Sequence lengths ← → steps through, up to the long-context ones context parallel is for
 *  (Llama 3's 131,072; 1,048,576 = 2^20). */
export const SEQ_CHOICES: readonly number[] = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576];

/** The next preset above (delta > 0) or below v; past the ends, v doubled or halved. */
export function nextSeq(v: number, delta: number): number {
  if (delta > 0) return SEQ_CHOICES.find((c) => c > v) ?? v * 2;
  return [...SEQ_CHOICES].reverse().find((c) => c < v) ?? Math.floor(v / 2);
}

function setNumber(s: SetupState, f: NumericField, v: number): SetupState {
  return { ...s, [f]: Math.max(1, Math.min(FIELD_MAX[f], v)) };
}

/** ← → on a number: the new value, or at the bound the value kept and the bound said. */
function stepNumber(s: SetupState, f: NumericField, v: number): SetupState {
  return v > FIELD_MAX[f] ? { ...s, error: tooLarge(f, count(v)) } : setNumber(s, f, v);
}

export function setupReducer(s: SetupState, o: SetupOptions, a: SetupAction): SetupState {
  switch (a.type) {
    case "setup/focus": {
      const at = FIELDS.indexOf(s.focus);
      return { ...s, focus: FIELDS[wrap(at + a.delta, FIELDS.length)]!, drafts: leave(s, s.focus), text: null };
    }
    case "setup/change": {
      const base = { ...s, drafts: isNumeric(s.focus) ? without(s.drafts, s.focus) : s.drafts, text: null, error: null };
      if (s.focus === "model") {
        const at = s.modelFile ? (a.delta > 0 ? -1 : 0) : s.model;
        return withModel(o, { ...base, modelFile: null, model: wrap(at + a.delta, o.models.length) });
      }
      if (s.focus === "profile") {
        const at = s.profileFile ? (a.delta > 0 ? -1 : 0) : s.profile;
        return withProfile(s, o, { ...base, profileFile: null, profile: wrap(at + a.delta, o.profiles.length) });
      }
      if (s.focus === "engine") {
        const at = s.engineFile ? (a.delta > 0 ? -1 : 0) : s.engine;
        return { ...base, engineFile: null, engine: wrap(at + a.delta, o.engines.length) };
      }
      const v = s[s.focus];
      if (s.focus === "seq") return stepNumber(base, "seq", nextSeq(v, a.delta));
      return stepNumber(base, s.focus, a.delta > 0 ? v * 2 : Math.floor(v / 2));
    }
    case "setup/digit": {
      if (!isNumeric(s.focus)) return s;
      const draft = ((s.drafts[s.focus] ?? "") + a.digit).replace(/^0+(?=\d)/, "");
      if (Number(draft) > FIELD_MAX[s.focus]) return { ...s, error: tooLarge(s.focus, draft) };
      return typed(s, s.focus, draft);
    }
    case "setup/backspace": {
      if (s.text !== null) return { ...s, text: s.text.length > 1 ? s.text.slice(0, -1) : null };
      if (!isNumeric(s.focus)) return s;
      return typed(s, s.focus, (s.drafts[s.focus] ?? String(s[s.focus])).slice(0, -1));
    }
    case "setup/text":
      return isNumeric(s.focus) ? s : { ...s, text: a.text, error: null };
    case "setup/model-file":
      return withModel(o, { ...s, modelFile: a.option, text: null, error: null });
    case "setup/profile-file":
      return withProfile(s, o, { ...s, profileFile: a.option, text: null, error: null });
    case "setup/engine-file":
      return { ...s, engineFile: a.option, text: null, error: null };
    case "setup/error":
      return { ...s, error: a.message };
  }
}
