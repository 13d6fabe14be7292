// A plan as data: its fields, the values each may take, and the parser of a plan written in a file
// (an entry of `plan --json`'s "plans", a run's plan.json, a hand-written one). Every place that
// lists the plan's fields or the values of a dimension reads them from here.
import type { z } from "zod";
import { lazySchemas } from "./zod.js";
import { CP_COMMS, CP_SPLITS, DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type CpComm, type CpSplit, type Plan, type Recompute, type Schedule, type ZeroStage } from "../types.js";
import type { Parsed } from "./result.js";

/** The fields of a Plan, in the planner's order. */
export const PLAN_FIELDS = ["tp", "pp", "dp", "cp", "ep", "etp", "vpp", "zero", "microBatch", "recompute", "sequenceParallel", "schedule"] as const satisfies readonly (keyof Plan)[];

export const ZERO_STAGES: readonly ZeroStage[] = [0, 1, 2, 3];
export const RECOMPUTE_MODES: readonly Recompute[] = ["none", "selective", "full"];
export const SCHEDULES: readonly Schedule[] = ["1f1b", "interleaved", "gpipe", "zb1p", "zbv", "dualpipev"];

/** The fields of a Plan (drops a PlanResult's costs); stageLayers only when the split is uneven,
 *  recomputeLayers only when full recompute skips layers; cpComm and cpSplit only (and always,
 *  defaults filled in) when cp > 1. */
export function planOnly(p: Plan): Plan {
  const out = {} as Record<keyof Plan, unknown>;
  for (const k of PLAN_FIELDS) out[k] = p[k];
  if (p.cp > 1) {
    out.cpComm = p.cpComm ?? DEFAULT_CP_COMM;
    out.cpSplit = p.cpSplit ?? DEFAULT_CP_SPLIT;
  }
  if (p.stageLayers !== undefined) out.stageLayers = [...p.stageLayers];
  if (p.recomputeLayers !== undefined) out.recomputeLayers = p.recomputeLayers;
  return out as unknown as Plan;
}

const words = (xs: readonly unknown[], quote: boolean) => {
  const s = xs.map((x) => (quote ? `"${String(x)}"` : String(x)));
  return s.length > 1 ? `${s.slice(0, -1).join(", ")} or ${s[s.length - 1]}` : (s[0] ?? "");
};

const POSITIVE = "a positive integer";
/** What each field must be, in words; the order in which a file's mistakes are reported. */
const WANT: [keyof Plan, string][] = [
  ["zero", words(ZERO_STAGES, false)],
  ["recompute", words(RECOMPUTE_MODES, true)],
  ["recomputeLayers", "a positive integer: the layers of each pipeline (or virtual) stage that full recompute re-runs"],
  ["sequenceParallel", "true or false"],
  ["vpp", POSITIVE],
  ["pp", POSITIVE],
  ["schedule", words(SCHEDULES, true)],
  ["tp", POSITIVE],
  ["dp", POSITIVE],
  ["cp", POSITIVE],
  ["cpComm", words(CP_COMMS, true)],
  ["cpSplit", words(CP_SPLITS, true)],
  ["ep", POSITIVE],
  ["etp", POSITIVE],
  ["microBatch", POSITIVE],
  ["stageLayers", "a list of positive integers, one per pipeline stage (per virtual stage with vpp > 1)"],
];

/** The fields a plan file may leave out, in words (tp, pp, dp and microBatch it must give). */
const DEFAULTED = "cp, ep, etp, vpp (1), zero (0), recompute (\"none\"), sequenceParallel (false) and schedule (1F1B; interleaved with vpp > 1)";

/** Missing optional dimensions take what a hand-written plan means: vpp 1, ZeRO 0, no
 *  recompute, no sequence parallel, 1F1B (interleaved when vpp > 1). Built with zod on first
 *  use (./zod.ts). */
const schemas = lazySchemas((z) => {
  const positive = z.number().int().min(1);
  const plan = z.object({
    tp: positive,
    pp: positive,
    dp: positive,
    cp: positive.default(1),
    cpComm: z.enum(CP_COMMS as [CpComm, ...CpComm[]]).optional(),
    cpSplit: z.enum(CP_SPLITS as [CpSplit, ...CpSplit[]]).optional(),
    ep: positive.default(1),
    etp: positive.default(1),
    vpp: positive.default(1),
    zero: z.union(ZERO_STAGES.map((s) => z.literal(s)) as [z.ZodLiteral<ZeroStage>, ...z.ZodLiteral<ZeroStage>[]]).default(0),
    microBatch: positive,
    recompute: z.enum(RECOMPUTE_MODES as [Recompute, ...Recompute[]]).default("none"),
    recomputeLayers: positive.max(100_000).optional(),
    sequenceParallel: z.boolean().default(false),
    schedule: z.enum(SCHEDULES as [Schedule, ...Schedule[]]).optional(),
    stageLayers: z.array(positive).min(1).optional(),
  });
  return { plan };
});

/** One plan object (extra fields, such as a result's costs, are ignored). */
export function parsePlan(raw: Record<string, unknown>): Parsed<Plan> {
  const r = schemas().plan.safeParse(raw);
  if (!r.success) {
    const bad = new Set(r.error.issues.map((i) => String(i.path[0])));
    const [field, want] = WANT.find(([f]) => bad.has(f)) ?? WANT[0]!;
    if (raw[field] === undefined) return { ok: false, message: `field "${field}" is missing: it must be ${want} (only ${DEFAULTED} have defaults)` };
    return { ok: false, message: `field "${field}" must be ${want}, got ${JSON.stringify(raw[field])}` };
  }
  const v = r.data;
  const { stageLayers, recomputeLayers, ...even } = v;
  const plan: Plan = { ...even, schedule: v.schedule ?? (v.vpp > 1 ? "interleaved" : "1f1b") };
  if (stageLayers !== undefined) plan.stageLayers = stageLayers;
  if (recomputeLayers !== undefined) plan.recomputeLayers = recomputeLayers;
  return { ok: true, value: planOnly(plan) };
}
