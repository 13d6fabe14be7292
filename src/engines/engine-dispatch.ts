// An engine's experts' communication (Engine.moe: dispatcher, fp8 dispatch, all-to-all overlap, the
// shared experts beside the all-to-alls) in the exports other than Megatron-LM's
// (megatron-moe-engine.ts writes flex + DeepEP there):
// where the file cannot state it, it would run the plain 16-bit all-to-all on the critical path,
// not what the plan was priced with, so the export refuses the plan, naming the engine field.
import type { ModelSpec, Plan, SharedExpertOverlap, Training } from "../../planner/index.js";
import { overlapsAllToAll, overlapsSharedExperts } from "../../planner/cost/dispatch.js";

/** What torchtitan v0.2.2's DeepEP MoE overlaps (Engine.moe.sharedExpertOverlap): DeepEPMoE.forward
 *  runs all of the shared experts after the experts' call returns with DeepEP's combine still in
 *  flight (its async_finish event kept for sync_combine) and waits for it after
 *  (moe/moe_deepep.py:69-77 @ v0.2.2); in the backward the combine's own backward, a DeepEP
 *  dispatch, waits for its event at once (distributed/deepep/deepep.py:211-233), so nothing there. */
export const TITAN_DEEPEP_SHARED_OVERLAP: SharedExpertOverlap = { dispatch: "none", combine: "all", backward: false };

/** Whether two shared-expert overlaps are the same split. */
export const sameSplit = (a: SharedExpertOverlap, b: SharedExpertOverlap): boolean => a.dispatch === b.dispatch && a.combine === b.combine && a.backward === b.backward;

/** Whether the engine asks for DeepEP and the plan moves tokens between ranks (the Megatron-LM
 *  and torchtitan v0.2.2 exports write it there). */
export function asksDeepep(m: ModelSpec, p: Plan, t: Training): boolean {
  return t.engine?.moe.dispatcher === "deepep" && m.moe !== undefined && p.ep * p.etp > 1;
}

/** Why a file of `stack` cannot run the engine's expert communication for this plan (`why`: what
 *  the stack runs instead, with its source); null where the plan moves no tokens between ranks
 *  (no experts, ep·etp 1) or the engine's is the plain all-to-all. `runs` "deepep": the file writes
 *  DeepEP (torchtitan v0.2.2, titan-deepep-export.ts), so only the engine's other fields are checked. */
export function engineDispatchRefusal(m: ModelSpec, p: Plan, t: Training, stack: string, why: string, runs?: "deepep"): string | null {
  const e = t.engine?.moe;
  if (e === undefined || m.moe === undefined || p.ep * p.etp <= 1) return null;
  const name = t.engine!.name;
  const field =
    e.dispatcher === "deepep" && runs !== "deepep" ? "dispatches with DeepEP (moe.dispatcher deepep)"
    : t.precision === "fp8" && e.fp8DispatchBytes !== null ? `dispatches in fp8 (moe.fp8DispatchBytes ${e.fp8DispatchBytes})`
    : overlapsAllToAll(t, p) ? "overlaps the experts' all-to-all with another micro-batch's compute (moe.overlap)"
    : overlapsSharedExperts(m, t, p) && !(runs === "deepep" && sameSplit(e.sharedExpertOverlap!, TITAN_DEEPEP_SHARED_OVERLAP)) ? `runs the shared experts beside the all-to-alls (moe.sharedExpertOverlap ${JSON.stringify(e.sharedExpertOverlap)})`
    : null;
  if (field === null) return null;
  // (Megatron-LM writes DeepEP and the overlap; no export writes an fp8 dispatch)
  const instead = (e.dispatcher === "deepep" && runs !== "deepep") || !field.startsWith("dispatches in fp8") ? "use --format megatron, or an engine without it" : "use an engine without it";
  return `the engine ${name} ${field}, and ${stack} ${why}: the file would not run as priced; ${instead}`;
}
