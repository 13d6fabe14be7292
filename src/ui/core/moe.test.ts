// The interactive planner on a mixture-of-experts model: ep in the table, the experts' memory and
// the all-to-all's share in the detail, the ep group with its link.
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { detailView, shortPlan } from "./detail.js";
import { tableView } from "./results.js";

const mix = sessionOf("mixtral-8x7b", 8, 8).request;
const plan = (p: Partial<Plan>) =>
  evaluatePlan(mix.model, mix.hw, mix.training, { tp: 8, pp: 1, dp: 8, cp: 1, ep: 8, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "full", sequenceParallel: true, schedule: "1f1b", ...p });

describe("MoE plans in the interactive planner", () => {
  it("the table has an ep column after dp (ep×etp with expert tensor parallel)", () => {
    const v = tableView([plan({}), plan({ ep: 4, etp: 2 })], 0, 10);
    expect(v.header).toMatch(/^# +tp +pp +dp +ep +Z /);
    expect(v.rows[0]!.text).toMatch(/^1 +8 +1 +8 +8 +1 /);
    expect(v.rows[1]!.text).toMatch(/^2 +8 +1 +8 +4×2 +1 /);
    // a dense table keeps its columns
    const dense = tableView([plan({ ep: 1 })], 0, 10, false);
    expect(dense.header).not.toMatch(/ ep /);
  });
  it("the detail shows the experts' memory, the all-to-all's share of the step and the ep group's link", () => {
    const p = plan({});
    const v = detailView(p, mix.hw, mix.training, null, 120, mix.model);
    expect(v.experts).toMatch(/^experts: [\d.]+ GiB of routed-expert states \(÷ ep·etp = 8, over edp 8\) · all-to-all [\d.]+ m?s = [\d.]+% of the step$/);
    expect(v.timeLegend.flat().some((i) => i.key === "epComm" && i.text.startsWith("⇄ ep all-to-all "))).toBe(true);
    const ep = v.comms.find((c) => c.link.group === "ep")!;
    expect(ep.text).toMatch(/^ep +8 ranks +NVLink/);
    expect(shortPlan(p)).toContain("dp 8 · ep 8 · ZeRO-1");
    // a dense plan has no experts line and no ep row
    const gpt = sessionOf("gpt3-like", 128, 8).request;
    const d = evaluatePlan(gpt.model, gpt.hw, gpt.training, { ...p, tp: 8, pp: 16, dp: 8, ep: 1, etp: 1 });
    const dv = detailView(d, gpt.hw, gpt.training, null, 120);
    expect(dv.experts).toBeNull();
    expect(dv.comms.map((c) => c.link.group)).toEqual(["tp", "pp", "dp"]);
  });
});
