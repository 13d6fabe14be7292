// paraplan's own trees: where export and execute must not write. A run directory or exported
// files inside profiles/ would sit among the built-ins the loaders scan (profiles/hardware/*.json
// is every hardware profile), and inside the sources, the build or the environments beside them;
// the package's other directories (runs/ of a checkout used as the working directory) stay open.
// profile and calibrate refuse paraplan's own files the same way (src/profile/files.ts isOwnFile).
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { packageRoot } from "./load.js";
import { UserError } from "./errors.js";

const OWN_TREES = new Set(["profiles", "src", "planner", "executor", "bench", "test", "dist", "node_modules", ".venv", ".git", ".ci"]);

/** The real path of `p`, or of its nearest existing ancestor with the rest appended. */
export function realOf(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : resolve(realOf(parent), relative(parent, abs));
  }
}

/** The package tree `path` lies in (profiles, src, …), or undefined outside them. */
export function ownTree(path: string): string | undefined {
  const rel = relative(realOf(packageRoot()), realOf(path));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  const top = rel.split(/[\\/]/)[0]!;
  return OWN_TREES.has(top) ? top : undefined;
}

/** The package root's own files (manifest, lock, readme, configs): output named there would
 *  replace paraplan's, where the root's other names (a trace.json in a checkout) stay open. */
const ROOT_FILES = new Set(["package.json", "package-lock.json", "README.md", "tsconfig.json", "vitest.config.ts", ".gitignore"]);

/** Exit 2 where writing the file `path` would put it among paraplan's own: inside one of its
 *  trees (refuseOwnTree) or over one of the package root's own files. */
export function refuseOwnFile(flag: string, path: string): void {
  refuseOwnTree(flag, path);
  if (ROOT_FILES.has(relative(realOf(packageRoot()), realOf(path))))
    throw new UserError(`${flag} ${resolve(path)} is one of paraplan's own files; write elsewhere`);
}

/** Exit 2 where `flag`'s directory lies in one of paraplan's own trees. */
export function refuseOwnTree(flag: string, path: string): void {
  const tree = ownTree(path);
  if (tree !== undefined) throw new UserError(`${flag} ${resolve(path)} is inside paraplan's own ${tree}/; write elsewhere`);
}
