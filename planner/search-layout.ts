// The search's innermost levels: one layout (every dimension but recompute and ZeRO fixed) priced
// under each recompute mode and ZeRO stage — memory on plain numbers for all of them, the step
// only for those whose floors could enter the top (cost/time.ts). A function of its own, called
// once per layout: V8 compiles it early and small, where the whole search as one function was
// compiled on-stack late and for ~300 ms, a compilation a CLI process then waits for at exit.
import { type MicroBatchCosts, computeFloor, stepFloor, stepTime } from "./cost/time.js";
import { evaluatePlan, microBatchCosts } from "./evaluate.js";
import { type DepthMemo, activationsOf, layoutMemory, leastDepth, worstBytes } from "./search-memory.js";
import { addRejection, type RejectionCounts } from "./rejections.js";
import { type PricedOrder, orderReason, ordersMatter } from "./layout/order.js";
import type { Hardware, ModelSpec, Plan, PlanResult, Recompute, Training, ZeroStage } from "./types.js";
import type { StateBytes } from "./cost/engine-terms.js";
import { ZERO_BUBBLE } from "./layout/capabilities.js";
import { atDepth } from "./cost/block-recompute.js";
import { everyNthDepths, everyNthFor } from "./cost/nth-recompute.js";
import { type EagerCase, eagerCase } from "./eager.js";

/** The recomputes searched beside a schedule: a zero-bubble one under a stack that does not
 *  recompute beside it takes none only (EngineSupports.recomputeWithZeroBubble). */
export const recomputesOf = (st: Pick<SearchState, "recomputes" | "zeroBubbleRecomputes">, pp: number, schedule: Plan["schedule"]): readonly Recompute[] =>
  pp > 1 && ZERO_BUBBLE.has(schedule) ? st.zeroBubbleRecomputes : st.recomputes;

/** What the search accumulates, shared by its levels. */
export interface SearchState {
  readonly m: ModelSpec;
  readonly hw: Hardware;
  readonly t: Training;
  readonly top: number;
  readonly keepAll: boolean;
  readonly recomputes: readonly Recompute[];
  /** The recomputes beside a zero-bubble schedule (recomputesOf). */
  readonly zeroBubbleRecomputes: readonly Recompute[];
  /** Full recompute's depth (Plan.recomputeLayers) where fixed; searchDepth: the least that fits
   *  is searched (an engine that runs Megatron-Core's block method or torchtitan's every N-th layer,
   *  neither recompute nor depth fixed). */
  readonly depth: number | undefined;
  readonly searchDepth: boolean;
  /** The engine's partial full recompute is every N-th layer (torchtitan's layer option,
   *  cost/nth-recompute.ts): only the depths it gives a layout's chunks are searched or priced. */
  readonly everyNth: boolean;
  /** Bytes per parameter of the model states the engine keeps (cost/engine-terms.ts stateBytes). */
  readonly stateBytes: StateBytes;
  /** Where the engine runs some plans eager (planner/eager.ts): which, and the training and state
   *  bytes that price them (`t` on the eager engine); null: every plan on `t`. */
  readonly eager: { readonly when: readonly EagerCase[]; readonly t: Training; readonly stateBytes: StateBytes } | null;
  searched: number;
  feasible: number;
  rejected: RejectionCounts;
  /** The best `top` so far, ranked (finishTop evaluates them). */
  best: Candidate[];
  all: PlanResult[];
  /** When nothing fits: the plan whose memory exceeds capacity by the smallest factor. */
  closest: PlanResult | null;
  /** The same counts for plans without context parallel (cp = 1). */
  noCpRejected: RejectionCounts;
  noCpFeasible: number;
  noCpLeast: number;
}

/** A plan in the running for the top k: what ranks it, and what evaluatePlan needs to finish it
 *  once the search is over. Evaluating every plan that entered the top on the way (about ten
 *  times the k kept: 194 for gpt3-like's 20) was a fifth of the search's time and allocation. */
export interface Candidate {
  plan: Plan;
  costs: MicroBatchCosts;
  tokensPerSecond: number;
  /** Its worst stage's memory: evaluatePlan's memory.total (the same sums, test/planner/search.test.ts). */
  memory: number;
  orderReason?: string;
  /** Already evaluated (keepAll evaluates every feasible plan). */
  result?: PlanResult;
}

/** Order of two plans by their figures: more tokens/s first; ties (within 1e-9 relative) go to
 *  the plan using less memory. */
function rankOrder(aTokens: number, aMemory: number, bTokens: number, bMemory: number): number {
  const d = bTokens - aTokens;
  if (Math.abs(d) > 1e-9 * Math.max(aTokens, bTokens)) return d;
  return aMemory - bMemory;
}

/** Ranking of reported plans (the search's order). */
export function comparePlans(a: PlanResult, b: PlanResult): number {
  return rankOrder(a.tokensPerSecond, a.memory.total, b.tokensPerSecond, b.memory.total);
}

/** Whether a plan with these figures would enter the current top k (same order as comparePlans). */
function mayEnter(top: Candidate[], k: number, tokensPerSecond: number, memory: number): boolean {
  const last = top[top.length - 1];
  if (top.length < k || !last) return true;
  return rankOrder(tokensPerSecond, memory, last.tokensPerSecond, last.memory) < 0;
}

function insertTop(top: Candidate[], c: Candidate, k: number): void {
  const before = (x: Candidate) => rankOrder(c.tokensPerSecond, c.memory, x.tokensPerSecond, x.memory) < 0;
  if (top.length >= k && !before(top[top.length - 1]!)) return;
  let i = top.length;
  while (i > 0 && before(top[i - 1]!)) i--;
  top.splice(i, 0, c);
  if (top.length > k) top.pop();
}

/** The kept plans, evaluated (evaluate.ts), best first. */
export function finishTop(st: SearchState): PlanResult[] {
  return st.best.map((c) => {
    if (c.result) return c.result;
    const r = evaluatePlan(st.m, st.hw, st.t, c.plan, c.costs);
    if (c.orderReason !== undefined) r.orderReason = c.orderReason;
    return r;
  });
}

function reasonFor(hw: Hardware, orders: readonly PricedOrder[], steps: readonly number[], chosen: number): string {
  const other = 1 - chosen;
  return orderReason(hw, orders[chosen]!, steps[chosen]!, orders[other]!, steps[other]!);
}

/** The micro-batch costs of `layout` in each rank order of `orders`, under training `t` (the
 *  search's, or its eager engine's for a layout that runs eager). */
function layoutCosts(st: SearchState, t: Training, layout: Plan, orders: readonly PricedOrder[]): MicroBatchCosts[] {
  const costsOf: MicroBatchCosts[] = [];
  for (let i = 0; i < orders.length; i++) costsOf.push(microBatchCosts(st.m, st.hw, t, layout, orders[i]!.placement));
  return costsOf;
}

/** Price `layout` (recompute "none", ZeRO 0 as placeholders) under every recompute mode and each of
 *  `zeros`, in each rank order of `orders`; edp: the routed experts' data-parallel size. */
export function priceLayout(st: SearchState, layout: Plan, orders: readonly PricedOrder[], zeros: readonly ZeroStage[], edp: number): void {
  const { m, hw } = st;
  // A layout the engine runs eager is priced on the eager engine (evaluatePlan, given st.t, prices
  // it so too and says so): once per layout, outside the loops below.
  const eager = st.eager !== null && eagerCase(st.eager.when, layout, m) !== null;
  const t = eager ? st.eager!.t : st.t;
  const stateBytes = eager ? st.eager!.stateBytes : st.stateBytes;
  const cp = layout.cp;
  // The layout's micro-batch costs in each rank order (layoutCosts) and its compute floor, priced
  // at its first plan that fits in memory, or that is the closest yet while none fits: a third of
  // gpt3-like's layouts fit in no recompute mode and ZeRO stage, three fifths of deepseek-v3's on
  // 2,048 GPUs (the same figures whenever they are priced: pure functions of the layout).
  let costsOf: MicroBatchCosts[] | null = null;
  // Plans name their rank order only where the fabric makes it matter (layout/order.ts).
  const ordered = ordersMatter(hw);
  // No recompute mode or ZeRO stage of this layout steps faster than its floors (cost/time.ts):
  // its compute and bubble, then (priced once, when that passes) its step less what ZeRO changes,
  // in its faster rank order. Plans whose floor cannot enter the top are counted (memory decides
  // feasible or not) but not priced.
  const tokens = t.globalBatch * t.seqLen;
  let ceiling = 0;
  let ceiling2 = 0;
  // Memory with plain numbers (search-memory.ts): the stage parameters per layout (dense ones
  // sharded over dp, routed experts over edp), activations per recompute mode, model states and
  // buffers per ZeRO stage. Full breakdowns are built only for plans that may be reported.
  const lm = layoutMemory(m, hw, t, layout, stateBytes, edp);
  // ZeRO stages at which the layout fits without recompute: there no depth of full recompute is
  // faster than none (search-memory.ts leastDepth), so none is searched for them.
  let noneFits = 0;
  let depthMemo: DepthMemo | null = null;
  // Indexed loops: until V8 compiles it, a for…of here allocates an iterator result a step.
  const recomputes = recomputesOf(st, layout.pp, layout.schedule);
  for (let ri = 0; ri < recomputes.length; ri++) {
    const recompute = recomputes[ri]!;
    const withRecompute: Plan = recompute === "full" && st.depth !== undefined ? atDepth(layout, st.depth, m.layers) : { ...layout, recompute };
    // A fixed depth no every-N-th layer gives this layout's chunks (layout rule recompute_every).
    if (st.everyNth && withRecompute.recomputeLayers !== undefined && everyNthFor(layout, m.layers, withRecompute.recomputeLayers) === null) {
      st.searched += zeros.length;
      addRejection(st.rejected, "recompute_every", zeros.length);
      if (cp === 1) addRejection(st.noCpRejected, "recompute_every", zeros.length);
      continue;
    }
    const acts = activationsOf(lm, withRecompute);
    for (let zi = 0; zi < zeros.length; zi++) {
      const zero = zeros[zi]!;
      st.searched++;
      let worst = worstBytes(lm, acts, zero);
      if (recompute === "none" && worst <= hw.memory) noneFits |= 1 << zi;
      if (cp === 1) {
        if (worst <= hw.memory) st.noCpFeasible++;
        else {
          addRejection(st.noCpRejected, "out_of_memory");
          if (worst < st.noCpLeast) st.noCpLeast = worst;
        }
      }
      if (worst > hw.memory) {
        addRejection(st.rejected, "out_of_memory");
        if (st.feasible === 0 && (st.closest === null || worst < st.closest.memory.total)) {
          const plan: Plan = { ...withRecompute, zero };
          costsOf ??= layoutCosts(st, t, layout, orders);
          st.closest = evaluatePlan(m, hw, st.t, ordered ? { ...plan, order: orders[0]!.order } : plan, costsOf[0]!);
        }
        continue;
      }
      st.feasible++;
      costsOf ??= layoutCosts(st, t, layout, orders);
      const costs = costsOf[0]!;
      if (ceiling === 0) ceiling = tokens / computeFloor(m, t, layout, costs);
      if (!st.keepAll) {
        if (!mayEnter(st.best, st.top, ceiling, worst)) continue;
        if (ceiling2 === 0) {
          let floor = Infinity; // Math.min over the orders' floors
          for (let i = 0; i < costsOf.length; i++) floor = Math.min(floor, stepFloor(m, hw, t, layout, costsOf[i]!));
          ceiling2 = tokens / floor;
        }
        if (!mayEnter(st.best, st.top, ceiling2, worst)) continue;
      }
      // Full recompute where the engine runs a partial method (block, every N-th) and no depth is fixed:
      // the least depth that fits (one configuration: full recompute, its depth chosen), sought
      // only for plans past the floors (which bound every depth) and where none does not fit.
      let depthPlan: Plan | null = null;
      if (recompute === "full" && st.searchDepth && (noneFits & (1 << zi)) === 0) {
        // (every N-th layer: the depths it gives this layout's chunks, found once a layout)
        const least = leastDepth(lm, withRecompute, zero, (depthMemo ??= { acts: [], ...(st.everyNth ? { depths: everyNthDepths(layout, m.layers).map((d) => d.depth) } : {}) }));
        if (least !== null) {
          depthPlan = least.plan;
          worst = least.memory;
        }
      }
      // The plan as an object only for those that may enter (most stop at a floor above).
      let plan: Plan = { ...(depthPlan ?? withRecompute), zero };
      // The faster order, when two are priced (memory does not depend on it).
      let chosen = 0;
      let steps: number[] = [];
      if (orders.length > 1) {
        // The other order changes only pp and dp communication (and the bubble's share of pp):
        // price it only where a step without them could still enter the top.
        const first = stepTime(m, hw, t, plan, costsOf[0]!);
        steps = [first.step];
        const f = first.bubble / (first.compute + first.recompute + first.tpComm + first.ppComm || 1);
        const floor = first.step - first.ppComm * (1 + f) - first.dpComm;
        if (st.keepAll || mayEnter(st.best, st.top, tokens / floor, worst)) {
          steps.push(stepTime(m, hw, t, plan, costsOf[1]!).step);
          chosen = steps[1]! < steps[0]! ? 1 : 0;
        }
      }
      if (ordered) plan = { ...plan, order: orders[chosen]!.order };
      if (!st.keepAll) {
        const step = steps[chosen] ?? stepTime(m, hw, t, plan, costs).step;
        const tokensPerSecond = tokens / step; // evaluatePlan's figure (the same stepTime)
        if (!mayEnter(st.best, st.top, tokensPerSecond, worst)) continue;
        const orderReason = steps.length > 1 ? reasonFor(hw, orders, steps, chosen) : undefined;
        insertTop(st.best, { plan, costs: costsOf[chosen]!, tokensPerSecond, memory: worst, ...(orderReason !== undefined ? { orderReason } : {}) }, st.top);
        continue;
      }
      const result = evaluatePlan(m, hw, st.t, plan, costsOf[chosen]!);
      if (steps.length > 1) result.orderReason = reasonFor(hw, orders, steps, chosen);
      insertTop(st.best, { plan, costs: costsOf[chosen]!, tokensPerSecond: result.tokensPerSecond, memory: result.memory.total, result }, st.top);
      st.all.push(result);
    }
  }
}
