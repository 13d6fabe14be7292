// Megatron-LM: the pretrain_gpt.py arguments of a model and plan.
// Every flag below is defined in megatron/training/arguments.py of the release named; the group
// comments give the function that adds it. Lists recorded in test/export/fixtures/megatron-lm-*.txt.
//   core_r0.14: NVIDIA/Megatron-LM main @000c4ac (2025, after core v0.14.0)
//   core_v0.7:  NVIDIA/Megatron-LM @307dcf37 (2024), distributed arguments identical to core_v0.7.0
import { shellQuote } from "./torchrun.js";
import { type Fixed, type Hardware, type Plan, type Training, engineGradReduceBytes, gpuGeneration, onEngine, withOverrides } from "../../planner/index.js";
import { megatronRefusal } from "../../planner/layout/capabilities.js";
import { overlapsParamGather } from "../../planner/cost/engine-terms.js";
import { DEFAULT_MOE_IMBALANCE } from "../../planner/cost/moe-facts.js";
import { DEFAULT_PROFILE } from "../plan-request.js";
import {
  type Engine,
  type EngineContext,
  type Release,
  type Translation,
  argsFile,
  capabilityContext,
  describe,
  layersPerStage,
  llamaStyle,
  nodeLayout,
} from "./engine-plan.js";
import { megatronModelRefusal, normEpsOf, ropeThetaOf } from "./model-facts.js";
import { megatronMoeArgs, megatronMoeRefusal } from "./moe-args.js";
import { engineMoeArgs, engineMoeRefusal } from "./megatron-moe-engine.js";
import { megatronCpArgs, megatronCpTrainingRefusal } from "./cp-args.js";
import { megatronModulesArgs, megatronModulesNote, megatronModulesRefusal } from "./recompute-modules-export.js";
import { megatronFullRecomputeArgs } from "./recompute-block-export.js";

export const MEGATRON_RELEASES: readonly Release[] = [
  { id: "core_r0.14", label: "Megatron-LM core_r0.14 line (megatron/training/arguments.py at NVIDIA/Megatron-LM main @000c4ac, 2025)" },
  { id: "core_v0.7", label: "Megatron-LM core_v0.7.0 (megatron/training/arguments.py at NVIDIA/Megatron-LM @307dcf37, 2024)" },
];

import { megatronStageArgs } from "./megatron-stages.js";

type Arg = [string, ...string[]];
const n = (x: number) => String(x);

/** The arguments, grouped as arguments.py groups them. */
export function megatronArgs(ctx: EngineContext): Arg[] {
  const { model: m, plan: p, training: t, release } = ctx;
  const recent = release.id === "core_r0.14";
  const a: Arg[] = [];
  // _add_network_size_args
  a.push(["--num-layers", n(m.layers)], ["--hidden-size", n(m.hidden)], ["--ffn-hidden-size", n(m.ffnHidden)]);
  a.push(["--num-attention-heads", n(m.heads)]);
  if (m.headDim !== undefined) a.push(["--kv-channels", n(m.headDim)]);
  if (m.kvHeads !== m.heads) a.push(["--group-query-attention"], ["--num-query-groups", n(m.kvHeads)]);
  a.push(["--max-position-embeddings", n(t.seqLen)]);
  if (m.positional === "rope") a.push(["--position-embedding-type", "rope"]);
  // The rotary base and Llama 3.1 scaling (core_r0.14 only; translate() refuses what core_v0.7 cannot say).
  const theta = ropeThetaOf(m);
  if (theta !== undefined && recent) a.push(["--rotary-base", n(theta)]);
  if (m.ropeScaling !== undefined) a.push(["--use-rope-scaling"], ["--rope-scaling-factor", n(m.ropeScaling.factor)]);
  if (m.mlp === "swiglu") a.push(["--swiglu"]);
  if (llamaStyle(m)) a.push(["--normalization", "RMSNorm"]);
  a.push(["--norm-epsilon", n(normEpsOf(m))]);
  if (!m.tiedEmbeddings) a.push(["--untie-embeddings-and-output-weights"]);
  // _add_moe_args, MLA (_add_network_size_args), _add_mtp_args; the expert layout (_add_distributed_args)
  // (the engine's dispatcher and all-to-all overlap, megatron-moe-engine.ts)
  const comm = engineMoeArgs(m, p, t);
  a.push(...megatronMoeArgs(m, p, recent ? "core_r0.14" : "core_v0.7", t.precision, comm.dispatcher), ...comm.overlap);
  // _add_regularization_args: Megatron's dropouts default to 0.1; Llama-style models train without.
  if (!m.dropout) a.push(["--attention-dropout", "0"], ["--hidden-dropout", "0"]);
  // _add_data_args
  a.push(["--seq-length", n(t.seqLen)]);
  // _add_distributed_args
  a.push(["--tensor-model-parallel-size", n(p.tp)], ["--pipeline-model-parallel-size", n(p.pp)]);
  a.push(...megatronStageArgs(p));
  if (p.vpp > 1)
    a.push(recent ? ["--num-virtual-stages-per-pipeline-rank", n(p.vpp)] : ["--num-layers-per-virtual-pipeline-stage", n(layersPerStage(m, p))]);
  a.push(...megatronCpArgs(p, release.id));
  // The distributed optimizer: ZeRO-1 itself, and beside Megatron-FSDP the optimizer that copies
  // its updated fp32 main weights back into the weights the forward runs (without it
  // get_megatron_optimizer builds Float16OptimizerWithFloat16Params: megatron/core/optimizer/
  // __init__.py:404-450 @ core_r0.14.0; docs/source/api-guide/custom_fsdp.md lists both flags).
  if (p.zero >= 1) a.push(["--use-distributed-optimizer"]);
  // ZeRO-2/3 as Megatron-FSDP (core_r0.14; translate() refuses it elsewhere): gradients, and with
  // ZeRO-3 the parameters too, sharded; it checkpoints only in fsdp_dtensor format (validate_args).
  if (p.zero >= 2)
    a.push(["--use-megatron-fsdp"], ["--data-parallel-sharding-strategy", p.zero === 2 ? "optim_grads" : "optim_grads_params"], ["--ckpt-format", "fsdp_dtensor"]);
  if (t.overlapGradReduce) a.push(["--overlap-grad-reduce"]);
  // The updated weights' all-gather overlapping the next forward, as the engine predicts it
  // (dataParallel.overlapParamGather; off by default in Megatron): the distributed optimizer's,
  // which validate_args lets run only beside --overlap-grad-reduce (arguments.py @ core_v0.7.0,
  // core_r0.14.0).
  if (p.zero === 1 && t.overlapGradReduce && overlapsParamGather(t.engine)) a.push(["--overlap-param-gather"]);
  // _add_training_args
  if (p.sequenceParallel) a.push(["--sequence-parallel"]);
  // Predicted with the engine's tensor-parallel overlap switched on (plan --tp-comm-overlap).
  if (p.sequenceParallel && t.engine?.tensorParallel.overlapNeedsSp) a.push(["--tp-comm-overlap"]);
  // Predicted with 16-bit gradient reduction under bf16 (plan --grad-reduce-in-bf16; core_r0.14
  // _add_mixed_precision_args; fp16 runs reduce in 16 bits without it).
  if (recent && t.precision !== "fp16" && engineGradReduceBytes(t) === 2) a.push(["--grad-reduce-in-bf16"]);
  // (every layer one by one, or each chunk's first N where the engine re-runs those: recompute-block-export.ts)
  a.push(...megatronFullRecomputeArgs(p));
  // (with the modules it re-runs where not Megatron's default: recompute-modules-export.ts)
  if (p.recompute === "selective") a.push(["--recompute-granularity", "selective"], ...megatronModulesArgs(p, t));
  a.push(["--micro-batch-size", n(p.microBatch)], ["--global-batch-size", n(t.globalBatch)]);
  if (llamaStyle(m)) a.push(["--disable-bias-linear"]);
  if (llamaStyle(m) && m.qkvBias) a.push(["--add-qkv-bias"]);
  // A norm over each head's queries and keys; with multi-latent attention the same flag builds the
  // RMSNorms on the compressed query and key/value latents (linear_q_up_proj and linear_kv_up_proj
  // as layer-norm linears, megatron/core/models/gpt/gpt_layer_specs.py:127-137 @000c4ac), which
  // DeepSeek's MLA has and planner/moe.ts mlaReplicatedParams counts.
  if (m.qkNorm === "head" || m.mla !== undefined) a.push(["--qk-layernorm"]);
  // Attention: core_r0.14 _add_network_size_args --attention-backend; core_v0.7 _add_training_args
  // --use-flash-attn, and for unfused attention Megatron Core's local spec: leaving
  // --use-flash-attn out does not unfuse Transformer Engine's layers (TEDotProductAttention picks a
  // fused kernel), while --transformer-impl local builds get_gpt_layer_local_spec, whose
  // DotProductAttention materialises the scores (megatron/core/transformer/dot_product_attention.py
  // torch.baddbmm and FusedScaleMaskSoftmax @307dcf37).
  // core_v0.7 builds Megatron Core's GPTModel only with --use-mcore-models (pretrain_gpt.py
  // model_provider @307dcf37); without it the legacy model, whose Transformer Engine layer is
  // built without num_gqa_groups (grouped-query attention ignored) and without experts, and which
  // --overlap-param-gather and context parallel refuse (validate_args, model_provider).
  if (!recent) a.push(["--use-mcore-models"]);
  // (latent attention: cuDNN's fused kernel, as Megatron's MLA tests and recipes run it, MLA_FUSED_NOTE)
  if (recent) a.push(["--attention-backend", t.fusedAttention ? (m.mla !== undefined ? "fused" : "flash") : "unfused"]);
  else if (t.fusedAttention) a.push(["--use-flash-attn"]);
  else a.push(["--transformer-impl", "local"]);
  // _add_mixed_precision_args; fp8 from _add_transformer_engine_args (dest fp8), on top of bf16.
  // Under --fp16 Megatron reduces 16-bit gradients unless told to accumulate and reduce them in
  // fp32 (arguments.py: forced on only under bf16); predicted with fp32 reduction, say so.
  if (t.precision === "fp16") {
    a.push(["--fp16"]);
    if (engineGradReduceBytes(t) !== 2) a.push(["--accumulate-allreduce-grads-in-fp32"]);
  } else a.push(["--bf16"]);
  if (t.precision === "fp8") a.push(["--fp8-format", "hybrid"]);
  // bf16 Adam moments (plan --optimizer-states bf16): the precision-aware optimizer (core_r0.14
  // _add_training_args; translate() keeps it to the distributed optimizer it needs).
  if (t.optimizerStates === "bf16") a.push(["--use-precision-aware-optimizer"], ["--exp-avg-dtype", "bf16"], ["--exp-avg-sq-dtype", "bf16"]);
  return a;
}

const modelRefusal = (ctx: Omit<EngineContext, "plan">) => megatronModelRefusal(ctx.model, ctx.release.id === "core_r0.14" ? "core_r0.14" : "core_v0.7");

function translate(plan: Plan, ctx: Omit<EngineContext, "plan">): Translation {
  const release = ctx.release.id === "core_r0.14" ? "core_r0.14" : "core_v0.7";
  const model = megatronModelRefusal(ctx.model, release) ?? megatronMoeRefusal(ctx.model, plan, release, ctx.training.precision) ?? engineMoeRefusal(ctx.model, plan, release, ctx.training);
  if (model) return { kind: "refused", reason: model };
  // core_v0.7 has no --grad-reduce-in-bf16: its bf16 runs reduce fp32 gradients (arguments.py).
  if (release === "core_v0.7" && ctx.training.precision !== "fp16" && engineGradReduceBytes(ctx.training) === 2)
    return { kind: "refused", reason: "--grad-reduce-in-bf16: Megatron-LM core_v0.7 has no such flag (its bf16 runs reduce fp32 gradients); use --release core_r0.14" };
  const refused = megatronRefusal(plan, capabilityContext(ctx.training, ctx.hw, ctx.release));
  if (refused) return { kind: "refused", reason: refused.reason };
  const moments = bf16MomentsRefusal(plan, ctx.training, release);
  if (moments) return { kind: "refused", reason: moments };
  // Megatron-FSDP's optim_grads (ZeRO-2) asserts an overlapped reduce-scatter: MegatronFSDP.__init__
  // `assert self.ddp_config.overlap_grad_reduce` for every strategy that shards gradients
  // (megatron/core/distributed/fsdp/src/megatron_fsdp/megatron_fsdp.py:270 @ core_v0.14.0; main
  // @000c4ac the same), so the run without --overlap-grad-reduce stops at start.
  if (plan.zero === 2 && !ctx.training.overlapGradReduce)
    return { kind: "refused", reason: "--no-grad-overlap with ZeRO-2: Megatron-FSDP's optim_grads asserts an overlapped gradient reduce-scatter (MegatronFSDP.__init__, megatron_fsdp.py:270 @ core_v0.14.0), so the run would stop at start; drop --no-grad-overlap, or use ZeRO 0, 1 or 3" };
  const cp = megatronCpTrainingRefusal(ctx.model, plan, ctx.training) ?? megatronModulesRefusal(ctx.model, plan, ctx.training, release);
  if (cp) return { kind: "refused", reason: cp };
  if (release === "core_v0.7" && !ctx.training.fusedAttention) return localImpl(ctx.model, plan, ctx.training);
  const notes: string[] = [];
  if (ctx.model.mla !== undefined && ctx.training.fusedAttention) notes.push(MLA_FUSED_NOTE);
  const modules = megatronModulesNote(plan, ctx.training);
  if (modules) notes.push(modules);
  // --rope-scaling-factor is parsed but not passed on: GPTModel keeps its default factor of 8
  // (gpt_builders.py:76-92 @000c4ac builds it with rope_scaling only; gpt_model.py:98).
  const factor = ctx.model.ropeScaling?.factor;
  if (factor !== undefined && factor !== 8)
    notes.push(`--rope-scaling-factor ${factor}: Megatron-LM's gpt_builders.py does not pass it to GPTModel, which scales by its default 8 (positions only; the cost is the same): pass rope_scaling_factor in your model builder`);
  return notes.length > 0 ? { kind: "exact", notes } : { kind: "exact" };
}

/** Latent attention's fused attention is cuDNN's (--attention-backend fused: NVTE_FUSED_ATTN=1,
 *  NVTE_FLASH_ATTN=0, megatron/core/models/common/language_module/language_module.py:107-109
 *  @000c4ac), as Megatron's own MLA runs it: tests/unit_tests/transformer/
 *  test_multi_latent_attention.py:227-228 sets those two variables for every GPU test, and the
 *  DeepSeek-V3 proxy recipe NVTE_FUSED_ATTN 1 (tests/functional_tests/test_cases/mixtral/
 *  deepseekv3_proxy_flex_tp1pp4emp16etp1cp1_release/model_config.yaml:8 @000c4ac). flash would set
 *  NVTE_FUSED_ATTN=0 (language_module.py:103-105) and leave MLA's query/key heads (qk_nope +
 *  qk_rope, 192 for DeepSeek) and value heads (128) of unequal width to FlashAttention, whose
 *  kernels take one head width for q, k and v. */
const MLA_FUSED_NOTE =
  "multi-latent attention: --attention-backend fused (cuDNN), not flash, as Megatron's MLA tests and DeepSeek-V3 recipe run it (NVTE_FUSED_ATTN=1, NVTE_FLASH_ATTN=0: tests/unit_tests/transformer/test_multi_latent_attention.py:227-228, tests/functional_tests/test_cases/mixtral/deepseekv3_proxy_flex_tp1pp4emp16etp1cp1_release/model_config.yaml:8 @000c4ac); flash would turn cuDNN off (language_module.py:103-105) and leave the query/key heads and the narrower value heads to FlashAttention, which takes one head width for q, k and v";

/** core_v0.7's unfused attention is --transformer-impl local (megatronArgs): Megatron Core's local
 *  spec (get_gpt_layer_local_spec @307dcf37), whose linears are Megatron's own ColumnParallelLinear
 *  and RowParallelLinear, without Transformer Engine's fp8 or its userbuffers (--tp-comm-overlap
 *  overlaps Transformer Engine's GEMMs only), and whose FusedLayerNorm runs LayerNorm only
 *  (megatron/core/fusions/fused_layer_norm.py:67-69 @307dcf37). */
function localImpl(model: EngineContext["model"], plan: Plan, t: Training): Translation {
  const unfused = "--attention unfused on core_v0.7 is --transformer-impl local (Transformer Engine's layers pick a fused kernel)";
  if (llamaStyle(model))
    return { kind: "refused", reason: `${unfused}, whose FusedLayerNorm runs LayerNorm only, not ${model.name}'s RMSNorm (megatron/core/fusions/fused_layer_norm.py @ core_v0.7.0); use --attention fused, or --release core_r0.14 (--attention-backend unfused)` };
  if (t.precision === "fp8") return { kind: "refused", reason: `${unfused}, whose linear layers are Megatron's own, without fp8 (Transformer Engine's have it; get_gpt_layer_local_spec @ core_v0.7.0); use --attention fused, or --release core_r0.14 (--attention-backend unfused)` };
  if (plan.sequenceParallel && t.engine?.tensorParallel.overlapNeedsSp)
    return { kind: "refused", reason: `${unfused}, whose GEMMs --tp-comm-overlap does not overlap (Transformer Engine's userbuffers); drop --tp-comm-overlap, use --attention fused, or --release core_r0.14` };
  return { kind: "exact", notes: ["unfused attention on core_v0.7: --transformer-impl local, Megatron Core's local layers (DotProductAttention materialises the scores, as predicted); their other kernels are priced as Transformer Engine's"] };
}

/** bf16 Adam moments run in Megatron's precision-aware optimizer (Transformer Engine's FusedAdam
 *  exp_avg_dtype / exp_avg_sq_dtype), which OptimizerConfig asserts only beside the distributed
 *  optimizer (megatron/core/optimizer/optimizer_config.py at NVIDIA/Megatron-LM @000c4ac); core_v0.7
 *  has no such optimizer. */
function bf16MomentsRefusal(p: Plan, t: EngineContext["training"], release: "core_r0.14" | "core_v0.7"): string | null {
  if (t.optimizerStates !== "bf16") return null;
  if (release === "core_v0.7") return "--optimizer-states bf16: Megatron-LM core_v0.7 has no precision-aware optimizer (--exp-avg-dtype); use --release core_r0.14";
  if (p.zero !== 1) return `--optimizer-states bf16: Megatron's precision-aware optimizer runs only with the distributed optimizer (ZeRO-1; optimizer_config.py asserts it), and the plan has ZeRO-${p.zero}; fix --zero 1`;
  return null;
}

/** Megatron-FSDP's optim_grads_params (ZeRO-3) overlaps the gradient reduce-scatter whatever the
 *  arguments say: MegatronFSDP.__init__ sets ddp_config.overlap_grad_reduce (and
 *  overlap_param_gather) True for it (megatron/core/distributed/fsdp/src/megatron_fsdp/
 *  megatron_fsdp.py:263-266 @ core_v0.14.0). A training without overlap (--no-grad-overlap) is
 *  therefore searched, written (--overlap-grad-reduce) and predicted overlapped at ZeRO-3, as
 *  Megatron runs it; read-megatron.ts reads such a file so. */
function runsWith(dims: Pick<Fixed, "zero" | "pp">, t: Training, release: Release): { training: Training; note: string } | undefined {
  if (release.id !== "core_r0.14" || dims.zero !== 3 || t.overlapGradReduce) return undefined;
  const training = t.engine ? onEngine(t, withOverrides(t.engine, { overlapGradReduce: true })) : { ...t, overlapGradReduce: true };
  return { training, note: "--no-grad-overlap does not hold under Megatron-FSDP's optim_grads_params (ZeRO-3): MegatronFSDP.__init__ turns overlap_grad_reduce on (megatron_fsdp.py:263-266 @ core_v0.14.0); written with --overlap-grad-reduce and predicted overlapped" };
}

function overlays(release: Release, _m: unknown, t: Training): Fixed[] {
  const out: Fixed[] = [];
  for (const zero of [0, 1] as const) for (const schedule of ["1f1b", "interleaved"] as const) out.push({ zero, schedule });
  // ZeRO-2/3 as Megatron-FSDP (core_r0.14), which runs without a pipeline (capabilities.ts): the
  // export searched ZeRO 0 and 1 only and wrote a slower plan than plan's first (llama3-8b on 64
  // GPUs: tp 2 ZeRO-1 at 489k tokens/s for tp 1 ZeRO-2 at 504k).
  // (ZeRO-2 only with the reduction overlapped, which its Megatron-FSDP asserts: translate)
  if (release.id === "core_r0.14") for (const zero of t.overlapGradReduce ? ([2, 3] as const) : ([3] as const)) out.push({ zero, pp: 1 });
  return out;
}

/** torchrun's per-node and node counts for the plan's GPUs, as the torchrun export writes them. */
function launcherWords(t: EngineContext["training"], hw: EngineContext["hw"]): string {
  const l = nodeLayout(t, hw);
  return typeof l === "string" ? "<launcher flags>" : `--nproc-per-node ${l.perNode} --nnodes ${l.nodes}`;
}

/** The flags `plan --from megatron-args.txt` needs to price the plan as exported: the GPU count
 *  (Megatron-LM takes it from torchrun's world), and those of the prediction no argument states,
 *  where they are not plan's defaults: the hardware profile (src/plan-request.ts DEFAULT_PROFILE)
 *  and the experts' load imbalance (planner/cost/moe-facts.ts DEFAULT_MOE_IMBALANCE, a pricing
 *  assumption of the router, not a Megatron-LM argument). */
function readBack(ctx: EngineContext): { flag: string; what: string }[] {
  const t = ctx.training;
  const out = [{ flag: `--gpus ${t.gpus}`, what: "the GPU count" }];
  const profile = ctx.options.profileName;
  // (a path with spaces quoted, so the read-back line pastes: QA)
  if (profile !== undefined && profile !== DEFAULT_PROFILE) out.push({ flag: `--profile ${shellQuote(profile)}`, what: "the hardware" });
  if (ctx.model.moe !== undefined && t.moeImbalance !== undefined && t.moeImbalance !== DEFAULT_MOE_IMBALANCE)
    out.push({ flag: `--moe-imbalance ${t.moeImbalance}`, what: "the expert load imbalance priced" });
  return out;
}
const readBackFlags = (ctx: EngineContext) => readBack(ctx).map((r) => r.flag).join(" ");
const readBackWhat = (ctx: EngineContext) => {
  const w = readBack(ctx).map((r) => r.what);
  return w.length === 1 ? w[0]! : `${w.slice(0, -1).join(", ")} or ${w.at(-1)!}`;
};

function files(ctx: EngineContext) {
  const { model: m, plan: p, training: t, hw } = ctx;
  const header = [
    `Megatron-LM pretrain_gpt.py arguments: ${m.name} on ${t.gpus} x ${hw.gpuName}${ctx.options.profileName ? ` (${ctx.options.profileName})` : ""}`,
    `plan: ${describe(p)}`,
    `names from ${ctx.release.label}`,
    "add your data, tokenizer, learning-rate and checkpoint arguments, then on each node:",
    `  torchrun ${launcherWords(t, hw)} <rendezvous flags> pretrain_gpt.py $(grep -v '^#' megatron-args.txt)`,
    // The arguments have no GPU count (Megatron-LM takes it from torchrun's world): a read-back
    // without it takes --gpus or the model file's.
    `plan --from megatron-args.txt reads this plan back with ${readBackFlags(ctx)} (the arguments do not state ${readBackWhat(ctx)})`,
  ];
  header.push(...connectionsNote(p, ctx.release.id === "core_r0.14", ctx.hw));
  return [{ name: "megatron-args.txt", content: argsFile(header, megatronArgs(ctx)) }];
}

/** What validate_args asks of CUDA_DEVICE_MAX_CONNECTIONS. core_r0.14: tensor or context parallel
 *  assert it is 1 where get_device_arch_version() < 10, i.e. torch's compute-capability major
 *  (megatron/training/utils.py: "8: Ampere, 9: Hopper, 10: Blackwell"), Megatron-FSDP asserts it is
 *  not (and makes the former a warning) (megatron/training/arguments.py:584, 635, 850-875 @
 *  core_r0.14.0). So the profile's GPU decides: Blackwell (B200, GB200: major 10) is asked nothing,
 *  the MI300X is, since ROCm's torch reports its gfx942 as major 9. core_v0.7: every run raises
 *  without 1, sequence parallel or not, since the async tensor-parallel all-reduce is on by default
 *  (arguments.py:450-461, --no-async-tensor-model-parallel-allreduce @307dcf37). */
function connectionsNote(p: Plan, recent: boolean, hw: Pick<Hardware, "gpuName">): string[] {
  if (!recent) return ["Megatron-LM core_v0.7 needs CUDA_DEVICE_MAX_CONNECTIONS=1 in the environment (validate_args)"];
  if (p.zero >= 2) return ["Megatron-FSDP needs CUDA_DEVICE_MAX_CONNECTIONS unset or above 1 in the environment (validate_args)"];
  if (p.tp <= 1 && p.cp <= 1) return [];
  const what = p.tp > 1 ? "tensor" : "context";
  const generation = gpuGeneration(hw);
  if (BLACKWELL.has(generation)) return [];
  if (generation.startsWith("MI")) return [`${what} parallel needs CUDA_DEVICE_MAX_CONNECTIONS=1 in the environment on ${generation} too: validate_args asserts it below compute capability 10, and ROCm's torch reports gfx942 as 9.4`];
  return [`${what} parallel needs CUDA_DEVICE_MAX_CONNECTIONS=1 in the environment on Hopper and earlier GPUs (validate_args)`];
}

/** GPU generations of compute capability 10 (Blackwell), where core_r0.14 asks nothing of
 *  CUDA_DEVICE_MAX_CONNECTIONS for tensor or context parallel. */
const BLACKWELL: ReadonlySet<string> = new Set(["B100", "B200", "GB200"]);

export const megatron: Engine = { format: "megatron", releases: MEGATRON_RELEASES, overlays, translate, modelRefusal, files, runsWith };
