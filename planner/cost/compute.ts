// Time of the work one GPU does for one micro-batch: matmuls at the profile's efficiency for
// their size, the attention core at the profile's attention efficiency, and memory-bound kernels
// (norms, activation functions, bias/dropout/residual, softmax, rotary, cross-entropy) as bytes
// over achieved HBM bandwidth (Williams et al. 2009, roofline model; Korthikanti et al. 2022 §4.1
// lists the tensors these kernels read and write).
import { efficiencyAt } from "../efficiency.js";
import { attentionWidth, gatedMlp, headDim, keysPerQuery, paddedVocab } from "../model.js";
import { attentionCoreWidths } from "../moe.js";
import { type CpComm, type CpSplit, DEFAULT_CP_COMM, type Hardware, type ModelSpec, type Precision, type Training } from "../types.js";
import { attentionWorkShare, causalKeys } from "./causal.js";
import { cpAttentionImbalance, cpImbalance } from "./context.js";
import { attentionFlops, layerGemms, logitsGemm } from "./flops.js";
import { opSacRecomputeGemms } from "./op-sac.js";
import { DEFAULT_RECOMPUTE_MODULES, isDefaultModules, recomputeModulesOf } from "../recompute-modules.js";
import { moduleRecomputeTime } from "./module-recompute.js";
import { type Engine, MEGATRON_LOSS_BYTES } from "../engine.js";
import { autocastEagerBytes } from "./eager-traffic.js";
import { NOTHING, attentionEfficiency, cpMergeTraffic, fp8CastTraffic, fp8Matmuls, launchBound, layerKernels, logitShards, trafficFactor } from "./engine-terms.js";

export interface LayerTimes {
  /** Forward of one layer for one micro-batch, seconds. */
  forward: number;
  /** Backward: the matmuls twice (input and weight gradients), memory-bound work twice. */
  backward: number;
  /** The attention core and its softmax in the forward. */
  attentionCore: number;
  /** The part of the forward that selective recompute re-runs: the attention core on Megatron
   *  (Korthikanti et al. 2022 §4.2); the unsaved matmuls and every element-wise op under
   *  torchtitan's per-op SAC (cost/op-sac.ts). */
  selectiveRecompute: number;
  /** The part of the backward that computes weight gradients: its weight-gradient GEMMs, as many
   *  FLOPs as the forward's GEMMs (Qi et al. 2024 Table 1: W = 24·sbh² of the layer's 24sbh² + 4s²bh
   *  forward); the zero-bubble schedules run it apart from the input gradient (W). */
  weightGrad: number;
}

export interface HeadTimes {
  /** Logits matmul and cross-entropy on the last stage, forward and backward. */
  forward: number;
  backward: number;
  /** The logits GEMM's weight gradient (the output projection's W). */
  weightGrad: number;
  /** What recompute re-runs of the output's work: the multi-token-prediction modules' transformer
   *  blocks (cost/moe-time.ts headWithMtp), their forward under full recompute, their
   *  selectiveRecompute share under selective. Absent: nothing (the logits are not recomputed). */
  recompute?: { full: number; selective: number };
}

export function matmulPeak(hw: Hardware, precision: Precision, engine?: Engine): number {
  // fp8 only where the engine has an fp8 recipe; otherwise the matmuls stay 16-bit.
  // fp8 GEMMs reach a smaller share of their doubled peak (Hardware.fp8Efficiency). The engine's
  // GEMM library scales the table (Engine.gemmEfficiency).
  const library = engine?.gemmEfficiency ?? 1;
  if (precision === "fp8") return library * (fp8Matmuls(precision, engine) && hw.peak.fp8 !== null ? hw.peak.fp8 * (hw.fp8Efficiency ?? 1) : hw.peak.bf16);
  return library * (precision === "fp16" ? hw.peak.fp16 : hw.peak.bf16);
}

/** Time of one GEMM (all `count` repetitions) at the table's efficiency for its size,
 *  never faster than streaming its operands once through HBM (roofline). */
export function gemmTime(hw: Hardware, peak: number, m: number, n: number, k: number, count: number): number {
  const flops = 2 * m * n * k;
  const compute = flops / (peak * efficiencyAt(hw.matmul, flops));
  const bytes = 2 * (m * k + k * n + m * n);
  const memory = bytes / (hw.memoryBandwidth * hw.memoryBandwidthEfficiency);
  return count * Math.max(compute, memory);
}

export function hbm(hw: Hardware, bytes: number): number {
  return bytes / (hw.memoryBandwidth * hw.memoryBandwidthEfficiency);
}

/** The widths rotary embeddings are applied to per token: split over tp (the query heads, and
 *  the key heads of standard attention: a·d + g·d), and held whole by every tp rank. MLA rotates
 *  only its decoupled parts, q^R of d_r per head and one shared k^R of d_r (DeepSeek-V3 report
 *  §2.1.1 eqs. 3 and 7; formulas-scale §1.2); k^R comes from the down-projection every tp rank
 *  holds whole (cost/moe-flops.ts mlaGemms), so each rank rotates it: n_h·d_r split, d_r whole.
 *  (Before, MLA was rotated as a·d + g·d with d = h/a, 2h = 14,336 per DeepSeek-V3 token for
 *  8,256.) */
export function ropeWidths(m: ModelSpec): { split: number; whole: number } {
  const a = m.mla;
  if (a) return { split: m.heads * a.qkRopeHeadDim, whole: a.qkRopeHeadDim };
  return { split: attentionWidth(m) + m.kvHeads * headDim(m), whole: 0 };
}

/** Bytes the memory-bound kernels of one layer move in its forward, on one GPU.
 *  T = b·s tokens; replicated kernels run on T/t tokens under sequence parallelism.
 *   LayerNorm/RMSNorm ×2: read 2Th, write 2Th each                        8Th
 *   bias + dropout + residual ×2: read 2·2Th, write 2Th (+ Th mask)      12Th (14Th with dropout)
 *   activation on the f-wide MLP: GELU read 2Tf write 2Tf; SwiGLU/GeGLU read 4Tf write 2Tf (÷ t)
 *   rotary embedding on Q and K: read and write 2T(a·d + g·d) (÷ t); MLA: 2T·n_h·d_r (÷ t) + 2T·d_r
 *   unfused softmax (+ dropout) over a·s²·b scores: read 2, write 2 (+ 5 for dropout) bytes (÷ t) */
export function layerMemoryBoundBytes(
  m: ModelSpec,
  t: Pick<Training, "seqLen" | "fusedAttention" | "engine">,
  tp: number,
  microBatch: number,
  sequenceParallel: boolean,
): number {
  const T = microBatch * t.seqLen;
  const h = m.hidden;
  const replicatedShare = sequenceParallel && tp > 1 ? 1 / tp : 1;
  // Each group × the engine's traffic for it: 1 when fused as counted here (cost/engine-terms.ts).
  const e = t.engine;
  const scores = t.fusedAttention ? 0 : (m.dropout ? 9 : 4) * m.heads * t.seqLen * T;
  if (e?.elementwise === "autocast-eager") {
    const b = autocastEagerBytes(m);
    return T * b.replicated * replicatedShare + (T * b.split + scores) / tp;
  }
  const norms = 8 * T * h * trafficFactor(e, "norm");
  const residual = (m.dropout ? 14 : 12) * T * h * trafficFactor(e, "dropoutResidual");
  const act = (gatedMlp(m) ? 6 : 4) * T * m.ffnHidden * trafficFactor(e, "biasActivation");
  const rope = m.positional === "rope" ? 4 * T * ropeWidths(m).split * trafficFactor(e, "rotary") : 0;
  // (MLA's shared rotary key, one head on every tp rank: ropeWidths)
  const ropeWhole = m.positional === "rope" ? 4 * T * ropeWidths(m).whole * trafficFactor(e, "rotary") : 0;
  return (norms + residual) * replicatedShare + (act + rope + scores) / tp + ropeWhole;
}

/** Batched GEMMs (`count` of m×k by k×n, one strided-batched call): the table's efficiency at the
 *  batch's FLOPs (its tiles fill the GPU as one GEMM of that size would), never faster than
 *  streaming every operand and output once through HBM (roofline). */
export function batchedGemmTime(hw: Hardware, peak: number, m: number, n: number, k: number, count: number): number {
  const flops = 2 * m * n * k * count;
  const compute = flops / (peak * efficiencyAt(hw.matmul, flops));
  return Math.max(compute, hbm(hw, 2 * (m * k + k * n + m * n) * count));
}

/** Forward time of materialised attention on one tp rank: Megatron-LM 2021's CoreAttention computes
 *  Q·Kᵀ with torch.baddbmm over [b·a/t, s_q, d] × [b·a/t, d, s_k] and P·V with torch.bmm over
 *  [b·a/t, s_q, s_k] × [b·a/t, s_k, d] (megatron/model/transformer.py @ v2.6), the whole s×s square
 *  whatever the mask: per-head GEMMs with an inner dimension of one head (d = 64–128), whose
 *  s×s output (Q·Kᵀ) or input (P·V) makes them memory-bound on small heads. The softmax and
 *  dropout over the scores are memory-bound bytes (layerMemoryBoundBytes). `queries`: the rank's
 *  queries per sequence (s, or s/cp). */
export function materialisedAttentionTime(m: ModelSpec, hw: Hardware, seqLen: number, queries: number, tp: number, microBatch: number, engine?: Engine): number {
  const w = attentionCoreWidths(m);
  const keys = keysPerQuery(m, seqLen);
  const count = (microBatch * m.heads) / tp;
  // Attention runs in 16 bits (fp16 under Megatron-LM 2021's fp16 training, bf16 otherwise: the
  // same tensor-core peak on A100 and H100), through the engine's GEMM library.
  const peak = hw.peak.bf16 * (engine?.gemmEfficiency ?? 1);
  return batchedGemmTime(hw, peak, queries, keys, w.qk / m.heads, count) + batchedGemmTime(hw, peak, queries, w.v / m.heads, keys, count);
}

const NO_CP = { cp: 1, split: "zigzag" } as const;

/** Forward time of one layer's attention core on one tp rank (dense and MoE layers alike).
 *  Attention runs in 16 bits even under fp8 matmuls (Transformer Engine keeps DPA in bf16).
 *  Materialised scores are batched GEMMs at the matmul table's efficiency and HBM's roofline
 *  (materialisedAttentionTime); a fused kernel does the work it does (the causal share under
 *  flash attention: causal.ts) at the efficiency of the engine's kernel on this GPU generation
 *  (cost/engine-terms.ts). Context parallel: the rank's s/cp queries meet the whole sequence's
 *  keys, times the busiest rank's share of the work (cost/context.ts cpAttentionImbalance). */
export function attentionTime(m: ModelSpec, hw: Hardware, t: Training, tp: number, microBatch: number, cp: { cp: number; split: CpSplit; comm?: CpComm } = NO_CP): number {
  const c = cp.cp;
  if (!t.fusedAttention) return materialisedAttentionTime(m, hw, t.seqLen, t.seqLen / c, tp, microBatch, t.engine) * cpImbalance(c, cp.split);
  // (the busiest rank's share: Ulysses' head re-shard balances any split, a sliding window
  // balances contiguous chunks; cost/context.ts cpAttentionImbalance)
  const work = ((attentionFlops(m, t.seqLen, tp, microBatch) * attentionWorkShare(m, t)) / c) * cpAttentionImbalance(m, t.seqLen, cp);
  return work / (hw.peak.bf16 * attentionEfficiency(hw, t.engine));
}

/** Backward time of the attention core over its forward's: 2.5 for a fused (flash) kernel, which
 *  recomputes the scores (Dao 2023 §3.1: five GEMMs against two), 2 for materialised scores. */
export const attentionBackwardFactor = (t: Pick<Training, "fusedAttention">): number => (t.fusedAttention ? 2.5 : 2);

/** The work the planner times one causal fused attention core's forward and backward by, at the
 *  attention efficiency: 4·b·s·k̄·a·d forward over the causal keys k̄ (causal.ts causalKeys),
 *  the backward attentionBackwardFactor × that. A measured kernel's efficiency is this work over
 *  its seconds and the peak, so the planner's time reproduces the measured one (src/profile); the
 *  reported FLOPs (flops.ts, full square, backward 2×) are 12·b·s²·a·d, about 1.6× more. */
export function causalAttentionWork(batch: number, seq: number, heads: number, headDim: number): number {
  return (1 + attentionBackwardFactor({ fusedAttention: true })) * 4 * batch * seq * causalKeys(seq) * heads * headDim;
}

export function layerTimes(
  m: ModelSpec,
  hw: Hardware,
  t: Training,
  tp: number,
  microBatch: number,
  sequenceParallel: boolean,
  cp: { cp: number; split: CpSplit; comm?: CpComm } = NO_CP,
): LayerTimes {
  const peak = matmulPeak(hw, t.precision, t.engine);
  // Context parallel: every module but attention runs on the rank's s/cp tokens; attention meets
  // those queries with the whole sequence's keys, 1/cp of the work, times the busiest rank's
  // share of the causal work (cost/context.ts cpImbalance; Megatron-Core context_parallel.md).
  const c = cp.cp;
  const tokens = (microBatch * t.seqLen) / c;
  let gemms = 0;
  const layer = layerGemms(m, tp, tokens);
  for (let i = 0; i < layer.length; i++) gemms += gemmTime(hw, peak, layer[i]!.m, layer[i]!.n, layer[i]!.k, layer[i]!.count);
  const attention = attentionTime(m, hw, t, tp, microBatch, cp);
  // Memory-bound bytes are linear in the rank's tokens (scores: its queries × all keys).
  const memBytes = layerMemoryBoundBytes(m, t, tp, microBatch, sequenceParallel) / c;
  const memory = hbm(hw, memBytes);
  const softmax = t.fusedAttention ? 0 : hbm(hw, ((m.dropout ? 9 : 4) * m.heads * t.seqLen * tokens) / tp);
  // Context parallel run in cp attention steps: each step's partial output merged into the
  // running one (cost/engine-terms.ts cpMergeTraffic), over the rank's [b, s/cp, a/t·d] output.
  const merge = cpMergeTraffic(t.engine, cp.comm ?? DEFAULT_CP_COMM, c, (tokens * attentionWidth(m)) / tp);
  // fp8 linears: the recipe's casts of inputs, weights and output gradients (engine-terms.ts);
  // under sequence parallelism the column-parallel linears (those reading the h-wide layer input:
  // QKV and the MLP's up projections) cast their shard before the all-gather.
  const gathered = sequenceParallel && tp > 1 ? tp : 1;
  const casts = fp8Matmuls(t.precision, t.engine) ? fp8CastTraffic(t.precision, t.engine, layer.map((g) => (g.k === m.hidden ? { ...g, gatheredFrom: gathered, sharedInput: g.count } : g))) : NOTHING;
  // Launch-bound when the host issues the layer's kernels slower than the GPU runs them
  // (cost/engine-terms.ts launchBound; no engine: never).
  const kernels = layerKernels(t.engine, m.positional);
  const opSac = t.engine?.selectiveRecompute === "alternate-matmuls";
  let recomputedGemms = 0;
  if (opSac) for (const g of opSacRecomputeGemms(m, tp, tokens)) recomputedGemms += gemmTime(hw, peak, g.m, g.n, g.k, g.count);
  return {
    forward: launchBound(gemms + attention + memory + hbm(hw, merge.forward + casts.forward), kernels.forward, t.engine, hw),
    // Flash attention's backward does 2.5× its forward matmul work (Dao 2023 §3.1: it recomputes
    // S = QKᵀ, five GEMMs against the forward's two), so the kernel's published efficiency (FA2 /
    // FA3 fwd+bwd benchmarks count 3.5× the forward FLOPs) is the figure to use. The reported FLOPs
    // keep the Narayanan convention (backward 2×); materialised scores' backward is 2× (4 GEMMs).
    backward: launchBound(2 * (gemms + memory) + hbm(hw, merge.backward + casts.backward) + attentionBackwardFactor(t) * attention, kernels.backward, t.engine, hw),
    attentionCore: attention + softmax,
    // The worker's per-op SAC re-runs the attention core and every element-wise op, no matmul.
    // (Megatron's: the modules it names, the attention core by default, cost/module-recompute.ts)
    selectiveRecompute: opSac ? recomputedGemms + memory : t.engine?.selectiveRecompute === "matmul-outputs" ? attention + softmax + memory : megatronSelective(m, hw, t, attention + softmax, { tp, tokens, spShare: sequenceParallel && tp > 1 ? 1 / tp : 1, moeLayer: false }),
    weightGrad: gemms,
  };
}

/** What Megatron's selective recompute re-runs of a layer (dense, or an MoE layer's attention
 *  and shared experts with `m` of their width): the attention core where its modules name it, and
 *  the other modules' work (cost/module-recompute.ts). */
export function megatronSelective(m: ModelSpec, hw: Hardware, t: Training, attentionCore: number, o: { tp: number; tokens: number; spShare: number; moeLayer: boolean }): number {
  const modules = recomputeModulesOf(t.engine) ?? DEFAULT_RECOMPUTE_MODULES;
  const core = modules.includes("core_attn") ? attentionCore : 0;
  if (isDefaultModules(modules)) return core;
  const peak = matmulPeak(hw, t.precision, t.engine);
  return core + moduleRecomputeTime(m, hw, t.engine, modules, { ...o, gemm: (g) => gemmTime(hw, peak, g.m, g.n, g.k, g.count) });
}

/** Logits GEMM plus fp32 cross-entropy over the vocab-parallel logits (Megatron-LM
 *  vocab_parallel_cross_entropy): read 2 + write 4 bytes per logit forward, the same backward. */
export function headTimes(m: ModelSpec, hw: Hardware, t: Training, tp: number, microBatch: number, cp = 1): HeadTimes {
  const peak = matmulPeak(hw, t.precision, t.engine);
  // (with context parallel each rank computes the logits of its s/cp tokens)
  const tokens = (microBatch * t.seqLen) / cp;
  const vPad = paddedVocab(m.vocab, tp);
  const g = logitsGemm(m, tp, tokens, vPad);
  const gemm = gemmTime(hw, peak, g.m, g.n, g.k, g.count);
  // The loss's passes over the logits, bytes per element as the engine's loss moves them (no
  // engine: Megatron-Core's, the default engine's, MEGATRON_LOSS_BYTES).
  // (over the whole vocabulary where the stack gathers the logits first: engine-terms.ts logitShards)
  const logits = (tokens * vPad) / logitShards(t.engine, tp);
  const loss = t.engine?.lossBytes ?? MEGATRON_LOSS_BYTES;
  return { forward: gemm + hbm(hw, loss.forward * logits), backward: 2 * gemm + hbm(hw, loss.backward * logits), weightGrad: gemm };
}

/** Adam step over the locally owned parameters (Kingma & Ba 2015; mixed precision per
 *  Micikevicius et al. 2018): read 16-bit grad + fp32 master, m, v (14 B), write master, m, v and
 *  the 16-bit copy (14 B), plus reading the gradient once more for the global-norm clip (2 B). */
export function optimizerTime(hw: Hardware, localParams: number): number {
  return hbm(hw, 30 * localParams);
}

/** DeepSpeed's BF16_Optimizer adds each micro-batch's 16-bit gradients into its whole fp32 copy
 *  after the backward (bf16_optimizer.py update_hp_grads @ v0.6.5, called by the pipeline engine
 *  after every backward pass: hp_grad.add_(lp.grad.to(fp32))): the cast reads 2 B and writes an
 *  fp32 temporary (4 B), the add reads it and the fp32 gradient and writes that (12 B), 18 B per
 *  parameter the rank holds, each micro-batch. Counted with the step's optimizer work (the sim's
 *  too), not inside each backward. */
export function fp32AccumulateTime(hw: Hardware, params: number, microBatches: number): number {
  return microBatches * hbm(hw, 18 * params);
}

