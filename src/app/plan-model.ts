// The model a --plan file was made for, where it says: a run's plan.json ("model": "tiny") and
// plan --json's output ("model": {"name": "tiny", …}) name it; a bare plan entry names none.
import { readJson } from "../load.js";
import { UserError } from "../errors.js";

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The model name a plan file records, or undefined. */
export function planFileModel(raw: unknown): string | undefined {
  if (!isObj(raw)) return undefined;
  const m = raw.model;
  if (typeof m === "string") return m;
  if (isObj(m) && typeof m.name === "string") return m.name;
  return undefined;
}

export interface PlanFor {
  path: string;
  model: string;
}

/** The --plan file's model, read from the file (undefined when it names none). */
export function readPlanFor(path: string): PlanFor | undefined {
  const model = planFileModel(readJson(path, "--plan"));
  return model === undefined ? undefined : { path, model };
}

/** Bad input (exit 2) when the plan was made for another model than --model's. */
export function checkPlanModel(planFor: PlanFor | undefined, model: string): void {
  if (planFor === undefined || planFor.model === model) return;
  throw new UserError(`--plan ${planFor.path} is a plan for the model ${planFor.model}, not for --model ${model}; pass --model ${planFor.model}, or plan again for ${model}`);
}
