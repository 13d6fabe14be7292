// GEMMs and forward FLOPs of a mixture-of-experts layer and of MLA, in the convention of flops.ts
// (2 FLOPs per multiply-accumulate, backward = 2 × forward). Only the active parameters do work:
// the shared experts on every token, k routed experts per token, plus the router's E×h GEMM
// (formulas-scale §1.3–1.4: Megatron's formula leaves the router out; it is counted here since the
// GPUs run it). MLA's projections per formulas-scale §1.2 (DeepSeek-V3 report eqs. 1–11).
import { mlpMatrices } from "../model.js";
import { expertParams, sharedExpertParams } from "../moe.js";
import type { MlaSpec, ModelSpec } from "../types.js";
import { type Gemm, attentionFlops, attentionGemms, gemmFlops } from "./flops.js";

/** MLA's forward GEMMs on one tp rank. The down-projections W_DQ and W_DKV (+ W_KR) are held
 *  whole by every tp rank (Megatron-Core MLASelfAttention) and run on all the tokens; the
 *  up-projections are column-parallel and the output projection row-parallel:
 *   [T, h]×[h, r_q], [T, r_q]×[r_q, n_h(d_n+d_r)/t]   (or [T, h]×[h, n_h(d_n+d_r)/t] without r_q)
 *   [T, h]×[h, r_kv + d_r], [T, r_kv]×[r_kv, n_h(d_n+d_v)/t], [T, n_h·d_v/t]×[n_h·d_v/t, h] */
export function mlaGemms(m: ModelSpec, a: MlaSpec, tp: number, tokens: number): Gemm[] {
  const h = m.hidden;
  const [qUp, kvUp] = mlaUpGemms(m, a, tp, tokens);
  return [
    ...(a.qLoraRank > 0 ? [{ m: tokens, n: a.qLoraRank, k: h, count: 1 }] : []),
    qUp!,
    { m: tokens, n: a.kvLoraRank + a.qkRopeHeadDim, k: h, count: 1 },
    kvUp!,
    { m: tokens, n: h, k: (m.heads * a.vHeadDim) / tp, count: 1 },
  ];
}

/** MLA's up-projections (above): Q's from r_q (or from h without r_q) and K/V's from r_kv, the
 *  GEMMs Megatron's mla_up_proj recompute re-runs (cost/module-recompute.ts). */
export function mlaUpGemms(m: ModelSpec, a: MlaSpec, tp: number, tokens: number): [Gemm, Gemm] {
  const n = m.heads;
  return [
    { m: tokens, n: (n * (a.qkNopeHeadDim + a.qkRopeHeadDim)) / tp, k: a.qLoraRank > 0 ? a.qLoraRank : m.hidden, count: 1 },
    { m: tokens, n: (n * (a.qkNopeHeadDim + a.vHeadDim)) / tp, k: a.kvLoraRank, count: 1 },
  ];
}

/** The router's GEMM [T, h]×[h, E] (fp32 in Megatron-Core's router; counted as a GEMM). */
export const routerGemm = (m: ModelSpec, tokens: number): Gemm => ({ m: tokens, n: m.moe!.experts, k: m.hidden, count: 1 });

/** The shared experts' GEMMs on one tp rank (column- then row-parallel, like a dense MLP). */
export function sharedExpertGemms(m: ModelSpec, tp: number, tokens: number): Gemm[] {
  const e = m.moe!;
  if (e.sharedExperts === 0) return [];
  const f = (e.sharedExperts * (e.sharedFfnHidden ?? e.expertFfnHidden)) / tp;
  return [
    { m: tokens, n: f, k: m.hidden, count: mlpMatrices(m) - 1 },
    { m: tokens, n: m.hidden, k: f, count: 1 },
  ];
}

/** Forward FLOPs of one MoE layer for `tokens` tokens, all ranks together: attention, shared
 *  experts, the router and k routed experts per token (2 FLOPs per weight and token). */
export function moeLayerForwardFlops(m: ModelSpec, seqLen: number, tokens: number): number {
  let f = 0;
  for (const g of attentionGemms(m, 1, tokens)) f += gemmFlops(g);
  f += 2 * tokens * sharedExpertParams(m) + gemmFlops(routerGemm(m, tokens));
  f += 2 * tokens * m.moe!.topK * expertParams(m);
  return f + attentionFlops(m, seqLen, 1, tokens / seqLen);
}

/** One multi-token-prediction module's forward besides its logits: its transformer layer (MoE
 *  when the model's last layers are) and the [T, 2h]×[2h, h] projection (DeepSeek-V3 report §2.2). */
export function mtpForwardFlops(m: ModelSpec, seqLen: number, tokens: number): number {
  const proj = 2 * tokens * 2 * m.hidden * m.hidden;
  if (m.moe) return moeLayerForwardFlops(m, seqLen, tokens) + proj;
  let f = attentionFlops(m, seqLen, 1, tokens / seqLen);
  for (const g of [...attentionGemms(m, 1, tokens)]) f += gemmFlops(g);
  return f + 2 * tokens * mlpMatrices(m) * m.hidden * m.ffnHidden + proj;
}
