// `--plan plan.json`: one entry of `paraplan plan --json`'s `plans` array, the whole output
// (its first plan), or a run directory's plan.json. Missing optional dimensions take the
// defaults a hand-written plan would mean (vpp 1, ZeRO 0, no recompute, 1F1B, no SP).
import { because, parseInputJson, readInputText } from "./read-input.js";
import type { Plan } from "../planner/index.js";
import { parsePlan } from "../planner/schema/plan.js";
import { UserError } from "./errors.js";

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

export function planFromJson(raw: unknown, origin: string): Plan {
  let p: unknown = raw;
  if (isObj(raw) && Array.isArray(raw.plans)) {
    if (raw.plans.length === 0) throw new UserError(`--plan ${origin}: "plans" is empty (no plan fitted); plan again with more GPUs`);
    p = raw.plans[0];
  } else if (isObj(raw) && isObj(raw.plan) && isObj(raw.training) && isObj(raw.model)) {
    // A launch spec (launch.json of a run directory or of an export, executor/PROTOCOL.md): its plan.
    p = raw.plan;
  }
  if (!isObj(p)) throw new UserError(`--plan ${origin}: expected a plan object (an entry of plan --json's "plans")`);
  const parsed = parsePlan(p);
  if (!parsed.ok) throw new UserError(`--plan ${origin}: ${parsed.message}`);
  return parsed.value;
}

export function readPlanFile(path: string): Plan {
  const r = readInputText(path);
  if (!r.ok) throw new UserError(`--plan "${path}" cannot be read${because(r.why)}; check the path`);
  const text = r.text;
  const j = parseInputJson(text);
  if (!j.ok) throw new UserError(`--plan ${path}: ${j.why}`);
  return planFromJson(j.value, path);
}
