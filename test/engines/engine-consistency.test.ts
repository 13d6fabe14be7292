// Engine-file fields that parse one by one but contradict one another are bad input naming the
// field (planner/schema/engine-consistency.ts), where they were priced silently one way (QA).
import { describe, expect, it } from "vitest";
import { engineOver, message } from "./engine-file.js";
import { loadEngine } from "../../src/load-engine.js";

const src = (value: unknown) => ({ value, source: "test" });

describe("an engine file's contradictions", () => {
  it("a bf16 list of the ZeRO stages beside a pipeline wider than the list it narrows", () => {
    // QA: zeroWithPipeline [0], UnderBf16 [0, 1, 2]: the header said "0 beside a pipeline" while
    // the search returned pp 2 with ZeRO-2 under bf16
    const r = engineOver({ supports: { zeroWithPipeline: src([0]), zeroWithPipelineUnderBf16: src([0, 1, 2]) } });
    expect(message(r)).toBe('mine.json: field "supports.zeroWithPipelineUnderBf16": ZeRO 1, 2 are not among the stages it narrows, supports.zeroWithPipeline [0]');
    // narrower is what it is for (DeepSpeed 0.6–0.9's pipeline engine: [0] under bf16)
    expect(engineOver({ supports: { zeroWithPipeline: src([0, 1]), zeroWithPipelineUnderBf16: src([0]) } }).ok).toBe(true);
  });

  it("not a contradiction: an overlap rule for a stage the stack never runs (megatron-core's ZeRO-3 rule in a file allowing 0 and 1)", () => {
    expect(engineOver({ supports: { zero: src([0, 1]), zeroWithPipeline: src([0, 1]) } }).ok).toBe(true);
  });

  it("the weight gather overlapped where the file's rule says it needs the gradient overlap it turned off", () => {
    // QA: the output was identical to overlapParamGather false (Megatron refuses the pair)
    const r = engineOver({ dataParallel: { overlapParamGather: src(true), overlapGradReduce: src(false) } });
    expect(message(r)).toMatch(/^mine\.json: field "dataParallel\.overlapParamGather": true beside overlapGradReduce false, where overlapParamGatherNeedsGradOverlap/);
    // a stack that overlaps the gather alone says so
    expect(engineOver({ dataParallel: { overlapParamGather: src(true), overlapGradReduce: src(false), overlapParamGatherNeedsGradOverlap: src(false) } }).ok).toBe(true);
  });

  it("a per-tensor ZeRO-1 weight sync outside the optimizer step (the closed form and the simulator would price it two ways)", () => {
    const r = engineOver({ dataParallel: { zero1BroadcastPerTensor: src(true), zero1GatherInStep: src(false) } });
    expect(message(r)).toMatch(/^mine\.json: field "dataParallel\.zero1BroadcastPerTensor": true needs zero1GatherInStep true beside it/);
    expect(engineOver({ dataParallel: { zero1BroadcastPerTensor: src(true), zero1GatherInStep: src(true) } }).ok).toBe(true);
  });

  it("every built-in engine is consistent (torchtitan's ZeRO-1 beside a pipeline only is no contradiction)", () => {
    for (const name of ["megatron-core", "megatron-2021", "megatron-deepspeed", "fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"]) expect(() => loadEngine(name, undefined)).not.toThrow();
    expect(loadEngine("torchtitan", undefined).supports.zeroWithPipeline).toContain(1);
    expect(loadEngine("torchtitan", undefined).supports.zero).not.toContain(1);
  });
});
