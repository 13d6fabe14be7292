// Profile files for `paraplan profile` and `paraplan calibrate`: the raw JSON of a built-in or a
// file, resolved through `extends` as src/load.ts does, validated against the schema, and written
// atomically; plus the figure formats the files use ("450 GB/s", "3 us", "989 TFLOP/s").
import { closeSync, existsSync, openSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { makeDirs } from "../../executor/fs-safe.js";
import { writeJsonAtomic } from "../../executor/run-dir.js";
import { type Hardware, parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { realOf } from "../own-paths.js";
import { HARDWARE_KIND, hardwareDir, hardwareNames, isPath, packageRoot, readJson } from "../load.js";
import { builtinSpelling, didYouMean } from "../suggest.js";
import { readProfileFile } from "../file-extends.js";

/** A profile in profiles/hardware by name (built-ins and local-* files), or undefined. */
export function namedRaw(name: string): unknown {
  const path = join(hardwareDir(), `${name}.json`);
  return existsSync(path) ? readJson(path, "profile") : undefined;
}

export interface RawProfile {
  /** The name to `extends` from, when the profile lives in profiles/hardware. */
  name: string | null;
  /** The file as written (before `extends`). */
  raw: unknown;
  /** Resolved through `extends`. */
  merged: Record<string, unknown>;
  hw: Hardware;
  /** How its `extends` names resolve: built-ins by name, files by absolute path (file-extends.ts). */
  lookup: (name: string) => unknown;
}

/** A profile by name ("local" is this host's measured one) or path, raw and resolved. */
export function readProfile(arg: string, flag = "--profile"): RawProfile {
  const name = isPath(arg) ? null : arg === "local" ? `local-${hostname()}` : builtinSpelling(arg, hardwareNames());
  const { raw, lookup } = name === null ? readProfileFile(arg, flag, namedRaw) : { raw: namedRaw(name), lookup: namedRaw };
  if (raw === undefined) throw new UserError(`${flag}: unknown profile "${arg}"${didYouMean(arg, hardwareNames())}; name one in profiles/hardware or a .json file`);
  const origin = name === null ? basename(arg) : `${name}.json`;
  return { name, raw, lookup, ...validate(raw, origin, lookup) };
}

/** Resolve `extends` and parse; a UserError names what is wrong. */
export function validate(raw: unknown, origin: string, lookup: (name: string) => unknown = namedRaw): { merged: Record<string, unknown>; hw: Hardware } {
  const merged = resolveExtends(raw, lookup, origin, HARDWARE_KIND);
  if (!merged.ok) throw new UserError(merged.message);
  const parsed = parseHardwareFile(merged.value, origin, raw);
  if (!parsed.ok) throw new UserError(parsed.message);
  return { merged: merged.value as Record<string, unknown>, hw: parsed.value };
}

/** This machine's profiles: git-ignored (.gitignore), listed by name, never built-ins. */
export const isLocalProfile = (path: string) => dirname(path) === hardwareDir() && /^local-.*\.json$/.test(basename(path));

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/** A file of paraplan's own (a built-in profile, a preset, a source): an existing file inside the
 *  package, through symbolic links, other than profiles/hardware/local-*.json. */
export function isOwnFile(path: string): boolean {
  const abs = resolve(path);
  if (!existsSync(abs)) return false;
  const target = real(abs);
  const rel = relative(real(packageRoot()), target);
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  const local = dirname(target) === real(hardwareDir()) && /^local-.*\.json$/.test(basename(target));
  return inside && !local;
}

/** Whether two paths name one file (through symbolic links; either may not exist yet). */
export const sameFile = (a: string, b: string) => realOf(a) === realOf(b);

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Check, before any work, that `path` can be written: not one of paraplan's own files (a built-in
 * overwritten would change every plan on it and every profile `sameAs` it), not a directory, its
 * directory made (executor/fs-safe.ts makeDirs) and writable (a probe file created and removed:
 * permission bits say nothing for root or read-only mounts). Returns the absolute path.
 */
export function checkWritable(path: string, flag: string, fallback?: string): string {
  const abs = resolve(path);
  if (isOwnFile(abs))
    throw new UserError(`${flag} ${abs} is one of paraplan's own files; write elsewhere${fallback === undefined ? "" : ` (default: ${fallback})`}`);
  const dir = makeDirs(dirname(abs));
  if (!dir.ok) throw new UserError(`${flag}: cannot write "${abs}": ${dir.reason} (${dir.errno})`);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new UserError(`${flag}: cannot write "${abs}": it is a directory (EISDIR)`);
  const probe = join(dirname(abs), `.paraplan-probe-${process.pid}-${Date.now()}`);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (e) {
    throw new UserError(`${flag}: cannot write "${abs}": cannot create a file in ${dirname(abs)} (${errno(e)})`);
  }
  try {
    unlinkSync(probe);
  } catch {
    // the probe stays behind; the write itself can go on
  }
  return abs;
}

/** Write a profile after checking it loads; returns the absolute path. Never over one of
 *  paraplan's own files (isOwnFile). */
export function writeProfile(path: string, profile: Record<string, unknown>): string {
  const abs = resolve(path);
  if (isOwnFile(abs)) throw new UserError(`--out ${abs} is one of paraplan's own files; write elsewhere`);
  validate(profile, basename(abs));
  const dir = makeDirs(dirname(abs));
  if (!dir.ok) throw new UserError(`--out: cannot write "${abs}": ${dir.reason} (${dir.errno})`);
  try {
    writeJsonAtomic(abs, profile);
  } catch (e) {
    throw new UserError(`--out: cannot write "${abs}" (${errno(e)})`);
  }
  return abs;
}

export const defaultLocalPath = () => join(hardwareDir(), `local-${hostname()}.json`);

const sig = (x: number, digits = 4) => Number(x.toPrecision(digits));

export const fmt = {
  bandwidth: (bps: number) => `${sig(bps / 1e9)} GB/s`,
  flops: (f: number) => (f >= 1e12 ? `${sig(f / 1e12)} TFLOP/s` : `${sig(f / 1e9)} GFLOP/s`),
  latency: (s: number) => `${sig(s * 1e6, 3)} us`,
  mib: (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`,
  pct: (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`,
};

export const today = (d = new Date()) => d.toISOString().slice(0, 10);

/** The names a profile answers to: its own (the built-in's name, the file's "name") and each
 *  profile it `extends`, nearest first. A run planned with any of them is a run of this profile's
 *  hardware (a local or calibrated profile extends the built-in it refines). */
export function lineage(p: RawProfile): string[] {
  const out: string[] = p.name === null ? [] : [p.name];
  let raw: unknown = p.raw;
  for (let depth = 0; depth < 32 && typeof raw === "object" && raw !== null; depth++) {
    const { name, extends: ext } = raw as { name?: unknown; extends?: unknown };
    if (typeof name === "string") out.push(name);
    if (typeof ext !== "string") break;
    out.push(ext);
    raw = p.lookup(ext);
  }
  return [...new Set(out)];
}
