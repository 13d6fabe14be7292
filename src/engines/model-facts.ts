// The facts of a model an engine needs that do not change its cost (rotary base and scaling,
// norm epsilon, head width), as each engine release states them, and the models a release cannot
// state at all: an export that left one out would run the engine's default, a silent wrong model.
import { DEFAULT_NORM_EPS, DEFAULT_ROPE_THETA } from "../../planner/schema/model.js";
import type { ModelSpec, RopeScaling } from "../../planner/index.js";

export const ropeThetaOf = (m: ModelSpec): number | undefined => (m.positional === "rope" ? (m.ropeTheta ?? DEFAULT_ROPE_THETA) : undefined);
export const normEpsOf = (m: ModelSpec): number => m.normEps ?? DEFAULT_NORM_EPS;

export function describeScaling(s: RopeScaling | undefined): string {
  if (s === undefined) return "none";
  return `${s.type} factor ${s.factor}, low ${s.lowFreqFactor}, high ${s.highFreqFactor}, original ${s.originalMaxPositions}`;
}

/** Megatron-LM's Llama 3.1 scaling (--use-rope-scaling): only its factor is an argument; low 1,
 *  high 4 and original 8192 are fixed (megatron/core/models/common/embeddings/rotary_pos_embedding.py
 *  _apply_scaling defaults). */
export const MEGATRON_FIXED_SCALING = { lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } as const;

export function megatronScaling(factor: number): RopeScaling {
  return { type: "llama3", factor, ...MEGATRON_FIXED_SCALING };
}

const fmt = (x: number) => x.toLocaleString("en-US");

/** Why pretrain_gpt.py arguments (Megatron-LM of `release`, or Megatron-DeepSpeed) cannot build
 *  this model, or null. Refusals, not notes: the arguments would train another model. */
export function megatronModelRefusal(m: ModelSpec, release: "core_r0.14" | "core_v0.7" | "megatron-deepspeed"): string | null {
  const name = release === "megatron-deepspeed" ? "Megatron-DeepSpeed" : `Megatron-LM ${release}`;
  if (m.mlp === "geglu") return `${name} has no GELU-gated MLP argument (--swiglu gates with SiLU), so ${m.name} cannot be expressed`;
  // ALiBi (Press et al. 2022): Megatron-LM has no such position type; BigScience's
  // Megatron-DeepSpeed fork had one, which paraplan does not export to.
  if (m.positional === "alibi") return `${m.name} uses ALiBi positions, which paraplan does not export to ${name}`;
  if (m.slidingWindow !== undefined)
    return `${m.name} uses sliding-window attention on ${m.slidingWindowLayers} of ${m.layers} layers, which paraplan does not export to ${name}`;
  // Megatron-LM's --add-qkv-bias and --qk-layernorm (a norm over each head's channels,
  // megatron/core/transformer/attention.py q_layernorm); Megatron-DeepSpeed has neither.
  if (m.qkvBias && release === "megatron-deepspeed") return `${m.name} has biases on Q, K and V only, which ${name} has no argument for (--add-qkv-bias is Megatron-LM's)`;
  if (m.qkNorm === "full") return `${m.name} normalises queries and keys over the whole projections (OLMo 2), and ${name}'s --qk-layernorm normalises each head`;
  if (m.qkNorm && release === "megatron-deepspeed") return `${m.name} normalises queries and keys per head, which ${name} has no argument for (--qk-layernorm is Megatron-LM's)`;
  const theta = ropeThetaOf(m);
  if (theta !== undefined) {
    if (release === "core_v0.7" && theta !== DEFAULT_ROPE_THETA)
      return `${name} has no --rotary-base: its RoPE base is fixed at ${fmt(DEFAULT_ROPE_THETA)} and ${m.name}'s is ${fmt(theta)}; use --release core_r0.14`;
    if (!Number.isInteger(theta)) return `${name}'s rotary base argument is an integer and ${m.name}'s is ${theta}`;
  }
  const s = m.ropeScaling;
  if (s !== undefined) {
    if (release !== "core_r0.14") return `${name} has no RoPE scaling arguments and ${m.name} uses ${describeScaling(s)}; use Megatron-LM core_r0.14`;
    const f = MEGATRON_FIXED_SCALING;
    if (s.lowFreqFactor !== f.lowFreqFactor || s.highFreqFactor !== f.highFreqFactor || s.originalMaxPositions !== f.originalMaxPositions)
      return `${name}'s --use-rope-scaling fixes low 1, high 4 and original 8192; ${m.name} uses ${describeScaling(s)}`;
  }
  return null;
}

/** The model facts an engine without model arguments must get from elsewhere, in words. */
export function factsInWords(m: ModelSpec): string {
  const parts: string[] = [];
  const theta = ropeThetaOf(m);
  if (theta !== undefined) parts.push(`rotary base ${theta}`, `rope scaling ${describeScaling(m.ropeScaling)}`);
  parts.push(`norm epsilon ${normEpsOf(m)}`);
  if (m.headDim !== undefined) parts.push(`head dimension ${m.headDim}`);
  parts.push(m.tiedEmbeddings ? "tied embeddings" : "untied embeddings");
  if (m.mlp === "geglu") parts.push("GELU-gated MLP");
  if (m.positional === "alibi") parts.push("ALiBi positions (Press et al. 2022)");
  if (m.slidingWindow !== undefined) parts.push(`sliding window ${m.slidingWindow} on ${m.slidingWindowLayers} of ${m.layers} layers`);
  if (m.qkvBias) parts.push("biases on Q, K and V");
  if (m.qkNorm) parts.push(`RMSNorm on queries and keys over ${m.qkNorm === "head" ? "each head's channels" : "the whole projections"}`);
  return parts.join(", ");
}
