// torchtitan's layer selective checkpointing (selective_ac_option "N": every N-th block a rank
// counts, planner/cost/nth-recompute.ts) as the plan's depth: the counts against a literal replay
// of torchtitan's counter, the depths it gives, and the search choosing the least that fits,
// checked against evaluatePlan's memory of that depth and of the one below it.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import { checkLayout } from "../../planner/space.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { everyNthCounts, everyNthDepth, everyNthDepths, everyNthFor } from "../../planner/cost/nth-recompute.js";
import { engineInconsistency } from "../../planner/schema/engine-consistency.js";
import type { Engine } from "../../planner/index.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

/** torchtitan 0.2's _apply_layer_sac replayed: one counter a process, incremented per block over
 *  the rank's model parts in stage order; a block is wrapped where count % N == 0. */
function replay(stageLayers: number[], pp: number, vpp: number, rank: number, every: number): number[] {
  let count = 0;
  const out: number[] = [];
  for (let j = 0; j < vpp; j++) {
    let wrapped = 0;
    for (let b = 0; b < stageLayers[rank + j * pp]!; b++) {
      count += 1;
      if (count % every === 0) wrapped += 1;
    }
    out.push(wrapped);
  }
  return out;
}

describe("every N-th layer a rank counts (torchtitan's counter)", () => {
  it("matches a replay of the counter on even and uneven splits, one chunk or several a rank", () => {
    const cases: Array<{ pp: number; vpp: number; split: number[] }> = [
      { pp: 1, vpp: 1, split: [32] },
      { pp: 4, vpp: 1, split: [8, 8, 8, 8] },
      { pp: 4, vpp: 2, split: [5, 5, 5, 5, 5, 5, 5, 5] },
      { pp: 4, vpp: 3, split: Array(12).fill(4) as number[] },
      { pp: 8, vpp: 1, split: [15, 16, 16, 16, 16, 16, 16, 15] },
      { pp: 3, vpp: 2, split: [4, 5, 6, 6, 5, 4] },
    ];
    for (const c of cases) {
      const layers = c.split.reduce((a, b) => a + b, 0);
      const even = c.split.every((x) => x === c.split[0]);
      const plan = { pp: c.pp, vpp: c.vpp, ...(even ? {} : { stageLayers: c.split }) };
      for (let every = 2; every <= 20; every++)
        for (let r = 0; r < c.pp; r++) expect(everyNthCounts(plan, layers, every, r), `${JSON.stringify(c)} N ${every} rank ${r}`).toEqual(replay(c.split, c.pp, c.vpp, r, every));
    }
  });

  it("by hand: 32 layers, every 3rd is 3, 6, …, 30 (10); 4-layer chunks, 3 a rank, every 3rd re-runs 1, 1, 2 (no one count)", () => {
    expect(everyNthDepth({ pp: 1, vpp: 1 }, 32, 3)).toBe(10);
    expect(everyNthCounts({ pp: 4, vpp: 3 }, 48, 3, 0)).toEqual([1, 1, 2]);
    expect(everyNthDepth({ pp: 4, vpp: 3 }, 48, 3)).toBeNull();
    // N dividing the chunk: c/N in each (4-layer chunks, every 2nd: 2 a chunk)
    expect(everyNthDepth({ pp: 4, vpp: 3 }, 48, 2)).toBe(2);
  });

  it("the depths of 10-layer stages: 1 (every 10th), 2 (every 5th), 3 (every 3rd), 5 (every 2nd); no N gives 4", () => {
    const stage = { pp: 8, vpp: 1 };
    expect(everyNthDepths(stage, 80)).toEqual([{ depth: 1, every: 10 }, { depth: 2, every: 5 }, { depth: 3, every: 3 }, { depth: 5, every: 2 }]);
    expect(everyNthFor(stage, 80, 4)).toBeNull();
    // uneven: every 9th re-runs 1 of stages of 15 and 16 layers alike; every 8th 1 and 2, every 2nd
    // 7 and 8: no one count
    const uneven = { pp: 8, vpp: 1, stageLayers: [15, 16, 16, 16, 16, 16, 16, 15] };
    expect(everyNthDepth(uneven, 126, 9)).toBe(1);
    expect(everyNthDepth(uneven, 126, 8)).toBeNull();
    expect(everyNthDepth(uneven, 126, 2)).toBeNull();
  });
});

const H100 = hardware("dgx-h100");
const llama = preset("llama3-70b"); // 80 layers
const titan = loadEngine("torchtitan", undefined);
const training = (e: Engine, gpus = 64): Training => ({ gpus, globalBatch: 512, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });

describe("the search on torchtitan: the least depth an N gives that fits", () => {
  const t = training(titan);
  const all = search(llama, H100, t, {}, { top: 10, keepAll: true }).all!;
  const deep = all.filter((p) => p.recomputeLayers !== undefined);
  const memory = (p: Plan) => evaluatePlan(llama, H100, t, p).memory.total;

  it("plans with a depth are found, each a depth some N gives their chunks", () => {
    expect(deep.length).toBeGreaterThan(0);
    for (const p of deep) expect(everyNthFor(p, llama.layers, p.recomputeLayers!), JSON.stringify(p)).not.toBeNull();
  });
  it("each fits at its depth and not at the next smaller depth an N gives (evaluatePlan's memory), nor without recompute", () => {
    for (const p of deep) {
      expect(p.memory.total).toBe(memory(p));
      expect(p.memory.total).toBeLessThanOrEqual(H100.memory);
      const depths = everyNthDepths(p, llama.layers).map((d) => d.depth);
      const below = depths.filter((d) => d < p.recomputeLayers!).at(-1);
      if (below !== undefined) expect(memory({ ...p, recomputeLayers: below })).toBeGreaterThan(H100.memory);
      expect(memory({ ...p, recompute: "none", recomputeLayers: undefined })).toBeGreaterThan(H100.memory);
    }
  });
  it("a fixed depth no N gives a layout rejects it [recompute_every]; where one does, the plan keeps it", () => {
    // 4 of each stage: pp 1 (80 layers) every 20th; pp 8 (10 layers) none
    const r = search(llama, H100, t, { recompute: "full", recomputeLayers: 4 }, { top: 10, keepAll: true });
    expect(r.rejected.recompute_every).toBeGreaterThan(0);
    expect(r.all!.length).toBeGreaterThan(0);
    for (const p of r.all!) if (p.recomputeLayers !== undefined) expect(everyNthFor(p, llama.layers, 4)).not.toBeNull();
  });
  it("a plan file's depth is checked the same way (layout rule recompute_every)", () => {
    const stage: Plan = { ...ONE_PLAN, tp: 8, pp: 8, dp: 1, zero: 1, microBatch: 1, sequenceParallel: true, recompute: "full" };
    expect(checkLayout(llama, training(titan), 8, { ...stage, recomputeLayers: 4 })?.code).toBe("recompute_every");
    expect(checkLayout(llama, training(titan), 8, { ...stage, recomputeLayers: 5 })).toBeNull();
    // (Megatron-Core re-runs the first 4: no such rule there)
    expect(checkLayout(llama, training(loadEngine("megatron-core", undefined)), 8, { ...stage, recomputeLayers: 4 })).toBeNull();
  });
});

describe("an engine's partial full recompute is one method", () => {
  it("everyNthRecompute beside the block method (Megatron-Core's default) is refused naming the field", () => {
    const core = loadEngine("megatron-core", undefined);
    expect(engineInconsistency({ ...core, supports: { ...core.supports, everyNthRecompute: true } })).toContain('field "supports.everyNthRecompute"');
    expect(engineInconsistency(titan)).toBeNull();
    expect(engineInconsistency(loadEngine("paraplan", undefined))).toBeNull();
  });
});
