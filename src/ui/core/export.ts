// Export a plan as JSON: plan-<model>-<tp>x<pp>x<dp>.json in the working directory, holding the
// same object as an entry of `paraplan plan --json`'s plans[] (so `paraplan execute --plan` reads it).
// Every message names the absolute directory written in.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeDirs } from "../../../executor/fs-safe.js";
import { type PlanResult, type Training, issueText } from "../../../planner/index.js";
import { EXPORT_FORMATS, type ExportFormat, ExportRefused } from "../../engines/engine-plan.js";
import { exportPlan as engineExport, formatEngineName } from "../../engines/export-plan.js";
import { planJson } from "../../../executor/plan-json.js";
import { type PlanRequest, trainingOn } from "../../plan-request.js";

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
  const at = resolve(cwd);
  const path = join(at, name);
  try {
    write(path, exportText(p));
    return { path, ok: true, message: `wrote ${name} in ${at}` };
  } catch (e) {
    return { path, ok: false, message: `cannot write ${path}: ${(e as Error).message}` };
  }
}

/** Directories one level at a time (executor/fs-safe.ts): a failure is one line with its errno. */
function makeDir(dir: string): void {
  const r = makeDirs(dir);
  if (!r.ok) throw new Error(`${r.reason} (${r.errno})`);
}

/** The session's training on the engine a format runs on (`paraplan export` predicts and writes
 *  with it: a Megatron file reduces gradients as Megatron-Core does, whatever the Software field
 *  searched with), or why that engine cannot train the model. */
function onFormatEngine(format: ExportFormat, req: PlanRequest): Training | string {
  const name = formatEngineName(format);
  if (name === undefined) return req.training;
  const training = trainingOn(req, name);
  return "code" in training ? issueText(training) : training;
}

/** The engines' own configurations for the plan (`paraplan export`'s exporters), written to
 *  paraplan-export-<model>-<tp>x<pp>x<dp>/<format>/; formats that cannot run the plan are named
 *  with their reason instead. */
export function exportEngineConfigs(
  req: PlanRequest,
  p: PlanResult,
  cwd: string,
  write: (path: string, text: string) => void = writeFileSync,
  mkdir: (path: string) => void = makeDir,
): ExportResult {
  const dirName = `paraplan-export-${safeName(req.model.name)}-${p.tp}x${p.pp}x${p.dp}`;
  const at = resolve(cwd);
  const dir = join(at, dirName);
  const wrote: string[] = [];
  const refused: string[] = [];
  try {
    for (const format of EXPORT_FORMATS) {
      try {
        const training = onFormatEngine(format, req);
        if (typeof training === "string") {
          refused.push(`${format} (${training})`);
          continue;
        }
        const r = engineExport(format, req.model, p, training, req.hw);
        mkdir(join(dir, format));
        for (const f of r.files) write(join(dir, format, f.name), f.content);
        wrote.push(format);
      } catch (e) {
        if (!(e instanceof ExportRefused)) throw e;
        refused.push(`${format} (${e.message.replace(/^[^:]*:\s*/, "")})`);
      }
    }
  } catch (e) {
    return { path: dir, ok: false, message: `cannot write ${dir}: ${(e as Error).message}` };
  }
  const tail = refused.length ? `; not runnable as is: ${refused.join(", ")}` : "";
  return { path: dir, ok: wrote.length > 0, message: `wrote ${wrote.join(", ")} configs in ${dirName}/ under ${at}${tail}` };
}
