// `--plan plan.json`: one entry of `paraplan plan --json`'s `plans` array, the whole output
// (its first plan), or a run directory's plan.json. Missing optional dimensions take the
// defaults a hand-written plan would mean (vpp 1, ZeRO 0, no recompute, 1F1B, no SP).
import { parseInputJson, readInputText, unreadable } from "./read-input.js";
import type { Plan } from "../planner/index.js";
import { parsePlan } from "../planner/schema/plan.js";
import { UserError } from "./errors.js";
import { SPEC_VERSION } from "../executor/spec-version.js";

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

export function planFromJson(raw: unknown, origin: string): Plan {
  let p: unknown = raw;
  // "plans" present but not a list (null, an object): the whole output is corrupt, not a bare
  // plan missing its fields (QA: "plans": null was told field "pp" is missing).
  if (isObj(raw) && "plans" in raw && !Array.isArray(raw.plans))
    throw new UserError(`--plan ${origin}: "plans" is ${raw.plans === null ? "null" : typeof raw.plans === "object" ? "an object" : `a ${typeof raw.plans}`}, not a list of plans (plan --json writes "plans": [ … ])`);
  if (isObj(raw) && Array.isArray(raw.plans)) {
    if (raw.plans.length === 0) throw new UserError(`--plan ${origin}: "plans" is empty (no plan fitted); plan again with more GPUs`);
    p = raw.plans[0];
  } else if (isObj(raw) && isObj(raw.plan) && isObj(raw.training) && isObj(raw.model)) {
    // A launch spec (launch.json of a run directory or of an export, executor/PROTOCOL.md): its plan,
    // of the spec version this paraplan writes (another launcher's may mean other things by it).
    if (raw.version !== undefined && raw.version !== SPEC_VERSION)
      throw new UserError(`--plan ${origin}: a launch spec of version ${JSON.stringify(raw.version)}; this paraplan reads version ${SPEC_VERSION} (executor/PROTOCOL.md): plan it again, or run it with the paraplan that wrote it`);
    p = raw.plan;
  }
  if (!isObj(p)) throw new UserError(`--plan ${origin}: expected a plan object (an entry of plan --json's "plans")`);
  const parsed = parsePlan(p);
  if (!parsed.ok) throw new UserError(`--plan ${origin}: ${parsed.message}`);
  return parsed.value;
}

/** DeepSpeed's batch and ZeRO keys (runtime/config.py, constants.py): a ds_config has one, no plan has. */
const DS_KEYS = ["train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "zero_optimization"];

const RUN_FILE = "not a plan; give the run's plan.json (or its launch.json) to --plan";

/** Which other file of a run directory (executor/PROTOCOL.md, executor/run-dir.ts) `v` is, or of
 *  plan --trace-out; null for anything else (QA: summary.json and trace.json were told field "pp"
 *  is missing, though summary.json holds the plan under "plan"). */
function runFileOf(v: unknown): string | null {
  if (!isObj(v)) return null;
  if (Array.isArray(v.traceEvents)) return "a Chrome trace (a run's trace.json, or plan --trace-out's)";
  if (isObj(v.measured) && isObj(v.predicted)) return "a run's measured summary (summary.json)";
  if (isObj(v.failure) && "steps" in v) return "a run's failure record (error.json)";
  return null;
}

/** The JSON a --plan file holds. A trainer's configuration is plan --from's, and said so (QA: a
 *  ds_config was told field "pp" is missing; Megatron-LM arguments, a YAML, a .toml or a launch
 *  script, malformed JSON). */
export function readPlanJson(path: string): unknown {
  const r = readInputText(path);
  if (!r.ok) throw new UserError(unreadable("--plan", path, r));
  const trainer = "not a paraplan plan (plan --json's output, an entry of its \"plans\", or a launch.json); a trainer's configuration is read by plan --from";
  const t = r.text.trimStart();
  if (/-m executor\.worker\b/.test(r.text)) throw new UserError(`--plan ${path} launches paraplan's worker (a paraplan export); give its launch.json to --plan`);
  if (t !== "" && !t.startsWith("{") && !t.startsWith("["))
    throw new UserError(`--plan ${path} is not JSON, so ${trainer}: give it as plan --from ${path}`);
  const j = parseInputJson(r.text);
  if (!j.ok) {
    // metrics.jsonl: one step object a line (QA: "malformed JSON (Unexpected non-whitespace …)")
    if (/^\{"step":\d+,/.test(t) && t.includes("\n")) throw new UserError(`--plan ${path} is a run's step metrics (metrics.jsonl), ${RUN_FILE}`);
    throw new UserError(`--plan ${path}: ${j.why}`);
  }
  const v = j.value;
  const other = runFileOf(v);
  if (other !== null) throw new UserError(`--plan ${path} is ${other}, ${RUN_FILE}`);
  if (isObj(v) && !("plans" in v) && !isObj(v.plan) && !("tp" in v) && DS_KEYS.some((k) => k in v))
    throw new UserError(`--plan ${path} is a DeepSpeed ds_config, ${trainer}: give it as plan --from ${path} (with the Megatron-DeepSpeed arguments as a second --from where the run has them)`);
  return v;
}

export function readPlanFile(path: string): Plan {
  return planFromJson(readPlanJson(path), path);
}

/** A fixed dimension's flag (planner/layout/rules.ts Rule.flag, constraints.ts) or a worker
 *  refusal's code (planner/layout/capabilities.ts) → the plan file's fields it is about
 *  (planner/schema/plan.ts): a file's value is named by its field, not by a flag the user did
 *  not give. */
const FIELDS: Record<string, readonly string[]> = {
  "--tp": ["tp"], "--pp": ["pp"], "--dp": ["dp"], "--cp": ["cp"], "--ep": ["ep"], "--etp": ["etp"], "--vpp": ["vpp"], "--zero": ["zero"],
  "--micro-batch": ["microBatch"], "--recompute": ["recompute"], "--sequence-parallel": ["sequenceParallel"],
  "--no-sequence-parallel": ["sequenceParallel"], "--schedule": ["schedule"], "--stage-layers": ["stageLayers"],
  "--cp-comm": ["cpComm"], "--cp-split": ["cpSplit"], "--tp-comm-overlap": ["sequenceParallel"], "--recompute-num-layers": ["recomputeLayers"],
  "--tp/--pp/--dp": ["tp", "cp", "pp", "dp"],
  worker_stage_layers: ["stageLayers"], worker_microbatches: ["microBatch"], worker_zb_recompute: ["recompute"], worker_compile_sac_tp: ["recompute"],
  worker_sp_seq: ["sequenceParallel"], worker_tp_ffn: ["tp"], worker_cp_comm: ["cpComm"], worker_cp_moe: ["cp"], worker_cp_seq: ["cp"],
};

/** The plan fields an issue's flag or a refusal's code is about (none where unknown). */
export const planFieldsOf = (key: string): readonly string[] => FIELDS[key] ?? [];

/** `--plan FILE: field "tp": …` (`fields "tp", "pp", "dp"` for the degrees' product; the file
 *  alone where no field is known), one line. `key`: the issue's flag or refusal code. */
export function planFileError(origin: string, key: string, plan: { cp?: number | undefined }, text: string): UserError {
  const fields = planFieldsOf(key).filter((f) => f !== "cp" || key !== "--tp/--pp/--dp" || (plan.cp ?? 1) > 1);
  const named = fields.length === 0 ? "" : `${fields.length > 1 ? "fields" : "field"} ${fields.map((f) => `"${f}"`).join(", ")}: `;
  return new UserError(`${origin}: ${named}${text}`);
}
