// The ranking simulates coarse graphs (graph.ts buildGraph `coarse`): a pass's run of layers is
// one operation where nothing attaches to a single layer. The step, each stage's breakdown and
// the summary must be those of the per-layer graph (up to rounding), on plans of every schedule,
// ZeRO stage with and without overlap, recompute, uneven and virtual stages, context and expert
// parallel — and the graph must be smaller where a chunk has several layers.
import { describe, expect, it } from "vitest";
import { addDataParallel } from "../../planner/sim/dp.js";
import { buildGraph } from "../../planner/sim/graph.js";
import { Arena } from "../../planner/sim/heap.js";
import { buildSimCosts, type SimCosts } from "../../planner/sim/costs.js";
import { buildTimeline } from "../../planner/sim/timeline.js";
import { gradProgress } from "../../planner/sim/dp.js";
import { search } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { hardware, preset } from "../planner/fixtures.js";

const h100 = hardware("dgx-h100");
const base: Plan = { tp: 1, pp: 1, dp: 16, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const t = (gpus: number, globalBatch: number, seqLen = 2048, overlapGradReduce = true): Training => ({ gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce });

function simulated(c: SimCosts, coarse: boolean) {
  const g = buildGraph(c, new Arena(), coarse);
  addDataParallel(g);
  return { ops: g.engine.opCount, timeline: buildTimeline(g, g.engine.run(), false) };
}

function expectSameStep(c: SimCosts): { fine: number; coarse: number } {
  const fine = simulated(c, false);
  const coarse = simulated(c, true);
  const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
  close(coarse.timeline.step, fine.timeline.step, "step");
  for (const k of ["bubble", "imbalance", "exposedComm"] as const) close(coarse.timeline.summary[k], fine.timeline.summary[k], k);
  expect(coarse.timeline.criticalStage).toBe(fine.timeline.criticalStage);
  fine.timeline.stages.forEach((s, i) => {
    for (const [k, v] of Object.entries(s)) close(coarse.timeline.stages[i]![k as keyof typeof s], v, `stage ${i} ${k}`);
  });
  return { fine: fine.ops, coarse: coarse.ops };
}

describe("a coarse graph steps as the per-layer graph", () => {
  const gpt = preset("gpt3-1.3b");
  const cases: Array<[string, ReturnType<typeof preset>, Training, Plan]> = [
    ["1F1B pp 4, ZeRO-1", gpt, t(16, 64), { ...base, pp: 4, dp: 4, zero: 1 }],
    ["1F1B pp 2, ZeRO-0, full recompute", gpt, t(16, 64), { ...base, pp: 2, dp: 8, recompute: "full" }],
    ["ZeRO-1 without overlap", gpt, t(16, 64, 2048, false), { ...base, pp: 2, dp: 8, zero: 1 }],
    ["ZeRO-0 without overlap", gpt, t(16, 64, 2048, false), { ...base, dp: 16 }],
    ["GPipe, ZeRO-2, full recompute", gpt, t(16, 64), { ...base, pp: 4, dp: 4, zero: 2, recompute: "full", schedule: "gpipe" }],
    ["ZeRO-2 without overlap", gpt, t(16, 64, 2048, false), { ...base, pp: 2, dp: 8, zero: 2 }],
    ["interleaved v 3", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 3, schedule: "interleaved" }],
    ["interleaved v 2, ZeRO-1, selective", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 2, zero: 1, recompute: "selective", schedule: "interleaved" }],
    ["tp 2 pp 2, ZeRO-3, selective", gpt, t(16, 64), { ...base, tp: 2, pp: 2, dp: 4, zero: 3, recompute: "selective", microBatch: 2 }],
    ["zero-bubble zb1p, ZeRO-1", gpt, t(16, 64), { ...base, pp: 4, dp: 4, zero: 1, schedule: "zb1p" }],
    ["zbv", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 2, schedule: "zbv" }],
    ["dualpipev, ZeRO-2", gpt, t(16, 64), { ...base, pp: 4, dp: 4, vpp: 2, zero: 2, schedule: "dualpipev" }],
    ["uneven stages, ZeRO-1", gpt, t(12, 48), { ...base, pp: 3, dp: 4, zero: 1, stageLayers: [7, 9, 8] }],
    ["context parallel 2, ring", preset("llama3-8b"), t(16, 16, 32768), { ...base, tp: 2, cp: 2, dp: 4, sequenceParallel: true, cpComm: "ring" }],
    ["experts: ep 4, pp 2", preset("mixtral-8x7b"), t(64, 128, 4096), { ...base, tp: 2, pp: 2, dp: 16, ep: 4, zero: 1, sequenceParallel: true }],
  ];
  it.each(cases)("%s", (name, m, training, plan) => {
    const { fine, coarse } = expectSameStep(buildSimCosts(m, h100, training, plan));
    if (plan.dp > 1 && plan.zero === 3) expect(coarse).toBe(fine);
    else expect(coarse, name).toBeLessThan(fine);
  });

  it("the top 20 of gpt3-like on 1,024 H100s", () => {
    const m = preset("gpt3-like");
    const training = t(1024, 1536);
    const plans = search(m, h100, training, {}, { top: 20 }).plans;
    expect(plans.length).toBe(20);
    let fine = 0;
    let coarse = 0;
    for (const p of plans) {
      const n = expectSameStep(buildSimCosts(m, h100, training, p));
      fine += n.fine;
      coarse += n.coarse;
    }
    expect(coarse).toBeLessThan(0.8 * fine);
  });
});

describe("gradProgress: where in a producing operation a bucket's last byte is", () => {
  const info = (gradFrom: number, layers?: number) => ({ stage: 0, stream: "compute" as const, label: "", parts: [], gradFrom, layers });
  it("one layer: after the recompute, linear in the bytes", () => {
    expect(gradProgress(info(0.25), 0.5)).toBeCloseTo(0.25 + 0.5 * 0.75, 15);
    expect(gradProgress(info(0.25), 1)).toBe(1);
  });
  it("n layers: within the layer holding the byte, at the same point as that layer alone", () => {
    // 4 layers, recompute a quarter of each: the byte 0.6 of the way is 0.4 through layer 2
    // (bytes 0.5 … 0.75), at 0.25 + 0.4·0.75 = 0.55 of that layer: (2 + 0.55)/4 of the run.
    expect(gradProgress(info(0.25, 4), 0.6)).toBeCloseTo((2 + 0.55) / 4, 12);
    // A layer boundary: the end of layer 1, not the start of layer 2's recompute.
    expect(gradProgress(info(0.25, 4), 0.5)).toBeCloseTo(2 / 4, 12);
    expect(gradProgress(info(0, 3), 1)).toBe(1);
  });
});
