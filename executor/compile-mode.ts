// Whether the worker compiles a plan it was asked to compile: executor/worker/compile.py
// eager_reason, as the compiled worker engine's profile states it (profiles/engines/
// paraplan-compile.json `eager.when`, which the planner prices by: planner/eager.ts), so that a run
// the worker will run eager is predicted with the eager engine profile (paraplan), and plan.json
// records that engine for `calibrate`. The one reason known only on the node, a torch without
// torch.compile (< 2.0), the worker still reports itself (summary `execution.eagerReason`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ModelSpec, type Plan, executorEngineName } from "../planner/index.js";
import { type EagerCase, eagerReasonOf, modelEagerReasonOf, parseEager } from "../planner/eager.js";
import { figureReader } from "../planner/schema/figure.js";
import { packageRoot } from "./root.js";

let cases: readonly EagerCase[] | undefined;

/** The plans the worker runs eager though asked to compile: the built-in compiled engine's
 *  `eager.when` (read once). */
export function workerEagerCases(): readonly EagerCase[] {
  if (cases !== undefined) return cases;
  const name = executorEngineName(true);
  const raw = JSON.parse(readFileSync(join(packageRoot(), "profiles", "engines", `${name}.json`), "utf8")) as { eager?: Parameters<typeof parseEager>[0] };
  if (raw.eager === undefined) throw new Error(`internal: profiles/engines/${name}.json has no "eager" block`);
  cases = parseEager(raw.eager, figureReader(`${name}.json`, {})).when;
  return cases;
}

/** Why the worker runs a model eager whatever the plan (compile.py: MoE routing), or null. */
export function modelEagerReason(model: Pick<ModelSpec, "moe">): string | null {
  return modelEagerReasonOf(workerEagerCases(), model);
}

/** Why the worker runs this plan eager though asked to compile (compile.py eager_reason, in its
 *  order and words), or null when it compiles it. */
export function eagerReason(plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): string | null {
  return eagerReasonOf(workerEagerCases(), plan, model);
}

/** The engine profile describing how the worker runs `plan` (planner/engine.ts
 *  executorEngineName): paraplan-compile where it compiles, paraplan where it runs eager, asked
 *  to (`compile` false) or not able to (eagerReason). */
export function workerEngineName(compile: boolean, plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): string {
  return executorEngineName(compile && eagerReason(plan, model) === null);
}
