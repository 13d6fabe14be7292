// Where the package is installed: the worker, .venv and profiles/ are found from here.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: the nearest folder above this file with a package.json (works from the
 *  sources and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("paraplan: package.json not found above " + dir);
    dir = up;
  }
  return dir;
}
