// Partial full recompute: Megatron-Core's --recompute-granularity full --recompute-method block
// --recompute-num-layers N checkpoints the first N layers of each model chunk and runs the others
// as without recompute (megatron/core/transformer/transformer_block.py _checkpointed_forward,
// "block": `l < recompute_num_layers` over the chunk's num_layers_per_pipeline_rank @ core_r0.14.0;
// a chunk is a pipeline stage, or a virtual stage under the interleaved schedule). The engine's
// figure (Engine.recomputeBlockLayers; absent: every layer) read here for memory (a chunk's first
// min(N, c) layers keep their input, the rest every tensor), time (their forwards again) and the
// collectives their forwards run again (a share of a pass).
import type { Engine } from "../engine.js";
import type { Plan, Recompute } from "../types.js";
import { rankLayers, rankStages } from "../layout/stages.js";

type Chunks = Pick<Plan, "pp" | "vpp" | "stageLayers">;

/** Layers of a chunk of `c` that full recompute re-runs on this engine. */
export const recomputedOfChunk = (e: Pick<Engine, "recomputeBlockLayers"> | undefined, c: number): number => (e?.recomputeBlockLayers === undefined ? c : Math.min(e.recomputeBlockLayers, c));

/** Layers of rank `rank` full recompute re-runs: each of its chunks' first N (all without N). */
export function recomputedRankLayers(plan: Chunks, layers: number, rank: number, e: Pick<Engine, "recomputeBlockLayers"> | undefined): number {
  const held = rankLayers(plan, layers, rank);
  if (e?.recomputeBlockLayers === undefined) return held;
  const split = plan.stageLayers;
  // (an even split, or one entry a rank: vpp chunks of equal size)
  if (split === undefined || split.length === plan.pp) return plan.vpp * recomputedOfChunk(e, held / plan.vpp);
  let r = 0;
  for (const g of rankStages(plan.pp, plan.vpp, rank)) r += recomputedOfChunk(e, split[g]!);
  return r;
}

/** The model's layers full recompute re-runs, over every rank (recompute FLOPs). */
export function recomputedModelLayers(plan: Chunks, layers: number, e: Pick<Engine, "recomputeBlockLayers"> | undefined): number {
  if (e?.recomputeBlockLayers === undefined) return layers;
  let r = 0;
  for (let rank = 0; rank < plan.pp; rank++) r += recomputedRankLayers(plan, layers, rank, e);
  return r;
}

/** The share of rank `rank`'s layers whose forward full recompute re-runs (1 without N; 0 without
 *  full recompute): the share of a third pass of their collectives. */
export function fullRecomputeShare(plan: Chunks & Pick<Plan, "recompute">, layers: number, rank: number, e: Pick<Engine, "recomputeBlockLayers"> | undefined): number {
  if (plan.recompute !== "full") return 0;
  if (e?.recomputeBlockLayers === undefined) return 1;
  const held = rankLayers(plan, layers, rank);
  return held > 0 ? recomputedRankLayers(plan, layers, rank, e) / held : 0;
}

/** A chunk's per-layer activation bytes under partial full recompute: its first min(N, c) layers
 *  keep `full` bytes (their input), the others `none` (every tensor). Exact for whole chunks held
 *  in flight, which the schedules hold (layout/stages.ts inFlightPerChunk). */
export function blendedLayerBytes(e: Pick<Engine, "recomputeBlockLayers"> | undefined, recompute: Recompute, c: number, full: number, none: number): number {
  if (recompute !== "full" || e?.recomputeBlockLayers === undefined || c <= 0) return full;
  const k = recomputedOfChunk(e, c);
  return (k * full + (c - k) * none) / c;
}
