// The cost model's closed forms against the papers they come from (one file: one module load).
import { describe, expect, it } from "vitest";
import { modelStateBytes, modelStateTotal } from "../../planner/cost/memory.js";
import { stateBytes } from "../../planner/cost/engine-terms.js";
import { loadEngine } from "../../src/load-engine.js";
import { layerActivationBytes } from "../../planner/cost/activations.js";
import { expectRel, model, preset, hardware } from "./fixtures.js";
import { modelFlopsPerStep, recomputeFlopsPerStep } from "../../planner/cost/flops.js";
import { totalParams } from "../../planner/model.js";
import { bubbleFraction, inFlightLayers } from "../../planner/cost/pipeline.js";
import { allGatherTime, allReduceTime, p2pTime, reduceScatterTime } from "../../planner/cost/collectives.js";
import { place } from "../../planner/layout/groups.js";
import type { Link } from "../../planner/types.js";

// ─── zero-model-states ───────────────────────────────────────────────────────────────
// ZeRO model-state memory against the paper's worked example.
// Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter
// Models", §3 and Fig. 1: Ψ = 7.5B parameters, Nd = 64 data-parallel ranks, mixed-precision
// Adam (K = 12) → 120 GB (baseline), 31.4 GB (Pos), 16.6 GB (Pos+g), 1.9 GB (Pos+g+p).

const PSI = 7.5e9;
const D = 64;
const GB = 1e9;

const total = (zero: number, params = PSI, dp = D) => {
  const s = modelStateBytes(params, zero, dp);
  return s.weights + s.gradients + s.optimizer;
};

describe("modelStateBytes — ZeRO paper Fig. 1 (Ψ = 7.5B, d = 64)", () => {
  it.each([
    [0, 120],
    [1, 31.4],
    [2, 16.6],
    [3, 1.9],
  ])("stage %i holds %f GB per GPU", (zero, paperGB) => {
    expect(total(zero) / GB).toBeCloseTo(paperGB, 1);
  });

  it("splits into 2Ψ weights, 2Ψ gradients and 12Ψ optimizer states, sharded stage by stage", () => {
    // Paper §3: K = 12 bytes of optimizer state per parameter (fp32 master, momentum, variance).
    const s0 = modelStateBytes(PSI, 0, D);
    expect(s0).toEqual({ weights: 15e9, gradients: 15e9, optimizer: 90e9 });
    const s1 = modelStateBytes(PSI, 1, D);
    expect(s1.weights).toBe(15e9);
    expect(s1.gradients).toBe(15e9);
    expect(s1.optimizer).toBeCloseTo(90e9 / 64, 0); // 1.40625 GB
    const s2 = modelStateBytes(PSI, 2, D);
    expect(s2.weights).toBe(15e9);
    expect(s2.gradients).toBeCloseTo(15e9 / 64, 0);
    const s3 = modelStateBytes(PSI, 3, D);
    expect(s3.weights).toBeCloseTo(15e9 / 64, 0);
  });

  it("with one data-parallel rank every stage keeps the full 16Ψ", () => {
    for (const z of [0, 1, 2, 3]) expect(total(z, PSI, 1)).toBe(120e9);
  });

  // FSDP under a 16-bit MixedPrecision policy (profiles/engines/fsdp.json): the fp32 shard is the
  // master the optimizer steps, and the reduced gradient shard is cast back to fp32
  // (_cast_grad_to_param_dtype). Hand count, Ψ = 7.5B, d = 64: SHARD_GRAD_OP keeps the 16-bit
  // parameters whole (2Ψ = 15 GB) beside 4Ψ/d gradients and 12Ψ/d master + moments; FULL_SHARD
  // keeps 4Ψ/d parameters, 4Ψ/d gradients and 8Ψ/d moments, ZeRO's 16Ψ/d again.
  it("FSDP's fp32 shards: ZeRO-2 2Ψ + 16Ψ/d, ZeRO-3 16Ψ/d with the master counted as weights", () => {
    const fsdp = stateBytes({ engine: loadEngine("fsdp", undefined), precision: "bf16" }, 12);
    expect(fsdp).toMatchObject({ shardedGrad: 4, shardedMaster: true });
    const s2 = modelStateBytes(PSI, 2, D, fsdp);
    expect(s2).toEqual({ weights: 15e9, gradients: 30e9 / 64, optimizer: 90e9 / 64 });
    const s3 = modelStateBytes(PSI, 3, D, fsdp);
    expect(s3).toEqual({ weights: 30e9 / 64, gradients: 30e9 / 64, optimizer: 60e9 / 64 });
    for (const z of [0, 1, 2, 3]) {
      const o = modelStateBytes(PSI, z, D, fsdp);
      expect(modelStateTotal(PSI, z, D, fsdp)).toBeCloseTo(o.weights + o.gradients + o.optimizer, -3);
    }
    // DeepSpeed's 16-bit partitions keep ZeRO's own figures (Fig. 1: 16.6 GB at stage 2)
    const ds = stateBytes({ engine: loadEngine("megatron-deepspeed", undefined), precision: "bf16" }, 12);
    expect(modelStateTotal(PSI, 2, D, ds) / GB).toBeCloseTo(16.6, 1);
  });
});

// ─── activations ───────────────────────────────────────────────────────────────
// Activation memory per layer against Korthikanti et al. 2022, "Reducing Activation
// Recomputation in Large Transformer Models", Table 2 (16-bit activations, bytes per layer).
// The closed forms below are typed from the paper's table, not from the implementation.

interface Case {
  label: string;
  s: number;
  b: number;
  h: number;
  a: number;
  t: number;
}

const CASES: Case[] = [
  { label: "GPT-3 175B", s: 2048, b: 1, h: 12288, a: 96, t: 8 },
  { label: "MT-NLG 530B", s: 2048, b: 1, h: 20480, a: 128, t: 8 },
  { label: "GPT 1T, b 2", s: 2048, b: 2, h: 25600, a: 160, t: 8 },
  { label: "small odd", s: 37, b: 3, h: 120, a: 5, t: 5 },
];

/** A GPT layer as the paper assumes it: 4h GELU MLP, multi-head attention, dropout. */
const gpt = (c: Case, extra: Record<string, unknown> = {}) =>
  model({
    layers: 1,
    hidden: c.h,
    heads: c.a,
    kvHeads: c.a,
    ffnHidden: 4 * c.h,
    vocab: 1000,
    seqLen: c.s,
    mlp: "gelu",
    positional: "learned",
    dropout: true,
    ...extra,
  });

const REL = 1e-12;

describe.each(CASES)("Korthikanti Table 2, $label (s $s, b $b, h $h, a $a, t $t)", (c) => {
  const { s, b, h, a, t } = c;
  const sbh = s * b * h;
  const m = gpt(c);
  const act = (tp: number, sequenceParallel: boolean, recompute: "none" | "selective" | "full", fusedAttention = false) =>
    layerActivationBytes(m, b, { seqLen: s, tp, sequenceParallel, recompute, fusedAttention });

  it("no parallelism: sbh(34 + 5as/h)", () => {
    expectRel(act(1, false, "none"), sbh * (34 + (5 * a * s) / h), REL);
  });
  it("tensor parallel: sbh(10 + 24/t + 5as/(ht))", () => {
    expectRel(act(t, false, "none"), sbh * (10 + 24 / t + (5 * a * s) / (h * t)), REL);
  });
  it("tensor + sequence parallel: sbh/t·(34 + 5as/h)", () => {
    expectRel(act(t, true, "none"), (sbh / t) * (34 + (5 * a * s) / h), REL);
  });
  it("tensor parallel + selective recompute: sbh(10 + 24/t)", () => {
    expectRel(act(t, false, "selective"), sbh * (10 + 24 / t), REL);
  });
  it("tensor + sequence parallel + selective recompute: 34sbh/t", () => {
    expectRel(act(t, true, "selective"), (34 * sbh) / t, REL);
  });
  it("full recompute: 2sbh, and 2sbh/t with sequence parallel", () => {
    expectRel(act(1, false, "full"), 2 * sbh, REL);
    expectRel(act(t, false, "full"), 2 * sbh, REL);
    expectRel(act(t, true, "full"), (2 * sbh) / t, REL);
  });
  it("fused (flash) attention drops the 5as/h term of the score tensors", () => {
    expectRel(act(1, false, "none", true), 34 * sbh, REL);
    expectRel(act(t, false, "none", true), sbh * (10 + 24 / t), REL);
    expectRel(act(t, true, "none", true), (34 * sbh) / t, REL);
  });
});

describe("variants derived from the paper's per-tensor list (§4.1)", () => {
  // §4.1 lists per layer: attention block 11sbh + 5as²b (QKV input 2sbh, Q and K 4sbh,
  // softmax output 2as²b, softmax dropout mask as²b, dropout output 2as²b, V 2sbh,
  // projection input 2sbh, dropout mask sbh); MLP 19sbh (inputs 2sbh and 8sbh, GELU input 8sbh,
  // dropout mask sbh); two LayerNorm inputs 4sbh.
  const c = { label: "", s: 2048, b: 1, h: 12288, a: 96, t: 8 };
  const sbh = c.s * c.b * c.h;

  it("without dropout: the two sbh masks go and the scores keep only the 2as²b softmax output → sbh(32 + 2as/h)", () => {
    const m = gpt(c, { dropout: false });
    const bytes = layerActivationBytes(m, c.b, { seqLen: c.s, tp: 1, sequenceParallel: false, recompute: "none", fusedAttention: false });
    expectRel(bytes, sbh * (32 + (2 * c.a * c.s) / c.h), REL);
  });

  it("grouped-query attention with g = a/8 key/value heads: K and V shrink from 4sbh to 4sbh/8 → sbh(30.5 + 5as/h)", () => {
    const m = gpt(c, { kvHeads: c.a / 8 });
    const bytes = layerActivationBytes(m, c.b, { seqLen: c.s, tp: 1, sequenceParallel: false, recompute: "none", fusedAttention: false });
    expectRel(bytes, sbh * (30.5 + (5 * c.a * c.s) / c.h), REL);
  });

  it("GPT-3 175B with tp 8, sequence parallel and selective recompute keeps 34·2048·12288/8 B ≈ 107 MB per layer", () => {
    const m = gpt(c);
    const bytes = layerActivationBytes(m, 1, { seqLen: c.s, tp: 8, sequenceParallel: true, recompute: "selective", fusedAttention: false });
    expect(bytes).toBe(106_954_752);
  });

  it("DeepSeek-V3's MLA keeps its own widths: Q, K 128·192, V and the output 128·128, the two latents twice", () => {
    // Per token, no recompute, tp 1, flash attention (no scores): norms 4h, the down-projections'
    // input 2h, the MLP input 2h (dense layer, no dropout) = 8·7168 = 57,344; Q and K 2·2·24,576 =
    // 98,304; V and the output 2·2·16,384 = 65,536; the latents (r_q 1536, r_kv 512) as norm and
    // up-projection inputs 2·2·2048 = 8,192; SwiGLU's gate, up and product 3·2·18,432 = 110,592.
    const m = preset("deepseek-v3");
    const bytes = layerActivationBytes(m, 1, { seqLen: 4096, tp: 1, sequenceParallel: false, recompute: "selective", fusedAttention: true });
    expect(bytes).toBe(4096 * (57_344 + 98_304 + 65_536 + 8_192 + 110_592));
  });
});

// ─── flops ───────────────────────────────────────────────────────────────
// Training FLOPs against Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on
// GPU Clusters Using Megatron-LM", Eq. 3 and its §5.1 estimate of end-to-end training time.

const gpt3 = preset("gpt3-175b");
const L = 96;
const h = 12288;
const s = 2048;
const V = 51200;
const B = 1536;
const tokens = (globalBatch: number) => ({ globalBatch, seqLen: s });

describe("Narayanan et al. 2021 Eq. 3 — GPT-3 175B (L 96, h 12288, s 2048, V 51200, B 1536)", () => {
  it("the preset has the paper's shape", () => {
    expect([gpt3.layers, gpt3.hidden, gpt3.defaultSeqLen, gpt3.heads]).toEqual([L, h, s, 96]);
  });

  it("model FLOPs per iteration = 72·B·s·L·h²·(1 + s/(6h) + V/(12·L·h))", () => {
    const eq3 = 72 * B * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
    expectRel(modelFlopsPerStep(gpt3, tokens(B), V), eq3, 1e-12);
  });

  it("with full recompute: 96·B·s·L·h²·(1 + s/(6h) + V/(16·L·h))", () => {
    const eq = 96 * B * s * L * h * h * (1 + s / (6 * h) + V / (16 * L * h));
    expectRel(modelFlopsPerStep(gpt3, tokens(B), V) + recomputeFlopsPerStep(gpt3, tokens(B), "full"), eq, 1e-12);
  });

  it("no recompute adds nothing", () => {
    expect(recomputeFlopsPerStep(gpt3, tokens(B), "none")).toBe(0);
  });

  it("selective recompute re-runs only the attention core: 4·B·s²·h per layer (QKᵀ and scores·V)", () => {
    expectRel(recomputeFlopsPerStep(gpt3, tokens(B), "selective"), L * 4 * B * s * s * h, 1e-12);
  });

  it("scales linearly in the global batch", () => {
    expectRel(modelFlopsPerStep(gpt3, tokens(2 * B), V), 2 * modelFlopsPerStep(gpt3, tokens(B), V), 1e-12);
  });
});

describe("Narayanan et al. 2021 §5.1: 6 (8 with recompute) FLOPs per parameter per token, ≈ 34 days", () => {
  const P = totalParams(gpt3, s);
  const perTokenModel = modelFlopsPerStep(gpt3, tokens(B), V) / (B * s);
  const perTokenHardware = (modelFlopsPerStep(gpt3, tokens(B), V) + recomputeFlopsPerStep(gpt3, tokens(B), "full")) / (B * s);

  it("Eq. 3 per token ≈ 2·P·3 (forward + backward) within 5%", () => {
    expectRel(perTokenModel / (6 * P), 1, 0.05);
  });

  it("with full recompute ≈ 8·P per token within 5%", () => {
    expectRel(perTokenHardware / (8 * P), 1, 0.05);
  });

  it("T = 300B tokens on n = 1024 GPUs at X = 140 TFLOP/s each takes about 34 days", () => {
    const T = 300e9;
    const n = 1024;
    const X = 140e12;
    const day = 86400;
    // The paper's approximation 8TP/(nX), with P = 175e9 as printed:
    expect(Math.abs((8 * T * 175e9) / (n * X) / day - 34)).toBeLessThan(1); // 33.9 days
    // The same estimate from the cost model's FLOP count:
    expectRel((T * perTokenHardware) / (n * X) / day, 34, 0.05);
  });
});

// ─── pipeline ───────────────────────────────────────────────────────────────
// Pipeline schedules: bubble (Narayanan et al. 2021 §2.2) and in-flight activations on the first
// stage (Korthikanti et al. 2022 §4.2.3).

describe("bubbleFraction", () => {
  it("is (p−1)/m for 1F1B and GPipe", () => {
    expect(bubbleFraction("1f1b", 8, 1, 64)).toBeCloseTo(7 / 64, 15);
    expect(bubbleFraction("gpipe", 4, 1, 6)).toBeCloseTo(3 / 6, 15);
  });
  it("is (p−1)/(v·m) for interleaved 1F1B", () => {
    expect(bubbleFraction("interleaved", 8, 3, 64)).toBeCloseTo(7 / (3 * 64), 15);
    expect(bubbleFraction("interleaved", 4, 2, 8)).toBeCloseTo(3 / 16, 15);
  });
  it("is 0 without a pipeline", () => {
    expect(bubbleFraction("1f1b", 1, 1, 16)).toBe(0);
  });
});

describe("inFlightLayers (first stage)", () => {
  const L = 96;
  it("1F1B holds min(p, m) micro-batches of L/p layers", () => {
    expect(inFlightLayers("1f1b", L, 8, 1, 64)).toBe(96); // 8 · 12
    expect(inFlightLayers("1f1b", L, 8, 1, 3)).toBe(36); // 3 · 12
    expect(inFlightLayers("1f1b", L, 8, 1, 8)).toBe(96);
  });
  it("interleaved with many micro-batches holds L·(1 + (p−1)/(p·v))", () => {
    expect(inFlightLayers("interleaved", L, 8, 3, 64)).toBeCloseTo(96 * (1 + 7 / 24), 9); // 124
    expect(inFlightLayers("interleaved", L, 4, 2, 64)).toBeCloseTo(96 * (1 + 3 / 8), 9); // 132
    expect(inFlightLayers("interleaved", 48, 4, 12, 400)).toBeCloseTo(48 * (1 + 3 / 48), 9);
  });
  it("interleaved never holds more than all m·v chunks of its L/p layers (m·L/p)", () => {
    expect(inFlightLayers("interleaved", L, 8, 3, 1)).toBeLessThanOrEqual(12);
  });
  it("GPipe holds all m micro-batches: m·L/p", () => {
    expect(inFlightLayers("gpipe", L, 8, 1, 64)).toBe(64 * 12);
    expect(inFlightLayers("gpipe", L, 4, 1, 3)).toBe(3 * 24);
  });
  it("without a pipeline one micro-batch of all L layers", () => {
    expect(inFlightLayers("1f1b", L, 1, 1, 64)).toBe(96);
  });
});

// ─── collectives ───────────────────────────────────────────────────────────────
// Ring collectives, α–β model (Thakur et al. 2005; nccl-tests PERFORMANCE.md), hand-computed.

const link: Link = { kind: "nvlink", bandwidth: 100e9, latency: 5e-6, efficiency: 1 };
const M = 1e9; // bytes

describe("ring all-reduce: 2(n−1)α + 2(n−1)/n·M/B", () => {
  it("8 ranks, 1 GB, 100 GB/s, 5 µs: 70 µs + 17.5 ms = 17.57 ms", () => {
    // 2·7·5e-6 = 7e-5;  2·7/8 · 1e9/1e11 = 1.75 · 0.01 = 0.0175
    expect(allReduceTime(M, 8, link)).toBeCloseTo(0.01757, 12);
  });
  it("2 ranks: 2·5 µs + 1·10 ms = 10.01 ms", () => {
    expect(allReduceTime(M, 2, link)).toBeCloseTo(0.01001, 12);
  });
  it("link efficiency divides the bandwidth: 80% of 100 GB/s → 70 µs + 21.875 ms", () => {
    expect(allReduceTime(M, 8, { ...link, efficiency: 0.8 })).toBeCloseTo(0.021945, 12);
  });
  it("one rank costs nothing", () => {
    expect(allReduceTime(M, 1, link)).toBe(0);
  });
});

describe("all-gather and reduce-scatter: (n−1)α + (n−1)/n·M/B", () => {
  it("8 ranks, 1 GB: 35 µs + 8.75 ms = 8.785 ms", () => {
    expect(allGatherTime(M, 8, link)).toBeCloseTo(0.008785, 12);
    expect(reduceScatterTime(M, 8, link)).toBeCloseTo(0.008785, 12);
  });
  it("bandwidth term is half the all-reduce's", () => {
    const noLatency = { ...link, latency: 0 };
    expect(allGatherTime(M, 16, noLatency)).toBeCloseTo(allReduceTime(M, 16, noLatency) / 2, 15);
  });
  it("one rank costs nothing", () => {
    expect(allGatherTime(M, 1, link)).toBe(0);
    expect(reduceScatterTime(M, 1, link)).toBe(0);
  });
});

describe("point-to-point: α + M/B", () => {
  it("1 GB over 100 GB/s with 5 µs = 10.005 ms", () => {
    expect(p2pTime(M, link)).toBeCloseTo(0.010005, 12);
  });
});

describe("group links: a group inside one node uses NVLink, a wider one the network", () => {
  const hw = hardware("dgx-h100");
  const d = (tp: number, dp: number) => ({ tp, cp: 1, dp, pp: 1, ep: 1, etp: 1 });
  it("span ≤ 8 GPUs stays on the node link, 9+ crosses the network", () => {
    expect(place(hw, d(8, 2)).tp.link!.kind).toBe("nvlink");
    expect(place(hw, d(2, 8)).tp.link!.kind).toBe("nvlink");
    // dp groups of tp 8 · dp 2: ranks {0, 8}, … span 9 GPUs, across two nodes.
    expect(place(hw, d(8, 2)).dp.link!.kind).toBe("network");
  });
  it("DGX H100 figures: NVLink 450 GB/s each way, NDR 400 Gb/s = 50 GB/s per GPU", () => {
    expect(place(hw, d(8, 2)).tp.link!.bandwidth).toBe(450e9);
    expect(place(hw, d(8, 2)).dp.link!.bandwidth).toBe(50e9);
  });
});
