// paraplan's worker all-gathers the output layer's logits to the whole vocabulary on every tensor-
// parallel rank and runs the loss there (DTensor ColwiseParallel(output_layouts=Replicate()),
// executor/worker/parallel.py); Megatron and torchtitan (loss_parallel) keep each rank's V/t.
// The planner priced every engine's head as vocab-parallel, so llama3-8b at tp 8 and 8,192 tokens
// was told 10 GiB less memory per GPU than the worker's head holds.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { wireOf } from "../../planner/wire/wire.js";
import { wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import type { Engine } from "../../planner/engine.js";
import type { Hardware, Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { predictedVolumes } from "../../executor/comms.js";
import { hardware, preset } from "../planner/fixtures.js";

const paraplan = loadEngine("paraplan", undefined);
const vocabParallel: Engine = { ...paraplan, tensorParallel: { ...paraplan.tensorParallel, gathersLogits: false } };
const m = preset("llama3-8b");
const hw = hardware("dgx-h100");
// 8 GPUs, tp 8 with sequence parallelism: 16 sequences of 8,192 tokens, micro-batch 1, so 16
// micro-batches, each 8,192 tokens of logits over the vocabulary padded to a multiple of 128·8:
// 128,256 → 129,024.
const training = (engine: Engine): Training => ({ gpus: 8, globalBatch: 16, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine });
const plan: Plan = { tp: 8, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: true, schedule: "1f1b" };
const V = 129_024;
const linksOf = (h: Hardware, p: Plan) => wireLinks(h, place(h, { tp: p.tp, cp: 1, dp: p.dp, pp: p.pp, ep: 1, etp: 1 }));
const T = 8192;

describe("the worker's gathered logits (paraplan: tensorParallel.gathersLogits)", () => {
  it("the built-ins: paraplan gathers, torchtitan (loss_parallel) and Megatron do not", () => {
    expect(paraplan.tensorParallel.gathersLogits).toBe(true);
    expect(loadEngine("paraplan-compile", undefined).tensorParallel.gathersLogits).toBe(true);
    for (const name of ["torchtitan", "megatron-core", "fsdp"]) expect(loadEngine(name, undefined).tensorParallel.gathersLogits).toBe(false);
  });

  it("memory: the head's logits over all V, not V/8: 12 bytes a logit (paraplan's logitBytes) × 8,192 × 129,024 × 7/8 more", () => {
    const gathered = evaluatePlan(m, hw, training(paraplan), plan).memory.activations;
    const sharded = evaluatePlan(m, hw, training(vocabParallel), plan).memory.activations;
    expect(paraplan.logitBytes).toBe(12);
    expect(gathered - sharded).toBeCloseTo(12 * T * V * (7 / 8), 0); // 11.1 GB
  });

  it("the wire: one all-gather of the 16-bit logits a micro-batch, 2 × 8,192 × 129,024 bytes, forward only", () => {
    const items = wireOf(m, training(paraplan), plan, linksOf(hw, plan)).filter((i) => i.id === "tp-logits");
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: "allGather", pass: "forward", bytes: 2 * T * V, size: 8, calls: 16, closedForm: true, worldBytes: 8 * 16 * 2 * T * V });
    expect(wireOf(m, training(vocabParallel), plan, linksOf(hw, plan)).some((i) => i.id === "tp-logits")).toBe(false);
  });

  it("time: the closed form's tp communication grows by 16 ring all-gathers on NVLink (450 GB/s at 0.8, 3 µs a step), the simulator's head by one a micro-batch", () => {
    const gather = 7 * 3e-6 + ((7 / 8) * 2 * T * V) / 360e9; // 5.1 ms
    const a = evaluatePlan(m, hw, training(paraplan), plan).time;
    const b = evaluatePlan(m, hw, training(vocabParallel), plan).time;
    expect(a.tpComm - b.tpComm).toBeCloseTo(16 * gather, 9);
    // the loss's passes run over 8× the logits too
    expect(a.compute).toBeGreaterThan(b.compute);
    const sa = buildSimCosts(m, hw, training(paraplan), plan).head.forward.tp;
    const sb = buildSimCosts(m, hw, training(vocabParallel), plan).head.forward.tp;
    expect(sa - sb).toBeCloseTo(gather, 12);
  });

  it("execute's volumes: tiny at tp 2 on two CPU ranks moved 2,883,584 all-gathered bytes a step in fp32, twice the planner's 16-bit 1,441,792 (16 layer gathers, the logits, the output layer's input, the embedding's gradient)", () => {
    const tiny = preset("tiny");
    const t: Training = { gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: paraplan };
    const p: Plan = { ...plan, tp: 2, microBatch: 8 };
    // 256 tokens: a 16-bit activation is 256·64·2 = 32 KiB, the logits 256·256·2 = 128 KiB; each
    // gathered by both ranks
    const act = 256 * 64 * 2;
    expect(predictedVolumes(tiny, t, p)["all_gather"]).toBe(2 * (16 * act + 256 * 256 * 2 + act + act));
    expect(2 * predictedVolumes(tiny, t, p)["all_gather"]!).toBe(2_883_584);
  });
});
