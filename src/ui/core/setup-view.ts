// The setup screen's view-model: the fields as shown, the GPU total, and the list beside the
// focused field (presets with their sizes, profiles with their GPUs, engines with what they are,
// or what a number means).
import { totalParams } from "../../../planner/index.js";
import { compact, count } from "../../format/units.js";
import { fit } from "./bars.js";
import { firstLines, wrapText } from "./frame.js";
import { fieldProblems } from "./setup-reducer.js";
import { FIELDS, FIELD_LABEL, type FieldId, type SetupOptions, isNumeric } from "./setup.js";
import { type SetupState, chosenEngine, chosenModel, chosenProfile } from "./state.js";

export interface FieldView {
  id: FieldId;
  label: string;
  value: string;
  focused: boolean;
  /** A number or path is being typed into it. */
  editing: boolean;
  /** It holds a listed option (← → cycles them) rather than a number. */
  option: boolean;
  /** Why what was typed is not a usable number (shown beside it; planning waits). */
  problem: string | null;
}

export interface ListItem {
  text: string;
  selected: boolean;
}

export interface SetupView {
  fields: FieldView[];
  total: string;
  listTitle: string;
  list: ListItem[];
}

/** The whole screen in `height` lines: the form, the list (when there is room) and the error
 *  wrapped over lines of its own. */
export interface SetupScreenView extends SetupView {
  /** The error, wrapped to the width (empty when none). */
  error: string[];
  /** Whether the list and its title are shown (not when the error leaves no room). */
  showList: boolean;
}

/** The value a field shows (a number or path being typed shows as typed). */
export function fieldValue(s: SetupState, o: SetupOptions, id: FieldId): string {
  if (id === s.focus && s.text !== null) return s.text;
  if (isNumeric(id) && s.drafts[id] !== undefined) return s.drafts[id];
  if (id === "model") {
    // At the setup's sequence, as `plan` counts it (a learned position table has a row a token).
    const m = chosenModel(s, o);
    return `${s.modelFile ? m.arg : m.name} (${compact(totalParams(m.spec, s.seq))} parameters)`;
  }
  if (id === "profile") {
    const p = chosenProfile(s, o);
    return `${p.arg} — ${p.gpuName}, ${p.gpusPerNode} per node${p.measured ? ", measured" : ""}`;
  }
  if (id === "engine") {
    const e = chosenEngine(s, o);
    return s.engineFile ? `${e.arg} (${e.name})` : e.name;
  }
  return count(s[id]);
}

/** `height` items of a list around index `at`. */
export function listWindow<T>(items: readonly T[], at: number, height: number): { first: number; shown: T[] } {
  const first = Math.max(0, Math.min(at - Math.floor(height / 2), items.length - height));
  return { first, shown: items.slice(first, first + height) };
}

const NUMBER_HELP: Record<Exclude<FieldId, "model" | "profile" | "engine">, string[]> = {
  nodes: ["Nodes in the cluster.", "Tensor parallel stays inside a node; the other groups may cross nodes."],
  perNode: ["GPUs in each node (the profile's node size by default, and at most).", "A smaller value models partly used nodes."],
  batch: ["Global batch: sequences per optimizer step, over all replicas.", "dp must divide it; each replica splits its share into micro-batches."],
  seq: ["Sequence length in tokens (the model's by default).", "← → step through 1,024 … 1,048,576; from 16,384 on the search tries context parallel (cp)."],
};

function listFor(s: SetupState, o: SetupOptions, height: number, width: number): { title: string; list: ListItem[] } {
  if (s.focus === "model") {
    const at = s.modelFile ? -1 : s.model;
    const { first, shown } = listWindow(o.models, Math.max(0, at), height);
    return {
      title: `${o.models.length} model presets by size (← →), or type a file path (/ . ~)`,
      list: shown.map((m, i) => ({ text: `${m.name.padEnd(18)} ${m.size.padStart(6)}  ${m.gpus ? `${count(m.gpus)} GPU${m.gpus > 1 ? "s" : ""}` : ""}`.trimEnd(), selected: first + i === at })),
    };
  }
  if (s.focus === "profile") {
    const at = s.profileFile ? -1 : s.profile;
    const { first, shown } = listWindow(o.profiles, Math.max(0, at), height);
    return {
      title: "profiles: built-in, then measured local-* (← →), or type a file path (/ . ~)",
      list: shown.map((p, i) => ({ text: fit(`${p.arg.padEnd(18)} ${p.gpuName}, ${p.gpusPerNode} per node${p.measured ? " (measured)" : ""}`, width), selected: first + i === at })),
    };
  }
  if (s.focus === "engine") {
    const at = s.engineFile ? -1 : s.engine;
    const { first, shown } = listWindow(o.engines, Math.max(0, at), height);
    return {
      title: "software stacks: engine profiles (← →), or type a file path (/ . ~)",
      list: shown.map((e, i) => ({ text: fit(`${e.name.padEnd(20)} ${e.description}`, width), selected: first + i === at })),
    };
  }
  return { title: "", list: NUMBER_HELP[s.focus].map((text) => ({ text, selected: false })) };
}

/** The GPU count, or which field it waits for. */
function totalLine(s: SetupState): string {
  const waiting = fieldProblems(s).find((p) => p.field === "nodes" || p.field === "perNode");
  if (waiting) return `GPUs: — (${FIELD_LABEL[waiting.field]} needs a number)`;
  const gpus = s.nodes * s.perNode;
  return `${count(gpus)} GPU${gpus > 1 ? "s" : ""} = ${count(s.nodes)} node${s.nodes > 1 ? "s" : ""} × ${s.perNode}`;
}

/** Columns before a field's value: marker (3) and label (14). */
const LABEL_COLUMNS = 17;

export function setupView(s: SetupState, o: SetupOptions, listHeight: number, width: number): SetupView {
  const problems = new Map(fieldProblems(s).map((p) => [p.field, p.problem]));
  const fields = FIELDS.map((id) => {
    const problem = isNumeric(id) ? (problems.get(id) ?? null) : null;
    const editing = id === s.focus && (s.text !== null || (isNumeric(id) && s.drafts[id] !== undefined));
    // The value, in ‹ › (4) when it is a focused option or with its cursor (1) when typed into,
    // and the problem after two spaces. (QA: cut to 3 columns less, a focused long path's row
    // was one column too wide and wrapped.)
    const value = fit(fieldValue(s, o, id), width - LABEL_COLUMNS - 4);
    const room = width - LABEL_COLUMNS - value.length - (editing ? 1 : 0) - 2;
    return { id, label: FIELD_LABEL[id], value, focused: id === s.focus, editing, option: !isNumeric(id), problem: problem === null ? null : fit(problem, Math.max(1, room)) };
  });
  const { title, list } = listFor(s, o, Math.max(1, listHeight), width - 4);
  return { fields, total: totalLine(s), listTitle: fit(title, width), list };
}

/** Lines of the form: intro, blank, the fields, the total. */
const FORM_LINES = 3 + FIELDS.length;

/** The setup in `height` lines: the form always; then the error (after a blank line) in as many
 *  lines as it needs, up to what is left; then, with room for a blank, the title and one item,
 *  the list. */
export function setupScreenView(s: SetupState, o: SetupOptions, height: number, width: number): SetupScreenView {
  const rest = Math.max(0, height - FORM_LINES);
  const wrapped = s.error === null ? [] : wrapText(s.error, width);
  const error = wrapped.length === 0 ? [] : firstLines(wrapped, Math.max(1, rest - 1), width);
  const listLines = rest - (error.length > 0 ? error.length + 1 : 0) - 2;
  return { ...setupView(s, o, listLines, width), error, showList: listLines >= 1 };
}
