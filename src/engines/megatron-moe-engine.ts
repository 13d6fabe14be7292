// What the engine's experts' communication (Engine.moe: dispatcher, fp8 dispatch, all-to-all
// overlap) becomes in a Megatron-LM export, or why the export cannot state it: the file must run
// as the plan was priced, and plan --from must read it back to the same engine (read-megatron.ts:
// flex with --moe-enable-deepep is deepep, --overlap-moe-expert-parallel-comm the overlap).
import type { Plan, Training } from "../../planner/index.js";
import type { ModelSpec } from "../../planner/types.js";
import { overlapsAllToAll, overlapsSharedExperts } from "../../planner/cost/dispatch.js";
import { MEGATRON_SHARED_OVERLAP } from "../../planner/megatron-defaults.js";
import { H100_SMS } from "../../planner/engine-overrides.js";
import { DEEPEP_SMS } from "./megatron-moe-flags.js";
import { asksDeepep } from "./engine-dispatch.js";

type Arg = [string] | [string, string];

/** Why the release cannot run the engine's expert communication for this plan; null when it can. */
export function engineMoeRefusal(m: ModelSpec, p: Plan, release: "core_r0.14" | "core_v0.7", t: Training): string | null {
  const e = t.engine?.moe;
  if (e === undefined || m.moe === undefined || p.ep * p.etp <= 1) return null;
  const name = t.engine!.name;
  if (asksDeepep(m, p, t)) {
    if (release === "core_v0.7") return `the engine ${name} dispatches with DeepEP (moe.dispatcher deepep), and Megatron-LM core_v0.7 has no flex dispatcher (--moe-token-dispatcher-type allgather or alltoall); use --release core_r0.14`;
    if (p.etp > 1) return `the engine ${name} dispatches with DeepEP over the ep group; Megatron's flex dispatcher runs it over etp·ep (token_dispatcher.py MoEFlexTokenDispatcher @ core_v0.14.0), which paraplan does not price: use etp 1`;
  }
  // (Megatron-Core's dispatchers hand the 16-bit tokens to NCCL or DeepEP: megatron-core.json moe.fp8DispatchBytes)
  if (t.precision === "fp8" && e.fp8DispatchBytes !== null) return `the engine ${name} dispatches in fp8 (moe.fp8DispatchBytes ${e.fp8DispatchBytes}), and Megatron-Core's dispatchers send 16-bit tokens (token_dispatcher.py, fused_a2a.py @ core_v0.14.0): the file would not run as priced`;
  const shared = sharedOverlapRefusal(m, p, t);
  if (shared) return shared;
  if (!overlapsAllToAll(t, p)) return null;
  // Megatron-Core's asserts beside --overlap-moe-expert-parallel-comm (transformer_config.py:1298-1337).
  const megatron = p.pp > 1 && p.vpp <= 1 ? `pp ${p.pp} without a virtual pipeline` : p.recompute === "full" ? "full recompute" : (m.mtpLayers ?? 0) > 1 ? `${m.mtpLayers} MTP layers` : null;
  if (megatron) return `the engine ${name} overlaps the experts' all-to-all (moe.overlap), which Megatron-Core asserts against beside ${megatron} (transformer_config.py:1298-1337 @ core_v0.14.0)`;
  const slowdown = e.overlap!.slowdown;
  // (DeepEP's: a whole number of SMs, to a hundredth of one: 0.15152 · 132 = 20.0006)
  if (asksDeepep(m, p, t) ? Math.abs(slowdown * H100_SMS - Math.round(slowdown * H100_SMS)) > 0.01 : slowdown !== t.engine!.overlapSlowdown)
    return `the engine ${name} slows the compute beside its overlapped all-to-all by ${slowdown}, which a Megatron file states only as DeepEP's SMs over ${H100_SMS} (--moe-deepep-num-sms) or, under NCCL's all-to-all, the engine's overlapSlowdown ${t.engine!.overlapSlowdown}`;
  return null;
}

/** Why a core_r0.14 file cannot run the engine's shared experts beside the all-to-alls as priced
 *  (Engine.moe.sharedExpertOverlap; cost/dispatch.ts overlapsSharedExperts), or null: Megatron's
 *  --moe-shared-expert-overlap runs MEGATRON_SHARED_OVERLAP's split and no other, under the
 *  alltoall dispatcher only before core_v0.18.0 (transformer_config.py:771-776 @ core_v0.14.0). */
function sharedOverlapRefusal(m: ModelSpec, p: Plan, t: Training): string | null {
  if (!overlapsSharedExperts(m, t, p)) return null;
  const o = t.engine!.moe.sharedExpertOverlap!;
  const name = t.engine!.name;
  const { dispatch, combine, backward } = MEGATRON_SHARED_OVERLAP;
  if (o.dispatch !== dispatch || o.combine !== combine || o.backward !== backward)
    return `the engine ${name} runs the shared experts beside the all-to-alls as moe.sharedExpertOverlap ${JSON.stringify(o)}, and Megatron-LM's --moe-shared-expert-overlap runs ${JSON.stringify(MEGATRON_SHARED_OVERLAP)} (the up projection beside the dispatch, the down beside the combine, both passes: shared_experts.py @ core_v0.14.0): the file would not run as priced`;
  if (asksDeepep(m, p, t)) return `the engine ${name} runs the shared experts beside DeepEP's all-to-alls (moe.sharedExpertOverlap), and Megatron-LM core_r0.14 raises "moe_shared_expert_overlap only works with alltoall token dispatcher" under flex (transformer_config.py:771-776 @ core_v0.14.0; core_v0.18.0 and later run it, a release the export does not write)`;
  return null;
}

/** The dispatcher and overlap arguments (core_r0.14; engineMoeRefusal has passed). */
export function engineMoeArgs(m: ModelSpec, p: Plan, t: Training): { dispatcher: Arg[]; overlap: Arg[] } {
  if (!asksDeepep(m, p, t)) return { dispatcher: [["--moe-token-dispatcher-type", "alltoall"]], overlap: overlapArgs(m, p, t, false) };
  return { dispatcher: [["--moe-token-dispatcher-type", "flex"], ["--moe-enable-deepep"]], overlap: overlapArgs(m, p, t, true) };
}

function overlapArgs(m: ModelSpec, p: Plan, t: Training, deepep: boolean): Arg[] {
  // (sharedOverlapRefusal has passed: the alltoall dispatcher and Megatron's own split)
  if (m.moe !== undefined && overlapsSharedExperts(m, t, p)) return [["--moe-shared-expert-overlap"]];
  if (m.moe === undefined || !overlapsAllToAll(t, p)) return [];
  const out: Arg[] = [["--overlap-moe-expert-parallel-comm"]];
  const sms = Math.round(t.engine!.moe.overlap!.slowdown * H100_SMS);
  if (deepep && sms !== DEEPEP_SMS) out.push(["--moe-deepep-num-sms", String(sms)]);
  return out;
}
