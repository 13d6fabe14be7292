// torchtitan v0.2.2's DeepEP backend in the export (--release 0.2.2): an engine whose dispatcher is
// deepep is written as parallelism.expert_parallel_comm_backend = "deepep" (job_config.py:474
// @ v0.2.2) where v0.2.2 runs DeepEP as paraplan's deepep dispatcher prices it, which are the
// conditions `plan --from` reads the key under (read-titan-deepep.ts, with the sources): expert
// parallel without expert tensor parallel or tensor parallel, shared experts (if any) priced beside
// the combine as DeepEP's MoE runs them (TITAN_DEEPEP_SHARED_OVERLAP), and a model built
// as deepseek_v3 builds its MoE (build_moe moe_impl "deepep", model/args.py @ v0.2.2). Elsewhere
// the export refuses the engine, naming why, as engine-dispatch.ts does for the releases without
// the key. (What the other releases run instead: TITAN_DISPATCH in torchtitan.ts.)
import type { ModelSpec, Plan, Training } from "../../planner/index.js";
import { TITAN_DEEPEP_SHARED_OVERLAP, asksDeepep, engineDispatchRefusal, sameSplit } from "./engine-dispatch.js";
import { DEEPEP_BLOCKS, deepepBlock } from "./read-titan-deepep.js";

const AT = "@ v0.2.2";

/** Why torchtitan v0.2.2 would not run the engine's DeepEP dispatch as priced, as an
 *  engineDispatchRefusal line (naming moe.dispatcher deepep), or null where it does. `family`: the
 *  torchtitan model the file names in [model] (undefined: the user's own registry entry). */
function deepepBlocked(m: ModelSpec, p: Plan, t: Training, family: string | undefined): string | null {
  const block = deepepBlock(family, p);
  const plan = { ignored: "", llama4: "", ep: `, and this plan has ep ${p.ep}`, etp: `, and this plan has etp ${p.etp}`, tp: `, and this plan has tp ${p.tp}` };
  if (block !== null) return `${block === "ignored" ? DEEPEP_BLOCKS.ignored(family!) : DEEPEP_BLOCKS[block]}${plan[block]}`;
  const shared = m.moe?.sharedExperts ?? 0;
  const theirs = t.engine?.moe.sharedExpertOverlap ?? null;
  if (shared > 0 && (theirs === null || !sameSplit(theirs, TITAN_DEEPEP_SHARED_OVERLAP)))
    return `runs ${m.name}'s shared experts beside DeepEP's combine in the forward (moe/moe_deepep.py:69-77 ${AT}; moe.sharedExpertOverlap ${JSON.stringify(TITAN_DEEPEP_SHARED_OVERLAP)}), where the engine ${t.engine!.name} prices ${theirs === null ? "them after the routed experts (moe.sharedExpertOverlap null)" : `moe.sharedExpertOverlap ${JSON.stringify(theirs)}`}`;
  return null;
}

/** The refusal of the engine's expert communication in a v0.2.2 job file, or null: DeepEP where
 *  deepepBlocked allows it (then written), and no fp8 dispatch or all-to-all overlap beside it
 *  (torchtitan's DeepEP moves the hidden states as they come, bf16: distributed/deepep/deepep.py
 *  @ v0.2.2). */
export function titanV022DispatchRefusal(m: ModelSpec, p: Plan, t: Training, family: string | undefined, why: string): string | null {
  if (!asksDeepep(m, p, t)) return engineDispatchRefusal(m, p, t, "torchtitan v0.2.2", why);
  const blocked = deepepBlocked(m, p, t, family);
  if (blocked) return engineDispatchRefusal(m, p, t, "torchtitan v0.2.2", blocked);
  return engineDispatchRefusal(m, p, t, "torchtitan v0.2.2", why, "deepep");
}

/** The note where the file writes DeepEP for a model it names no torchtitan flavor of. */
export function deepepEntryNote(family: string | undefined): string | null {
  if (family !== undefined) return null;
  return `expert_parallel_comm_backend = "deepep": [model] names no torchtitan flavor, so your registry entry must build its MoE with build_moe(moe_impl="deepep") from the backend and apply DeepEPExpertParallel, as deepseek_v3 does (deepseek_v3/model/args.py moe_impl, moe/moe.py:577-592, deepseek_v3/infra/parallelize.py ${AT}); other families run the standard all-to-all or raise`;
}
