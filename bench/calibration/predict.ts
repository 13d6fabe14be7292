// predictRow: one published run predicted with its own configuration (stated dimensions fixed,
// the rest searched), its source's engine and a parameter vector. The search runs once per row;
// the fit re-evaluates that plan under other parameters (evaluatePlan), so a fold never re-searches.
import { type Hardware, type Plan, type PlanResult, evaluatePlan, search } from "../../planner/index.js";
import { loadProfile } from "../../src/load.js";
import { type ParamVector, fittedEngine, scaledHardware } from "./params.js";
import type { CalibrationRow } from "./rows.js";

export type RowStatus = "ok" | "over-memory" | "inexpressible";

export interface RowPrediction {
  row: CalibrationRow;
  status: RowStatus;
  predicted: number | null;
  /** (predicted − measured) / measured. */
  error: number | null;
  plan: PlanResult | null;
  /** Predicted peak memory of the worst stage and the profile's capacity, bytes. */
  memory: number | null;
  capacity: number | null;
  /** Why the row has no prediction (the search's rejections). */
  reason?: string;
}

export interface PredictOptions {
  /** Engine figures and hardware multipliers (bench/calibration/params.ts); a key absent: the
   *  committed profile's value. */
  params?: ParamVector;
  /** The plan to evaluate (a row's searched plan, re-evaluated under new parameters). */
  plan?: Plan;
  /** Profiles by name (a cache the caller keeps); default: the built-ins. */
  profile?: (name: string) => Hardware;
}

export const planText = (p: Plan) =>
  `tp${p.tp} pp${p.pp}${p.stageLayers ? `[${p.stageLayers.join(",")}]` : ""} vpp${p.vpp} dp${p.dp} z${p.zero} mbs${p.microBatch} ${p.recompute}${p.sequenceParallel ? " sp" : ""} ${p.schedule}`;

/** Profile loader with a cache. */
export function profileCache(): (name: string) => Hardware {
  const cache = new Map<string, Hardware>();
  return (name) => {
    let hw = cache.get(name);
    if (!hw) cache.set(name, (hw = loadProfile(name)));
    return hw;
  };
}

export function predictRow(row: CalibrationRow, options: PredictOptions = {}): RowPrediction {
  const none = { predicted: null, error: null, plan: null, memory: null, capacity: null };
  const base = (options.profile ?? loadProfile)(row.profile);
  const params = options.params ?? {};
  const hw = scaledHardware(base, row.profile, params);
  const e = row.training.engine;
  const training = e ? { ...row.training, engine: fittedEngine(e, row.engine, base, params) } : row.training;
  let plan: PlanResult | null;
  let status: RowStatus = "ok";
  if (options.plan) {
    plan = evaluatePlan(row.model, hw, training, options.plan);
    if (plan.memory.total > hw.memory) status = "over-memory";
  } else {
    const r = search(row.model, hw, training, row.fixed, { top: 1 });
    plan = r.plans[0] ?? r.closest;
    if (!r.plans[0] && r.closest) status = "over-memory";
    if (!plan) {
      const reason = Object.entries(r.rejected).map(([k, v]) => `${k} ${v}`).join(", ");
      return { row, status: "inexpressible", ...none, reason: reason || "nothing searched" };
    }
  }
  const predicted = plan.time.step;
  return {
    row,
    status,
    predicted,
    error: (predicted - row.measuredStepTime) / row.measuredStepTime,
    plan,
    memory: plan.memory.total,
    capacity: hw.memory,
  };
}
