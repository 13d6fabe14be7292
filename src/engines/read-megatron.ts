// Megatron-LM (and Megatron-DeepSpeed) pretrain_gpt.py arguments → a plan. Flag meanings follow
// megatron/training/arguments.py (validate_args) of the releases in megatron.ts; Megatron-DeepSpeed's
// own (megatron/arguments.py @207b2d5a) where marked.
import type { ModelSpec, MoeDispatcher, Precision, Recompute, SharedExpertOverlap, ZeroStage } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, byFlag, defaultsWarning, intArg, readArgs, strArg } from "./args-file.js";
import { launcherWorld } from "./launcher-world.js";
import { architectureClaims, checkEntryPoint } from "./megatron-claims.js";
import { type RecomputeFacts, blockRecomputeLayers, readRecompute, readRecomputeModules, recomputeReading } from "./megatron-recompute.js";
import { megatronAttention } from "./megatron-attention.js";
import { bucketCountWarning, checkOptimizerInstances, ddpBucketBytes, derivedFfn, fusionFlags, kvChannelsClaim, megatronGradDtype } from "./megatron-flags.js";
import { readDeepSpeedMoe, readMegatronMoe } from "./moe-args.js";
import { deepepGroups, megatronMoeChecks, moeOverlap, sharedExpertOverlap } from "./megatron-moe-flags.js";
import { type CpFields, readDeepSpeedCp, readMegatronCp } from "./cp-args.js";
import { MEGATRON_DEEPSPEED_EXTRA_FLAGS, MEGATRON_FLAGS } from "./known-names.js";
import { MEGATRON_V019_ALIASES, MEGATRON_V019_FLAGS, MEGATRON_V019_OFFLOAD, MEGATRON_V019_REFUSED, MEGATRON_V019_UNPRICED, megatronV019Checks, releaseMixWarning } from "./megatron-v019-flags.js";
import { type SettingsAt, megatronAt } from "./setting-at.js";
import { accountedEnds, readLayout, readMegatronStages } from "./megatron-stages.js";
import { type BalanceStated, headerBalance, readDeepSpeedPartition } from "./deepspeed-partition.js";
import { CPU_OFFLOAD, NOT_EXPRESSIBLE, NOT_MODELED, slidingWindowRefusal } from "./megatron-refusals.js";
import { type ConfigFile, type ConfigReading, type ModelClaim, type ReadContext, checkBatch, checkClaims, dataParallel, refuseUnpricedExperts, statesAllOf, unknownLine, worldSize } from "./read-config.js";

export interface MegatronFacts extends RecomputeFacts {
  tp: number;
  pp: number;
  /** Megatron-DeepSpeed without --no-pipeline-parallel: GPTModelPipe under DeepSpeed's pipeline engine, even at pp 1. */
  pipelineEngine: boolean;
  vpp: number;
  /** Megatron-LM: from --use-distributed-optimizer / FSDP flags. Megatron-DeepSpeed: --zero-stage, if given. */
  zero: ZeroStage | undefined;
  sequenceParallel: boolean;
  recompute: Recompute;
  microBatch: number | undefined;
  globalBatch: number | undefined;
  seqLen: number | undefined;
  precision: Precision | undefined;
  overlapGradReduce: boolean | undefined;
  /** Why the stack overlaps the reduction whatever the flags say (Megatron-FSDP's ZeRO-3), or undefined. */
  overlapForcedBy?: string | undefined;
  /** --overlap-param-gather (the distributed optimizer's weight gather beside the next forward). */
  overlapParamGather: boolean;
  /** --tp-comm-overlap (Transformer Engine userbuffers). */
  tpCommOverlap: boolean;
  /** 16-bit gradient reduction: --grad-reduce-in-bf16 under --bf16 (which wins over
   *  --accumulate-allreduce-grads-in-fp32 there), or --fp16 without that flag (Megatron forces fp32
   *  only under bf16; megatron-flags.ts megatronGradDtype, arguments.py:653-668 @ core_v0.14.0). */
  gradReduceInBf16: boolean;
  /** fp32 gradient reduction said outright: --accumulate-allreduce-grads-in-fp32 (the DDP buffer's
   *  grad_reduce_in_fp32) where it holds: under --fp16, or under --bf16 without --grad-reduce-in-bf16. */
  gradReduceInFp32: boolean;
  /** The data-parallel gradient bucket, bytes of 16-bit gradients (--ddp-bucket-size; megatron-flags.ts). */
  bucketBytes?: number | undefined;
  /** The fp8 flag of a file with neither --bf16 nor --fp16 (fp32 parameters under fp8 GEMMs). */
  fp8Over32?: string | undefined;
  /** Adam's moments: bf16 under the precision-aware optimizer with --exp-avg-dtype and
   *  --exp-avg-sq-dtype bf16, else fp32 (core_r0.14 _add_training_args). */
  optimizerStates: "fp32" | "bf16";
  fusedAttention: boolean | undefined;
  /** 1 under --moe-router-force-load-balancing (ConfigReading.moeImbalance). */
  moeImbalance: number | undefined;
  /** The experts' dispatcher: deepep for flex with --moe-enable-deepep (moe-args.ts), and
   *  --overlap-moe-expert-parallel-comm (megatron-moe-flags.ts moeOverlap). */
  moeDispatcher?: MoeDispatcher | undefined;
  moeOverlap?: { sms: number | null } | undefined;
  /** --moe-shared-expert-overlap with shared experts (megatron-moe-flags.ts sharedOverlap). */
  moeSharedOverlap?: SharedExpertOverlap | undefined;
  /** Context parallel: Megatron-LM --context-parallel-size / --cp-comm-type, Megatron-DeepSpeed
   *  --ds-sequence-parallel-size (Ulysses). */
  cp: CpFields;
  /** Expert parallel and expert tensor parallel degrees. */
  ep: number;
  /** Megatron-DeepSpeed's --create-moe-param-group (the experts' optimizer group DeepSpeed's ZeRO needs). */
  moeParamGroup?: boolean;
  etp: number;
  /** Uneven stages, when the file gives them. */
  stageLayers?: number[] | undefined;
  /** The DeepSpeed partition rule the file's header states (paraplan's export), for pricing. */
  headerBalance?: BalanceStated["balance"] | undefined;
  /** Where the file states each value (setting-at.ts). */
  at: SettingsAt;
  claims: ModelClaim[];
  warnings: string[];
  notes: string[];
}



/** The moments' dtype under --use-precision-aware-optimizer: both bf16 is paraplan's
 *  --optimizer-states bf16; fp16 or fp8 moments, or low-precision main parameters or gradients,
 *  are not modelled and refused by name (exit 2), not priced as fp32. */
function precisionAwareMoments(m: Map<string, ArgSetting>, o: string): "fp32" | "bf16" {
  const dtype = (flag: string) => strArg(m, flag) ?? "fp32";
  const moments = [dtype("exp-avg-dtype"), dtype("exp-avg-sq-dtype")];
  if (!m.has("use-precision-aware-optimizer")) {
    if (moments.some((d) => d !== "fp32")) throw new UserError(`${o}: --exp-avg-dtype / --exp-avg-sq-dtype other than fp32 without --use-precision-aware-optimizer: Megatron's OptimizerConfig refuses it`);
    // (OptimizerConfig asserts "main_grads_dtype can only be fp32 when not using precision-aware
    // optimizer", optimizer_config.py:259 @ core_v0.14.0)
    if (dtype("main-grads-dtype") !== "fp32") throw new UserError(`${o}: ${argAt(m, "main-grads-dtype")} without --use-precision-aware-optimizer: Megatron's OptimizerConfig refuses it (main_grads_dtype can only be fp32 there)`);
    return "fp32";
  }
  for (const flag of ["main-grads-dtype", "main-params-dtype"])
    if (dtype(flag) !== "fp32") throw new UserError(`${o}: ${argAt(m, flag)}: paraplan models fp32 main parameters and gradients only`);
  if (moments.every((d) => d === "fp32")) return "fp32";
  if (moments.every((d) => d === "bf16")) return "bf16";
  throw new UserError(`${o}: --exp-avg-dtype ${moments[0]} --exp-avg-sq-dtype ${moments[1]}: paraplan models Adam's moments both fp32 or both bf16 (--optimizer-states)`);
}

/** The GPU count a launch script's launcher options state (torchrun's or deepspeed's,
 *  launcher-world.ts launcherWorld), for worldSize: an elastic node range needs --gpus, and --gpus outside it contradicts the script. */
export function launchedWorld(file: ConfigFile, ctx: ReadContext): { gpus: number; from: string } | undefined {
  const o = file.name;
  const launch = launcherWorld(file.text);
  if (launch === undefined) return undefined;
  if ("gpus" in launch) return { gpus: launch.gpus, from: `${o} (${launch.says})` };
  if ("unset" in launch) {
    if (ctx.gpus === undefined) throw new UserError(`${o}: ${launch.unset}; pass --gpus, the count the run has`);
    return undefined;
  }
  const e = launch.elastic;
  if (ctx.gpus === undefined) throw new UserError(`${o}: ${e.says} is elastic (${e.min} to ${e.max} nodes of ${e.perNode} GPUs); pass --gpus, the count the run has`);
  const nodes = ctx.gpus / e.perNode;
  if (!Number.isInteger(nodes) || nodes < e.min || nodes > e.max)
    throw new UserError(`${o}: ${e.says} makes ${e.min * e.perNode} to ${e.max * e.perNode} GPUs in steps of ${e.perNode} but --gpus is ${ctx.gpus}; they must agree`);
  return undefined;
}

/** `model`: --model, whose layers stand in for a file that does not state --num-layers (and which
 *  DeepSpeed's `parameters` partition weighs); `engineBalance`: the DeepSpeed version an --engine
 *  file states by its stage split, where the file's header does not (deepspeed-partition.ts). */
export function megatronFacts(file: ConfigFile, deepspeed: boolean, model?: ModelSpec, engineBalance?: BalanceStated): MegatronFacts {
  const modelLayers = model?.layers;
  const o = file.name;
  checkEntryPoint(file);
  const m = byFlag(readArgs(file.text), o);
  const has = (f: string) => m.has(f);
  const warnings: string[] = [];
  const notes: string[] = [];
  const engine = deepspeed ? "Megatron-DeepSpeed" : "Megatron-LM";
  // Flags inside an `if` the reader cannot decide are read as if it runs: said, by line.
  const ifLines = [...new Set([...m.values()].flatMap((s) => (s.undecidedIf !== undefined ? [s.undecidedIf] : [])))];
  if (ifLines.length > 0)
    warnings.push(`${o}: the flags inside the \`if\` at line${ifLines.length > 1 ? "s" : ""} ${ifLines.join(", ")} are read as if ${ifLines.length > 1 ? "their first branches run" : "its first branch runs"} (the test depends on values set when the script runs; the other branches are not read)`);
  // Variables read at the defaults the script gives them (`TP=${TP:-8}`): the environment can set them.
  const defaults = defaultsWarning(file.text, o);
  if (defaults !== undefined) warnings.push(defaults);
  for (const [given, s] of m) {
    // Megatron-LM core_v0.19.0's names (megatron-v019-flags.ts); a --disable-X / --no-X alias is read as its older name.
    const flag = deepspeed ? given : (MEGATRON_V019_ALIASES[given] ?? given);
    const known = MEGATRON_FLAGS.has(flag) || (deepspeed ? MEGATRON_DEEPSPEED_EXTRA_FLAGS.has(flag) : MEGATRON_V019_FLAGS.has(flag));
    const refusal = NOT_EXPRESSIBLE[flag] ?? (deepspeed ? undefined : MEGATRON_V019_REFUSED[flag]);
    if (!known) warnings.push(unknownLine(o, `--${given} (line ${s.line})`, `a ${engine} argument paraplan knows`));
    else if (CPU_OFFLOAD.includes(flag) || MEGATRON_V019_OFFLOAD.includes(flag)) throw new UserError(`${o}: --${given} (line ${s.line}) moves state to the CPU, which paraplan does not model`);
    else if (refusal && (refusal.when?.(s.values[0]) ?? true)) {
      const shown = s.values.length > 0 && refusal.when ? `--${given} ${s.values[0]}` : `--${given}`;
      throw new UserError(`${o}: ${shown} (line ${s.line}) ${refusal.why}, which paraplan does not model`);
    }
    else if (NOT_MODELED.includes(flag) || MEGATRON_V019_UNPRICED.includes(flag)) warnings.push(`${o}: --${given} (line ${s.line}) changes performance in a way paraplan does not model; ignored`);
  }
  if (!deepspeed) releaseMixWarning(m, o, warnings);
  slidingWindowRefusal(m, o, model, engine);
  if (!deepspeed) checkOptimizerInstances(m, o);
  const tp = intArg(m, "tensor-model-parallel-size", o) ?? 1;
  const pp = intArg(m, "pipeline-model-parallel-size", o) ?? 1;
  // Virtual stages: core_r0.14 --num-virtual-stages-per-pipeline-rank, or layers per virtual stage
  // (both releases); validate_args allows at most one.
  const vStages = intArg(m, "num-virtual-stages-per-pipeline-rank", o);
  const vLayers = intArg(m, "num-layers-per-virtual-pipeline-stage", o);
  if (vStages !== undefined && vLayers !== undefined)
    throw new UserError(`${o}: --num-virtual-stages-per-pipeline-rank and --num-layers-per-virtual-pipeline-stage contradict: give one`);
  const layers = intArg(m, "num-layers", o);
  // A layout names every stage's layers and so the virtual stages too (megatron-stages.ts).
  const layout = !deepspeed && m.has("pipeline-model-parallel-layout") ? readLayout(m, o, layers, pp, intArg(m, "mtp-num-layers", o, 0) ?? 0) : undefined;
  let vpp = layout?.vpp ?? vStages ?? 1;
  if (vLayers !== undefined && layout === undefined) {
    // With the embedding and the loss accounted for, the units they add are split too (validate_args).
    const ends = accountedEnds(m);
    const units = layers === undefined ? undefined : layers + ends.embedding + ends.loss;
    if (units === undefined || units % (pp * vLayers) !== 0)
      throw new UserError(`${o}: --num-layers-per-virtual-pipeline-stage ${vLayers} does not divide the ${layers ?? "(missing --num-layers)"} layers${units !== layers ? ` (${units} with the embedding and loss)` : ""} into ${pp} stages`);
    vpp = units / (pp * vLayers);
  }
  // Uneven stages (core_r0.14 --decoder-first/last-pipeline-num-layers; megatron-stages.ts).
  const header = deepspeed ? headerBalance(file.text) : undefined;
  const stated = header ?? engineBalance;
  const stageLayers = deepspeed ? readDeepSpeedPartition(m, o, { layers, pp, vpp, tp, tied: !has("untie-embeddings-and-output-weights"), model, stated }, notes) : layout ? layout.split : readMegatronStages(m, o, layers, pp, vpp);
  // ZeRO: the distributed optimizer shards optimizer states (ZeRO-1); torch FSDP2 and Megatron
  // FSDP shard more, by their settings (_add_distributed_args).
  let zero: ZeroStage | undefined = deepspeed ? undefined : has("use-distributed-optimizer") ? 1 : 0;
  if (!deepspeed && has("use-torch-fsdp2")) {
    if (has("use-distributed-optimizer")) throw new UserError(`${o}: --use-torch-fsdp2 and --use-distributed-optimizer contradict (validate_args)`);
    zero = has("torch-fsdp2-no-reshard-after-forward") ? 2 : 3;
    notes.push(`${o}: --use-torch-fsdp2 read as ZeRO-${zero} (FSDP2${zero === 2 ? " without resharding after forward" : ""})`);
  }
  // core_r0.12/r0.13 named Megatron FSDP --use-custom-fsdp, asserted the distributed optimizer
  // beside it and turned on --overlap-grad-reduce for optim_grads(_params) (validate_args @
  // core_r0.12.0, core_r0.13.0; core_r0.14.0 keeps use_custom_fsdp as an alias set from
  // --use-megatron-fsdp).
  const customFsdp = !deepspeed && has("use-custom-fsdp");
  let overlapGradReduce = deepspeed ? undefined : has("overlap-grad-reduce");
  let overlapForcedBy: string | undefined;
  if (customFsdp && !has("use-distributed-optimizer")) throw new UserError(`${o}: ${argAt(m, "use-custom-fsdp")} without --use-distributed-optimizer: validate_args (core_r0.12, core_r0.13) refuses it`);
  if (!deepspeed && (has("use-megatron-fsdp") || customFsdp)) {
    const strategy = strArg(m, "data-parallel-sharding-strategy") ?? "no_shard";
    const z = ({ no_shard: 0, optim: 1, optim_grads: 2, optim_grads_params: 3 } as const)[strategy as "optim"] as ZeroStage | undefined;
    if (z === undefined) throw new UserError(`${o}: ${argAt(m, "data-parallel-sharding-strategy")} is not one of no_shard, optim, optim_grads, optim_grads_params`);
    zero = z;
    if (customFsdp && z >= 2) overlapGradReduce = true;
    notes.push(`${o}: Megatron FSDP${customFsdp ? " (--use-custom-fsdp)" : ""} with ${strategy} read as ZeRO-${z}`);
    // --use-megatron-fsdp (core_r0.14): MegatronFSDP.__init__ turns overlap_grad_reduce on for
    // optim_grads_params (megatron/core/distributed/fsdp/src/megatron_fsdp/megatron_fsdp.py:263-266
    // @ core_v0.14.0) and asserts it for optim_grads (line 270): ZeRO-3 is read overlapped whatever
    // the flags say, ZeRO-2 without --overlap-grad-reduce stops at start (as megatron.ts refuses to
    // write it).
    if (!customFsdp && z === 2 && !overlapGradReduce)
      throw new UserError(`${o}: ${argAt(m, "data-parallel-sharding-strategy")} without --overlap-grad-reduce: Megatron-FSDP asserts an overlapped gradient reduce-scatter for optim_grads (MegatronFSDP.__init__, megatron_fsdp.py:270 @ core_v0.14.0), so the run stops at start; add --overlap-grad-reduce`);
    if (!customFsdp && z === 3 && !overlapGradReduce) {
      overlapGradReduce = true;
      overlapForcedBy = `${argAt(m, "data-parallel-sharding-strategy")} overlaps the gradient reduction whatever the flags say (MegatronFSDP.__init__ sets overlap_grad_reduce, megatron_fsdp.py:263-266 @ core_v0.14.0)`;
      notes.push(`${o}: ${overlapForcedBy}: read as overlapped without --overlap-grad-reduce`);
    }
  }
  if (deepspeed) {
    const z = intArg(m, "zero-stage", o, 0);
    if (z !== undefined && z > 3) throw new UserError(`${o}: ${argAt(m, "zero-stage")} is not 0-3`);
    zero = z as ZeroStage | undefined;
  }
  const recompute = readRecompute(m, o, deepspeed, layers ?? modelLayers, pp, vpp, stageLayers, notes);
  // Megatron's optimizer (_add_training_args --optimizer, default adam): paraplan prices Adam's
  // moments and fp32 master weights; SGD or Muon hold other state.
  const optimizer = strArg(m, "optimizer");
  if (optimizer !== undefined && optimizer !== "adam")
    throw new UserError(`${o}: ${argAt(m, "optimizer")} holds other optimizer state than Adam, which paraplan does not model`);
  // Precision (_add_mixed_precision_args; fp8 from _add_transformer_engine_args / MDS --fp8-*).
  if (has("fp16") && has("bf16")) throw new UserError(`${o}: --fp16 and --bf16 contradict`);
  let precision: Precision | undefined = has("fp16") ? "fp16" : has("bf16") ? "bf16" : undefined;
  // fp8 GEMMs on top of the 16-bit type; without one Megatron-LM keeps fp32 parameters
  // (params_dtype torch.float, arguments.py:642 @ core_v0.14.0): left undefined for readMegatron's
  // fp32 refusal, not priced as fp8 over 16-bit weights.
  const fp8Flag = ["fp8-format", "fp8-hybrid", "fp8-e4m3"].find(has);
  const fp8Over32 = !deepspeed && fp8Flag !== undefined && precision === undefined ? argAt(m, fp8Flag) : undefined;
  if (fp8Flag !== undefined && fp8Over32 === undefined) precision = "fp8";
  const fusedAttention = megatronAttention(m, o, deepspeed, notes);
  // (--step-batch-size-schedule: main's successor of the ramp-up, megatron/training/arguments.py @ d98e8a64)
  for (const f of ["rampup-batch-size", "step-batch-size-schedule"]) if (has(f)) notes.push(`${o}: --${f} ignored; evaluated at the full global batch`);
  // --moe-router-force-load-balancing routes every token to experts chosen uniformly at random
  // (megatron/core/transformer/moe/router.py, a benchmarking option): the expert ranks' loads are
  // even up to sampling noise, so the imbalance priced is 1.
  const forcedBalance = !deepspeed && has("moe-router-force-load-balancing");
  if (forcedBalance) notes.push(`${o}: --moe-router-force-load-balancing routes tokens uniformly: priced at expert load imbalance 1`);
  const claims: ModelClaim[] = [];
  const claim = (field: ModelClaim["field"], value: ModelClaim["value"] | undefined, setting: string) => {
    if (value !== undefined) claims.push({ field, value, setting });
  };
  claim("layers", layers, `--num-layers ${layers}`);
  const hidden = intArg(m, "hidden-size", o);
  claim("hidden", hidden, `--hidden-size ${strArg(m, "hidden-size")}`);
  const heads = intArg(m, "num-attention-heads", o);
  claim("heads", heads, `--num-attention-heads ${heads}`);
  // Without --ffn-hidden-size validate_args derives it (megatron-flags.ts derivedFfn), in a file
  // that describes the model; the experts default to it (moe_ffn_hidden_size).
  const ffnStated = intArg(m, "ffn-hidden-size", o);
  const derived = ffnStated === undefined && layers !== undefined && hidden !== undefined ? derivedFfn(hidden, has("swiglu")) : undefined;
  const ffn = ffnStated ?? derived?.value;
  const moe = deepspeed ? readDeepSpeedMoe(m, o, layers, ffn) : readMegatronMoe(m, o, layers, ffn, tp, notes);
  if (!deepspeed) megatronMoeChecks(m, o, { fp8: precision === "fp8" }, notes);
  if (!deepspeed) megatronV019Checks(m, o, { tp, etp: moe.etp, fp8: precision === "fp8" }, warnings, notes);
  if (ffnStated !== undefined) claim("ffnHidden", ffnStated, `--ffn-hidden-size ${strArg(m, "ffn-hidden-size")}`);
  // (all layers MoE with their own --moe-ffn-hidden-size: the derived width builds nothing)
  else if (derived !== undefined && (moe.denseMlp || !has("moe-ffn-hidden-size"))) claim("ffnHidden", derived.value, derived.says);
  // The tokenizer's vocabulary (before Megatron pads it for tp): another model's embedding.
  claim("vocab", intArg(m, "vocab-size", o), `--vocab-size ${strArg(m, "vocab-size")}`);
  // Key/value heads: grouped-query attention states them; without it there are as many as heads.
  const kvStated = deepspeed ? intArg(m, "num-key-value-heads", o) : has("group-query-attention") ? (intArg(m, "num-query-groups", o) ?? 1) : undefined;
  const kv = kvStated ?? heads;
  const kvFlag = deepspeed ? "--num-key-value-heads" : "--num-query-groups";
  claim("kvHeads", kv, kvStated !== undefined ? `${kvFlag} ${kv}` : `no grouped-query attention (${kv} key/value heads)`);
  // Architecture flags are only compared when the file describes a model at all.
  if (layers !== undefined) {
    architectureClaims(m, o, deepspeed, claim);
    kvChannelsClaim(m, o, claim);
  }
  // Experts, latent attention and MTP (read above): compared whenever the file describes a model.
  // (stated ones here; readers check with statesAllOf that the model has none it leaves out)
  if (layers !== undefined) {
    claim("moe", moe.moe, `the MoE arguments (${moe.moe})`);
    claim("mla", moe.mla, `--multi-latent-attention (${moe.mla})`);
    claim("mtpLayers", moe.mtpLayers, `--mtp-num-layers ${moe.mtpLayers}`);
  }
  const microBatch = intArg(m, "micro-batch-size", o);
  const seqLen = intArg(m, "seq-length", o) ?? intArg(m, "encoder-seq-length", o);
  const fsdp2 = has("use-torch-fsdp2");
  if (!deepspeed) {
    const rope = ["rope", "yarn"].includes(strArg(m, "position-embedding-type") ?? "") || has("use-rotary-position-embeddings");
    fusionFlags(m, o, { swiglu: has("swiglu"), rope, recompute, fusedAttention, fsdp2, microBatch, seqLen, ffn, tp }, warnings, notes);
    bucketCountWarning(m, o, warnings);
  }
  return {
    tp,
    pp,
    pipelineEngine: deepspeed && !has("no-pipeline-parallel"),
    vpp,
    zero,
    cp: deepspeed ? readDeepSpeedCp(m, o) : readMegatronCp(m, o, layers ?? modelLayers),
    ep: moe.ep,
    etp: moe.etp,
    ...(deepspeed ? { moeParamGroup: has("create-moe-param-group") } : {}),
    stageLayers,
    headerBalance: header?.balance,
    at: megatronAt(o, m),
    sequenceParallel: tp > 1 && has("sequence-parallel"), // validate_args turns it off at tp 1
    recompute,
    microBatch,
    globalBatch: intArg(m, "global-batch-size", o),
    seqLen,
    precision,
    fp8Over32,
    overlapGradReduce,
    overlapForcedBy,
    overlapParamGather: !deepspeed && has("overlap-param-gather"),
    tpCommOverlap: !deepspeed && has("tp-comm-overlap"),
    ...(deepspeed ? { gradReduceInBf16: false, gradReduceInFp32: false } : megatronGradDtype(m, o, notes)),
    bucketBytes: deepspeed ? undefined : ddpBucketBytes(m, o, { overlapGradReduce: overlapGradReduce === true, fsdp2 }, notes),
    optimizerStates: deepspeed ? "fp32" : precisionAwareMoments(m, o),
    fusedAttention,
    moeImbalance: forcedBalance ? 1 : undefined,
    moeDispatcher: deepspeed ? undefined : deepepGroups(m, o, moe.dispatcher, model),
    moeOverlap: deepspeed ? undefined : moeOverlap(m, o, { ep: moe.ep, pp, vpp, recompute, dispatcher: moe.dispatcher }),
    moeSharedOverlap: deepspeed ? undefined : sharedExpertOverlap(m, o, notes),
    recomputeModules: deepspeed ? undefined : readRecomputeModules(m, o, recompute, { fp8: precision === "fp8", model }, notes),
    recomputeLayers: deepspeed ? undefined : blockRecomputeLayers(m, o, recompute, layers ?? modelLayers, pp, vpp, stageLayers, notes),
    claims,
    warnings,
    notes,
  };
}

export function readMegatron(file: ConfigFile, ctx: ReadContext): ConfigReading {
  // (--engine megatron-2021 beside a file's experts: refused as that before their flags are asked)
  refuseUnpricedExperts(file, "megatron", ctx);
  const f = megatronFacts(file, false, ctx.model);
  const o = file.name;
  checkClaims(o, f.claims, ctx.model);
  statesAllOf(o, f.claims, ctx.model);
  if (f.microBatch === undefined) throw new UserError(`${o}: --micro-batch-size is missing (Megatron-LM requires it)`);
  const world = worldSize(ctx, launchedWorld(file, ctx));
  const dp = dataParallel(o, world.gpus, world.from, f.tp, f.pp, f.cp.cp, f.at);
  // Without --global-batch-size Megatron uses micro-batch × dp (validate_args).
  const globalBatch = f.globalBatch ?? f.microBatch * dp;
  checkBatch(o, globalBatch, dp, f.microBatch, f.at);
  // fp32 compute runs at a fraction of the 16-bit peak: priced as bf16 it would be a plausible,
  // wrong number (as a torchtitan job in fp32).
  // (--fp8-format alone: fp8 GEMMs over fp32 parameters, fp32 elsewhere; megatronFacts)
  if (f.precision === undefined) throw new UserError(`${o}: neither --bf16 nor --fp16${f.fp8Over32 ? ` (${f.fp8Over32} runs fp8 GEMMs over fp32 parameters, params_dtype torch.float in validate_args)` : ""}: Megatron-LM trains in fp32, which paraplan does not model`);
  return {
    engine: "megatron",
    sources: [o],
    plan: {
      tp: f.tp,
      pp: f.pp,
      dp,
      ...f.cp,
      ep: f.ep,
      etp: f.etp,
      vpp: f.vpp,
      zero: f.zero ?? 0,
      microBatch: f.microBatch,
      recompute: f.recompute,
      sequenceParallel: f.sequenceParallel,
      schedule: f.vpp > 1 ? "interleaved" : "1f1b",
      ...(f.stageLayers !== undefined ? { stageLayers: f.stageLayers } : {}),
      ...(f.recomputeLayers !== undefined ? { recomputeLayers: f.recomputeLayers } : {}),
    },
    gpus: world.gpus,
    gpusFrom: world.from,
    globalBatch,
    ...(f.seqLen !== undefined ? { seqLen: f.seqLen } : {}),
    ...(f.precision !== undefined ? { precision: f.precision } : {}),
    ...(f.overlapGradReduce !== undefined ? { overlapGradReduce: f.overlapGradReduce } : {}),
    ...(f.overlapForcedBy !== undefined ? { overlapForcedBy: f.overlapForcedBy } : {}),
    // The updated weights' gather overlaps the next forward only with --overlap-param-gather
    // (off by default; arguments.py), which the distributed optimizer (ZeRO-1) has.
    ...(f.zero === 1 ? { overlapParamGather: f.overlapParamGather } : {}),
    ...(f.tpCommOverlap ? { tpCommOverlap: true } : {}),
    ...(f.gradReduceInBf16 ? { gradReduceInBf16: true } : {}),
    ...(f.gradReduceInFp32 ? { gradReduceInFp32: true } : {}),
    ...(f.bucketBytes !== undefined ? { bucketBytes: f.bucketBytes } : {}),
    ...(f.optimizerStates === "bf16" ? { optimizerStates: "bf16" as const } : {}),
    ...(f.fusedAttention !== undefined ? { fusedAttention: f.fusedAttention } : {}),
    ...(f.moeImbalance !== undefined ? { moeImbalance: f.moeImbalance } : {}),
    ...(f.moeDispatcher === "deepep" ? { moeDispatcher: f.moeDispatcher } : {}),
    ...(f.moeOverlap !== undefined ? { moeOverlap: f.moeOverlap } : {}),
    ...(f.moeSharedOverlap !== undefined ? { moeSharedOverlap: f.moeSharedOverlap } : {}),
    ...recomputeReading(f),
    claims: f.claims,
    at: f.at,
    warnings: f.warnings,
    notes: f.notes,
  };
}
