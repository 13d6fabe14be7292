// The last pipeline stage's kept outputs (Engine.keptOutputBytes): torch.distributed.pipelining
// appends every micro-batch's output to output_chunks and merges them after the step unless
// step(return_outputs=False) (pytorch/pytorch#159251, #165822), so under torchtitan of 2024 the
// last stage holds all M micro-batches' bf16 logits at its last backward. Megatron's schedules free
// each output after its backward; paraplan's worker passes return_outputs=False.
import { describe, expect, it } from "vitest";
import { stageMemory } from "../../planner/cost/memory.js";
import { unevenStageMemory } from "../../planner/cost/stage-memory.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string): Engine => loadEngine(name, undefined);
const m = preset("llama3-8b");
const hw = hardware("h100-96g-500w");
const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, globalBatch: number, e: Engine): Training => ({
  gpus, globalBatch, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e,
});
const without = (e: Engine): Engine => ({ ...e, keptOutputBytes: 0 });

describe("the last stage keeps every micro-batch's logits (torchtitan 2024)", () => {
  const tt = engine("torchtitan");
  // Llama 3.1 8B, pp 4 × dp 2, micro-batch 1 of 8192 tokens, global batch 16: M = 8 per dp rank.
  const p = plan({ pp: 4, dp: 2, zero: 1 });
  const t = training(8, 16, tt);

  it("adds M · 2 B · s·b · V on the last stage: 8 × 2 × 8192 × 128,256 bytes (15.7 GiB)", () => {
    const a = stageMemory(m, hw, t, p, "last").activations;
    const b = stageMemory(m, hw, { ...t, engine: without(tt) }, p, "last").activations;
    expect(a - b).toBe(8 * 2 * 8192 * 128_256);
  });

  it("the first stage, and a run without a pipeline, keep nothing extra", () => {
    expect(stageMemory(m, hw, t, p, "first").activations).toBe(stageMemory(m, hw, { ...t, engine: without(tt) }, p, "first").activations);
    const single = plan({ dp: 8, zero: 3 });
    expect(stageMemory(m, hw, t, single, "only").activations).toBe(stageMemory(m, hw, { ...t, engine: without(tt) }, single, "only").activations);
  });

  it("scales with the micro-batches and shards over tp (vocab-parallel logits)", () => {
    const tp2 = plan({ pp: 4, tp: 2, zero: 1 });
    const t32 = training(8, 32, tt); // M = 32
    const diff = stageMemory(m, hw, t32, tp2, "last").activations - stageMemory(m, hw, { ...t32, engine: without(tt) }, tp2, "last").activations;
    expect(diff).toBe((32 * 2 * 8192 * 128_256) / 2);
  });

  it("uneven stages count it on the last stage alone, as the even split does", () => {
    const even = plan({ pp: 4, dp: 2, zero: 1, stageLayers: [8, 8, 8, 8] });
    expect(unevenStageMemory(m, hw, t, even, 3).activations).toBe(stageMemory(m, hw, t, p, "last").activations);
    const uneven = plan({ pp: 4, dp: 2, zero: 1, stageLayers: [7, 9, 9, 7] });
    const diff = (i: number) => unevenStageMemory(m, hw, t, uneven, i).activations - unevenStageMemory(m, hw, { ...t, engine: without(tt) }, uneven, i).activations;
    expect(diff(3)).toBe(8 * 2 * 8192 * 128_256);
    for (const i of [0, 1, 2]) expect(diff(i)).toBe(0);
  });

  it("in a V schedule rank 0 holds the last stage, so rank 0 keeps them", () => {
    const v = plan({ pp: 4, vpp: 2, dp: 2, zero: 1, schedule: "zbv" });
    const a = stageMemory(m, hw, t, v, "first").activations;
    const b = stageMemory(m, hw, { ...t, engine: without(tt) }, v, "first").activations;
    expect(a - b).toBe(8 * 2 * 8192 * 128_256);
  });
});

describe("which stacks keep them", () => {
  it("torchtitan and its compiled variant 2 B a logit; paraplan's worker, Megatron-Core and DeepSpeed none", () => {
    expect(engine("torchtitan").keptOutputBytes).toBe(2);
    expect(engine("torchtitan-compile").keptOutputBytes).toBe(2);
    for (const name of ["paraplan", "paraplan-compile", "megatron-core", "megatron-2021", "megatron-deepspeed", "fsdp"]) expect(engine(name).keptOutputBytes).toBe(0);
  });

  it("an engine file may set it (torchtitan >= v0.2.1 passes return_outputs=False) and a negative is refused, naming the field", () => {
    const raw = structuredClone(builtinEngineRaw("megatron-core")) as Record<string, unknown>;
    raw.activations = { keptOutputBytes: { value: 2, source: "test" } };
    const ok = parseEngineFile(raw, "kept.json");
    expect(ok.ok && ok.value.keptOutputBytes).toBe(2);
    raw.activations = { keptOutputBytes: -1 };
    const bad = parseEngineFile(raw, "bad.json");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain("keptOutputBytes");
  });
});
