// The built-in model presets, hardware profiles and engine profiles, parsed when paraplan is built: `npm run build`
// runs this file, which writes them to dist/src/builtins.json (builtin-table.ts), keyed by name
// and contents. load.ts takes a built-in from there while its file is unchanged, so that
// `paraplan plan --model gpt3-like` loads neither zod (file validation) nor mathjs (unit parsing):
// together ~0.5 s of start-up, more than the search and the simulation. Nothing of it is in the
// sources; without a build, for a file edited since, and for user files and local profiles, the
// file is parsed as always.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveExtends } from "../planner/index.js";
import { type Builtins, builtinKey, builtinsPath, parserFingerprint } from "./builtin-table.js";
import { builtinEngineRaw, builtinEngines, parseEngine } from "./load-engine.js";
import { builtinProfiles, builtinRaw, modelPresets, modelsDir, parseModel, parseProfile, readJson } from "./load.js";
import { isMainModule } from "./main-module.js";

/** Parse every preset and built-in profile (their `extends` resolved) as load.ts would. */
export function parseBuiltins(): Builtins {
  const out: Builtins = { models: {}, profiles: {}, engines: {} };
  for (const name of modelPresets()) {
    const path = join(modelsDir(), `${name}.json`);
    const raw = readJson(path, "preset");
    out.models[builtinKey(`${name}.json`, raw)] = parseModel(raw, path);
  }
  for (const name of builtinProfiles()) {
    const origin = `${name}.json`;
    const raw = builtinRaw(name);
    const merged = resolveExtends(raw, builtinRaw, origin);
    if (!merged.ok) throw new Error(merged.message);
    out.profiles[builtinKey(origin, merged.value)] = parseProfile(merged.value, origin, raw);
  }
  for (const name of builtinEngines()) {
    const origin = `${name}.json`;
    const merged = resolveExtends(builtinEngineRaw(name), builtinEngineRaw, origin);
    if (!merged.ok) throw new Error(merged.message);
    out.engines![builtinKey(origin, merged.value)] = parseEngine(merged.value, origin);
  }
  return out;
}

/** Write them where load.ts looks, with the fingerprint of the code that parsed them. */
export function writeBuiltins(path = builtinsPath()): void {
  writeFileSync(path, JSON.stringify({ parser: parserFingerprint(), ...parseBuiltins() }) + "\n");
}


if (isMainModule(import.meta.url)) writeBuiltins();
