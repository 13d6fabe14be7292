// What one step puts on the wire (planner/wire), checked against hand-sized numbers, and the closed
// form's communication times against the textbook formulas (Shoeybi et al. 2019 §3; Narayanan
// et al. 2021 §2.2, §4.1; Rajbhandari et al. 2020 §5–7 for the ZeRO volumes).
import { describe, expect, it } from "vitest";
import { allGatherTime, allReduceTime, callTime, p2pTime } from "../../planner/cost/collectives.js";
import { stepTime } from "../../planner/cost/time.js";
import { microBatchCosts, wireLinks } from "../../planner/evaluate.js";
import { place } from "../../planner/layout/groups.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { gradientBucketBytes, paddedVocab } from "../../planner/wire/facts.js";
import { type WireItem, type WireKind, stepVolumes, wireOf, worldVolumes } from "../../planner/wire/wire.js";
import type { Hardware, Plan, Training, ZeroStage } from "../../planner/types.js";
import { loadProfile } from "../../src/load.js";
import { loadEngine } from "../../src/load-engine.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import { expectRel, model, withoutFabric } from "./fixtures.js";

const H100 = withoutFabric(loadProfile("dgx-h100")); // the plain placement: the profile's own link objects

// A GPT-style model sized by hand: h = 1024, 8 layers, 16 heads, GELU MLP f = 4h, learned positions,
// tied embeddings, vocabulary 50 000, s = 2048.
const h = 1024;
const s = 2048;
const M = model({ layers: 8, hidden: h, heads: 16, vocab: 50000, seqLen: s, mlp: "gelu", positional: "learned", tiedEmbeddings: true, dropout: false });
// Per layer: QKV 3h² + projection h² + MLP 2·4h² = 12h² split tp ways; LayerNorms 2·2h, biases
// 3h + h + 4h + h: 13h replicated (Narayanan et al. 2021 §3.1).
const LAYER_MATRIX = 12 * h * h; // 12 582 912
const LAYER_SMALL = 13 * h; // 13 312

const training = (gpus: number, globalBatch: number, overlapGradReduce = true): Training => ({
  gpus, globalBatch, seqLen: s, precision: "bf16", fusedAttention: true, overlapGradReduce,
});
const linksOf = (hw: Hardware, p: Plan) => wireLinks(hw, place(hw, { tp: p.tp, cp: 1, dp: p.dp, pp: p.pp, ep: 1, etp: 1 }));
const byId = (wire: WireItem[], id: string) => wire.filter((i) => i.id === id);
const one = (wire: WireItem[], id: string) => {
  const xs = byId(wire, id);
  expect(xs, id).toHaveLength(1);
  return xs[0]!;
};

// tp 2 · pp 2 · dp 2 on 8 GPUs (one 8-GPU node), B 16, micro-batch 2: 16/(2·2) = 4 micro-batches,
// 4 layers a stage.
const A: Plan = { ...ONE_PLAN, tp: 2, pp: 2, dp: 2, microBatch: 2 };
const TA = training(8, 16);
const ACT = 2 * 2 * s * h; // 2 bytes · b · s · h = 8 388 608
const VPAD2 = 50176; // ⌈50000 / 256⌉ · 256 = 196 · 256
const VPAD1 = 50048; // ⌈50000 / 128⌉ · 128 = 391 · 128

describe("facts", () => {
  it("pads the vocabulary to 128·tp and sizes Megatron-Core's gradient bucket", () => {
    expect(paddedVocab(50000, 2)).toBe(VPAD2);
    expect(paddedVocab(50000, 1)).toBe(VPAD1);
    expect(paddedVocab(256, 2)).toBe(256);
    expect(gradientBucketBytes(4)).toBe(2 * 40e6); // max(40M, 4M) parameters, 2 bytes
    expect(gradientBucketBytes(100)).toBe(2 * 100e6);
  });
});

describe("wireOf: tp 2 · pp 2 · dp 2, tied embeddings", () => {
  const wire = wireOf(M, TA, A, linksOf(H100, A));

  it("lists the items of the step", () => {
    expect(wire.map((i) => `${i.id}:${i.kind}`)).toEqual([
      "tp-layer:allReduce",
      "tp-embedding:allReduce",
      "tp-head:allReduce",
      "pp-activation:p2p",
      "pp-gather:allGather",
      "tied-embedding:allReduce",
      "dp-gradients:allReduce",
    ]);
  });

  it("tp-layer: 2·b·s·h, microBatches·layers/pp·2 passes·2 calls", () => {
    const i = one(wire, "tp-layer");
    expect(i).toMatchObject({ group: "tp", kind: "allReduce", bytes: 8388608, size: 2, unit: "layer-pass", perUnit: 2, hides: "none", closedForm: true });
    expect(i.bytes).toBe(ACT);
    expect(i.calls).toBe(4 * 4 * 2 * 2); // 64
    // all 8 ranks make 64 calls of ACT
    expect(i.worldBytes).toBe(8 * 64 * ACT);
    // the whole node: NVLink
    expect(i.link).toBe(H100.intra);
    expect(i.where).toBe("node");
  });

  it("the embedding's and output layer's tp collectives are left to the simulator; the step's volumes count them on their stage's 2 tp · 2 dp ranks, 4 micro-batches", () => {
    const e = one(wire, "tp-embedding");
    expect(e).toMatchObject({ pass: "forward", bytes: ACT, closedForm: false, worldBytes: 16 * ACT });
    const o = one(wire, "tp-head");
    expect(o).toMatchObject({ pass: "backward", bytes: ACT, closedForm: false, worldBytes: 16 * ACT, calls: 4 });
  });

  it("pp-activation: act/tp each way per micro-batch; the tp group all-gathers on arrival", () => {
    const p = one(wire, "pp-activation");
    expect(p).toMatchObject({ group: "pp", kind: "p2p", bytes: ACT / 2, size: 2, calls: 2 * 4, closedForm: true });
    // 1 boundary · 2 ways · 4 micro-batches · 2 replicas = 16 crossings, each tp rank sending ACT/2:
    // 16·ACT sent, as many received.
    expect(p.worldBytes).toBe(32 * ACT);
    const g = one(wire, "pp-gather");
    expect(g).toMatchObject({ group: "tp", kind: "allGather", bytes: ACT, size: 2, calls: 8 });
    expect(g.worldBytes).toBe(16 * 2 * ACT); // 16 crossings, 2 ranks gathering ACT each
  });

  // Megatron-LM all-reduces the embedding's main_grad, fp32 under bf16 (4 bytes: training.py @ v2.6
  // allreduce of main_grad; finalize_model_grads in core).
  it("tied embedding: 4·V'·h/tp (fp32 main_grad under bf16) once a step between the first and last stage", () => {
    const tied = one(wire, "tied-embedding");
    expect(tied.bytes).toBe((4 * VPAD2 * h) / 2); // 102 760 448
    expect(tied.bytes).toBe(102760448);
    expect(tied).toMatchObject({ kind: "allReduce", size: 2, calls: 1, unit: "step" });
    expect(tied.worldBytes).toBe(2 * 2 * 2 * 102760448); // 2 stages · tp 2 · dp 2
  });

  it("dp gradients: 4 bytes · the last stage's parameters (Megatron reduces bf16 runs' gradients in fp32)", () => {
    // last stage: 4 layers · (12h²/2 + 13h) + the embedding copy V'·h/2 + final LayerNorm 2h
    const last = 4 * (LAYER_MATRIX / 2 + LAYER_SMALL) + (VPAD2 * h) / 2 + 2 * h;
    expect(last).toBe(50911232);
    // first stage: 4 layers + the embedding V'·h/2 + positions s·h
    const first = 4 * (LAYER_MATRIX / 2 + LAYER_SMALL) + (VPAD2 * h) / 2 + s * h;
    const g = one(wire, "dp-gradients");
    expect(g).toMatchObject({ kind: "allReduce", size: 2, calls: 1, hides: "backward", bytes: 4 * last });
    // every rank reduces its own stage's gradients: dp 2 · tp 2 · 4 bytes · (first + last)
    expect(g.worldBytes).toBe(2 * 2 * 4 * (first + last));
    expect(g.worldBytes).toBe(2 * 831340544);
    // --grad-reduce-in-bf16: 16-bit gradients, half the bytes
    const bf16 = one(wireOf(M, { ...TA, engine: withOverrides(loadEngine("megatron-core"), { gradReduceInBf16: true }) }, A, linksOf(H100, A)), "dp-gradients");
    expect(bf16.bytes).toBe(2 * last);
    expect(bf16.worldBytes).toBe(831340544);
  });

  it("worldVolumes sums by kind", () => {
    const last = 4 * (LAYER_MATRIX / 2 + LAYER_SMALL) + (VPAD2 * h) / 2 + 2 * h;
    const first = last - 2 * h + s * h;
    expect(worldVolumes(wire)).toEqual({
      allReduce: 512 * ACT + 8 * 102760448 + 16 * (first + last) + 2 * 16 * ACT,
      allGather: 32 * ACT,
      p2p: 32 * ACT,
    });
    // the bytes do not depend on the links
    expect(stepVolumes(M, TA, A)).toEqual(worldVolumes(wire));
  });

  it("full recompute runs the tp all-reduces of a third pass", () => {
    const w = wireOf(M, TA, { ...A, recompute: "full" }, linksOf(H100, A));
    expect(one(w, "tp-layer").calls).toBe(4 * 4 * 3 * 2); // 96
    expect(one(w, "tp-layer").worldBytes).toBe(8 * 96 * ACT);
  });

  it("sequence parallel: all-gather + reduce-scatter per all-reduce, no pp gather", () => {
    const w = wireOf(M, TA, { ...A, sequenceParallel: true }, linksOf(H100, A));
    expect(byId(w, "tp-layer").map((i) => [i.kind, i.calls, i.bytes])).toEqual([
      ["allGather", 64, ACT],
      ["reduceScatter", 64, ACT],
    ]);
    expect(byId(w, "pp-gather")).toEqual([]);
    expect(byId(w, "tp-embedding").map((i) => `${i.kind}/${i.pass}`)).toEqual(["reduceScatter/forward", "allGather/backward"]);
    expect(byId(w, "tp-head").map((i) => `${i.kind}/${i.pass}`)).toEqual(["allGather/forward", "reduceScatter/backward"]);
  });

  it("interleaving multiplies the pipeline transfers by vpp (Narayanan et al. 2021 §2.2)", () => {
    const p: Plan = { ...A, vpp: 2, schedule: "interleaved" };
    const w = wireOf(M, TA, p, linksOf(H100, p));
    expect(one(w, "pp-activation").calls).toBe(2 * 2 * 4);
    // 3 chunk boundaries (pp·vpp − 1) · 2 ways · 4 micro-batches · 2 replicas = 48 crossings
    expect(one(w, "pp-activation").worldBytes).toBe(2 * 48 * ACT);
  });

  it("no tp, pp or dp: nothing on the wire", () => {
    expect(wireOf(M, training(1, 4), { ...ONE_PLAN }, linksOf(H100, ONE_PLAN))).toEqual([]);
  });
});

describe("links: tp 8 · pp 2 · dp 2 on 32 GPUs of 8-GPU nodes", () => {
  const p: Plan = { ...ONE_PLAN, tp: 8, pp: 2, dp: 2 };
  const w = wireOf(M, training(32, 32), p, linksOf(H100, p));
  it("tp stays on NVLink; pp (stride 16) and dp (stride 8) cross the network", () => {
    expect(one(w, "tp-layer").link).toBe(H100.intra);
    expect(one(w, "pp-gather").link).toBe(H100.intra);
    expect(one(w, "pp-activation").link).toBe(H100.inter);
    expect(one(w, "tied-embedding").link).toBe(H100.inter);
    expect(one(w, "dp-gradients").link).toBe(H100.inter);
    expect(one(w, "dp-gradients").where).toBe("network");
  });
});

describe("the closed form prices the wire", () => {
  const timeOf = (p: Plan, t = TA) => stepTime(M, H100, t, p, microBatchCosts(M, H100, t, p));
  const charged = (p: Plan, ids: string[]) =>
    wireOf(M, TA, p, linksOf(H100, p)).filter((i) => ids.includes(i.id)).reduce((a, i) => a + i.calls * callTime(i), 0);

  it("tpComm = Σ calls·callTime of tp-layer = microBatches·L/pp·passes·2·allReduceTime(act, tp)", () => {
    for (const recompute of ["none", "selective", "full"] as const) {
      const p = { ...A, recompute };
      const passes = recompute === "full" ? 3 : 2;
      const textbook = 4 * (8 / 2) * passes * 2 * allReduceTime(ACT, 2, H100.intra);
      const t = timeOf(p).tpComm;
      expectRel(t, charged(p, ["tp-layer"]), 1e-12);
      expectRel(t, textbook, 1e-12);
    }
  });

  it("sequence parallel costs the same tp time as all-reduce in the ring model", () => {
    expectRel(timeOf({ ...A, sequenceParallel: true }).tpComm, timeOf(A).tpComm, 1e-12);
    // by hand: all-gather + reduce-scatter = 2·[(n−1)α + (n−1)/n·M/B] = all-reduce
    expectRel(allGatherTime(ACT, 4, H100.inter) * 2, allReduceTime(ACT, 4, H100.inter), 1e-12);
  });

  it("ppComm = 2·vpp·m·(p2p(act/tp) + allGather(act, tp)) + the tied all-reduce", () => {
    const tied = (4 * VPAD2 * h) / 2;
    const expected = 8 * p2pTime(ACT / 2, H100.intra) + 8 * allGatherTime(ACT, 2, H100.intra) + allReduceTime(tied, 2, H100.intra);
    expectRel(timeOf(A).ppComm, expected, 1e-12);
    // under sequence parallelism the activation is already split: no gather
    const sp = 8 * p2pTime(ACT / 2, H100.intra) + allReduceTime(tied, 2, H100.intra);
    expectRel(timeOf({ ...A, sequenceParallel: true }).ppComm, sp, 1e-12);
  });

  it("DDP without overlap exposes the whole gradient all-reduce", () => {
    const last = 4 * (LAYER_MATRIX / 2 + LAYER_SMALL) + (VPAD2 * h) / 2 + 2 * h;
    const t = training(8, 16, false);
    expectRel(timeOf(A, t).dpComm, allReduceTime(4 * last, 2, H100.intra), 1e-12);
  });
});

describe("ZeRO volumes: tp 1 · pp 1 · dp 4", () => {
  // Ψ: every parameter on each rank: 8 layers · (12h² + 13h) + embedding V'·h + positions s·h +
  // final LayerNorm 2h (tied: no output matrix).
  const PSI = 8 * (LAYER_MATRIX + LAYER_SMALL) + VPAD1 * h + s * h + 2 * h;
  // The ZeRO paper's 16-bit gradients: Megatron-Core with --grad-reduce-in-bf16.
  const bf16Grads = withOverrides(loadEngine("megatron-core"), { gradReduceInBf16: true });
  const volumes = (zero: ZeroStage, globalBatch: number) => stepVolumes(M, { ...training(4, globalBatch), engine: bf16Grads }, { ...ONE_PLAN, dp: 4, zero });
  // Each rank's buffer is 2Ψ bytes; 4 ranks.
  const W = 4 * 2 * PSI;

  it("fp32 gradients (Megatron's bf16 default, no engine) double the reduction's bytes, not the gathers'", () => {
    const fp32 = (zero: ZeroStage) => stepVolumes(M, training(4, 4), { ...ONE_PLAN, dp: 4, zero });
    expect(fp32(0)).toEqual({ allReduce: 2 * W });
    expect(fp32(1)).toEqual({ reduceScatter: 2 * W, allGather: W });
    expect(fp32(3)).toEqual({ allGather: 2 * W, reduceScatter: 2 * W });
  });

  it("follows the buffer convention, one micro-batch", () => {
    expect(PSI).toBe(154118144);
    expect(volumes(0, 4)).toEqual({ allReduce: W });
    expect(volumes(1, 4)).toEqual({ reduceScatter: W, allGather: W });
    expect(volumes(2, 4)).toEqual({ reduceScatter: W, allGather: W });
    expect(volumes(3, 4)).toEqual({ allGather: 2 * W, reduceScatter: W });
  });

  it("ZeRO-2 reduce-scatters every micro-batch, ZeRO-3 gathers twice per micro-batch", () => {
    // B 8, mb 1, dp 4: 2 micro-batches
    expect(volumes(1, 8)).toEqual({ reduceScatter: W, allGather: W });
    expect(volumes(2, 8)).toEqual({ reduceScatter: 2 * W, allGather: W });
    expect(volumes(3, 8)).toEqual({ allGather: 4 * W, reduceScatter: 2 * W });
  });

  it("on the ring: 2Ψ per rank for DDP, ZeRO-1 and ZeRO-2, 3Ψ for ZeRO-3 (Rajbhandari et al. 2020 §7)", () => {
    // A ring all-reduce of M moves 2(n−1)/n·M per rank, an all-gather or reduce-scatter (n−1)/n·M.
    const n = 4;
    const onRing = (v: Partial<Record<WireKind, number>>) =>
      ((v.allReduce ?? 0) * (2 * (n - 1)) / n + ((v.allGather ?? 0) + (v.reduceScatter ?? 0)) * (n - 1) / n) / n;
    const psiBytes = 2 * PSI; // Ψ parameters of 2 bytes
    const ring = (n - 1) / n;
    expectRel(onRing(volumes(0, 4)), 2 * psiBytes * ring, 1e-15);
    expectRel(onRing(volumes(1, 4)), 2 * psiBytes * ring, 1e-15);
    expectRel(onRing(volumes(2, 4)), 2 * psiBytes * ring, 1e-15);
    expectRel(onRing(volumes(3, 4)), 3 * psiBytes * ring, 1e-15);
  });
});
