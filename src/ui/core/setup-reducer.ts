// How the setup form changes: moving between fields, cycling options, typing numbers and paths.
import type { SetupAction } from "./actions.js";
import { FIELDS, type NumericField, type SetupOptions, clusterFor, defaultsFor, isNumeric } from "./setup.js";
import { type SetupState, chosenModel, chosenProfile } from "./state.js";

const MAX_DIGITS = 7;

const wrap = (i: number, n: number) => ((i % n) + n) % n;

/** A number typed so far, when it is a usable value. */
const parsed = (draft: string): number | null => (/^\d+$/.test(draft) && Number(draft) > 0 ? Number(draft) : null);

function withModel(o: SetupOptions, next: SetupState): SetupState {
  return { ...next, ...defaultsFor(chosenModel(next, o), chosenProfile(next, o)) };
}

/** A different node size keeps the GPU count when it can. */
function withProfile(s: SetupState, o: SetupOptions, next: SetupState): SetupState {
  return { ...next, ...clusterFor(s.nodes * s.perNode, chosenProfile(next, o).gpusPerNode) };
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
  return { ...s, [f]: Math.max(1, Math.min(10 ** MAX_DIGITS - 1, v)) };
}

export function setupReducer(s: SetupState, o: SetupOptions, a: SetupAction): SetupState {
  switch (a.type) {
    case "setup/focus": {
      const at = FIELDS.indexOf(s.focus);
      return { ...s, focus: FIELDS[wrap(at + a.delta, FIELDS.length)]!, draft: null, text: null };
    }
    case "setup/change": {
      const base = { ...s, draft: null, text: null, error: null };
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
      if (s.focus === "seq") return setNumber(base, "seq", nextSeq(v, a.delta));
      return setNumber(base, s.focus, a.delta > 0 ? v * 2 : Math.floor(v / 2));
    }
    case "setup/digit": {
      if (!isNumeric(s.focus)) return s;
      const draft = ((s.draft ?? "") + a.digit).replace(/^0+(?=\d)/, "").slice(0, MAX_DIGITS);
      const v = parsed(draft);
      return { ...(v === null ? s : setNumber(s, s.focus, v)), draft, error: null };
    }
    case "setup/backspace": {
      if (s.text !== null) return { ...s, text: s.text.length > 1 ? s.text.slice(0, -1) : null };
      if (!isNumeric(s.focus)) return s;
      const draft = (s.draft ?? String(s[s.focus])).slice(0, -1);
      const v = parsed(draft);
      return { ...(v === null ? s : setNumber(s, s.focus, v)), draft, error: null };
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
