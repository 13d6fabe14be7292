// The build's parsed built-in presets and profiles (src/builtins.ts → dist/src/builtins.json):
// each is what parsing its file gives, survives the trip through JSON, and load.ts takes it only
// for that built-in with those exact contents, from a table the same parsing code wrote.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Builtins, builtinKey, fingerprintOf, readBuiltins } from "../../src/builtin-table.js";
import { parseBuiltins } from "../../src/builtins.js";
import { builtinProfiles, builtinRaw, loadModel, loadProfile, modelPresets, modelsDir, readJson } from "../../src/load.js";
import { removeTempFiles, tempFile } from "./helpers.js";

afterAll(removeTempFiles);

const built = parseBuiltins();
const viaJson = JSON.parse(JSON.stringify(built)) as Builtins;
const none: Builtins = { models: {}, profiles: {} };

describe("built-ins parsed at build time", () => {
  it("hold every preset and every built-in profile", () => {
    expect(Object.keys(built.models).length).toBe(modelPresets().length);
    expect(Object.keys(built.profiles).length).toBe(builtinProfiles().length);
  });

  it.each(modelPresets())("model %s: from the table, the same ModelSpec as parsing the file", (name) => {
    expect(loadModel(name, viaJson)).toStrictEqual(loadModel(name, none));
  });

  it.each(builtinProfiles())("profile %s: from the table, the same Hardware as parsing the file", (name) => {
    expect(loadProfile(name, viaJson)).toStrictEqual(loadProfile(name, none));
  });

  it("are taken for a built-in with the same name and contents only", () => {
    const raw = readJson(join(modelsDir(), "gpt3-like.json"), "preset") as Record<string, unknown>;
    const marked = (key: string): Builtins => ({ models: { [key]: { ...loadModel("gpt3-like", none), name: "from the table" } }, profiles: {} });
    expect(loadModel("gpt3-like", marked(builtinKey("gpt3-like.json", raw))).name).toBe("from the table");
    // The file edited since the build, or another file: parsed.
    expect(loadModel("gpt3-like", marked(builtinKey("gpt3-like.json", { ...raw, layers: 1 }))).name).toBe("gpt3-like");
    expect(loadModel("gpt3-like", marked(builtinKey("gpt3-175b.json", raw))).name).toBe("gpt3-like");
    // Named as a file path: a user file, always parsed.
    expect(loadModel(join(modelsDir(), "gpt3-like.json"), marked(builtinKey("gpt3-like.json", raw))).name).toBe("gpt3-like");

    const hw = builtinRaw("dgx-h100");
    const profile = (key: string): Builtins => ({ models: {}, profiles: { [key]: { ...loadProfile("dgx-h100", none), name: "from the table" } } });
    expect(loadProfile("dgx-h100", profile(builtinKey("dgx-h100.json", hw))).name).toBe("from the table");
    expect(loadProfile("dgx-h100", profile(builtinKey("dgx-h100.json", { ...(hw as object), name: "x" }))).name).toBe("dgx-h100");
  });

  it("a table is read back only by the parser that wrote it", () => {
    const path = tempFile("builtins.json", JSON.stringify({ parser: "abc", ...built }));
    expect(readBuiltins(path, () => "abc")).toEqual({ parser: "abc", ...built });
    expect(readBuiltins(path, () => "another")).toBeUndefined();
    expect(readBuiltins(path, () => undefined)).toBeUndefined();
    expect(readBuiltins(tempFile("old.json", JSON.stringify(built)), () => "abc")).toBeUndefined();
    expect(readBuiltins(join(modelsDir(), "missing.json"), () => "abc")).toBeUndefined();
  });

  it("the parser's fingerprint follows every byte of its modules, and their split into files", () => {
    const a = tempFile("a.js", "export const x = 1;\n");
    const b = tempFile("b.js", "export const y = 2;\n");
    const fp = fingerprintOf([a, b])!;
    expect(fp).toMatch(/^[0-9a-f]+$/);
    expect(fingerprintOf([a, b])).toBe(fp); // a function of the bytes only
    expect(fingerprintOf([b, a])).not.toBe(fp);
    expect(fingerprintOf([tempFile("a2.js", "export const x = 2;\n"), b])).not.toBe(fp); // one byte
    // The same bytes in all, split differently between the files.
    expect(fingerprintOf([tempFile("s1.js", "ab"), tempFile("s2.js", "c")])).not.toBe(fingerprintOf([tempFile("s3.js", "a"), tempFile("s4.js", "bc")]));
    expect(fingerprintOf([a, join(modelsDir(), "missing.json")])).toBeUndefined();
  });
});
