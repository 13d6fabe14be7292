// Flags of `paraplan calibrate`.
import { UserError } from "../../errors.js";
import { oneOf, parseFlags } from "../../flags.js";
import { CONTROL } from "../../load.js";

export const CALIBRATE_USAGE = `usage: paraplan calibrate <run-dir>... [options]

Fits a hardware profile's efficiency data to runs of paraplan execute (runs/<id>/ with
plan.json, launch.json and summary.json or metrics.jsonl): one scale factor on the matmul
efficiency table, one on the attention efficiency and one on the memory-bound efficiency, by
least squares on the relative step-time errors, every efficiency kept in (0, 1]. Runs that
cannot tell the three apart get one common factor. Each run is priced with the engine profile
its prediction used (plan.json "engine": paraplan or paraplan-compile, or an engine file
extending one; another engine is refused), so the factors are the hardware's. Writes the
calibrated profile (extending the original) and prints each run's predicted-against-measured
error before and after the fit (in-sample: fitted on these runs) and, with 2 runs or more,
leave-one-run-out (each run predicted by a fit on the others).
The step time is the worker's: summary.json's stepTime, else the mean of metrics.jsonl over the
steps the worker times (not the warm-up, instrumented or traced step). Refused: a run that
failed or was interrupted (error.json, missing steps), one of fewer than 3 steps, one whose
plan.json, launch.json (what the worker ran) and summary.json disagree on a field two of them
state, a corrupt or implausible step time (outside 1 µs..1 day), a run of another device or of a
profile that --profile does not extend. A run directory given twice is fitted once.

  --profile NAME|FILE        the profile to calibrate (default: the one the runs were planned with)
  --out FILE                 default profiles/hardware/local-<profile>-calibrated.json (git
                             ignores local-*.json); never one of paraplan's own files nor in
                             a run directory given
  --name NAME                the calibrated profile's name (default: the file's name; no control
                             characters)
  --fit auto|separate|common auto: separate factors when the runs can tell them apart
  --json                     print the result as one JSON object

exit status: 0 written, 2 bad input (a run directory unreadable or refused, runs of different
profiles, a fit the runs cannot give)`;

export interface CalibrateArgs {
  runs: string[];
  profile: string | undefined;
  out: string | undefined;
  name: string | undefined;
  fit: "auto" | "separate" | "common";
  json: boolean;
  help: boolean;
}

const OPTIONS = {
  profile: { type: "string" },
  out: { type: "string" },
  name: { type: "string" },
  fit: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseCalibrateArgs(argv: string[]): CalibrateArgs {
  const { values, positionals } = parseFlags(argv, OPTIONS, "calibrate", true);
  const help = values.help === true;
  if (!help && positionals.length === 0) throw new UserError("calibrate needs at least one run directory (runs/<id>); see paraplan calibrate --help");
  const fit = oneOf("fit", values.fit as string | undefined, ["auto", "separate", "common"] as const) ?? "auto";
  for (const k of ["profile", "out", "name"]) if ((values[k] as string | undefined)?.trim() === "") throw new UserError(`--${k} needs a value`);
  // The written profile's "name", which its loader refuses with a control character (load.ts
  // parseProfile): refused here, before a profile that cannot be loaded is written.
  if (CONTROL.test((values.name as string | undefined) ?? "")) throw new UserError("--name has a control character (a line break, an escape); remove it");
  return {
    runs: positionals,
    profile: values.profile as string | undefined,
    out: values.out as string | undefined,
    name: values.name as string | undefined,
    fit,
    json: values.json === true,
    help,
  };
}
