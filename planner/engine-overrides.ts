// The engine with the CLI's overrides applied (--attention, --no-grad-overlap, --tp-comm-overlap,
// --grad-reduce-in-*, a --from file's bucket and split): planner/engine.ts's data, changed as the
// user's flags say.
import { type Engine, type MoeDispatcher, type SharedExpertOverlap, fusedAttentionOf } from "./engine.js";
import type { StageSplit } from "./layout/stages.js";
import type { RecomputeModule } from "./recompute-modules.js";

/** Streaming multiprocessors of an H100 SXM5 (and H800 SXM5) GPU, which DeepEP's SMs (a Megatron
 *  file's --moe-deepep-num-sms) are read against and written from (src/engines/megatron-moe-engine.ts). */
export const H100_SMS = 132;

type Overrides = { fusedAttention?: boolean | undefined; overlapGradReduce?: boolean | undefined; tpCommOverlap?: boolean | undefined; gradReduceInBf16?: boolean | undefined; gradReduceInFp32?: boolean | undefined; overlapParamGather?: boolean | undefined; keptOutputBytes?: number | undefined; stageSplit?: StageSplit | undefined; moeDispatcher?: MoeDispatcher | undefined; moeOverlap?: { sms: number | null } | undefined; moeSharedOverlap?: SharedExpertOverlap | undefined; recomputeModules?: readonly RecomputeModule[] | undefined };

/** The engine with the CLI's overrides (--attention, --no-grad-overlap, --tp-comm-overlap) applied:
 *  unfused attention materialises the scores; fused attention on a materialising engine runs
 *  flash-attention 2; the tensor-parallel overlap switch sets its fraction and needs SP. */
export function withOverrides(e: Engine, o: Overrides): Engine {
  // The eager engine that prices what this one runs eager (planner/eager.ts) takes the same flags:
  // they describe the run, whichever mode its blocks run in.
  const eager = e.eager?.engine;
  let out = eager === undefined ? e : { ...e, eager: { ...e.eager!, engine: withOverrides(eager, o) } };
  // --grad-reduce-in-bf16 (Megatron's flag; NeMo's optim.grad_sync_dtype: bf16): 16-bit gradients
  // on the wire and in the buffer they accumulate in (Megatron-Core's DDP buffer takes the reduce
  // dtype: distributed_data_parallel.py grad_reduce_in_fp32; FSDP2 accumulates in its reduce dtype).
  // (either flag fixes the bytes whatever the precision: dataParallel.gradBytesByPrecision dropped)
  if (o.gradReduceInBf16 === true) {
    const { gradBytesByPrecision: _, ...dp } = out.dataParallel;
    out = { ...out, dataParallel: { ...dp, gradReduceBytes: 2, gradBufferBytes: Math.min(2, out.dataParallel.gradBufferBytes) } };
  }
  // --grad-reduce-in-fp32 (Megatron's --accumulate-allreduce-grads-in-fp32; FSDP's
  // MixedPrecision reduce_dtype fp32, as Composer's mixed_precision DEFAULT sets it,
  // composer/distributed/mosaic_fsdp_utils.py get_mixed_precision): fp32 gradients on the wire and
  // in the unsharded buffer.
  if (o.gradReduceInFp32 === true) {
    const { gradBytesByPrecision: _, ...dp } = out.dataParallel;
    out = { ...out, dataParallel: { ...dp, gradReduceBytes: 4, gradBufferBytes: 4 } };
  }
  // --tp-comm-overlap: the stack's switch (callers refuse it where commOverlap is null).
  // (hiding at least what the stack hides without it: a file's commOverlap below its overlap made
  // the switch lengthen the step)
  if (o.tpCommOverlap === true && e.tensorParallel.commOverlap !== null)
    out = { ...out, tensorParallel: { ...out.tensorParallel, overlap: Math.max(e.tensorParallel.overlap, e.tensorParallel.commOverlap), overlapNeedsSp: true } };
  if (o.fusedAttention !== undefined && o.fusedAttention !== fusedAttentionOf(e))
    out = { ...out, attention: { ...out.attention, kernel: o.fusedAttention ? "flash-attention-2" : "materialised" } };
  if (o.overlapGradReduce !== undefined && o.overlapGradReduce !== e.dataParallel.overlapGradReduce)
    out = { ...out, dataParallel: { ...out.dataParallel, overlapGradReduce: o.overlapGradReduce } };
  // A --from file's --overlap-param-gather, present or absent (Megatron's default is off).
  if (o.overlapParamGather !== undefined && o.overlapParamGather !== e.dataParallel.overlapParamGather)
    out = { ...out, dataParallel: { ...out.dataParallel, overlapParamGather: o.overlapParamGather } };
  // A release that frees the last stage's outputs (torchtitan's Python-configuration releases pass
  // step(return_outputs=False)), or keeps them.
  if (o.keptOutputBytes !== undefined && o.keptOutputBytes !== e.keptOutputBytes) out = { ...out, keptOutputBytes: o.keptOutputBytes };
  // A release that splits the stages by another rule (DeepSpeed 0.16's smallest spread, where the
  // megatron-deepspeed engine of 2021–22 fills them from the first).
  if (o.stageSplit !== undefined && o.stageSplit !== e.supports.stageSplit) out = { ...out, supports: { ...out.supports, stageSplit: o.stageSplit } };
  // A --from file's dispatcher (Megatron's flex with DeepEP): the stack's own dispatch bytes kept.
  if (o.moeDispatcher !== undefined && o.moeDispatcher !== e.moe.dispatcher) out = { ...out, moe: { ...out.moe, dispatcher: o.moeDispatcher } };
  // A --from file's --overlap-moe-expert-parallel-comm: Megatron-Core's 1F1B all-to-all overlap,
  // which it asserts without full recompute and, with pp > 1, under a virtual pipeline
  // (transformer_config.py:1298-1337 @ core_v0.14.0). The compute beside it slows by DeepEP's SMs
  // over an H100's (and H800's) 132 (NVIDIA H100 Tensor Core GPU Architecture whitepaper, 2022:
  // 132 SMs on the SXM5 part) under flex, by the engine's figure for a collective beside compute
  // under NCCL's all-to-all.
  if (o.moeOverlap !== undefined) {
    const slowdown = o.moeOverlap.sms !== null ? o.moeOverlap.sms / H100_SMS : e.overlapSlowdown;
    out = { ...out, moe: { ...out.moe, overlap: { slowdown, fullRecompute: false, schedules: ["interleaved"] } } };
  }
  // A --from file's shared experts beside the all-to-alls (Megatron's --moe-shared-expert-overlap,
  // torchtitan's DeepEP MoE): Engine.moe.sharedExpertOverlap.
  if (o.moeSharedOverlap !== undefined) out = { ...out, moe: { ...out.moe, sharedExpertOverlap: o.moeSharedOverlap } };
  // --recompute-modules (a --from file's, or the flag's): what "selective" re-runs on a Megatron
  // engine (the callers refuse it elsewhere: recompute-modules.ts recomputeModulesRefusal).
  if (o.recomputeModules !== undefined) out = { ...out, recomputeModules: o.recomputeModules };
  return out;
}
