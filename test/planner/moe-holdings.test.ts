// What each pipeline rank of an MoE model holds, and what it is charged for: the two stages of a V
// on rank 0 (zbv, dualpipev), the recompute working set of an MoE layer, the multi-token-prediction
// block re-run under full recompute, the all-to-all buffers only where MoE layers are, and the step
// paced by the rank whose own compute and all-to-alls take longest. Each figure against the
// arithmetic in its comment.
import { describe, expect, it } from "vitest";
import { stageActivationBytes, stageMemory } from "../../planner/cost/memory.js";
import { moeRecomputeWorkingBytes, moeBufferBytes } from "../../planner/cost/moe-memory.js";
import { unevenStageMemory } from "../../planner/cost/stage-memory.js";
import { bufferBytes, modelStateBytes, totalBytes } from "../../planner/cost/memory.js";
import { activationOptions } from "../../planner/cost/activations.js";
import { moeLayerTimes } from "../../planner/cost/moe-time.js";
import { recomputeFlopsPerStep, layersForwardFlops } from "../../planner/cost/flops.js";
import { mtpForwardFlops } from "../../planner/cost/moe-flops.js";
import { stateBytes } from "../../planner/cost/engine-terms.js";
import { allRankPaces } from "../../planner/cost/pace.js";
import { evaluatePlan, microBatchCosts } from "../../planner/evaluate.js";
import { rankParamSplit } from "../../planner/model.js";
import { rankHeld, rankHoldings } from "../../planner/layout/stages.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { buildSimCosts } from "../../planner/sim/costs.js";
import { wireOf } from "../../planner/wire/wire.js";
import { callTime } from "../../planner/cost/collectives.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, model, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const GiB = 2 ** 30;
const training = (gpus: number, globalBatch: number, seqLen: number, extra: Partial<Training> = {}): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...extra,
});
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, ...p });

describe("a V schedule's rank 0 holds the first and the last stage", () => {
  it("the stages of each rank: r and 2p − 1 − r, the embedding and the output layer on rank 0", () => {
    // 32 layers, p = 4, a V: 8 stages of 4 layers; rank 0 holds stages 0 and 7, rank 3 stages 3 and 4
    const p = { pp: 4, vpp: 2, schedule: "dualpipev" as const };
    expect(rankHoldings(p, 32, 0)).toEqual({ ranges: [[0, 4], [28, 32]], layers: 8, embedding: true, head: true });
    expect(rankHoldings(p, 32, 3)).toEqual({ ranges: [[12, 16], [16, 20]], layers: 8, embedding: false, head: false });
    // looped (interleaved): rank 0 stages 0 and 4, rank 3 stages 3 and 7 with the output layer
    expect(rankHoldings({ ...p, schedule: "interleaved" }, 32, 3)).toEqual({ ranges: [[12, 16], [28, 32]], layers: 8, embedding: false, head: true });
  });

  it("Mixtral under dualpipev (tp 2, pp 4, dp 8, ep 8): rank 0's weights and optimizer states by hand", () => {
    // Mixtral: h 4096, 32 heads, 8 KV heads of 128, experts 8 × 3·4096·14336 = 176,160,768 each.
    // Attention split over tp 2: (4096·(4096 + 2·1024) + 4096·4096)/2 = 41,943,040/2 = 20,971,520;
    // replicated per layer: 2 RMSNorms 8,192 + router 8·4096 = 32,768; routed ÷ ep·etp = 8:
    // 8·176,160,768/8 = 176,160,768. Rank 0 holds stages 0 and 7 = 8 of 32 layers:
    // 8·(20,971,520 + 40,960 + 176,160,768) = 1,577,385,984, plus the embedding and the output
    // layer, 32000·4096/2 = 65,536,000 each, and the final norm 4,096: 1,708,462,080 parameters.
    // Weights 2 B each = 3,416,924,160 B = 3.18 GiB (was 7.12 GiB: every layer's experts counted).
    // Optimizer (12 B, ZeRO-1): dense 8·20,971,520 + 8·40,960 + 131,072,000 + 4,096 = 299,175,936
    // over dp 8 → 448,763,904; routed 8·176,160,768 = 1,409,286,144 over edp = 64/(4·8) = 2 →
    // 8,455,716,864; 8,904,480,768 B = 8.29 GiB.
    const m = preset("mixtral-8x7b");
    const t = training(64, 256, 4096);
    const p = plan({ tp: 2, pp: 4, vpp: 2, dp: 8, ep: 8, zero: 1, sequenceParallel: true, schedule: "dualpipev" });
    const first = stageMemory(m, H100, t, p, "first");
    expect(first.weights).toBe(2 * 1_708_462_080);
    expect(first.weights / GiB).toBeCloseTo(3.18, 2);
    expect(first.optimizer).toBeCloseTo(448_763_904 + 8_455_716_864, 0);
    // rank 3 holds the middle stages 3 and 4 and neither end: its 8 layers' dense 168,099,840
    expect(rankParamSplit(m, 4096, p, 3).dense).toBe(8 * (20_971_520 + 40_960));
    expect(stageMemory(m, H100, t, p, "last").weights).toBe(2 * 8 * (20_971_520 + 40_960 + 176_160_768));
  });

  it("Qwen3-30B-A3B under zbv (tp 1, pp 4, ep 32): rank 0 holds 12 of 48 layers, 2.01 GiB of weights", () => {
    // h 2048, 32 query and 4 KV heads of 128: attention 2048·(4096 + 2·512) + 4096·2048 = 18,874,368;
    // 2 RMSNorms 4,096 + q/k norms 2·128 = 256; router 128·2048 = 262,144; routed ÷ ep 32:
    // 128·3·2048·768/32 = 18,874,368. Per layer 38,015,232; 12 layers (stages 0 and 7 of 8, 6 each)
    // 456,182,784; embedding and output layer 151,936·2048 = 311,164,928 each, final norm 2,048:
    // 1,078,514,688 parameters, 2 B each = 2,157,029,376 B = 2.01 GiB (was 0.76 GiB).
    const m = preset("qwen3-30b-a3b");
    const t = training(128, 512, 4096);
    const p = plan({ tp: 1, pp: 4, vpp: 2, dp: 32, ep: 32, zero: 1, schedule: "zbv" });
    const first = stageMemory(m, H100, t, p, "first");
    expect(first.weights).toBe(2_157_029_376);
    // routed experts: 12 layers · 18,874,368 · (2 weights + 4 grads + 12 optimizer over edp 128/(4·32) = 1)
    expect(first.experts).toBe(12 * 18_874_368 * 18);
  });

  it("DeepSeek-style first dense layers: rank 0 of a V holds them beside the last stage's MoE layers", () => {
    // 16 layers, the first 3 dense, one MTP module; p = 4 in a V: stages of 2 layers.
    // rank 0: layers 0–1 (dense) and 14–15 (MoE) + the MTP module → 3 MoE blocks' experts;
    // rank 1: layers 2–3 (2 dense, 3 MoE) and 12–13 (MoE) → 3; rank 3: layers 6–9 → 4, no MTP.
    const m = model({
      layers: 16, hidden: 1024, heads: 8, kvHeads: 8, ffnHidden: 4096, vocab: 32000, seqLen: 4096, mlp: "swiglu", positional: "rope",
      mtpLayers: 1, moe: { experts: 16, topK: 2, expertFfnHidden: 512, denseLayers: 3, sharedExperts: 1, router: "sigmoid" },
    });
    const p = plan({ tp: 1, pp: 4, vpp: 2, dp: 16, ep: 8, schedule: "zbv" });
    const routed = (16 * 3 * 1024 * 512) / 8; // 16 experts × 3·h·f_e ÷ ep 8 = 3,145,728 a block
    expect(rankParamSplit(m, 4096, p, 0).expert).toBe(3 * routed);
    expect(rankParamSplit(m, 4096, p, 1).expert).toBe(3 * routed);
    expect(rankParamSplit(m, 4096, p, 3).expert).toBe(4 * routed);
  });
});

describe("full recompute's working set is the largest layer's: an MoE layer's routed copies", () => {
  it("Mixtral, tp 1, pp 1, ep 8, full recompute at 32k tokens: every activation byte by hand", () => {
    // s = 32768, b = 1, h = 4096: sbh = 134,217,728. No engine (Megatron's tensors), fused attention.
    // Kept: 32 layers × their 2sbh input = 8,589,934,592; logits 4·s·V = 4·32768·32000 =
    // 4,194,304,000; the final norm's input 2sbh = 268,435,456.
    // Working set of the MoE layer re-run (formulas-scale §1.6, ρ·T_r·k copies):
    //   attention side (a layer of no MLP): 8sbh replicated + (2 + 4·0.25 + 2)sbh = 13sbh kept
    //   without recompute, less the 2sbh input: 11sbh = 1,476,395,008;
    //   routed copies 1.25·32768·2 = 81,920 rows × (4h + 2·3·14336 = 102,400) = 8,388,608,000;
    //   router fp32 logits and probabilities 32768·8·8 = 2,097,152 → 9,867,100,160.
    // (a dense layer's, what was counted: (8 + 26 − 2)sbh = 4,294,967,296, 5.57 GB less)
    const m = preset("mixtral-8x7b");
    const t = training(64, 64, 32768);
    const p = plan({ tp: 1, pp: 1, dp: 64, ep: 8, zero: 3, recompute: "full" });
    expect(moeRecomputeWorkingBytes(m, t, p, activationOptions(t, p))).toBe(9_867_100_160);
    expect(stageActivationBytes(m, t, p, "only")).toBe(8_589_934_592 + 4_194_304_000 + 268_435_456 + 9_867_100_160);
  });

  it("at 1M tokens the plan tp 8 · pp 4 · dp 8 · ep 4 (full recompute) no longer fits: 20.8 GiB were missing", () => {
    // tp 8 with sequence parallelism, s = 1,048,576: sbh/t = 536,870,912. Dense working set
    // 32·sbh/t = 17,179,869,184; MoE: 11·sbh/t = 5,905,580,032 + routed 1.25·131,072·2 = 327,680 rows
    // × 102,400 = 33,554,432,000 + router 131,072·64 = 8,388,608 → 39,468,400,640: 22,288,531,456 B
    // (20.76 GiB) more on the last stage, which was shown at 69.3 GiB of 79.6.
    const m = preset("mixtral-8x7b");
    const t = training(256, 8, 1_048_576);
    const p = plan({ tp: 8, pp: 4, dp: 8, ep: 4, zero: 1, recompute: "full", sequenceParallel: true });
    expect(moeRecomputeWorkingBytes(m, t, p, activationOptions(t, p))).toBe(39_468_400_640);
    const r = evaluatePlan(m, H100, t, p);
    expect(r.memory.total).toBeGreaterThan(H100.memory);
    expect(r.memory.total / GiB).toBeGreaterThan(69.3 + 20.76);
  });
});

describe("DeepSeek-V3, pp 16 (3, 4 × 14, 2), ep 64, full recompute", () => {
  const m = preset("deepseek-v3");
  const hw = hardware("h800");
  const t = training(2048, 15360, 4096, { optimizerStates: "bf16" });
  const p = plan({ tp: 1, pp: 16, dp: 128, ep: 64, zero: 1, recompute: "full", stageLayers: [3, ...Array(14).fill(4), 2] });
  const microBatches = 15360 / 128; // 120
  const moe = moeLayerTimes(m, hw, t, p);

  it("the last rank's recompute re-runs its 2 MoE layers and the MTP module's: 3 layer forwards", () => {
    // 120 micro-batches × 3 × the MoE layer's forward (was 2: the MTP block left out)
    const costs = microBatchCosts(m, hw, t, p);
    const last = allRankPaces(m, p, costs.mix!, costs.head).at(-1)!;
    expect(last.index).toBe(15);
    expect(last.recompute).toBeCloseTo(3 * moe.forward, 12);
    // the hardware FLOPs re-run it too: every layer's forward and the MTP module's
    const tokens = { globalBatch: 15360, seqLen: 4096 };
    expect(recomputeFlopsPerStep(m, tokens, "full")).toBe(layersForwardFlops(m, 4096, 15360 * 4096) + mtpForwardFlops(m, 4096, 15360 * 4096));
    // and the simulator plays it before the output's backward
    expect(buildSimCosts(m, hw, t, p).head.recompute.compute).toBeCloseTo(moe.forward, 12);
  });

  it("the step is the largest rank's compute + recompute + all-to-alls, each of its own layers", () => {
    // Per rank and micro-batch: layers × (F + B) + recompute F each, + 3 passes × MoE layers ×
    // (dispatch + combine) — rank 14: 4 MoE layers; the last: 2 MoE layers + the MTP block and
    // the output work; rank 0: 3 dense layers, no all-to-all.
    const costs = microBatchCosts(m, hw, t, p);
    const wire = wireOf(m, t, p, costs.links);
    const a2a = wire.filter((i) => i.id === "ep-dispatch" || i.id === "ep-combine").reduce((s, i) => s + callTime(i), 0);
    const rank14 = 4 * (moe.forward + moe.backward) + 4 * moe.forward + 3 * 4 * a2a;
    const h = costs.head;
    const last = 2 * (moe.forward + moe.backward) + h.forward + h.backward + 2 * moe.forward + h.recompute!.full + 3 * 3 * a2a;
    expect(rank14).toBeGreaterThan(last);
    const r = evaluatePlan(m, hw, t, p, costs);
    expect(r.time.compute).toBeCloseTo(microBatches * 4 * (moe.forward + moe.backward), 9);
    expect(r.time.recompute).toBeCloseTo(microBatches * 4 * moe.forward, 9);
    expect(r.time.epComm).toBeCloseTo(microBatches * 3 * 4 * a2a, 9);
  });

  it("the all-to-all buffers are charged only to ranks holding MoE layers", () => {
    // rank 0 holds the 3 dense layers: no buffers; rank 1 (4 MoE layers) holds
    // 2 ways × 2 B × 1.25·4096·8 copies × 7168 = 1,174,405,120 B.
    expect(moeBufferBytes(m, t, p)).toBe(1_174_405_120);
    const first = unevenStageMemory(m, hw, t, p, 0);
    const second = unevenStageMemory(m, hw, t, p, 1);
    // rank 0 by hand from its parts: states + activations + gradient buffers, no MoE buffers
    const s = stateBytes(t, 8);
    const dense = modelStateBytes(rankParamSplit(m, 4096, p, 0).dense, 1, 128, s);
    const allocated0 = dense.weights + dense.gradients + dense.optimizer + first.activations + bufferBytes(m, 1, 128, 1, t, 3);
    expect(first.total).toBeCloseTo(totalBytes(hw, allocated0), 0);
    const states1 = second.weights + second.gradients + second.optimizer;
    expect(second.total).toBeCloseTo(totalBytes(hw, states1 + second.activations + bufferBytes(m, 1, 128, 1, t, 4) + 1_174_405_120), 0);
  });
});

describe("rankHeld: rankHoldings without the ranges (what the search asks of a dense model)", () => {
  it("the same layers, embedding and head on every rank of every placement", () => {
    // even splits under each schedule (a V's two stages a rank, looped v stages), uneven ones
    // (one stage a rank, and p·v virtual stages), and no pipeline
    const plans: Array<Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers">> = [{ pp: 1, vpp: 1, schedule: "1f1b" }];
    for (const pp of [2, 3, 4, 8])
      for (const [vpp, schedule] of [[1, "1f1b"], [1, "gpipe"], [2, "interleaved"], [3, "interleaved"], [2, "zb1p"], [2, "zbv"], [2, "dualpipev"]] as const) plans.push({ pp, vpp, schedule });
    plans.push({ pp: 4, vpp: 1, schedule: "1f1b", stageLayers: [7, 9, 9, 7] });
    plans.push({ pp: 2, vpp: 2, schedule: "interleaved", stageLayers: [7, 9, 9, 7] });
    let compared = 0;
    for (const p of plans)
      for (let rank = 0; rank < p.pp; rank++) {
        const { ranges, ...rest } = rankHoldings(p, 32, rank);
        expect(ranges.length).toBeGreaterThan(0);
        expect(rankHeld(p, 32, rank)).toEqual(rest);
        compared++;
      }
    expect(compared).toBe(1 + 7 * (2 + 3 + 4 + 8) + 4 + 2); // no pipeline, 7 placements of 4 pp, 2 uneven
  });

  it("rank 3 of 4 interleaved (v 2) over 32 layers: 8 layers, the output layer, not the embedding", () => {
    // looped: stages 3 and 7 of 8, 4 layers each; stage 7 is the last
    expect(rankHeld({ pp: 4, vpp: 2, schedule: "interleaved" }, 32, 3)).toEqual({ layers: 8, embedding: false, head: true });
    // a V: rank 3 holds the middle stages 3 and 4, neither end
    expect(rankHeld({ pp: 4, vpp: 2, schedule: "zbv" }, 32, 3)).toEqual({ layers: 8, embedding: false, head: false });
  });
});
