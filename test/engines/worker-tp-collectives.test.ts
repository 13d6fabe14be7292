// The tensor-parallel collectives paraplan's worker runs beyond Megatron's four a layer, each seen
// on two gloo CPU ranks (paraplan execute --device cpu --gpus 2 --tp 2, 2026-12-05; the worker's
// CPU tensors are fp32, so its all-gathers and reduce-scatters carry twice the planner's 16-bit
// activations, while gradients travel at the engine's 4 bytes on both sides):
//   tensorParallel.normGradsPerTensor: under sequence parallelism, one all-reduce a norm tensor a
//     step (Trainer.align_grads);
//   tensorParallel.learnedEmbeddingAllReduce: with learned positions under sequence parallelism,
//     the token embedding's whole output all-reduced (then split), not reduce-scattered;
//   tensorParallel.inputGradPerLinear: without sequence parallelism, q, k, v and a gated MLP's
//     two input linears each all-reduce their input's gradient.
import { describe, expect, it } from "vitest";
import { evaluatePlan, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { wireOf } from "../../planner/wire/wire.js";
import { callTime } from "../../planner/cost/collectives.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { predictedVolumes } from "../../executor/comms.js";
import { hardware, model, preset } from "../planner/fixtures.js";

const paraplan = loadEngine("paraplan", undefined);
const megatronLike: Engine = {
  ...paraplan,
  tensorParallel: { ...paraplan.tensorParallel, normGradsPerTensor: false, learnedEmbeddingAllReduce: false, inputGradPerLinear: false },
};
const tiny = preset("tiny");
// tiny with rotary positions and SwiGLU, untied (a Llama-style block at tiny's size)
const tinyRope = model({ layers: 4, hidden: 64, heads: 4, vocab: 256, seqLen: 32, mlp: "swiglu", positional: "rope", tiedEmbeddings: false });
const t: Training = { gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: paraplan };
const tp2 = (sp: boolean): Plan => ({ tp: 2, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: sp, schedule: "1f1b" });
// One micro-batch of 256 tokens: a 16-bit activation is 256 · 64 · 2 = 32 KiB.
const ACT = 256 * 64 * 2;

describe("the worker's tensor-parallel collectives, against what two CPU ranks measured", () => {
  it("tiny (LayerNorm, learned positions) with sequence parallelism: 18 norm tensors' gradients (64 fp32 values each) and the embedding's output a rank; the run's 140,288 all-reduced bytes are those with the activation in fp32, its 2,228,224 reduce-scattered bytes the 17 others' (16 layers', the output layer's input gradient) in fp32", () => {
    const v = predictedVolumes(tiny, t, tp2(true));
    expect(v["all_reduce"]).toBe(2 * (18 * 64 * 4 + ACT));
    expect(2 * (18 * 64 * 4 + 2 * ACT)).toBe(140_288);
    expect(v["reduce_scatter"]).toBe(2 * 17 * ACT);
    expect(2 * v["reduce_scatter"]!).toBe(2_228_224);
  });

  it("Llama-style with sequence parallelism: 9 RMSNorm weights a rank, 4,608 bytes; no table gradient (the embedding reduce-scatters onto the sequence)", () => {
    expect(predictedVolumes(tinyRope, t, tp2(true))["all_reduce"]).toBe(4_608);
  });

  it("Llama-style without sequence parallelism: 30 all-reduces a rank, 4 layers × (2 forward + 5 backward) and the embedding's and output layer's; the fp32 run moved exactly twice the planner's 16-bit 1,966,080 bytes", () => {
    expect(predictedVolumes(tinyRope, t, tp2(false))["all_reduce"]).toBe(2 * 30 * ACT);
    expect(2 * predictedVolumes(tinyRope, t, tp2(false))["all_reduce"]!).toBe(3_932_160);
  });

  it("none of it where the stack does as Megatron (one f operator a sublayer, coalesced norm gradients, a sharded table gradient)", () => {
    expect(predictedVolumes(tinyRope, { ...t, engine: megatronLike }, tp2(false))["all_reduce"]).toBe(2 * 18 * ACT);
    expect(predictedVolumes(tiny, { ...t, engine: megatronLike }, tp2(true))["all_reduce"]).toBeUndefined();
    for (const name of ["torchtitan", "megatron-core"]) {
      const e = loadEngine(name, undefined).tensorParallel;
      expect([e.normGradsPerTensor, e.learnedEmbeddingAllReduce, e.inputGradPerLinear]).toEqual([false, false, false]);
    }
  });

  it("the closed form charges them: llama3-8b at tp 8 without sequence parallelism, 3 more all-reduces of each layer's 2 × 4,096 × 4,096-byte activation a backward, 4 micro-batches × 32 layers", () => {
    const m = preset("llama3-8b");
    const hw = hardware("dgx-h100");
    const tr: Training = { gpus: 8, globalBatch: 4, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: paraplan };
    const p: Plan = { ...tp2(false), tp: 8, microBatch: 1 };
    const links = wireLinks(hw, place(hw, { tp: 8, cp: 1, dp: 1, pp: 1, ep: 1, etp: 1 }));
    const layerCall = wireOf(m, tr, p, links).find((i) => i.id === "tp-layer")!;
    expect(layerCall).toMatchObject({ kind: "allReduce", bytes: 2 * 4096 * 4096 });
    const a = evaluatePlan(m, hw, tr, p).time.tpComm;
    const b = evaluatePlan(m, hw, { ...tr, engine: { ...paraplan, tensorParallel: { ...paraplan.tensorParallel, inputGradPerLinear: false } } }, p).time.tpComm;
    expect(a - b).toBeCloseTo(4 * 32 * 3 * callTime(layerCall), 12);
  });
});
