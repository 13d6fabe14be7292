// ZeRO-3 parameters gathered again after a recomputed forward. DeepSpeed's ZeRO-3 of 2021 fetches
// a submodule's parameters in its forward pre-hook and releases them in its forward post-hook
// unless the module's next use in the recorded trace lies within stage3_max_reuse_distance
// elements (deepspeed/runtime/zero/stage3.py @ v0.3.13: pre/post_sub_module_forward_function,
// release_sub_module, _keep_for_later, get_reuse_distance_in_numel; default 1e9 elements,
// zero/constants.py). Under full activation recompute the backward of a layer re-runs its forward
// (QKV, projection, MLP in, MLP out) and then runs the backward in reverse: a submodule's next use
// after its recomputed forward is its own backward, the parameters of every later submodule
// (forward) and of those again (backward) away — 2·Σ later submodules. Where that exceeds the
// distance, the submodule is released and all-gathered a second time in the same backward: for
// GPT-3 175B (h 12,288) every submodule but the last MLP, 2/3 of the layer. PyTorch FSDP keeps a
// wrapped block's parameters unsharded from its pre-backward hook through the recompute and the
// backward (Zhao et al. 2023 §3.2): nothing is gathered again (Engine maxReuseDistance null).
import type { Engine } from "../engine.js";
import type { ModelSpec } from "../types.js";
import { attentionWidth, gatedMlp, qkvWidth } from "../model.js";

/** Elements of a dense layer's linear submodules on one tp rank, in forward order: QKV, output
 *  projection, MLP in (gate and up together when gated), MLP out. */
export function layerSubmodules(m: ModelSpec, tp: number): number[] {
  const h = m.hidden;
  return [h * qkvWidth(m), attentionWidth(m) * h, (gatedMlp(m) ? 2 : 1) * h * m.ffnHidden, m.ffnHidden * h].map((n) => n / tp);
}

/** The share of a layer's matrix parameters all-gathered a second time per micro-batch under full
 *  recompute (0 where the engine keeps them, or without full recompute). */
export function regatherFraction(m: ModelSpec, tp: number, e: Engine | undefined, recompute: string): number {
  const distance = e?.dataParallel.maxReuseDistance ?? null;
  if (distance === null || recompute !== "full" || m.mla) return 0;
  const sub = layerSubmodules(m, tp);
  const total = sub.reduce((a, b) => a + b, 0);
  let later = 0;
  let released = 0;
  for (let k = sub.length - 1; k >= 0; k--) {
    if (2 * later > distance) released += sub[k]!;
    later += sub[k]!;
  }
  return total > 0 ? released / total : 0;
}
