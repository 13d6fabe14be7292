// Export a plan as JSON: plan-<model>-<plan>.json in the working directory (<plan> names every
// dimension, planSlug), holding the same object as an entry of `paraplan plan --json`'s plans[]
// (so `paraplan execute --plan` reads it). Nothing is overwritten: a name already taken gets a
// numeric suffix, and every message names the file or folder and the absolute directory written in.
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeDirs } from "../../../executor/fs-safe.js";
import { DEFAULT_CP_COMM, type Plan, type PlanResult, type Schedule, type Training, evaluatePlan, issueText } from "../../../planner/index.js";
import { gib, percent } from "../../format/units.js";
import { EXPORT_FORMATS, type ExportFormat, ExportRefused, describe } from "../../engines/engine-plan.js";
import { exportPlan as engineExport, formatEngineName } from "../../engines/export-plan.js";
import { LAUNCH_SPEC } from "../../engines/torchrun.js";
import { deviceOfProfile } from "../../../executor/devices.js";
import { planJson } from "../../../executor/plan-json.js";
import { type PlanRequest, trainingOn } from "../../plan-request.js";

/** A file-name-safe form of a model name. */
export const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "model";

const SCHEDULE_TOKEN: Record<Schedule, string> = { "1f1b": "1f1b", interleaved: "i1f1b", gpipe: "gpipe", zb1p: "zb1p", zbv: "zbv", dualpipev: "dualpipev" };

/**
 * Every dimension of a plan, compactly, so that two different plans never share a name:
 * tp4-pp8-vpp6-dp32-z1-mb1-sp-i1f1b. cp (with its exchange and "contig" for a contiguous cut),
 * ep, etp, vpp, recompute ("rcsel", "rcfull", "rcblk4" for full recompute of 4 layers a stage), sequence parallel, uneven stage layers ("L9.10.10.9")
 * and a rank order other than tp-cp-dp-pp appear only when they are not the default; the schedule
 * with a pipeline, or when it is not 1F1B.
 */
export function planSlug(p: Plan): string {
  const parts = [`tp${p.tp}`];
  if (p.cp > 1) parts.push(`cp${p.cp}${p.cpComm ?? DEFAULT_CP_COMM}${p.cpSplit === "contiguous" ? "-contig" : ""}`);
  if (p.ep > 1) parts.push(`ep${p.ep}`);
  if (p.etp > 1) parts.push(`etp${p.etp}`);
  parts.push(`pp${p.pp}`);
  if (p.vpp > 1) parts.push(`vpp${p.vpp}`);
  parts.push(`dp${p.dp}`, `z${p.zero}`, `mb${p.microBatch}`);
  if (p.recompute !== "none") parts.push(p.recompute === "selective" ? "rcsel" : p.recomputeLayers !== undefined ? `rcblk${p.recomputeLayers}` : "rcfull");
  if (p.sequenceParallel) parts.push("sp");
  if (p.pp > 1 || p.schedule !== "1f1b") parts.push(SCHEDULE_TOKEN[p.schedule]);
  if (p.stageLayers) parts.push(`L${p.stageLayers.join(".")}`);
  if (p.order && p.order !== "tp-cp-dp-pp") parts.push(`order.${p.order.replace(/-/g, ".")}`);
  return parts.join("-");
}

export function exportFileName(model: string, p: PlanResult): string {
  return `plan-${safeName(model)}-${planSlug(p)}.json`;
}

export const exportDirName = (model: string, p: PlanResult) => `paraplan-export-${safeName(model)}-${planSlug(p)}`;

export const exportText = (p: PlanResult) => `${JSON.stringify(planJson(p), null, 2)}\n`;

export interface ExportResult {
  path: string;
  message: string;
  ok: boolean;
}

/** Copies of one name, at most (past it the export says so rather than overwrite). */
const MAX_COPIES = 999;

/** name, then name-2, name-3 … (before the extension). */
export function numbered(name: string, n: number): string {
  if (n <= 1) return name;
  const dot = name.endsWith(".json") ? name.length - 5 : name.length;
  return `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
}

/** What a message adds when the plain name was taken. */
const kept = (name: string, n: number) =>
  n <= 1 ? "" : ` (${n === 2 ? name : `${name} to ${numbered(name, n - 1)}`} already there: kept)`;

/** Write a new file, never over an existing one (the flag "wx" fails with EEXIST). */
const writeNew = (path: string, text: string) => writeFileSync(path, text, { flag: "wx" });

const isExists = (e: unknown) => (e as NodeJS.ErrnoException)?.code === "EEXIST";

/** Write the file under a name not yet taken; the result says which and where, or why it could
 *  not be written. */
export function exportPlan(
  model: string,
  p: PlanResult,
  cwd: string,
  write: (path: string, text: string) => void = writeNew,
  exists: (path: string) => boolean = existsSync,
): ExportResult {
  const name = exportFileName(model, p);
  const at = resolve(cwd);
  const text = exportText(p);
  for (let n = 1; n <= MAX_COPIES; n++) {
    const path = join(at, numbered(name, n));
    if (exists(path)) continue;
    try {
      write(path, text);
      return { path, ok: true, message: `wrote ${numbered(name, n)} in ${at}${kept(name, n)}` };
    } catch (e) {
      if (isExists(e)) continue;
      return { path, ok: false, message: `cannot write ${path}: ${(e as Error).message}` };
    }
  }
  return { path: join(at, name), ok: false, message: `not written: ${name} and ${MAX_COPIES - 1} numbered copies already exist in ${at}` };
}

/** Directories one level at a time (executor/fs-safe.ts): a failure is one line with its errno. */
function makeDir(dir: string): void {
  const r = makeDirs(dir);
  if (!r.ok) throw new Error(`${r.reason} (${r.errno})`);
}

/** The session's training on the engine a format runs on (`paraplan export` predicts and writes
 *  with it: a Megatron file reduces gradients as Megatron-Core does, whatever the Software field
 *  searched with), or why that engine cannot train the model. Fused attention the plan was found
 *  with is kept where that engine defaults to materialised scores, as `export --plan` keeps a plan
 *  file's (src/plan-file-settings.ts: the layout was planned, and fits, with it). */
function onFormatEngine(format: ExportFormat, req: PlanRequest): Training | string {
  const name = formatEngineName(format, undefined, deviceOfProfile(req.hw.gpuName));
  if (name === undefined) return req.training;
  const training = trainingOn(req, name);
  if ("code" in training) return issueText(training);
  return req.training.fusedAttention && !training.fusedAttention ? { ...training, fusedAttention: true } : training;
}

/** Why the format's configuration would run out of memory (the plan priced as its engine runs it,
 *  as `paraplan export` prices it before writing), or null where it fits. */
function outOfMemory(req: PlanRequest, r: ReturnType<typeof engineExport>): string | null {
  const { memory: m } = evaluatePlan(req.model, req.hw, r.training, r.plan);
  if (m.total <= m.capacity) return null;
  return `needs ${gib(m.total)} per GPU, ${percent(m.total / m.capacity - 1)} over the ${gib(m.capacity)} capacity: it would run out of memory`;
}

/** The engines' own configurations for the plan (`paraplan export`'s exporters), written to
 *  paraplan-export-<model>-<plan>/<format>/ (a new folder: numbered when the name is taken);
 *  formats that cannot run the plan are named with their reason instead. */
export function exportEngineConfigs(
  req: PlanRequest,
  p: PlanResult,
  cwd: string,
  write: (path: string, text: string) => void = writeNew,
  mkdir: (path: string) => void = makeDir,
  exists: (path: string) => boolean = existsSync,
): ExportResult {
  const base = exportDirName(req.model.name, p);
  const at = resolve(cwd);
  let n = 1;
  while (n < MAX_COPIES && exists(join(at, numbered(base, n)))) n++;
  const dirName = numbered(base, n);
  const dir = join(at, dirName);
  if (exists(dir)) return { path: dir, ok: false, message: `not written: ${base} and ${MAX_COPIES - 1} numbered copies already exist in ${at}` };
  const wrote: string[] = [];
  const refused: string[] = [];
  const refusedNames: string[] = [];
  const nearest: string[] = [];
  try {
    for (const format of EXPORT_FORMATS) {
      try {
        const training = onFormatEngine(format, req);
        if (typeof training === "string") {
          refused.push(`${format} (${training})`);
          refusedNames.push(format);
          continue;
        }
        // (the profile named as `paraplan export --profile` names it: launch.json's prediction, the
        // Megatron file's read-back flags and the comments price and state the session's hardware)
        const r = engineExport(format, req.model, p, training, req.hw, { profileName: req.profileName, specPath: join(dir, format, LAUNCH_SPEC) });
        // (`paraplan export` writes no config that runs out of memory at its first step: nor does g)
        const oom = outOfMemory(req, r);
        if (oom !== null) {
          refused.push(`${format} (${oom})`);
          refusedNames.push(format);
          continue;
        }
        mkdir(join(dir, format));
        for (const f of r.files) write(join(dir, format, f.name), f.content);
        wrote.push(format);
        if (r.nearest) nearest.push(`${format} as ${describe(r.plan)}`);
      } catch (e) {
        if (!(e instanceof ExportRefused)) throw e;
        refused.push(`${format} (${e.message.replace(/^[^:]*:\s*/, "")})`);
        refusedNames.push(format);
      }
    }
  } catch (e) {
    return { path: dir, ok: false, message: `cannot write ${dir}: ${(e as Error).message}` };
  }
  // The formats first, then each one's reason: a reason runs to hundreds of characters (an engine
  // without mixtures of experts says why) and the screen's message area cuts the rest (QA: of
  // mixtral's five formats not written, the screen named one).
  const why = `not runnable as is: ${refusedNames.join(", ")} — ${refused.join(", ")}`;
  if (wrote.length === 0) return { path: dir, ok: false, message: `no configs written: ${why}` };
  // A format written for the nearest plan it runs (DeepSpeed's own stage split, Ulysses' contiguous
  // cut) says which plan that is: `paraplan export` prints the same as notes.
  const tail = (nearest.length ? `; the nearest plan it runs: ${nearest.join("; ")}` : "") + (refused.length ? `; ${why}` : "");
  return { path: dir, ok: true, message: `wrote ${wrote.join(", ")} configs in ${dirName}/ under ${at}${kept(base, n)}${tail}` };
}
