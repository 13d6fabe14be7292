// `paraplan calibrate runs/<id> …`: fit the profile's efficiency data to executed runs and write
// the calibrated profile (src/profile/calibrate/*).
import { existsSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import type { Io } from "../io.js";
import { hardwareDir, packageRoot } from "../load.js";
import { CALIBRATE_USAGE, parseCalibrateArgs } from "../profile/calibrate/args.js";
import { CalibrationError, fitScales } from "../profile/calibrate/fit.js";
import { calibratedProfile, errorTable, fitLines, meanAbs, relError } from "../profile/calibrate/output.js";
import { type RunCase, readRun } from "../profile/calibrate/runs.js";
import { readProfile, today, writeProfile } from "../profile/files.js";

function profileOf(cases: RunCase[], flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const names = [...new Set(cases.map((c) => c.profile))];
  const only = names[0];
  if (names.length === 1 && typeof only === "string") return only;
  if (names.includes(null)) throw new UserError("a run does not record its profile; pass --profile NAME|FILE");
  throw new UserError(`the runs were planned with different profiles (${names.join(", ")}); calibrate them separately or pass --profile`);
}

/** This machine's profiles: git-ignored (.gitignore), listed by name, never built-ins. */
const isLocalProfile = (path: string) => dirname(path) === hardwareDir() && /^local-.*\.json$/.test(basename(path));

/** Default: profiles/hardware/local-<profile>-calibrated.json, git-ignored like `paraplan profile`'s. */
export const defaultCalibratedPath = (label: string) => join(hardwareDir(), `local-${label.replace(/[^A-Za-z0-9._-]+/g, "_")}-calibrated.json`);

/** Refuse to overwrite a file of paraplan's own (a built-in profile, a preset, a source): only
 *  local-*.json profiles and paths outside the package may be overwritten. */
function checkOut(out: string, fallback: string): void {
  const rel = relative(packageRoot(), out);
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  if (inside && !isLocalProfile(out) && existsSync(out))
    throw new UserError(`--out ${out} is one of paraplan's own files; write the calibrated profile elsewhere (default: ${fallback})`);
}

export function calibrateCommand(argv: string[], io: Io): number {
  const args = parseCalibrateArgs(argv);
  if (args.help) {
    io.out(CALIBRATE_USAGE);
    return 0;
  }
  const cases = args.runs.map(readRun);
  const profileArg = profileOf(cases, args.profile);
  const base = readProfile(profileArg);
  const label = base.name ?? basename(profileArg, ".json");
  let fit;
  try {
    fit = fitScales(base.hw, cases, { mode: args.fit });
  } catch (e) {
    if (e instanceof CalibrationError) throw new UserError(e.message);
    throw e;
  }
  const fallback = defaultCalibratedPath(label);
  const out = resolve(args.out ?? fallback);
  checkOut(out, fallback);
  const input = { base, baseLabel: label, fit, cases, name: args.name ?? basename(out, ".json"), date: today() };
  const path = writeProfile(out, calibratedProfile(input));
  const errs = (p: number[]) => cases.map((c, i) => relError(p[i]!, c.measured));
  const assumed = [...new Set(cases.flatMap((c) => c.assumed))];
  if (args.json) {
    io.out(
      JSON.stringify({
        path,
        profile: label,
        mode: fit.mode,
        fitted: fit.fitted,
        scale: Object.fromEntries(Object.entries(fit.multipliers).map(([k, x]) => [k, 1 / x])),
        atBound: fit.atBound,
        notes: fit.notes,
        assumed,
        runs: cases.map((c, i) => ({
          dir: c.dir,
          measured: c.measured,
          before: fit.before[i],
          after: fit.after[i],
          errorBefore: relError(fit.before[i]!, c.measured),
          errorAfter: relError(fit.after[i]!, c.measured),
        })),
        meanAbsError: { before: meanAbs(errs(fit.before)), after: meanAbs(errs(fit.after)) },
      }),
    );
    return 0;
  }
  io.out(`calibrating ${label} on ${cases.length} run(s)`);
  for (const a of assumed) io.out(`assumed: ${a}`);
  for (const l of fitLines(input)) io.out(l);
  for (const l of errorTable(cases, fit.before, fit.after)) io.out(l);
  io.out(`wrote ${path} (extends ${base.name ?? "nothing: the base is a file, written whole"})`);
  if (isLocalProfile(path)) io.out("(this machine's profile: git ignores profiles/hardware/local-*.json)");
  io.out(`use it: paraplan plan --model <preset|file> --profile ${dirname(path) === hardwareDir() ? basename(path, ".json") : path}`);
  return 0;
}

export const runCalibrate = calibrateCommand;
