// Memory of mixture-of-experts layers per GPU: the routed activations (top-k copies of each token
// through the expert MLP, on the rank whose experts they reach: expert parallelism moves them, it
// does not shrink them; formulas-scale §1.5–1.6), the router's scores, and the all-to-all buffers.
import { mlpMatrices } from "../model.js";
import type { ModelSpec, Plan, Training } from "../types.js";
import { type ActivationOptions, layerActivationBytes, megatronModules, recomputeWorkingBytes } from "./activations.js";
import { rankImbalanceOf } from "./moe-facts.js";
import { routedRows, routedTokens } from "./moe-time.js";

/** Bytes one MoE layer keeps for backward per micro-batch on the busiest rank, besides its
 *  attention and shared experts (a dense layer of the shared experts' width): per routed copy the
 *  permuted input (2h), the gate and up outputs and the activation's output (2·3·f_e/etp for
 *  SwiGLU, 2·2·f_e/etp plain) and the expert output kept for the weighted combine (2h); the
 *  router's fp32 logits and probabilities (2·4·E per token). Full recompute keeps only the
 *  layer's input (activations.ts). */
export function moeLayerActivationBytes(m: ModelSpec, t: Training, plan: Plan, o: ActivationOptions): number {
  const base = layerActivationBytes(sharedWidthLayer(m), plan.microBatch, o, true);
  // (Megatron's moe recompute keeps the MoE block's input alone: cost/module-recompute.ts)
  if (o.recompute === "full" || reRunsMoeBlock(o)) return base;
  const r = routedActivationParts(m, t, plan);
  return base + r.routed + r.router - routedActDropped(m, t, plan, o);
}

/** What Megatron's moe_act recompute drops of the routed copies (cost/module-recompute.ts): the
 *  activation's output, the down projection's saved input, 2·f_e/etp bytes a row. */
function routedActDropped(m: ModelSpec, t: Training, plan: Plan, o: ActivationOptions): number {
  const moeAct = megatronModules(o)?.includes("moe_act") === true;
  return moeAct ? routedRows(m, t, plan) * 2 * (m.moe!.expertFfnHidden / plan.etp) : 0;
}

/** Whether Megatron's selective recompute re-runs the MoE block ("moe"). */
const reRunsMoeBlock = (o: ActivationOptions): boolean => megatronModules(o)?.includes("moe") === true;

/** The MoE layer's attention and shared experts: a dense layer of the shared experts' width. */
const sharedWidthLayer = (m: ModelSpec): ModelSpec => {
  const e = m.moe!;
  return { ...m, ffnHidden: e.sharedExperts * (e.sharedFfnHidden ?? e.expertFfnHidden) };
};

/** The routed copies' and the router's bytes of one MoE layer on the busiest rank (above). */
function routedActivationParts(m: ModelSpec, t: Training, plan: Plan): { routed: number; router: number } {
  const e = m.moe!;
  const rows = routedRows(m, t, plan);
  const routed = rows * (4 * m.hidden + 2 * mlpMatrices(m) * (e.expertFfnHidden / plan.etp));
  const router = routedTokens(t, plan) * 8 * e.experts;
  return { routed, router };
}

/** Extra bytes live while a recomputed MoE layer runs its backward (activations.ts
 *  recomputeWorkingBytes, Korthikanti et al. 2022 §5): its attention and shared experts' set as a
 *  dense layer's, and under full recompute its routed copies and router too, which only the
 *  layer's input stood for (formulas-scale §1.6: ρ·T_r·k copies on the busiest rank). */
export function moeRecomputeWorkingBytes(m: ModelSpec, t: Training, plan: Plan, o: ActivationOptions): number {
  const base = recomputeWorkingBytes(sharedWidthLayer(m), plan.microBatch, o, true);
  if (o.recompute !== "full" && !reRunsMoeBlock(o)) return base + routedActDropped(m, t, plan, o);
  const r = routedActivationParts(m, t, plan);
  return base + r.routed + r.router;
}

/** The recompute working set of a rank: one layer at a time is re-run, so the largest of its
 *  layers' — an MoE layer's where it holds one (the MTP modules' blocks among them), a dense
 *  layer's where it holds one. */
export function heldWorkingBytes(m: ModelSpec, t: Training, plan: Plan, o: ActivationOptions, held: { dense: number; moe: number }): number {
  const dense = held.dense > 0 ? recomputeWorkingBytes(m, plan.microBatch, o) : 0;
  if (m.moe === undefined || held.moe === 0) return dense;
  return Math.max(dense, moeRecomputeWorkingBytes(m, t, plan, o));
}

/** The average layer's activation bytes over `layers` layers of which `moeLayers` are MoE. */
export function heldLayerActivationBytes(m: ModelSpec, t: Training, plan: Plan, o: ActivationOptions, layers: number, moeLayers: number): number {
  const dense = layerActivationBytes(m, plan.microBatch, o);
  if (m.moe === undefined || moeLayers === 0) return dense;
  return ((layers - moeLayers) * dense + moeLayers * moeLayerActivationBytes(m, t, plan, o)) / layers;
}

/** The all-to-all's send and receive buffers of the layer in flight: the busiest rank's ρ·T_r·k
 *  copies, h wide, 16-bit, each way (times etp once gathered). Only a rank holding an MoE layer
 *  (or an MTP module's) allocates them. */
export function moeBufferBytes(m: ModelSpec, t: Training, plan: Pick<Plan, "tp" | "ep" | "etp" | "microBatch">): number {
  if (m.moe === undefined) return 0;
  const copies = rankImbalanceOf(t, plan.ep) * routedTokens(t, plan) * m.moe.topK;
  return 2 * 2 * copies * m.hidden * plan.etp;
}
