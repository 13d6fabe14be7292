// The training fields of a run directory's plan.json (and launch.json's "training"), checked
// before calibration prices the run with them: a corrupt value (a seqLen of 1e12, a precision of
// 42, a fractional GPU count) would otherwise be fitted into a written profile. The schema is
// the one `--plan` reads the same files with (src/plan-file-fields.ts).
import { join } from "node:path";
import { type RecordedFields, recordedField, recordedFields } from "../../plan-file-fields.js";
import { UserError } from "../../errors.js";

export const corrupt = (dir: string, file: string, field: string, value: unknown, message: string) =>
  new UserError(`${join(dir, file)}: corrupt field "${field}": ${JSON.stringify(value)} ${message}; the run cannot be calibrated as recorded`);

/** The fields of `raw` (the object of `file` in the run directory `dir`; `prefix`: where they sit
 *  in it, "training." for launch.json's), or a UserError naming the file, the field and the run. */
export function runFields(raw: Record<string, unknown>, dir: string, file: string, prefix = ""): RecordedFields {
  const r = recordedFields(raw);
  if ("fields" in r) return r.fields;
  throw corrupt(dir, file, `${prefix}${r.issue.key}`, r.issue.value, r.issue.message);
}

/** A recorded engine (`field` of `file`: plan.json's "engine", summary.json's
 *  "execution.engine"): undefined where absent, else its name, or a UserError naming the field. */
export function engineName(dir: string, file: string, v: unknown, field = "engine"): string | undefined {
  if (v === undefined) return undefined;
  const r = recordedField("engine", v);
  if ("message" in r) throw corrupt(dir, file, field, v, r.message);
  return r.value;
}
