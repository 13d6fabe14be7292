import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../../../planner/index.js";
import { best, finished, sessionOf } from "../test-utils.js";
import { GLYPH, frontierStep, frontierView, paretoFrontier, planKey } from "./frontier.js";

let plans: PlanResult[];
beforeAll(() => {
  plans = finished(sessionOf("llama3-8b", 1, 8, 16)).plans;
});

const text = (v: ReturnType<typeof frontierView>) => v.rows.map((r) => r.map((x) => x.text).join(""));

describe("the frontier chart", () => {
  it("keeps exactly the plans no other plan beats on both memory and throughput", () => {
    const f = paretoFrontier(plans);
    const keys = new Set(f.map(planKey));
    for (const p of f) expect(plans.some((q) => q.memory.total < p.memory.total && q.tokensPerSecond >= p.tokensPerSecond)).toBe(false);
    for (const p of plans.filter((q) => !keys.has(planKey(q))).slice(0, 300))
      expect(plans.some((q) => q.memory.total <= p.memory.total && q.tokensPerSecond >= p.tokensPerSecond && planKey(q) !== planKey(p))).toBe(true);
    expect(f[f.length - 1]!.tokensPerSecond).toBe(best(plans).tokensPerSecond);
  });

  it("draws a scatter of the given size with axes, the frontier and the selected plan", () => {
    const sel = best(plans);
    const v = frontierView(plans, sel, 80, 18);
    const rows = text(v);
    expect(rows).toHaveLength(18);
    for (const r of rows) expect([...r].length).toBeLessThanOrEqual(80);
    expect(rows.join("\n").split(GLYPH.selected)).toHaveLength(2);
    expect(rows.join("").includes(GLYPH.frontier)).toBe(true);
    // The fastest plan sits on the top row, at the top label.
    expect(rows[0]).toContain(GLYPH.selected);
    expect(rows[0]).toMatch(/^\s+\d+(\.\d)?k ┤/);
    expect(rows[16]).toMatch(/^\s+└─+$/);
    expect(rows[17]).toMatch(/^\s+[\d.]+ GiB\s+[\d.]+ GiB\s+[\d.]+ GiB$/);
    expect(v.caption[0]).toMatch(/^tokens\/s ↑ against memory per GPU → · [\d,]+ feasible plans · ◆ frontier \(\d+\)$/);
    expect(v.caption[1]).toContain(`tp ${sel.tp} · pp ${sel.pp}`);
  });

  it("moves along the frontier from the selected plan", () => {
    const f = paretoFrontier(plans);
    const top = f[f.length - 1]!;
    expect(planKey(frontierStep(f, top, -1)!)).toBe(planKey(f[f.length - 2]!));
    expect(planKey(frontierStep(f, top, 1)!)).toBe(planKey(top));
    const off = plans.find((p) => !f.some((q) => planKey(q) === planKey(p)))!;
    const near = frontierStep(f, off, 1)!;
    expect(Math.min(...f.map((q) => Math.abs(q.memory.total - off.memory.total)))).toBe(Math.abs(near.memory.total - off.memory.total));
  });
});
