// Full recompute's depth (Plan.recomputeLayers) in the interactive planner: the ranked table's
// recompute column says "blk N", the help says what it means, the detail names it and "vs
// previous" names a change of depth.
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { detailView, planDiff } from "./detail.js";
import { helpLines } from "./chrome.js";
import { GLOBAL_HELP, KEY_HELP } from "./keys.js";
import { tableView } from "./results.js";

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
    expect(help).toContain("blk4: full recompute of 4 layers of each stage only");
    expect(detailView(four, s.hw, s.training, null, 160, s.model).title.join(" ")).toContain("recompute block 4");
    expect(planDiff(every, four)[0]).toBe("vs previous: layers recomputed all→4");
  });
});
