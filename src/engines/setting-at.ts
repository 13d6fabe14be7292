// Where a --from file states each value it gives the plan: the file, its own flag or key with the
// value, and the line (`run.sh: --tensor-model-parallel-size 3 (line 6)`). A value the planner or
// the request refuses is then named there, not as a paraplan flag the user never typed ("--tp: 3
// does not divide…", "--precision: … no fp8"); a value the user did give on the command line keeps
// naming that flag.
import type { ArgSetting } from "./args-file.js";
import { planFieldsOf } from "../plan-file.js";

/** The values a configuration gives: the plan's fields and the request's. */
export type AtKey = "tp" | "pp" | "dp" | "cp" | "cpComm" | "cpSplit" | "ep" | "etp" | "vpp" | "zero" | "microBatch" | "recompute" | "sequenceParallel" | "schedule" | "stageLayers" | "globalBatch" | "seqLen" | "precision" | "moeImbalance" | "recomputeModules" | "recomputeLayers";

export interface SettingAt {
  file: string;
  /** The file's own flag or key with its value, and the line: `--micro-batch-size 3 (line 6)`. */
  setting: string;
}

export type SettingsAt = Partial<Record<AtKey, SettingAt>>;

/** `run.sh: --micro-batch-size 3 (line 6)`. */
export const named = (s: SettingAt): string => `${s.file}: ${s.setting}`;

/** The setting as one factor of a sentence about `origin`: the file's name only when another. */
export const inSentence = (s: SettingAt, origin: string): string => (s.file === origin ? s.setting : `${s.file}'s ${s.setting}`);

/** Megatron-LM and Megatron-DeepSpeed flags for each value, the first present naming it
 *  (read-megatron.ts megatronFacts, cp-args.ts, moe-args.ts, megatron-stages.ts). */
const MEGATRON_AT: [AtKey, string[]][] = [
  ["tp", ["tensor-model-parallel-size"]],
  ["pp", ["pipeline-model-parallel-size"]],
  ["vpp", ["num-virtual-stages-per-pipeline-rank", "num-layers-per-virtual-pipeline-stage"]],
  ["cp", ["context-parallel-size", "ds-sequence-parallel-size"]],
  ["cpComm", ["cp-comm-type"]],
  ["ep", ["expert-model-parallel-size", "moe-expert-parallel-size"]],
  ["etp", ["expert-tensor-parallel-size"]],
  ["zero", ["zero-stage", "use-torch-fsdp2", "use-megatron-fsdp", "use-distributed-optimizer"]],
  ["recompute", ["recompute-granularity", "recompute-activations", "checkpoint-activations"]],
  ["sequenceParallel", ["sequence-parallel"]],
  ["stageLayers", ["decoder-first-pipeline-num-layers", "decoder-last-pipeline-num-layers", "pp-partition-method"]],
  ["microBatch", ["micro-batch-size"]],
  ["globalBatch", ["global-batch-size"]],
  ["seqLen", ["seq-length", "encoder-seq-length"]],
  ["precision", ["fp8-format", "fp8-hybrid", "fp8-e4m3", "fp16", "bf16"]],
  ["moeImbalance", ["moe-router-force-load-balancing"]],
  ["recomputeModules", ["recompute-modules"]],
  ["recomputeLayers", ["recompute-num-layers"]],
];

/** Where a Megatron arguments file states each value it gives. */
export function megatronAt(file: string, m: Map<string, ArgSetting>): SettingsAt {
  const at: SettingsAt = {};
  for (const [key, flags] of MEGATRON_AT) {
    const s = flags.map((f) => m.get(f)).find((x) => x !== undefined);
    if (s) at[key] = { file, setting: `--${[s.flag, ...s.values].join(" ")} (line ${s.line})` };
  }
  return at;
}

/** The first line (1-based) of `text` that `re` matches, or undefined. */
export function lineOf(text: string, re: RegExp): number | undefined {
  const i = text.split("\n").findIndex((l) => re.test(l));
  return i < 0 ? undefined : i + 1;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A JSON key's setting: `train_micro_batch_size_per_gpu 3 (line 4)` (the key's first line; the
 *  key alone for an object's). */
export function jsonAt(file: string, text: string, key: string, value: unknown): SettingAt {
  const last = key.split(".").pop()!;
  const line = lineOf(text, new RegExp(`"${escape(last)}"\\s*:`));
  return { file, setting: `${key}${value === undefined ? "" : ` ${jsonShown(text, last, value)}`}${line !== undefined ? ` (line ${line})` : ""}` };
}

/** A JSON value as the file writes it. A number beyond a double's range (1e400) reads as
 *  ±Infinity, which JSON.stringify writes "null": the file's digits, said to be too large. */
function jsonShown(text: string, key: string, value: unknown): string {
  if (typeof value !== "number" || Number.isFinite(value)) return JSON.stringify(value);
  const digits = new RegExp(`"${escape(key)}"\\s*:\\s*(-?[0-9][0-9.eE+-]*)`).exec(text)?.[1] ?? (value > 0 ? "1e309 or more" : "-1e309 or less");
  return `${digits} (a number too large to hold: beyond ±1.8e308)`;
}

/** A torchtitan setting: `parallelism.tensor_parallel_degree = 3 (line 6)` in a TOML file (the
 *  key's line inside its [section]), `--parallelism.tensor_parallel_degree 3 (line 2)` as an
 *  override. */
export function titanAt(file: string, text: string, toml: boolean, section: string, key: string, value: unknown): SettingAt {
  const shown = typeof value === "string" || Array.isArray(value) ? JSON.stringify(value) : String(value);
  if (!toml) {
    const line = lineOf(text, new RegExp(`--${escape(section)}\\.${escape(key)}(\\s|=|$)`));
    return { file, setting: `--${section}.${key} ${String(value)}${line !== undefined ? ` (line ${line})` : ""}` };
  }
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\s*\\[${escape(section)}\\]`).test(l));
  const i = start < 0 ? -1 : lines.findIndex((l, j) => j > start && new RegExp(`^\\s*${escape(key)}\\s*=`).test(l));
  return { file, setting: `${section}.${key} = ${shown}${i >= 0 ? ` (line ${i + 1})` : ""}` };
}

/** The setting a planner issue is about: by its flag or code (plan-file.ts planFieldsOf), the
 *  first of its fields the file states; undefined where none is. --precision is no plan field but
 *  a setting of the file's (layout rule moe_fp16_ep names it: Megatron's --fp16 beside ep > 1). */
export function settingOf(at: SettingsAt | undefined, flagOrCode: string): SettingAt | undefined {
  if (at === undefined) return undefined;
  if (flagOrCode === "--precision") return at.precision;
  return planFieldsOf(flagOrCode).map((f) => at[f as AtKey]).find((s) => s !== undefined);
}
