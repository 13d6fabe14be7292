// Which of paraplan's input files a JSON file is, by the keys each kind must have: a file given to
// the wrong flag is told which flag takes it (QA: an engine file given to --model said only
// `field "layers": missing`, a config.json given to --profile `field "name": missing`).
import { looksLikeHfConfig } from "../planner/index.js";

export type FileKind = "engine" | "hardware profile" | "model";

const FLAG: Record<FileKind, string> = { engine: "--engine", "hardware profile": "--profile", model: "--model" };
const SIGNS: Record<Exclude<FileKind, "model">, readonly string[]> = { "hardware profile": ["gpu", "node", "network"], engine: ["attention", "launch", "fused", "dataParallel"] };
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The kind `raw` looks like, where its keys say so: two of a profile kind's required keys, or a
 *  model's (paraplan's "layers" and "hidden", or a HuggingFace config.json). */
export function fileKind(raw: unknown): FileKind | undefined {
  if (!isObj(raw)) return undefined;
  for (const [kind, keys] of Object.entries(SIGNS) as [Exclude<FileKind, "model">, readonly string[]][])
    if (keys.filter((k) => Object.hasOwn(raw, k)).length >= 2) return kind;
  if ((Object.hasOwn(raw, "layers") && Object.hasOwn(raw, "hidden")) || looksLikeHfConfig(raw)) return "model";
  return undefined;
}

/** "x.json is an engine file (…); give it to --engine", where `raw` is of another kind than `want`. */
export function wrongFileKind(raw: unknown, want: FileKind, file: string, flag: string): string | undefined {
  const k = fileKind(raw);
  if (k === undefined || k === want) return undefined;
  return `${flag}: ${file} is ${k === "engine" ? "an engine file" : k === "model" ? "a model file" : "a hardware profile"}, not ${want === "engine" ? "an engine file" : want === "model" ? "a model file" : "a hardware profile"}; give it to ${FLAG[k]}`;
}
