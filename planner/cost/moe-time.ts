// Time of a mixture-of-experts layer on one GPU for one micro-batch, and the average layer of a
// pipeline stage that mixes dense and MoE layers (DeepSeek's first three are dense).
//
// Tokens: every rank enters the MoE block with T_r = b·s/t tokens: the tp group's tokens are split
// across it before dispatch (Megatron-LM asserts sequence parallelism for experts with tp > 1,
// megatron/training/arguments.py, where they already are; without it paraplan assumes the same
// split, as a dispatcher that drops the tp duplicates would make).
// Each sends its T_r·k routed copies to the ep ranks that hold their experts; with etp > 1 the
// etp group gathers them. Under uniform routing a rank then computes etp·T_r·k rows spread over its
// E/ep local experts, n_e = etp·T_r·k·ep/E rows each, at width f_e/etp (formulas-scale §1.8); the
// busiest rank gets ρ times that (ρ = Training.moeImbalance; 1 at ep = 1, where a rank holds every
// expert: moe-facts.ts rankImbalanceOf) and sets the pace. Each local expert is
// one GEMM of the grouped kernel, priced at the efficiency of its own size: small n_e, low
// efficiency (Megatron-Core --moe-grouped-gemm launches them as one kernel, the work per expert is
// still a GEMM of n_e rows).
import { mlpMatrices } from "../model.js";
import { busiestRankLayers, mtpCount } from "../moe.js";
import type { Hardware, ModelSpec, Plan, Training } from "../types.js";
import { type HeadTimes, type LayerTimes, attentionBackwardFactor, attentionTime, gemmTime, hbm, layerMemoryBoundBytes, layerTimes, matmulPeak, megatronSelective } from "./compute.js";
import { isDefaultModules, recomputeModulesOf } from "../recompute-modules.js";
import { attentionGemms } from "./flops.js";
import { routerGemm, sharedExpertGemms } from "./moe-flops.js";
import type { Gemm } from "./flops.js";
import { rankImbalanceOf } from "./moe-facts.js";
import { cpCommOf, cpSplitOf } from "./context.js";
import { NOTHING, fp8CastTraffic, fp8Matmuls } from "./engine-terms.js";

export type ExpertPlan = Pick<Plan, "tp" | "ep" | "etp" | "microBatch" | "sequenceParallel">;

/** Tokens one rank routes per MoE layer and micro-batch (T_r). */
export const routedTokens = (t: Pick<Training, "seqLen">, p: Pick<Plan, "tp" | "microBatch">): number => (p.microBatch * t.seqLen) / p.tp;

/** Rows the busiest rank's experts compute per MoE layer and micro-batch: ρ·etp·T_r·k (ρ = 1 at
 *  ep = 1: moe-facts.ts rankImbalanceOf). */
export const routedRows = (m: ModelSpec, t: Training, p: ExpertPlan): number => rankImbalanceOf(t, p.ep) * p.etp * routedTokens(t, p) * m.moe!.topK;

/** One MoE layer, forward and backward, on the busiest rank. */
export function moeLayerTimes(m: ModelSpec, hw: Hardware, t: Training, p: ExpertPlan): LayerTimes {
  const e = m.moe!;
  const peak = matmulPeak(hw, t.precision, t.engine);
  const T = p.microBatch * t.seqLen;
  const h = m.hidden;
  let gemms = 0;
  const dense = [...attentionGemms(m, p.tp, T), ...sharedExpertGemms(m, p.tp, T)];
  for (const g of dense) gemms += gemmTime(hw, peak, g.m, g.n, g.k, g.count);
  const r = routerGemm(m, routedTokens(t, p));
  const router = gemmTime(hw, peak, r.m, r.n, r.k, r.count);
  gemms += router;
  // Routed experts: E/ep local GEMMs of n_e rows each (gate and up, then down).
  const local = e.experts / p.ep;
  const rows = routedRows(m, t, p);
  const perExpert = rows / local;
  const fe = e.expertFfnHidden / p.etp;
  const routed = gemmTime(hw, peak, perExpert, fe, h, local * (mlpMatrices(m) - 1)) + gemmTime(hw, peak, perExpert, h, fe, local);
  // fp8 linears' casts (compute.ts layerTimes), the routed experts' among them.
  const casts = fp8Matmuls(t.precision, t.engine)
    ? fp8CastTraffic(t.precision, t.engine, [...dense, { m: perExpert, n: fe, k: h, count: local * (mlpMatrices(m) - 1), sharedInput: mlpMatrices(m) - 1 }, { m: perExpert, n: h, k: fe, count: local }])
    : NOTHING;
  // As a dense layer's (compute.ts attentionTime).
  const attention = attentionTime(m, hw, t, p.tp, p.microBatch);
  // Memory-bound work: the layer's norms, residuals, rotary and the shared experts' activation as
  // in a dense layer of the shared width; the routed copies' activation function (read 4, write 2
  // bytes per element gated, 2 + 2 plain) and their permute and unpermute (each reads and writes
  // 2h bytes per copy).
  const sharedWidth = e.sharedExperts * (e.sharedFfnHidden ?? e.expertFfnHidden);
  const denseBytes = layerMemoryBoundBytes({ ...m, ffnHidden: sharedWidth }, t, p.tp, p.microBatch, p.sequenceParallel);
  const routedBytes = rows * ((mlpMatrices(m) === 3 ? 6 : 4) * fe + 8 * h);
  const memory = hbm(hw, denseBytes + routedBytes);
  const softmax = t.fusedAttention ? 0 : hbm(hw, ((m.dropout ? 9 : 4) * m.heads * t.seqLen * T) / p.tp);
  const work = gemms + routed + attention + memory;
  const forward = work + hbm(hw, casts.forward);
  // The weight-gradient GEMMs (zero-bubble schedules' W) are as many FLOPs as the forward GEMMs.
  // (selective recompute of an MoE layer: Megatron's modules, the attention core by default;
  // moe_act the routed copies' activation, moe the router, the routed experts and their
  // memory-bound work too: cost/module-recompute.ts)
  const modules = recomputeModulesOf(t.engine);
  const moeBlock = modules?.includes("moe") ? router + routed + hbm(hw, routedBytes) : modules?.includes("moe_act") ? hbm(hw, rows * (mlpMatrices(m) === 3 ? 6 : 4) * fe) : 0;
  const selective = modules === undefined || isDefaultModules(modules)
    ? attention + softmax
    : megatronSelective({ ...m, ffnHidden: sharedWidth }, hw, t, attention + softmax, { tp: p.tp, tokens: T, spShare: p.sequenceParallel && p.tp > 1 ? 1 / p.tp : 1, moeLayer: true }) + moeBlock;
  // (flash attention's backward 2.5× its forward, as compute.ts layerTimes)
  return { forward, backward: 2 * (work - attention) + hbm(hw, casts.backward) + attentionBackwardFactor(t) * attention, attentionCore: attention + softmax, selectiveRecompute: selective, weightGrad: gemms + routed };
}

/** The shared experts' forward on a rank for one micro-batch, in two parts: `up`, the gate and up
 *  projections with the activation (read 4, write 2 bytes per element gated, 2 + 2 plain, as
 *  compute.ts layerMemoryBoundBytes), and `down`, the down projection. What an engine hides behind
 *  the all-to-alls (cost/dispatch.ts sharedExpertExposed); their backward is twice each GEMM
 *  (input and weight gradients). Undefined: no shared experts. */
export function sharedExpertTimes(m: ModelSpec, hw: Hardware, t: Training, p: ExpertPlan): { up: number; down: number } | undefined {
  const e = m.moe!;
  if (e.sharedExperts === 0) return undefined;
  const peak = matmulPeak(hw, t.precision, t.engine);
  const T = p.microBatch * t.seqLen;
  const [up, down] = sharedExpertGemms(m, p.tp, T) as [Gemm, Gemm];
  // [T, h] × [h, f/tp] (gate and up), [T, f/tp] × [f/tp, h] (down)
  const act = (mlpMatrices(m) === 3 ? 6 : 4) * T * up.n;
  return { up: gemmTime(hw, peak, up.m, up.n, up.k, up.count) + hbm(hw, act), down: gemmTime(hw, peak, down.m, down.n, down.k, down.count) };
}

/** A dense layer's and an MoE layer's times on the busiest expert rank (dense: the layer alone; an
 *  MoE model's both), from which each pipeline rank's own mix follows (cost/pace.ts). */
export interface LayerMix {
  dense: LayerTimes;
  moe: LayerTimes;
  /** The shared experts' forward parts where the engine overlaps them with the all-to-alls
   *  (Engine.moe.sharedExpertOverlap; sharedExpertTimes). */
  shared?: { up: number; down: number };
}

export function moeLayerMix(m: ModelSpec, hw: Hardware, t: Training, p: ExpertPlan & Partial<Pick<Plan, "cp" | "cpSplit" | "cpComm">>): LayerMix | undefined {
  if (m.moe === undefined) return undefined;
  // Context parallel (dense models only: layout rule cp_moe) on the rank's s/cp tokens.
  const dense = layerTimes(m, hw, t, p.tp, p.microBatch, p.sequenceParallel, { cp: p.cp ?? 1, split: cpSplitOf(p), comm: cpCommOf(p) });
  const shared = t.engine?.moe.sharedExpertOverlap ? sharedExpertTimes(m, hw, t, p) : undefined;
  return { dense, moe: moeLayerTimes(m, hw, t, p), ...(shared ? { shared } : {}) };
}

/** The average of n layers of which nMoe are MoE layers: layers × average = their work. */
export function averageLayer(mix: LayerMix, n: number, nMoe: number): LayerTimes {
  const { dense, moe } = mix;
  if (nMoe === 0) return dense;
  const avg = (d: number, x: number) => ((n - nMoe) * d + nMoe * x) / n;
  return { forward: avg(dense.forward, moe.forward), backward: avg(dense.backward, moe.backward), attentionCore: avg(dense.attentionCore, moe.attentionCore), selectiveRecompute: avg(dense.selectiveRecompute, moe.selectiveRecompute), weightGrad: avg(dense.weightGrad, moe.weightGrad) };
}

/** The average layer of a stage (the last, or the only one): its dense and MoE layers' times
 *  summed and divided by its layer count, so that layers × average = the stage's work. A dense
 *  model's stage is its dense layer. */
export function stageLayerTimes(m: ModelSpec, hw: Hardware, t: Training, p: ExpertPlan & Pick<Plan, "pp" | "stageLayers" | "schedule"> & Partial<Pick<Plan, "cp" | "cpSplit" | "cpComm" | "vpp">>, mix?: LayerMix): LayerTimes {
  // Context parallel (dense models only: layout rule cp_moe) on the rank's s/cp tokens.
  const dense = mix?.dense ?? layerTimes(m, hw, t, p.tp, p.microBatch, p.sequenceParallel, { cp: p.cp ?? 1, split: cpSplitOf(p), comm: cpCommOf(p) });
  if (m.moe === undefined) return dense;
  // The per-layer mix of the rank with the most layers (even split: the last stage's; uneven
  // stages: the fullest's, moe.ts busiestRankLayers), the routed share without the MTP modules
  // (headWithMtp prices those).
  const busy = busiestRankLayers(m, { ...p, vpp: p.vpp ?? 1 });
  const nMoe = busy.moeLayers - (busy.last ? mtpCount(m) : 0);
  if (nMoe === 0) return dense;
  return averageLayer({ dense, moe: mix?.moe ?? moeLayerTimes(m, hw, t, p) }, busy.layers, nMoe);
}

/** The last stage's output work with the multi-token-prediction modules after it: each runs a
 *  layer (MoE when the model's last layers are) and another logits pass (DeepSeek-V3 §2.2). Their
 *  transformer blocks are recomputed as the model's layers are: Megatron-Core's
 *  MultiTokenPredictionLayer.forward checkpoints its projection and transformer layer under
 *  recompute_granularity "full" (megatron/core/transformer/multi_token_prediction.py,
 *  _checkpointed_forward @ core_r0.14.0), and the layer's own selective recompute runs inside. */
export function headWithMtp(m: ModelSpec, hw: Hardware, t: Training, p: ExpertPlan, head: HeadTimes): HeadTimes {
  const n = m.mtpLayers ?? 0;
  if (n === 0) return head;
  const layer = m.moe ? moeLayerTimes(m, hw, t, p) : layerTimes(m, hw, t, p.tp, p.microBatch, p.sequenceParallel);
  return {
    forward: head.forward + n * (layer.forward + head.forward),
    backward: head.backward + n * (layer.backward + head.backward),
    weightGrad: head.weightGrad + n * (layer.weightGrad + head.weightGrad),
    recompute: { full: n * layer.forward, selective: n * layer.selectiveRecompute },
  };
}
