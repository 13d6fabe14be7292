// torchtitan's per-operator selective activation checkpointing ("op" SAC), the engine's
// selectiveRecompute "alternate-matmuls" (planner/engine.ts). torchtitan wraps each
// TransformerBlock in a checkpoint whose policy saves the outputs of the ops in its save list —
// aten.mm, the SDPA flash/efficient kernels, the functional reduce-scatter, abs/max — except every
// second mm, and recomputes everything else in the backward (_save_list and
// _apply_ac_to_transformer_block, torchtitan/parallelisms/parallelize_llama.py @ 9dec370, the
// commit of the December 2024 benchmarks; the count restarts for each block's forward). A block's
// linear layers run in the order of torchtitan's Llama (models/llama/model.py @ 9dec370):
// wq, wk, wv, wo, then w1, w3, w2 (SwiGLU: w2(silu(w1(x)) · w3(x))); a two-matrix MLP runs up,
// down. So the 1st, 3rd, 5th, 7th — wq, wv, w1, w2 — are saved and wk, wo, w3 recomputed.
// Column-parallel outputs are 1/t of their width per rank; a row-parallel output (wo, w2) is the
// full-width partial sum before its reduce-scatter, whose output the policy saves as well.
// Approximations outside torchtitan's Llama: an MLA attention is counted as its q/k/v widths, and
// an MoE layer's routed experts keep what moe-memory.ts counts (their grouped GEMMs are not mm).
import { attentionWidth, gatedMlp, headDim } from "../model.js";
import type { ModelSpec } from "../types.js";
import type { Gemm } from "./flops.js";

interface Linear {
  /** Output features per rank per token. */
  width: number;
  /** The GEMM as it runs on one rank for `tokens` tokens: input width k, output width n. */
  k: number;
  n: number;
  rowParallel: boolean;
}

/** The block's linear layers in torchtitan's forward order, on one tensor-parallel rank. */
function blockLinears(m: ModelSpec, tp: number): Linear[] {
  const h = m.hidden;
  const q = attentionWidth(m) / tp;
  const kv = (m.kvHeads * headDim(m)) / tp;
  const f = m.ffnHidden / tp;
  const col = (n: number): Linear => ({ width: n, k: h, n, rowParallel: false });
  const row = (k: number): Linear => ({ width: h, k, n: h, rowParallel: true });
  const mlp = gatedMlp(m) ? [col(f), col(f), row(f)] : [col(f), row(f)];
  return [col(q), col(kv), col(kv), row(q), ...mlp];
}

/** Bytes one block keeps for its backward for one micro-batch of b sequences: its checkpointed
 *  input (2·s·b·h, ÷ t under sequence parallelism), the 16-bit outputs of the saved matmuls
 *  (1st, 3rd, …), the SDPA output (2·s·b·a·d/t) and its fp32 log-sum-exp per head and token, and
 *  with tensor parallelism the saved reduce-scatter outputs (2·s·b·h/t each). */
export function opSacLayerBytes(m: ModelSpec, microBatch: number, o: { seqLen: number; tp: number; sequenceParallel: boolean }): number {
  const T = o.seqLen * microBatch;
  const t = o.tp;
  const sp = o.sequenceParallel && t > 1;
  const linears = blockLinears(m, t);
  let saved = 0;
  let reduceScatters = 0;
  linears.forEach((l, i) => {
    if (i % 2 === 0) saved += l.width;
    if (l.rowParallel && t > 1 && sp) reduceScatters += m.hidden / t;
  });
  const input = sp ? m.hidden / t : m.hidden;
  const sdpa = attentionWidth(m) / t;
  const lse = (4 * m.heads) / t;
  return T * (2 * (input + saved + sdpa + reduceScatters) + lse);
}

/** The GEMMs the backward re-runs under op SAC: the unsaved (2nd, 4th, …) matmuls' forwards;
 *  the element-wise ops are recomputed too (cost/compute.ts adds their memory-bound time). */
export function opSacRecomputeGemms(m: ModelSpec, tp: number, tokens: number): Gemm[] {
  return blockLinears(m, tp)
    .filter((_, i) => i % 2 === 1)
    .map((l) => ({ m: tokens, n: l.n, k: l.k, count: 1 }));
}

/** Bytes one block keeps under paraplan's worker's per-op SAC (engine selectiveRecompute
 *  "matmul-outputs"; executor/worker/fastpaths.py sac_context_fn): the outputs of every matmul
 *  (aten.mm / addmm: wq, wk, wv, wo and the MLP's two or three linears, 16-bit under bf16 autocast)
 *  and of every functional collective, plus the checkpoint's input — the residual stream at
 *  `residualBytes` (fp32 under autocast) — while the norms, the attention core, the activations
 *  and the residual adds are recomputed. With tensor parallelism (executor/worker/parallel.py) a
 *  row-parallel output is the full-width partial sum, then its all-reduce (h) or, under sequence
 *  parallelism, its reduce-scatter (h/t) output is saved too, and so is each all-gather of a norm's
 *  output into the column-parallel linears (two a block, h wide at `residualBytes`, the norms
 *  keeping the stream's dtype). */
export function workerSacLayerBytes(m: ModelSpec, microBatch: number, o: { seqLen: number; tp: number; sequenceParallel: boolean; residualBytes?: number }): number {
  const T = o.seqLen * microBatch;
  const t = o.tp;
  const sp = o.sequenceParallel && t > 1;
  const stream = o.residualBytes ?? 2;
  let outputs = 0;
  let collectives = 0;
  for (const l of blockLinears(m, t)) {
    outputs += l.width;
    if (l.rowParallel && t > 1) collectives += sp ? m.hidden / t : m.hidden;
  }
  const gathered = sp ? 2 * stream * m.hidden : 0;
  const input = stream * (sp ? m.hidden / t : m.hidden);
  return T * (input + 2 * (outputs + collectives) + gathered);
}

