// The GPU check's settings (issue 15), in priority order: bench/gpu-check.sh runs them top down
// within its time budget (about 5 minutes including compilation on one H100/H200), so the most
// telling come first — the best expected setting compiled, the same setting eager, the new
// llama3.2-3b preset, fp8 (only where torchao is importable), then micro-batch 1, the recompute
// modes and the 8K sequences. One GPU: tp = pp = dp = 1, ZeRO-0, bf16 autocast.
import type { Plan, Precision } from "../planner/index.js";

export interface GpuSetting {
  name: string;
  model: "gpt3-1.3b" | "llama3.2-3b";
  seqLen: number;
  microBatch: number;
  recompute: Plan["recompute"];
  compile: boolean;
  precision: Precision;
  globalBatch: number;
}

/** 32,768 tokens a step at sequence 2048 (global batch 16), 32,768 at 8192 (global batch 4). */
const gb = (seqLen: number) => (seqLen >= 8192 ? 4 : 16);

function s(model: GpuSetting["model"], seqLen: number, microBatch: number, recompute: Plan["recompute"], compile = true, precision: Precision = "bf16"): GpuSetting {
  const short = model === "gpt3-1.3b" ? "g13" : "l3b";
  const tag = `${short}-s${seqLen / 1024}k-mb${microBatch}-${recompute}${compile ? "" : "-eager"}${precision === "fp8" ? "-fp8" : ""}`;
  return { name: tag, model, seqLen, microBatch, recompute, compile, precision, globalBatch: gb(seqLen) };
}

export const GPU_SETTINGS: GpuSetting[] = [
  s("gpt3-1.3b", 2048, 4, "none"),
  s("gpt3-1.3b", 2048, 4, "none", false),
  s("llama3.2-3b", 2048, 4, "none"),
  s("gpt3-1.3b", 2048, 4, "none", true, "fp8"),
  s("gpt3-1.3b", 2048, 1, "none"),
  s("gpt3-1.3b", 2048, 4, "selective"),
  s("gpt3-1.3b", 2048, 4, "full"),
  s("llama3.2-3b", 2048, 1, "none"),
  s("llama3.2-3b", 8192, 1, "selective"),
  s("gpt3-1.3b", 8192, 1, "none"),
  s("llama3.2-3b", 8192, 1, "full"),
  s("llama3.2-3b", 2048, 4, "full"),
];

/** The held-out runs' settings (bench/gpu-holdout.sh): the GPU check's, and the Llama block at
 *  micro-batch 4 with compile off, whose spec the script derives from l3b-s2k-mb4-none. */
export const HOLDOUT_SETTINGS: GpuSetting[] = [...GPU_SETTINGS, s("llama3.2-3b", 2048, 4, "none", false)];

/** Steps per setting: step 1 absorbs compilation, 2 is instrumented (FLOPs, collectives), 5 is
 *  traced; 3-4 are timed (executor/PROTOCOL.md). */
export const GPU_STEPS = 5;

export function gpuPlan(x: GpuSetting): Plan {
  return { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: x.microBatch, recompute: x.recompute, sequenceParallel: false, schedule: "1f1b" };
}
