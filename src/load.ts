// File I/O for the CLI: model presets and files, hardware profiles (built-in, local, or a file).
// The planner itself never touches the file system.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Hardware,
  type ModelSpec,
  looksLikeHfConfig,
  parseHardwareFile,
  parseHfConfig,
  parseModelFile,
  resolveExtends,
} from "../planner/index.js";
import { type QuantityParser, knownQuantities, parseQuantity } from "../planner/units.js";
import { UserError } from "./errors.js";

/** The package root: the nearest folder above this file with a package.json (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("paraplan: package.json not found above " + dir);
    dir = up;
  }
  return dir;
}

export const modelsDir = () => join(packageRoot(), "profiles", "models");
export const hardwareDir = () => join(packageRoot(), "profiles", "hardware");

function names(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
}

export const modelPresets = () => names(modelsDir());
export const builtinProfiles = () => names(hardwareDir()).filter((n) => !n.startsWith("local-"));

/** Read and parse a JSON file; unreadable or malformed files are one-line UserErrors. */
export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${what} "${path}" cannot be read; check the path`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: malformed JSON (${(e as Error).message}); fix the file`);
  }
}

export const isPath = (arg: string) => arg.endsWith(".json") || arg.includes("/") || arg.includes("\\");

export function loadModel(arg: string): ModelSpec {
  let path: string;
  if (isPath(arg)) path = resolve(arg);
  else {
    path = join(modelsDir(), `${arg}.json`);
    if (!existsSync(path)) throw new UserError(`--model: unknown preset "${arg}"; presets: ${modelPresets().join(", ")}, or a .json file`);
  }
  const raw = readJson(path, "--model");
  const parsed = looksLikeHfConfig(raw)
    ? parseHfConfig(raw, basename(path), basename(path, ".json"))
    : parseModelFile(raw, basename(path));
  if (!parsed.ok) throw new UserError(parsed.message);
  return parsed.value;
}

/** A built-in (or local-<host>) profile's file contents by name, or undefined. */
export function builtinRaw(name: string): unknown {
  const path = join(hardwareDir(), `${name}.json`);
  return existsSync(path) ? readJson(path, "profile") : undefined;
}

/** Where `npm run build` writes the built-in profiles' unit figures resolved by mathjs
 *  (units-table.ts): beside this module once compiled, dist/src/units-table.json. */
export const unitsTablePath = () => fileURLToPath(new URL("./units-table.json", import.meta.url));

/** The unit parser for built-in profiles: the build's table where there is one (no mathjs to
 *  load, ~0.3 s), else mathjs. User files always go through mathjs. */
function builtinUnits(): QuantityParser {
  let table: unknown;
  try {
    table = JSON.parse(readFileSync(unitsTablePath(), "utf8"));
  } catch {
    return parseQuantity;
  }
  return typeof table === "object" && table !== null ? knownQuantities(table as Record<string, number>) : parseQuantity;
}

/** "local" means this machine's measured profile, profiles/hardware/local-<host>.json. */
export function loadProfile(arg: string): Hardware {
  let raw: unknown;
  let origin: string;
  let units: QuantityParser = parseQuantity;
  if (isPath(arg)) {
    origin = basename(arg);
    raw = readJson(resolve(arg), "--profile");
  } else {
    const name = arg === "local" ? `local-${hostname()}` : arg;
    raw = builtinRaw(name);
    origin = `${name}.json`;
    if (raw === undefined) {
      const hint = arg === "local" ? "; run `paraplan profile` first to measure this machine" : "";
      throw new UserError(`--profile: unknown profile "${arg}"${hint}; built-ins: ${builtinProfiles().join(", ")}, or a .json file`);
    }
    if (!name.startsWith("local-")) units = builtinUnits();
  }
  const merged = resolveExtends(raw, builtinRaw, origin);
  if (!merged.ok) throw new UserError(merged.message);
  const parsed = parseHardwareFile(merged.value, origin, units);
  if (!parsed.ok) throw new UserError(parsed.message);
  return parsed.value;
}
