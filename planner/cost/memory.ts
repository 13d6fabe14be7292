// Memory per GPU for one pipeline stage.
import { blendedLayerBytes } from "./block-recompute.js";
import type { Hardware, MemoryBreakdown, ModelSpec, Plan, Training } from "../types.js";
import { attentionSplitParams, layerMatrixParams, paddedVocab, rankParamSplit } from "../model.js";
import { activationOptions } from "./activations.js";
import { heldLayerActivationBytes, heldWorkingBytes, moeBufferBytes } from "./moe-memory.js";
import { expertParams, moeLayersInRanges, mtpCount, sharedExpertParams } from "../moe.js";
import { type RankHoldings, rankHeld, rankHoldings } from "../layout/stages.js";
import { optimizerBytesOf } from "./moe-facts.js";
import { edpOf } from "../layout/groups.js";
import { inFlightLayers } from "./pipeline.js";
import { type StateBytes, bf16Optimizer, engineBucketBytes, gradBufferBytes, gradReduceBytes, fp8ExtraBytes, headInputBytes, keptOutputBytes, logitBytes, logitShards, prefetchLayers, stateBytes } from "./engine-terms.js";
import { inFlightPerChunk } from "../layout/stages.js";
import { cpBufferBytes } from "./context.js";

/** ZeRO's own accounting (Rajbhandari et al. 2020 §3): fp32 Adam states with the master, 16-bit
 *  gradient and parameter shards. */
const ZERO_STATES: StateBytes = { optimizer: 12, grad: 2, shardedGrad: 2, shardedMaster: false, bf16Optimizer: false };

/** BF16_Optimizer's gradients per parameter: the 16-bit ones autograd writes (2) and the fp32
 *  copy it accumulates them in, both whole on every rank (fp32_groups_gradients_flat,
 *  deepspeed/runtime/bf16_optimizer.py @ v0.6.5). */
const BF16_OPTIMIZER_GRADS = 2 + 4;

/** What the step's transients add at the step's end over the activations then freed, for a rank
 *  holding `dense` parameters sharded over dpcp and `expert` ones over edp (its largest parameter
 *  group G: the dense or the expert ones, sharded over d):
 *  - BF16_Optimizer's all-reduce casts each parameter group's flat fp32 gradients to the
 *    reduction's type whole (engine.py allreduce_bucket, tensor.to(communication_data_type) @
 *    v0.6.5 and v0.16: a group is one flat tensor, and buffered_allreduce_fallback cuts its buckets
 *    between tensors only), 2 bytes a parameter of G in bf16, nothing where it reduces in fp32;
 *  - Megatron's optimizer over 16-bit gradients (fp16 without fp32 accumulation) hands the step an
 *    fp32 copy of each gradient it steps (optimizer.py _copy_model_grads_to_main_grads:
 *    main_param.grad = main_grad.float(), @ v2.6 and core_r0.14.0; the distributed optimizer its
 *    shard's), 4 bytes a parameter it steps (Engine.dataParallel.fp32GradCopyAtStep);
 *  - DeepSpeed's optimizers build each group's fp32 gradient by flattening its 16-bit ones, group
 *    by group, each group's fp32 gradient kept to the step's end (Engine.dataParallel.
 *    fp32GradFlattenAtStep; deepSpeedFlattenBytes below).
 *  Zero elsewhere. */
export function reduceTransientBytes(t: Pick<Training, "engine" | "precision">, zero: number, dense: number, expert: number, dpcp: number, edp: number, activations: number): number {
  const g = Math.max(dense, expert);
  const cast = bf16Optimizer(t, zero) && gradReduceBytes(t) !== 4 ? 2 * g : 0;
  const copy = zero <= 1 && t.engine?.dataParallel.fp32GradCopyAtStep === true && gradBufferBytes(t) === 2 ? 4 * ownedParams(zero, dense, expert, dpcp, edp) : 0;
  const flatten = t.engine?.dataParallel.fp32GradFlattenAtStep === true ? deepSpeedFlattenBytes(t.precision, zero, dense, expert, dpcp, edp) : 0;
  return Math.max(0, Math.max(cast, copy, flatten) - activations);
}

/** DeepSpeed's step flatten over the states of its ZeRO stage, its parameter groups in order: the
 *  dense ones (Megatron-DeepSpeed's weight-decayed group, nearly all of them, then the biases and
 *  norms, counted with it), then the experts' (moe/utils.py split_params_into_different_moe_groups_
 *  for_optimizer appends them), G parameters of a group sharded over d (deepspeed @ v0.6.5):
 *  - ZeRO-0 under fp16, FP16_Optimizer: _flatten_dense_tensors([p.grad.to(fp32) for p in group])
 *    holds the per-tensor fp32 copies and the flat tensor, 8G; then the copies and the group's
 *    16-bit gradients are freed and its flat fp32 gradient kept, 2G more than the states
 *    (fp16/fused_optimizer.py step);
 *  - ZeRO-1: first frees the 16-bit gradients outside the rank's partition (free_grad_in_param_list,
 *    2G(1 − 1/d) of the whole ones its states count), then flatten(averaged_gradients).to(fp32)
 *    holds the 16-bit flat shard and its fp32 cast, 6G/d; the shard's 16-bit gradients freed, its
 *    fp32 one (4G/d) kept (zero/stage_1_and_2.py step);
 *  - ZeRO-2: the same flatten over the partition its states hold (2G/d, a buffer of its own that
 *    stays), 6G/d, its fp32 one kept (4G/d).
 *  The peak over the states: the largest of the groups' flattens over what the earlier ones kept. */
function deepSpeedFlattenBytes(precision: Training["precision"], zero: number, dense: number, expert: number, dpcp: number, edp: number): number {
  if ((zero === 0 && precision !== "fp16") || zero > 2) return 0;
  let held = 0;
  let peak = 0;
  for (const [g, d] of [[dense, dpcp], [expert, edp]] as const) {
    if (g <= 0) continue;
    if (zero === 0) {
      peak = Math.max(peak, held + 8 * g);
      held += 2 * g;
    } else if (zero === 1) {
      peak = Math.max(peak, held - 2 * g * (1 - 1 / d) + (6 * g) / d);
      held += (4 * g) / d - 2 * g;
    } else {
      peak = Math.max(peak, held + (6 * g) / d);
      held += (4 * g) / d;
    }
  }
  return Math.max(0, peak);
}

/** The parameters a rank's optimizer steps: all it holds at ZeRO-0, its shard (1/dp·cp of the dense,
 *  1/edp of the experts') from ZeRO-1 on. */
export const ownedParams = (zero: number, dense: number, expert: number, dpcp: number, edp: number): number =>
  zero === 0 ? dense + expert : dense / dpcp + expert / edp;

/** Bytes per parameter of model states under ZeRO stage z (Rajbhandari et al. 2020, §3 and
 *  Fig. 1): 16-bit weights 2Ψ, 16-bit gradients 2Ψ, fp32 Adam states (master, momentum,
 *  variance) 12Ψ. Stage 1 shards the optimizer states over d, stage 2 the gradients too,
 *  stage 3 the weights too: 16Ψ, 4Ψ + 12Ψ/d, 2Ψ + 14Ψ/d, 16Ψ/d. The engine's figures
 *  (cost/engine-terms.ts stateBytes) replace ZeRO's: optimizer 12 or 8 bytes (bf16 moments), an
 *  unsharded ZeRO-0/1 gradient accumulated in fp32 (4), an fp32 gradient shard (4, FSDP), and a
 *  ZeRO-3 shard that is the fp32 master itself (FSDP: weights 4Ψ/d, optimizer 4Ψ/d fewer).
 *  DeepSpeed's BF16_Optimizer at stage 0 (s.bf16Optimizer): 2Ψ weights, 2Ψ + 4Ψ gradients
 *  (16-bit and fp32, both whole, whatever the reduction's type) and 12Ψ/d states partitioned as
 *  ZeRO-1's (bf16_optimizer.py _setup_for_real_optimizer @ v0.6.5): 8Ψ + 12Ψ/d. */
export function modelStateBytes(params: number, zero: number, dp: number, s: StateBytes = ZERO_STATES) {
  const master = zero >= 3 && s.shardedMaster;
  const bf16Opt = zero === 0 && s.bf16Optimizer;
  const weights = zero >= 3 ? ((master ? 4 : 2) * params) / dp : 2 * params;
  const gradients = zero >= 2 ? (s.shardedGrad * params) / dp : (bf16Opt ? BF16_OPTIMIZER_GRADS : s.grad) * params;
  const k = master ? s.optimizer - 4 : s.optimizer;
  const optimizer = zero >= 1 || bf16Opt ? (k * params) / dp : k * params;
  return { weights, gradients, optimizer };
}

/** Sum of modelStateBytes, without building the object (search loop). */
export function modelStateTotal(params: number, zero: number, dp: number, s: StateBytes = ZERO_STATES): number {
  const k = s.optimizer;
  if (zero === 0) return s.bf16Optimizer ? (2 + BF16_OPTIMIZER_GRADS) * params + (k * params) / dp : (2 + s.grad + k) * params;
  if (zero === 1) return (2 + s.grad) * params + (k * params) / dp;
  if (zero === 2) return 2 * params + ((s.shardedGrad + k) * params) / dp;
  // the master shard stands for the 16-bit one (its 4 bytes counted in the optimizer's k)
  return (((s.shardedMaster ? 0 : 2) + s.shardedGrad + k) * params) / dp;
}

/** Layers on the last pipeline rank in flight at its peak (Narayanan et al. 2021 §2.2: the last
 *  rank starts backward right after each forward; interleaved warm-up there is (v−1)·p chunks). */
function lastStageInFlightLayers(plan: Plan, layers: number, microBatches: number): number {
  const { pp, vpp, schedule } = plan;
  if (pp === 1) return layers;
  const perStage = layers / pp;
  if (schedule === "gpipe") return microBatches * perStage;
  if (schedule === "1f1b") return perStage;
  // zb1p's last rank delays its W by p−1 steps (torch num_1f1b_microbatches = rank), so it holds
  // as many chunks as the first (cost/pipeline.ts); in a V the last rank holds the middle stages,
  // its peak the same 2p (zbv) or 2p + 1 (dualpipev) chunks as every rank.
  if (schedule === "zb1p" || schedule === "zbv" || schedule === "dualpipev") return inFlightLayers(schedule, layers, pp, vpp, microBatches);
  const chunks = Math.min(microBatches * vpp, (vpp - 1) * pp + 1);
  return (chunks * perStage) / vpp;
}

/** The rank a stage stands for: "first" (and "only") rank 0, "last" rank p − 1. */
export const stageRank = (plan: Pick<Plan, "pp">, stage: "first" | "last" | "only"): number => (stage === "last" ? plan.pp - 1 : 0);

/** What the rank of `stage` holds (layout/stages.ts rankHoldings: its own stages, in a V rank 0
 *  the first and the last, rank p − 1 the middle two): its layers, MoE layers among them, the
 *  multi-token-prediction modules (with the output layer) and whether it holds the output layer. */
export function stageHeld(m: ModelSpec, plan: Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers">, stage: "first" | "last" | "only") {
  // (a dense model's ranges hold no MoE layer: rankHeld makes none)
  const h = m.moe === undefined ? rankHeld(plan, m.layers, stageRank(plan, stage)) : rankHoldings(plan, m.layers, stageRank(plan, stage));
  const moe = m.moe === undefined ? 0 : moeLayersInRanges(m, (h as RankHoldings).ranges);
  const mtp = h.head ? mtpCount(m) : 0;
  // (an MTP module's block is an MoE layer in an MoE model, a dense one otherwise)
  return { layers: h.layers, moeLayers: moe, head: h.head, working: { dense: h.layers - moe + (m.moe ? 0 : mtp), moe: m.moe ? moe + mtp : 0 } };
}

/** Activation bytes a GPU of this stage holds at its peak: in-flight layers, the embedding's
 *  dropout mask (first stage), the logits (with the output layer: the last stage, rank 0 of a V)
 *  and the recompute working set. */
export function stageActivationBytes(
  m: ModelSpec,
  training: Training,
  plan: Plan,
  stage: "first" | "last" | "only",
): number {
  const { tp, pp, dp, microBatch, sequenceParallel } = plan;
  const microBatches = training.globalBatch / (dp * microBatch);
  const layersInStage = m.layers / pp;
  const act = activationOptions(training, plan, m);
  const held = stageHeld(m, plan, stage);
  // Dense and MoE layers averaged over the rank's layers (routed copies on the busiest rank, moe-memory.ts).
  const full = heldLayerActivationBytes(m, training, plan, act, held.layers, held.moeLayers);
  // (block recompute: the first N layers of each of the rank's vpp chunks keep their input, the
  // others every tensor, cost/block-recompute.ts)
  const perLayer = plan.recompute === "full" && plan.recomputeLayers !== undefined
    ? blendedLayerBytes(plan, held.layers / plan.vpp, full, heldLayerActivationBytes(m, training, plan, activationOptions(training, { ...plan, recompute: "none" }, m), held.layers, held.moeLayers))
    : full;
  const tokens = microBatch * training.seqLen;
  const spShare = sequenceParallel && tp > 1 ? 1 / tp : 1;
  let activations: number;
  if (stage === "last") {
    activations = lastStageInFlightLayers(plan, m.layers, microBatches) * perLayer;
  } else {
    const layersHeld = inFlightLayers(plan.schedule, m.layers, pp, plan.vpp, microBatches);
    activations = layersHeld * perLayer;
    // Embedding dropout mask, one byte per element, per micro-batch in flight (Korthikanti §4.3):
    // under interleaved 1F1B those whose first chunk (which holds the embedding) is in flight
    // (layout/stages.ts inFlightPerChunk), as cost/stage-memory.ts counts them for any split.
    const microBatchesHeld = plan.schedule === "interleaved" && pp > 1 ? inFlightPerChunk("interleaved", pp, plan.vpp, 0, microBatches)[0]! : Math.ceil(layersHeld / layersInStage);
    if (m.dropout) activations += microBatchesHeld * tokens * m.hidden * spShare;
  }
  // With the output layer: the last stage, rank 0 of a V (zbv, dualpipev), the only one.
  if (held.head) {
    // Output head of one micro-batch at a time: fp32 logits for the vocab-parallel cross-entropy,
    // 4·s·b·V/t bytes (Korthikanti et al. 2022 §4.3; all V where the stack gathers them first,
    // engine-terms.ts logitShards; the engine's logitBytes per logit where its
    // loss keeps more, cost/engine-terms.ts), plus the final norm's input (and, where the stack
    // saves gathered inputs, the output layer's whole input: cost/engine-terms.ts headInputBytes).
    activations += (logitBytes(training.engine) * tokens * paddedVocab(m.vocab, tp)) / logitShards(training.engine, tp) + headInputBytes(m, tokens, tp, sequenceParallel, training.engine);
    // Under a pipeline, the outputs the stack keeps of all M micro-batches (Engine.keptOutputBytes).
    if (pp > 1) activations += keptLogitBytes(m, training, tp, tokens, microBatches);
  }
  // Context parallel: every tensor above is per token of the rank's s/cp (the scores: its queries
  // against all keys), so a cp rank holds 1/cp of them (Megatron-Core context_parallel.md;
  // formulas-scale §2.3). The recompute working set is the largest of the rank's layers' (an MoE
  // layer's routed copies where it holds one, moe-memory.ts heldWorkingBytes).
  return (activations + heldWorkingBytes(m, training, plan, act, held.working)) / (plan.cp ?? 1);
}

/** The last pipeline stage's outputs kept to the step's end: every one of the step's M
 *  micro-batches' logits, keptOutputBytes per logit of its s·b·V/t (torch.distributed.pipelining
 *  output_chunks, pytorch/pytorch#159251; 0 on stacks that free each after its backward). */
export function keptLogitBytes(m: ModelSpec, training: Training, tp: number, tokens: number, microBatches: number): number {
  return (keptOutputBytes(training.engine) * microBatches * tokens * paddedVocab(m.vocab, tp)) / logitShards(training.engine, tp);
}

/** Communication buffers: two gradient buckets (one reducing while the next fills; the bucket size
 *  is the engine's, wire/facts.ts by default) for every stage with dp > 1, none where the engine's
 *  buckets are views into the gradient buffer the states count (Megatron's); ZeRO-3 (FSDP) adds the
 *  unsharded 16-bit weights of the layer in use and of the ones prefetched (Zhao et al. 2023,
 *  PyTorch FSDP §3.2 and §4.3). With `t` and the stage's layers: the fp8 recipe's weight copies
 *  and scaling state (cost/engine-terms.ts fp8ExtraBytes). */
export function bufferBytes(
  m: ModelSpec,
  tp: number,
  dp: number,
  zero: number,
  t?: Pick<Training, "precision" | "engine">,
  layersInStage = 0,
  expertShard = 1,
): number {
  const fp8 = t?.engine ? fp8StageBytes(m, t, tp, dp, zero, layersInStage) : 0;
  if (dp === 1) return fp8;
  const e = t?.engine;
  // (no engine: Megatron-Core's, the default, whose buckets are views into its gradient buffer)
  // (BF16_Optimizer reduces its flat fp32 gradients in place, through no bucket of its own: its
  // cast is reduceTransientBytes below)
  const buckets = (e ? e.dataParallel.bucketsInGradBuffer : true) || (t !== undefined && bf16Optimizer(t, zero)) ? 0 : 2 * engineBucketBytes(e, dp);
  // (no more layers unsharded than the stage holds: a prefetch deeper than the stage gathers all)
  const unsharded = layersInStage > 0 ? Math.min(1 + prefetchLayers(e), Math.ceil(layersInStage)) : 1 + prefetchLayers(e);
  return buckets + (zero === 3 ? unsharded * 2 * gatheredLayerParams(m, tp, expertShard) : 0) + fp8;
}

/** The weights of the largest layer a rank gathers whole under ZeRO-3: a dense layer's matrices
 *  over tp, or an MoE layer's attention and shared experts over tp beside its local routed experts,
 *  E/(ep·etp) of them (`expertShard` = ep·etp; moe.ts moeLayerParams: FSDP gathers a layer's
 *  routed experts over edp, as its dense weights over dp·cp). At ep 1 DeepSeek-V3's MoE layer
 *  gathers all 256 experts, 11.3B weights, where its dense layer has 0.4B. */
export function gatheredLayerParams(m: ModelSpec, tp: number, expertShard = 1): number {
  const dense = layerMatrixParams(m) / tp;
  if (m.moe === undefined) return dense;
  return Math.max(dense, (attentionSplitParams(m) + sharedExpertParams(m)) / tp + (m.moe.experts * expertParams(m)) / expertShard);
}

/** The fp8 recipe's extra bytes for the linear weights this GPU holds (sharded under ZeRO-3). */
function fp8StageBytes(m: ModelSpec, t: Pick<Training, "precision" | "engine">, tp: number, dp: number, zero: number, layers: number): number {
  const linear = (layerMatrixParams(m) * layers) / tp / (zero === 3 ? dp : 1);
  return fp8ExtraBytes(t.precision, t.engine, linear, LINEAR_GEMMS_PER_LAYER * layers);
}

/** Linear modules of a layer that run as fp8 GEMMs: QKV, output projection, the MLP's in and out. */
const LINEAR_GEMMS_PER_LAYER = 4;

/** Everything allocated, plus the allocator's fragmentation on it and the fixed reserve for the
 *  CUDA context, NCCL and cuBLAS workspaces (both figures from the hardware profile). */
export function totalBytes(hw: Hardware, allocated: number): number {
  return allocated * (1 + hw.fragmentation) + hw.reserve;
}

export function stageMemory(
  m: ModelSpec,
  hw: Hardware,
  training: Training,
  plan: Plan,
  stage: "first" | "last" | "only",
): MemoryBreakdown {
  const { tp, pp, dp, zero } = plan;
  // Dense parameters' states shard over dp, the routed experts' (1/(ep·etp) of each layer's) over
  // edp (Megatron-Core MoE parallel folding; formulas-scale §1.5); the rank's own stages' layers,
  // embedding and output layer (layout/stages.ts rankHoldings).
  const split = rankParamSplit(m, training.seqLen, plan, stageRank(plan, stage));
  const s = stateBytes(training, optimizerBytesOf(training));
  // ZeRO / FSDP shard dense states over dp·cp (groups.ts "shard"; Megatron's dp-cp group).
  const dense = modelStateBytes(split.dense, zero, dp * plan.cp, s);
  const expert = modelStateBytes(split.expert, zero, edpOf(plan), s);
  const states = { weights: dense.weights + expert.weights, gradients: dense.gradients + expert.gradients, optimizer: dense.optimizer + expert.optimizer };
  const activations = stageActivationBytes(m, training, plan, stage);
  // (the all-to-all buffers only where the rank holds an MoE layer)
  const moeBuffers = stageHeld(m, plan, stage).working.moe > 0 ? moeBufferBytes(m, training, plan) : 0;
  const buffers = bufferBytes(m, tp, dp * plan.cp, zero, training, m.layers / pp, plan.ep * plan.etp) + moeBuffers + cpBufferBytes(m, training, plan) + reduceTransientBytes(training, zero, split.dense, split.expert, dp * plan.cp, edpOf(plan), activations);
  const allocated = states.weights + states.gradients + states.optimizer + activations + buffers;
  const total = totalBytes(hw, allocated);
  const other = total - (states.weights + states.gradients + states.optimizer + activations);
  const experts = m.moe ? { experts: expert.weights + expert.gradients + expert.optimizer } : {};
  return { ...states, activations, other, total, capacity: hw.memory, ...experts };
}
