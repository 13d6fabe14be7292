// The routed experts' data-parallel collectives in the simulator: over the expert-data-parallel
// group, edp = tp·cp·dp/(ep·etp) ranks (layout/groups.ts edpOf), on that group's link, in
// collectives of their own beside the dense weights' over dp·cp, checked against hand arithmetic.
// (They rode the dense collectives over dp = 8, one rank a node on one NIC: Mixtral tp 8 · dp 8 ·
// ep 2 at ZeRO-3 simulated 32.6 s against the closed form's 12.9 s.)
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { buildSimCosts, type SimCosts, type Transfer } from "../../planner/sim/costs.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import type { Timeline } from "../../planner/sim/timeline.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { expectRel, hardware, preset } from "../planner/fixtures.js";

const H100 = hardware("dgx-h100");
const m = preset("mixtral-8x7b");
const engine = loadEngine("megatron-core", undefined);
// 64 sequences of 32,768 tokens on 64 GPUs: dp 8, micro-batch 1 → 8 micro-batches a step.
const training = (gpus: number, extra: Partial<Training> = {}): Training => ({
  gpus, globalBatch: 64, seqLen: 32768, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine, ...extra,
});
const plan = (p: Partial<Plan>): Plan => ({
  tp: 8, pp: 1, dp: 8, cp: 1, ep: 2, etp: 1, vpp: 1, zero: 3, microBatch: 1, recompute: "none", sequenceParallel: true, schedule: "1f1b", ...p,
});

// Hand arithmetic, Mixtral 8x7B (h 4096, 32 layers, 8 experts of SwiGLU f 14336, 8 kv heads of
// 128, vocab 32000 padded to 32768 at tp 8), tp 8 · ep 2 · etp 1:
//   experts per layer and rank: 8/(ep·etp) = 4, each 3·h·f = 176,160,768 weights, whole (etp 1):
//     E_layer = 2 bytes · 4 · 176,160,768 = 1,409,286,144 B; the stage's E = 32·E_layer = 45,097,156,608 B
//   dense per layer: attention (h·h + 2·h·1024 + h·h)/tp = 5,242,880, router h·8 = 32,768 and two
//     norms 2h = 8,192 whole: D_layer = 2 · 5,283,840 = 10,567,680 B
//   dense stage: 32·D_layer + embedding 2·32768·4096/8 = 33,554,432 + output layer and final norm
//     2·(32768·4096/8 + 4096) = 33,562,624: D = 405,282,816 B
const E_LAYER = 1_409_286_144;
const E = 32 * E_LAYER;
const D_LAYER = 10_567_680;
const D = 32 * D_LAYER + 33_554_432 + 33_562_624;

/** Seconds of the step's data-parallel stream, split into the experts' collectives and the rest. */
function dpStream(tl: Timeline): { expert: number; dense: number } {
  let expert = 0;
  let dense = 0;
  for (const s of tl.segments) {
    if (s.stream !== "dp comm") continue;
    if (s.name.includes("expert")) expert += s.end - s.start;
    else dense += s.end - s.start;
  }
  return { expert, dense };
}

describe("the experts' collectives go over edp on its link, the dense ones over dp·cp", () => {
  it("tp 8 · dp 8 · ep 2: edp = 8·8/2 = 32 ranks, 4 a node (stride ep = 2) on 4 NICs; dp = 8, one a node on one", () => {
    const c = buildSimCosts(m, H100, training(64), plan({}));
    expect(c.layer.expertBytes).toBe(E_LAYER);
    expect(c.layer.bytes - c.layer.expertBytes!).toBe(D_LAYER);
    expect(c.expert!.size).toBe(32);
    expect(c.dp).toBe(8);
    // A layer's experts all-gathered over 32 ranks: (n−1)·α = 31 · 6 µs; (n−1)/n · bytes over
    // 4 NICs · 50 GB/s · 0.85 = 170 GB/s: 0.96875 · 1,409,286,144 / 170e9 = 8.0309 ms.
    const ag = c.expert!.collective("allGather", E_LAYER);
    expectRel(ag.latency, 31 * 6e-6, 1e-9);
    expectRel(ag.work, ((31 / 32) * E_LAYER) / 170e9, 1e-9);
    expect(ag.inter).toBe(true);
    // The dense layer over dp 8 on one NIC (50 GB/s · 0.85): 7 · 6 µs, 7/8 · D_layer / 42.5e9.
    const dense = c.dpCollective("allGather", D_LAYER);
    expectRel(dense.latency, 7 * 6e-6, 1e-9);
    expectRel(dense.work, ((7 / 8) * D_LAYER) / 42.5e9, 1e-9);
  });

  it("ZeRO-3, the QA plan: 512 expert gathers and 256 fp32 reduce-scatters, 8.37 s on the dp stream, hidden behind 11.3 s of compute", () => {
    const t = training(64, { overlapSlowdown: 0 });
    const p = plan({});
    const tl = simulate(m, H100, t, p);
    // Per micro-batch each of the 32 layers gathers its experts for the forward and the backward
    // and reduce-scatters their fp32 gradients (2·E_layer bytes): 8 micro-batches →
    //   512 · (31·6e-6 + 0.96875·1,409,286,144/170e9) = 512 · 8.2169 ms = 4.2070 s
    //   256 · (31·6e-6 + 0.96875·2,818,572,288/170e9) = 256 · 16.2477 ms = 4.1594 s
    // = 8.366 s (the wire's 16 gathers of 45.1 GB at 0.257 s and 8 reduce-scatters of 90.2 GB at
    // 0.514 s, 8.23 s, plus a ring latency per layer instead of per micro-batch). Over dp 8 on one
    // NIC the same bytes took 768 · 32.1 ms ≈ 25 s more.
    const ag = 31 * 6e-6 + ((31 / 32) * E_LAYER) / 170e9;
    const rs = 31 * 6e-6 + ((31 / 32) * 2 * E_LAYER) / 170e9;
    const { expert } = dpStream(tl);
    expectRel(expert, 512 * ag + 256 * rs, 1e-9);
    // Prefetched a layer ahead, a layer's 8.2 ms gather hides behind its ~14.7 ms forward, and
    // 8.2 + 16.2 ms behind its ~29 ms backward: the step is the compute stream's own work (the
    // closed form's compute, tp, ep and optimizer terms, 12.81 s) plus little; 3 % allows for
    // the gathers nothing hides at the turns from forward to backward.
    const cf = evaluatePlan(m, H100, t, p).time;
    const work = cf.compute + cf.tpComm + cf.epComm + cf.optimizer;
    expect(tl.step).toBeGreaterThan(work);
    expect(tl.step / work - 1).toBeLessThan(0.03);
  });

  // Collectives that cost 1 s per GB (no latency) give each side's bytes on the wire: with k
  // passes of the whole stage, the experts carry k·E bytes and the dense collectives k·D —
  //   ZeRO-0: an fp32 all-reduce, k = 2;  ZeRO-1: fp32 reduce-scatter + 16-bit gather, 2 + 1 = 3;
  //   ZeRO-2: a reduce-scatter each micro-batch + one gather, 8·2 + 1 = 17;
  //   ZeRO-3: per micro-batch forward and backward gathers and an fp32 reduce-scatter, 8·4 = 32.
  // (Before, the experts' bytes were in the dense collectives: k·(D + E) over dp, none over edp.)
  const perGb = (_kind: string, bytes: number): Transfer => ({ latency: 0, work: bytes / 1e9, post: 0, inter: true });
  const cases: Array<[Plan["zero"], number]> = [[0, 2], [1, 3], [2, 17], [3, 32]];
  it.each(cases)("ZeRO-%i: the experts' %i passes of E go over edp, the dense ones' of D over dp", (zero, k) => {
    const c = buildSimCosts(m, H100, training(64), plan({ zero }));
    const marked: SimCosts = { ...c, dpSlowdown: 0, dpCollective: perGb, expert: { ...c.expert!, collective: perGb } };
    const { expert, dense } = dpStream(simulateCosts(marked));
    expectRel(expert, (k * E) / 1e9, 1e-9);
    expectRel(dense, (k * D) / 1e9, 1e-9);
  });

  it("edp = 1 (tp 1 · dp 8 · ep 8): the experts are not reduced at all; the dense weights still are", () => {
    const c = buildSimCosts(m, H100, training(8), plan({ tp: 1, dp: 8, ep: 8, zero: 1, sequenceParallel: false }));
    expect(c.expert).toBeNull();
    // tp 1: the layer's one expert (8/ep) and its dense weights, none of them reduced over edp
    const tl = simulateCosts({ ...c, dpSlowdown: 0, dpCollective: perGb });
    expect(dpStream(tl).expert).toBe(0);
    expect(dpStream(tl).dense).toBeGreaterThan(0);
  });

  it("dp·cp = 1 but edp = 8/2 = 4 (tp 8 · ep 2 on one node): the experts are reduced on NVLink, nothing else is", () => {
    const c = buildSimCosts(m, H100, training(8, { globalBatch: 8 }), plan({ dp: 1, zero: 1 }));
    expect(c.dp).toBe(1);
    expect(c.expert!.size).toBe(4);
    // ranks 0, 2, 4, 6 of one node: NVLink 450 GB/s · 0.8, 3 · 3 µs
    const ag = c.expert!.collective("allGather", E_LAYER);
    expect(ag.inter).toBe(false);
    expectRel(ag.work, ((3 / 4) * E_LAYER) / 360e9, 1e-9);
    const { expert, dense } = dpStream(simulateCosts({ ...c, dpSlowdown: 0, dpCollective: perGb, expert: { ...c.expert!, collective: perGb } }));
    expectRel(expert, (3 * E) / 1e9, 1e-9); // ZeRO-1: k = 3
    expect(dense).toBe(0);
  });
});

describe("the simulated step against the closed form", () => {
  // Both charge what the windows do not hide, and the compute slowdown beside what they do (the
  // engine's 0.189: 0.189 · 8.23 s = 1.56 s for the QA plan's experts at ZeRO-3, 14.43 s closed
  // form, 14.67 s simulated); 3 % is the simulator's usual margin for ZeRO-3's per-layer prefetch
  // (README). At ep 8 (edp = 8, the dense group's size and link) it was 14.28 s against 12.69 s
  // only for the slowdown the closed form did not charge the experts.
  const plans: Array<[string, Partial<Plan>]> = [
    ["ZeRO-0, ep 2", { zero: 0 }],
    ["ZeRO-1, ep 2", { zero: 1 }],
    ["ZeRO-2, ep 2", { zero: 2 }],
    ["ZeRO-3, ep 2", { zero: 3 }],
    ["ZeRO-3, ep 8", { zero: 3, ep: 8 }],
  ];
  it.each(plans)("%s: within 3 %, with and without the slowdown", (_name, p) => {
    for (const t of [training(64), training(64, { overlapSlowdown: 0 })]) {
      const cf = evaluatePlan(m, H100, t, plan(p)).time.step;
      expect(Math.abs(simulate(m, H100, t, plan(p)).step / cf - 1)).toBeLessThan(0.03);
    }
  });
});
