// zod, loaded when the first file is validated rather than with the planner: importing it (its
// ESM tree of ~150 modules) took longer than a whole plan's search. The CLI reads its built-in
// models and profiles as the build validated them (src/builtins.ts) and loads zod only for other
// files. Same package and version, through its CommonJS build (require() is synchronous).
import { createRequire } from "node:module";
import type { z as Z } from "zod";

/** The schemas of one file format, built on first use by `make` with zod's `z` and kept: they
 *  never change once built. */
export function lazySchemas<T>(make: (z: typeof Z) => T): () => T {
  let built: T | undefined;
  return () => (built ??= make((createRequire(import.meta.url)("zod") as { z: typeof Z }).z));
}
