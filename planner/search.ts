// Exhaustive search over tp · cp (with its exchange, from 16K tokens: space.ts cpChoices) · pp ·
// dp · vpp · schedule · micro-batch · sequence parallel · ZeRO · recompute. Every configuration is counted: feasible, or rejected by a code. Only distinct
// configurations are enumerated: with dp = 1 the ZeRO stages shard nothing and are one (ZeRO-0).
// Plain numbers only in this loop: it evaluates hundreds of thousands of plans per second.
import { bufferBytes, modelStateTotal, stageActivationBytes, stageHolds, totalBytes } from "./cost/memory.js";
import { stepFloor, stepTime } from "./cost/time.js";
import { evaluatePlan, microBatchCosts } from "./evaluate.js";
import { memoryCandidateStages, unevenStageActivationBytes, unevenStageParams } from "./cost/stage-memory.js";
import { defaultStageLayers } from "./layout/stages.js";
import { stageParamSplit } from "./model.js";
import { moeBufferBytes } from "./cost/moe-memory.js";
import { cpBufferBytes } from "./cost/context.js";
import { optimizerBytesOf } from "./cost/moe-facts.js";
import { gradBufferBytes } from "./cost/engine-terms.js";
import { addRejection, type RejectionCode, type RejectionCounts } from "./rejections.js";
import { dimsOf, ruleContext } from "./layout/layout.js";
import { type Dims, RULE_BY_CODE, firstBroken, rulesAt } from "./layout/rules.js";
import { type PricedOrder, orderReason, ordersToPrice } from "./layout/order.js";
import {
  type Fixed,
  cpChoices,
  expertCandidates,
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
  /** When cp > 1 and cp = 1 were both searched: how many plans without context parallel fit, and the least memory
   *  one of them needs (bytes per GPU, its worst stage), for saying why a cp plan wins. */
  withoutCp?: { feasible: number; leastMemory: number; capacity: number; rejected: RejectionCounts };
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
const ONE_EXPERT: readonly (readonly [number, number])[] = [[1, 1]];
const FIRST_LAST = ["first", "last"] as const;

function insertTop(top: PlanResult[], r: PlanResult, k: number): void {
  if (top.length >= k && comparePlans(r, top[top.length - 1]!) >= 0) return;
  let i = top.length;
  while (i > 0 && comparePlans(r, top[i - 1]!) < 0) i--;
  top.splice(i, 0, r);
  if (top.length > k) top.pop();
}

function reasonFor(hw: Hardware, orders: readonly PricedOrder[], steps: readonly number[], chosen: number): string {
  const other = 1 - chosen;
  return orderReason(hw, orders[chosen]!, steps[chosen]!, orders[other]!, steps[other]!);
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

  const noCpRejected: RejectionCounts = {};
  const reject = (code: RejectionCode, n: number) => {
    searched += n;
    addRejection(rejected, code, n);
    if (d.cp === 1) addRejection(noCpRejected, code, n);
  };

  // The layout rules (layout/rules.ts), checked as each dimension is assigned: a configuration is
  // counted under the first rule it breaks. Plain numbers in one reused object.
  const ctx = ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain);
  const d: Dims = dimsOf({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
  // Uneven stages (layout/stages.ts): a given split travels with pp; otherwise a pp that does not
  // divide the layers gets the default split (⌊L/p⌋ or ⌈L/p⌉ a stage, first and last lighter).
  if (fixed.stageLayers !== undefined) d.stageLayers = fixed.stageLayers;
  const [atTp, atPp, atDp, atVpp, atMb] = [rulesAt("tp"), rulesAt("pp"), rulesAt("dp"), rulesAt("vpp"), rulesAt("microBatch")];
  // Expert parallel (MoE models only; a dense model's one candidate is ep = etp = 1).
  const atExpert = [RULE_BY_CODE.expert_fold, RULE_BY_CODE.ep_experts];
  // Context parallel: its own rules once cp is assigned, and the heads rule of its all-to-all
  // variant, which needs tp too (layout/rules.ts).
  const atCp = rulesAt("cp");
  const atCpTp = [RULE_BY_CODE.cp_heads];
  const moe = m.moe !== undefined;
  const optimizerBytes = optimizerBytesOf(t);
  const gradBytes = gradBufferBytes(t.engine);

  let cpSearched = false;
  let noCpSearched = false;
  let noCpFeasible = 0;
  let noCpLeast = Infinity;
  for (const tp of tpCandidates(m, t, fixed)) {
    d.tp = tp;
    d.cp = 1;
    d.cpComm = undefined;
    d.cpSplit = undefined;
    const tpCode = firstBroken(atTp, d, ctx);
    const sps = spCandidates(fixed, tp);
    for (const [cp, cpComm, cpSplit] of cpChoices(m, t, fixed, tp)) {
      if (cp > 1) cpSearched = true;
      else noCpSearched = true;
      d.cp = cp;
      d.cpComm = cpComm;
      d.cpSplit = cpSplit;
      const cpCode = tpCode ?? firstBroken(atCp, d, ctx) ?? (cp > 1 ? firstBroken(atCpTp, d, ctx) : null);
      const cpFields = cp > 1 ? { cpComm: cpComm!, cpSplit: cpSplit! } : {};
      for (const pp of ppCandidates(m, t, fixed, tp, cp)) {
        const dp = t.gpus / (tp * cp * pp);
        d.pp = pp;
        d.dp = dp;
        // (searched pp only: a fixed one comes completed by the request, src/plan-request.ts, or is
        // checked as given; not with fixed virtual stages: there pp must divide the layers)
        if (fixed.stageLayers === undefined && fixed.pp === undefined && (fixed.vpp ?? 1) === 1) d.stageLayers = defaultStageLayers(m.layers, pp);
        d.ep = 1;
        d.etp = 1;
        const ppCode0 = cpCode ?? firstBroken(atPp, d, ctx) ?? firstBroken(atDp, d, ctx);
        for (const [ep, etp] of ppCode0 ? ONE_EXPERT : expertCandidates(m, fixed, tp, dp)) {
          d.ep = ep;
          d.etp = etp;
          const ppCode = ppCode0 ?? (moe ? firstBroken(atExpert, d, ctx) : null);
          const edp = (tp * cp * dp) / (ep * etp);
          const vpps = ppCode === "pp_layers" || d.stageLayers ? [1] : vppCandidates(m, fixed, pp); // uneven stages: one per rank
          const mbs = ppCode === "batch_dp" ? [1] : microBatchCandidates(t, fixed, dp);
          // Which link each group crosses: once per (tp, pp, dp, ep, etp), in each rank order worth
          // pricing (one, unless the profile's fabric makes the order matter: layout/order.ts).
          const orders = ppCode ? null : ordersToPrice(hw, { tp, cp, dp, pp, ep, etp });
          // ZeRO shards over dp·cp (groups.ts "shard").
          const dpcp = dp * cp;
          const zeros = zeroCandidates(fixed, dpcp);
          const perLayout = zeros.length * recomputes.length;
          for (const vpp of vpps) {
            d.vpp = vpp;
            const vppCode = ppCode ?? firstBroken(atVpp, d, ctx);
            for (const schedule of scheduleCandidates(fixed, pp, vpp, t.engine)) {
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
                  const layout: Plan = { tp, pp, dp, cp, ...cpFields, ep, etp, vpp, zero: 0, microBatch, recompute: "none", sequenceParallel, schedule, ...(d.stageLayers ? { stageLayers: d.stageLayers } : {}) };
                  const costsOf = orders!.map((o) => microBatchCosts(m, hw, t, layout, o.placement));
                  const costs = costsOf[0]!;
                  // No recompute mode or ZeRO stage of this layout steps faster than its compute and
                  // bubble (cost/time.ts stepFloor): plans whose floor cannot enter the top are
                  // counted (memory still decides feasible or not) without pricing their wire.
                  const ceiling = (t.globalBatch * t.seqLen) / stepFloor(m, t, layout, costs);
                  // Memory with plain numbers: the stage parameters per layout (dense ones sharded over
                  // dp, routed experts over edp), activations per recompute mode, model states and
                  // buffers per ZeRO stage. Full breakdowns are built only for plans that may be reported.
                  const stages = pp === 1 ? ONLY : FIRST_LAST;
                  const splits = stages.map((s) => stageParamSplit(m, t.seqLen, tp, pp, m.layers / pp, stageHolds(layout, s), ep, etp));
                  const moeBuffers = moeBufferBytes(m, t, layout) + cpBufferBytes(m, t, layout);
                  // Uneven stages: the stages that can be the fullest (cost/stage-memory.ts), each
                  // with its own layers' parameters, activations and buffers.
                  const uneven = layout.stageLayers ? memoryCandidateStages(m, layout) : null;
                  const unevenParams = uneven?.map((i) => unevenStageParams(m, t, layout, i));
                  for (const recompute of recomputes) {
                    const withRecompute: Plan = { ...layout, recompute };
                    const acts = uneven ? [] : stages.map((s) => stageActivationBytes(m, t, withRecompute, s));
                    const unevenActs = uneven?.map((i) => unevenStageActivationBytes(m, t, withRecompute, i));
                    for (const zero of zeros) {
                      searched++;
                      const buffers = bufferBytes(m, tp, dpcp, zero, t, m.layers / pp) + moeBuffers;
                      let worst = 0;
                      if (unevenParams) {
                        for (let i = 0; i < unevenParams.length; i++) {
                          const sp = unevenParams[i]!;
                          const states = modelStateTotal(sp.dense, zero, dpcp, optimizerBytes, gradBytes) + (sp.expert > 0 ? modelStateTotal(sp.expert, zero, edp, optimizerBytes, gradBytes) : 0);
                          const bytes = totalBytes(hw, states + unevenActs![i]! + bufferBytes(m, tp, dpcp, zero, t, sp.layers) + moeBuffers);
                          if (bytes > worst) worst = bytes;
                        }
                      } else {
                        for (let i = 0; i < stages.length; i++) {
                          const sp = splits[i]!;
                          const states = modelStateTotal(sp.dense, zero, dpcp, optimizerBytes, gradBytes) + (sp.expert > 0 ? modelStateTotal(sp.expert, zero, edp, optimizerBytes, gradBytes) : 0);
                          const bytes = totalBytes(hw, states + acts[i]! + buffers);
                          if (bytes > worst) worst = bytes;
                        }
                      }
                      let plan: Plan = { ...withRecompute, zero };
                      if (cp === 1) {
                        if (worst <= hw.memory) noCpFeasible++;
                        else {
                          addRejection(noCpRejected, "out_of_memory");
                          if (worst < noCpLeast) noCpLeast = worst;
                        }
                      }
                      if (worst > hw.memory) {
                        addRejection(rejected, "out_of_memory");
                        if (feasible === 0 && (closest === null || worst < closest.memory.total)) {
                          closest = evaluatePlan(m, hw, t, hw.fabric ? { ...plan, order: orders![0]!.order } : plan, costs);
                        }
                        continue;
                      }
                      feasible++;
                      if (!opts.keepAll && !mayEnter(plans, opts.top, ceiling, worst)) continue;
                      // The faster order, when two are priced (memory does not depend on it).
                      let chosen = 0;
                      let steps: number[] = [];
                      if (orders!.length > 1) {
                        // The other order changes only pp and dp communication (and the bubble's share
                        // of pp): price it only where a step without them could still enter the top.
                        const first = stepTime(m, hw, t, plan, costsOf[0]!);
                        steps = [first.step];
                        const f = first.bubble / (first.compute + first.recompute + first.tpComm + first.ppComm || 1);
                        const floor = first.step - first.ppComm * (1 + f) - first.dpComm;
                        if (opts.keepAll || mayEnter(plans, opts.top, (t.globalBatch * t.seqLen) / floor, worst)) {
                          steps.push(stepTime(m, hw, t, plan, costsOf[1]!).step);
                          chosen = steps[1]! < steps[0]! ? 1 : 0;
                        }
                      }
                      if (hw.fabric) plan = { ...plan, order: orders![chosen]!.order };
                      if (!opts.keepAll) {
                        const step = steps[chosen] ?? stepTime(m, hw, t, plan, costs).step;
                        if (!mayEnter(plans, opts.top, (t.globalBatch * t.seqLen) / step, worst)) continue;
                      }
                      const result = evaluatePlan(m, hw, t, plan, costsOf[chosen]!);
                      if (steps.length > 1) result.orderReason = reasonFor(hw, orders!, steps, chosen);
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
    }
  }
  return {
    searched,
    feasible,
    rejected,
    plans,
    closest: feasible === 0 ? closest : null,
    ...(opts.keepAll ? { all } : {}),
    ...(cpSearched && noCpSearched ? { withoutCp: { feasible: noCpFeasible, leastMemory: noCpLeast, capacity: hw.memory, rejected: noCpRejected } } : {}),
  };
}
