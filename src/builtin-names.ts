// The names of the .json files in a profiles/ folder (built-in models, hardware, engines).
import { existsSync, readdirSync } from "node:fs";

export function builtinNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
}
