// Exhaustive search over tp · cp (with its exchange, from 16K tokens: space.ts cpChoices) · pp ·
// dp · vpp · schedule · micro-batch · sequence parallel · ZeRO · recompute. Every configuration is counted: feasible, or rejected by a code. Only distinct
// configurations are enumerated: with dp = 1 the ZeRO stages shard nothing and are one (ZeRO-0).
// Plain numbers only in these loops: they evaluate hundreds of thousands of plans per second. The
// levels down to the layout are here; recompute and ZeRO, and the pricing, in search-layout.ts.
import { defaultSplits, virtualSplitVpps } from "./layout/stages.js";
import { optimizerBytesOf } from "./cost/moe-facts.js";
import { stateBytes } from "./cost/engine-terms.js";
import { addRejection, type RejectionCode, type RejectionCounts } from "./rejections.js";
import { dimsOf, ruleContext } from "./layout/layout.js";
import { type Dims, RULE_BY_CODE, firstBroken, rulesAt } from "./layout/rules.js";
import { ordersToPrice } from "./layout/order.js";
import { type SearchState, finishTop, priceLayout, recomputesOf } from "./search-layout.js";
import {
  type Fixed,
  cpChoices,
  expertCandidates,
  microBatchCandidates,
  ppCandidates,
  recomputeCandidates,
  scheduleCandidates,
  spCandidates,
  supportsOf,
  tpCandidates,
  vppCandidates,
  zeroCandidates,
} from "./space.js";
import type { Hardware, ModelSpec, Plan, PlanResult, Training } from "./types.js";
import { eagerEngineOf } from "./eager.js";
import { runsBlockRecompute } from "./cost/block-recompute.js";
import { runsEveryNth } from "./cost/nth-recompute.js";

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

export { comparePlans } from "./search-layout.js";

const ONE_EXPERT: readonly (readonly [number, number])[] = [[1, 1]];

/** The training that prices the plans the engine runs eager (planner/eager.ts), built once. */
function eagerState(t: Training): SearchState["eager"] {
  if (t.engine?.eager === undefined) return null;
  const e: Training = { ...t, engine: eagerEngineOf(t.engine) };
  return { when: t.engine.eager.when, t: e, stateBytes: stateBytes(e, optimizerBytesOf(e)) };
}

export function search(m: ModelSpec, hw: Hardware, t: Training, fixed: Fixed, opts: SearchOptions): SearchResult {
  const st: SearchState = {
    m, hw, t,
    top: opts.top,
    keepAll: opts.keepAll === true,
    // (zero and recompute are the innermost loops: they change memory, not the micro-batch costs)
    recomputes: recomputeCandidates(fixed, t.engine),
    // A stack whose checkpointing does not follow a zero-bubble schedule's split backward runs
    // those schedules without recompute (EngineSupports.recomputeWithZeroBubble).
    zeroBubbleRecomputes: supportsOf(t.engine).recomputeWithZeroBubble ? recomputeCandidates(fixed, t.engine) : recomputeCandidates(fixed, t.engine).filter((r) => r === "none"),
    depth: fixed.recomputeLayers,
    // (a fixed --recompute full is every layer, as Megatron's uniform method runs it, unless
    // --recompute-num-layers gives a depth)
    searchDepth: fixed.recomputeLayers === undefined && fixed.recompute === undefined && (runsBlockRecompute(t.engine) || runsEveryNth(t.engine)),
    everyNth: runsEveryNth(t.engine),
    stateBytes: stateBytes(t, optimizerBytesOf(t)),
    eager: eagerState(t),
    searched: 0,
    feasible: 0,
    rejected: {},
    best: [],
    all: [],
    closest: null,
    noCpRejected: {},
    noCpFeasible: 0,
    noCpLeast: Infinity,
  };
  const reject = (code: RejectionCode, n: number) => {
    st.searched += n;
    addRejection(st.rejected, code, n);
    if (d.cp === 1) addRejection(st.noCpRejected, code, n);
  };

  // The layout rules (layout/rules.ts), checked as each dimension is assigned: a configuration is
  // counted under the first rule it breaks. Plain numbers in one reused object.
  const ctx = ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain);
  const d: Dims = dimsOf({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
  // Uneven stages (layout/stages.ts): a given split travels with pp; otherwise a pp that does not
  // divide the layers gets the default split (⌊L/p⌋ or ⌈L/p⌉ a stage, first and last lighter).
  if (fixed.stageLayers !== undefined) d.stageLayers = fixed.stageLayers;
  const [atTp, atPp, atDp, atVpp, atMb] = [rulesAt("tp"), rulesAt("pp"), rulesAt("dp"), rulesAt("vpp"), rulesAt("microBatch")];
  const atSchedule = rulesAt("schedule");
  const atSp = rulesAt("sequenceParallel");
  // Expert parallel (MoE models only; a dense model's one candidate is ep = etp = 1).
  const atExpert = [RULE_BY_CODE.ep_experts, RULE_BY_CODE.etp_dense, RULE_BY_CODE.etp_ffn, RULE_BY_CODE.expert_fold, RULE_BY_CODE.moe_fp16_ep, RULE_BY_CODE.moe_fp16_local_experts];
  // Context parallel: its own rules once cp is assigned, and the heads rule of its all-to-all
  // variant, which needs tp too (layout/rules.ts).
  const atCp = rulesAt("cp");
  const atCpTp = [RULE_BY_CODE.cp_heads];
  const moe = m.moe !== undefined;
  // How the engine's stack runs sequence parallel (the other parallelisms: space.ts candidates).
  const spMode = supportsOf(t.engine).sequenceParallel;

  let cpSearched = false;
  let noCpSearched = false;
  for (const tp of tpCandidates(m, t, fixed)) {
    d.tp = tp;
    d.cp = 1;
    d.cpComm = undefined;
    d.cpSplit = undefined;
    const tpCode = firstBroken(atTp, d, ctx);
    // (an engine whose MoE layer needs sequence parallel beside tp > 1: layout rule moe_tp_sp)
    const sps = spCandidates(fixed, tp, ctx.tpOverlapNeedsSp === true || ctx.moeTpNeedsSp === true, spMode);
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
        // (a fixed pp's split comes completed by the request, src/plan-request.ts, or is checked
        // as given, but where vpp is left to the search and the stack splits virtual stages of
        // this pp: then one stage a rank and each such v, as for a searched pp. With virtual
        // stages, the stack's split of p·v stages where it has one: layout/stages.ts
        // defaultVirtualStageLayers.)
        const how = supportsOf(t.engine).stageSplit;
        const open = fixed.pp === undefined || (fixed.vpp === undefined && virtualSplitVpps(m.layers, pp, how).length > 0);
        const splits = fixed.stageLayers === undefined && open ? defaultSplits(m.layers, pp, fixed.vpp, how) : null;
        const defaultSplit = splits?.[0]![1];
        if (splits) d.stageLayers = defaultSplit;
        // vpp searched beside an uneven default split: each v with a split of its own, once per pp
        const splitByVpp = splits && splits.length > 1 ? new Map(splits) : null;
        d.ep = 1;
        d.etp = 1;
        const ppCode0 = cpCode ?? firstBroken(atPp, d, ctx) ?? firstBroken(atDp, d, ctx);
        for (const [ep, etp] of ppCode0 ? ONE_EXPERT : expertCandidates(m, fixed, tp, dp, t.engine)) {
          d.ep = ep;
          d.etp = etp;
          const ppCode = ppCode0 ?? (moe ? firstBroken(atExpert, d, ctx) : null);
          const edp = (tp * cp * dp) / (ep * etp);
          // the default uneven split: one stage per rank, and the v whose p·v virtual stages the
          // stack splits (layout/stages.ts virtualSplitVpps); a given one: its own vpp (space.ts)
          const vpps = ppCode === "pp_layers" ? [1] : splitByVpp ? [...splitByVpp.keys()] : defaultSplit ? [fixed.vpp ?? 1] : vppCandidates(m, fixed, pp);
          const mbs = ppCode === "batch_dp" ? [1] : microBatchCandidates(t, fixed, dp);
          // Which link each group crosses: once per (tp, pp, dp, ep, etp), in each rank order worth
          // pricing (one, unless the profile's fabric makes the order matter: layout/order.ts).
          const orders = ppCode ? null : ordersToPrice(hw, { tp, cp, dp, pp, ep, etp });
          // ZeRO shards over dp·cp (groups.ts "shard").
          const dpcp = dp * cp;
          const zeros = zeroCandidates(fixed, dpcp, pp, t.engine, tp, t.precision, ep);
          if (zeros.length === 0) continue; // a fixed ZeRO stage the engine does not run beside this pipeline (or ep)
          for (const vpp of vpps) {
            d.vpp = vpp;
            if (splitByVpp) d.stageLayers = splitByVpp.get(vpp);
            const vppCode = ppCode ?? firstBroken(atVpp, d, ctx);
            for (const schedule of scheduleCandidates(fixed, pp, vpp, t.engine)) {
              d.schedule = schedule;
              const perLayout = zeros.length * recomputesOf(st, pp, schedule).length;
              // (the schedule rules hold for every candidate but stage_layers_v: a given split of
              // virtual stages runs looped, not in a V)
              const schedCode = vppCode ?? (d.stageLayers ? firstBroken(atSchedule, d, ctx) : null);
              if (schedCode) {
                reject(schedCode, mbs.length * sps.length * perLayout);
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
                  d.sequenceParallel = sequenceParallel;
                  const spCode = firstBroken(atSp, d, ctx);
                  if (spCode) {
                    reject(spCode, perLayout);
                    continue;
                  }
                  const layout: Plan = { tp, pp, dp, cp, ...cpFields, ep, etp, vpp, zero: 0, microBatch, recompute: "none", sequenceParallel, schedule, ...(d.stageLayers ? { stageLayers: d.stageLayers } : {}) };
                  priceLayout(st, layout, orders!, zeros, edp);
                }
              }
            }
          }
        }
      }
    }
  }
  return {
    searched: st.searched,
    feasible: st.feasible,
    rejected: st.rejected,
    plans: finishTop(st),
    closest: st.feasible === 0 ? st.closest : null,
    ...(opts.keepAll ? { all: st.all } : {}),
    ...(cpSearched && noCpSearched ? { withoutCp: { feasible: st.noCpFeasible, leastMemory: st.noCpLeast, capacity: hw.memory, rejected: st.noCpRejected } } : {}),
  };
}
