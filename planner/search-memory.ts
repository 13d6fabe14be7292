// Memory of one layout's plans on plain numbers, for the search's innermost loops
// (search-layout.ts): what depends on the layout alone (parameters per stage, buffers) built once,
// then activations per recompute mode (and full recompute's depth), then the worst stage under
// each ZeRO stage. The same sums as evaluate.ts worstStageMemory (test/planner/search.test.ts).
import { bufferBytes, modelStateTotal, reduceTransientBytes, stageActivationBytes, stageHeld, stageRank, totalBytes } from "./cost/memory.js";
import { memoryCandidateStages, type UnevenActivationTerms, unevenActivationTerms, unevenStageActivationBytes, unevenStageParams } from "./cost/stage-memory.js";
import { largestChunk } from "./cost/block-recompute.js";
import { rankParamSplit } from "./model.js";
import { moeBufferBytes } from "./cost/moe-memory.js";
import { cpBufferBytes } from "./cost/context.js";
import type { StateBytes } from "./cost/engine-terms.js";
import type { Hardware, ModelSpec, Plan, Training, ZeroStage } from "./types.js";

const ONLY = ["only"] as const;
const FIRST_LAST = ["first", "last"] as const;

/** What a layout's memory needs besides the recompute mode and the ZeRO stage. */
export interface LayoutMemory {
  readonly m: ModelSpec;
  readonly hw: Hardware;
  readonly t: Training;
  readonly layout: Plan;
  readonly stateBytes: StateBytes;
  readonly edp: number;
  /** The stages that can be the fullest: first and last (or the only one) of an even split. */
  readonly stages: typeof ONLY | typeof FIRST_LAST;
  readonly splits: Array<{ dense: number; expert: number }>;
  readonly stageBuffers: Float64Array;
  /** Uneven stages: the candidate ranks (cost/stage-memory.ts), their parameters and buffers. */
  readonly uneven: number[] | null;
  readonly unevenParams: Array<ReturnType<typeof unevenStageParams>> | null;
  readonly unevenBuffers: Float64Array | null;
}

/** A recompute mode's activation bytes per candidate stage (one array filled, the other empty). */
export interface Activations {
  readonly even: Float64Array;
  readonly uneven: Float64Array;
}

// Plain loops, not Array.prototype.map: the first read of an array that the compiled map() had
// made threw the compiled caller away (issue 11, start-up).
export function layoutMemory(m: ModelSpec, hw: Hardware, t: Training, layout: Plan, stateBytes: StateBytes, edp: number): LayoutMemory {
  const stages = layout.pp === 1 ? ONLY : FIRST_LAST;
  const splits: Array<{ dense: number; expert: number }> = [];
  for (let i = 0; i < stages.length; i++) splits.push(rankParamSplit(m, t.seqLen, layout, stageRank(layout, stages[i]!)));
  // The all-to-all buffers on the stages holding an MoE layer (cost/memory.ts stageMemory).
  const moeBuffer = moeBufferBytes(m, t, layout);
  const cpBuffers = cpBufferBytes(m, t, layout);
  const stageBuffers = new Float64Array(stages.length);
  for (let i = 0; i < stages.length; i++) stageBuffers[i] = (stageHeld(m, layout, stages[i]!).working.moe > 0 ? moeBuffer : 0) + cpBuffers;
  const uneven = layout.stageLayers ? memoryCandidateStages(m, layout) : null;
  const unevenParams: Array<ReturnType<typeof unevenStageParams>> | null = uneven ? [] : null;
  const unevenBuffers = uneven ? new Float64Array(uneven.length) : null;
  if (uneven) {
    for (let i = 0; i < uneven.length; i++) {
      const sp = unevenStageParams(m, t, layout, uneven[i]!);
      unevenParams!.push(sp);
      unevenBuffers![i] = (sp.moeLayers > 0 ? moeBuffer : 0) + cpBuffers;
    }
  }
  return { m, hw, t, layout, stateBytes, edp, stages, splits, stageBuffers, uneven, unevenParams, unevenBuffers };
}

/** The activation bytes of `plan` (the layout under one recompute mode) on each candidate stage;
 *  `terms`: the uneven terms, when already built (full recompute's depths share one set). */
export function activationsOf(lm: LayoutMemory, plan: Plan, terms: UnevenActivationTerms | null = null): Activations {
  const { m, t, uneven, stages } = lm;
  const even = new Float64Array(uneven ? 0 : stages.length);
  for (let i = 0; i < even.length; i++) even[i] = stageActivationBytes(m, t, plan, stages[i]!);
  const own = uneven ? (terms ?? unevenActivationTerms(m, t, plan)) : null;
  const out = new Float64Array(uneven ? uneven.length : 0);
  if (uneven) for (let i = 0; i < uneven.length; i++) out[i] = unevenStageActivationBytes(m, t, plan, uneven[i]!, own!);
  return { even, uneven: out };
}

/** The worst stage's bytes under ZeRO stage `zero` (cost/memory.ts totalBytes: with the runtime's). */
export function worstBytes(lm: LayoutMemory, acts: Activations, zero: ZeroStage): number {
  const { m, hw, t, layout, stateBytes, edp } = lm;
  const tp = layout.tp;
  const dpcp = layout.dp * layout.cp; // ZeRO shards over dp·cp (groups.ts "shard")
  const ept = layout.ep * layout.etp;
  let worst = 0;
  if (lm.unevenParams) {
    for (let i = 0; i < lm.unevenParams.length; i++) {
      const sp = lm.unevenParams[i]!;
      const a = acts.uneven[i]!;
      const states = modelStateTotal(sp.dense, zero, dpcp, stateBytes) + (sp.expert > 0 ? modelStateTotal(sp.expert, zero, edp, stateBytes) : 0);
      const bytes = totalBytes(hw, states + a + bufferBytes(m, tp, dpcp, zero, t, sp.layers, ept) + lm.unevenBuffers![i]! + reduceTransientBytes(t, zero, sp.dense, sp.expert, dpcp, edp, a));
      if (bytes > worst) worst = bytes;
    }
    return worst;
  }
  const buffers = bufferBytes(m, tp, dpcp, zero, t, m.layers / layout.pp, ept);
  for (let i = 0; i < lm.stages.length; i++) {
    const sp = lm.splits[i]!;
    const a = acts.even[i]!;
    const states = modelStateTotal(sp.dense, zero, dpcp, stateBytes) + (sp.expert > 0 ? modelStateTotal(sp.expert, zero, edp, stateBytes) : 0);
    const bytes = totalBytes(hw, states + a + (buffers + lm.stageBuffers[i]!) + reduceTransientBytes(t, zero, sp.dense, sp.expert, dpcp, edp, a));
    if (bytes > worst) worst = bytes;
  }
  return worst;
}

/** What leastDepth keeps between a layout's ZeRO stages: the activations of each depth tried, and
 *  the uneven stages' terms (null: an even split). A fresh one for each layout. */
export interface DepthMemo {
  acts: Array<Activations | undefined>;
  terms?: UnevenActivationTerms | null;
  /** The depths the engine can run, ascending (every N-th layer: cost/nth-recompute.ts
   *  everyNthDepths); absent: every depth 1 … c − 1 (the block method). */
  depths?: readonly number[];
}

/** Full recompute at the least depth that fits (Megatron-Core's --recompute-method block,
 *  cost/block-recompute.ts; torchtitan's every N-th layer, cost/nth-recompute.ts, at the depths it
 *  gives): a chunk's first N layers re-run, the others keep every tensor. Time falls and memory
 *  rises as N falls (each layer past N keeps its tensors and skips its re-run), so the fastest plan
 *  that fits is the least N whose worst stage fits: a bisection over the depths the engine runs
 *  (memo.depths, else 1 … c − 1, c the largest chunk's layers), log2 of their number memory sums.
 *  Null where only every layer fits (or no depth is below it). `full`: the layout under full
 *  recompute, every layer. */
export function leastDepth(lm: LayoutMemory, full: Plan, zero: ZeroStage, memo: DepthMemo): { plan: Plan; memory: number } | null {
  const depths = memo.depths;
  const at = (i: number): number => (depths !== undefined ? depths[i]! : i + 1);
  let lo = 0;
  let hi = (depths !== undefined ? depths.length : largestChunk(full, lm.m.layers) - 1) - 1;
  if (hi < lo) return null;
  // (uneven stages: the terms of a depth, built once, hold a layer's bytes with and without recompute)
  if (memo.terms === undefined) memo.terms = lm.uneven ? unevenActivationTerms(lm.m, lm.t, { ...full, recomputeLayers: at(hi) }) : null;
  let found: { plan: Plan; memory: number } | null = null;
  while (lo <= hi) {
    const i = (lo + hi) >> 1;
    const n = at(i);
    const plan: Plan = { ...full, recomputeLayers: n };
    // (a depth's activations are the same at every ZeRO stage: made once a layout)
    const acts = (memo.acts[n] ??= activationsOf(lm, plan, memo.terms));
    const memory = worstBytes(lm, acts, zero);
    if (memory <= lm.hw.memory) {
      found = { plan, memory };
      hi = i - 1;
    } else lo = i + 1;
  }
  return found;
}
