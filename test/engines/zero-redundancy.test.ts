// ZeRO-1 under paraplan's worker is DDP beside torch's ZeroRedundancyOptimizer: the gradients are
// all-reduced whole (zero1AllReduce), and step() broadcasts every parameter tensor on its own
// (zero_redundancy_optimizer.py _broadcast_params_from_rank), each call paying its latency. On two gloo CPU ranks, tiny's ZeRO-1 step traced 68 broadcasts
// and ran 41 ms where the one-gather pricing said 5.1 ms, and ranked ZeRO-1 above ZeRO-0 (12 ms
// measured). The tensor counts below are hand counts of the worker's modules, which
// test/worker/test_model_facts.py checks against the modules themselves.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { simulate } from "../../planner/sim/simulate.js";
import { chunkTensors, denseLayerTensors, moeLayerTensors, rankTensors } from "../../planner/cost/param-tensors.js";
import { rankHoldings } from "../../planner/layout/stages.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { predictedVolumes } from "../../executor/comms.js";
import { hardware, model, preset } from "../planner/fixtures.js";

const paraplan = loadEngine("paraplan", undefined);
const bucketed: Engine = { ...paraplan, dataParallel: { ...paraplan.dataParallel, zero1BroadcastPerTensor: false } };
const base: Plan = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const tensors = (name: string, plan: Pick<Plan, "pp" | "vpp" | "schedule">, rank: number) => {
  const m = preset(name);
  return rankTensors(m, rankHoldings(plan, m.layers, rank), plan.pp);
};

describe("parameter tensors a rank holds, as the worker's modules hold them", () => {
  it("GPT-style tiny: 16 a layer (two LayerNorms, q, k, v, o and two MLP linears, each with its bias), token and position tables, final LayerNorm, tied output: 68", () => {
    expect(denseLayerTensors(preset("tiny"))).toBe(16);
    expect(tensors("tiny", { pp: 1, vpp: 1, schedule: "1f1b" }, 0)).toBe(4 * 16 + 2 + 2);
  });
  it("llama3-8b: 9 a layer (two RMSNorms, q, k, v, o, three MLP matrices), token table, final norm, untied output: 291", () => {
    expect(tensors("llama3-8b", { pp: 1, vpp: 1, schedule: "1f1b" }, 0)).toBe(32 * 9 + 3);
  });
  it("Qwen2's q, k, v biases add 3 a layer; query/key norms 2", () => {
    const llama = preset("llama3-8b");
    expect(denseLayerTensors({ ...llama, qkvBias: true })).toBe(12);
    expect(denseLayerTensors({ ...llama, qkNorm: "head" })).toBe(11);
  });
  it("an MoE layer: the dense layer less its MLP, plus the router and three stacked expert matrices (mixtral: 10); a shared expert's three linears more", () => {
    const mixtral = preset("mixtral-8x7b");
    expect(moeLayerTensors(mixtral)).toBe(10);
    expect(moeLayerTensors({ ...mixtral, moe: { ...mixtral.moe!, sharedExperts: 1 } })).toBe(13);
    expect(tensors("mixtral-8x7b", { pp: 1, vpp: 1, schedule: "1f1b" }, 0)).toBe(32 * 10 + 3);
  });
  it("pipeline ranks: the first holds the tables, the last the final norm and its own copy of a tied output", () => {
    const pp2 = { pp: 2, vpp: 1, schedule: "1f1b" as const };
    expect(tensors("tiny", pp2, 0)).toBe(2 * 16 + 2);
    expect(tensors("tiny", pp2, 1)).toBe(2 * 16 + 2 + 1);
    // Interleaved, 8 layers on 2 ranks of 2 chunks: rank 1's second chunk ends the model.
    const m = model({ layers: 8, hidden: 64, heads: 4, vocab: 256, positional: "learned", mlp: "gelu", tiedEmbeddings: true, seqLen: 32 });
    expect(chunkTensors(m, rankHoldings({ pp: 2, vpp: 2, schedule: "interleaved" }, 8, 1), 2)).toEqual([32, 32 + 3]);
    expect(chunkTensors(m, rankHoldings({ pp: 2, vpp: 2, schedule: "interleaved" }, 8, 0), 2)).toEqual([32 + 2, 32]);
  });
});

describe("paraplan's ZeRO-1 step pays a broadcast's latency per tensor", () => {
  const m = preset("tiny");
  const hw = hardware("cpu");
  const training = (engine: Engine): Training => ({ gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine });
  // By hand: cpu's loopback link, 30 µs a ring step; 2 ranks, one step each; 68 calls where the
  // wire priced one.
  const alpha = 30e-6;
  it("the closed form: 67 × 30 µs more exposed data-parallel time than one gather", () => {
    expect(paraplan.dataParallel.zero1BroadcastPerTensor).toBe(true);
    const per = evaluatePlan(m, hw, training(paraplan), base).time;
    const one = evaluatePlan(m, hw, training(bucketed), base).time;
    expect(per.dpComm - one.dpComm).toBeCloseTo(67 * alpha, 12);
    expect(per.step - one.step).toBeCloseTo(67 * alpha, 12);
  });
  it("the simulator: the gather after the optimizer stands for 68 calls, the step 67 × 30 µs longer", () => {
    expect(buildSimCosts(m, hw, training(paraplan), base).weightSyncCalls).toEqual([[68]]);
    expect(buildSimCosts(m, hw, training(bucketed), base).weightSyncCalls).toBeUndefined();
    const per = simulate(m, hw, training(paraplan), base).step;
    const one = simulate(m, hw, training(bucketed), base).step;
    expect(per - one).toBeCloseTo(67 * alpha, 9);
  });
  it("nothing at ZeRO-0 or 2, nor on one rank", () => {
    for (const zero of [0, 2] as const) {
      const p = { ...base, zero };
      expect(evaluatePlan(m, hw, training(paraplan), p).time.step).toBeCloseTo(evaluatePlan(m, hw, training(bucketed), p).time.step, 15);
    }
    const single = { ...base, dp: 1, microBatch: 8 };
    expect(evaluatePlan(m, hw, { ...training(paraplan), gpus: 1 }, single).time.step).toBe(evaluatePlan(m, hw, { ...training(bucketed), gpus: 1 }, single).time.step);
  });
  it("megatron-core's distributed optimizer gathers its buckets: no per-tensor calls", () => {
    expect(loadEngine("megatron-core", undefined).dataParallel.zero1BroadcastPerTensor).toBe(false);
  });
});

describe("paraplan's ZeRO-1 reduces with DDP's all-reduce, not a reduce-scatter", () => {
  const m = preset("tiny");
  const training: Training = { gpus: 2, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: paraplan };
  it("the volumes execute compares are the ones tiny's ZeRO-1 step moved on two CPU ranks: all-reduce 1,747,968 bytes (2 × 218,496 fp32 gradients), none reduce-scattered", () => {
    expect(paraplan.dataParallel.zero1AllReduce).toBe(true);
    const v = predictedVolumes(m, training, base);
    // measured (runs/…/summary.json collectives, 2026-12-05): all_reduce 2 calls, 1,747,968 bytes
    expect(v["all_reduce"]).toBe(1_747_968);
    expect(v["reduce_scatter"]).toBeUndefined();
    // the broadcasts, under the worker's name, with one all-gather's bytes (measured: broadcast
    // 140 calls, 1,748,528 bytes: the 136 parameters' and two small ones)
    expect(v["broadcast"]).toBe(1_747_968);
    expect(v["all_gather"]).toBeUndefined();
  });
  it("the simulator plays the all-reduce, a longer step than with the reduce-scatter it replaces", () => {
    const hw = hardware("cpu");
    const all = buildSimCosts(m, hw, training, base);
    expect(all.zero1AllReduce).toBe(true);
    const rs = buildSimCosts(m, hw, { ...training, engine: { ...paraplan, dataParallel: { ...paraplan.dataParallel, zero1AllReduce: false } } }, base);
    expect(rs.zero1AllReduce).toBeUndefined();
    const t = simulate(m, hw, training, base);
    expect(t.step).toBeGreaterThan(simulate(m, hw, { ...training, engine: { ...paraplan, dataParallel: { ...paraplan.dataParallel, zero1AllReduce: false } } }, base).step);
  });
});
