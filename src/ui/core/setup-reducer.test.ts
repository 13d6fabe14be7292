import { describe, expect, it } from "vitest";
import { allOptions } from "../test-utils.js";
import { fieldProblems, setupReducer } from "./setup-reducer.js";
import { FIELDS, FIELD_LABEL, clusterFor, defaultsFor } from "./setup.js";
import { setupScreenView, setupView } from "./setup-view.js";
import { type SetupState, chosenEngine, chosenModel, chosenProfile, initialSetup } from "./state.js";
import type { SetupAction } from "./actions.js";

const o = allOptions();
const run = (s: SetupState, ...actions: SetupAction[]) => actions.reduce((x, a) => setupReducer(x, o, a), s);

describe("the setup form", () => {
  it("starts on gpt3-like on dgx-h100 with the preset's GPUs and batch", () => {
    const s = initialSetup(o);
    expect(chosenModel(s, o).name).toBe("gpt3-like");
    expect(chosenProfile(s, o).arg).toBe("dgx-h100");
    expect([s.nodes, s.perNode, s.batch, s.seq]).toEqual([128, 8, 1536, 2048]);
  });

  it("lists the presets by size and takes the next preset's defaults", () => {
    const sizes = o.models.map((m) => m.params);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    const s = run(initialSetup(o), { type: "setup/change", delta: 1 });
    const m = chosenModel(s, o);
    expect(m.name).not.toBe("gpt3-like");
    expect({ nodes: s.nodes, perNode: s.perNode, batch: s.batch, seq: s.seq }).toEqual(defaultsFor(m, chosenProfile(s, o)));
    const back = run(s, { type: "setup/change", delta: -1 });
    expect(chosenModel(back, o).name).toBe("gpt3-like");
  });

  it("keeps the GPU count when the cluster changes node size", () => {
    expect(clusterFor(1024, 8)).toEqual({ nodes: 128, perNode: 8 });
    expect(clusterFor(12, 8)).toEqual({ nodes: 3, perNode: 4 });
    expect(clusterFor(1, 8)).toEqual({ nodes: 1, perNode: 1 });
    const s = run(initialSetup(o), { type: "setup/focus", delta: 1 }, { type: "setup/change", delta: 1 });
    expect(s.nodes * s.perNode).toBe(1024);
  });

  it("types numbers (digits, backspace), halves and doubles them with ← →", () => {
    let s = run(initialSetup(o), { type: "setup/focus", delta: 3 });
    expect(s.focus).toBe("nodes");
    s = run(s, { type: "setup/digit", digit: "1" }, { type: "setup/digit", digit: "6" });
    expect([s.nodes, s.drafts.nodes]).toEqual([16, "16"]);
    expect(setupView(s, o, 5, 80).fields[3]).toMatchObject({ value: "16", editing: true });
    expect(setupView(s, o, 5, 80).total).toBe("128 GPUs = 16 nodes × 8");
    s = run(s, { type: "setup/backspace" });
    expect([s.nodes, s.drafts.nodes]).toEqual([1, "1"]);
    s = run(s, { type: "setup/change", delta: 1 });
    expect([s.nodes, s.drafts.nodes]).toEqual([2, undefined]);
    s = run(s, { type: "setup/change", delta: -1 }, { type: "setup/change", delta: -1 });
    expect(s.nodes).toBe(1);
    s = run(s, { type: "setup/focus", delta: 1 }, { type: "setup/digit", digit: "0" });
    expect([s.perNode, s.drafts.perNode]).toEqual([8, "0"]);
  });

  it("types a file path into the model field, and shows it once loaded", () => {
    let s = run(initialSetup(o), { type: "setup/text", text: "./m" }, { type: "setup/backspace" });
    expect(s.text).toBe("./");
    expect(setupView(s, o, 5, 80).fields[0]).toMatchObject({ value: "./", editing: true });
    const file = { ...o.models.find((m) => m.arg === "tiny")!, arg: "./my-model.json", name: "mine" };
    s = run(s, { type: "setup/model-file", option: file });
    expect([s.text, chosenModel(s, o).name, s.nodes * s.perNode, s.batch]).toEqual([null, "mine", 1, 8]);
    expect(setupView(s, o, 5, 80).fields[0]!.value).toBe("./my-model.json (218k parameters)");
    s = run(s, { type: "setup/change", delta: 1 });
    expect(chosenModel(s, o)).toBe(o.models[0]);
  });

  it("shows the presets around the chosen one with their sizes, or what a number means", () => {
    const v = setupView(initialSetup(o), o, 5, 80);
    expect(v.list).toHaveLength(5);
    expect(v.list.find((i) => i.selected)!.text).toMatch(/^gpt3-like\s+175B\s+1,024 GPUs$/);
    const nodes = setupView(run(initialSetup(o), { type: "setup/focus", delta: 3 }), o, 5, 80);
    expect(nodes.list[0]!.text).toBe("Nodes in the cluster.");
  });

  it("picks the software stack: the built-in engines, megatron-core (plan's default) first, or a file", () => {
    expect(o.engines.map((e) => e.name)).toEqual(["megatron-core", "fsdp", "megatron-2021", "megatron-deepspeed", "paraplan", "paraplan-compile", "torchtitan", "torchtitan-compile"]);
    let s = run(initialSetup(o), { type: "setup/focus", delta: 2 });
    expect([s.focus, chosenEngine(s, o).name]).toEqual(["engine", "megatron-core"]);
    const v = setupView(s, o, 8, 100);
    expect(v.fields[2]).toMatchObject({ label: "Software", value: "megatron-core", option: true });
    expect(v.list[0]).toMatchObject({ selected: true });
    expect(v.list[0]!.text).toMatch(/^megatron-core\s+Megatron-Core with Transformer Engine/);
    const sizes = [s.nodes, s.perNode, s.batch, s.seq];
    s = run(s, { type: "setup/change", delta: 1 });
    expect(chosenEngine(s, o).name).toBe("fsdp");
    expect([s.nodes, s.perNode, s.batch, s.seq]).toEqual(sizes); // the stack changes no size
    s = run(s, { type: "setup/change", delta: -2 });
    expect(chosenEngine(s, o).name).toBe("torchtitan-compile");
    s = run(s, { type: "setup/text", text: "./mine.json" }, { type: "setup/engine-file", option: { arg: "./mine.json", name: "mine", description: "" } });
    expect([s.text, chosenEngine(s, o).name, setupView(s, o, 5, 80).fields[2]!.value]).toEqual([null, "mine", "./mine.json (mine)"]);
    s = run(s, { type: "setup/change", delta: 1 });
    expect(chosenEngine(s, o)).toBe(o.engines[0]);
  });

  it("keeps an empty or zero number as typed, says why beside the field, and lists it until fixed (every numeric field)", () => {
    for (const field of ["nodes", "perNode", "batch", "seq"] as const) {
      const at = FIELDS.indexOf(field);
      let s = run(initialSetup(o), { type: "setup/focus", delta: at });
      const erase = String(s[field]).split("").map((): SetupAction => ({ type: "setup/backspace" }));
      s = run(s, ...erase);
      expect(s.drafts[field]).toBe("");
      expect(fieldProblems(s)).toEqual([{ field, problem: "empty: type a number (1 or more)" }]);
      s = run(s, { type: "setup/digit", digit: "0" });
      expect(s.drafts[field]).toBe("0");
      expect(fieldProblems(s)).toEqual([{ field, problem: "must be 1 or more" }]);
      // Moving on keeps the 0 in the field, with the problem beside it: not the old number.
      s = run(s, { type: "setup/focus", delta: 1 });
      const v = setupView(s, o, 5, 80).fields[at]!;
      expect(v).toMatchObject({ label: FIELD_LABEL[field], value: "0", problem: "must be 1 or more", editing: false });
      if (field === "nodes" || field === "perNode") expect(setupView(s, o, 5, 80).total).toBe(`GPUs: — (${FIELD_LABEL[field]} needs a number)`);
      // Back, a digit fixes it; leaving then drops the draft (the value is the number).
      s = run(s, { type: "setup/focus", delta: -1 }, { type: "setup/digit", digit: "2" });
      expect([s[field], s.drafts[field], fieldProblems(s)]).toEqual([2, "2", []]);
      s = run(s, { type: "setup/focus", delta: 1 });
      expect([s[field], s.drafts[field]]).toEqual([2, undefined]);
    }
    // ← → replaces a bad entry with a number; a new model replaces every number.
    let s = run(initialSetup(o), { type: "setup/focus", delta: 3 }, { type: "setup/digit", digit: "0" });
    expect(run(s, { type: "setup/change", delta: 1 }).drafts).toEqual({});
    s = run(s, { type: "setup/focus", delta: -3 }, { type: "setup/change", delta: 1 });
    expect([s.drafts, fieldProblems(s)]).toEqual([{}, []]);
  });

  it("says when a number is past the plan command's bound instead of cutting it", () => {
    let s = run(initialSetup(o), { type: "setup/focus", delta: 5 }, { type: "setup/digit", digit: "12345678" });
    expect([s.batch, s.error]).toEqual([12345678, null]);
    s = run(initialSetup(o), { type: "setup/focus", delta: 5 }, { type: "setup/digit", digit: "2147483649" });
    expect([s.batch, s.drafts.batch, s.error]).toEqual([1536, undefined, "Global batch takes at most 2,147,483,648 (2147483649 not taken)"]);
    s = run(s, { type: "setup/digit", digit: "9".repeat(400) });
    expect(s.error).toBe(`Global batch takes at most 2,147,483,648 (${"9".repeat(15)}… not taken)`);
  });

  it("counts the model's parameters at the setup's sequence, as `plan --seq` does (a learned position table grows)", () => {
    // (QA: gpt3-like stayed "175B parameters" at a sequence of 1,048,576, where `paraplan plan
    // --model gpt3-like --seq 1048576` says 187B: 1,048,576 positions × 12,288 more)
    let s = run(initialSetup(o), { type: "setup/focus", delta: 6 });
    expect(setupView(s, o, 5, 80).fields[0]!.value).toBe("gpt3-like (175B parameters)");
    s = run(s, { type: "setup/digit", digit: "1048576" });
    expect(setupView(s, o, 5, 80).fields[0]!.value).toBe("gpt3-like (187B parameters)");
    // rotary positions: no table, the same count at any length
    const llama = o.models.findIndex((m) => m.arg === "llama3-8b");
    s = { ...run(initialSetup(o), { type: "setup/focus", delta: 6 }, { type: "setup/digit", digit: "1048576" }), model: llama };
    expect(setupView(s, o, 5, 80).fields[0]!.value).toBe("llama3-8b (8.0B parameters)");
  });

  it("takes a sequence up to 16,777,216 as `plan --seq` does, typed or doubled, and says the bound past it", () => {
    // (QA: every number stopped at 9,999,999: 16,777,216 was refused as 8 digits, and → from
    // 8,388,608 gave 9,999,999, a sequence no doubling makes)
    let s = run(initialSetup(o), { type: "setup/focus", delta: 6 }, { type: "setup/digit", digit: "8388608" }, { type: "setup/change", delta: 1 });
    expect([s.seq, s.error]).toEqual([16777216, null]);
    s = run(s, { type: "setup/change", delta: 1 });
    expect([s.seq, s.error]).toEqual([16777216, "Sequence takes at most 16,777,216 (33,554,432 not taken)"]);
    s = run(s, { type: "setup/digit", digit: "16777217" });
    expect([s.seq, s.error]).toEqual([16777216, "Sequence takes at most 16,777,216 (16777217 not taken)"]);
    s = run(initialSetup(o), { type: "setup/focus", delta: 6 }, { type: "setup/digit", digit: "16777216" });
    expect([s.seq, s.error]).toEqual([16777216, null]);
    // nodes and GPUs per node stop at 1,048,576 (2^20), as --gpus does
    s = run(initialSetup(o), { type: "setup/focus", delta: 3 }, { type: "setup/digit", digit: "1048576" }, { type: "setup/change", delta: 1 });
    expect([s.nodes, s.error]).toEqual([1048576, "Nodes takes at most 1,048,576 (2,097,152 not taken)"]);
  });

  it("wraps a long error over lines below the form, keeping every field and the intro", () => {
    const error = "/tmp/a-model-file-with-a-rather-long-name.json: malformed JSON (Unterminated string in JSON at position 49); fix the file";
    const s = { ...initialSetup(o), error };
    for (const [height, width] of [[16, 60], [20, 80], [12, 60]] as const) {
      const v = setupScreenView(s, o, height, width);
      expect(v.fields.map((f) => f.label)).toEqual(FIELDS.map((f) => FIELD_LABEL[f]));
      // Whole where there is room; else its first line, ending in "…".
      if (height > 12) expect(v.error.join(" ")).toBe(error);
      else expect(v.error).toEqual([`${error.slice(0, 58)}…`]);
      for (const l of v.error) expect(l.length).toBeLessThanOrEqual(width);
      const lines = 3 + FIELDS.length + 1 + v.error.length + (v.showList ? 2 + v.list.length : 0);
      expect(lines, `${width} × ${height}`).toBeLessThanOrEqual(height);
    }
    expect(setupScreenView(s, o, 20, 80).showList).toBe(true);
  });
});
