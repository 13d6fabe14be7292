// Partial full recompute: Megatron-Core's --recompute-granularity full --recompute-method block
// --recompute-num-layers N checkpoints the first N layers of each model chunk and runs the others
// as without recompute (megatron/core/transformer/transformer_block.py _checkpointed_forward,
// "block": `l < recompute_num_layers` over the chunk's num_layers_per_pipeline_rank @ core_r0.14.0;
// a chunk is a pipeline stage, or a virtual stage under the interleaved schedule). The plan's
// depth (Plan.recomputeLayers; absent: every layer), searched where the engine runs the block
// method (runsBlockRecompute), read here for memory (a chunk's first min(N, c) layers keep their
// input, the rest every tensor), time (their forwards again) and the collectives their forwards
// run again (a share of a pass).
import type { Engine } from "../engine.js";
import type { Plan } from "../types.js";
import { rankLayers, rankStages } from "../layout/stages.js";

type Chunks = Pick<Plan, "pp" | "vpp" | "stageLayers" | "recomputeLayers">;

/** Whether the engine checkpoints only a chunk's first layers (EngineSupports.blockRecompute:
 *  Megatron-Core's --recompute-method block, paraplan's worker; no engine: Megatron-Core's).
 *  Megatron-LM 2021 recomputes every layer whole, Megatron-DeepSpeed in uniform groups
 *  (--checkpoint-num-layers), FSDP every block it wraps; torchtitan every N-th layer
 *  (cost/nth-recompute.ts runsEveryNth). */
export const runsBlockRecompute = (e: Pick<Engine, "supports"> | undefined): boolean => e?.supports.blockRecompute ?? true;

/** The layers of the plan's largest chunk: a depth at or above it re-runs every layer. */
export function largestChunk(plan: Pick<Plan, "pp" | "vpp" | "stageLayers">, layers: number): number {
  const split = plan.stageLayers;
  if (split === undefined) return layers / (plan.pp * plan.vpp);
  let most = 0;
  for (let i = 0; i < split.length; i++) if (split[i]! > most) most = split[i]!;
  // (one entry a rank: its vpp chunks of equal size)
  return split.length === plan.pp ? most / plan.vpp : most;
}

/** `plan` under full recompute at depth `n`: its chunks' first n layers, or every layer where n
 *  reaches the largest chunk (a plan states one thing one way: layout rule recompute_layers). */
export function atDepth<P extends Pick<Plan, "pp" | "vpp" | "stageLayers" | "recompute" | "recomputeLayers">>(plan: P, n: number, layers: number): P {
  return n < largestChunk(plan, layers) ? { ...plan, recompute: "full", recomputeLayers: n } : { ...plan, recompute: "full" };
}

/** Layers of a chunk of `c` that full recompute re-runs under depth `n` (absent: every one). */
export const recomputedOfChunk = (n: number | undefined, c: number): number => (n === undefined ? c : Math.min(n, c));

/** Layers of rank `rank` full recompute re-runs: each of its chunks' first N (all without N). */
export function recomputedRankLayers(plan: Chunks, layers: number, rank: number): number {
  const held = rankLayers(plan, layers, rank);
  const n = plan.recomputeLayers;
  if (n === undefined) return held;
  const split = plan.stageLayers;
  // (an even split, or one entry a rank: vpp chunks of equal size)
  if (split === undefined || split.length === plan.pp) return plan.vpp * recomputedOfChunk(n, held / plan.vpp);
  let r = 0;
  for (const g of rankStages(plan.pp, plan.vpp, rank)) r += recomputedOfChunk(n, split[g]!);
  return r;
}

/** The model's layers full recompute re-runs, over every rank (recompute FLOPs). */
export function recomputedModelLayers(plan: Chunks, layers: number): number {
  if (plan.recomputeLayers === undefined) return layers;
  let r = 0;
  for (let rank = 0; rank < plan.pp; rank++) r += recomputedRankLayers(plan, layers, rank);
  return r;
}

/** The share of rank `rank`'s layers whose forward full recompute re-runs (1 without N; 0 without
 *  full recompute): the share of a third pass of their collectives. */
export function fullRecomputeShare(plan: Chunks & Pick<Plan, "recompute">, layers: number, rank: number): number {
  if (plan.recompute !== "full") return 0;
  if (plan.recomputeLayers === undefined) return 1;
  const held = rankLayers(plan, layers, rank);
  return held > 0 ? recomputedRankLayers(plan, layers, rank) / held : 0;
}

/** A chunk's per-layer activation bytes under partial full recompute: its first min(N, c) layers
 *  keep `full` bytes (their input), the others `none` (every tensor). Exact for whole chunks held
 *  in flight, which the schedules hold (layout/stages.ts inFlightPerChunk). */
export function blendedLayerBytes(plan: Pick<Plan, "recompute" | "recomputeLayers">, c: number, full: number, none: number): number {
  if (plan.recompute !== "full" || plan.recomputeLayers === undefined || c <= 0) return full;
  const k = recomputedOfChunk(plan.recomputeLayers, c);
  return (k * full + (c - k) * none) / c;
}
