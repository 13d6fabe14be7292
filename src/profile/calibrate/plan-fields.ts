// The training fields of a run directory's plan.json (and launch.json's "training"), checked
// before calibration prices the run with them: a corrupt value (a seqLen of 1e12, a precision of
// 42, a fractional GPU count) would otherwise be fitted into a written profile. Counts take the
// bounds of the model file and the flags (planner/schema/bounds.ts MODEL_BOUNDS, README "Inputs");
// a precision is one the planner prices (planner/types.ts Precision). Built with zod on first use
// (planner/schema/zod.ts).
import { join } from "node:path";
import { MODEL_BOUNDS, boundedCount } from "../../../planner/schema/bounds.js";
import { lazySchemas } from "../../../planner/schema/zod.js";
import type { Precision } from "../../../planner/index.js";
import { UserError } from "../../errors.js";
import { MAX_MOE_IMBALANCE } from "../../plan-args.js";

export interface RunFields {
  gpus?: number | undefined;
  nnodes?: number | undefined;
  seqLen?: number | undefined;
  globalBatch?: number | undefined;
  precision?: Precision | undefined;
  fusedAttention?: boolean | undefined;
  attention?: "fused" | "unfused" | undefined;
  overlapGradReduce?: boolean | undefined;
  /** The expert load imbalance the run was predicted with (plan.json, execute --moe-imbalance). */
  moeImbalance?: number | undefined;
}

const PRECISIONS = ["bf16", "fp16", "fp8"] as const satisfies readonly Precision[];

const schemas = lazySchemas((z) => {
  const fields = {
    gpus: boundedCount(z, MODEL_BOUNDS.gpus).optional(),
    // (no more nodes than ranks: the bound of --gpus)
    nnodes: boundedCount(z, MODEL_BOUNDS.gpus).optional(),
    seqLen: boundedCount(z, MODEL_BOUNDS.seqLen).optional(),
    globalBatch: boundedCount(z, MODEL_BOUNDS.globalBatch).optional(),
    precision: z.enum(PRECISIONS, { error: `must be one of ${PRECISIONS.map((p) => `"${p}"`).join(", ")}` }).optional(),
    fusedAttention: z.boolean({ error: "must be true or false" }).optional(),
    attention: z.enum(["fused", "unfused"], { error: 'must be "fused" or "unfused"' }).optional(),
    overlapGradReduce: z.boolean({ error: "must be true or false" }).optional(),
    // (the bound of --moe-imbalance: src/plan-args.ts MAX_MOE_IMBALANCE)
    moeImbalance: z.number({ error: "must be a number" }).min(1, "must be at least 1").max(MAX_MOE_IMBALANCE, `must be at most ${MAX_MOE_IMBALANCE}`).optional(),
  };
  return { fields: z.object(fields) };
});

/** The fields of `raw` (the object of `file` in the run directory `dir`; `prefix`: where they sit
 *  in it, "training." for launch.json's), or a UserError naming the file, the field and the run. */
export function runFields(raw: Record<string, unknown>, dir: string, file: string, prefix = ""): RunFields {
  const r = schemas().fields.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0]);
  throw new UserError(`${join(dir, file)}: corrupt field "${prefix}${field}": ${JSON.stringify(raw[field])} ${issue.message}; the run cannot be calibrated as recorded`);
}
