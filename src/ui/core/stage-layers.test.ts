// QA: deepseek-v3's best plan on 2,048 H100s is `plan`'s "pp 16 (stage layers 3,4×14,2)" (61
// layers: the first stage 3, the last 2, for the embedding and the output layer), but the plan
// detail said "pp 16" alone, and "vs previous" never named a change of stage layers. The detail
// now says the split, over a second line where the plan is wider than the screen, and compares
// splits by value (two plans' arrays are never the same object).
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { detailLines } from "./detail-lines.js";
import { detailView, planDiff, shortPlan } from "./detail.js";
import { helpLines } from "./chrome.js";
import { GLOBAL_HELP, KEY_HELP } from "./keys.js";
import { tableView } from "./results.js";

const s = sessionOf("deepseek-v3", 256, 8).request;
const base: Plan = { tp: 8, pp: 16, dp: 16, cp: 1, ep: 8, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "none", sequenceParallel: true, schedule: "1f1b" };
const plan = (p: Partial<Plan>) => evaluatePlan(s.model, s.hw, s.training, { ...base, ...p });

describe("uneven pipeline stages in the interactive planner", () => {
  it("names the stage layers after pp, as plan's table does: 16 [3,4×14,2]", () => {
    // 3 + 14·4 + 2 = 61 layers, deepseek-v3's
    expect(s.model.layers).toBe(3 + 14 * 4 + 2);
    const p = plan({ stageLayers: [3, ...Array(14).fill(4), 2] });
    expect(shortPlan(p)).toBe("tp 8 · pp 16 [3,4×14,2] · dp 16 · ep 8 · ZeRO-1 · mb 1 · no recompute · SP · 1F1B");
    // even stages: nothing added
    expect(shortPlan({ ...base, pp: 1, dp: 256 })).toBe("tp 8 · pp 1 · dp 256 · ep 8 · ZeRO-1 · mb 1 · no recompute · SP");
  });

  it("wraps the plan over two lines at 80 columns rather than cutting the schedule", () => {
    const p = plan({ stageLayers: [3, ...Array(14).fill(4), 2] });
    const v = detailView(p, s.hw, s.training, null, 80, s.model);
    // 81 characters: to "SP" 74, with " ·" 76 on the first line (≤ 78 = 80 less the " ·"), "1F1B" on the second
    expect(shortPlan(p)).toHaveLength(81);
    expect(v.title).toEqual(["tp 8 · pp 16 [3,4×14,2] · dp 16 · ep 8 · ZeRO-1 · mb 1 · no recompute · SP ·", "1F1B"]);
    const lines = detailLines(v, 40).filter((l) => l.kind === "text").map((l) => (l as { text: string }).text);
    expect(lines.slice(0, 2)).toEqual(v.title);
    expect(detailView(p, s.hw, s.training, null, 120, s.model).title).toEqual([shortPlan(p)]);
  });

  it("vs previous names a change of stage layers, and not two equal splits", () => {
    const a = plan({ stageLayers: [3, ...Array(14).fill(4), 2] });
    const b = plan({ stageLayers: [4, ...Array(14).fill(4), 1] });
    expect(planDiff(a, b)[0]).toBe("vs previous: stage layers 3,4×14,2→4×15,1");
    const again = plan({ stageLayers: [3, ...Array(14).fill(4), 2] });
    expect(planDiff(a, again)).toEqual([]);
  });
});

describe("uneven pipeline stages in the ranked table", () => {
  // The detail names the split (above); the table's pp column marks the plan so the user knows to
  // open it: "16*" (one character), not plan's "16 [3,4×14,2]" (14 more, which 60 columns lack).
  const even = plan({});
  const uneven = plan({ stageLayers: [3, ...Array(14).fill(4), 2] });
  const cols = (t: string) => t.trim().split(/ +/);

  it("marks an uneven plan's pp 16*, an even one's 16, in the pp column at 60 and 80 columns", () => {
    for (const width of [60, 80]) {
      const v = tableView([even, uneven], 0, 5, true, false, width);
      const header = cols(v.header);
      const pp = header.indexOf("pp");
      expect(pp).toBe(2);
      expect(cols(v.rows[0]!.text)[pp]).toBe("16");
      expect(cols(v.rows[1]!.text)[pp]).toBe("16*");
      for (const r of [v.header, ...v.rows.map((x) => x.text)]) expect(r.length, `${width}: ${r}`).toBeLessThanOrEqual(width);
    }
  });

  it("the results' help says what the mark means", () => {
    // (wrapped at 80 columns: its rows joined)
    const help = helpLines("results", KEY_HELP.results, GLOBAL_HELP, 80, 40).map((l) => l.text.trim()).join(" ");
    expect(help).toContain("pp 16*: uneven pipeline stages (their layers differ); Enter: the detail names the split");
    expect(helpLines("detail", KEY_HELP.detail, GLOBAL_HELP, 80, 40).map((l) => l.text).join("\n")).not.toContain("16*");
  });
});
