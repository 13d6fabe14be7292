// Full recompute's depth (Plan.recomputeLayers) in words, as the engine runs it: Megatron-Core's
// block method re-runs each stage's first N layers (--recompute-method block); torchtitan's layer
// option every N-th layer a rank counts (selective_ac_option "N", planner/cost/nth-recompute.ts),
// which gives each stage the plan's depth.
import type { Engine, Plan } from "../../planner/index.js";
import { everyNthFor, runsEveryNth } from "../../planner/cost/nth-recompute.js";

/** How a request's engine runs a depth: the N of every N-th layer for a plan (undefined: the first N). */
export type DepthEvery = (p: Pick<Plan, "pp" | "vpp" | "stageLayers" | "recomputeLayers">) => number | undefined;

/** Every N-th layer's reading of a plan's depth (a model of `layers` layers). */
export const everyNthReading = (layers: number): DepthEvery => (p) => (p.recomputeLayers === undefined ? undefined : everyNthFor(p, layers, p.recomputeLayers) ?? undefined);

/** The engine's every-N-th reading of a plan's depth, or undefined where it runs the first N. */
export const depthEvery = (engine: Pick<Engine, "supports"> | undefined, layers: number): DepthEvery | undefined => (runsEveryNth(engine) ? everyNthReading(layers) : undefined);

export const ordinal = (n: number): string => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
  return `${n}${suffix}`;
};

/** "full recompute of the first 4 layers of each stage", or under every N-th layer "full recompute
 *  of every 8th layer (4 of each stage)". */
export function depthWords(p: Pick<Plan, "vpp" | "recomputeLayers">, every: number | undefined): string {
  const n = p.recomputeLayers!;
  const stage = p.vpp > 1 ? "virtual stage" : "stage";
  if (every !== undefined) return `full recompute of every ${ordinal(every)} layer (${n} of each ${stage})`;
  return `full recompute of the first ${n > 1 ? `${n} layers` : "layer"} of each ${stage}`;
}
