// Megatron-Core's figures for a Training without an engine (the default engine's profile,
// profiles/engines/megatron-core.json, says the same with sources): its loss kernel's traffic,
// its context-parallel merge, Transformer Engine's fp8 casts and its experts' dispatcher.
import type { Engine, Fp8CastBytes } from "./engine.js";

/** Bytes per logit element Megatron-Core's unfused vocab-parallel cross-entropy moves: forward cast
 *  to fp32, max, subtract, exp, sum, divide (38); backward scale and cast back (14)
 *  (megatron/core/tensor_parallel/cross_entropy.py @ core_r0.8.0; profiles/engines/megatron-core.json). */
export const MEGATRON_LOSS_BYTES = { forward: 38, backward: 14 } as const;

/** Megatron-Core's context-parallel merge, for a Training without an engine (its profile,
 *  profiles/engines/megatron-core.json, says the same with sources): Transformer Engine's
 *  point-to-point ring runs attention in cp steps, each step's output folded into the running
 *  16-bit one by one fused kernel (6 bytes an element), dQ, dK, dV accumulated by add_ (18); K/V
 *  and dK/dV travel at the key/value heads' width in 16 bits; all_gather gathers before attention
 *  and keeps only the rank's own K/V chunk for backward (it gathers again there).
 *  A prior: no calibration row of this stack ran context parallel. */
export const MEGATRON_CP_MERGE: Engine["contextParallel"] = { stepwise: ["ring"], mergeBytes: { forward: 6, backward: 18 }, kvHeads: "kv", dkvBytes: 2, gatherOverlapsStep: false, allgatherKeeps: [] };

/** Transformer Engine's fp8 casts (Megatron-Core's recipe, for a Training without an engine; its
 *  profile says the same with sources): delayed scaling casts in one pass with the amax taken on
 *  the way; a Linear's input by fp8_cast_transpose_fused (read 2, write 1 + its transpose 1 for the
 *  weight gradient: 4), a LayerNormLinear's inside the norm kernel (its fp8 output and transpose in
 *  place of the 16-bit output: about 1), 3 on average over a layer's inputs; the weight cast and
 *  transposed once a step and cached (0 a micro-batch); the output gradient cast-transposed once in
 *  the backward (4), the saved fp8 input and weight transposes reused (0). */
export const TE_FP8_CASTS: Fp8CastBytes = { forwardInput: 3, forwardWeight: 0, backwardGrad: 4, backwardInput: 0, backwardWeight: 0 };

/** Megatron-Core's dispatcher as paraplan exports it (--moe-token-dispatcher-type alltoall): every
 *  routed copy sent on its own, in 16 bits under fp8 too (MoEAlltoAllTokenDispatcher all-to-alls
 *  the permuted hidden states as they are; token_dispatcher.py @ core_v0.14.0). */
/** Megatron-Core's --moe-shared-expert-overlap (Engine.moe.sharedExpertOverlap): the shared
 *  experts on a stream of their own, the gate and up projections with the activation beside the
 *  dispatch (linear_fc1_forward_and_act after the dispatch all-to-all is issued) and the down
 *  projection beside the combine (linear_fc2_forward), both passes: their gradient functions are
 *  ordered after the all-to-alls' by set_tensor_grad_fn_sequence_sr, so the backward runs them on
 *  that stream beside the all-to-alls' backward (shared_experts.py:146-267, token_dispatcher.py
 *  MoEAlltoAllTokenDispatcher @ core_v0.14.0; the flex dispatcher alike from core_v0.18.0,
 *  MoEFlexTokenDispatcher.token_dispatch and combine_postprocess @ core_v0.19.0). */
export const MEGATRON_SHARED_OVERLAP: NonNullable<Engine["moe"]["sharedExpertOverlap"]> = { dispatch: "up", combine: "down", backward: true };

export const MEGATRON_MOE: Engine["moe"] = { dispatcher: "alltoall", fp8DispatchBytes: null, overlap: null, sharedExpertOverlap: null };
