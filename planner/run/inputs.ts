// From a request and a plan to runEstimate's inputs: the checkpoint's size from the plan's model
// states (the memory model's weights and optimizer states), the figures as resolved.
import { modelStateBytes } from "../cost/memory.js";
import { stageParamsPerGpu } from "../model.js";
import { memoryCandidateStages, unevenStageParams } from "../cost/stage-memory.js";
import { edpOf } from "../layout/groups.js";
import { optimizerBytesOf } from "../cost/moe-facts.js";
import { stateBytes } from "../cost/engine-terms.js";
import type { ModelSpec, PlanResult, Training } from "../types.js";
import type { ResolvedRunFigures } from "./figures.js";
import type { CheckpointMode, RunInputs } from "./types.js";

export interface RunOptions {
  tokens: number;
  /** USD per GPU-hour, or null. */
  price: number | null;
  mode: CheckpointMode;
}

/** Bytes of one checkpoint: one copy of the weights and the optimizer states as the engine keeps
 *  them (the memory model's modelStateBytes, cost/engine-terms.ts stateBytes, over one rank with
 *  every state sharded; gradients are not saved). Megatron keeps 16-bit weights beside its fp32
 *  master and Adam's moments: 2Ψ + 12Ψ = 14Ψ, or 2Ψ + 8Ψ with bf16 moments. An engine whose
 *  sharded parameters are the fp32 master (FSDP: dataParallel.shardedParamsAreMaster; Zhao et al.
 *  2023, PyTorch FSDP §4.4, the 16-bit copy only gathered for compute) saves no 16-bit copy:
 *  4Ψ + 8Ψ = 12Ψ (4Ψ + 4Ψ with bf16 moments). Over every trained parameter as the GPUs hold them:
 *  the vocabulary padded, the multi-token-prediction modules included (DeepSeek-V3's released
 *  checkpoint: 671B + 14B MTP). 405B at 14Ψ → 5.7 TB (formulas-scale.md §4.4). */
export function checkpointBytes(m: ModelSpec, t: Training): number {
  const s = modelStateBytes(stageParamsPerGpu(m, t.seqLen, 1, 1, m.layers, "only"), 3, 1, stateBytes(t, optimizerBytesOf(t)));
  return s.weights + s.optimizer;
}

/** Bytes the busiest GPU stages and writes per checkpoint.
 *  Where the stack spreads the replicas' shared states over them (Engine dataParallel.
 *  checkpointDedup: Megatron-Core's fully parallel save, on unless --no-ckpt-fully-parallel-save,
 *  distributes each shard's save over the data-parallel (with context-parallel) ranks holding it,
 *  balanced by size: megatron/training/arguments.py, megatron/core/dist_checkpointing/strategies/
 *  fully_parallel.py FullyParallelSaveStrategyWrapper @ core_r0.14.0; torch DCP's DefaultSavePlanner
 *  keeps each replicated item on the rank with the smallest plan, torch/distributed/checkpoint/
 *  _dedup_save_plans.py), a GPU writes its share of its pipeline rank's states counted once: the
 *  dense ones over dp·cp, the routed experts' over their edp, as ZeRO-3 would hold them
 *  (modelStateBytes at stage 3); the busiest of the pipeline ranks. Llama 3 8B on dp 64, one
 *  pipeline rank: 112.4 GB / 64 = 1.76 GB a GPU. Otherwise data-parallel rank 0 writes everything it holds
 *  (the plan's fullest stage: weights + optimizer states). */
export function checkpointBytesPerGpu(m: ModelSpec, t: Training, plan: PlanResult): number {
  if (t.engine !== undefined && !t.engine.dataParallel.checkpointDedup) return plan.memory.weights + plan.memory.optimizer;
  const s = stateBytes(t, optimizerBytesOf(t));
  let most = 0;
  for (const rank of memoryCandidateStages(m, plan)) {
    const p = unevenStageParams(m, t, plan, rank);
    const dense = modelStateBytes(p.dense, 3, plan.dp * plan.cp, s);
    const expert = modelStateBytes(p.expert, 3, edpOf(plan), s);
    most = Math.max(most, dense.weights + dense.optimizer + expert.weights + expert.optimizer);
  }
  return most;
}

export function runInputsFor(m: ModelSpec, t: Training, plan: PlanResult, f: ResolvedRunFigures, o: RunOptions): RunInputs {
  return {
    tokens: o.tokens,
    gpus: t.gpus,
    tokensPerStep: t.globalBatch * t.seqLen,
    powerPerGpu: f.power?.value ?? null,
    pue: f.pue.value,
    price: o.price,
    failuresPerGpuHour: f.failuresPerGpuHour.value,
    checkpointBytes: checkpointBytes(m, t),
    checkpointBytesPerGpu: checkpointBytesPerGpu(m, t, plan),
    checkpointBandwidth: f.checkpointBandwidth.value,
    stagingBandwidth: f.stagingBandwidth.value,
    restartTime: f.restartTime.value,
    mode: o.mode,
  };
}
