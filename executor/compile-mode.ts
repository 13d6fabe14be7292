// Whether the worker compiles a plan it was asked to compile: the launcher's copy of
// executor/worker/compile.py eager_reason, so that a run the worker will run eager is predicted
// with the eager engine profile (paraplan), and plan.json records that engine for `calibrate`.
// The one reason known only on the node, a torch without torch.compile (< 2.0), the worker still
// reports itself (summary `execution.eagerReason`).
import { type ModelSpec, type Plan, executorEngineName } from "../planner/index.js";
import { ZERO_BUBBLE } from "../planner/layout/capabilities.js";

/** Why the worker runs a model eager whatever the plan (compile.py: MoE routing), or null. */
export function modelEagerReason(model: Pick<ModelSpec, "moe">): string | null {
  // moe.py routes with data-dependent shapes (nonzero, bincount, the all-to-all's split sizes).
  return model.moe !== undefined ? "mixture-of-experts blocks route tokens with data-dependent shapes; they run eager" : null;
}

/** Why the worker runs this plan eager though asked to compile (compile.py eager_reason, in its
 *  order and words), or null when it compiles it. */
export function eagerReason(plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): string | null {
  // Zero-bubble schedules split each stage's backward into input- and weight-gradient passes
  // (torch.distributed.pipelining stage_backward_input/_weight); a compiled (AOTAutograd) region
  // has one opaque backward.
  if (plan.pp > 1 && ZERO_BUBBLE.has(plan.schedule)) return `schedule ${plan.schedule}: torch cannot compile zero-bubble stages (split backward)`;
  // context.py gathers K/V with an autograd collective a fullgraph block cannot trace.
  if (plan.cp > 1) return "context parallel attention gathers K/V with an autograd collective; cp blocks run eager";
  return modelEagerReason(model);
}

/** The engine profile describing how the worker runs `plan` (planner/engine.ts
 *  executorEngineName): paraplan-compile where it compiles, paraplan where it runs eager, asked
 *  to (`compile` false) or not able to (eagerReason). */
export function workerEngineName(compile: boolean, plan: Pick<Plan, "pp" | "cp" | "schedule">, model: Pick<ModelSpec, "moe">): string {
  return executorEngineName(compile && eagerReason(plan, model) === null);
}
