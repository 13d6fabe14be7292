// Engine profile files (profiles/engines/*.json) → Engine (plain SI numbers, planner/engine.ts).
// Every figure may carry its source, { "value": "4 us", "source": "…" }, or be a bare value; a
// file may `extend` a built-in engine and give only what differs (resolveExtends, extends.ts).
import { engineInconsistency } from "./engine-consistency.js";
import { type ContextParallelIn, contextParallelSchema, parseContextParallel } from "./engine-cp.js";
import { type MoeIn, moeSchema, parseMoe } from "./engine-moe.js";
import type { z } from "zod";
import { MEGATRON_SUPPORTS, ATTENTION_KERNELS, GPU_GENERATIONS, ELEMENTWISE_OPS, type ElementwiseOp, type Engine, type EngineSupports, type Fp8CastBytes, MEGATRON_LOSS_BYTES, SELECTIVE_RECOMPUTES, ACTIVATION_TENSORS, TE_FP8_CASTS } from "../engine.js";
import { type EngineQuantityPath, engineQuantity, missingWords, quantityIssue } from "./engine-quantities.js";
import { type Parsed, firstIssue } from "./result.js";
import { lazySchemas } from "./zod.js";
import { SCHEDULES } from "./plan.js";
import { CP_COMMS, CP_SPLITS, type CpComm, type CpSplit, type Schedule, type ZeroStage } from "../types.js";
import { STAGE_SPLITS, type StageSplit } from "../layout/stages.js";
import { figureReader, type FigureIn } from "./figure.js";
import { EAGER_CASES, parseEager } from "../eager.js";
import { PLAUSIBLE, implausible } from "./plausible.js";
import { RECOMPUTE_MODULES } from "../recompute-modules.js";

const CAST_KEYS: readonly (keyof Fp8CastBytes)[] = ["forwardInput", "forwardWeight", "backwardGrad", "backwardInput", "backwardWeight"];

const schemas = lazySchemas((z) => {
  const withSource = <T extends z.ZodTypeAny>(value: T) => z.union([value, z.object({ value, source: z.string().min(1) }).strict()]);
  const quantity = withSource(z.string().min(1));
  const flag = withSource(z.boolean());
  const fraction = withSource(z.number().gte(0).lte(1));
  const bytes = withSource(z.number().gte(0).lte(1000));
  const dtypeBytes = z.number().refine((v) => v === 2 || v === 4, "must be 2 (16-bit) or 4 (fp32)");
  // fixed: the stack has no switch to another type under that precision (--grad-reduce-in-* refused)
  const gradBytes = z.object({ bufferBytesPerParam: dtypeBytes, reduceBytesPerParam: dtypeBytes, fixed: z.boolean().optional() }).strict();
  const perOp = <T extends z.ZodTypeAny>(v: T) =>
    z.object(Object.fromEntries(ELEMENTWISE_OPS.map((k) => [k, v])) as Record<ElementwiseOp, T>).strict();

  const engineFile = z
    .object({
      $schema: z.string().optional(),
      name: z.string().min(1),
      description: z.string().optional(),
      extends: z.string().optional(),
      attention: z
        .object({
          kernel: withSource(z.enum(ATTENTION_KERNELS as [string, ...string[]])),
          efficiency: z.record(z.string().min(1), withSource(z.number().gt(0).lte(1))),
        })
        .strict(),
      fused: perOp(flag),
      unfusedTraffic: perOp(withSource(z.number().gte(1).lte(100))),
      elementwise: withSource(z.enum(["grouped", "autocast-eager"])).optional(),
      launch: z
        .object({
          perKernel: quantity,
          kernelsPerLayer: withSource(z.number().int().min(0).max(100000)),
          backwardFactor: withSource(z.number().gte(0).lte(10)),
          // A rotary (Llama-style) block's counts where they differ from the learned-position one.
          rotaryBlock: z.object({ kernelsPerLayer: withSource(z.number().int().min(0).max(100000)), backwardFactor: withSource(z.number().gte(0).lte(10)) }).strict().optional(),
        })
        .strict(),
      dataParallel: z
        .object({
          overlapGradReduce: flag,
          reduceAfterBackwardWith: withSource(z.array(z.enum(["tp", "pp"]))).optional(),
          overlapForcedAtZero: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]))).optional(),
          overlapRequiredAtZero: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]))).optional(),
          overlapParamGather: flag,
          overlapParamGatherNeedsGradOverlap: flag.optional(),
          zero1GatherInStep: flag.optional(),
          zero1BroadcastPerTensor: flag.optional(),
          zero1AllReduce: flag.optional(),
          bf16OptimizerAtZero0: flag.optional(),
          fp32GradCopyAtStep: flag.optional(),
          fp32GradFlattenAtStep: flag.optional(),
          zero1GatherBytesPerParam: withSource(z.number().refine((v) => v === 2 || v === 4, "must be 2 (16-bit) or 4 (fp32)")).optional(),
          prefetchLayers: withSource(z.number().int().min(0).max(1000)),
          bucketSize: quantity,
          bucketSizePerDp: quantity,
          bucketMemory: withSource(z.enum(["separate", "gradient-buffer"])).optional(),
          shardedReduce: withSource(z.enum(["bucket", "layer"])).optional(),
          gatherCallsPerLayer: withSource(z.number().int().min(1).max(1000)),
          // (0 dropped the whole unsharded gradient from memory, 3 is no dtype)
          gradBufferBytesPerParam: withSource(z.number().refine((v) => v === 2 || v === 4, "must be 2 (16-bit) or 4 (fp32)")).optional(),
          gradReduceBytesPerParam: withSource(z.number().refine((v) => v === 2 || v === 4, "must be 2 (16-bit) or 4 (fp32)")).optional(),
          gradBytesByPrecision: withSource(z.object({ fp16: gradBytes.optional(), bf16: gradBytes.optional() }).strict()).optional(),
          zero3BandwidthShare: withSource(z.number().gt(0).lte(1)).optional(),
          maxReuseDistance: withSource(z.number().positive().max(1e15)).optional(),
          shardedGradBytesPerParam: withSource(z.union([z.literal(2), z.literal(4), z.literal("gradReduce")])).optional(),
          shardedParamsAreMaster: flag.optional(),
          checkpointDedup: flag.optional(),
        })
        .strict(),
      // commOverlap: what the stack's switch for tensor-parallel overlap hides (null: no switch).
      tensorParallel: z.object({ overlap: fraction, commOverlap: withSource(z.number().gte(0).lte(1).nullable()).optional(), savesGatheredInput: flag.optional(), gathersLogits: flag.optional(), normGradsPerTensor: flag.optional(), learnedEmbeddingAllReduce: flag.optional(), inputGradPerLinear: flag.optional() }).strict(),
      recompute: withSource(z.enum(["any", "layers", "full"])),
      // The parallelisms the stack runs (absent, or a key absent: Megatron-Core's, MEGATRON_SUPPORTS).
      supports: z
        .object({
          tensorParallel: flag.optional(),
          sequenceParallel: withSource(z.enum(["never", "optional", "always"])).optional(),
          pipelineParallel: flag.optional(),
          stageSplit: withSource(z.enum(STAGE_SPLITS as [StageSplit, ...StageSplit[]])).optional(),
          contextParallel: withSource(z.array(z.enum(CP_COMMS as [CpComm, ...CpComm[]]))).optional(),
          contextParallelSplits: withSource(z.array(z.enum(CP_SPLITS as [CpSplit, ...CpSplit[]])).min(1)).optional(),
          contextParallelUnfused: withSource(z.array(z.enum(CP_COMMS as [CpComm, ...CpComm[]]))).optional(),
          contextParallelWindow: withSource(z.array(z.enum(CP_COMMS as [CpComm, ...CpComm[]]))).optional(),
          expertParallel: flag.optional(),
          zero: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)])).min(1)).optional(),
          zeroWithPipeline: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)])).min(1)).optional(),
          zeroWithPipelineUnderBf16: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)])).min(1)).optional(),
          recomputeWithZeroBubble: flag.optional(),
          precisions: withSource(z.array(z.enum(["fp16", "bf16", "fp8"])).min(1)).optional(),
          mixedPrecisionNeedsFsdp: flag.optional(),
          positional: withSource(z.array(z.enum(["learned", "rope", "alibi"])).min(1)).optional(),
          mlp: withSource(z.array(z.enum(["gelu", "swiglu", "geglu"])).min(1)).optional(),
          groupedQueryAttention: flag.optional(),
          expertsLoopUnderFp16: flag.optional(), expertParallelUnderFp16: flag.optional(),
          moeNeedsSpWithTp: flag.optional(),
          moeWithTensorParallel: flag.optional(),
          expertTensorParallel: flag.optional(),
          zeroWithExpertParallel: withSource(z.array(z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)])).min(1)).optional(),
          latentAttention: flag.optional(),
          multiTokenPrediction: flag.optional(),
          slidingWindow: flag.optional(),
          qkvBias: flag.optional(),
          qkNorm: withSource(z.array(z.enum(["head", "full"]))).optional(),
          qkNormFullWithTensorParallel: flag.optional(), blockRecompute: flag.optional(), everyNthRecompute: flag.optional(),
        })
        .strict()
        .optional(),
      // The plans it cannot compile and the engine that prices them eager (planner/eager.ts).
      eager: z.object({ engine: withSource(z.string().min(1)), when: withSource(z.array(z.enum(EAGER_CASES))) }).strict().optional(),
      // Optional, so files written before they existed still parse: absent = Megatron's behaviour.
      activations: z
        .object({
          selectiveRecompute: withSource(z.enum(SELECTIVE_RECOMPUTES as [string, ...string[]])).optional(),
          // Megatron's --recompute-modules under attention-core (planner/recompute-modules.ts).
          recomputeModules: withSource(z.array(z.enum(RECOMPUTE_MODULES as [string, ...string[]])).min(1).refine((xs) => new Set(xs).size === xs.length, "names a module twice")).optional(),
          tensors: withSource(z.enum(ACTIVATION_TENSORS as [string, ...string[]])).optional(),
          residualBytes: withSource(z.number().refine((v) => v === 2 || v === 4, "must be 2 (16-bit) or 4 (fp32)")).optional(),
          logitBytes: withSource(z.number().gte(0).lte(64)).optional(),
          // Bytes per logit of each micro-batch's output the last pipeline stage keeps to the
          // step's end (absent: 0, Megatron's schedules free it after its backward).
          keptOutputBytes: withSource(z.number().gte(0).lte(16)).optional(),
          // HBM bytes the loss moves per logit element, forward and backward (absent: Megatron-Core's).
          lossForwardBytes: withSource(z.number().gte(0).lte(256)).optional(),
          lossBackwardBytes: withSource(z.number().gte(0).lte(256)).optional(),
        })
        .strict()
        .optional(),
      // Context parallel's merge, exchanges and kept tensors (engine-cp.ts; absent: Megatron-Core's).
      contextParallel: contextParallelSchema(z, withSource).optional(),
      // The experts' dispatcher (engine-moe.ts; absent: Megatron-Core's alltoall, 16-bit).
      moe: moeSchema(z, withSource).optional(),
      schedules: withSource(z.array(z.enum(SCHEDULES as [Schedule, ...Schedule[]])).min(1)),
      // Slowdown of compute under an overlapped collective: bounded to [0, 0.5] (Lee et al. 2025
      // measured 18.9% on average, 40% at worst).
      overlapSlowdown: withSource(z.number().gte(0).lte(0.5)),
      // The engine's GEMMs against the hardware profile's matmul table (its library's era), in
      // (0, 1]; absent: 1, the table's own stack.
      gemmEfficiency: withSource(z.number().gt(0).lte(1)).optional(),
      fp8: z
        .object({
          matmuls: withSource(z.enum(["linear", "none"])),
          weightCopyBytesPerParam: withSource(z.number().gte(0).lte(16)),
          transposeBytesPerParam: withSource(z.number().gte(0).lte(16)),
          scalingStatePerGemm: quantity,
          // Bytes per element the casts move (absent: Transformer Engine's, TE_FP8_CASTS).
          castBytes: z
            .object({ forwardInput: bytes, forwardWeight: bytes, backwardGrad: bytes, backwardInput: bytes, backwardWeight: bytes } satisfies Record<keyof Fp8CastBytes, unknown>)
            .strict()
            .optional(),
        })
        .strict(),
    })
    .strict();
  return { engineFile };
});

/** The engine profile file format. */
export const engineFileSchema = () => schemas().engineFile;

type SupportsIn = { [K in keyof EngineSupports]?: FigureIn<unknown> };

/** The parallelisms a file states, each key absent taking Megatron-Core's (MEGATRON_SUPPORTS). */
type GradBytesIn = Partial<Record<"fp16" | "bf16", { bufferBytesPerParam: number; reduceBytesPerParam: number; fixed?: boolean | undefined } | undefined>>;

/** dataParallel.gradBytesByPrecision as the file writes it → Engine's. */
function byPrecision(g: GradBytesIn): NonNullable<Engine["dataParallel"]["gradBytesByPrecision"]> {
  const out: NonNullable<Engine["dataParallel"]["gradBytesByPrecision"]> = {};
  for (const k of ["fp16", "bf16"] as const) {
    const v = g[k];
    if (v) out[k] = { buffer: v.bufferBytesPerParam, reduce: v.reduceBytesPerParam, ...(v.fixed ? { fixed: true } : {}) };
  }
  return out;
}

/** The optional yes/no keys of supports: absent, MEGATRON_SUPPORTS's where it has one, else built. */
const OPTIONAL_FLAGS = ["expertsLoopUnderFp16", "expertParallelUnderFp16", "moeNeedsSpWithTp", "moeWithTensorParallel", "expertTensorParallel", "latentAttention", "multiTokenPrediction", "qkNormFullWithTensorParallel", "blockRecompute", "everyNthRecompute"] as const;

function parseSupports(s: SupportsIn | undefined, fig: <T>(path: string, x: FigureIn<T>) => T): EngineSupports {
  if (s === undefined) return MEGATRON_SUPPORTS;
  const get = <K extends keyof EngineSupports>(k: K): EngineSupports[K] => (s[k] === undefined ? MEGATRON_SUPPORTS[k] : (fig(`supports.${k}`, s[k] as FigureIn<EngineSupports[K]>) as EngineSupports[K]));
  return {
    tensorParallel: get("tensorParallel"),
    sequenceParallel: get("sequenceParallel"),
    pipelineParallel: get("pipelineParallel"),
    stageSplit: get("stageSplit"),
    contextParallel: [...new Set(get("contextParallel"))],
    contextParallelSplits: [...new Set(get("contextParallelSplits"))],
    contextParallelUnfused: [...new Set(get("contextParallelUnfused"))],
    contextParallelWindow: [...new Set(get("contextParallelWindow"))],
    expertParallel: get("expertParallel"),
    zero: [...new Set(get("zero"))].sort(),
    zeroWithPipeline: [...new Set(get("zeroWithPipeline"))].sort(),
    ...(s.zeroWithPipelineUnderBf16 !== undefined ? { zeroWithPipelineUnderBf16: [...new Set(fig("supports.zeroWithPipelineUnderBf16", s.zeroWithPipelineUnderBf16 as FigureIn<ZeroStage[]>))].sort() } : {}),
    recomputeWithZeroBubble: get("recomputeWithZeroBubble"),
    precisions: [...new Set(get("precisions"))],
    mixedPrecisionNeedsFsdp: get("mixedPrecisionNeedsFsdp"),
    positional: [...new Set(get("positional"))],
    mlp: [...new Set(get("mlp"))],
    groupedQueryAttention: get("groupedQueryAttention"),
    ...Object.fromEntries(OPTIONAL_FLAGS.filter((k) => s[k] !== undefined || MEGATRON_SUPPORTS[k] !== undefined).map((k) => [k, s[k] !== undefined ? fig(`supports.${k}`, s[k] as FigureIn<boolean>) : MEGATRON_SUPPORTS[k]])),
    ...(s.zeroWithExpertParallel !== undefined ? { zeroWithExpertParallel: [...new Set(fig("supports.zeroWithExpertParallel", s.zeroWithExpertParallel as FigureIn<ZeroStage[]>))].sort() } : {}),
    slidingWindow: get("slidingWindow"),
    qkvBias: get("qkvBias"),
    qkNorm: [...new Set(get("qkNorm"))],
  };
}

export function parseEngineFile(raw: unknown, origin: string): Parsed<Engine> {
  const r = schemas().engineFile.safeParse(raw);
  if (!r.success) return { ok: false, message: `${origin}: ${quantityIssue(r.error, raw) ?? missingWords(firstIssue(r.error, raw))}` };
  const f = r.data;
  const sources: Record<string, string> = {};
  const errors: string[] = [];
  const fig = figureReader(origin, sources);
  // (each quantity's bounds, what it is and an example: ./engine-quantities.ts)
  function q(path: EngineQuantityPath, x: FigureIn<string>): number {
    const p = engineQuantity(path, fig(path, x));
    if (!p.ok) errors.push(`field "${path}": ${p.message}`);
    return p.ok ? p.value : NaN;
  }
  const plausibleEfficiency = (path: string, v: number) => {
    const m = implausible(path, v, v, PLAUSIBLE.efficiency);
    if (m) errors.push(m);
    return v;
  };
  const per = <T>(group: string, o: Record<ElementwiseOp, FigureIn<T>>) =>
    Object.fromEntries(ELEMENTWISE_OPS.map((k) => [k, fig(`${group}.${k}`, o[k])])) as Record<ElementwiseOp, T>;

  const fused = per("fused", f.fused);
  const unfused = per("unfusedTraffic", f.unfusedTraffic);
  const efficiency: Record<string, number> = {};
  const keyOf: Record<string, string> = {};
  for (const [gen, v] of Object.entries(f.attention.efficiency)) {
    // A generation paraplan does not know is a figure no GPU would ever read: a typo ("H1OO").
    if (!GPU_GENERATIONS.includes(gen.toUpperCase())) errors.push(`field "attention.efficiency.${gen}": not a GPU generation paraplan knows (${GPU_GENERATIONS.join(", ")})`);
    // Generations are matched without case: "h100" and "H100" are one key given twice (the last
    // won). The loaders check each file before merging (./engine-keys.ts); this is the merged one.
    const twice = keyOf[gen.toUpperCase()];
    if (twice !== undefined) errors.push(`field "attention.efficiency": "${twice}" and "${gen}" are the same GPU generation given twice; keep one`);
    keyOf[gen.toUpperCase()] = gen;
    efficiency[gen.toUpperCase()] = plausibleEfficiency(`attention.efficiency.${gen}`, fig(`attention.efficiency.${gen}`, v));
  }
  const d = f.dataParallel;
  const engine: Engine = {
    name: f.name,
    ...(f.description !== undefined ? { description: f.description } : {}),
    attention: { kernel: fig("attention.kernel", f.attention.kernel) as Engine["attention"]["kernel"], efficiency },
    fused,
    traffic: Object.fromEntries(ELEMENTWISE_OPS.map((k) => [k, fused[k] ? 1 : unfused[k]])) as Record<ElementwiseOp, number>,
    elementwise: f.elementwise === undefined ? "grouped" : (fig("elementwise", f.elementwise) as Engine["elementwise"]),
    launch: {
      perKernel: q("launch.perKernel", f.launch.perKernel),
      kernelsPerLayer: fig("launch.kernelsPerLayer", f.launch.kernelsPerLayer),
      backwardFactor: fig("launch.backwardFactor", f.launch.backwardFactor),
      ...(f.launch.rotaryBlock
        ? {
            rotaryBlock: {
              kernelsPerLayer: fig("launch.rotaryBlock.kernelsPerLayer", f.launch.rotaryBlock.kernelsPerLayer),
              backwardFactor: fig("launch.rotaryBlock.backwardFactor", f.launch.rotaryBlock.backwardFactor),
            },
          }
        : {}),
    },
    dataParallel: {
      overlapGradReduce: fig("dataParallel.overlapGradReduce", d.overlapGradReduce),
      // Absent: wherever the stack overlaps, every layout does.
      reduceAfterBackwardWith: d.reduceAfterBackwardWith === undefined ? [] : [...new Set(fig("dataParallel.reduceAfterBackwardWith", d.reduceAfterBackwardWith))],
      // Absent: every ZeRO stage runs with the reduction after the backward when told to.
      overlapForcedAtZero: d.overlapForcedAtZero === undefined ? [] : [...new Set(fig("dataParallel.overlapForcedAtZero", d.overlapForcedAtZero))],
      overlapRequiredAtZero: d.overlapRequiredAtZero === undefined ? [] : [...new Set(fig("dataParallel.overlapRequiredAtZero", d.overlapRequiredAtZero))],
      overlapParamGather: fig("dataParallel.overlapParamGather", d.overlapParamGather),
      // Absent: Megatron-LM's rule, the gather overlaps only where the reduction does.
      overlapParamGatherNeedsGradOverlap: d.overlapParamGatherNeedsGradOverlap === undefined ? true : fig("dataParallel.overlapParamGatherNeedsGradOverlap", d.overlapParamGatherNeedsGradOverlap),
      // Absent: the distributed optimizer's gather of the 16-bit weights, apart from the step.
      zero1GatherInStep: d.zero1GatherInStep === undefined ? false : fig("dataParallel.zero1GatherInStep", d.zero1GatherInStep),
      // Absent: the distributed optimizer's bucketed gather, one collective a bucket.
      zero1BroadcastPerTensor: d.zero1BroadcastPerTensor === undefined ? false : fig("dataParallel.zero1BroadcastPerTensor", d.zero1BroadcastPerTensor),
      // Absent: ZeRO-1 reduce-scatters the gradients (Megatron's distributed optimizer).
      zero1AllReduce: d.zero1AllReduce === undefined ? false : fig("dataParallel.zero1AllReduce", d.zero1AllReduce),
      // Absent: plain data parallelism at ZeRO stage 0 whatever the precision.
      bf16OptimizerAtZero0: d.bf16OptimizerAtZero0 === undefined ? false : fig("dataParallel.bf16OptimizerAtZero0", d.bf16OptimizerAtZero0),
      ...(d.fp32GradCopyAtStep !== undefined ? { fp32GradCopyAtStep: fig("dataParallel.fp32GradCopyAtStep", d.fp32GradCopyAtStep) } : {}),
      ...(d.fp32GradFlattenAtStep !== undefined ? { fp32GradFlattenAtStep: fig("dataParallel.fp32GradFlattenAtStep", d.fp32GradFlattenAtStep) } : {}),
      zero1GatherBytes: d.zero1GatherBytesPerParam === undefined ? 2 : fig("dataParallel.zero1GatherBytesPerParam", d.zero1GatherBytesPerParam),
      prefetchLayers: fig("dataParallel.prefetchLayers", d.prefetchLayers),
      bucketSize: q("dataParallel.bucketSize", d.bucketSize),
      bucketSizePerDp: q("dataParallel.bucketSizePerDp", d.bucketSizePerDp),
      // Absent: buckets of their own, two of them (cost/memory.ts bufferBytes).
      bucketsInGradBuffer: d.bucketMemory === undefined ? false : fig("dataParallel.bucketMemory", d.bucketMemory) === "gradient-buffer",
      // Absent: ZeRO-2 reduces in the buckets (DeepSpeed's reduce_bucket_size).
      ...(d.shardedReduce !== undefined && fig("dataParallel.shardedReduce", d.shardedReduce) === "layer" ? { shardedReducePerLayer: true } : {}),
      gatherCallsPerLayer: fig("dataParallel.gatherCallsPerLayer", d.gatherCallsPerLayer),
      // Absent: Megatron-Core's bf16 behaviour, an fp32 gradient buffer (as no engine prices).
      gradBufferBytes: d.gradBufferBytesPerParam === undefined ? 4 : fig("dataParallel.gradBufferBytesPerParam", d.gradBufferBytesPerParam),
      // Absent: Megatron's bf16 behaviour, fp32 gradients on the wire (as no engine prices).
      gradReduceBytes: d.gradReduceBytesPerParam === undefined ? 4 : fig("dataParallel.gradReduceBytesPerParam", d.gradReduceBytesPerParam),
      // Absent: the two figures above under every precision.
      ...(d.gradBytesByPrecision === undefined ? {} : { gradBytesByPrecision: byPrecision(fig("dataParallel.gradBytesByPrecision", d.gradBytesByPrecision)) }),
      // Absent: the link's rate (FSDP's flat per-block collectives, Zhao et al. 2023 §3.2.1).
      zero3BandwidthShare: d.zero3BandwidthShare === undefined ? 1 : fig("dataParallel.zero3BandwidthShare", d.zero3BandwidthShare),
      // Absent: parameters kept through the recompute and the backward (FSDP; cost/regather.ts).
      maxReuseDistance: d.maxReuseDistance === undefined ? null : fig("dataParallel.maxReuseDistance", d.maxReuseDistance),
      // Absent: ZeRO's own accounting, 16-bit gradient and parameter shards beside the fp32
      // master (Rajbhandari et al. 2020 §3), as the planner priced before these fields.
      shardedGradBytes: d.shardedGradBytesPerParam === undefined ? 2 : fig("dataParallel.shardedGradBytesPerParam", d.shardedGradBytesPerParam),
      shardedMaster: d.shardedParamsAreMaster === undefined ? false : fig("dataParallel.shardedParamsAreMaster", d.shardedParamsAreMaster),
      // Absent: the replicas' shared states written once, spread over them (Megatron-Core's
      // default fully parallel save; torch DCP's DefaultSavePlanner dedup).
      checkpointDedup: d.checkpointDedup === undefined ? true : fig("dataParallel.checkpointDedup", d.checkpointDedup),
    },
    recompute: fig("recompute", f.recompute) as Engine["recompute"],
    supports: parseSupports(f.supports, fig),
    ...(f.eager !== undefined ? { eager: parseEager(f.eager, fig) } : {}),
    // Absent: Megatron's selective recompute and fp32 vocab-parallel logits (Korthikanti et al.
    // 2022 §4.2, §4.3), the planner's behaviour before these fields existed.
    selectiveRecompute: (f.activations?.selectiveRecompute === undefined ? "attention-core" : fig("activations.selectiveRecompute", f.activations.selectiveRecompute)) as Engine["selectiveRecompute"],
    // (in Megatron's order, as the flag and a Megatron file give them: QA found the header and
    // --json in the file's order)
    ...(f.activations?.recomputeModules !== undefined ? { recomputeModules: RECOMPUTE_MODULES.filter((x) => (fig("activations.recomputeModules", f.activations!.recomputeModules!) as string[]).includes(x)) } : {}),
    activationTensors: (f.activations?.tensors === undefined ? "16-bit" : fig("activations.tensors", f.activations.tensors)) as Engine["activationTensors"],
    residualBytes: f.activations?.residualBytes === undefined ? 2 : fig("activations.residualBytes", f.activations.residualBytes),
    logitBytes: f.activations?.logitBytes === undefined ? 4 : fig("activations.logitBytes", f.activations.logitBytes),
    keptOutputBytes: f.activations?.keptOutputBytes === undefined ? 0 : fig("activations.keptOutputBytes", f.activations.keptOutputBytes),
    lossBytes: {
      forward: f.activations?.lossForwardBytes === undefined ? MEGATRON_LOSS_BYTES.forward : fig("activations.lossForwardBytes", f.activations.lossForwardBytes),
      backward: f.activations?.lossBackwardBytes === undefined ? MEGATRON_LOSS_BYTES.backward : fig("activations.lossBackwardBytes", f.activations.lossBackwardBytes),
    },
    contextParallel: parseContextParallel(f.contextParallel as ContextParallelIn | undefined, fig),
    moe: parseMoe(f.moe as MoeIn | undefined, fig),
    schedules: [...new Set(fig("schedules", f.schedules))],
    tensorParallel: {
      overlap: fig("tensorParallel.overlap", f.tensorParallel.overlap),
      commOverlap: f.tensorParallel.commOverlap === undefined ? null : fig("tensorParallel.commOverlap", f.tensorParallel.commOverlap),
      overlapNeedsSp: false,
      // Absent: Megatron's (the shard kept, re-gathered in the backward).
      savesGatheredInput: f.tensorParallel.savesGatheredInput === undefined ? false : fig("tensorParallel.savesGatheredInput", f.tensorParallel.savesGatheredInput),
      // Absent: a vocab-parallel loss over each rank's V/t logits (Megatron, torchtitan's loss_parallel).
      gathersLogits: f.tensorParallel.gathersLogits === undefined ? false : fig("tensorParallel.gathersLogits", f.tensorParallel.gathersLogits),
      // Absent: the norms' gradients reduced with the rest (Megatron's one coalesced all-reduce).
      normGradsPerTensor: f.tensorParallel.normGradsPerTensor === undefined ? false : fig("tensorParallel.normGradsPerTensor", f.tensorParallel.normGradsPerTensor),
      learnedEmbeddingAllReduce: f.tensorParallel.learnedEmbeddingAllReduce === undefined ? false : fig("tensorParallel.learnedEmbeddingAllReduce", f.tensorParallel.learnedEmbeddingAllReduce),
      // Absent: Megatron's one input-gradient all-reduce per sublayer (the f operator).
      inputGradPerLinear: f.tensorParallel.inputGradPerLinear === undefined ? false : fig("tensorParallel.inputGradPerLinear", f.tensorParallel.inputGradPerLinear),
    },
    overlapSlowdown: fig("overlapSlowdown", f.overlapSlowdown),
    gemmEfficiency: f.gemmEfficiency === undefined ? 1 : plausibleEfficiency("gemmEfficiency", fig("gemmEfficiency", f.gemmEfficiency)),
    fp8: {
      matmuls: fig("fp8.matmuls", f.fp8.matmuls),
      weightCopyBytes: fig("fp8.weightCopyBytesPerParam", f.fp8.weightCopyBytesPerParam),
      transposeBytes: fig("fp8.transposeBytesPerParam", f.fp8.transposeBytesPerParam),
      scalingBytesPerGemm: q("fp8.scalingStatePerGemm", f.fp8.scalingStatePerGemm),
      castBytes: f.fp8.castBytes ? (Object.fromEntries(CAST_KEYS.map((k) => [k, fig(`fp8.castBytes.${k}`, f.fp8.castBytes![k] as FigureIn<number>)])) as unknown as Fp8CastBytes) : TE_FP8_CASTS,
    },
    sources,
  };
  if (errors.length) return { ok: false, message: `${origin}: ${errors[0]}` };
  const contradiction = engineInconsistency(engine);
  if (contradiction) return { ok: false, message: `${origin}: ${contradiction}` };
  return { ok: true, value: engine };
}

