// Full recompute of every N-th layer: torchtitan 0.2's layer selective checkpointing
// (activation_checkpoint.mode "selective", selective_ac_option "N"). Each rank's process counts its
// transformer blocks in one module-global counter, chunk after chunk in stage order, and wraps the
// blocks whose count is a multiple of N in a full checkpoint; the others keep every tensor
// (torchtitan/distributed/activation_checkpoint.py _apply_layer_sac, `_layer_sac_count % ac_freq
// == 0` @ v0.2.0 and v0.2.2; parallelize_llama.py apply_ac @ 9dec370 the same).
//
// The cost model prices a depth as a count of re-run layers in each chunk (Plan.recomputeLayers,
// cost/block-recompute.ts): where the block sits in the chunk changes neither a chunk's saved
// tensors nor the forwards run again. So every N-th layer is priced exactly where it re-runs the
// same count k in every chunk of every rank, and then it is the plan's depth k; where the counts
// differ (virtual stages that N does not divide, uneven stages) it is no plan's depth.
import type { Engine } from "../engine.js";
import type { Plan } from "../types.js";
import { rankStages } from "../layout/stages.js";
import { largestChunk } from "./block-recompute.js";

type Chunks = Pick<Plan, "pp" | "vpp" | "stageLayers">;

/** Whether the engine's partial full recompute is every N-th layer (EngineSupports.everyNthRecompute:
 *  torchtitan 0.2), not a chunk's first N (Megatron-Core's block method). */
export const runsEveryNth = (e: Pick<Engine, "supports"> | undefined): boolean => e?.supports.everyNthRecompute === true;

/** The layers of each of rank `rank`'s chunks, in the order its process builds them (stage r, r + pp, …). */
function chunkSizes(plan: Chunks, layers: number, rank: number): number[] {
  const split = plan.stageLayers;
  if (split === undefined) return Array.from({ length: plan.vpp }, () => layers / (plan.pp * plan.vpp));
  if (split.length === plan.pp) return Array.from({ length: plan.vpp }, () => split[rank]! / plan.vpp);
  return rankStages(plan.pp, plan.vpp, rank).map((g) => split[g]!);
}

/** The layers every N-th recompute re-runs in each of rank `rank`'s chunks: ⌊(a + c)/N⌋ − ⌊a/N⌋
 *  for a chunk of c layers after a earlier ones on the rank. */
export function everyNthCounts(plan: Chunks, layers: number, every: number, rank: number): number[] {
  let before = 0;
  return chunkSizes(plan, layers, rank).map((c) => {
    const k = Math.floor((before + c) / every) - Math.floor(before / every);
    before += c;
    return k;
  });
}

/** The count every chunk re-runs under every `every`-th layer, or null where the chunks differ. */
export function everyNthDepth(plan: Chunks, layers: number, every: number): number | null {
  let k: number | null = null;
  // (an even split: every rank's chunks alike)
  const ranks = plan.stageLayers === undefined ? 1 : plan.pp;
  for (let r = 0; r < ranks; r++)
    for (const c of everyNthCounts(plan, layers, every, r)) {
      if (k === null) k = c;
      else if (c !== k) return null;
    }
  return k;
}

/** The depths (Plan.recomputeLayers) every N-th layer can give the plan's chunks, ascending, each
 *  with the largest N that gives it: 1 ≤ depth < the largest chunk (a depth at or above it is full
 *  recompute of every layer, selective_ac_option "1" or mode "full"). */
export function everyNthDepths(plan: Chunks, layers: number): Array<{ depth: number; every: number }> {
  const largest = largestChunk(plan, layers);
  const byDepth = new Map<number, number>();
  // (N beyond a rank's layers re-runs none: depth 0)
  for (let every = 2; every <= largest * plan.vpp; every++) {
    const k = everyNthDepth(plan, layers, every);
    if (k !== null && k >= 1 && k < largest) byDepth.set(k, every);
  }
  return [...byDepth.entries()].map(([depth, every]) => ({ depth, every })).sort((a, b) => a.depth - b.depth);
}

/** The N whose every N-th layer re-runs `depth` layers of each chunk (the largest such), or null. */
export function everyNthFor(plan: Chunks, layers: number, depth: number): number | null {
  return everyNthDepths(plan, layers).find((d) => d.depth === depth)?.every ?? null;
}
