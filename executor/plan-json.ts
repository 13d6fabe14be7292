// One plan as JSON: an entry of `plan --json`'s "plans" and of a run directory's plan.json (which
// `--plan` reads back). These names are relied on by scripts and by the other commands.
import type { PlanResult } from "../planner/index.js";
import type { SimSummary } from "../planner/sim/timeline.js";
import { DEFAULT_CP_COMM, DEFAULT_CP_SPLIT } from "../planner/types.js";

export function planJson(p: PlanResult, simulated?: SimSummary) {
  return {
    tp: p.tp,
    pp: p.pp,
    dp: p.dp,
    cp: p.cp,
    // The cp exchange and split, with cp > 1 only (defaults filled in, as planOnly writes them).
    ...(p.cp > 1 ? { cpComm: p.cpComm ?? DEFAULT_CP_COMM, cpSplit: p.cpSplit ?? DEFAULT_CP_SPLIT } : {}),
    ep: p.ep,
    etp: p.etp,
    vpp: p.vpp,
    zero: p.zero,
    microBatch: p.microBatch,
    recompute: p.recompute,
    // Full recompute of each stage's first N layers only (Megatron's block method), where not every layer.
    ...(p.recomputeLayers !== undefined ? { recomputeLayers: p.recomputeLayers } : {}),
    sequenceParallel: p.sequenceParallel,
    schedule: p.schedule,
    // Uneven pipeline stages, only when given (planner/layout/stages.ts).
    ...(p.stageLayers ? { stageLayers: [...p.stageLayers] } : {}),
    // Rank order and why (profiles with a fabric; planner/layout/order.ts).
    ...(p.order ? { order: p.order } : {}),
    ...(p.orderReason ? { orderReason: p.orderReason } : {}),
    memory: { ...p.memory },
    // Whose memory that is: the fullest pipeline stage ("first", "last", "middle" with its index
    // from 0, "only" without a pipeline), as the text names it (layout/stages.ts worstStageName).
    worstStage: p.worstStage,
    ...(p.worstStageIndex !== undefined ? { worstStageIndex: p.worstStageIndex } : {}),
    time: { ...p.time },
    tokensPerSecond: p.tokensPerSecond,
    tflopsPerGpu: p.tflopsPerGpu,
    mfu: p.mfu,
    hfu: p.hfu,
    // Where the engine runs the plan eager (planner/eager.ts): the engine these figures are of, and why.
    ...(p.eager ? { eager: { ...p.eager } } : {}),
    ...(simulated ? { simulated: { step: simulated.step, bubble: simulated.bubble, imbalance: simulated.imbalance, exposedComm: simulated.exposedComm } } : {}),
  };
}

export { planOnly } from "../planner/schema/plan.js";
