// Whether a module is the program node was started with (`node dist/src/cli.js`, a symlinked
// bin included), so that importing it for its functions (tests, the bundle) runs nothing.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** True where `moduleUrl` (the caller's import.meta.url) is node's entry script, links resolved. */
export function isMainModule(moduleUrl: string): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}
