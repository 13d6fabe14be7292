// The plan space: candidate values of every dimension, and the checks that make a layout valid.
import { CP_COMMS, type CpComm, type CpSplit, DEFAULT_CP_SPLIT, type ModelSpec, type Plan, type Recompute, type Precision, type Schedule, type Training, type ZeroStage } from "./types.js";
import { bf16Optimizer } from "./cost/engine-terms.js";
import { cpWorthSearching } from "./cost/context.js";
import { type LayoutIssue, dimsOf, ruleContext, validate } from "./layout/layout.js";
import { MEGATRON_SUPPORTS, type Engine, type EngineRecompute, type EngineSupports } from "./engine.js";

/** The parallelisms the training's stack runs (no engine: Megatron-Core's). A fixed dimension is kept
 *  as given here: the application layer refuses one the engine cannot run (constraints.ts). */
export const supportsOf = (e: Engine | undefined): EngineSupports => e?.supports ?? MEGATRON_SUPPORTS;

/** The ZeRO stages the engine runs beside a pipeline under this precision (EngineSupports
 *  zeroWithPipelineUnderBf16 for bf16 and fp8, else zeroWithPipeline). */
export function zeroBesidePipeline(s: EngineSupports, precision: Precision | undefined): readonly ZeroStage[] {
  return precision !== undefined && precision !== "fp16" && s.zeroWithPipelineUnderBf16 !== undefined ? s.zeroWithPipelineUnderBf16 : s.zeroWithPipeline;
}

/** Dimensions the user fixed (`--tp 8`, `--zero 1`, …); absent ones are searched. */
export type Fixed = Partial<Plan>;

export { RECOMPUTE_MODES, ZERO_STAGES } from "./schema/plan.js";
import { RECOMPUTE_MODES } from "./schema/plan.js";

/** The divisors of a positive integer n, ascending, in O(√n): each d ≤ √n with its pair n/d.
 *  (Not an integer, or not positive: none.) */
export function divisors(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) return [];
  const low: number[] = [];
  const high: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    low.push(d);
    if (d * d !== n) high.push(n / d);
  }
  return low.concat(high.reverse());
}

/** tp candidates: divisors of the GPU count up to the head count (a head is never split); 1 on a
 *  stack without tensor parallel. */
export function tpCandidates(m: ModelSpec, t: Training, fixed: Fixed): number[] {
  if (fixed.tp !== undefined) return [fixed.tp];
  const rest = (fixed.pp ?? 1) * (fixed.dp ?? 1) * (fixed.cp ?? 1);
  if (fixed.pp !== undefined && fixed.dp !== undefined && fixed.cp !== undefined) return [t.gpus / rest].filter(Number.isInteger);
  const any = supportsOf(t.engine).tensorParallel;
  return divisors(t.gpus).filter((d) => d <= m.heads && (t.gpus / d) % rest === 0 && (any || d === 1));
}

/** pp candidates: divisors of gpus/(tp·cp) up to the layer count (a layer is never split); 1 on a
 *  stack without pipelines. */
export function ppCandidates(m: ModelSpec, t: Training, fixed: Fixed, tp: number, cp = 1): number[] {
  const rest = t.gpus / (tp * cp);
  const any = supportsOf(t.engine).pipelineParallel;
  const all = fixed.pp !== undefined ? [fixed.pp] : divisors(rest).filter((d) => d <= m.layers && (any || d === 1));
  return all.filter((d) => rest % d === 0 && (fixed.dp === undefined || d * fixed.dp * tp * cp === t.gpus));
}

/** cp candidates: the fixed one, else 1 and the divisors of gpus/tp worth searching for this
 *  sequence (cost/context.ts cpWorthSearching: from 16K tokens, at least 1K tokens a rank) that
 *  leave room for fixed pp and dp. A mixture-of-experts model searches cp = 1 only (rule cp_moe). */
export function cpCandidates(m: ModelSpec, t: Training, fixed: Fixed, tp: number): number[] {
  if (fixed.cp !== undefined) return [fixed.cp];
  if (m.moe !== undefined || supportsOf(t.engine).contextParallel.length === 0) return [1];
  const rest = (fixed.pp ?? 1) * (fixed.dp ?? 1);
  return divisors(t.gpus / tp).filter((c) => cpWorthSearching(c, t.seqLen) && (t.gpus / tp / c) % rest === 0);
}

/** The cp variants searched for cp > 1 (none for cp = 1): the fixed ones, else every exchange the
 *  stack has (all-gather, ring, all-to-all) with the balanced zig-zag split where the stack cuts
 *  so, else the cut it makes (EngineSupports.contextParallelSplits: Megatron-DeepSpeed's Ulysses
 *  cuts contiguous chunks only). Contiguous chunks are otherwise priced only when fixed: they cost
 *  what zig-zag costs plus the causal imbalance, never less (cost/context.ts cpImbalance). */
export function cpVariants(fixed: Fixed, cp: number, engine?: Engine): readonly (readonly [CpComm | undefined, CpSplit | undefined])[] {
  if (cp === 1) return NO_VARIANT;
  const s = supportsOf(engine);
  const has = s.contextParallel;
  const comms = fixed.cpComm !== undefined ? [fixed.cpComm] : has.length > 0 ? has : CP_COMMS;
  const split = fixed.cpSplit ?? (s.contextParallelSplits.includes(DEFAULT_CP_SPLIT) ? DEFAULT_CP_SPLIT : s.contextParallelSplits[0] ?? DEFAULT_CP_SPLIT);
  return comms.map((c) => [c, split] as const);
}
const NO_VARIANT = [[undefined, undefined]] as const;

/** (cp, exchange, split) triples of the search, in order: each cp candidate with its variants.
 *  Under unfused attention only the exchanges the stack runs so (EngineSupports.
 *  contextParallelUnfused; a fixed one outside them is refused before, constraints.ts). */
export function cpChoices(m: ModelSpec, t: Training, fixed: Fixed, tp: number): (readonly [number, CpComm | undefined, CpSplit | undefined])[] {
  const out: (readonly [number, CpComm | undefined, CpSplit | undefined])[] = [];
  const unfused = t.fusedAttention ? null : supportsOf(t.engine).contextParallelUnfused;
  // (a sliding-window model: only the exchanges the stack runs windows in, EngineSupports.contextParallelWindow)
  const window = m.slidingWindow === undefined ? null : supportsOf(t.engine).contextParallelWindow;
  for (const cp of cpCandidates(m, t, fixed, tp))
    for (const [c, s] of cpVariants(fixed, cp, t.engine)) if (cp === 1 || ((unfused === null || unfused.includes(c!)) && (window === null || window.includes(c!)))) out.push([cp, c, s]);
  return out;
}

/** Expert parallel and expert tensor parallel, (ep, etp) pairs: [1, 1] for a dense model. ep runs
 *  over the divisors of the routed experts, etp over 1 and tp (Megatron-LM's default etp is tp,
 *  arguments.py; 1 keeps experts whole), each pair folding onto the tp·dp ranks of a stage
 *  (ep·etp divides tp·dp; Megatron-Core MoE parallel folding). Fixed values are kept as given, so
 *  that the layout rules count the ones that do not fold. */
export function expertCandidates(m: ModelSpec, fixed: Fixed, tp: number, dp: number, engine?: Engine): (readonly [number, number])[] {
  // (a stack without expert parallel keeps each expert group on every rank: ep = etp = 1)
  if (m.moe === undefined || !supportsOf(engine).expertParallel) return [[fixed.ep ?? 1, fixed.etp ?? 1]];
  const ranks = tp * dp;
  const eps = fixed.ep !== undefined ? [fixed.ep] : divisors(m.moe.experts).filter((e) => ranks % e === 0);
  const etps = fixed.etp !== undefined ? [fixed.etp] : tp > 1 && supportsOf(engine).expertTensorParallel !== false ? [1, tp] : [1];
  const out: (readonly [number, number])[] = [];
  for (const ep of eps)
    for (const etp of etps) if (fixed.ep !== undefined || fixed.etp !== undefined || ranks % (ep * etp) === 0) out.push([ep, etp]);
  return out;
}

/** Virtual stages per pipeline rank: the divisors of the layers per stage (1 without a pipeline). */
export function vppCandidates(m: ModelSpec, fixed: Fixed, pp: number): number[] {
  if (pp === 1) return fixed.vpp === undefined || fixed.vpp === 1 ? [1] : [];
  if (fixed.vpp !== undefined) return [fixed.vpp];
  // Uneven stages: one per rank unless --vpp says the split lists p·v virtual stages (rules.ts
  // stage_layers_count).
  if (fixed.stageLayers !== undefined) return [1];
  return divisors(m.layers / pp);
}

export function scheduleCandidates(fixed: Fixed, pp: number, vpp: number, engine?: { schedules: readonly Schedule[] }): Schedule[] {
  // Zero-bubble schedules beside 1F1B, GPipe and interleaved: zb1p with any vpp, the V-shaped
  // zbv and dualpipev with exactly two stages per rank (layout/rules.ts).
  const all: Schedule[] = pp === 1 ? ["1f1b"] : vpp === 1 ? ["1f1b", "gpipe", "zb1p"] : vpp === 2 ? ["interleaved", "zb1p", "zbv", "dualpipev"] : ["interleaved", "zb1p"];
  // The engine's schedules only (a 2021 Megatron-LM has no zero-bubble schedule); a fixed one as asked.
  if (fixed.schedule !== undefined) return all.filter((s) => s === fixed.schedule);
  return engine === undefined ? all : all.filter((s) => engine.schedules.includes(s));
}

/** Micro-batch sizes: divisors of the per-replica batch B/dp (a fixed one is checked by the
 *  layout rules). */
export function microBatchCandidates(t: Training, fixed: Fixed, dp: number): number[] {
  if (fixed.microBatch !== undefined) return [fixed.microBatch];
  return divisors(t.globalBatch / dp);
}

/** Sequence parallelism exists only with tp > 1: a fixed --sequence-parallel leaves tp = 1 out.
 *  Searched as the stack runs it: never, either way, or always with tp. */
export function spCandidates(fixed: Fixed, tp: number, needsSp = false, mode: EngineSupports["sequenceParallel"] = "optional"): readonly boolean[] {
  if (tp === 1) return fixed.sequenceParallel === true ? [] : SP_OFF;
  if (fixed.sequenceParallel !== undefined) return fixed.sequenceParallel ? SP_ON : SP_OFF;
  // An overlap that needs sequence parallelism (layout/rules.ts tp_overlap_sp): only with it.
  if (needsSp || mode === "always") return SP_ON;
  return mode === "never" ? SP_OFF : SP_BOTH;
}
const SP_OFF: readonly boolean[] = [false];
const SP_ON: readonly boolean[] = [true];
const SP_BOTH: readonly boolean[] = [false, true];

const ZERO_ONLY: readonly ZeroStage[] = [0];
const ZERO_0_1: readonly ZeroStage[] = [0, 1];

/** ZeRO stages: the stack's (with a pipeline, those it runs beside one), or the fixed one. ZeRO
 *  partitions the model states over the data-parallel group (Rajbhandari et al. 2020 §5); with
 *  dp = 1 there is nothing to partition and stages 1–3 are ZeRO-0 under another name, so the space
 *  holds ZeRO-0 only there (a fixed stage is still evaluated as asked). A fixed stage the engine
 *  does not run beside a pipeline leaves the searched pipelines out (pp free, --zero 3 under
 *  megatron-core or torchtitan: no pp > 1 plan); with pp fixed too, or a stage the engine does not
 *  run at all, it is bad input (constraints.ts checkFixed). Without an engine (a library caller) a
 *  fixed stage is evaluated everywhere. One exception: where ZeRO-0 under the training's precision
 *  is DeepSpeed's BF16_Optimizer (Engine.dataParallel.bf16OptimizerAtZero0), which keeps an fp32
 *  copy of the gradients whatever dp is, ZeRO-1 (DeepSpeed's ZeRO optimizer) is another plan at
 *  dp = 1, lighter: both are searched. */
export function zeroCandidates(fixed: Fixed, dp: number, pp = 1, engine?: Engine, tp = 1, precision?: Precision, ep = 1): readonly ZeroStage[] {
  const some = zeroStages(fixed, dp, pp, engine, precision);
  // Beside expert parallel, the stages the stack runs there (EngineSupports.zeroWithExpertParallel).
  const withEp = ep > 1 ? engine?.supports.zeroWithExpertParallel : undefined;
  const all = withEp ? some.filter((z) => withEp.includes(z)) : some;
  // A stack that trains 16-bit beside tp or pp only under FSDP (EngineSupports.mixedPrecisionNeedsFsdp)
  // runs ZeRO-0 there in fp32: left out (with dp·cp = 1 nothing is left: no such layout).
  if ((tp > 1 || pp > 1) && engine !== undefined && supportsOf(engine).mixedPrecisionNeedsFsdp) return dp === 1 ? NO_ZERO : all.filter((z) => z !== 0);
  // A stage the stack runs only with the reduction overlapped, under a training without it
  // (Megatron-FSDP's ZeRO-2, Engine.dataParallel.overlapRequiredAtZero): left out.
  const required = engine?.dataParallel.overlapRequiredAtZero;
  if (required !== undefined && required.length > 0 && !engine!.dataParallel.overlapGradReduce) return all.filter((z) => !required.includes(z));
  return all;
}

function zeroStages(fixed: Fixed, dp: number, pp: number, engine?: Engine, precision?: Precision): readonly ZeroStage[] {
  if (fixed.zero !== undefined) {
    if (dp === 1 || pp === 1 || engine === undefined) return [fixed.zero];
    return zeroBesidePipeline(supportsOf(engine), precision).includes(fixed.zero) ? [fixed.zero] : NO_ZERO;
  }
  const s = supportsOf(engine);
  // (at dp 1 BF16_Optimizer's ZeRO-0 and DeepSpeed's ZeRO-1 differ: both, where the stack runs them)
  if (dp === 1) return engine !== undefined && precision !== undefined && bf16Optimizer({ engine, precision }, 0) ? (pp > 1 ? zeroBesidePipeline(s, precision) : ZERO_0_1) : ZERO_ONLY;
  return pp > 1 ? zeroBesidePipeline(s, precision) : s.zero;
}
const NO_ZERO: readonly ZeroStage[] = [];

const WHOLE_LAYERS: readonly Recompute[] = ["none", "full"];
const FULL_ONLY: readonly Recompute[] = ["full"];

/** The recompute modes searched: the fixed one, else every mode the engine runs (whole layers or
 *  nothing under llm-foundry; full alone under a 2021 stack: planner/engine.ts Engine.recompute). */
export function recomputeCandidates(fixed: Fixed, engine?: { recompute: EngineRecompute }): readonly Recompute[] {
  if (fixed.recompute !== undefined) return [fixed.recompute];
  return engine?.recompute === "full" ? FULL_ONLY : engine?.recompute === "layers" ? WHOLE_LAYERS : RECOMPUTE_MODES;
}

/** All layout rules of one complete plan (layout/rules.ts), for plans that come from a file, an
 *  engine configuration or the interactive planner rather than from the enumeration: the first
 *  issue, or null. */
export function checkLayout(m: ModelSpec, t: Training, gpusPerNode: number, plan: Plan, nvlinkDomain?: number): LayoutIssue | null {
  return validate(ruleContext(m, t, gpusPerNode, nvlinkDomain), dimsOf(plan))[0] ?? null;
}
