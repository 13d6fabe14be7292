// llm-foundry: the plan as a training YAML for scripts/train/train.py, the stack the fsdp engine
// prices (MosaicML's llm-foundry benchmarks, the calibration's 216 MPT runs). Keys from
// mosaicml/llm-foundry @8c8dd48 (2025-07-21): TrainConfig (llmfoundry/utils/config_utils.py),
// MPTConfig (llmfoundry/models/mpt/configuration_mpt.py, attn_config and ffn_config defaults in
// llmfoundry/models/utils/config_defaults.py), Composer's FSDP config; recorded in
// test/export/fixtures/llm-foundry-8c8dd48.txt. The model is written as llm-foundry's own MPT
// (mpt_causal_lm), which builds GPT-, Llama- and MPT-style decoders from its keys; the data,
// tokenizer and schedule are the user's and change no step time.
import { stringify } from "yaml";
import { type Fixed, type Plan, type Precision, engineGradReduceBytes } from "../../planner/index.js";
import { llmFoundryRefusal } from "../../planner/layout/capabilities.js";
import { type Engine, type EngineContext, type ExportFile, type Release, type Translation, describe, llamaStyle } from "./engine-plan.js";
import { describeScaling, normEpsOf, ropeThetaOf } from "./model-facts.js";
import { blockExportRefusal } from "./recompute-block-export.js";

export const LLM_FOUNDRY_RELEASES: readonly Release[] = [
  { id: "8c8dd48", label: "llm-foundry @8c8dd48 (mosaicml/llm-foundry, 2025-07-21: TrainConfig in llmfoundry/utils/config_utils.py, MPTConfig in llmfoundry/models/mpt/configuration_mpt.py)" },
];

/** Composer's FSDP sharding strategies by ZeRO stage (composer/distributed: FULL_SHARD shards
 *  parameters, gradients and optimizer states; SHARD_GRAD_OP keeps parameters gathered between
 *  forward and backward; NO_SHARD replicates, DDP-like). */
const SHARDING: Record<number, string> = { 0: "NO_SHARD", 2: "SHARD_GRAD_OP", 3: "FULL_SHARD" };
const PRECISION: Record<Precision, string> = { bf16: "amp_bf16", fp16: "amp_fp16", fp8: "amp_fp8" };

/** Why llm-foundry's MPT cannot build the model, or null: a refusal, since the YAML would train
 *  another model. */
export function mptModelRefusal(ctx: Omit<EngineContext, "plan">): string | null {
  const m = ctx.model;
  if (m.moe) return `${m.name} is a mixture of experts; paraplan writes llm-foundry's dense MPT only (its MoE FFNs need MegaBlocks)`;
  if (m.mla) return `${m.name} uses multi-head latent attention, which llm-foundry's MPT does not build`;
  if (m.mtpLayers) return `${m.name} trains multi-token-prediction modules, which llm-foundry's MPT does not build`;
  if (m.slidingWindow !== undefined && (m.slidingWindowLayers ?? m.layers) !== m.layers)
    return `${m.name} windows ${m.slidingWindowLayers} of ${m.layers} layers; llm-foundry's attn_config.sliding_window_size windows every layer`;
  if (m.ropeScaling !== undefined) return `llm-foundry's rotary scaling (attn_config.rope_hf_config) is none, linear or dynamic, and ${m.name} uses ${describeScaling(m.ropeScaling)}`;
  // MPT's no_bias is all or nothing (llmfoundry/models/mpt/configuration_mpt.py); its qk_ln and
  // qk_gn normalise with the block's LayerNorm/RMSNorm over other groupings than a head's own.
  if (m.qkvBias) return `${m.name} has biases on Q, K and V only; llm-foundry's MPT has biases on every linear layer or none (no_bias)`;
  if (m.qkNorm) return `${m.name} normalises queries and keys (RMSNorm over ${m.qkNorm === "head" ? "each head" : "the projections"}), which paraplan does not export to llm-foundry's MPT`;
  return null;
}

/** Why the YAML cannot run what was priced whatever the plan and model, or null: Composer's FSDP
 *  reduces each wrapped block's gradients during the backward (FSDP's post-backward hooks) and its
 *  fsdp_config has no setting to hold them to its end. */
function settingRefusal(ctx: Omit<EngineContext, "plan">): string | null {
  if (!ctx.training.overlapGradReduce)
    return "--no-grad-overlap: llm-foundry's FSDP (Composer) reduces each block's gradients during the backward and fsdp_config has no setting to wait for its end; drop the flag";
  return null;
}

/** A model or setting llm-foundry cannot run, checked before the export searches. */
const modelRefusal = (ctx: Omit<EngineContext, "plan">) => mptModelRefusal(ctx) ?? settingRefusal(ctx);

function translate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  const refused = llmFoundryRefusal(plan)?.reason ?? modelRefusal(ctx)
    ?? blockExportRefusal(plan, "llm-foundry", "fsdp_config.activation_checkpointing wraps every MPT block");
  if (refused) return { kind: "refused", reason: refused };
  if (ctx.training.optimizerStates === "bf16") return { kind: "refused", reason: "--optimizer-states bf16: llm-foundry's decoupled_adamw keeps its moments in the parameters' fp32; drop the flag" };
  const notes: string[] = [];
  if (ctx.model.ropeScalingNotExported) notes.push(`the model's ${ctx.model.ropeScalingNotExported} rotary scaling is not written: set attn_config.rope_hf_config yourself`);
  // ALiBi models are written as MPT trains them, without biases (no_bias); the planner counts a
  // GPT-style model's biases either way (planner/model.ts layerSmallParams: ~0.1 % of a layer).
  if (ctx.model.positional === "alibi") notes.push("no_bias: true, as MPT trains its ALiBi models; a model with biases in its linear layers (BLOOM) wants no_bias: false");
  // One rank, or ZeRO-1 (no FSDP strategy shards optimizer states alone): the nearest strategy.
  if (plan.zero === 1) return { kind: "nearest", plan: { ...plan, zero: 2 }, notes: [...notes, "ZeRO-1 has no FSDP sharding strategy (FULL_SHARD, SHARD_GRAD_OP, NO_SHARD); nearest: SHARD_GRAD_OP, i.e. ZeRO-2"] };
  return { kind: "exact", notes };
}

/** The fsdp engine's own space: data parallel only, ZeRO 0, 2, 3, whole-block recompute. */
function overlays(): Fixed[] {
  return ([0, 2, 3] as const).map((zero) => ({ tp: 1, pp: 1, cp: 1, zero }));
}

type Yaml = Record<string, unknown>;

/** model: llm-foundry's MPT with the model's widths, attention, MLP and positions. */
function modelSection(ctx: EngineContext): Yaml {
  const { model: m, training: t } = ctx;
  const d = m.hidden;
  const attn: Yaml = { attn_impl: t.fusedAttention ? "flash" : "torch" };
  if (m.kvHeads !== m.heads) Object.assign(attn, { attn_type: "grouped_query_attention", kv_n_heads: m.kvHeads });
  if (m.positional === "alibi") attn.alibi = true;
  if (m.positional === "rope") Object.assign(attn, { rope: true, rope_theta: ropeThetaOf(m) });
  if (m.slidingWindow !== undefined) attn.sliding_window_size = m.slidingWindow;
  if (m.dropout) attn.attn_pdrop = 0.1;
  const ffn: Yaml = { ffn_type: m.mlp === "gelu" ? "mptmlp" : "mptglu" };
  if (m.mlp === "swiglu") ffn.ffn_act_fn = { name: "silu" };
  // resolve_ffn_hidden_size: int(d_model · expansion_ratio), or ffn_hidden_size when given.
  const ratio = m.ffnHidden / d;
  const width = Math.floor(d * ratio) === m.ffnHidden ? { expansion_ratio: ratio } : {};
  if (!("expansion_ratio" in width)) ffn.ffn_hidden_size = m.ffnHidden;
  return {
    name: "mpt_causal_lm",
    init_device: "meta",
    d_model: d,
    n_heads: m.heads,
    n_layers: m.layers,
    ...(m.headDim !== undefined ? { head_dim: m.headDim } : {}),
    ...width,
    max_seq_len: t.seqLen,
    vocab_size: m.vocab,
    // GPT-style (learned positions) models carry biases and LayerNorm, Llama-style RMSNorm and no
    // biases (planner/model.ts's count); ALiBi models as MPT trains them, without biases.
    no_bias: m.positional !== "learned",
    norm_type: llamaStyle(m) ? "rmsnorm" : "low_precision_layernorm",
    norm_eps: normEpsOf(m),
    learned_pos_emb: m.positional === "learned",
    tie_word_embeddings: m.tiedEmbeddings,
    ...(m.dropout ? { resid_pdrop: 0.1, emb_pdrop: 0.1 } : {}),
    // amp_fp8 runs Transformer Engine's linear layers (fc_type te).
    ...(t.precision === "fp8" ? { fc_type: "te" } : {}),
    attn_config: attn,
    ffn_config: ffn,
  };
}

function yamlFile(ctx: EngineContext): string {
  const { model: m, plan: p, training: t, hw } = ctx;
  const body: Yaml = {
    max_seq_len: t.seqLen,
    model: modelSection(ctx),
    // Adam with fp32 states, as paraplan prices every plan
    optimizer: { name: "decoupled_adamw" },
    global_train_batch_size: t.globalBatch,
    device_train_microbatch_size: p.microBatch,
    precision: PRECISION[t.precision],
    fsdp_config: {
      sharding_strategy: SHARDING[p.zero],
      // Composer's DEFAULT reduces gradients in fp32, PURE in bf16: what the prediction assumed
      // (the engine's dataParallel.gradReduceBytes).
      mixed_precision: engineGradReduceBytes(t) === 4 ? "DEFAULT" : "PURE",
      activation_checkpointing: p.recompute === "full",
      activation_cpu_offload: false,
      limit_all_gathers: true,
    },
  };
  const header = [
    `llm-foundry training YAML: ${m.name} on ${t.gpus} x ${hw.gpuName}`,
    `plan: ${describe(p)}`,
    `names from ${ctx.release.label}`,
    "add your tokenizer, train_loader, scheduler and max_duration (data and schedule: no step time depends on them)",
    `run on every node: composer scripts/train/train.py <this file>  (${t.gpus} ranks)`,
  ];
  return header.map((l) => `# ${l}`).join("\n") + "\n" + stringify(body, { lineWidth: 0 });
}

function files(ctx: EngineContext): ExportFile[] {
  return [{ name: "llm-foundry.yaml", content: yamlFile(ctx) }];
}

export const llmFoundry: Engine = { format: "llm-foundry", releases: LLM_FOUNDRY_RELEASES, overlays, translate, modelRefusal, files };
