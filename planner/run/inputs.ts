// From a request and a plan to runEstimate's inputs: the checkpoint's size from the plan's model
// states (the memory model's weights and optimizer states), the figures as resolved.
import { modelStateBytes } from "../cost/memory.js";
import { stageParamsPerGpu } from "../model.js";
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
    // What one GPU of the fullest stage holds of the states (ZeRO shards them): it stages or writes that.
    checkpointBytesPerGpu: plan.memory.weights + plan.memory.optimizer,
    checkpointBandwidth: f.checkpointBandwidth.value,
    stagingBandwidth: f.stagingBandwidth.value,
    restartTime: f.restartTime.value,
    mode: o.mode,
  };
}
