// The setup screen's view-model: the fields as shown, the GPU total, and the list beside the
// focused field (presets with their sizes, profiles with their GPUs, engines with what they are,
// or what a number means).
import { count } from "../../format/units.js";
import { fit } from "./bars.js";
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
  error: string | null;
}

/** The value a field shows (a number or path being typed shows as typed). */
export function fieldValue(s: SetupState, o: SetupOptions, id: FieldId): string {
  if (id === s.focus && s.text !== null) return s.text;
  if (id === s.focus && s.draft !== null) return s.draft;
  if (id === "model") {
    const m = chosenModel(s, o);
    return `${s.modelFile ? m.arg : m.name} (${m.size} parameters)`;
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
  perNode: ["GPUs in each node (the profile's node size by default).", "A smaller value models partly used nodes."],
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

export function setupView(s: SetupState, o: SetupOptions, listHeight: number, width: number): SetupView {
  const fields = FIELDS.map((id) => ({
    id,
    label: FIELD_LABEL[id],
    value: fit(fieldValue(s, o, id), width - 20),
    focused: id === s.focus,
    editing: id === s.focus && (s.text !== null || s.draft !== null),
    option: !isNumeric(id),
  }));
  const gpus = s.nodes * s.perNode;
  const { title, list } = listFor(s, o, Math.max(1, listHeight), width - 4);
  return {
    fields,
    total: `${count(gpus)} GPU${gpus > 1 ? "s" : ""} = ${count(s.nodes)} node${s.nodes > 1 ? "s" : ""} × ${s.perNode}`,
    listTitle: fit(title, width),
    list,
    error: s.error === null ? null : fit(s.error, width * 2),
  };
}
