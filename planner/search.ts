// Exhaustive search over tp · pp · dp · vpp · schedule · micro-batch · sequence parallel ·
// ZeRO · recompute. Every configuration is counted: feasible, or rejected by a code.
// Plain numbers only in this loop: it evaluates hundreds of thousands of plans per second.
import { evaluatePlan, microBatchCosts, worstStageMemory } from "./evaluate.js";
import { addRejection, type RejectionCode, type RejectionCounts } from "./rejections.js";
import {
  checkPp,
  checkSchedule,
  checkTp,
  checkVpp,
  type Fixed,
  microBatchCandidates,
  ppCandidates,
  recomputeCandidates,
  scheduleCandidates,
  spCandidates,
  tpCandidates,
  vppCandidates,
  zeroCandidates,
} from "./space.js";
import type { Hardware, ModelSpec, Plan, PlanResult, Training } from "./types.js";

export interface SearchOptions {
  /** How many of the best plans to keep (ranked). */
  top: number;
  /** Keep every feasible plan too (for frontier charts). */
  keepAll?: boolean;
}

export interface SearchResult {
  searched: number;
  feasible: number;
  rejected: RejectionCounts;
  plans: PlanResult[];
  /** When nothing fits: the plan whose memory exceeds capacity by the smallest factor. */
  closest: PlanResult | null;
  all?: PlanResult[];
}

/** Ranking: more tokens/s first; ties (within 1e-9 relative) go to the plan using less memory. */
export function comparePlans(a: PlanResult, b: PlanResult): number {
  const d = b.tokensPerSecond - a.tokensPerSecond;
  if (Math.abs(d) > 1e-9 * Math.max(a.tokensPerSecond, b.tokensPerSecond)) return d;
  return a.memory.total - b.memory.total;
}

function insertTop(top: PlanResult[], r: PlanResult, k: number): void {
  if (top.length >= k && comparePlans(r, top[top.length - 1]!) >= 0) return;
  let i = top.length;
  while (i > 0 && comparePlans(r, top[i - 1]!) < 0) i--;
  top.splice(i, 0, r);
  if (top.length > k) top.pop();
}

export function search(m: ModelSpec, hw: Hardware, t: Training, fixed: Fixed, opts: SearchOptions): SearchResult {
  const rejected: RejectionCounts = {};
  const plans: PlanResult[] = [];
  const all: PlanResult[] = [];
  let searched = 0;
  let feasible = 0;
  let closest: PlanResult | null = null;
  const zeros = zeroCandidates(fixed);
  const recomputes = recomputeCandidates(fixed);
  const perLayout = zeros.length * recomputes.length;

  const reject = (code: RejectionCode, n: number) => {
    searched += n;
    addRejection(rejected, code, n);
  };

  for (const tp of tpCandidates(m, t, fixed)) {
    const tpCode = checkTp(m, hw.gpusPerNode, tp);
    const sps = spCandidates(fixed, tp);
    for (const pp of ppCandidates(m, t, fixed, tp)) {
      const dp = t.gpus / (tp * pp);
      const ppCode = tpCode ?? checkPp(m, t, tp, pp);
      const vpps = ppCode === "pp_layers" ? [1] : vppCandidates(m, fixed, pp);
      const mbs = ppCode === "batch_dp" ? [1] : microBatchCandidates(t, fixed, dp);
      for (const vpp of vpps) {
        const vppCode = ppCode ?? checkVpp(m, pp, vpp);
        for (const schedule of scheduleCandidates(fixed, pp, vpp)) {
          if (vppCode) {
            reject(vppCode, mbs.length * sps.length * perLayout);
            continue;
          }
          for (const microBatch of mbs) {
            const microBatches = t.globalBatch / (dp * microBatch);
            for (const sequenceParallel of sps) {
              const layout: Plan = { tp, pp, dp, vpp, zero: 0, microBatch, recompute: "none", sequenceParallel, schedule };
              const schedCode = checkSchedule(layout, microBatches);
              if (schedCode) {
                reject(schedCode, perLayout);
                continue;
              }
              const costs = microBatchCosts(m, hw, t, layout);
              for (const zero of zeros) {
                for (const recompute of recomputes) {
                  searched++;
                  const plan: Plan = { ...layout, zero, recompute };
                  const memory = worstStageMemory(m, hw, t, plan);
                  if (memory.memory.total > memory.memory.capacity) {
                    addRejection(rejected, "out_of_memory");
                    if (feasible === 0 && (closest === null || memory.memory.total < closest.memory.total)) {
                      closest = evaluatePlan(m, hw, t, plan, costs, memory);
                    }
                    continue;
                  }
                  feasible++;
                  const result = evaluatePlan(m, hw, t, plan, costs, memory);
                  insertTop(plans, result, opts.top);
                  if (opts.keepAll) all.push(result);
                }
              }
            }
          }
        }
      }
    }
  }
  return {
    searched,
    feasible,
    rejected,
    plans,
    closest: feasible === 0 ? closest : null,
    ...(opts.keepAll ? { all } : {}),
  };
}
