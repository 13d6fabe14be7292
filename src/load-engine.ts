// Engine profiles for the CLI (planner/engine.ts): a built-in name or a .json file, `extends`
// resolved against the built-ins and other files (src/file-extends.ts). A built-in comes as the build parsed it (builtins.ts) while its
// file is unchanged: no zod, no mathjs to load.
import { fileKind, wrongFileKind } from "./file-kind.js";
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { type Engine, generationKeys, parseEngineFile, resolveExtends } from "../planner/index.js";
import { type Builtins, builtinKey, readBuiltins } from "./builtin-table.js";
import { UserError } from "./errors.js";
import { readProfileFile } from "./file-extends.js";
import { ENGINE_KIND, isPath, packageRoot, readJson } from "./load.js";
import { builtinNames } from "./builtin-names.js";
import { builtinSpelling, didYouMean } from "./suggest.js";

export const enginesDir = () => join(packageRoot(), "profiles", "engines");

/** The built-in engines' names, sorted. */
export const builtinEngines = () => builtinNames(enginesDir());

/** A built-in engine file's contents by name, or undefined. */
export function builtinEngineRaw(name: string): unknown {
  const path = join(enginesDir(), `${name}.json`);
  return /^[a-z0-9][a-z0-9.-]*$/i.test(name) && existsSync(path) ? keysOnce(readJson(path, "engine"), `${name}.json`) : undefined;
}

/** One engine file as written, its GPU keys upper-cased before `extends` merges it (two keys of the
 *  file that differ only in case are exit 2: planner/schema/engine-keys.ts). */
function keysOnce(raw: unknown, origin: string): unknown {
  const r = generationKeys(raw, origin);
  if (!r.ok) throw new UserError(r.message);
  return r.value;
}

/** `lookup` with every file it reads checked as keysOnce. */
const keysOnceLookup = (lookup: (name: string) => unknown) => (name: string) => {
  const raw = lookup(name);
  return raw === undefined ? raw : keysOnce(raw, basename(name).endsWith(".json") ? basename(name) : `${name}.json`);
};

/** An engine file's contents, its `extends` resolved, → Engine. */
export function parseEngine(merged: unknown, origin: string): Engine {
  const parsed = parseEngineFile(merged, origin);
  if (!parsed.ok) throw new UserError(parsed.message);
  // The name reaches headers and exports' comments: a line break in it would end a comment there.
  if (/[\u0000-\u001f\u007f]/.test(parsed.value.name)) throw new UserError(`${origin}: field "name" has a control character; remove it`);
  return parsed.value;
}

/** The built-in stack an engine file profiles, and how it says so: along its chain of files, the
 *  first that carries a built-in engine's `name` (a copy or a version of that engine: a copy of
 *  torchtitan.json still extends fsdp, as the built-in does for its shared figures) or `extends`
 *  one (the user's profile of their version of it; further up the built-ins' own chain is shared
 *  data, not the same stack: fsdp extends megatron-core). Undefined for a chain of the user's own
 *  files that names no built-in: their own stack, or a loop (the resolver's error, once loaded).
 *  `through`: the files of the chain passed before the one that says it. */
export function engineStack(arg: string): { engine: string; by: "name" | "extends"; through: number } | undefined {
  const known = new Set(builtinEngines());
  let { raw, lookup } = readProfileFile(arg, "--engine", builtinEngineRaw);
  const seen = new Set<string>();
  for (;;) {
    const file = raw as { name?: unknown; extends?: unknown } | null | undefined;
    if (typeof file?.name === "string" && known.has(file.name)) return { engine: file.name, by: "name", through: seen.size };
    const ext = file?.extends;
    if (typeof ext !== "string") return undefined;
    if (!isPath(ext)) return { engine: ext, by: "extends", through: seen.size };
    if (seen.has(ext)) return undefined;
    seen.add(ext);
    raw = lookup(ext);
  }
}

/** `--engine NAME|FILE`. `builtins`: the build's parsed engines (default: builtins.json), used for
 *  a built-in unchanged since; a file is always parsed. */
export function loadEngine(arg: string, builtins = readBuiltins(), flag = "--engine"): Engine {
  let raw: unknown;
  let origin: string;
  let lookup = builtinEngineRaw;
  const file = isPath(arg);
  if (file) {
    origin = basename(arg);
    ({ raw, lookup } = readProfileFile(arg, flag, builtinEngineRaw));
    if (fileKind(raw) === "model") throw new UserError(wrongFileKind(raw, "engine", origin, flag)!);
    raw = keysOnce(raw, origin);
    lookup = keysOnceLookup(lookup);
  } else {
    const known = builtinEngines();
    arg = builtinSpelling(arg, known);
    raw = known.includes(arg) ? builtinEngineRaw(arg) : undefined;
    origin = `${arg}.json`;
    if (raw === undefined) throw new UserError(`${flag}: unknown engine "${arg}"${ENGINE_KIND.otherBuiltin(arg) ? " (a hardware profile: --profile)" : didYouMean(arg, known)}; built-ins: ${known.join(", ")}, or a .json file`);
  }
  const merged = resolveExtends(raw, lookup, origin, ENGINE_KIND);
  if (!merged.ok) throw new UserError(merged.message);
  // A file that extends another without a name of its own is named after the file, not labelled
  // as the engine it changes (its predictions differ from that engine's).
  if (file && raw !== null && typeof raw === "object" && !Object.hasOwn(raw, "name") && merged.value !== null && typeof merged.value === "object")
    merged.value = { ...(merged.value as object), name: basename(arg).replace(/\.json$/i, "") };
  const table = builtins?.engines;
  const key = builtinKey(origin, merged.value);
  const engine = (!file && table && Object.hasOwn(table, key) ? table[key] : undefined) ?? parseEngine(merged.value, origin);
  return withEagerEngine(engine, file ? dirname(resolve(arg)) : undefined, origin, builtins);
}

/** The engine with its eager fallback (`eager.engine`: a built-in's name, or a file relative to
 *  the engine file's folder) loaded, which prices the plans it runs eager (planner/eager.ts). That
 *  engine must run the same plans (its `supports`) and compile nothing itself: it is the same
 *  software, eager. */
function withEagerEngine(e: Engine, dir: string | undefined, origin: string, builtins: Builtins | undefined): Engine {
  if (e.eager === undefined || e.eager.engine !== undefined) return e;
  const name = e.eager.name;
  const eager = loadEngine(isPath(name) && dir !== undefined ? resolve(dir, name) : name, builtins, `${origin}: field "eager.engine"`);
  if (eager.eager !== undefined) throw new UserError(`${origin}: field "eager.engine": ${eager.name} has an eager engine of its own; name the eager engine itself`);
  if (JSON.stringify(eager.supports) !== JSON.stringify(e.supports))
    throw new UserError(`${origin}: field "eager.engine": ${eager.name} runs other plans than ${e.name} (its supports differ); the eager engine is the same software run eager, with the same supports`);
  return { ...e, eager: { ...e.eager, engine: eager } };
}

/** Every built-in engine, loaded: what a refusal of --engine suggests instead (constraints.ts
 *  checkTraining names those that build every part of the model). */
export const loadBuiltinEngines = (): Engine[] => builtinEngines().map((name) => loadEngine(name));
