import { beforeAll, describe, expect, it } from "vitest";
import { allOptions, finished, sessionOf } from "../test-utils.js";
import type { Action } from "./actions.js";
import type { PlanResult } from "../../../planner/index.js";
import { planKey } from "./frontier.js";
import { currentPlan, reducer, tablePlans } from "./reducer.js";
import type { SearchProgress } from "./search-job.js";
import type { Session } from "./setup.js";
import { type AppState, initialState, screenOf } from "./state.js";

let session: Session;
let done: SearchProgress;
beforeAll(() => {
  session = sessionOf("llama3-8b", 1, 8, 16);
  done = finished(session);
});
const run = (s: AppState, ...actions: Action[]) => actions.reduce(reducer, s);
const searched = () => run(initialState(allOptions()), { type: "search/start", session }, { type: "search/progress", progress: done });

describe("the planner's reducer", () => {
  it("enters results on a search and goes back to the setup", () => {
    const s = searched();
    expect(s.stack).toEqual(["setup", "results"]);
    expect(tablePlans(s)).toHaveLength(done.plans.length);
    expect(screenOf(run(s, { type: "back" }))).toBe("setup");
  });

  it("keeps the cursor on its plan while the table fills in, unless at the top", () => {
    const half = { ...done, plans: done.plans.slice(0, Math.floor(done.plans.length / 2)), done: false };
    let s = run(initialState(allOptions()), { type: "search/start", session }, { type: "search/progress", progress: half }, { type: "results/move", delta: 3 });
    const held = planKey(currentPlan(s)!);
    s = run(s, { type: "search/progress", progress: done });
    expect(planKey(currentPlan(s)!)).toBe(held);
    const top = run(initialState(allOptions()), { type: "search/start", session }, { type: "search/progress", progress: half }, { type: "search/progress", progress: done });
    expect(top.cursor).toBe(0);
    expect(planKey(currentPlan(top)!)).toBe(planKey(tablePlans(top)[0]!));
  });

  it("moves within the table, and shows the top after a sort or a filter", () => {
    let s = run(searched(), { type: "results/move", delta: -5 });
    expect(s.cursor).toBe(0);
    s = run(s, { type: "results/move", delta: Infinity });
    expect(s.cursor).toBe(done.plans.length - 1);
    s = run(s, { type: "results/sort" });
    expect([s.sort, s.cursor]).toEqual(["memory", 0]);
    s = run(s, { type: "results/filter", dim: "zero" });
    expect(s.filters).toEqual({ zero: 0 });
    expect(tablePlans(s).every((p) => p.zero === 0)).toBe(true);
    s = run(s, { type: "results/clear-filters" });
    expect(s.filters).toEqual({});
  });

  it("remembers the plan shown before in the detail view (for the difference)", () => {
    let s = run(searched(), { type: "detail/open" });
    expect(s.stack).toEqual(["setup", "results", "detail"]);
    expect(s.previous).toBeNull();
    const first = s.selected!;
    s = run(s, { type: "detail/step", delta: 1 });
    expect(planKey(s.previous!)).toBe(planKey(first));
    expect(planKey(s.selected!)).toBe(planKey(tablePlans(s)[1]!));
    expect(s.cursor).toBe(1);
    s = run(s, { type: "back" }, { type: "detail/open" });
    expect(planKey(s.previous!)).toBe(planKey(first));
  });

  it("after the frontier, the detail's previous plan is the one it showed before", () => {
    const key = (p: PlanResult | null | undefined) => (p ? planKey(p) : "none");
    // Along the frontier to the fastest plan (#1 by throughput: always on the frontier).
    const toTop = (s: AppState) => {
      for (let i = 0; i < done.plans.length && key(s.selected) !== key(tablePlans(s)[0]); i++) s = run(s, { type: "frontier/move", delta: 1 });
      return s;
    };
    const rows = tablePlans(searched());
    // detail #1 → ↓ #2 → f → to #1 → Esc: #1 against #2 (it showed no difference).
    let s = run(searched(), { type: "detail/open" }, { type: "detail/step", delta: 1 }, { type: "frontier/open" });
    s = run(toTop(s), { type: "back" });
    expect(screenOf(s)).toBe("detail");
    expect([key(currentPlan(s)), key(s.previous)]).toEqual([key(rows[0]), key(rows[1])]);
    // detail #3 → ↓ #4 → f → to #1 → Esc: #1 against #4 (it showed #3).
    s = run(searched(), { type: "results/move", delta: 2 }, { type: "detail/open" }, { type: "detail/step", delta: 1 }, { type: "frontier/open" });
    s = run(toTop(s), { type: "back" });
    expect([key(currentPlan(s)), key(s.previous)]).toEqual([key(rows[0]), key(rows[3])]);
    // Enter on the frontier: the same; the plans passed on the way are not "previous".
    s = run(searched(), { type: "results/move", delta: 5 }, { type: "detail/open" }, { type: "back" }, { type: "frontier/open" });
    s = toTop(run(s, { type: "frontier/move", delta: -3 }));
    s = run(s, { type: "detail/open", plan: s.selected! });
    expect([key(currentPlan(s)), key(s.previous)]).toEqual([key(rows[0]), key(rows[5])]);
  });

  it("opens the frontier on the current plan, moves along it, and returns to detail", () => {
    let s = run(searched(), { type: "results/move", delta: 2 }, { type: "frontier/open" });
    expect(screenOf(s)).toBe("frontier");
    expect(planKey(s.selected!)).toBe(planKey(tablePlans(s)[2]!));
    s = run(s, { type: "frontier/move", delta: 1 }, { type: "detail/open", plan: s.selected! });
    expect(s.stack).toEqual(["setup", "results", "frontier", "detail"]);
    s = run(s, { type: "frontier/open" });
    expect(s.stack).toEqual(["setup", "results", "frontier"]);
  });

  it("follows a run from preparing to done or refused", () => {
    const plan = tablePlans(searched())[0]!;
    let s = run(searched(), { type: "run/start", plan, steps: 3 }, { type: "run/note", note: "on 1 CPU rank" });
    expect(screenOf(s)).toBe("execute");
    expect(s.run).toMatchObject({ status: "preparing", note: "on 1 CPU rank", totalSteps: 3 });
    s = run(s, { type: "run/prepared", runDir: "/r" }, { type: "run/step", event: { event: "step", step: 1, loss: 5, stepTime: 0.1, tokensPerSecond: 9 } });
    expect(s.run).toMatchObject({ status: "running", runDir: "/r" });
    expect(s.run!.steps).toHaveLength(1);
    s = run(s, { type: "run/failed", message: "no CUDA GPU found", refused: true });
    expect(s.run).toMatchObject({ status: "refused", message: "no CUDA GPU found" });
  });

  it("opens and closes the key help; back closes it first", () => {
    const s = run(searched(), { type: "help", open: true });
    expect(s.help).toBe(true);
    const b = run(s, { type: "back" });
    expect([b.help, screenOf(b)]).toEqual([false, "results"]);
  });
});
