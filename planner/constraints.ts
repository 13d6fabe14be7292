// Checks of the user's fixed dimensions and training setup before a search: a value that can
// never form a plan is bad input (named by its flag), not a rejected configuration.
import type { Fixed } from "./space.js";
import type { Hardware, ModelSpec, Training } from "./types.js";

export interface InputIssue {
  flag: string;
  message: string;
}

const issue = (flag: string, message: string): InputIssue => ({ flag, message });

export function checkTraining(m: ModelSpec, hw: Hardware, t: Training): InputIssue | null {
  if (t.precision === "fp8" && hw.peak.fp8 === null)
    return issue("--precision", `${hw.gpuName} has no fp8 tensor cores; use bf16 or fp16`);
  if (t.globalBatch < 1) return issue("--global-batch", "must be a positive integer");
  if (t.gpus < 1) return issue("--gpus", "must be a positive integer");
  if (t.seqLen < 1) return issue("--seq", "must be a positive integer");
  if (m.layers < 1) return issue("--model", "the model needs at least one layer");
  return null;
}

export function checkFixed(m: ModelSpec, t: Training, f: Fixed): InputIssue | null {
  const n = t.gpus;
  if (f.tp !== undefined) {
    if (n % f.tp !== 0) return issue("--tp", `${f.tp} does not divide the ${n} GPUs; pick a divisor of ${n}`);
    if (m.heads % f.tp !== 0) return issue("--tp", `${f.tp} does not divide the ${m.heads} attention heads`);
    if (m.kvHeads % f.tp !== 0) return issue("--tp", `${f.tp} does not divide the ${m.kvHeads} key/value heads`);
  }
  if (f.pp !== undefined) {
    if (n % f.pp !== 0) return issue("--pp", `${f.pp} does not divide the ${n} GPUs; pick a divisor of ${n}`);
    if (m.layers % f.pp !== 0) return issue("--pp", `${f.pp} does not divide the ${m.layers} layers`);
  }
  if (f.dp !== undefined) {
    if (n % f.dp !== 0) return issue("--dp", `${f.dp} does not divide the ${n} GPUs; pick a divisor of ${n}`);
    if (t.globalBatch % f.dp !== 0) return issue("--dp", `${f.dp} does not divide the global batch ${t.globalBatch}`);
  }
  const product = (f.tp ?? 1) * (f.pp ?? 1) * (f.dp ?? 1);
  if (n % product !== 0) return issue("--tp/--pp/--dp", `tp·pp·dp = ${product} does not divide the ${n} GPUs`);
  if (f.tp !== undefined && f.pp !== undefined && f.dp !== undefined && product !== n)
    return issue("--tp/--pp/--dp", `tp·pp·dp = ${product} but there are ${n} GPUs; they must multiply to the GPU count`);
  if (f.vpp !== undefined) {
    if (f.vpp > 1 && f.pp === 1) return issue("--vpp", "virtual stages need a pipeline (pp > 1)");
    if (f.pp !== undefined && m.layers % (f.pp * f.vpp) !== 0)
      return issue("--vpp", `pp·vpp = ${f.pp * f.vpp} does not divide the ${m.layers} layers`);
    if (f.schedule !== undefined && (f.schedule === "interleaved") !== f.vpp > 1)
      return issue("--schedule", f.vpp > 1 ? "vpp > 1 needs --schedule interleaved" : "interleaved needs --vpp > 1");
  }
  if (f.schedule !== undefined && f.schedule !== "1f1b" && f.pp === 1)
    return issue("--schedule", `${f.schedule} needs a pipeline (pp > 1)`);
  if (f.microBatch !== undefined) {
    if (t.globalBatch % f.microBatch !== 0)
      return issue("--micro-batch", `${f.microBatch} does not divide the global batch ${t.globalBatch}`);
    if (f.dp !== undefined && t.globalBatch % (f.dp * f.microBatch) !== 0)
      return issue("--micro-batch", `dp·micro-batch = ${f.dp * f.microBatch} does not divide the global batch ${t.globalBatch}`);
  }
  if (f.sequenceParallel === true && f.tp === 1) return issue("--sequence-parallel", "sequence parallel needs tp > 1");
  return null;
}
