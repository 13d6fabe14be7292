// The planner's search, split into chunks so the table fills in while it runs: each chunk is a
// search with some dimensions fixed (see searchChunks), keeping every feasible plan (the frontier
// needs them all). Counts add up to the whole search's; between time slices the job yields to the
// event loop (setImmediate) so frames render and keys are read.
import {
  type Fixed,
  type PlanResult,
  type RejectionCounts,
  type SearchResult,
  search,
} from "../../../planner/index.js";
import { cpCandidates, microBatchCandidates, ppCandidates, supportsOf, tpCandidates } from "../../../planner/space.js";
import { defaultSplits } from "../../../planner/layout/stages.js";
import { ONE_PLAN as ONE, brokenUpTo, dimsOf, ruleContext } from "../../../planner/layout/layout.js";
import type { PlanRequest } from "../../plan-request.js";

export interface SearchTotals {
  searched: number;
  feasible: number;
  rejected: RejectionCounts;
  /** Every feasible plan found so far, in the order found. */
  plans: PlanResult[];
  /** While nothing fits: the plan that misses the memory capacity by the least. */
  closest: PlanResult | null;
}

export interface SearchProgress extends SearchTotals {
  chunksDone: number;
  chunksTotal: number;
  elapsedMs: number;
  done: boolean;
}

export const emptyTotals = (): SearchTotals => ({ searched: 0, feasible: 0, rejected: {}, plans: [], closest: null });

/**
 * The chunks of the search space, as fixed dimensions: one per (tp, cp, pp) triple, and a valid pair
 * (tp and pp pass the structural checks) once per micro-batch size, since layouts with many
 * virtual stages and micro-batch sizes make a pair alone too long to run between two frames.
 */
/** The default uneven splits the whole search gives a pp whose split the request left open
 *  (planner/layout/stages.ts defaultSplits): a chunk per vpp with its split; a given split: the
 *  request's own. */
function chunkSplits(req: PlanRequest, pp: number): { vpp?: number; split?: readonly number[] }[] {
  const { model: m, training: t, fixed } = req;
  if (fixed.stageLayers !== undefined) return [{}];
  return defaultSplits(m.layers, pp, fixed.vpp, supportsOf(t.engine).stageSplit).map(([vpp, split]) => ({ ...(fixed.vpp === undefined && vpp > 1 ? { vpp } : {}), ...(split ? { split } : {}) }));
}

export function searchChunks(req: PlanRequest): Fixed[] {
  const { model: m, training: t, fixed, hw } = req;
  const out: Fixed[] = [];
  const ctx = ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain);
  for (const tp of tpCandidates(m, t, fixed)) {
    // Context parallel is a chunk dimension too (the search's cp candidates: planner/space.ts).
    for (const cp of cpCandidates(m, t, fixed, tp)) {
      for (const pp of ppCandidates(m, t, fixed, tp, cp)) {
        const dp = t.gpus / (tp * cp * pp);
        for (const { vpp, split } of chunkSplits(req, pp)) {
          const chunk: Fixed = { ...fixed, tp, cp, pp, ...(vpp ? { vpp } : {}), ...(split ? { stageLayers: split } : {}) };
          const valid = fixed.microBatch === undefined && brokenUpTo("dp", ctx, { ...dimsOf(ONE), tp, cp, pp, dp, ...(vpp ? { vpp } : {}), ...(split ? { stageLayers: split } : {}) }) === null;
          if (!valid) out.push(chunk);
          else for (const microBatch of microBatchCandidates(t, fixed, dp)) out.push({ ...chunk, microBatch });
        }
      }
    }
  }
  return out;
}

export function runChunk(req: PlanRequest, fixed: Fixed): SearchResult {
  return search(req.model, req.hw, req.training, fixed, { top: 1, keepAll: true });
}

/** Add one chunk's result to the totals (a new object; the totals are state). */
export function mergeResult(acc: SearchTotals, r: SearchResult): SearchTotals {
  const rejected: RejectionCounts = { ...acc.rejected };
  for (const [code, n] of Object.entries(r.rejected) as [keyof RejectionCounts, number][]) rejected[code] = (rejected[code] ?? 0) + n;
  const feasible = acc.feasible + r.feasible;
  let closest = acc.closest;
  if (r.closest && (closest === null || r.closest.memory.total < closest.memory.total)) closest = r.closest;
  return {
    searched: acc.searched + r.searched,
    feasible,
    rejected,
    plans: r.all && r.all.length > 0 ? [...acc.plans, ...r.all] : acc.plans,
    closest: feasible === 0 ? closest : null,
  };
}

/** The whole search at once, merged from its chunks (tests, and callers that do not render). */
export function searchAll(req: PlanRequest): SearchTotals {
  return searchChunks(req).reduce((acc, f) => mergeResult(acc, runChunk(req, f)), emptyTotals());
}

export type Cancel = () => void;

export interface SearchJobOptions {
  /** Work this long before yielding to the event loop (ms). */
  sliceMs?: number;
  now?: () => number;
  /** Run fn later; returns its cancel. Default setImmediate. */
  defer?: (fn: () => void) => Cancel;
}

const immediate = (fn: () => void): Cancel => {
  const h = setImmediate(fn);
  return () => clearImmediate(h);
};

/** Start the search; onUpdate gets the totals after every slice and once more when done. */
export function startSearchJob(req: PlanRequest, onUpdate: (p: SearchProgress) => void, o: SearchJobOptions = {}): Cancel {
  const sliceMs = o.sliceMs ?? 30;
  const now = o.now ?? (() => performance.now());
  const defer = o.defer ?? immediate;
  const chunks = searchChunks(req);
  const started = now();
  let totals = emptyTotals();
  let next = 0;
  let cancelled = false;
  let pending: Cancel = () => {};
  const slice = () => {
    if (cancelled) return;
    const sliceStart = now();
    do {
      totals = mergeResult(totals, runChunk(req, chunks[next]!));
      next++;
    } while (next < chunks.length && now() - sliceStart < sliceMs);
    const done = next >= chunks.length;
    onUpdate({ ...totals, chunksDone: next, chunksTotal: chunks.length, elapsedMs: now() - started, done });
    if (!done) pending = defer(slice);
  };
  if (chunks.length === 0) {
    onUpdate({ ...totals, chunksDone: 0, chunksTotal: 0, elapsedMs: 0, done: true });
    return () => {};
  }
  pending = defer(slice);
  return () => {
    cancelled = true;
    pending();
  };
}
