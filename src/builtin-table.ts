// The built-in presets and profiles as `npm run build` parsed them (builtins.ts writes the table):
// where the table lives, how a file is keyed in it, and reading it back. A table is used only by
// the code that wrote it: it records a fingerprint of the compiled modules that parse files, and
// a later compile (a bare tsc, a merge) that changes any of them leaves the table unused until
// the next build writes a new one.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Engine, Hardware, ModelSpec } from "../planner/index.js";

/** The built-in models and profiles by builtinKey, and the parser that produced them. */
export interface Builtins {
  parser?: string;
  models: Record<string, ModelSpec>;
  profiles: Record<string, Hardware>;
  /** Built-in engine profiles (load-engine.ts). */
  engines?: Record<string, Engine>;
}

/** Where `npm run build` writes the table: beside this module once compiled, dist/src/builtins.json. */
export const builtinsPath = () => fileURLToPath(new URL("./builtins.json", import.meta.url));

/** A parsed file's key: its name and its contents (a file edited since the build has another). */
export const builtinKey = (origin: string, raw: unknown) => `${origin}\n${JSON.stringify(raw)}`;

/** The modules whose code decides what a model or profile file parses to, beside this one. */
const PARSER_MODULES = ["./load.js", "../planner/schema/model.js", "../planner/schema/hardware.js", "../planner/schema/figure.js", "./load-engine.js", "../planner/schema/engine.js", "../planner/engine.js", "../planner/schema/result.js", "../planner/schema/zod.js", "../planner/units.js", "../planner/power.js"];

/** A digest of the compiled parsing modules, or undefined where they are not compiled (sources). */
export function parserFingerprint(): string | undefined {
  const hash = createHash("sha256");
  try {
    for (const m of PARSER_MODULES) hash.update(readFileSync(new URL(m, import.meta.url)));
  } catch {
    return undefined;
  }
  return hash.digest("hex");
}

/** The table at `path` if these modules wrote it, else nothing (none there, or another parser's). */
export function readBuiltins(path = builtinsPath(), parser = parserFingerprint): Builtins | undefined {
  let table: Builtins;
  try {
    table = JSON.parse(readFileSync(path, "utf8")) as Builtins;
  } catch {
    return undefined;
  }
  return table.parser !== undefined && table.parser === parser() ? table : undefined;
}
