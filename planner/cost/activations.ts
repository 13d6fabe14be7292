// Activation memory per transformer layer and per micro-batch, in bytes at 16-bit precision.
// Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
// §4 and Table 2. For a GPT layer (4h GELU MLP, multi-head attention, dropout):
//   no parallelism                      s·b·h·(34 + 5·a·s/h)
//   tensor parallel                     s·b·h·(10 + 24/t + 5·a·s/(h·t))
//   tensor + sequence parallel          s·b·h/t·(34 + 5·a·s/h)
//   tensor parallel + selective         s·b·h·(10 + 24/t)
//   tensor + sequence par. + selective  s·b·h·34/t
//   full recompute                      2·s·b·h   (÷ t with sequence parallel)
// The constants are sums of the tensors each sub-layer saves for backward (§4.1); we keep that
// sum explicit so grouped-query attention, SwiGLU, ffnHidden ≠ 4h and models without dropout
// follow from the same derivation:
//   replicated across tp (split only by sequence parallel):
//     2 LayerNorm inputs 2·2sbh, QKV input 2sbh, MLP input 2sbh, 2 dropout masks 2·sbh   → 10sbh
//   split across tp:
//     Q 2sbh, K and V 2·2sbh·g/a, output-projection input 2sbh,
//     GELU input and output 2·2sbf (SwiGLU, GeGLU: gate, up and product 3·2sbf)        → 24sbh
//   (with a head width d ≠ h/a, Q and the output-projection input are a·d wide, K and V g·d)
//   attention scores, split across tp: softmax 2as²b, dropout mask as²b, dropout output 2as²b
//   → 5as²b (2as²b without dropout). Fused (flash) attention keeps none of it, as selective
//   recompute does.
import { attentionWidth, gatedMlp, headDim } from "../model.js";
import { attentionCoreWidths } from "../moe.js";
import type { ModelSpec, Plan, Recompute, Training } from "../types.js";
import type { ActivationTensors, SelectiveRecompute } from "../engine.js";
import { opSacLayerBytes, workerSacLayerBytes } from "./op-sac.js";
import { type CpSavedPlan, cpKeptLayerBytes } from "./cp-saved.js";
import { DEFAULT_RECOMPUTE_MODULES, type RecomputeModule, isDefaultModules } from "../recompute-modules.js";
import { moduleDiscards } from "./module-recompute.js";

export interface ActivationOptions {
  /** The trained sequence length s (Training.seqLen). */
  seqLen: number;
  tp: number;
  sequenceParallel: boolean;
  recompute: Recompute;
  fusedAttention: boolean;
  /** What "selective" keeps on the engine (Engine.selectiveRecompute; absent: Megatron's). */
  selective?: SelectiveRecompute;
  /** Column-parallel linears keep their all-gathered input (Engine.tensorParallel.savesGatheredInput). */
  gatheredInputs?: boolean;
  /** Which tensors a layer saves (Engine.activationTensors; absent: Korthikanti's at 16 bits). */
  tensors?: ActivationTensors;
  /** Bytes per element of a layer's input, kept under full recompute (Engine.residualBytes; absent: 2). */
  residualBytes?: number;
  /** What a layer's context-parallel attention keeps beyond the list at recompute "none", for
   *  one micro-batch, times cp: the callers divide a layer's bytes by cp (cost/cp-saved.ts). */
  cpKept?: number;
  /** Under attention-core selective: the modules re-run (Engine.recomputeModules; absent: the
   *  attention core alone, cost/module-recompute.ts). */
  modules?: readonly RecomputeModule[] | undefined;
}

/** The options of a plan's layers on its engine (with the model: what its cp attention keeps). */
export function activationOptions(t: Training, p: Pick<Plan, "tp" | "sequenceParallel" | "recompute"> & Partial<CpSavedPlan>, m?: ModelSpec): ActivationOptions {
  const e = t.engine;
  const cpKept = m === undefined || p.microBatch === undefined ? 0 : cpKeptLayerBytes(m, t.seqLen, e, { ...p, microBatch: p.microBatch }) * (p.cp ?? 1);
  return {
    seqLen: t.seqLen, tp: p.tp, sequenceParallel: p.sequenceParallel, recompute: p.recompute, fusedAttention: t.fusedAttention,
    // (always set, undefined or not: one object shape for the search's hot calls)
    selective: e?.selectiveRecompute, modules: e?.recomputeModules, gatheredInputs: e?.tensorParallel.savesGatheredInput, tensors: e?.activationTensors, residualBytes: e?.residualBytes,
    ...(cpKept > 0 ? { cpKept } : {}),
  };
}

/** Coefficients of an eager PyTorch block under bf16 autocast over fp32 parameters (paraplan's
 *  worker, executor/worker/model.py), bytes per token and unit of h, derived from what each op
 *  saves for its backward:
 *    replicated: each norm's fp32 input, 4 (LayerNorm runs in fp32 under autocast and saves its
 *      input), or 8 for the eager RMSNorm (x.float().pow(2) saves x, and (x · rsqrt) · w saves
 *      the fp32 normalised x); plus a bf16 copy of the normed input for every linear reading it,
 *      2 each (autocast caches only parameters' casts): Q, K, V, and the MLP's 1 or 2 inputs;
 *    split over tp: Q, K and V at 2 bytes as SDPA gets them (K and V repeated to the query heads
 *      where kvHeads < heads: repeat_interleave makes new tensors), SDPA's output 2 (the output
 *      projection's input, the same tensor), and the MLP's f-wide tensors at 2 bytes: GELU's
 *      input and output (2), or SwiGLU's gate, SiLU output, up and product (4).
 *  Measured on one H200 (bench/results/engine-facts-NVIDIA-H200, engine-facts-memory-warm.json):
 *  40.03 (GPT, 4h MLP), 36.03 (GPT with 4-way GQA and a 3h MLP), 55.28 (Llama, 3-way GQA, 8h/3)
 *  and 65.99 (Llama, MHA, 4h) against 40, 36, 55.33 and 66 here. */
function autocastEagerCoefficients(m: ModelSpec): { replicated: number; split: number } {
  const h = m.hidden;
  const q = attentionWidth(m) / h;
  const kv = m.kvHeads < m.heads ? q : (m.kvHeads * headDim(m)) / h;
  const gated = gatedMlp(m);
  const norms = m.positional === "learned" ? 2 * 4 : 2 * 8;
  const casts = 2 * (3 + (gated ? 2 : 1));
  const mlp = ((gated ? 4 : 2) * 2 * m.ffnHidden) / h;
  return { replicated: norms + casts, split: 2 * q + 2 * 2 * kv + 2 * q + mlp };
}

/** Coefficients c in bytes = c · s·b·h, split into the part tp cannot split and the part it can. */
export function activationCoefficients(m: ModelSpec, seqLen: number): {
  replicated: number;
  split: number;
  scoresPerToken: number;
} {
  const h = m.hidden;
  const dropoutMasks = m.dropout ? 2 : 0;
  const mlpTensors = gatedMlp(m) ? 3 : 2;
  const mlp = (mlpTensors * 2 * m.ffnHidden) / h;
  // Multi-head latent attention (DeepSeek-V2/V3, formulas-scale.md §1.2): Q and K are
  // n_h·(d_n + d_r) wide, V and the attention output n_h·d_v (attentionCoreWidths), not h/a a head;
  // and each compressed latent (r_q, r_kv) is kept twice, as its RMSNorm's input and as its
  // up-projection's, 2 bytes each, whole on every tp rank as the down-projections are
  // (Korthikanti's derivation, §4.1, applied to MLA's tensors).
  if (m.mla !== undefined) {
    const w = attentionCoreWidths(m);
    const latents = (2 * 2 * (m.mla.qLoraRank + m.mla.kvLoraRank)) / h;
    return { replicated: 4 + 2 + 2 + dropoutMasks + latents, split: (2 * 2 * w.qk + 2 * 2 * w.v) / h + mlp, scoresPerToken: ((m.dropout ? 5 : 2) * m.heads * seqLen) / h };
  }
  const q = attentionWidth(m) / h;
  const kv = (m.kvHeads * headDim(m)) / h;
  const replicated = 4 + 2 + 2 + dropoutMasks;
  const split = 2 * q + 4 * kv + 2 * q + mlp;
  // Per token and per unit of h: a·s bytes × (5 with dropout, 2 without) / h.
  const scoresPerToken = ((m.dropout ? 5 : 2) * m.heads * seqLen) / h;
  return { replicated, split, scoresPerToken };
}

/** Coefficients of the same blocks compiled per block (torch.compile, paraplan's worker): what
 *  Inductor's min-cut partitioner keeps is its own choice, not derived here; the four blocks
 *  measured on one H200 (engine-facts-memory-warm.json: 34.03, 30.03, 33.95, 41.99 bytes per token
 *  and unit of h) decompose within 0.1 % as 10 bytes of norm-side tensors (the fp32 norm inputs,
 *  8, and one bf16 normed copy), Q, the repeated K and V and SDPA's output at 2 bytes each, and 2
 *  bytes for each f-wide tensor kept: GELU's input and output (4), or SwiGLU's gate, up and
 *  product (6; the SiLU recomputed). */
function autocastCompiledCoefficients(m: ModelSpec): { replicated: number; split: number } {
  const q = attentionWidth(m) / m.hidden;
  const kv = m.kvHeads < m.heads ? q : (m.kvHeads * headDim(m)) / m.hidden;
  const mlp = ((gatedMlp(m) ? 3 : 2) * 2 * m.ffnHidden) / m.hidden;
  return { replicated: 10, split: 2 * q + 2 * 2 * kv + 2 * q + mlp };
}

/** Bytes one layer keeps for backward for one micro-batch of b sequences, on one GPU. `moeLayer`:
 *  an MoE layer's attention and shared experts (moe-memory.ts), whose norms and MLP differ under
 *  Megatron's recompute modules. */
export function layerActivationBytes(m: ModelSpec, microBatch: number, o: ActivationOptions, moeLayer = false): number {
  const sbh = o.seqLen * microBatch * m.hidden;
  const t = o.tp;
  const sp = o.sequenceParallel && t > 1;
  // Full recompute keeps each layer's input: 16-bit, or the fp32 residual stream under autocast.
  const inputBytes = o.residualBytes ?? 2;
  if (o.recompute === "full") return sp ? (inputBytes * sbh) / t : inputBytes * sbh;
  // torchtitan's per-op SAC keeps matmul outputs, not Megatron's tensor list (cost/op-sac.ts).
  if (o.recompute === "selective" && o.selective === "alternate-matmuls") return opSacLayerBytes(m, microBatch, o);
  // paraplan's worker's per-op SAC keeps every matmul output and the fp32 block input (cost/op-sac.ts).
  if (o.recompute === "selective" && o.selective === "matmul-outputs") return workerSacLayerBytes(m, microBatch, o);
  const c = activationCoefficients(m, o.seqLen);
  // The worker's lists replace Korthikanti's tensors (its scores, where kept, are the same).
  const w = o.tensors === "autocast-eager" ? autocastEagerCoefficients(m) : o.tensors === "autocast-compiled" ? autocastCompiledCoefficients(m) : c;
  // Megatron's selective recompute drops what its modules name (cost/module-recompute.ts); the
  // scores stay where the attention core is not among them.
  const modules = megatronModules(o);
  const keepScores = !o.fusedAttention && (o.recompute === "none" || (modules !== undefined && !modules.includes("core_attn")));
  const scores = keepScores ? c.scoresPerToken : 0;
  const d = modules !== undefined && !isDefaultModules(modules) ? moduleDiscards(m, modules, moeLayer) : NO_DISCARDS;
  const replicated = w.replicated - d.replicated;
  const split = w.split - d.split;
  // The QKV and MLP inputs (2sbh each, among the replicated terms) are kept whole where the stack
  // saves the all-gathered tensor (DTensor), not Megatron's 1/t shard (Korthikanti §4.2.2).
  // (context parallel: what the attention keeps beyond the list, cp-saved.ts)
  const cpKept = o.recompute === "none" ? (o.cpKept ?? 0) : 0;
  if (sp) return (sbh / t) * (replicated + split + scores) + (o.gatheredInputs ? 4 * sbh * (1 - 1 / t) : 0) + cpKept;
  return sbh * (replicated + (split + scores) / t) + cpKept;
}

const NO_DISCARDS = { replicated: 0, split: 0 } as const;

/** The modules Megatron's selective recompute re-runs under these options, or undefined (no
 *  selective recompute, or a per-op SAC engine's). */
export const megatronModules = (o: ActivationOptions): readonly RecomputeModule[] | undefined =>
  o.recompute === "selective" && (o.selective ?? "attention-core") === "attention-core" ? (o.modules ?? DEFAULT_RECOMPUTE_MODULES) : undefined;

/** Extra bytes live while a recomputed layer runs its backward (Korthikanti et al. 2022 §5):
 *  that layer's tensors exist again, one layer at a time; what it stored (its 2sbh input under
 *  full recompute, the saved matmul outputs under per-op SAC) is among them, so the extra is the
 *  layer's non-recompute activations less what was stored. Under unfused attention those include
 *  the layer's materialised scores, softmax and dropout mask (5as²b bytes, §4.2, over t): Megatron's
 *  selective recompute, which stores everything else, re-creates exactly them — at 32k tokens and
 *  16 heads a rank some 80 GiB, a plan that cannot run however little it stores. */
export function recomputeWorkingBytes(m: ModelSpec, microBatch: number, o: ActivationOptions, moeLayer = false): number {
  // Per-op SAC re-materialises what it did not save, one layer at a time, the same way
  // (cost/op-sac.ts): the layer's whole set less what stayed saved.
  const opSac = o.recompute === "selective" && (o.selective === "alternate-matmuls" || o.selective === "matmul-outputs");
  const attentionCore = o.recompute === "selective" && !opSac;
  if (o.recompute === "none" || (attentionCore && o.fusedAttention && isDefaultModules(megatronModules(o)!))) return 0;
  return Math.max(0, layerActivationBytes(m, microBatch, { ...o, recompute: "none" }, moeLayer) - layerActivationBytes(m, microBatch, o, moeLayer));
}
