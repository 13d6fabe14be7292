// Which software stack each calibration source ran (bench/data/published-runs.README.md, table
// "Sources and the software each ran"), and — until engine profiles exist — the two knobs of
// today's model that stand in for an engine. The lead replaces engineKnobs with the profiles.
import type { Training } from "../../planner/index.js";
import type { Csv } from "./measured.js";

export const ENGINE_NAMES = [
  "megatron-core",
  "megatron-2021",
  "megatron-deepspeed",
  "fsdp",
  "torchtitan",
  "torchtitan-compile",
  "paraplan",
  "paraplan-compile",
] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine of a row, per the README's source → engine table. */
export function engineOfRow(r: Csv): EngineName {
  const id = r.id!;
  if (id.startsWith("MEG21")) return "megatron-2021";
  if (id.startsWith("NAR21T2")) return r.zero_stage === "3" && r.tp === "1" && r.pp === "1" ? "megatron-deepspeed" : "megatron-2021";
  if (id.startsWith("MEG24") || id.startsWith("DGXC")) return "megatron-core";
  if (id.startsWith("MPT")) return "fsdp";
  if (id.startsWith("TT24")) return /torch\.compile/.test(r.notes ?? "") ? "torchtitan-compile" : "torchtitan";
  throw new Error(`calibration row ${id}: no engine for its source`);
}

export type EngineKnobs = Pick<Training, "fusedAttention" | "overlapGradReduce" | "gatherCallsPerLayer">;

/** Today's model's stand-in for an engine (the only engine facts it can express):
 *  - megatron-2021: materialised s×s scores with a fused softmax, gradient all-reduce after the
 *    backward (Narayanan et al. 2021 §4.2; megatron/model/distributed.py allreduce_gradients);
 *  - megatron-deepspeed: DeepSpeed ZeRO of 2021 — no flash attention (Megatron's fused softmax),
 *    communication not overlapped (gradients reduced after the pipeline flush, overlap_comm off by
 *    default: shared/reference/engines.md "Cross-cutting C"), and one all-gather per parameter
 *    tensor, 12 per GPT layer (planner/cost/gather-calls.ts);
 *  - megatron-core, fsdp, torchtitan(-compile), paraplan(-compile): flash-style attention and
 *    overlapped gradient reduction (--overlap-grad-reduce; FSDP's post-backward reduce-scatter
 *    on its own stream, Zhao et al. 2023 §3.3). */
export function engineKnobs(engine: EngineName): EngineKnobs {
  switch (engine) {
    case "megatron-2021":
      return { fusedAttention: false, overlapGradReduce: false };
    case "megatron-deepspeed":
      return { fusedAttention: false, overlapGradReduce: false, gatherCallsPerLayer: 12 };
    default:
      return { fusedAttention: true, overlapGradReduce: true };
  }
}
