// `npm run build:wasm`: compile the simulator's event engine (planner/sim/wasm/engine.ts,
// AssemblyScript) to WebAssembly and write its bytes into planner/sim/engine-wasm.ts, which is
// committed: the planner loads no file, and the sources run under vitest as they are.
// test/sim/wasm-engine.test.ts holds the committed bytes to what this compiles.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./load.js";
import { isMainModule } from "./main-module.js";
import { INITIAL_PAGES } from "../planner/sim/wasm-run.js";

/** The asc options: optimised, no runtime (the engine allocates nothing), no assertions, and a
 *  memory of INITIAL_PAGES from the start (wasm-run.ts says why). */
export const ASC_OPTIONS = ["-O3", "--runtime", "stub", "--noAssert", "--initialMemory", String(INITIAL_PAGES)] as const;

export const ENGINE_SOURCE = () => join(packageRoot(), "planner", "sim", "wasm", "engine.ts");
export const ENGINE_MODULE = () => join(packageRoot(), "planner", "sim", "engine-wasm.ts");

/** The engine compiled by asc: its bytes. */
export async function compileEngine(): Promise<Uint8Array> {
  const ascModule = "assemblyscript/asc"; // by name: its typings declare their own globals
  const { default: asc } = (await import(ascModule)) as unknown as { default: { main: (argv: string[], opts: object) => Promise<{ error: Error | null; stderr: { toString(): string } }> } };
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main([ENGINE_SOURCE(), "--outFile", "engine.wasm", ...ASC_OPTIONS], {
    writeFile: (name: string, contents: Uint8Array) => {
      if (name.endsWith(".wasm")) binary = contents;
    },
  });
  if (error || !binary) throw new Error(`asc: ${error?.message ?? "no output"}\n${stderr.toString()}`);
  return binary;
}

/** The TypeScript module that holds `bytes`. */
export function engineModuleText(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const lines = b64.match(/.{1,96}/g) ?? [];
  return (
    "// Written by `npm run build:wasm` (src/build-wasm.ts) from planner/sim/wasm/engine.ts: do not edit.\n" +
    "// The simulator's event engine compiled to WebAssembly (asc " + ASC_OPTIONS.join(" ") + "), base64.\n" +
    "export const ENGINE_WASM =\n" +
    lines.map((l, i) => `  "${l}"${i < lines.length - 1 ? " +" : ";"}`).join("\n") +
    "\n"
  );
}


if (isMainModule(import.meta.url)) {
  const text = engineModuleText(await compileEngine());
  let old = "";
  try {
    old = readFileSync(ENGINE_MODULE(), "utf8");
  } catch {}
  if (old !== text) writeFileSync(ENGINE_MODULE(), text);
  console.log(`${ENGINE_MODULE()}: ${old === text ? "unchanged" : "written"}`);
}
