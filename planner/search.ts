// Exhaustive search over tp · pp · dp · vpp · schedule · micro-batch · sequence parallel ·
// ZeRO · recompute. Every configuration is counted: feasible, or rejected by a code. Only distinct
// configurations are enumerated: with dp = 1 the ZeRO stages shard nothing and are one (ZeRO-0).
// Plain numbers only in this loop: it evaluates hundreds of thousands of plans per second.
import { bufferBytes, modelStateTotal, stageActivationBytes, totalBytes } from "./cost/memory.js";
import { stepTime } from "./cost/time.js";
import { evaluatePlan, microBatchCosts } from "./evaluate.js";
import { stageParamsPerGpu } from "./model.js";
import { addRejection, type RejectionCode, type RejectionCounts } from "./rejections.js";
import { dimsOf, ruleContext } from "./layout/layout.js";
import { type Dims, firstBroken, rulesAt } from "./layout/rules.js";
import { place } from "./layout/groups.js";
import {
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

/** Whether a plan with these figures would enter the current top k (same order as comparePlans). */
function mayEnter(top: PlanResult[], k: number, tokensPerSecond: number, memory: number): boolean {
  const last = top[top.length - 1];
  if (top.length < k || !last) return true;
  const d = tokensPerSecond - last.tokensPerSecond;
  if (Math.abs(d) > 1e-9 * Math.max(tokensPerSecond, last.tokensPerSecond)) return d > 0;
  return memory < last.memory.total;
}

const ONLY = ["only"] as const;
const FIRST_LAST = ["first", "last"] as const;

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
  const recomputes = recomputeCandidates(fixed, t.engine);
  // (zero and recompute are the innermost loops: they change memory, not the micro-batch costs)

  const reject = (code: RejectionCode, n: number) => {
    searched += n;
    addRejection(rejected, code, n);
  };

  // The layout rules (layout/rules.ts), checked as each dimension is assigned: a configuration is
  // counted under the first rule it breaks. Plain numbers in one reused object.
  const ctx = ruleContext(m, t, hw.gpusPerNode);
  const d: Dims = dimsOf({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
  const [atTp, atPp, atDp, atVpp, atMb] = [rulesAt("tp"), rulesAt("pp"), rulesAt("dp"), rulesAt("vpp"), rulesAt("microBatch")];

  for (const tp of tpCandidates(m, t, fixed)) {
    d.tp = tp;
    const tpCode = firstBroken(atTp, d, ctx);
    const sps = spCandidates(fixed, tp);
    for (const pp of ppCandidates(m, t, fixed, tp)) {
      const dp = t.gpus / (tp * pp);
      d.pp = pp;
      d.dp = dp;
      const ppCode = tpCode ?? firstBroken(atPp, d, ctx) ?? firstBroken(atDp, d, ctx);
      const vpps = ppCode === "pp_layers" ? [1] : vppCandidates(m, fixed, pp);
      const mbs = ppCode === "batch_dp" ? [1] : microBatchCandidates(t, fixed, dp);
      // Which link each group crosses: once per (tp, pp, dp).
      const placement = ppCode ? null : place(hw, { tp, cp: 1, dp, pp, ep: 1, etp: 1 });
      const zeros = zeroCandidates(fixed, dp);
      const perLayout = zeros.length * recomputes.length;
      for (const vpp of vpps) {
        d.vpp = vpp;
        const vppCode = ppCode ?? firstBroken(atVpp, d, ctx);
        for (const schedule of scheduleCandidates(fixed, pp, vpp)) {
          d.schedule = schedule;
          if (vppCode) {
            reject(vppCode, mbs.length * sps.length * perLayout);
            continue;
          }
          for (const microBatch of mbs) {
            d.microBatch = microBatch;
            const mbCode = firstBroken(atMb, d, ctx);
            if (mbCode) {
              reject(mbCode, sps.length * perLayout);
              continue;
            }
            for (const sequenceParallel of sps) {
              const layout: Plan = { tp, pp, dp, cp: 1, ep: 1, etp: 1, vpp, zero: 0, microBatch, recompute: "none", sequenceParallel, schedule };
              const costs = microBatchCosts(m, hw, t, layout, placement!);
              // Memory with plain numbers: the stage parameters per layout, activations per
              // recompute mode, model states and buffers per ZeRO stage. Full breakdowns are
              // built only for plans that may be reported.
              const stages = pp === 1 ? ONLY : FIRST_LAST;
              const params = stages.map((s) => stageParamsPerGpu(m, t.seqLen, tp, pp, m.layers / pp, s));
              for (const recompute of recomputes) {
                const withRecompute: Plan = { ...layout, recompute };
                const acts = stages.map((s) => stageActivationBytes(m, t, withRecompute, s));
                for (const zero of zeros) {
                  searched++;
                  const buffers = bufferBytes(m, tp, dp, zero, t, m.layers / pp);
                  let worst = 0;
                  for (let i = 0; i < stages.length; i++) {
                    const bytes = totalBytes(hw, modelStateTotal(params[i]!, zero, dp) + acts[i]! + buffers);
                    if (bytes > worst) worst = bytes;
                  }
                  const plan: Plan = { ...withRecompute, zero };
                  if (worst > hw.memory) {
                    addRejection(rejected, "out_of_memory");
                    if (feasible === 0 && (closest === null || worst < closest.memory.total)) {
                      closest = evaluatePlan(m, hw, t, plan, costs);
                    }
                    continue;
                  }
                  feasible++;
                  if (!opts.keepAll) {
                    const step = stepTime(m, hw, t, plan, costs).step;
                    if (!mayEnter(plans, opts.top, (t.globalBatch * t.seqLen) / step, worst)) continue;
                  }
                  const result = evaluatePlan(m, hw, t, plan, costs);
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
