// Directories the CLI creates (run directories, export --out, calibrate and profile output): one
// level at a time, each path component visited once, so creation ends on every path (Node's
// recursive mkdir loops forever on some, /proc/1/nope among them). Every failure is a value with
// a code and a one-line reason naming the path; ensureDir throws it as an ExecutorError.
import { lstatSync, mkdirSync, statSync } from "node:fs";
import { join, parse, relative, resolve, sep } from "node:path";
import { CannotCreate } from "./errors.js";

export type DirResult = { ok: true; path: string } | { ok: false; code: "bad-input"; errno: string; path: string; reason: string };

const errnoOf = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? "EIO";

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  ENOENT: "the file system does not allow creating it",
};

/** `reason` names the component when it is not the target itself. */
function failure(path: string, target: string, errno: string, reason?: string): DirResult {
  const why = reason ?? `${REASONS[errno] ?? "cannot create it"}${path === target ? "" : ` at ${path}`}`;
  return { ok: false, code: "bad-input", errno, path, reason: why };
}

/** What `path` is now: a directory, something else, a dangling symbolic link, or nothing. */
function kind(path: string): "dir" | "other" | "dangling" | "none" | { errno: string } {
  try {
    return statSync(path).isDirectory() ? "dir" : "other";
  } catch (e) {
    const errno = errnoOf(e);
    if (errno !== "ENOENT") return { errno };
  }
  try {
    return lstatSync(path).isSymbolicLink() ? "dangling" : "none";
  } catch {
    return "none";
  }
}

/**
 * Create `target` and any missing parents, one component at a time (a loop bounded by the
 * number of components; no retries). Already a directory: fine. On failure, the first component
 * that could not be made a directory, its errno and why.
 */
export function makeDirs(target: string): DirResult {
  const abs = resolve(target);
  const { root } = parse(abs);
  const parts = relative(root, abs).split(sep).filter((p) => p !== "");
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const k = kind(cur);
    if (k === "dir") continue;
    if (k === "other") return failure(cur, abs, "ENOTDIR", `${cur} exists and is not a directory`);
    if (k === "dangling") return failure(cur, abs, "ENOENT", `${cur} is a symbolic link to a missing target`);
    if (k !== "none") return failure(cur, abs, k.errno);
    try {
      mkdirSync(cur);
    } catch (e) {
      const errno = errnoOf(e);
      // Made by another process meanwhile: as good as made here.
      if (errno === "EEXIST" && kind(cur) === "dir") continue;
      return failure(cur, abs, errno);
    }
  }
  return { ok: true, path: abs };
}

/** One line: `--out: cannot create the directory "/etc/passwd/sub": /etc/passwd exists and is not a directory (ENOTDIR)`. */
export function dirMessage(what: string, target: string, r: Extract<DirResult, { ok: false }>): string {
  return `${what}: cannot create the directory "${target}": ${r.reason} (${r.errno})`;
}

/** makeDirs, or a CannotCreate (code "bad-input", exit 2) naming `what` (a flag) and the path. */
export function ensureDir(target: string, what: string): string {
  const r = makeDirs(target);
  if (!r.ok) throw new CannotCreate(dirMessage(what, target, r));
  return r.path;
}
