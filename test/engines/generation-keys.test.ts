// An engine file's per-GPU keys are matched without case (planner/schema/engine-keys.ts): one file
// giving "h100" and "H100" is refused naming both (JSON's last-wins picked one silently); a file's
// "h100" replaces the "H100" of the engine it extends.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineOver as engine, message } from "./engine-file.js";
import { generationKeys } from "../../planner/index.js";
import { loadEngine } from "../../src/load-engine.js";
import { tempDir } from "../tmp-dirs.js";


describe("an engine's per-GPU keys differing only in case", () => {
  it("in one file: refused naming both keys (the last silently won)", () => {
    const raw = { name: "a6", extends: "megatron-core", attention: { efficiency: { h100: 0.05, H100: 0.9 } } };
    expect(message(generationKeys(raw, "a6.json"))).toBe('a6.json: field "attention.efficiency": "h100" and "H100" are the same GPU generation given twice; keep one');
    expect(message(engine({ attention: { efficiency: { h100: 0.05, H100: 0.9 } } }))).toMatch(/"h100" and "H100" are the same GPU generation given twice/);
    const dir = tempDir("paraplan-keys-");
    writeFileSync(join(dir, "dup.json"), JSON.stringify(raw));
    expect(() => loadEngine(join(dir, "dup.json"))).toThrow('dup.json: field "attention.efficiency": "h100" and "H100" are the same GPU generation given twice; keep one');
    // In a file another extends: named by that file.
    writeFileSync(join(dir, "child.json"), JSON.stringify({ name: "child", extends: "./dup.json" }));
    expect(() => loadEngine(join(dir, "child.json"))).toThrow(/^dup\.json: field "attention\.efficiency": "h100" and "H100"/);
  });

  it("across a file and the engine it extends: the file's key replaces the base's, whatever its case", () => {
    const dir = tempDir("paraplan-keys-");
    writeFileSync(join(dir, "lower.json"), JSON.stringify({ name: "lower", extends: "fsdp", attention: { efficiency: { h100: 0.3 } } }));
    const e = loadEngine(join(dir, "lower.json"));
    expect(e.attention.efficiency).toEqual({ ...loadEngine("fsdp").attention.efficiency, H100: 0.3 });
  });
});
