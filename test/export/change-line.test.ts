// plan --from's "changes:" line names the layers each plan recomputes whole: a plan's recomputeLayers
// left out is every layer under full recompute only, so a plan without full recompute is said as
// its own recompute ("none", "selective"), not as "every layer" (src/engines/compare-report.ts).
import { describe, expect, it } from "vitest";
import type { Plan } from "../../planner/index.js";
import { changeLine } from "../../src/engines/compare-report.js";

const base: Plan = { tp: 1, pp: 1, dp: 64, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 3, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const plan = (p: Partial<Plan>): Plan => ({ ...base, ...p });

describe("changes: layers recomputed", () => {
  it("no recompute → the first 6 of each stage: none → first 6, not every layer → first 6", () => {
    expect(changeLine(base, plan({ recompute: "full", recomputeLayers: 6 }))).toBe("changes: recompute none → full; layers recomputed none → 6 a stage");
  });

  it("the first 3 of each stage → no recompute: first 3 → none", () => {
    expect(changeLine(plan({ recompute: "full", recomputeLayers: 3 }), base)).toBe("changes: recompute full → none; layers recomputed 3 a stage → none");
  });

  it("selective → the first 2: selective → first 2; every layer → the first 2 as before", () => {
    expect(changeLine(plan({ recompute: "selective" }), plan({ recompute: "full", recomputeLayers: 2 }))).toBe("changes: recompute selective → full; layers recomputed selective → 2 a stage");
    expect(changeLine(plan({ recompute: "full" }), plan({ recompute: "full", recomputeLayers: 2 }))).toBe("changes: layers recomputed every layer → 2 a stage");
  });
});
