// Element-wise HBM traffic of one eager PyTorch block under bf16 autocast over fp32 parameters
// (paraplan's worker, executor/worker/model.py; Engine.elementwise "autocast-eager"), forward,
// derived op by op: each op reads its inputs and writes its output once (Williams et al. 2009,
// roofline). The residual stream is fp32 (4 bytes), linear outputs bf16 (2).
import { attentionWidth, gatedMlp, headDim } from "../model.js";
import type { ModelSpec } from "../types.js";

/** Bytes one token moves through one block's element-wise ops in the forward: the part every tp
 *  rank moves whole (norms, casts, residual adds: split only by sequence parallel) and the part
 *  tp splits (RoPE, GQA's repeat, the MLP's activation). */
export function autocastEagerBytes(m: ModelSpec): { replicated: number; split: number } {
  const h = m.hidden;
  const qw = attentionWidth(m);
  const kw = m.kvHeads * headDim(m);
  const gated = gatedMlp(m);
  // LayerNorm, one native fp32 kernel: read 4, write 4. The eager RMSNorm: pow (read 4, write 4),
  // mean (read 4), x·rsqrt (read 4, write 4), ·weight (read 4, write 4): 28.
  const norms = 2 * (m.positional === "learned" ? 8 : 28) * h;
  // Each linear casts its fp32 input to bf16 itself (autocast caches only parameters' casts):
  // read 4, write 2, for Q, K, V and the MLP's one or two input projections.
  const casts = (3 + (gated ? 2 : 1)) * 6 * h;
  // Two residual adds, fp32 + bf16 → fp32: read 4 + 2, write 4.
  const residual = 2 * 10 * h;
  // RoPE per element of Q and K (apply_rope): float copy (read 2, write 4), four half-width
  // products (read 2, write 2 each), a difference and a sum (read 4, write 2 each), stack (read 4,
  // write 4), back to bf16 (read 4, write 2): 48.
  const rope = m.positional === "rope" ? 48 * (qw + kw) : 0;
  // GQA: K and V repeated to the query heads before SDPA (read 2 at kv width, write 2 at q width).
  const repeat = m.kvHeads < m.heads ? 2 * (2 * kw + 2 * qw) : 0;
  // GELU: read 2, write 2; SwiGLU: SiLU (read 2, write 2) and the product (read 4, write 2).
  const act = (gated ? 10 : 4) * m.ffnHidden;
  return { replicated: norms + casts + residual, split: rope + repeat + act };
}
