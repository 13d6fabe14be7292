// The run directory and its artifacts: plan.json, launch.json, metrics.jsonl, summary.json.
// Every JSON file is written atomically (temp file, fsync, rename); metrics.jsonl is appended a
// line at a time with fsync, so a run killed at any point keeps every line it had received.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, parse } from "node:path";
import { CannotCreate } from "./errors.js";
import { ensureDir } from "./fs-safe.js";

/** `20261127-180000` (local time): sorts by start time, readable, safe in paths. */
export function timestamp(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A model name as a path component: anything but letters, digits, dot, dash, underscore → "_". */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_") || "model";
}

/** How many `-2`, `-3`, … names to try for runs started in the same second. */
const MAX_SAME_SECOND = 1000;

/**
 * Create a fresh run directory: `<root>/<timestamp>-<model>[<suffix>]`, or `-2`, `-3`, … when a
 * run started in the same second already holds the name (mkdir is exclusive, so two paraplan
 * processes started together never share a directory). `exact` uses the given path as is, new or
 * an existing directory that holds no run yet (another run's metrics.jsonl would be appended to,
 * its error.json or summary.json left beside the new run's) and is not the file system's root. A directory that cannot be created,
 * or already holds a run, is a CannotCreate (bad input) naming `--run-dir` and the path.
 */
export function createRunDir(opts: { root?: string; exact?: string; model: string; suffix?: string; now?: Date }): string {
  if (opts.exact !== undefined) {
    const dir = ensureDir(opts.exact, "--run-dir");
    const held = Object.values(ARTIFACTS).filter((name) => existsSync(join(dir, name)));
    // Several nodes (suffix -node<rank>): another node's run in a shared directory is one too.
    const nodes = opts.suffix ? "; each node of a run needs a directory of its own" : "";
    if (held.length > 0) throw new CannotCreate(`--run-dir: "${opts.exact}" already holds a run (${held.join(", ")}); pass a new directory or remove that one${nodes}`);
    // Not the file system's root: the run's files would land among the system's directories.
    // (Another existing directory without a run is used as it is: its own files are never
    // overwritten, since any of the run's names already there is refused above.)
    if (parse(dir).root === dir) throw new CannotCreate(`--run-dir: "${opts.exact}" is the file system's root; pass a directory of its own for the run`);
    return dir;
  }
  const root = ensureDir(opts.root ?? "runs", "--run-dir (default runs/)");
  const base = `${timestamp(opts.now)}-${safeName(opts.model)}${opts.suffix ?? ""}`;
  for (let i = 1; i <= MAX_SAME_SECOND; i++) {
    const dir = join(root, i === 1 ? base : `${base}-${i}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") throw new CannotCreate(`cannot create the run directory "${dir}" (${code ?? (e as Error).message}); pass --run-dir DIR`);
    }
  }
  throw new CannotCreate(`${MAX_SAME_SECOND} runs named ${base} already exist in ${root}; pass --run-dir DIR`);
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Write `text` to `path` atomically: a reader sees the old file or the whole new one. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeAll(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** An append-only JSON-lines file: each line is written whole and fsynced before the next; a
 *  line that cannot be written whole (a full disk) is cut off again, and the error thrown. */
export class JsonLines {
  private fd: number | null;
  private size: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
    this.size = fstatSync(this.fd).size;
  }
  append(value: unknown): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    const line = JSON.stringify(value) + "\n";
    try {
      writeAll(this.fd, line);
      fsyncSync(this.fd);
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the partial line stays; the error below says why
      }
      throw e;
    }
    this.size += Buffer.byteLength(line, "utf8");
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The artifacts' names, in one place. */
export const ARTIFACTS = {
  plan: "plan.json",
  launch: "launch.json",
  metrics: "metrics.jsonl",
  summary: "summary.json",
  command: "command.txt",
  log: "worker.log",
  trace: "trace.json",
  error: "error.json",
} as const;
