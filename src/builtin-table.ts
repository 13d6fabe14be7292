// The built-in presets and profiles as `npm run build` parsed them (builtins.ts writes the table):
// where the table lives, how a file is keyed in it, and reading it back. A table is used only by
// the code that wrote it: it records a fingerprint of the compiled modules that parse files, and
// a later compile (a bare tsc, a merge) that changes any of them leaves the table unused until
// the next build writes a new one.
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

/** A parsed file's key: its name and a digest of its contents (a file edited since the build has
 *  another). A digest rather than the contents themselves: those made half the table's bytes, and
 *  `plan` parses the whole table at its start. */
export const builtinKey = (origin: string, raw: unknown) => `${origin}\n${digest([Buffer.from(JSON.stringify(raw) ?? "undefined", "utf8")])}`;

/** The modules whose code decides what a model or profile file parses to, beside this one. */
const PARSER_MODULES = ["./load.js", "../planner/schema/model.js", "../planner/schema/hardware.js", "../planner/run/limits.js", "../planner/schema/figure.js", "./load-engine.js", "../planner/schema/engine.js", "../planner/schema/engine-cp.js", "../planner/schema/engine-moe.js", "../planner/eager.js", "../planner/engine.js", "../planner/schema/result.js", "../planner/schema/zod.js", "../planner/units.js", "../planner/power.js"];

/** A digest of the compiled parsing modules, or undefined where they are not compiled (sources).
 *  A 53-bit hash over their bytes (cyrb53, two 32-bit multiply–xorshift lanes), not node:crypto:
 *  what it guards against is a rebuild that changed a parser, not an adversary, and loading
 *  node:crypto cost `plan` ~7 ms of its start-up (issue 11). */
export function parserFingerprint(): string | undefined {
  return fingerprintOf(PARSER_MODULES.map((m) => new URL(m, import.meta.url)));
}

/** The digest of `files`' bytes, in order; undefined if one cannot be read. */
export function fingerprintOf(files: ReadonlyArray<string | URL>): string | undefined {
  try {
    return digest(files.map((f) => readFileSync(f)));
  } catch {
    return undefined;
  }
}

/** A 53-bit digest of byte strings in order: cyrb53's two 32-bit multiply–xorshift lanes, fed
 *  four bytes at a time (a 32-bit word in the machine's byte order, as the table is written and
 *  read on one machine), then the last one to three bytes alone. A word at a time: `plan` hashes
 *  the ~80 KB of parser modules at every start, byte by byte that loop ran ~3 ms, mostly before
 *  V8 compiled it (issue 11, start-up). */
function digest(chunks: readonly Uint8Array[]): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let c = 0; c < chunks.length; c++) {
    const bytes = chunks[c]!;
    // Each chunk's length first: the same bytes split differently between chunks differ.
    h1 = Math.imul(h1 ^ bytes.length, 2654435761);
    h2 = Math.imul(h2 ^ bytes.length, 1597334677);
    const n = bytes.length >>> 2;
    const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Int32Array(bytes.slice(0, 4 * n).buffer);
    for (let i = 0; i < n; i++) {
      const w = words[i]!;
      h1 = Math.imul(h1 ^ w, 2654435761);
      h2 = Math.imul(h2 ^ w, 1597334677);
    }
    for (let i = 4 * n; i < bytes.length; i++) {
      const b = bytes[i]!;
      h1 = Math.imul(h1 ^ b, 2654435761);
      h2 = Math.imul(h2 ^ b, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
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
