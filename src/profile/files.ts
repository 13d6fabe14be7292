// Profile files for `paraplan profile` and `paraplan calibrate`: the raw JSON of a built-in or a
// file, resolved through `extends` as src/load.ts does, validated against the schema, and written
// atomically; plus the figure formats the files use ("450 GB/s", "3 us", "989 TFLOP/s").
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { makeDirs } from "../../executor/fs-safe.js";
import { writeJsonAtomic } from "../../executor/run-dir.js";
import { type Hardware, parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { hardwareDir, isPath, readJson } from "../load.js";

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
}

/** A profile by name ("local" is this host's measured one) or path, raw and resolved. */
export function readProfile(arg: string, flag = "--profile"): RawProfile {
  const name = isPath(arg) ? null : arg === "local" ? `local-${hostname()}` : arg;
  const raw = name === null ? readJson(resolve(arg), flag) : namedRaw(name);
  if (raw === undefined) throw new UserError(`${flag}: unknown profile "${arg}"; name one in profiles/hardware or a .json file`);
  const origin = name === null ? basename(arg) : `${name}.json`;
  return { name, raw, ...validate(raw, origin) };
}

/** Resolve `extends` and parse; a UserError names what is wrong. */
export function validate(raw: unknown, origin: string): { merged: Record<string, unknown>; hw: Hardware } {
  const merged = resolveExtends(raw, namedRaw, origin);
  if (!merged.ok) throw new UserError(merged.message);
  const parsed = parseHardwareFile(merged.value, origin);
  if (!parsed.ok) throw new UserError(parsed.message);
  return { merged: merged.value as Record<string, unknown>, hw: parsed.value };
}

/** Write a profile after checking it loads; returns the absolute path. */
export function writeProfile(path: string, profile: Record<string, unknown>): string {
  const abs = resolve(path);
  validate(profile, basename(abs));
  const dir = makeDirs(dirname(abs));
  if (!dir.ok) throw new UserError(`--out: cannot write "${abs}": ${dir.reason} (${dir.errno})`);
  try {
    writeJsonAtomic(abs, profile);
  } catch (e) {
    throw new UserError(`--out: cannot write "${abs}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
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
