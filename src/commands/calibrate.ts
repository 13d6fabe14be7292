// `paraplan calibrate runs/<id> …`: fit the profile's efficiency data to executed runs and write
// the calibrated profile (src/profile/calibrate/*).
import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { deviceOfProfile } from "../../executor/devices.js";
import { UserError } from "../errors.js";
import type { Io } from "../io.js";
import { realOf } from "../own-paths.js";
import { hardwareDir, isPath, readJson } from "../load.js";
import { CALIBRATE_USAGE, parseCalibrateArgs } from "../profile/calibrate/args.js";
import { CalibrationError, fitScales } from "../profile/calibrate/fit.js";
import { leaveOneRunOut } from "../profile/calibrate/holdout.js";
import { calibratedProfile, errorTable, fitLines, holdoutLines, meanAbs, relError } from "../profile/calibrate/output.js";
import { type RunCase, readRun } from "../profile/calibrate/runs.js";
import { type RawProfile, checkWritable, isLocalProfile, lineage, readProfile, today, writeProfile } from "../profile/files.js";

function profileOf(cases: RunCase[], flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const names = [...new Set(cases.map((c) => c.profile))];
  const only = names[0];
  if (names.length === 1 && typeof only === "string") return only;
  if (names.includes(null)) throw new UserError("a run does not record its profile; pass --profile NAME|FILE");
  throw new UserError(`the runs were planned with different profiles (${names.join(", ")}); calibrate them separately or pass --profile`);
}

/** Default: profiles/hardware/local-<profile>-calibrated.json, git-ignored like `paraplan profile`'s. */
export const defaultCalibratedPath = (label: string) => join(hardwareDir(), `local-${label.replace(/[^A-Za-z0-9._-]+/g, "_")}-calibrated.json`);

const real = (p: string) => {
  try {
    return realpathSync(resolve(p));
  } catch {
    return resolve(p);
  }
};

/** The run directories once each (by real path: a run given twice would weigh twice in the
 *  least squares), with a note for each given more than once. */
function distinctRuns(dirs: string[]): { dirs: string[]; notes: string[] } {
  const seen = new Map<string, { arg: string; times: number }>();
  for (const d of dirs) {
    const key = real(d); // a missing directory: readRun names it
    const s = seen.get(key);
    if (s) s.times++;
    else seen.set(key, { arg: d, times: 1 });
  }
  const notes = [...seen].filter(([, s]) => s.times > 1).map(([key, s]) => `run ${key} given ${s.times} times: fitted once`);
  return { dirs: [...seen.values()].map((s) => s.arg), notes };
}

/** Exit 2 where --out lies in one of the run directories: it would overwrite the run's own files
 *  (--out RUN/summary.json replaced the measured summary with the profile) or sit among them. */
function refuseOutInRun(out: string, dirs: string[]): void {
  const inRun = dirs.find((d) => dirname(realOf(out)) === real(d));
  if (inRun !== undefined)
    throw new UserError(`--out ${resolve(out)} is inside the run directory ${inRun}, whose files calibrate reads and keeps; write elsewhere`);
}

const onWhat = (device: string) => (device === "cpu" ? "CPU ranks" : "CUDA GPUs");

/** Every run must have run on the profile's kind of device (executor/devices.ts deviceOfProfile),
 *  planned with the profile or one it extends: a CPU run's step time says nothing of an H100's
 *  efficiencies, and a fit into another profile would silently rewrite that hardware. */
function checkHardware(cases: RunCase[], base: RawProfile, label: string, profileArg: string): void {
  const device = deviceOfProfile(base.hw.gpuName);
  const names = lineage(base);
  // execute records a profile given as a file by its path: the same file, or a file of that name.
  const samePath = (p: string) => isPath(p) && isPath(profileArg) && real(p) === real(profileArg);
  const fileName = (p: string) => {
    try {
      const raw = readJson(resolve(p), "profile") as { name?: unknown };
      return typeof raw?.name === "string" ? raw.name : null;
    } catch {
      return null;
    }
  };
  const ours = (p: string) => names.includes(p) || samePath(p) || (isPath(p) && names.includes(fileName(p) ?? ""));
  for (const c of cases) {
    if (c.device !== null && c.device !== device)
      throw new UserError(`${c.dir} ran on ${onWhat(c.device)}, but profile ${label} is ${base.hw.gpuName} (${onWhat(device)}); calibrate a profile of the device the run ran on`);
    if (c.profile !== null && !ours(c.profile))
      throw new UserError(`${c.dir} was planned with profile ${c.profile}, not ${label} nor a profile ${label} extends; calibrate it into ${c.profile} (or a profile extending it)`);
  }
}

export function calibrateCommand(argv: string[], io: Io): number {
  const args = parseCalibrateArgs(argv);
  if (args.help) {
    io.out(CALIBRATE_USAGE);
    return 0;
  }
  const runs = distinctRuns(args.runs);
  const cases = runs.dirs.map(readRun);
  const profileArg = profileOf(cases, args.profile);
  const base = readProfile(profileArg);
  const label = base.name ?? basename(profileArg, ".json");
  checkHardware(cases, base, label, profileArg);
  const fallback = defaultCalibratedPath(label);
  if (args.out !== undefined) refuseOutInRun(args.out, runs.dirs);
  const out = checkWritable(args.out ?? fallback, "--out", fallback);
  let fit;
  let held;
  try {
    fit = fitScales(base.hw, cases, { mode: args.fit });
    held = leaveOneRunOut(base.hw, cases, fit);
  } catch (e) {
    if (e instanceof CalibrationError) throw new UserError(e.message);
    throw e;
  }
  fit.notes.unshift(...runs.notes);
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
          heldOut: held?.runs[i]?.predicted ?? null,
          errorHeldOut: held?.runs[i]?.error ?? null,
        })),
        // after: in-sample (fitted on these runs); leaveOneRunOut: each run predicted by a fit
        // without it (null with one run)
        meanAbsError: { before: meanAbs(errs(fit.before)), after: meanAbs(errs(fit.after)), afterIs: "in-sample", leaveOneRunOut: held?.meanAbsError ?? null },
        leaveOneRunOut: held,
      }),
    );
    return 0;
  }
  io.out(`calibrating ${label} on ${cases.length} run(s)`);
  for (const a of assumed) io.out(`assumed: ${a}`);
  for (const l of fitLines(input)) io.out(l);
  for (const l of errorTable(cases, fit.before, fit.after)) io.out(l);
  for (const l of holdoutLines(held, cases.length)) io.out(l);
  io.out(`wrote ${path} (extends ${base.name ?? "nothing: the base is a file, written whole"})`);
  if (isLocalProfile(path)) io.out("(this machine's profile: git ignores profiles/hardware/local-*.json)");
  io.out(`use it: paraplan plan --model <preset|file> --profile ${dirname(path) === hardwareDir() ? basename(path, ".json") : path}`);
  return 0;
}

export const runCalibrate = calibrateCommand;
