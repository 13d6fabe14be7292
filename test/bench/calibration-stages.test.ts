// Published torchtitan runs of Llama 3.1 405B (126 layers) on 8 pipeline stages: torchtitan splits
// them itself (generate_split_points: 15, 16 × 6, 15), which the rows now state as stageLayers, so
// they are predicted instead of counted inexpressible (pp_layers); the interleaved row TT24-14 as
// 16 virtual stages, two per rank.
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
  it("TT24-14 (interleaved, two stages per rank): 16 virtual stages 7,8×14,7, predicted", () => {
    // torchtitan 9dec370 generate_split_points with 2·8 stages: ⌊126/16⌋ = 7 on the first, one
    // more on each of the 14 middle stages (126 mod 16 = 14), 126 − 7 − 112 = 7 on the last.
    const split = [7, ...Array.from({ length: 14 }, () => 8), 7];
    const r = row("TT24-14");
    expect(r.fixed.stageLayers).toEqual(split);
    expect(r.fixed.vpp).toBe(2);
    const p = predictRow(r);
    expect(p.status).not.toBe("inexpressible");
    expect(p.plan?.stageLayers).toEqual(split);
    expect([p.plan?.pp, p.plan?.vpp, p.plan?.schedule]).toEqual([8, 2, "interleaved"]);
  });
  it("rows whose pp·vpp divides the layers keep the even split", () => {
    for (const r of rows) if (r.fixed.pp !== undefined && r.model.layers % (r.fixed.pp * (r.fixed.vpp ?? 1)) === 0) expect(r.fixed.stageLayers, r.id).toBeUndefined();
  });
});

describe("NAR21T2 PTD-P rows: the paper's split where Table 2 states only t·p", () => {
  it.each([
    ["NAR21T2-07", 4, 12],
    ["NAR21T2-08", 8, 12],
    ["NAR21T2-09", 16, 12],
  ])("%s (dp %i): t = 8, the GPUs of a DGX A100 (Narayanan et al. 2021, Takeaway #1), p = 96 / 8 = %i", (id, dp, pp) => {
    const r = row(id);
    expect([r.fixed.tp, r.fixed.dp]).toEqual([8, dp]);
    const p = predictRow(r);
    expect([p.plan?.tp, p.plan?.pp, p.plan?.dp]).toEqual([8, pp, dp]);
  });
  it("rows that state t keep it; ZeRO-3 rows keep t = 1", () => {
    expect(row("NAR21T2-10").fixed.tp).toBe(8);
    expect(row("NAR21T2-01").fixed.tp).toBe(1);
  });
});
