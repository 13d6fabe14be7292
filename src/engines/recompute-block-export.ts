// Megatron-Core's block recompute (Plan.recomputeLayers, planner/cost/block-recompute.ts) in the
// exports. Megatron-LM's writes it (--recompute-granularity full --recompute-method block
// --recompute-num-layers N, transformer_block.py _checkpointed_forward @ core_r0.14.0), and
// read-megatron.ts reads it back (megatron-recompute.ts blockRecomputeLayers). The other formats'
// full recompute checkpoints every layer: a full-recompute plan priced with only each chunk's first
// N layers re-run would hold more memory there, and run faster, than priced; they refuse it, naming
// --recompute-num-layers (as recompute-modules-export.ts refuses the modules).
import type { Plan } from "../../planner/index.js";

type Arg = [string, ...string[]];

/** Megatron-LM's full recompute: each chunk's first N layers (block), else every layer one by one
 *  (uniform groups of 1); none for another recompute. */
export function megatronFullRecomputeArgs(p: Pick<Plan, "recompute" | "recomputeLayers">): Arg[] {
  if (p.recompute !== "full") return [];
  const n = p.recomputeLayers;
  return [["--recompute-granularity", "full"], ["--recompute-method", n === undefined ? "uniform" : "block"], ["--recompute-num-layers", String(n ?? 1)]];
}

/** Why a file of `stack` (`own`: its full recompute, with its source) cannot run the plan's block
 *  recompute; null where the plan needs none (a plan's depth is below its largest stage: layout
 *  rule recompute_layers). */
export function blockExportRefusal(p: Pick<Plan, "recompute" | "recomputeLayers">, stack: string, own: string): string | null {
  const n = p.recompute === "full" ? p.recomputeLayers : undefined;
  if (n === undefined) return null;
  return `recomputeLayers ${n}: the plan's full recompute re-runs only the first ${n} layers of each pipeline (or virtual) stage, the others keeping their activations (Megatron-Core's --recompute-method block; the plan's recomputeLayers), and ${stack} recomputes every layer (${own}): the file would not run as priced; use --format megatron, or drop recomputeLayers from the plan (full recompute of every layer)`;
}
