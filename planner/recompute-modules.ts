// Megatron-Core's fine-grained selective recompute: `--recompute-granularity selective
// --recompute-modules …` names the sub-modules of each layer whose tensors are dropped after the
// forward and rebuilt before their backward (TransformerConfig.recompute_modules,
// megatron/core/transformer/transformer_config.py @ core_r0.14.0; default ["core_attn"], the
// attention core of Korthikanti et al. 2022 §4.2, which the search's "selective" priced alone
// before). What each drops and re-runs is cost/module-recompute.ts.
import type { Engine } from "./engine.js";
import type { MoeSpec } from "./types.js";
import { moeLayersIn } from "./moe.js";

/** The modules paraplan prices, as Megatron names them:
 *  - core_attn: the attention core (checkpointed; attention.py _checkpointed_attention_forward);
 *  - layernorm: the norms that are modules of their own, their outputs dropped
 *    (CheckpointWithoutOutput, transformer_layer.py:405-418): in Transformer Engine's layer specs
 *    MLA's input norm and an MoE layer's pre-MLP norm (gpt_layer_specs.py: the other norms are
 *    fused into the next linear, an IdentityOp, which the flag leaves alone);
 *  - mla_up_proj: MLA's up-projections and rotary, Q, K and V dropped after the attention core
 *    (multi_latent_attention.py:313-315, 781-785);
 *  - mlp: a dense layer's MLP (checkpointed; not an MoE layer's, transformer_layer.py:425-427);
 *  - moe_act: the routed experts' activation, its output dropped (moe/experts.py TEGroupedMLP);
 *  - moe: an MoE layer's MoE block, router, dispatch, experts and combine (checkpointed, its input
 *    kept; moe/moe_layer.py:264-285), its all-to-alls run again;
 *  - shared_experts: the shared experts (checkpointed; moe/moe_layer.py:118-121, 206). */
export type RecomputeModule = "core_attn" | "layernorm" | "mla_up_proj" | "mlp" | "moe_act" | "moe" | "shared_experts";
export const RECOMPUTE_MODULES: readonly RecomputeModule[] = ["core_attn", "layernorm", "mla_up_proj", "mlp", "moe_act", "moe", "shared_experts"];

/** Megatron's modules paraplan does not price, with why: each is refused by name, not priced as
 *  another (core_r0.14.0's list holds none now; the mechanism stays for later releases' modules). */
export const UNPRICED_RECOMPUTE_MODULES: Readonly<Record<string, string>> = {};

/** Megatron's default: the attention core alone. */
export const DEFAULT_RECOMPUTE_MODULES: readonly RecomputeModule[] = ["core_attn"];

/** The modules the engine's "selective" recompute re-runs: its list on an engine whose selective
 *  recompute is Megatron's (attention-core), the attention core alone where it gives none;
 *  undefined on a per-op SAC engine (cost/op-sac.ts), whose selective recompute is another rule. */
export function recomputeModulesOf(e: Pick<Engine, "selectiveRecompute" | "recomputeModules"> | undefined): readonly RecomputeModule[] | undefined {
  if (e !== undefined && e.selectiveRecompute !== "attention-core") return undefined;
  return e?.recomputeModules ?? DEFAULT_RECOMPUTE_MODULES;
}

/** Whether a list is Megatron's default (the attention core alone), in any order. */
export const isDefaultModules = (xs: readonly RecomputeModule[]): boolean => xs.length === 1 && xs[0] === "core_attn";

/** Why a module list cannot be priced on this engine and model, or null: a module the model has
 *  nothing for (Megatron raises on mla_up_proj without MLA; moe_act and shared_experts need an MoE
 *  model, with shared experts), or an engine whose selective recompute is another rule. */
export function recomputeModulesRefusal(modules: readonly RecomputeModule[], e: Pick<Engine, "selectiveRecompute" | "activationTensors" | "recompute"> | undefined, m: { mla?: unknown; moe?: MoeSpec | undefined; layers?: number }): string | null {
  if (e !== undefined && e.recompute !== "any") return `the engine has no selective recompute (it recomputes ${e.recompute === "full" ? "every layer" : "whole layers or nothing"})`;
  if (e !== undefined && (e.selectiveRecompute !== "attention-core" || e.activationTensors !== "16-bit"))
    return `recompute modules are Megatron-Core's selective recompute; this engine's selective recompute is ${e.selectiveRecompute} over ${e.activationTensors} tensors`;
  if (modules.includes("mla_up_proj") && m.mla === undefined) return "mla_up_proj needs multi-latent attention (Megatron raises ValueError), which the model has not";
  if (modules.includes("moe_act") && m.moe === undefined) return "moe_act recomputes routed experts' activation, and the model has no experts";
  if (modules.includes("moe") && m.moe === undefined) return "moe recomputes MoE layers, and the model has no experts";
  if (modules.includes("shared_experts") && (m.moe === undefined || m.moe.sharedExperts === 0)) return "shared_experts recomputes shared experts, and the model has none";
  // Two more Megatron accepts and runs as nothing (transformer_layer.py:405-427 @ core_r0.14.0):
  // mlp skips an MoE layer's MLP, and layernorm the norms Transformer Engine's spec fuses into
  // the next linear (IdentityOp): a dense layer's two outside latent attention.
  if (modules.includes("mlp") && m.moe !== undefined && m.layers !== undefined && moeLayersIn({ moe: m.moe }, 0, m.layers) === m.layers)
    return "mlp recomputes a dense layer's MLP (an MoE layer's experts are moe_act's and shared_experts'), and every layer of the model is an MoE layer";
  if (modules.includes("layernorm") && m.mla === undefined && m.moe === undefined)
    return "layernorm recomputes the norms that are modules of their own (latent attention's input norm, an MoE layer's pre-MLP norm), and the model's norms are fused into the next linear (Transformer Engine's layer spec: IdentityOp), so it re-runs nothing";
  return null;
}
