// `paraplan ui`'s flags as the planner's first state: the setup form and whole run hold them.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../../test/planner/fixtures.js";
import { UserError } from "../../errors.js";
import { allOptions } from "../test-utils.js";
import { DEFAULT_RUN } from "./run-settings.js";
import { sessionFor } from "./setup.js";
import { startState } from "./start-preset.js";
import { chosenEngine, chosenModel, chosenProfile, initialSetup, initialState } from "./state.js";

const dir = mkdtempSync(join(tmpdir(), "paraplan-ui-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the planner started from ui's flags", () => {
  const o = allOptions();

  it("no flags: the setup's defaults and the default whole run", () => {
    expect(startState(o, {})).toEqual({ setup: initialSetup(o), runChoice: DEFAULT_RUN });
  });

  it("selects the listed model, cluster and software, and splits the GPUs into the profile's nodes", () => {
    const { setup, runChoice } = startState(o, { model: "llama3-70b", profile: "dgx-a100-80g", engine: "fsdp", gpus: 64, tokens: 15.6e12, price: 2.5 });
    expect(chosenModel(setup, o).arg).toBe("llama3-70b");
    expect(setup.modelFile).toBeNull();
    expect(chosenProfile(setup, o).arg).toBe("dgx-a100-80g");
    expect(chosenEngine(setup, o).arg).toBe("fsdp");
    expect({ nodes: setup.nodes, perNode: setup.perNode }).toEqual({ nodes: 8, perNode: 8 });
    // llama3-70b's file's batch, as plan --gpus 64 takes it
    expect(setup.batch).toBe(512);
    expect(setup.seq).toBe(chosenModel(setup, o).defaultSeqLen);
    expect(setup.focus).toBe("model");
    expect(runChoice).toEqual({ tokens: 15.6e12, price: 2.5 });
    // and it plans as the setup screen's Enter would
    const s = sessionFor({ model: chosenModel(setup, o), profile: chosenProfile(setup, o), engine: chosenEngine(setup, o), nodes: setup.nodes, perNode: setup.perNode, batch: setup.batch, seq: setup.seq });
    expect(s.request.training.gpus).toBe(64);
  });

  it("a model alone brings its file's GPUs and batch; GPUs alone keep the default model", () => {
    const gpt = o.models.find((m) => m.arg === "gpt3-like")!;
    const bloom = startState(o, { model: "bloom-176b" }).setup;
    expect(bloom.nodes * bloom.perNode).toBe(384);
    const few = startState(o, { gpus: 12 }).setup;
    expect(chosenModel(few, o)).toBe(gpt);
    // 12 on 8-GPU nodes: 3 nodes of 4, as the setup splits a count its nodes do not divide
    expect({ nodes: few.nodes, perNode: few.perNode, batch: few.batch }).toEqual({ nodes: 3, perNode: 4, batch: gpt.globalBatch });
  });

  it("a model file is read into the model field; the price alone keeps a trillion tokens", () => {
    const file = join(dir, "my-model.json");
    copyFileSync(join(ROOT, "profiles", "models", "llama3-8b.json"), file);
    const { setup, runChoice } = startState(o, { model: file, gpus: 16, price: 3 });
    expect(setup.modelFile?.arg).toBe(file);
    expect(chosenModel(setup, o).params).toBe(o.models.find((m) => m.arg === "llama3-8b")!.params);
    expect(setup.nodes * setup.perNode).toBe(16);
    expect(runChoice).toEqual({ tokens: 1e12, price: 3 });
  });

  it("a name or file that cannot be read is the CLI's error naming its flag", () => {
    expect(() => startState(o, { model: join(dir, "missing.json") })).toThrow(UserError);
    expect(() => startState(o, { model: join(dir, "missing.json") })).toThrow(/^--model/);
    expect(() => startState(o, { engine: "dgx-h100" })).toThrow(/^--engine: unknown engine "dgx-h100" \(a hardware profile: --profile\)/);
  });

  it("initialState opens the setup screen on them", () => {
    const start = startState(o, { model: "llama3-8b", gpus: 32, tokens: 2e12 });
    const s = initialState(o, start);
    expect(s.stack).toEqual(["setup"]);
    expect(s.setup).toBe(start.setup);
    expect(s.runChoice).toEqual({ tokens: 2e12, price: null });
    expect(s.session).toBeNull();
  });
});
