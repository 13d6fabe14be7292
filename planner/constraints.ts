// Checks of the user's fixed dimensions and training setup before a search: a value that can
// never form a plan is bad input (named by its flag, with a code), not a rejected configuration.
// The layout rules themselves live once in layout/rules.ts.
import { ruleContext, validateFixed } from "./layout/layout.js";
import type { LayoutCode } from "./layout/rules.js";
import type { Fixed } from "./space.js";
import type { Hardware, ModelSpec, Training } from "./types.js";

export type TrainingCode = "no_fp8" | "global_batch" | "gpus" | "seq_len" | "no_layers";

export interface InputIssue {
  code: LayoutCode | TrainingCode;
  flag: string;
  message: string;
}

const issue = (code: TrainingCode, flag: string, message: string): InputIssue => ({ code, flag, message });

export function checkTraining(m: ModelSpec, hw: Hardware, t: Training): InputIssue | null {
  if (t.precision === "fp8" && hw.peak.fp8 === null)
    return issue("no_fp8", "--precision", `${hw.gpuName} has no fp8 tensor cores; use bf16 or fp16`);
  if (t.globalBatch < 1) return issue("global_batch", "--global-batch", "must be a positive integer");
  if (t.gpus < 1) return issue("gpus", "--gpus", "must be a positive integer");
  if (t.seqLen < 1) return issue("seq_len", "--seq", "must be a positive integer");
  if (m.layers < 1) return issue("no_layers", "--model", "the model needs at least one layer");
  return null;
}

/** The first rule of the layout table that the fixed dimensions break by themselves. */
export function checkFixed(m: ModelSpec, t: Training, f: Fixed, gpusPerNode = Infinity): InputIssue | null {
  return validateFixed(ruleContext(m, t, gpusPerNode), f);
}
