// File I/O for the CLI: model presets and files, hardware profiles (built-in, local, or a file).
// The planner itself never touches the file system. A built-in preset or profile comes as the
// build parsed it (builtins.ts) while its file is unchanged: no zod, no mathjs to load.
import { existsSync, readdirSync } from "node:fs";
import { parseInputJson, readInputText, unreadable } from "./read-input.js";
import { hostname } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  type Hardware,
  type KindCheck,
  type ModelSpec,
  looksLikeHfConfig,
  parseHardwareFile,
  parseHfConfig,
  modelDefaults,
  parseModelFile,
  resolveExtends,
  unrecognisedModelFile,
} from "../planner/index.js";
import { packageRoot } from "../executor/root.js";
import { builtinKey, readBuiltins } from "./builtin-table.js";
import { fileKind, wrongFileKind } from "./file-kind.js";
import { UserError } from "./errors.js";
import { readProfileFile } from "./file-extends.js";
import { builtinSpelling, didYouMean } from "./suggest.js";
import { isPath } from "./builtin-names.js";

export { packageRoot };

export const modelsDir = () => join(packageRoot(), "profiles", "models");
export const hardwareDir = () => join(packageRoot(), "profiles", "hardware");

function names(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
}

export const modelPresets = () => names(modelsDir());
/** Every file of profiles/hardware by name, this machine's measured local-<host> ones too. */
export const hardwareNames = () => names(hardwareDir());
export const builtinProfiles = () => hardwareNames().filter((n) => !n.startsWith("local-"));

/** Read and parse a JSON file; unreadable or malformed files are one-line UserErrors. */
export function readJson(path: string, what: string): unknown {
  const r = readInputText(path);
  if (!r.ok) throw new UserError(unreadable(what, path, r));
  const j = parseInputJson(r.text);
  // (the file's name, as every message about its contents says it)
  if (!j.ok) throw new UserError(`${basename(path)}: ${j.why}; fix the file`);
  return j.value;
}

export { isPath };

function built<T>(table: Record<string, T> | undefined, key: string): T | undefined {
  return table && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A control character (a line break, an escape) in a name a file gives, or a flag gives for a
 *  file (profile and calibrate --name: a name parseProfile would refuse once written). */
export const CONTROL = /[\u0000-\u001f\u007f]/;

/** A model file's contents → ModelSpec (paraplan's format or a HuggingFace config.json). */
export function parseModel(raw: unknown, path: string, userFile = false): ModelSpec {
  const wrong = wrongFileKind(raw, "model", basename(path), "--model");
  if (wrong) throw new UserError(wrong);
  const neither = unrecognisedModelFile(raw, basename(path));
  if (neither !== undefined) throw new UserError(neither);
  const parsed = looksLikeHfConfig(raw)
    ? parseHfConfig(raw, basename(path), basename(path, ".json"))
    : parseModelFile(raw, basename(path));
  if (!parsed.ok) throw new UserError(parsed.message);
  // A user's file in paraplan's format says which architecture fields it left to defaults (the
  // presets, which cite their sources, leave GPT-3's kvHeads = heads and ffnHidden = 4h); a
  // config.json says its config class's defaults itself (planner/schema/hf-config.ts).
  const defaults = !userFile || looksLikeHfConfig(raw) ? undefined : modelDefaults(raw, parsed.value);
  if (defaults !== undefined) parsed.value.defaultsAssumed = defaults;
  // The name reaches exports' comments and scripts: a line break in it would end a comment there.
  if (CONTROL.test(parsed.value.name))
    throw new UserError(`${basename(path)}: the model's name (${looksLikeHfConfig(raw) ? "_name_or_path" : "name"}) has a control character; remove it`);
  return parsed.value;
}

/** `builtins`: the build's parsed presets (default: builtins.json), used for a preset unchanged since. */
export function loadModel(arg: string, builtins = readBuiltins()): ModelSpec {
  let path: string;
  if (isPath(arg)) path = resolve(arg);
  else {
    const presets = modelPresets();
    arg = builtinSpelling(arg, presets);
    path = join(modelsDir(), `${arg}.json`);
    if (!presets.includes(arg)) throw new UserError(`--model: unknown preset "${arg}"${didYouMean(arg, presets)}; presets: ${presets.join(", ")}, or a .json file`);
  }
  const raw = readJson(path, "--model");
  return (!isPath(arg) && built(builtins?.models, builtinKey(basename(path), raw))) || parseModel(raw, path, isPath(arg));
}

/** Whether a name is a built-in of each kind: `extends` naming the other kind says so. */
const isBuiltin = (dir: string, name: string) => /^[a-z0-9][a-z0-9.-]*$/i.test(name) && existsSync(join(dir, `${name}.json`));
export const HARDWARE_KIND: KindCheck = { kind: "hardware profile", otherBuiltin: (n) => isBuiltin(join(packageRoot(), "profiles", "engines"), n) };
export const ENGINE_KIND: KindCheck = { kind: "engine", otherBuiltin: (n) => isBuiltin(hardwareDir(), n) };

/** A built-in (or local-<host>) profile's file contents by name, or undefined. */
export function builtinRaw(name: string): unknown {
  const path = join(hardwareDir(), `${name}.json`);
  return existsSync(path) ? readJson(path, "profile") : undefined;
}

/** A profile's contents, its `extends` resolved, → Hardware. `own`: the file before `extends`
 *  (a contradiction between figures names the one it set). */
export function parseProfile(merged: unknown, origin: string, own: unknown = merged): Hardware {
  const parsed = parseHardwareFile(merged, origin, own);
  if (!parsed.ok) throw new UserError(parsed.message);
  // The names reach exports' comments and scripts: a line break in one would end a comment there.
  for (const [field, value] of [["name", parsed.value.name], ["gpu.name", parsed.value.gpuName]] as const)
    if (CONTROL.test(value)) throw new UserError(`${origin}: field "${field}" has a control character; remove it`);
  return parsed.value;
}

/** "local" means this machine's measured profile, profiles/hardware/local-<host>.json.
 *  `builtins`: the build's parsed profiles (default: builtins.json), used for a built-in unchanged
 *  since; a file or a local profile is always parsed. */
export function loadProfile(arg: string, builtins = readBuiltins()): Hardware {
  let builtin = false;
  let raw: unknown;
  let origin: string;
  let lookup = builtinRaw;
  if (isPath(arg)) {
    origin = basename(arg);
    ({ raw, lookup } = readProfileFile(arg, "--profile", builtinRaw));
    // (an engine file is told so by the resolver, naming its keys; a model file here)
    if (fileKind(raw) === "model") throw new UserError(wrongFileKind(raw, "hardware profile", origin, "--profile")!);
  } else {
    const name = arg === "local" ? `local-${hostname()}` : builtinSpelling(arg, hardwareNames());
    raw = builtinRaw(name);
    origin = `${name}.json`;
    builtin = !name.startsWith("local-");
    if (raw === undefined) {
      const hint = arg === "local" ? "; run `paraplan profile` first to measure this machine" : HARDWARE_KIND.otherBuiltin(arg) ? " (an engine: --engine)" : "";
      throw new UserError(`--profile: unknown profile "${arg}"${hint || didYouMean(arg, builtinProfiles())}; built-ins: ${builtinProfiles().join(", ")}, or a .json file`);
    }
  }
  const merged = resolveExtends(raw, lookup, origin, HARDWARE_KIND);
  if (!merged.ok) throw new UserError(merged.message);
  if (builtin) return built(builtins?.profiles, builtinKey(origin, merged.value)) || parseProfile(merged.value, origin, raw);
  return slicedNodePower(parseProfile(merged.value, origin, raw), raw, lookup, origin);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** A file extending a profile of larger nodes (its node.gpusPerNode below its base's) that gives
 *  no run.nodePower of its own: the base's node power at the per-GPU share of the file's node,
 *  nodePower · gpusPerNode / the base's, as `paraplan profile` writes it for a host of fewer GPUs
 *  (src/profile/build.ts) and the interactive planner's GPUs/node takes it (plan-request.ts
 *  onNodesOf). Inherited whole it was a whole node's power over fewer GPUs (--power node: 2 GPUs
 *  of a 10.2 kW DGX H100 drew 5,100 W each). More GPUs a node than the base's stay the file's
 *  to state (planner/schema/consistency.ts refuses them below their boards' power). */
function slicedNodePower(hw: Hardware, raw: unknown, lookup: (name: string) => unknown, origin: string): Hardware {
  const node = isObject(raw) && isObject(raw.node) ? raw.node : undefined;
  const run = isObject(raw) && isObject(raw.run) ? raw.run : undefined;
  if (!isObject(raw) || typeof raw.extends !== "string" || node?.gpusPerNode === undefined || run?.nodePower !== undefined || hw.run?.nodePower === undefined) return hw;
  const baseMerged = resolveExtends(lookup(raw.extends), lookup, origin, HARDWARE_KIND);
  if (!baseMerged.ok) return hw; // (resolved once already, with the file: cannot fail here)
  // (the base sliced in turn where it is itself a file of fewer GPUs a node than its own base)
  const base = slicedNodePower(parseProfile(baseMerged.value, origin), lookup(raw.extends), lookup, origin);
  const share = nodePowerShare(base, hw.gpusPerNode);
  if (share === undefined || base.gpusPerNode <= hw.gpusPerNode) return hw;
  return { ...hw, run: { ...hw.run, nodePower: share.nodePower }, sources: { ...hw.sources, "run.nodePower": share.source } };
}

/** `base`'s run.nodePower (a whole node's) at the per-GPU share of a node of `perNode` GPUs,
 *  nodePower · perNode / base.gpusPerNode, and its source; undefined where `base` states none.
 *  A profile file of fewer GPUs a node (slicedNodePower) and the interactive planner's GPUs/node
 *  (plan-request.ts onNodesOf) take it so. */
export function nodePowerShare(base: Hardware, perNode: number): { nodePower: number; source: string } | undefined {
  const power = base.run?.nodePower;
  if (power === undefined) return undefined;
  const source = `${base.sources["run.nodePower"] ?? base.name}, at its share for ${perNode} GPU${perNode > 1 ? "s" : ""} a node of its ${base.gpusPerNode} (per-GPU share of the node's power)`;
  return { nodePower: (power * perNode) / base.gpusPerNode, source };
}
