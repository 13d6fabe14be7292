// Pipeline schedules: in-flight activations and the bubble.
import type { Schedule } from "../types.js";

/** Layers' worth of activations (each of one micro-batch) the first pipeline rank holds at peak.
 *  - no pipeline (p = 1): gradient accumulation runs micro-batches one at a time → L layers once.
 *  - GPipe (Huang et al. 2019): all m forwards before any backward → m · L/p.
 *  - 1F1B (Narayanan et al. 2021 §2.2.1, PipeDream-Flush): stage 0 keeps min(p, m) micro-batches
 *    of its L/p layers → min(p, m)·L/p, about L (Korthikanti et al. 2022 §4.2.3).
 *  - interleaved 1F1B with v chunks (Narayanan et al. 2021 §2.2.2): stage 0 runs
 *    (v−1)·p + 2(p−1) warm-up chunk forwards plus one in steady state, each of L/(p·v) layers
 *    → L·(1 + (p−1)/(p·v)) (Korthikanti et al. 2022 §4.2.3), capped by the m·v chunks there are. */
export function inFlightLayers(
  schedule: Schedule,
  layers: number,
  pp: number,
  vpp: number,
  microBatches: number,
): number {
  if (pp === 1) return layers;
  const perStage = layers / pp;
  if (schedule === "gpipe") return microBatches * perStage;
  if (schedule === "1f1b") return Math.min(pp, microBatches) * perStage;
  const chunks = Math.min(microBatches * vpp, (vpp - 1) * pp + 2 * (pp - 1) + 1);
  return (chunks * perStage) / vpp;
}

/** Bubble as a fraction of the ideal (bubble-free) step time: (p−1)/m for GPipe and 1F1B,
 *  (p−1)/(v·m) for interleaved 1F1B (Narayanan et al. 2021 §2.2, Eq. 1 and §2.2.2). */
export function bubbleFraction(schedule: Schedule, pp: number, vpp: number, microBatches: number): number {
  if (pp === 1) return 0;
  const v = schedule === "interleaved" ? vpp : 1;
  return (pp - 1) / (v * microBatches);
}
