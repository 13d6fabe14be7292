// One validated layout: the parallel degrees of a plan and everything that follows from them —
// world size, micro-batches, the ranks of each group and the link each group crosses on the
// profile's nodes. Built only through `buildLayout`, which applies every rule (rules.ts); the
// cost model, the simulator, the executor and the interactive planner read the same object.
// (torchtitan's ParallelDims plays this role there.)
import { runsEveryNth } from "../cost/nth-recompute.js";
import type { Hardware, ModelSpec, Plan, Training } from "../types.js";
import { MEGATRON_SUPPORTS } from "../engine-supports.js";
import { type Degrees, type Placement, edpOf, place, worldOf } from "./groups.js";
import { type Dim, type Dims, type LayoutCode, RULES, type Rule, type RuleContext, SEARCH_ORDER, firstBroken, rulesAt } from "./rules.js";

/** A broken rule: its code, the flag that fixes it and one sentence naming the numbers. */
export interface LayoutIssue {
  code: LayoutCode;
  flag: string;
  message: string;
}

export interface Layout {
  plan: Plan;
  degrees: Degrees & { edp: number };
  world: number;
  /** Sequences per data-parallel replica per step, and micro-batches of them. */
  replicaBatch: number;
  microBatches: number;
  layersPerStage: number;
  /** Layers per virtual stage (model chunk). */
  layersPerChunk: number;
  placement: Placement;
}

/** The dimensions a plan leaves at 1 unless they are given or searched (context and expert parallel). */
export const UNIT_DEGREES = { cp: 1, ep: 1, etp: 1 } as const;

/** The parallel degrees of a plan. */
export const degreesOf = (p: Pick<Plan, "tp" | "cp" | "dp" | "pp" | "ep" | "etp">): Degrees =>
  ({ tp: p.tp, cp: p.cp, dp: p.dp, pp: p.pp, ep: p.ep, etp: p.etp });

export function ruleContext(m: ModelSpec, t: Training, gpusPerNode: number, nvlinkDomain?: number): RuleContext {
  return {
    ...(nvlinkDomain !== undefined && nvlinkDomain !== gpusPerNode ? { nvlinkDomain } : {}),
    gpus: t.gpus,
    globalBatch: t.globalBatch,
    seqLen: t.seqLen,
    layers: m.layers,
    heads: m.heads,
    kvHeads: m.kvHeads,
    ffnHidden: m.ffnHidden,
    experts: m.moe?.experts ?? 0,
    gpusPerNode,
    ...(t.engine?.tensorParallel.overlapNeedsSp ? { tpOverlapNeedsSp: true } : {}),
    // (no engine: Megatron-Core's, as the search's supportsOf)
    ...(t.precision === "fp16" && (t.engine?.supports ?? MEGATRON_SUPPORTS).expertsLoopUnderFp16 ? { expertsLoop: true } : {}),
    ...(t.precision === "fp16" && m.moe !== undefined && (t.engine?.supports ?? MEGATRON_SUPPORTS).expertParallelUnderFp16 === false ? { fp16NoEp: true } : {}),
    ...(m.moe !== undefined ? { expertFfnHidden: m.moe.expertFfnHidden } : {}),
    // (no engine: Megatron-Core's, as the search's supportsOf)
    ...(m.moe !== undefined && (t.engine?.supports ?? MEGATRON_SUPPORTS).moeNeedsSpWithTp === true ? { moeTpNeedsSp: true } : {}),
    ...(m.moe !== undefined && t.engine?.supports.moeWithTensorParallel === false ? { moeTpOne: true } : {}),
    ...(m.qkNorm === "full" && t.engine?.supports.qkNormFullWithTensorParallel === false ? { qkNormTpOne: true } : {}),
    ...(t.engine !== undefined ? { engineSchedules: { name: t.engine.name, schedules: t.engine.schedules } } : {}),
    ...(runsEveryNth(t.engine) ? { everyNthRecompute: true } : {}),
  };
}

export const dimsOf = (plan: Plan): Dims => ({ ...UNIT_DEGREES, ...plan });

const issueOf = (r: Rule, d: Dims, c: RuleContext): LayoutIssue => ({ code: r.code, flag: r.flag, message: r.message(d, c) });

/** Every rule a complete plan breaks, in rule order (empty: a valid layout). */
export function validate(c: RuleContext, d: Dims): LayoutIssue[] {
  const out: LayoutIssue[] = [];
  for (const r of RULES) if (!r.ok(d, c)) out.push(issueOf(r, d, c));
  return out;
}

/** The first bad-input rule broken by the dimensions a user fixed (flags, before a search): a rule
 *  is checked once all its dimensions are given (partial rules: any of them). Rules that depend
 *  on the searched dimensions or the hardware are left to the search, which counts them. */
export function validateFixed(c: RuleContext, fixed: Partial<Dims>): LayoutIssue | null {
  // Dimensions not given (cp, ep, etp) are 1; so is vpp beside a given split, as the search takes
  // it (space.ts vppCandidates: one stage per rank unless vpp is given).
  const d = { ...UNIT_DEGREES, ...(fixed.stageLayers !== undefined ? { vpp: 1 } : {}), ...fixed } as Dims;
  const given = (k: Dim) => d[k] !== undefined;
  for (const r of RULES) {
    if (!r.input) continue;
    if (r.partial ? !r.dims.some(given) : !r.dims.every(given)) continue;
    if (!r.ok(d, c)) return issueOf(r, d, c);
  }
  return null;
}

export type Built = { ok: true; layout: Layout } | { ok: false; issues: LayoutIssue[] };

/** The layout of a complete plan on this hardware, or every rule it breaks. */
export function buildLayout(m: ModelSpec, hw: Hardware, t: Training, plan: Plan): Built {
  const d = dimsOf(plan);
  const issues = validate(ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain), d);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, layout: layoutOf(m, hw, t, plan) };
}

/** The layout of a plan already known to be valid (the search's candidates). */
export function layoutOf(m: ModelSpec, hw: Hardware, t: Training, plan: Plan, placement?: Placement): Layout {
  const degrees = degreesOf(plan);
  const replicaBatch = t.globalBatch / plan.dp;
  return {
    plan,
    degrees: { ...degrees, edp: edpOf(degrees) },
    world: worldOf(degrees),
    replicaBatch,
    microBatches: replicaBatch / plan.microBatch,
    layersPerStage: m.layers / plan.pp,
    layersPerChunk: m.layers / (plan.pp * plan.vpp),
    placement: placement ?? place(hw, degrees, plan.order),
  };
}

/** Micro-batches per step: the one place that divides the global batch (B / (dp · micro-batch)). */
export const microBatchesOf = (t: Pick<Training, "globalBatch">, plan: Pick<Plan, "dp" | "microBatch">): number =>
  t.globalBatch / (plan.dp * plan.microBatch);

/** The plan every dimension of which is at its neutral value (a starting point to vary). */
export const ONE_PLAN: Readonly<Plan> = { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

/** The first rule broken by the dimensions up to `level` in the search's order (the search's
 *  own checks, for code that splits the search into chunks). */
export function brokenUpTo(level: Dim, c: RuleContext, d: Dims): LayoutCode | null {
  for (const dim of SEARCH_ORDER.slice(0, SEARCH_ORDER.indexOf(level) + 1)) {
    const code = firstBroken(rulesAt(dim), d, c);
    if (code) return code;
  }
  return null;
}
