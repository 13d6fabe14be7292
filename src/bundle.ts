// The CLI as one file: `npm run build` runs this after tsc and writes dist/src/paraplan.js (the
// `paraplan` bin) and dist/src/sim-worker.js (its simulation thread), with the commands each in a
// chunk of its own loaded when it runs (bundle-*.js beside them). Node then reads and links a
// handful of files instead of ~100 modules on every start: about a third of `paraplan plan`'s
// start-up before the search (issue 11). The bundle sits in dist/src, where the compiled cli.js
// is, so that every path a module takes from import.meta.url (builtins.json, the parsers the
// built-in table is keyed to, sim-worker.js) names the same file from either; packages and node
// built-ins stay imports. dist/src/cli.js stays the unbundled entry (tests run the sources).
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";
import { isMainModule } from "./main-module.js";

/** Bundle the compiled CLI in `dir` (dist/src). */
export async function bundleCli(dir = dirname(fileURLToPath(import.meta.url))): Promise<void> {
  // Chunks carry content hashes: the last build's go first.
  for (const f of readdirSync(dir)) if (f.startsWith("bundle-") && f.endsWith(".js")) rmSync(join(dir, f));
  const bundle = await rolldown({
    input: { paraplan: join(dir, "cli.js"), "sim-worker": join(dir, "app", "sim-worker.js") },
    platform: "node",
    // Packages (ink, React, zod, mathjs, csv-parse) and node built-ins: imported, not inlined.
    external: (id) => !id.startsWith(".") && !id.startsWith("/"),
    logLevel: "warn",
  });
  await bundle.write({
    dir,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "bundle-[name]-[hash].js",
    comments: false,
    // Two chunks named, the rest split as rolldown does: what the entry itself imports ("boot",
    // all that `paraplan --help` loads), and `plan` with everything it imports statically ("plan":
    // one file to read, compile and link instead of about fifteen, ~25–50 ms of `plan --model
    // gpt3-like`; the other commands import from it what they share with it).
    codeSplitting: {
      groups: [
        { name: "boot", priority: 2, test: (id: string) => /[\\/]dist[\\/]src[\\/](errors|io|app[\\/]one-shot|app[\\/]sim-early)\.js$/.test(id) },
        { name: "plan", priority: 1, test: (id: string) => /[\\/]dist[\\/]src[\\/]commands[\\/]plan\.js$/.test(id) },
      ],
    },
  });
  await bundle.close();
}


if (isMainModule(import.meta.url)) await bundleCli();
