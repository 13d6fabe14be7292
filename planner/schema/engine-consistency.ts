// Fields of an engine file that each parse but contradict one another: a bf16 list of the ZeRO
// stages beside a pipeline wider than the list it narrows (its header named one list while the
// search used the other: QA), a weight gather overlapped that the file's own rule says needs the
// gradient overlap it turned off, a per-tensor ZeRO-1 weight sync outside the step. Each would be priced silently one way or the other; the file is
// bad input instead, naming the field. (Not contradictions: supports.zeroWithPipeline holding
// stages supports.zero does not — torchtitan's FSDP beside a pipeline keeps its gathered weights,
// the ZeRO-1 pattern it runs nowhere else — and an overlap rule for a stage the stack never runs,
// which prices nothing, as megatron-core's rule for ZeRO-3 in a file that allows only 0 and 1.)
import type { Engine } from "../engine.js";

const stages = (xs: readonly number[]) => `[${xs.join(", ")}]`;

/** The first contradiction between the engine's fields, as `field "…": why`, or null. */
export function engineInconsistency(e: Engine): string | null {
  const s = e.supports;
  const outside = (field: string, list: readonly number[], within: readonly number[], of: string) => {
    const extra = list.filter((z) => !within.includes(z as never));
    return extra.length > 0 ? `field "${field}": ZeRO ${extra.join(", ")} ${extra.length > 1 ? "are" : "is"} not among ${of} ${stages(within)}` : null;
  };
  const d = e.dataParallel;
  return (
    (s.zeroWithPipelineUnderBf16 === undefined ? null : outside("supports.zeroWithPipelineUnderBf16", s.zeroWithPipelineUnderBf16, s.zeroWithPipeline, "the stages it narrows, supports.zeroWithPipeline")) ??
    (d.overlapParamGather && !d.overlapGradReduce && d.overlapParamGatherNeedsGradOverlap
      ? `field "dataParallel.overlapParamGather": true beside overlapGradReduce false, where overlapParamGatherNeedsGradOverlap (true unless given) says the weight gather overlaps only with the gradient reduction (Megatron-LM refuses --overlap-param-gather without --overlap-grad-reduce); set overlapParamGather false, or overlapParamGatherNeedsGradOverlap false for a stack that overlaps it alone`
      : null) ??
    // (a per-tensor weight sync is ZeroRedundancyOptimizer's, inside its step: priced and simulated
    // after the optimizer, so one overlapped with the next forward would be priced two ways)
    (d.zero1BroadcastPerTensor && !d.zero1GatherInStep
      ? `field "dataParallel.zero1BroadcastPerTensor": true needs zero1GatherInStep true beside it (a ZeRO-1 that sends its weights a tensor at a time is torch's ZeroRedundancyOptimizer, whose step() sends them before it returns)`
      : null) ??
    // (Megatron-Core's module list describes its tensors, Korthikanti's at 16 bits: cost/module-recompute.ts)
    (e.recomputeModules !== undefined && (e.selectiveRecompute !== "attention-core" || e.activationTensors !== "16-bit")
      ? `field "activations.recomputeModules": Megatron-Core's recompute modules need selectiveRecompute "attention-core" over "16-bit" tensors, not ${e.selectiveRecompute} over ${e.activationTensors}`
      : null) ??
    // (QA: on a stack with no selective recompute the list changed nothing, yet the header named it)
    (e.recomputeModules !== undefined && e.recompute !== "any"
      ? `field "activations.recomputeModules": the engine runs no selective recompute (recompute "${e.recompute}"), so the modules would change nothing; drop the field, or set recompute "any"`
      : null) ??
    // (QA: priced by plan, then refused by the Megatron export)
    (e.recomputeModules?.includes("shared_experts") && e.moe.sharedExpertOverlap !== null
      ? `field "activations.recomputeModules": shared_experts beside moe.sharedExpertOverlap, which Megatron refuses ("shared_experts recompute cannot work with --moe-shared-expert-overlap", transformer_config.py:903-910 @ core_r0.14.0); drop one`
      : null) ??
    // (one partial full recompute a stack: the first N of each chunk, or every N-th layer)
    (s.everyNthRecompute === true && s.blockRecompute !== false
      ? `field "supports.everyNthRecompute": true beside blockRecompute ${s.blockRecompute === true ? "true" : "absent (Megatron-Core's, true)"}: a stack's partial full recompute is either each chunk's first N layers or every N-th layer; set blockRecompute false`
      : null)
  );
}
