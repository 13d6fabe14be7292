// Zero-bubble pipeline schedules (zb1p, zbv, dualpipev): the simulator plays torch's own F/B/W
// order, its bubble matches the closed form on uniform stages, zero-bubble schedules beat 1F1B
// where the bubble matters, and DualPipeV loses where its V of weights and one more chunk of
// activations per rank do not fit.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bubbleFraction, inFlightLayers } from "../../planner/cost/pipeline.js";
import { evaluatePlan } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import { uniformCosts } from "../../planner/sim/costs.js";
import { globalStage, visitPasses } from "../../planner/sim/schedule.js";
import { simulate, simulateCosts } from "../../planner/sim/simulate.js";
import type { Plan, Schedule, Training } from "../../planner/types.js";
import { renderGantt } from "../../src/format/timeline-gantt.js";
import { hardware, preset } from "../planner/fixtures.js";

interface TorchCase {
  schedule: Schedule;
  pp: number;
  vpp: number;
  microBatches: number;
  ranks: Record<string, string>;
}
const torch = JSON.parse(readFileSync(new URL("./fixtures/torch-orders.json", import.meta.url), "utf8")) as { cases: TorchCase[] };

/** Our order in torch's notation: F/B (full)/I (input gradient)/W, global stage, micro-batch. */
function ours(c: TorchCase, rank: number): string {
  const out: string[] = [];
  visitPasses(c.schedule, c.pp, c.vpp, c.microBatches, rank, (kind, chunk, mb, full) => {
    const letter = kind === 0 ? "F" : kind === 2 ? "W" : full ? "B" : "I";
    out.push(`${letter}${globalStage(c.schedule, c.pp, chunk, rank)}.${mb}`);
  });
  return out.join(" ");
}

describe("the simulator plays torch.distributed.pipelining's order (test/sim/fixtures/torch_orders.py, torch 2.13)", () => {
  for (const c of torch.cases)
    it(`${c.schedule} pp ${c.pp} vpp ${c.vpp} m ${c.microBatches}`, () => {
      for (let r = 0; r < c.pp; r++) expect(ours(c, r)).toBe(c.ranks[String(r)]);
    });
});

/** Simulated step on uniform stages: per chunk forward f, input gradient b, weight gradient w. */
function uniform(schedule: Schedule, pp: number, vpp: number, m: number, f: number, b: number, w: number) {
  return simulateCosts(uniformCosts({ schedule, pp, vpp, microBatches: m, forward: f, backward: b + w, weightGrad: w }), false);
}

describe("simulated bubble = closed form (p−1)(T_F + T_B − T_W) on uniform stages", () => {
  // zb1p exactly; zbv and dualpipev exactly where Qi et al. compare schedules (T_F = T_B = T_W)
  // and on the points below, within 35 % where T_B ≥ T_F ≥ T_W (the next test).
  const cases: Array<[Schedule, number, number, number, number, number, number]> = [
    // schedule, p, v, m, f, b, w (per chunk)
    ["zb1p", 4, 1, 8, 1, 1, 1],
    ["zb1p", 4, 1, 8, 1, 1.5, 0.5],
    ["zb1p", 4, 1, 4, 1, 1.2, 0.8], // m = p
    ["zb1p", 3, 1, 9, 0.7, 1.1, 0.4],
    ["zb1p", 4, 2, 8, 1, 1, 1],
    ["zb1p", 3, 2, 6, 1, 1.5, 0.5],
    ["zbv", 4, 2, 8, 1, 1, 1],
    ["zbv", 4, 2, 16, 1, 1.5, 0.5],
    ["zbv", 3, 2, 7, 1, 1.5, 0.5],
    ["dualpipev", 4, 2, 8, 1, 1, 1],
    ["dualpipev", 4, 2, 16, 1, 1, 0.5],
    ["dualpipev", 3, 2, 12, 2, 2, 1],
  ];
  it.each(cases)("%s pp %i vpp %i m %i, f %f b %f w %f", (schedule, p, v, m, f, b, w) => {
    const tl = uniform(schedule, p, v, m, f, b, w);
    const ideal = m * v * (f + b + w);
    expect(tl.step).toBeCloseTo(ideal + (p - 1) * (f + b - w), 9);
    expect(tl.summary.imbalance).toBeCloseTo(0, 9);
    expect(tl.bubbleFraction).toBeCloseTo(bubbleFraction(schedule, p, v, m, { forward: f, inputGrad: b, weightGrad: w }), 12);
  });

  it("zbv and dualpipev: within 35 % of the closed form where T_B ≥ T_F ≥ T_W (dualpipev with T_B = 2T_F is the farthest, a third over; torch's orders are not ZB-H1's)", () => {
    for (const s of ["zbv", "dualpipev"] as const)
      for (const [f, b, w] of [[1, 1.2, 0.8], [1, 2, 0.5], [1, 1, 0.2], [1, 1.5, 0.5], [0.8, 1.6, 0.8]] as const)
        for (const p of [3, 4]) {
          const tl = uniform(s, p, 2, 4 * p, f, b, w);
          const bubble = tl.step - 4 * p * 2 * (f + b + w);
          const formula = (p - 1) * (f + b - w);
          expect(Math.abs(bubble / formula - 1), `${s} p ${p} f ${f} b ${b} w ${w}: ${bubble} vs ${formula}`).toBeLessThan(0.35);
        }
  });

  it("equals 1F1B's bubble when W is free to move but costs nothing (w = 0)", () => {
    expect(uniform("zb1p", 4, 1, 8, 1, 2, 0).step).toBeCloseTo(uniform("1f1b", 4, 1, 8, 1, 2, 0).step, 9);
  });

  it("keeps the weight gradients apart: W segments in the timeline, counted as backward", () => {
    const tl = simulateCosts(uniformCosts({ schedule: "zbv", pp: 2, microBatches: 4, forward: 1, backward: 2, weightGrad: 1 }));
    const w = tl.segments.filter((s) => s.kind === "weightGrad" && s.stage === 0);
    expect(w).toHaveLength(8); // 4 micro-batches × 2 chunks
    expect(w.every((s) => /^W\d\.\d layer weight gradient/.test(s.name))).toBe(true);
    expect(tl.stages[0]!.backward).toBeCloseTo(8 * 2, 9);
  });

  it("the Gantt chart draws F, B and W apart (w, upper case on the critical path)", () => {
    const tl = simulateCosts(uniformCosts({ schedule: "zbv", pp: 2, microBatches: 4, forward: 1, backward: 2, weightGrad: 1 }));
    const lines = renderGantt(tl, 120);
    const rows = lines.filter((l) => l.startsWith("stage "));
    expect(rows).toHaveLength(2);
    for (const r of rows) for (const c of ["f", "b", "w"]) expect(r.toLowerCase()).toContain(c);
    expect(lines.join(" ")).toContain("w weight gradient");
    const oneF = renderGantt(simulateCosts(uniformCosts({ schedule: "1f1b", pp: 2, microBatches: 4, forward: 1, backward: 2 })), 120);
    for (const r of oneF.filter((l) => l.startsWith("stage "))) expect(r.toLowerCase()).not.toContain("w");
  });
});

const training = (gpus: number, globalBatch: number, seqLen: number): Training => ({ gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true });
const base = { cp: 1, ep: 1, etp: 1, zero: 1, recompute: "selective", sequenceParallel: true } as const;

// With fewer micro-batches than the steady state needs (zb1p m < p, zbv m < 2p − 1) the W passes
// cannot fill the cool-down (cost/zb-few.ts): the closed form plays torch's order's critical path.
// By hand, zb1p with one stage a rank: micro-batch 0's forward runs through the p stages, its input
// gradient back, then stage 0's W: p·(f + i) + w; each further micro-batch adds f + i on the
// critical path, so (p + m − 1)(f + i) + w; at m = p that is the steady state's m(f + i + w) +
// (p − 1)(f + i − w). The formula alone gave p = 4, m = 1, f = i = w = 1 a step of 6 for 9.
describe("too few micro-batches for the steady state: the order's critical path", () => {
  const closedStep = (s: Schedule, p: number, v: number, m: number, f: number, i: number, w: number) =>
    m * v * (f + i + w) * (1 + bubbleFraction(s, p, v, m, { forward: v * f, inputGrad: v * i, weightGrad: v * w }));

  it("zb1p, one stage a rank: (p + m − 1)(f + i) + w, by hand", () => {
    for (const [f, i, w] of [[1, 1, 1], [1, 1.2, 0.8], [0.7, 1.5, 0.4]] as const)
      for (const p of [2, 4, 8])
        for (let m = 1; m <= p; m++) expect(closedStep("zb1p", p, 1, m, f, i, w), `p ${p} m ${m}`).toBeCloseTo((p + m - 1) * (f + i) + w, 9);
    expect(closedStep("zb1p", 4, 1, 1, 1, 1, 1)).toBeCloseTo(9, 9);
  });

  it("a pipeline too large to play in the search's loop takes the larger of its two bounds: within 2 % of the simulator", () => {
    // zbv p 32 · m 60 (11,520 passes) and zb1p v 2 · p 64 · m 40 (15,360), f 1, i 1.2, w 0.8 a chunk
    for (const [s, v, p, m] of [["zbv", 2, 32, 60], ["zb1p", 2, 64, 40]] as const) {
      const sim = uniform(s, p, v, m, 1, 1.2, 0.8).step;
      expect(Math.abs(closedStep(s, p, v, m, 1, 1.2, 0.8) / sim - 1), `${s} p ${p} m ${m}`).toBeLessThan(0.02);
    }
  });

  it("zb1p with virtual stages and zbv: the simulator's step exactly, on uniform stages", () => {
    for (const [s, v] of [["zb1p", 2], ["zb1p", 3], ["zbv", 2]] as const)
      for (const [f, i, w] of [[1, 1, 1], [1, 1.2, 0.8], [1, 2, 0.5]] as const)
        for (const p of [2, 3, 4, 8])
          for (let m = 1; m < (s === "zbv" ? 2 * p - 1 : p); m++) {
            const tl = uniform(s, p, v, m, f, i, w);
            expect(closedStep(s, p, v, m, f, i, w), `${s} v ${v} p ${p} m ${m}`).toBeCloseTo(tl.step, 9);
          }
  });
});

describe("where the bubble matters, zero-bubble schedules win", () => {
  const m = preset("gpt3-like");
  const hw = hardware("dgx-h100");
  // 16 micro-batches on 8 stages (dualpipev's least, 2p): 1F1B idles (p−1)/m = 44 % of the ideal step.
  const t = training(512, 128, m.defaultSeqLen);
  const plan = (schedule: Schedule, vpp: number): Plan => ({ ...base, tp: 8, pp: 8, dp: 8, cp: 1, ep: 1, etp: 1, vpp, microBatch: 1, schedule });

  it("closed form and simulation both rank zb1p, zbv and dualpipev ahead of 1F1B and interleaved", () => {
    const closed = (s: Schedule, v: number) => evaluatePlan(m, hw, t, plan(s, v)).time.step;
    const sim = (s: Schedule, v: number) => simulate(m, hw, t, plan(s, v)).step;
    for (const f of [closed, sim]) {
      const oneF = f("1f1b", 1);
      expect(f("zb1p", 1)).toBeLessThan(oneF);
      expect(f("zbv", 2)).toBeLessThan(f("interleaved", 2));
      expect(f("dualpipev", 2)).toBeLessThan(f("interleaved", 2));
    }
    // The closed form's bubble is the ZB-H1 one: under 1F1B's.
    const p1 = evaluatePlan(m, hw, t, plan("1f1b", 1));
    const zb = evaluatePlan(m, hw, t, plan("zb1p", 1));
    expect(zb.time.bubble).toBeLessThan(0.5 * p1.time.bubble);
  });

  it("the search picks a zero-bubble schedule when micro-batches are few", () => {
    const r = search(m, hw, training(512, 64, m.defaultSeqLen), { tp: 8, pp: 8, dp: 8, microBatch: 1, recompute: "selective", sequenceParallel: true, zero: 1 }, { top: 5 });
    expect(["zb1p", "zbv", "dualpipev"]).toContain(r.plans[0]!.schedule);
  });
});

describe("DualPipeV's memory: two stages' weights and one more chunk of activations per rank", () => {
  const m = preset("gpt3-like");
  const t = training(512, 128, m.defaultSeqLen); // m = 16 = 2p, dualpipev's least
  const plan = (schedule: Schedule): Plan => ({ ...base, tp: 8, pp: 8, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 2, microBatch: 1, schedule });

  it("holds 2p + 1 chunks in flight against zbv's 2p", () => {
    expect(inFlightLayers("dualpipev", 96, 8, 2, 16)).toBeCloseTo((17 / 16) * 96, 9);
    expect(inFlightLayers("zbv", 96, 8, 2, 16)).toBe(96);
  });

  it("rank 0 holds both the first and the last stage's weights (embedding and output layer)", () => {
    const hw = hardware("dgx-h100");
    const v = evaluatePlan(m, hw, t, plan("zbv"));
    const looped = evaluatePlan(m, hw, t, plan("interleaved"));
    expect(v.memory.weights).toBeGreaterThan(looped.memory.weights);
  });

  it("loses where it does not fit: with the memory between the two, the search drops dualpipev and keeps zbv", () => {
    const h100 = hardware("dgx-h100");
    const zbv = evaluatePlan(m, h100, t, plan("zbv")).memory.total;
    const dpv = evaluatePlan(m, h100, t, plan("dualpipev")).memory.total;
    expect(dpv).toBeGreaterThan(zbv);
    const hw = { ...h100, memory: (zbv + dpv) / 2 };
    const fixed = { tp: 8, pp: 8, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 2, microBatch: 1, recompute: "selective", sequenceParallel: true, zero: 1 } as const;
    const r = search(m, hw, t, fixed, { top: 10 });
    const schedules = r.plans.map((p) => p.schedule);
    expect(schedules).toContain("zbv");
    expect(schedules).not.toContain("dualpipev");
    expect(r.rejected.out_of_memory ?? 0).toBeGreaterThan(0);
    // With room for both, dualpipev is a candidate again.
    const roomy = search(m, { ...h100, memory: dpv * 1.01 }, t, fixed, { top: 10 });
    expect(roomy.plans.map((p) => p.schedule)).toContain("dualpipev");
  });
});
