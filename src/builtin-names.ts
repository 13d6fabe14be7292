// The names of the .json files in a profiles/ folder (built-in models, hardware, engines), and a
// flag's built-in name as its file spells it.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../executor/root.js";
import { builtinSpelling } from "./suggest.js";

export function builtinNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
}

// (".JSON" too: "--engine MINE.JSON" was looked up as a built-in and told "or a .json file")
export const isPath = (arg: string) => /\.json$/i.test(arg) || arg.includes("/") || arg.includes("\\");

/** `--model`, `--profile` or `--engine`'s value as the built-in of profiles/<folder> spells it
 *  (`FSDP` is fsdp, as `--precision BF16` is bf16: every built-in's name is lower case); a file,
 *  a lower-case word or a name no built-in matches as given, for the loader to read or refuse. */
export function spelledBuiltin(value: string | undefined, folder: "models" | "hardware" | "engines"): string | undefined {
  if (value === undefined || isPath(value) || value === value.toLowerCase()) return value;
  return builtinSpelling(value, builtinNames(join(packageRoot(), "profiles", folder)));
}
