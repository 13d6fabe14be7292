// Full recompute's depth (Plan.recomputeLayers) in the interactive planner: the ranked table's
// recompute column says "blk N", the help says what it means, the detail names it and "vs
// previous" names a change of depth.
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { detailView, planDiff } from "./detail.js";
import { helpLines } from "./chrome.js";
import { GLOBAL_HELP, KEY_HELP } from "./keys.js";
import { resultsLayout, tableView } from "./results.js";

const s = sessionOf("llama3-70b", 64, 8).request;
// tp 8 · pp 8: 10 layers a stage
const base: Plan = { tp: 8, pp: 8, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "full", sequenceParallel: true, schedule: "1f1b" };
const plan = (p: Partial<Plan>) => evaluatePlan(s.model, s.hw, s.training, { ...base, ...p });
const cols = (row: string) => row.trim().split(/\s+/);

describe("full recompute's depth in the interactive planner", () => {
  const every = plan({});
  const four = plan({ recomputeLayers: 4 });

  it("the recompute column says blk 4 for the first 4 layers of each stage, full for every layer", () => {
    const v = tableView([four, every], 0, 5, false, false, 100);
    const col = cols(v.header).indexOf("recomp");
    expect(col).toBeGreaterThan(0);
    expect(cols(v.rows[0]!.text)[col]).toBe("blk4");
    expect(cols(v.rows[1]!.text)[col]).toBe("full");
  });

  it("the help says what blk N means; the detail and vs previous name the depth", () => {
    const help = helpLines("results", KEY_HELP.results, GLOBAL_HELP, 80, 40).map((l) => l.text.trim()).join(" ");
    expect(help).toContain("blk4: full recompute of each stage's first 4 layers only");
    expect(detailView(four, s.hw, s.training, null, 160, s.model).title.join(" ")).toContain("recompute block 4");
    expect(planDiff(every, four)[0]).toBe("vs previous: layers recomputed all→4");
  });
});

// torchtitan re-runs every N-th layer a rank counts (selective_ac_option "N"): the same depth is
// "ev N" there, as `plan`'s table says "every N" (src/format/recompute-depth.ts).
describe("the depth on torchtitan in the interactive planner", () => {
  it("4 of each stage's 10 layers is no N's; 5 is every 2nd (ev2), 2 every 5th (ev5)", () => {
    const titan = sessionOf("llama3-70b", 64, 8, undefined, "dgx-h100", "torchtitan");
    const layout = resultsLayout(titan, { done: true, searched: 0, feasible: 0, elapsedMs: 0, chunksDone: 1, chunks: 1, plans: [] } as never, 100, 30);
    const v = tableView([plan({ recomputeLayers: 5 }), plan({ recomputeLayers: 2 })], 0, 5, false, false, 100, false, layout.every);
    const col = cols(v.header).indexOf("recomp");
    expect(cols(v.rows[0]!.text)[col]).toBe("ev2");
    expect(cols(v.rows[1]!.text)[col]).toBe("ev5");
    // (Megatron-Core's session: the first N)
    expect(resultsLayout(sessionOf("llama3-70b", 64, 8), { done: true, searched: 0, feasible: 0, elapsedMs: 0, chunksDone: 1, chunks: 1, plans: [] } as never, 100, 30).every).toBeUndefined();
    const r = titan.request;
    expect(detailView(plan({ recomputeLayers: 5 }), r.hw, r.training, null, 160, r.model).title.join(" ")).toContain("recompute every 2 (5 a stage)");
  });
});
