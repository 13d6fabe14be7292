// Pipeline schedules: in-flight activations and the bubble.
import type { Schedule } from "../types.js";
import { fewMicroBatches, zeroBubbleCriticalPath } from "./zb-few.js";

/** Layers' worth of activations (each of one micro-batch) the first pipeline rank holds at peak.
 *  - no pipeline (p = 1): gradient accumulation runs micro-batches one at a time → L layers once.
 *  - GPipe (Huang et al. 2019): all m forwards before any backward → m · L/p.
 *  - 1F1B (Narayanan et al. 2021 §2.2.1, PipeDream-Flush): stage 0 keeps min(p, m) micro-batches
 *    of its L/p layers → min(p, m)·L/p, about L (Korthikanti et al. 2022 §4.2.3).
 *  - interleaved 1F1B with v chunks (Narayanan et al. 2021 §2.2.2): stage 0 runs
 *    (v−1)·p + 2(p−1) warm-up chunk forwards plus one in steady state, each of L/(p·v) layers
 *    → L·(1 + (p−1)/(p·v)) (Korthikanti et al. 2022 §4.2.3), capped by the m·v chunks there are.
 *  - zb1p (torch ScheduleInterleavedZeroBubble; Qi et al. 2024 Table 2, ZB-H1 "p·M_B"): rank r
 *    runs (v−1)·p + p−1−r warm-up forwards and delays its W by r steps, so a chunk's activations
 *    (most of them: the weight-gradient GEMMs need their inputs, Qi et al. Table 1 M_W = 32sbh)
 *    stay until its W: v·p chunks of L/(p·v) layers → L, capped by the m·v chunks there are.
 *  - zbv (torch ScheduleZBVZeroBubble; Qi et al. §6 "the same peak memory as 1F1B"): rank r runs
 *    2(p−r)−1 + 2r forwards before its first I/W → 2p chunks of L/(2p) layers → L (min(m, p)·L/p).
 *  - dualpipev (torch ScheduleDualPipeV; deepseek-ai/DualPipe README, commit 3da1bbea5360,
 *    "PP+1" activations with PP = 2p stages): 2p forwards, then each F&B pair runs its forward
 *    before the backward frees one → 2p + 1 chunks of L/(2p) layers → L·(1 + 1/(2p)). */
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
  if (schedule === "zb1p") return (Math.min(microBatches * vpp, vpp * pp) * perStage) / vpp;
  if (schedule === "zbv") return (Math.min(2 * microBatches, 2 * pp) * perStage) / 2;
  if (schedule === "dualpipev") return (Math.min(2 * microBatches, 2 * pp + 1) * perStage) / 2;
  const chunks = Math.min(microBatches * vpp, (vpp - 1) * pp + 2 * (pp - 1) + 1);
  return (chunks * perStage) / vpp;
}

/** One stage's (or chunk's) time per micro-batch: forward, input-gradient backward (B, with its
 *  recompute) and weight-gradient backward (W); only their ratios matter here. */
export interface PassSplit {
  forward: number;
  inputGrad: number;
  weightGrad: number;
}

/** T_F = T_B = T_W: the split Qi et al. 2024 use to compare schedules. */
export const EQUAL_SPLIT: PassSplit = { forward: 1, inputGrad: 1, weightGrad: 1 };

/** Bubble as a fraction of the ideal (bubble-free) step time:
 *  - (p−1)/m for GPipe and 1F1B, (p−1)/(v·m) for interleaved 1F1B (Narayanan et al. 2021 §2.2,
 *    Eq. 1 and §2.2.2);
 *  - zero-bubble schedules: (p−1)(T_F + T_B − T_W) per chunk of L/(p·v) layers, against the ideal
 *    v·m·(T_F + T_B + T_W) — ZB-H1 (Qi et al. 2024 §2.1, Table 2; the ZB1P row of the
 *    deepseek-ai/DualPipe README, (p−1)(F + B − 2W) with B the full backward). The simulator, which
 *    plays torch's own orders (planner/sim/zb-orders.ts), gives exactly this for zb1p when m ≥ p,
 *    and for zbv (m ≥ 2p−1) and dualpipev (m ≥ 2p) at T_F = T_B = T_W; where T_B ≥ T_F ≥ T_W
 *    torch's simpler orders stay within 35 % of it (test/sim/zero-bubble.test.ts; the farthest,
 *    dualpipev at T_B = 2T_F, a third over), and the simulated top plans re-rank by the real order;
 *    torch runs DualPipeV's overlapped F&B pairs one after the other, so the DualPipe report's
 *    (p/2−1)(F&B + B − 3W), which assumes their overlap, does not apply to what it runs. With
 *    fewer micro-batches than that steady state needs (zb1p m < p, zbv m < 2p − 1) the W passes
 *    cannot fill the cool-down: the critical path of torch's order on uniform stages instead
 *    (cost/zb-few.ts). */
export function bubbleFraction(schedule: Schedule, pp: number, vpp: number, microBatches: number, split: PassSplit = EQUAL_SPLIT): number {
  if (pp === 1) return 0;
  if (schedule === "zb1p" || schedule === "zbv" || schedule === "dualpipev") {
    const v = schedule === "zb1p" ? vpp : 2;
    const { forward: f, inputGrad: b, weightGrad: w } = split;
    const total = f + b + w;
    if (total <= 0) return 0;
    // Too few micro-batches for the steady state: the critical path of torch's order (zb-few.ts),
    // per chunk (the split is a stage's: v chunks).
    if (fewMicroBatches(schedule, pp, microBatches)) {
      const step = zeroBubbleCriticalPath(schedule, pp, vpp, microBatches, f / v, b / v, w / v);
      if (Number.isFinite(step)) return step / (microBatches * total) - 1;
    }
    return ((pp - 1) * Math.max(0, f + b - w)) / (v * microBatches * total);
  }
  const v = schedule === "interleaved" ? vpp : 1;
  return (pp - 1) / (v * microBatches);
}

/** bubbleFraction's formula for the schedule in words, and its value where it needs no pass split
 *  (GPipe, 1F1B, interleaved): what a report states beside a measured or simulated bubble. */
export function bubbleFormula(schedule: Schedule, pp: number, vpp: number, microBatches: number): { formula: string; value?: number; where?: string } {
  if (pp === 1) return { formula: "no pipeline, no bubble", value: 0 };
  if (schedule === "zb1p" || schedule === "zbv" || schedule === "dualpipev") {
    if (fewMicroBatches(schedule, pp, microBatches))
      return { formula: `the critical path of torch's order on uniform stages (m < ${schedule === "zb1p" ? "p" : "2p − 1"}: too few W passes to fill the cool-down)` };
    return { formula: `(p−1)(F + B − W)/(${schedule === "zb1p" ? "v" : "2"}·m·(F + B + W))`, where: "F, B, W: a stage's forward, input- and weight-gradient passes" };
  }
  if (schedule === "interleaved") return { formula: "(p−1)/(v·m)", value: bubbleFraction(schedule, pp, vpp, microBatches) };
  return { formula: "(p−1)/m", value: bubbleFraction(schedule, pp, vpp, microBatches) };
}
