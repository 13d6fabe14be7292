// The interactive planner on a mixture-of-experts model: ep in the table, the experts' memory and
// the all-to-all's share in the detail, the ep group with its link.
import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { allOptions, finished, sessionOf } from "../test-utils.js";
import type { Action } from "./actions.js";
import { detailView, shortPlan } from "./detail.js";
import { commandFor } from "./keys.js";
import { reducer, tablePlans } from "./reducer.js";
import { filterLine, filterValues, tableView } from "./results.js";
import { type AppState, initialState } from "./state.js";

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

describe("the ep filter (E) on a mixture of experts' plans", () => {
  // Five plans by hand: ep 8, 4 (twice: etp 1 and 2), 2 and 1, tp 8 × dp 8 on 64 GPUs.
  const plans = [plan({ ep: 8 }), plan({ ep: 4 }), plan({ ep: 4, etp: 2 }), plan({ ep: 2 }), plan({ ep: 1 })];
  const session = sessionOf("mixtral-8x7b", 8, 8);
  const progress = { searched: 5, feasible: 5, rejected: {}, plans, closest: null, chunksDone: 1, chunksTotal: 1, elapsedMs: 1, done: true };
  const results = [{ type: "search/start", session }, { type: "search/progress", progress }] as Action[];
  const run = (...actions: Action[]) => actions.reduce(reducer, initialState(allOptions()));
  const key = (s: AppState, char: string) => {
    const c = commandFor(s, { name: "char", char });
    if (c.kind !== "dispatch") throw new Error(c.kind);
    return reducer(s, c.action);
  };

  it("E cycles ep through the values present, 1 → 2 → 4 → 8 → any, the table keeping that ep", () => {
    expect(filterValues(plans, "ep")).toEqual([1, 2, 4, 8]);
    let s = run(...results);
    const seen: [number | undefined, number[]][] = [];
    for (let i = 0; i < 5; i++) {
      s = key(s, "E");
      seen.push([s.filters.ep, tablePlans(s).map((p) => p.ep)]);
    }
    // ep 4 keeps both of its plans (etp 1 and etp 2); any: all five, in the planner's order
    expect(seen.map(([ep, eps]) => [ep, eps.length])).toEqual([[1, 1], [2, 1], [4, 2], [8, 1], [undefined, 5]]);
    for (const [ep, eps] of seen) if (ep !== undefined) expect(eps.every((e) => e === ep)).toBe(true);
  });

  it("says the filter on the sort line with the others, and c clears it", () => {
    let s = key(key(run(...results), "E"), "E");
    expect(filterLine(s.sort, s.filters, tablePlans(s).length, plans.length)).toBe("sort: throughput · filter ep 2 (1 of 5)");
    s = key(s, "c");
    expect(s.filters).toEqual({});
  });

  it("a dense model's plans (all ep 1): E filters nothing and says why", () => {
    const dense = sessionOf("llama3-8b", 1, 8, 16);
    const s = key(run({ type: "search/start", session: dense }, { type: "search/progress", progress: finished(dense) }), "E");
    expect(s.filters).toEqual({});
    expect(s.message?.text).toMatch(/^no ep filter: every plan has ep 1/);
  });
});
