// The training fields a plan file records beside its plans, with one schema for every reader:
// `plan --json`'s top level, a run directory's plan.json (executor/prepare.ts writes it), and
// launch.json's "training" and "prediction" (executor/PROTOCOL.md). `--plan` (src/plan-file-
// settings.ts) and `calibrate` (src/profile/calibrate/runs.ts) read them here, so a file one of
// them accepts the other does not refuse. Counts take the bounds of the flags that set them
// (src/flags.ts MAX, README "Inputs"): these files record what a command line asked for. A
// precision is one the planner prices (planner/types.ts Precision). Built with zod on first use
// (planner/schema/zod.ts).
import { MAX_MOE_IMBALANCE } from "./plan-args.js";
import { MAX } from "./flags.js";
import { boundedCount } from "../planner/schema/bounds.js";
import { lazySchemas } from "../planner/schema/zod.js";
import type { Precision } from "../planner/index.js";
import { type RecomputeModule, RECOMPUTE_MODULES } from "../planner/recompute-modules.js";

export interface RecordedFields {
  gpus?: number | undefined;
  nnodes?: number | undefined;
  seqLen?: number | undefined;
  globalBatch?: number | undefined;
  precision?: Precision | undefined;
  fusedAttention?: boolean | undefined;
  /** The attention kind as `execute` once wrote it (older run directories). */
  attention?: "fused" | "unfused" | undefined;
  overlapGradReduce?: boolean | undefined;
  /** Bytes per gradient element the data-parallel reduction moved (plan --json gradReduceBytes). */
  gradReduceBytes?: 2 | 4 | undefined;
  tpCommOverlap?: boolean | undefined;
  /** The expert load imbalance the prediction used (plan --json, execute --moe-imbalance). */
  moeImbalance?: number | undefined;
  optimizerStates?: "fp32" | "bf16" | undefined;
  /** What selective recompute re-ran where not core_attn alone (plan --json, --recompute-modules). */
  recomputeModules?: RecomputeModule[] | undefined;
  /** Written by an earlier paraplan's plan --json: full recompute's depth for every plan (each
   *  plan states its own recomputeLayers now; plan-file-settings.ts refuses the old field). */
  recomputeBlockLayers?: number | undefined;
  /** The engine profile the prediction was made with: a built-in's name or a .json file. */
  engine?: string | undefined;
  /** The hardware profile: a built-in's name, "local" or a .json file. */
  profile?: string | undefined;
}
export type RecordedKey = keyof RecordedFields;

const PRECISIONS = ["bf16", "fp16", "fp8"] as const satisfies readonly Precision[];

const schemas = lazySchemas((z) => {
  const bool = () => z.boolean({ error: "must be true or false" }).optional();
  const name = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, `must be ${what}`).optional();
  const fields = {
    gpus: boundedCount(z, MAX.gpus).optional(),
    // (no more nodes than ranks: the bound of --gpus)
    nnodes: boundedCount(z, MAX.gpus).optional(),
    seqLen: boundedCount(z, MAX.seq).optional(),
    globalBatch: boundedCount(z, MAX.batch).optional(),
    precision: z.enum(PRECISIONS, { error: `must be one of ${PRECISIONS.map((p) => `"${p}"`).join(", ")}` }).optional(),
    fusedAttention: bool(),
    attention: z.enum(["fused", "unfused"], { error: 'must be "fused" or "unfused"' }).optional(),
    overlapGradReduce: bool(),
    gradReduceBytes: z.union([z.literal(2), z.literal(4)], { error: "must be 2 or 4 (bytes per gradient element)" }).optional(),
    tpCommOverlap: bool(),
    // (the bound of --moe-imbalance: src/plan-args.ts MAX_MOE_IMBALANCE)
    moeImbalance: z.number({ error: "must be a number" }).min(1, "must be at least 1").max(MAX_MOE_IMBALANCE, `must be at most ${MAX_MOE_IMBALANCE}`).optional(),
    optimizerStates: z.enum(["fp32", "bf16"], { error: 'must be "fp32" or "bf16"' }).optional(),
    recomputeModules: z.array(z.enum(RECOMPUTE_MODULES as [RecomputeModule, ...RecomputeModule[]], { error: `must be among ${RECOMPUTE_MODULES.join(", ")}` }), { error: "must be a list of modules" }).min(1, "must name a module").optional(),
    // (the bound of --recompute-num-layers; read to be refused, not dropped)
    recomputeBlockLayers: boundedCount(z, 100_000).optional(),
    engine: name("an engine name or .json file"),
    profile: name("a hardware profile name or .json file"),
  };
  return { fields, object: z.object(fields) };
});

/** A field the schema refuses: its key, its value and why. */
export interface FieldIssue {
  key: RecordedKey;
  value: unknown;
  message: string;
}

/** The recorded fields of `raw` (other keys ignored), or the first one the schema refuses. */
export function recordedFields(raw: Record<string, unknown>): { fields: RecordedFields } | { issue: FieldIssue } {
  const r = schemas().object.safeParse(raw);
  if (r.success) return { fields: r.data };
  const issue = r.error.issues[0]!;
  const key = String(issue.path[0]) as RecordedKey;
  return { issue: { key, value: raw[key], message: issue.message } };
}

/** One recorded field's value, or why the schema refuses it. */
export function recordedField<K extends RecordedKey>(key: K, value: unknown): { value: NonNullable<RecordedFields[K]> } | { message: string } {
  const r = schemas().fields[key].safeParse(value);
  return r.success ? { value: r.data as NonNullable<RecordedFields[K]> } : { message: r.error.issues[0]!.message };
}
