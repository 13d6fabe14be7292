// A profile file's `extends` and `sameAs` may name another .json file (a team's base profile of its
// cluster or its stack version, refined per job) as well as a built-in. A file is named relative to
// the file that names it, as `#include "x"` and CSS's `@import` do, so a directory of profiles
// moves as a whole. The planner's resolver (planner/schema/extends.ts) stays free of I/O: it gets
// a lookup that reads these files by absolute path.
import { existsSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { UserError } from "./errors.js";
import { isPath, readJson } from "./load.js";

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
/** Keys whose string value names a profile. */
const NAMING = new Set(["extends", "sameAs"]);

/** `raw` with every `extends` / `sameAs` that names a file rewritten to its absolute path, from the
 *  directory of `file` (the file `raw` was read from). A file that does not exist is one line
 *  naming the field and where it was looked for. `builtin`: whether a name is a built-in profile
 *  (for the hint when "dgx-h100.json" was meant as the built-in dgx-h100). */
export function withFileBases(raw: unknown, file: string, builtin: (name: string) => boolean, at: readonly string[] = []): unknown {
  if (Array.isArray(raw)) return raw.map((v) => withFileBases(v, file, builtin, at));
  if (!isObj(raw)) return raw;
  const out: Json = {};
  for (const [k, v] of Object.entries(raw)) {
    if (NAMING.has(k) && typeof v === "string" && isPath(v)) {
      const abs = isAbsolute(v) ? v : resolve(dirname(file), v);
      if (!existsSync(abs)) {
        const stem = basename(v).replace(/\.json$/i, "");
        const hint = v === basename(v) && builtin(stem) ? `; for the built-in profile write "${stem}"` : "";
        throw new UserError(`${basename(file)}: field "${[...at, k].join(".")}": no file "${v}" (looked for ${abs})${hint}`);
      }
      out[k] = abs;
    } else out[k] = withFileBases(v, file, builtin, [...at, k]);
  }
  return out;
}

/** A lookup for resolveExtends: an absolute .json path is that file, read and its own file names
 *  made absolute in turn; anything else is `builtinRaw(name)`. `flag` names the option the first
 *  file came from, for a file that cannot be read. */
export function fileLookup(builtinRaw: (name: string) => unknown, flag: string): (name: string) => unknown {
  const builtin = (n: string) => builtinRaw(n) !== undefined;
  return (name) => {
    // (a built-in's name in any case, as --engine and --profile take it: README "Inputs")
    if (!(isAbsolute(name) && /\.json$/i.test(name))) return builtinRaw(name) ?? builtinRaw(name.toLowerCase());
    return withFileBases(readJson(name, flag), name, builtin);
  };
}

/** A user's profile file: its contents with file names made absolute, and the lookup to resolve
 *  its `extends` chain through built-ins and files alike. */
export function readProfileFile(arg: string, flag: string, builtinRaw: (name: string) => unknown): { raw: unknown; lookup: (name: string) => unknown } {
  const path = resolve(arg);
  // "--profile dgx-h100.json" where no such file is: the built-in of that name was meant.
  const stem = basename(path).replace(/\.json$/i, "");
  if (!existsSync(path) && builtinRaw(stem) !== undefined) throw new UserError(`${flag} "${arg}" cannot be read; check the path, or for the built-in give its name: ${flag} ${stem}`);
  const json = readJson(path, flag);
  // (one object of fields: an array or a bare value was told of a missing field: QA)
  if (!isObj(json)) throw new UserError(`${basename(path)}: ${flag === "--profile" || flag === "--base" ? "a hardware profile" : "an engine file"} is one JSON object of fields ({"name": …}), not ${Array.isArray(json) ? "an array" : `a ${json === null ? "null" : typeof json}`}`);
  const raw = withFileBases(json, path, (n) => builtinRaw(n) !== undefined);
  return { raw, lookup: fileLookup(builtinRaw, flag) };
}
