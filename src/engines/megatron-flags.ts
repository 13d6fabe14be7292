// Megatron-LM flags whose meaning validate_args settles from others (read-megatron.ts
// megatronFacts): the gradient dtype under --bf16 / --fp16, the widths it derives when a file
// leaves them out, the data-parallel gradient bucket, the distributed optimizer's instances, and
// the kernel fusions a file switches off. Line numbers: megatron/training/arguments.py
// @ core_v0.14.0 unless said otherwise.
import { UserError } from "../errors.js";
import type { Recompute } from "../../planner/index.js";
import { type ArgSetting, argAt, intArg } from "./args-file.js";
import type { ModelClaim } from "./read-config.js";

type Claim = (field: ModelClaim["field"], value: ModelClaim["value"] | undefined, setting: string) => void;

/** The gradient dtype validate_args leaves (arguments.py:653-668): under --bf16 it forces
 *  accumulate_allreduce_grads_in_fp32 on unless --grad-reduce-in-bf16, which wins over
 *  --accumulate-allreduce-grads-in-fp32 too (`if args.grad_reduce_in_bf16:
 *  args.accumulate_allreduce_grads_in_fp32 = False`, :662-663); under --fp16 that branch does not
 *  run, so the gradients are fp32 only with --accumulate-allreduce-grads-in-fp32 and
 *  --grad-reduce-in-bf16 changes nothing. fp8 keeps the 16-bit type it is on. */
export function megatronGradDtype(m: Map<string, ArgSetting>, o: string, notes: string[]): { gradReduceInBf16: boolean; gradReduceInFp32: boolean } {
  const has = (f: string) => m.has(f);
  const base = has("fp16") ? "fp16" : has("bf16") ? "bf16" : undefined;
  const fp32 = base === "bf16" ? !has("grad-reduce-in-bf16") : has("accumulate-allreduce-grads-in-fp32");
  if (base === "bf16" && has("grad-reduce-in-bf16") && has("accumulate-allreduce-grads-in-fp32"))
    notes.push(`${o}: ${argAt(m, "grad-reduce-in-bf16")} wins over ${argAt(m, "accumulate-allreduce-grads-in-fp32")} under --bf16 (validate_args sets accumulate_allreduce_grads_in_fp32 False, arguments.py:662-663 @ core_v0.14.0): read as 16-bit gradients`);
  return {
    gradReduceInBf16: !fp32 && (has("grad-reduce-in-bf16") || base === "fp16"),
    gradReduceInFp32: fp32 && has("accumulate-allreduce-grads-in-fp32"),
  };
}

/** What validate_args makes of a file without --ffn-hidden-size (arguments.py:742-751;
 *  Megatron-DeepSpeed megatron/arguments.py:298-307 @207b2d5a): under --swiglu
 *  int(4h·2/3 / 64)·64, else 4h. */
export function derivedFfn(hidden: number, swiglu: boolean): { value: number; says: string } {
  if (!swiglu) return { value: 4 * hidden, says: `no --ffn-hidden-size (Megatron derives 4·h = ${4 * hidden} from --hidden-size ${hidden}; validate_args)` };
  const value = Math.floor((4 * hidden * 2) / 3 / 64) * 64;
  return { value, says: `no --ffn-hidden-size (Megatron derives int(4·h·2/3 / 64)·64 = ${value} from --hidden-size ${hidden} under --swiglu; validate_args)` };
}

/** The head width of a file without --kv-channels: hidden / heads, which validate_args asserts
 *  divides (arguments.py:753-755; Megatron-DeepSpeed megatron/arguments.py:309-311 @207b2d5a).
 *  Latent attention states its own head sizes (megatron-claims.ts). */
export function kvChannelsClaim(m: Map<string, ArgSetting>, o: string, claim: Claim): void {
  if (m.has("kv-channels") || m.has("multi-latent-attention")) return;
  const hidden = intArg(m, "hidden-size", o);
  const heads = intArg(m, "num-attention-heads", o);
  if (hidden === undefined || heads === undefined) return;
  if (hidden % heads !== 0)
    throw new UserError(`${o}: no --kv-channels and ${argAt(m, "num-attention-heads")} does not divide ${argAt(m, "hidden-size")}: validate_args asserts it (arguments.py:754 @ core_v0.14.0); state --kv-channels`);
  claim("headDim", hidden / heads, `no --kv-channels (Megatron uses --hidden-size / --num-attention-heads = ${hidden}/${heads} = ${hidden / heads}; validate_args)`);
}

/** More distributed-optimizer instances than one: each shards the optimizer states over
 *  dp·cp / N ranks and the instances all-reduce the gradients between them
 *  (megatron/core/parallel_state.py:743-790 @ core_v0.14.0, intra-partial data-parallel groups).
 *  paraplan shards ZeRO-1 states over all dp·cp ranks: refused, not priced as that. */
export function checkOptimizerInstances(m: Map<string, ArgSetting>, o: string): void {
  const n = intArg(m, "num-distributed-optimizer-instances", o);
  if (n !== undefined && n > 1)
    throw new UserError(`${o}: ${argAt(m, "num-distributed-optimizer-instances")} keeps ${n} copies of the distributed optimizer, each sharding the optimizer states over dp·cp/${n} ranks, with an all-reduce of the gradients between them (megatron/core/parallel_state.py:743-790 @ core_v0.14.0), which paraplan does not model: it shards ZeRO-1 states over all dp·cp ranks`);
}

/** The smallest gradient bucket paraplan prices, in 16-bit elements: 1 MiB, the floor of an engine
 *  file's dataParallel.bucketSize (planner/schema/engine.ts). */
const MIN_BUCKET_ELEMENTS = 2 ** 19;

/** --ddp-bucket-size: the data-parallel gradient bucket in parameters (DistributedDataParallelConfig
 *  bucket_size, "Maximum number of parameters in each bucket", megatron/core/distributed/
 *  distributed_data_parallel_config.py:41-44 @ core_v0.14.0; passed as is, training.py:936), as
 *  bytes of 16-bit gradients, the unit of the engine's dataParallel.bucketSize (profiles/engines/
 *  megatron-core.json: 40M parameters = 80 MB), fixed whatever dp (plan-engine.ts). Megatron drops
 *  it without --overlap-grad-reduce (one bucket, distributed_data_parallel.py:66-68) and under
 *  --use-torch-fsdp2 (TorchFullyShardedDataParallelConfig takes none, training.py:918-920). */
export function ddpBucketBytes(m: Map<string, ArgSetting>, o: string, s: { overlapGradReduce: boolean; fsdp2: boolean }, notes: string[]): number | undefined {
  const elements = intArg(m, "ddp-bucket-size", o);
  if (elements === undefined) return undefined;
  if (m.has("ddp-num-buckets")) throw new UserError(`${o}: ${argAt(m, "ddp-bucket-size")} and ${argAt(m, "ddp-num-buckets")} contradict: Megatron asserts one of them (training.py:930 @ core_v0.14.0)`);
  if (s.fsdp2) {
    notes.push(`${o}: ${argAt(m, "ddp-bucket-size")} is not used under --use-torch-fsdp2 (training.py:918-920 @ core_v0.14.0): ignored`);
    return undefined;
  }
  if (!s.overlapGradReduce) {
    notes.push(`${o}: ${argAt(m, "ddp-bucket-size")} is not used without --overlap-grad-reduce: Megatron reduces all gradients as one bucket (distributed_data_parallel.py:66-68 @ core_v0.14.0): ignored`);
    return undefined;
  }
  if (elements < MIN_BUCKET_ELEMENTS)
    throw new UserError(`${o}: ${argAt(m, "ddp-bucket-size")}: paraplan prices gradient buckets from ${MIN_BUCKET_ELEMENTS.toLocaleString("en-US")} parameters (1 MiB of 16-bit gradients)`);
  return 2 * elements;
}

/** Kernel fusions a file switches off (_add_training_args): what each changes, said on a line of
 *  its own; the one whose memory paraplan would underprice by a tensor a layer is refused. */
export function fusionFlags(m: Map<string, ArgSetting>, o: string, s: { swiglu: boolean; rope: boolean; recompute: Recompute; fusedAttention: boolean | undefined; fsdp2: boolean; microBatch?: number | undefined; seqLen?: number | undefined; ffn?: number | undefined; tp: number }, warnings: string[], notes: string[]): void {
  const unpriced = (flag: string, what: string) => {
    if (m.has(flag)) warnings.push(`${o}: ${argAt(m, flag)} ${what}; paraplan does not price it: ignored`);
  };
  const noEffect = (flag: string, why: string) => {
    if (m.has(flag)) notes.push(`${o}: ${argAt(m, flag)} changes nothing ${why}`);
  };
  // --use-torch-fsdp2 asserts it off (arguments.py:576): the FSDP2 engine is priced without it.
  if (!s.fsdp2) unpriced("no-gradient-accumulation-fusion", "adds each weight gradient to the fp32 main gradient in a kernel of its own instead of in the weight-gradient GEMM (about 10 bytes a parameter more memory traffic each micro-batch)");
  // The fused scale-mask-softmax of attention that materialises the scores (FusedScaleMaskSoftmax).
  if (s.fusedAttention === true) noEffect("no-masked-softmax-fusion", "with fused attention (the scores are not materialised)");
  else unpriced("no-masked-softmax-fusion", "scales, masks and softmaxes unfused attention's scores in kernels of their own (more memory traffic a layer)");
  if (s.rope) unpriced("no-rope-fusion", "applies rotary embeddings in unfused kernels (more memory traffic a layer)");
  else noEffect("no-rope-fusion", "without rotary embeddings (validate_args sets apply_rope_fusion False, arguments.py:918-919)");
  if (!s.swiglu) unpriced("no-bias-gelu-fusion", "adds the bias and runs GeLU in kernels of their own (more memory traffic a layer)");
  unpriced("no-bias-dropout-fusion", "adds the bias, drops out and adds the residual in kernels of their own (more memory traffic a layer)");
  if (!m.has("no-bias-swiglu-fusion")) return;
  if (!s.swiglu) return noEffect("no-bias-swiglu-fusion", "without --swiglu (bias_activation_fusion is --no-bias-gelu-fusion's then, arguments.py:1171-1176)");
  // Unfused, MLP.forward's glu (megatron/core/transformer/mlp.py @ core_v0.14.0) keeps the SiLU
  // output for the product's backward beside fc1's output; the fused bias_swiglu_impl keeps its
  // input only. paraplan's SwiGLU keeps gate, up and product (cost/activations.ts): one f/tp-wide
  // 16-bit tensor a layer more, 2·b·s·f/tp bytes. Under full recompute one layer holds it at a time.
  if (s.recompute === "full") return unpriced("no-bias-swiglu-fusion", "runs SwiGLU unfused, which keeps the SiLU output for backward (one layer's at a time under full recompute)");
  const bytes = s.microBatch !== undefined && s.seqLen !== undefined && s.ffn !== undefined ? (2 * s.microBatch * s.seqLen * s.ffn) / s.tp : undefined;
  const here = bytes === undefined ? "" : ` (${(bytes / 2 ** 20).toFixed(0)} MiB a layer here)`;
  throw new UserError(`${o}: ${argAt(m, "no-bias-swiglu-fusion")} runs SwiGLU unfused, which keeps the SiLU output for backward beside the fused kernel's input: 2·b·s·f/tp bytes more a layer${here} (megatron/core/transformer/mlp.py MLP.forward @ core_v0.14.0), which paraplan does not model; drop it, or recompute full`);
}

/** Ignored with a line of its own: the bucket count, which sets the bucket from the rank's
 *  parameters (training.py:934 @ core_v0.14.0), not priced (the engine's default bucket is). */
export function bucketCountWarning(m: Map<string, ArgSetting>, o: string, warnings: string[]): void {
  if (m.has("ddp-num-buckets") && !m.has("ddp-bucket-size"))
    warnings.push(`${o}: ${argAt(m, "ddp-num-buckets")} sets the gradient bucket to the rank's parameters over the count (training.py:934 @ core_v0.14.0); paraplan prices the engine's default bucket: ignored`);
}
