// Published torchtitan runs of Llama 3.1 405B (126 layers) on 8 pipeline stages: torchtitan splits
// them itself (generate_split_points: 15, 16 × 6, 15), which the rows now state as stageLayers, so
// they are predicted instead of counted inexpressible (pp_layers).
import { describe, expect, it } from "vitest";
import { loadCalibrationRows } from "../../bench/calibration/rows.js";
import { predictRow } from "../../bench/calibration/predict.js";

const rows = loadCalibrationRows();
const row = (id: string) => rows.find((r) => r.id === id)!;

describe("TT24 rows with 126 layers on pp 8", () => {
  it.each(["TT24-13", "TT24-15"])("%s: stages 15,16×6,15 (sum 126), one per rank, predicted", (id) => {
    const r = row(id);
    expect(r.fixed.stageLayers).toEqual([15, 16, 16, 16, 16, 16, 16, 15]);
    const p = predictRow(r);
    expect(p.status).not.toBe("inexpressible");
    expect(p.plan?.stageLayers).toEqual([15, 16, 16, 16, 16, 16, 16, 15]);
    expect(p.plan?.vpp).toBe(1);
  });
  it("TT24-14 (interleaved, two stages per rank) gets no split: uneven stages run one per rank", () => {
    expect(row("TT24-14").fixed.stageLayers).toBeUndefined();
  });
  it("rows whose pp divides the layers keep the even split", () => {
    for (const r of rows) if (r.fixed.pp !== undefined && r.model.layers % r.fixed.pp === 0) expect(r.fixed.stageLayers, r.id).toBeUndefined();
  });
});
