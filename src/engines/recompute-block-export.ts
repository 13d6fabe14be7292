// Megatron-Core's block recompute (Engine.recomputeBlockLayers, planner/cost/block-recompute.ts) in
// the exports. Megatron-LM's writes it (--recompute-granularity full --recompute-method block
// --recompute-num-layers N, transformer_block.py _checkpointed_forward @ core_r0.14.0), and
// read-megatron.ts reads it back (megatron-recompute.ts blockRecomputeLayers). The other formats'
// full recompute checkpoints every layer: a full-recompute plan priced with only each chunk's first
// N layers re-run would hold more memory there, and run faster, than priced; they refuse it, naming
// --recompute-num-layers (as recompute-modules-export.ts refuses the modules).
import type { ModelSpec, Plan, Training } from "../../planner/index.js";
import { recomputedModelLayers } from "../../planner/cost/block-recompute.js";

type Arg = [string, ...string[]];

/** The engine's block count where the plan's full recompute skips a layer (a chunk of more layers
 *  than N); undefined otherwise: no full recompute, no count, or every chunk within it (every layer
 *  re-run, as uniform groups of one). */
export function exportedBlockLayers(p: Pick<Plan, "recompute" | "pp" | "vpp" | "stageLayers">, t: Training, m: Pick<ModelSpec, "layers">): number | undefined {
  const n = t.engine?.recomputeBlockLayers;
  if (p.recompute !== "full" || n === undefined) return undefined;
  return recomputedModelLayers(p, m.layers, t.engine) < m.layers ? n : undefined;
}

/** Megatron-LM's full recompute: each chunk's first N layers (block), else every layer one by one
 *  (uniform groups of 1); none for another recompute. */
export function megatronFullRecomputeArgs(p: Plan, t: Training, m: ModelSpec): Arg[] {
  if (p.recompute !== "full") return [];
  const n = exportedBlockLayers(p, t, m);
  return [["--recompute-granularity", "full"], ["--recompute-method", n === undefined ? "uniform" : "block"], ["--recompute-num-layers", String(n ?? 1)]];
}

/** Why a file of `stack` (`own`: its full recompute, with its source) cannot run the plan's block
 *  recompute; null where the plan needs none. */
export function blockExportRefusal(p: Pick<Plan, "recompute" | "pp" | "vpp" | "stageLayers">, t: Training, m: Pick<ModelSpec, "layers">, stack: string, own: string): string | null {
  const n = exportedBlockLayers(p, t, m);
  if (n === undefined) return null;
  return `--recompute-num-layers ${n}: the engine ${t.engine!.name}'s full recompute re-runs only the first ${n} layers of each pipeline (or virtual) stage, the others keeping their activations (Megatron-Core's --recompute-method block; activations.recomputeBlockLayers), and ${stack} recomputes every layer (${own}): the file would not run as priced; use --format megatron, or drop the count`;
}
