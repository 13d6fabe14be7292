// Export a plan as JSON: plan-<model>-<tp>x<pp>x<dp>.json in the working directory, holding the
// same object as an entry of `paraplan plan --json`'s plans[] (so `paraplan execute --plan` reads it).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PlanResult } from "../../../planner/index.js";
import { planJson } from "../../format/plan-json.js";

/** A file-name-safe form of a model name. */
export const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "model";

export function exportFileName(model: string, p: PlanResult): string {
  return `plan-${safeName(model)}-${p.tp}x${p.pp}x${p.dp}.json`;
}

export const exportText = (p: PlanResult) => `${JSON.stringify(planJson(p), null, 2)}\n`;

export interface ExportResult {
  path: string;
  message: string;
  ok: boolean;
}

/** Write the file; the result says where, or why it could not be written. */
export function exportPlan(model: string, p: PlanResult, cwd: string, write: (path: string, text: string) => void = writeFileSync): ExportResult {
  const name = exportFileName(model, p);
  const path = join(cwd, name);
  try {
    write(path, exportText(p));
    return { path, ok: true, message: `wrote ${name} in ${cwd}` };
  } catch (e) {
    return { path, ok: false, message: `cannot write ${path}: ${(e as Error).message}` };
  }
}
