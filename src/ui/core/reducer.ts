// The planner's reducer (state in, action in, new state out; no I/O) and the store that applies
// it synchronously on dispatch, so a burst of keys always sees the state the previous key left.
import type { PlanResult } from "../../../planner/index.js";
import type { Action } from "./actions.js";
import { frontierStep, paretoFrontier, planKey } from "./frontier.js";
import { cycleFilter, planTable } from "./results.js";
import { entryReducer } from "./run-settings.js";
import { setupReducer } from "./setup-reducer.js";
import { type AppState, FRESH_RESULTS, type PlanTable, type RunState, SORT_KEYS, type Screen, screenOf } from "./state.js";

const tableOf = (s: AppState): PlanTable | null => (s.search ? planTable(s.search.plans, s.sort, s.filters, s.table) : null);

/** The plans of the table as shown (sorted, filtered): the state's table when it is current. */
export const tablePlans = (s: AppState): PlanResult[] => tableOf(s)?.rows ?? [];

/** The state with its table brought up to date (computed again only when search, sort or
 *  filters changed). */
function withTable(s: AppState): AppState {
  const table = tableOf(s);
  return table === s.table ? s : { ...s, table };
}

/** The plan the actions (detail, export, execute) apply to on the current screen. */
export function currentPlan(s: AppState): PlanResult | null {
  const fromTable = tablePlans(s)[s.cursor] ?? null;
  return screenOf(s) === "results" ? fromTable : (s.selected ?? fromTable);
}

/** Enter a screen; one already entered is returned to (so the stack stays short). */
function push(stack: Screen[], screen: Screen): Screen[] {
  const at = stack.indexOf(screen);
  return at >= 0 ? stack.slice(0, at + 1) : [...stack, screen];
}

const clamp = (i: number, n: number) => Math.max(0, Math.min(n - 1, i));

/** While the table fills in: the same plan stays under the cursor. */
function keepCursor(before: AppState, after: AppState): AppState {
  const was = tablePlans(before)[before.cursor];
  const next = withTable(after);
  const at = was ? tablePlans(next).findIndex((p) => planKey(p) === planKey(was)) : -1;
  return { ...next, cursor: at >= 0 ? at : 0 };
}

/** Show plan p in detail (opened, stepped to, or returned to from the frontier); the plan the
 *  detail showed before, when another, becomes the previous one (the difference is from it). */
function showDetail(s: AppState, p: PlanResult): AppState {
  const changed = s.lastDetail !== null && planKey(s.lastDetail) !== planKey(p);
  return { ...s, selected: p, lastDetail: p, previous: changed ? s.lastDetail : s.previous, message: null };
}

function updateRun(s: AppState, f: (r: RunState) => RunState): AppState {
  return s.run ? { ...s, run: f(s.run) } : s;
}

export function reducer(s: AppState, a: Action): AppState {
  const next = step(s, a);
  return next === s ? s : withTable(next);
}

function step(s: AppState, a: Action): AppState {
  if (a.type.startsWith("setup/")) {
    const setup = setupReducer(s.setup, s.options, a as Extract<Action, { type: `setup/${string}` }>);
    return setup === s.setup ? s : { ...s, setup };
  }
  if (a.type.startsWith("entry/")) return entryReducer(s, a as Extract<Action, { type: `entry/${string}` }>);
  switch (a.type) {
    case "search/start":
      return {
        ...s,
        stack: ["setup", "results"],
        session: a.session,
        search: { searched: 0, feasible: 0, rejected: {}, plans: [], closest: null, chunksDone: 0, chunksTotal: 0, elapsedMs: 0, done: false },
        ...FRESH_RESULTS,
        setup: { ...s.setup, error: null, drafts: {}, text: null },
      };
    case "search/progress":
      // At the top, the cursor follows the best plan found so far; moved, it stays on its plan.
      return s.cursor === 0 ? { ...s, search: a.progress } : keepCursor(s, { ...s, search: a.progress });
    case "results/move": {
      const n = tablePlans(s).length;
      return n === 0 ? s : { ...s, cursor: clamp(s.cursor + a.delta, n), message: null };
    }
    // A new order or filter shows its top.
    case "results/sort":
      return { ...s, sort: SORT_KEYS[(SORT_KEYS.indexOf(s.sort) + 1) % SORT_KEYS.length]!, cursor: 0 };
    case "results/filter":
      if (!s.search) return s;
      // A dense model's plans all have ep 1: a filter on it would keep them all.
      if (a.dim === "ep" && !s.search.plans.some((p) => p.ep > 1)) return { ...s, message: { text: "no ep filter: every plan has ep 1 (not a mixture of experts, or none split its experts)", tone: "info" } };
      return { ...s, filters: cycleFilter(s.search.plans, s.filters, a.dim), cursor: 0 };
    case "results/clear-filters":
      return { ...s, filters: {}, cursor: 0 };
    case "detail/open": {
      const p = a.plan ?? tablePlans(s)[s.cursor];
      if (!p) return { ...s, message: { text: "no plan to show", tone: "error" } };
      return { ...showDetail(s, p), stack: push(s.stack, "detail") };
    }
    case "detail/step": {
      const plans = tablePlans(s);
      const from = s.selected ? plans.findIndex((p) => planKey(p) === planKey(s.selected!)) : s.cursor;
      const at = clamp((from < 0 ? s.cursor : from) + a.delta, plans.length);
      const p = plans[at];
      return p ? { ...showDetail(s, p), cursor: at } : s;
    }
    case "frontier/open":
      return { ...s, selected: currentPlan(s), stack: push(s.stack, "frontier"), message: null };
    case "frontier/move": {
      const p = frontierStep(paretoFrontier(s.search?.plans ?? []), s.selected, a.delta);
      return p ? { ...s, selected: p } : s;
    }
    case "run/start":
      return {
        ...s,
        stack: push(s.stack, "execute"),
        run: { status: "preparing", plan: a.plan, totalSteps: a.steps, note: "", runDir: null, steps: [], summary: null, message: null },
        message: null,
      };
    case "run/note":
      return updateRun(s, (r) => ({ ...r, note: a.note }));
    case "run/prepared":
      return updateRun(s, (r) => ({ ...r, status: "running", runDir: a.runDir, engine: a.engine ?? null, eager: a.eager ?? null }));
    case "run/step":
      return updateRun(s, (r) => ({ ...r, status: r.status === "stopping" ? "stopping" : "running", steps: [...r.steps, a.event] }));
    case "run/done":
      return updateRun(s, (r) => ({ ...r, status: "done", summary: a.summary, runDir: a.summary.runDir }));
    case "run/failed":
      // A run the user stopped ends as "stopped", not as a failure (its error.json says interrupted).
      return updateRun(s, (r) => ({ ...r, status: r.status === "stopping" ? "stopped" : a.refused ? "refused" : "failed", message: a.message }));
    case "run/stop":
      return updateRun(s, (r) => (r.status === "preparing" || r.status === "running" ? { ...r, status: "stopping" } : r));
    case "back": {
      if (s.help) return { ...s, help: false };
      if (s.stack.length <= 1) return s;
      const next = { ...s, stack: s.stack.slice(0, -1), message: null };
      // Back to the detail from the frontier: it shows the plan selected there.
      return screenOf(next) === "detail" && s.selected ? showDetail(next, s.selected) : next;
    }
    case "help":
      return s.help === a.open ? s : { ...s, help: a.open };
    case "message":
      return { ...s, message: a.message };
  }
  return s;
}

export interface Store<S, A> {
  getState(): S;
  dispatch(action: A): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S, A>(reducer: (s: S, a: A) => S, initial: S): Store<S, A> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
