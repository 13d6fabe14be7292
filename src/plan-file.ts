// `--plan plan.json`: one entry of `paraplan plan --json`'s `plans` array, the whole output
// (its first plan), or a run directory's plan.json. Missing optional dimensions take the
// defaults a hand-written plan would mean (vpp 1, ZeRO 0, no recompute, 1F1B, no SP).
import { readFileSync } from "node:fs";
import type { Plan, Recompute, Schedule, ZeroStage } from "../planner/index.js";
import { UserError } from "./errors.js";

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

export function planFromJson(raw: unknown, origin: string): Plan {
  let p: unknown = raw;
  if (isObj(raw) && Array.isArray(raw.plans)) {
    if (raw.plans.length === 0) throw new UserError(`--plan ${origin}: "plans" is empty (no plan fitted); plan again with more GPUs`);
    p = raw.plans[0];
  }
  if (!isObj(p)) throw new UserError(`--plan ${origin}: expected a plan object (an entry of plan --json's "plans")`);
  const bad = (field: string, want: string): never => {
    throw new UserError(`--plan ${origin}: field "${field}" must be ${want}, got ${JSON.stringify(p[field])}`);
  };
  const int = (field: string, dflt?: number): number => {
    const v = p[field] ?? dflt;
    return typeof v === "number" && Number.isInteger(v) && v >= 1 ? v : bad(field, "a positive integer");
  };
  const zero = p.zero ?? 0;
  if (zero !== 0 && zero !== 1 && zero !== 2 && zero !== 3) bad("zero", "0, 1, 2 or 3");
  const recompute = p.recompute ?? "none";
  if (recompute !== "none" && recompute !== "selective" && recompute !== "full") bad("recompute", '"none", "selective" or "full"');
  const sp = p.sequenceParallel ?? false;
  if (typeof sp !== "boolean") bad("sequenceParallel", "true or false");
  const vpp = int("vpp", 1);
  const pp = int("pp");
  const schedule = p.schedule ?? (vpp > 1 ? "interleaved" : "1f1b");
  if (schedule !== "1f1b" && schedule !== "interleaved" && schedule !== "gpipe") bad("schedule", '"1f1b", "interleaved" or "gpipe"');
  return {
    tp: int("tp"),
    pp,
    dp: int("dp"),
    vpp,
    zero: zero as ZeroStage,
    microBatch: int("microBatch"),
    recompute: recompute as Recompute,
    sequenceParallel: sp as boolean,
    schedule: schedule as Schedule,
  };
}

export function readPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`--plan "${path}" cannot be read; check the path`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--plan ${path}: malformed JSON (${(e as Error).message})`);
  }
  return planFromJson(raw, path);
}
