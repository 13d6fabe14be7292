// Checks of the user's fixed dimensions and training setup before a search: a value that can
// never form a plan is bad input (named by its flag, with a code), not a rejected configuration.
// The layout rules themselves live once in layout/rules.ts.
import { ruleContext, validateFixed } from "./layout/layout.js";
import type { LayoutCode } from "./layout/rules.js";
import { type Fixed, supportsOf, zeroBesidePipeline } from "./space.js";
import type { Engine } from "./engine.js";
import { ZERO_BUBBLE } from "./layout/capabilities.js";
import { runsEveryNth } from "./cost/nth-recompute.js";
import { runsBlockRecompute } from "./cost/block-recompute.js";
import type { Hardware, ModelSpec, Precision, Training } from "./types.js";

export type TrainingCode = "no_fp8" | "global_batch" | "gpus" | "partial_node" | "seq_len" | "no_layers" | "engine_unsupported";

export interface InputIssue {
  code: LayoutCode | TrainingCode;
  flag: string;
  message: string;
  /** What to change, where the flag is --engine: a caller whose engine the user did not choose
   *  (an export's format, execute's worker) names what chose it instead (src/plan-request.ts). */
  hint?: string;
}

/** Schedules that run more than one stage per pipeline rank (rules.ts schedule_vpp, v_schedule_vpp). */
const VIRTUAL_SCHEDULES: ReadonlySet<string> = new Set(["interleaved", "zb1p", "zbv", "dualpipev"]);

const issue = (code: TrainingCode, flag: string, message: string, hint?: string): InputIssue => (hint === undefined ? { code, flag, message } : { code, flag, message, hint });

/** The issue as one line after its flag: the message, then the hint. */
export const issueText = (i: InputIssue): string => (i.hint === undefined ? i.message : `${i.message}; ${i.hint}`);

/** `engines`: the built-in engines, for a model one of them cannot build: the hint names those
 *  that build every part of it (modelGaps), or says none does. Without them the hint names none. */
export function checkTraining(m: ModelSpec, hw: Hardware, t: Training, engines?: () => readonly Engine[]): InputIssue | null {
  // A precision the stack does not train in (Engine.supports.precisions): Megatron-LM and DeepSpeed
  // of 2021-22 predate fp8, torchtitan has no fp16; a plan labelled so would price another run.
  const e = t.engine;
  const precisions = supportsOf(e).precisions;
  // The alternatives named are the stack's own: "use bf16 or fp16" sent torchtitan's and execute's
  // worker's users (bf16 or fp8 only) to a precision refused on the next try.
  if (t.precision === "fp8" && hw.peak.fp8 === null) {
    const others = (["bf16", "fp16"] as const).filter((p) => precisions.includes(p));
    return issue("no_fp8", "--precision", `${hw.gpuName} has no fp8 tensor cores; use ${others.length > 0 ? others.join(" or ") : "bf16"}`);
  }
  if (e !== undefined && !precisions.includes(t.precision)) {
    const source = e.sources["supports.precisions"];
    return issue("engine_unsupported", "--precision", `engine ${e.name} trains in ${precisions.join(" or ")}, not ${t.precision}${source ? ` (${source})` : ""}`);
  }
  // fp8 on a stack with no fp8 matmuls was priced as bf16 under an fp8 label.
  if (e !== undefined && t.precision === "fp8" && e.fp8.matmuls === "none")
    return issue("engine_unsupported", "--precision", `engine ${e.name} runs no fp8 matmuls (fp8.matmuls "none"), so fp8 would price its bf16 step`, "use --precision bf16, or an engine file whose fp8.matmuls is \"linear\"");
  const gaps = e === undefined ? [] : modelGaps(m, e);
  if (gaps.length > 0) return gapIssue(m, e!, gaps, engines);
  if (t.globalBatch < 1) return issue("global_batch", "--global-batch", "must be a positive integer");
  if (t.gpus < 1) return issue("gpus", "--gpus", "must be a positive integer");
  // Beyond one node the cluster is whole nodes: the placement of groups (layout/groups.ts), the
  // node count of the header and the exports assume it; a partial node would be priced as full.
  if (t.gpus > hw.gpusPerNode && t.gpus % hw.gpusPerNode !== 0)
    return issue("partial_node", "--gpus", `${t.gpus} is not a whole number of ${hw.name}'s ${hw.gpusPerNode}-GPU nodes`, `use ${Math.floor(t.gpus / hw.gpusPerNode) * hw.gpusPerNode} or ${Math.ceil(t.gpus / hw.gpusPerNode) * hw.gpusPerNode}, or a profile with the node size you have`);
  if (t.seqLen < 1) return issue("seq_len", "--seq", "must be a positive integer");
  if (m.layers < 1) return issue("no_layers", "--model", "the model needs at least one layer");
  return null;
}

/** What to do about a model the engine cannot build: another engine that builds every part of it
 *  (not only the part refused: OLMoE's experts and its norms over the whole projections), or, where
 *  no built-in one does, a profile of this one that states them all. */
function engineHint(m: ModelSpec, e: Engine, gaps: readonly Gap[], engines: (() => readonly Engine[]) | undefined): string {
  const keys = gaps.map((g) => `supports.${g.key}`);
  const sets = keys.length > 1 ? `${keys.slice(0, -1).join(", ")} and ${keys[keys.length - 1]}` : keys[0]!;
  if (engines === undefined) return `pick an engine that builds it, or a profile that extends ${e.name} and sets ${sets}`;
  const builders = engines().filter((x) => x.name !== e.name && modelGaps(m, x).length === 0).map((x) => x.name);
  if (builders.length > 0) return `pick an engine that builds every part of ${m.name} (${builders.join(", ")}), or a profile that extends ${e.name} and sets ${sets}`;
  return `no built-in engine builds every part of ${m.name}; an engine file that extends ${e.name} and sets ${sets} (with the source that says its stack builds them) does`;
}

/** The engine's refusal of the model's first gap, with the hint of engineHint. */
function gapIssue(m: ModelSpec, e: Engine, gaps: readonly Gap[], engines: (() => readonly Engine[]) | undefined): InputIssue {
  const g = gaps[0]!;
  const source = e.sources[`supports.${g.key}`];
  return issue("engine_unsupported", "--engine", `${g.says}${source ? ` (${source})` : ""}${g.after ?? ""}`, engineHint(m, e, gaps, engines));
}

/** A stack without expert parallel refusing a mixture-of-experts model (modelGaps' first check),
 *  as checkTraining says it: also said by `plan --from` before the flags it would ask of a file's
 *  experts (src/engines/compare.ts). */
export function moeEngineIssue(m: ModelSpec, e: Engine, engines?: () => readonly Engine[]): InputIssue | null {
  const gaps = modelGaps(m, e);
  return gaps[0]?.key === "expertParallel" ? gapIssue(m, e, gaps, engines) : null;
}

const POSITIONS: Record<ModelSpec["positional"], string> = { learned: "learned", rope: "rotary", alibi: "ALiBi" };
const MLPS: Record<ModelSpec["mlp"], string> = { gelu: "GELU", swiglu: "SwiGLU", geglu: "GeGLU" };
const either = (xs: readonly string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}` : xs[0]!);

/** A part of the model the engine's code does not build: its supports key, and the refusal in
 *  words (the source goes between `says` and `after`). */
interface Gap {
  key: string;
  says: string;
  after?: string;
}

/** Every part of the model the engine's model code cannot build (Engine.supports expertParallel,
 *  positional, mlp, groupedQueryAttention, latentAttention, multiTokenPrediction, slidingWindow,
 *  qkvBias, qkNorm), in that order: Megatron-LM v2.6 builds GPT with learned positions and GELU
 *  only; a price for Llama under it would be a run nobody can start. Named by --engine, since the
 *  model is what the user asked for and the stack is the choice to change. */
export function modelGaps(m: ModelSpec, e: Engine): Gap[] {
  const s = supportsOf(e);
  const out: Gap[] = [];
  const gap = (key: string, has: string, builds: string) => out.push({ key, says: `${m.name} has ${has}; engine ${e.name} builds ${builds}` });
  // A stack without expert parallel runs no mixture-of-experts layers as its profile has them
  // (Engine.supports.expertParallel): an MoE model under it would be priced by a stack that
  // cannot train it.
  if (m.moe !== undefined && !s.expertParallel) out.push({ key: "expertParallel", says: `engine ${e.name} runs no mixture-of-experts layers as paraplan prices them`, after: `, and ${m.name} has ${m.moe.experts} experts` });
  if (!s.positional.includes(m.positional)) gap("positional", `${POSITIONS[m.positional]} positions`, `${either(s.positional.map((p) => POSITIONS[p]))} positions only`);
  if (!s.mlp.includes(m.mlp)) gap("mlp", `a ${MLPS[m.mlp]} MLP`, `${either(s.mlp.map((x) => MLPS[x]))} MLPs only`);
  if (m.kvHeads < m.heads && !s.groupedQueryAttention) gap("groupedQueryAttention", `grouped-query attention (${m.kvHeads} K/V heads for ${m.heads} query heads)`, "no grouped-query attention");
  if (m.mla !== undefined && s.latentAttention === false) gap("latentAttention", "multi-head latent attention (MLA)", "no latent attention");
  if ((m.mtpLayers ?? 0) > 0 && s.multiTokenPrediction === false) gap("multiTokenPrediction", `${m.mtpLayers} multi-token-prediction module${m.mtpLayers === 1 ? "" : "s"}`, "no multi-token-prediction modules");
  if (m.slidingWindow !== undefined && !s.slidingWindow) gap("slidingWindow", `sliding-window attention (${m.slidingWindow} keys)`, "no sliding-window attention");
  if (m.qkvBias && !s.qkvBias) gap("qkvBias", "biases on Q, K and V", "no Q/K/V biases without the other linear layers' biases");
  if (m.qkNorm !== undefined && !s.qkNorm.includes(m.qkNorm))
    gap("qkNorm", `RMSNorm on queries and keys over ${m.qkNorm === "head" ? "each head" : "the whole projections"}`, s.qkNorm.length > 0 ? `query/key norms over ${s.qkNorm.map((x) => (x === "head" ? "each head" : "the whole projections")).join(" or ")} only` : "no query/key norms");
  return out;
}

/** The first rule of the layout table that the fixed dimensions break by themselves, then the
 *  first fixed dimension the training's stack does not run (Engine.supports). */
export function checkFixed(m: ModelSpec, t: Training, f: Fixed, gpusPerNode = Infinity): InputIssue | null {
  return validateFixed(ruleContext(m, t, gpusPerNode), f) ?? expertGroupsFit(f, t) ?? unsupportedByEngine(f, t.engine, t.precision) ?? expertsLoop(m, f, t) ?? moeUnsupported(m, f, t) ?? unfusedCp(f, t) ?? windowCp(m, f, t) ?? tooFewForDualPipeV(f, t) ?? noDataParallelLeft(f, t);
}

/** A fixed ep (and etp) whose groups cannot fold onto a pipeline stage's ranks whatever the other
 *  degrees: tp·cp·dp = gpus/pp, and etp·ep must divide it (layout rule expert_fold, which checks
 *  the whole fold once every degree is given; Megatron-Core's MoE parallel folding, formulas-scale
 *  §1.5: world_size divisible by etp·ep·pp). Without this an --ep 128 on 64 GPUs searched nothing
 *  and said "no valid configuration" (exit 1) instead of naming the flag. */
function expertGroupsFit(f: Fixed, t: Training): InputIssue | null {
  const ep = f.ep ?? 1;
  const etp = f.etp ?? 1;
  const pp = f.pp ?? 1;
  if (ep * etp === 1 || t.gpus % pp !== 0 || (t.gpus / pp) % (ep * etp) === 0) return null;
  const what = etp > 1 ? `etp·ep = ${etp}·${ep} = ${etp * ep}` : `ep ${ep}`;
  const where = pp > 1 ? `the ${t.gpus / pp} GPUs of a pipeline stage (${t.gpus} GPUs / pp ${pp})` : `the ${t.gpus} GPUs`;
  return { code: "expert_fold", flag: f.ep !== undefined ? "--ep" : "--etp", message: `${what} does not divide ${where}: the expert groups fold onto each stage's tp·cp·dp ranks (Megatron-Core MoE parallel folding)` };
}

/** A fixed ep leaving a rank several local experts under fp16, where the engine loops over them
 *  (layout rule moe_fp16_local_experts, which the search applies to the ep it tries). Where the
 *  engine runs no expert parallel under fp16 either (rule moe_fp16_ep: Megatron's assert), no ep
 *  is left, and --precision is the flag to change. */
function expertsLoop(m: ModelSpec, f: Fixed, t: Training): InputIssue | null {
  const experts = m.moe?.experts ?? 0;
  const s = supportsOf(t.engine);
  if (f.ep === undefined || experts === 0 || f.ep >= experts || t.precision !== "fp16" || !s.expertsLoopUnderFp16) return null;
  const loop = `engine ${t.engine?.name ?? "megatron-core"} runs a rank's ${experts / f.ep} local experts one after another under fp16 (${t.engine?.sources["supports.expertsLoopUnderFp16"] ?? "its grouped GEMM needs bf16"}), which paraplan does not price`;
  if (s.expertParallelUnderFp16 === false)
    return issue("engine_unsupported", "--precision", `${loop}, and it runs no expert parallel under fp16 (${t.engine?.sources["supports.expertParallelUnderFp16"] ?? "Megatron asserts \"Expert parallelism is not supported with fp16 training\""})`, "use --precision bf16 or fp8");
  return issue("engine_unsupported", "--ep", loop, `use --precision bf16 or fp8, or --ep ${experts}`);
}

/** A fixed expert dimension the stack runs no MoE model with (EngineSupports expertTensorParallel,
 *  zeroWithExpertParallel: paraplan's worker runs etp 1, and ep > 1 at ZeRO 0 only). */
function moeUnsupported(m: ModelSpec, f: Fixed, t: Training): InputIssue | null {
  const e = t.engine;
  if (m.moe === undefined || e === undefined) return null;
  const s = e.supports;
  const source = (k: string) => (e.sources[`supports.${k}`] ? ` (${e.sources[`supports.${k}`]})` : "");
  if ((f.etp ?? 1) > 1 && s.expertTensorParallel === false)
    return issue("engine_unsupported", "--etp", `engine ${e.name} does not run expert tensor parallel (etp ${f.etp})${source("expertTensorParallel")}`, "leave --etp to the search");
  const z = s.zeroWithExpertParallel;
  if ((f.ep ?? 1) > 1 && f.zero !== undefined && z !== undefined && !z.includes(f.zero))
    return issue("engine_unsupported", "--zero", `engine ${e.name} runs expert parallel (ep ${f.ep}) beside ZeRO ${z.join(", ")} only, not ${f.zero}${source("zeroWithExpertParallel")}`, `use --zero ${z[0]}, or --ep 1`);
  return null;
}

/** tp · pp fixed to every GPU (no cp) under a stack that trains 16-bit beside them only with FSDP
 *  over data-parallel ranks (EngineSupports.mixedPrecisionNeedsFsdp): none is left to shard. */
function noDataParallelLeft(f: Fixed, t: Training): InputIssue | null {
  const e = t.engine;
  if (e === undefined || !supportsOf(e).mixedPrecisionNeedsFsdp || (f.cp ?? 1) > 1) return null;
  const tp = f.tp ?? 1;
  const pp = f.pp ?? 1;
  if ((tp === 1 && pp === 1) || tp * pp !== t.gpus) return null;
  const flag = tp > 1 ? "--tp" : "--pp";
  const source = e.sources["supports.mixedPrecisionNeedsFsdp"];
  return issue("engine_unsupported", flag, `tp ${tp} · pp ${pp} takes all ${t.gpus} GPUs, leaving no data-parallel rank for FSDP, and engine ${e.name} trains in 16 bits beside tensor or pipeline parallel only under FSDP (else in fp32${source ? `: ${source}` : ""})`, "leave GPUs for data parallel (ZeRO 2 or 3), or use context parallel");
}

/** A fixed cp > 1 under unfused attention where the stack's context parallel needs fused kernels
 *  (EngineSupports.contextParallelUnfused): Transformer Engine's get_attention_backend disables
 *  unfused attention for cp > 1, torch's context_parallel dispatches the SDPA flash, efficient and
 *  cuDNN kernels only. */
function unfusedCp(f: Fixed, t: Training): InputIssue | null {
  if ((f.cp ?? 1) <= 1 || t.fusedAttention) return null;
  const s = supportsOf(t.engine);
  const comms = f.cpComm !== undefined ? [f.cpComm] : s.contextParallel;
  if (comms.some((c) => s.contextParallelUnfused.includes(c))) return null;
  const name = t.engine?.name ?? "megatron-core";
  const source = t.engine?.sources["supports.contextParallelUnfused"];
  const runs = s.contextParallelUnfused.length > 0 ? `with unfused attention only as ${s.contextParallelUnfused.join(", ")}` : "in fused (flash) attention kernels only";
  return issue("engine_unsupported", "--cp", `engine ${name} runs context parallel ${runs}${source ? ` (${source})` : ""}, and the attention is unfused (cp ${f.cp}${f.cpComm ? `, ${f.cpComm}` : ""})`, "use --attention fused, or cp 1");
}

/** dualpipev with a fixed pp whose 2·pp micro-batches (torch ScheduleDualPipeV; layout rule
 *  dualpipev_microbatches) no dp and micro-batch can give: m = B/(dp·b) is at most B over the fixed
 *  dp and micro-batch (1 where searched). Bad input, not a search that rejects every layout. */
function tooFewForDualPipeV(f: Fixed, t: Training): InputIssue | null {
  const pp = f.pp ?? 1;
  if (f.schedule !== "dualpipev" || pp <= 1) return null;
  const most = t.globalBatch / ((f.dp ?? 1) * (f.microBatch ?? 1));
  if (most >= 2 * pp) return null;
  const over = f.dp !== undefined || f.microBatch !== undefined ? ` over dp ${f.dp ?? 1} and micro-batch ${f.microBatch ?? 1}` : "";
  return { code: "dualpipev_microbatches", flag: "--schedule", message: `dualpipev needs at least 2·pp = ${2 * pp} micro-batches a step, and global batch ${t.globalBatch}${over} gives at most ${Math.floor(most)}; raise --global-batch, lower --pp, or pick another schedule` };
}

/** A fixed cp > 1 for a sliding-window model where the stack's context parallel runs windows in
 *  other exchanges only (EngineSupports.contextParallelWindow): Transformer Engine asserts a
 *  window only with its all-gather or all-to-all, torch's ring attention takes no mask. The flag
 *  named is --cp-comm where it was fixed and another exchange windows, else --cp. */
function windowCp(m: ModelSpec, f: Fixed, t: Training): InputIssue | null {
  if ((f.cp ?? 1) <= 1 || m.slidingWindow === undefined) return null;
  const s = supportsOf(t.engine);
  const comms = f.cpComm !== undefined ? [f.cpComm] : s.contextParallel;
  if (comms.some((c) => s.contextParallelWindow.includes(c))) return null;
  const name = t.engine?.name ?? "megatron-core";
  const source = t.engine?.sources["supports.contextParallelWindow"];
  const runs = s.contextParallelWindow.length > 0 ? `with a sliding window only as ${s.contextParallelWindow.join(", ")}` : "without sliding-window attention only";
  const other = s.contextParallelWindow.filter((c) => s.contextParallel.includes(c));
  // (--cp-comm only where another exchange would do; where none windows, cp itself is the change)
  const flag = f.cpComm !== undefined && other.length > 0 ? "--cp-comm" : "--cp";
  return issue("engine_unsupported", flag, `engine ${name} runs context parallel ${runs}${source ? ` (${source})` : ""}, and ${m.name} attends over a ${m.slidingWindow}-key window (cp ${f.cp}${f.cpComm ? `, ${f.cpComm}` : ""})`, other.length > 0 ? `use --cp-comm ${other.join(" or ")}, or cp 1` : "use cp 1");
}

/** A fixed dimension the engine's stack cannot run: bad input naming its flag, the engine and the
 *  source its profile gives (the search never tries one; space.ts). */
export function unsupportedByEngine(f: Fixed, e: Engine | undefined, precision?: Precision): InputIssue | null {
  if (e === undefined) return null;
  const s = supportsOf(e);
  const no = (flag: string, what: string, key: string, path = `supports.${key}`) =>
    issue("engine_unsupported", flag, `engine ${e.name} ${what}${e.sources[path] ? ` (${e.sources[path]})` : ""}`, `pick another --engine or leave ${flag} to the search`);
  if ((f.tp ?? 1) > 1 && !s.tensorParallel) return no("--tp", `does not run tensor parallel (tp ${f.tp})`, "tensorParallel");
  if (f.sequenceParallel === true && s.sequenceParallel === "never") return no("--sequence-parallel", "does not run sequence parallel", "sequenceParallel");
  if (f.sequenceParallel === false && (f.tp ?? 1) > 1 && s.sequenceParallel === "always") return no("--no-sequence-parallel", "always runs sequence parallel with tensor parallel", "sequenceParallel");
  if ((f.pp ?? 1) > 1 && !s.pipelineParallel) return no("--pp", `does not run pipeline parallel (pp ${f.pp})`, "pipelineParallel");
  // Pipeline-only settings under a stack without a pipeline: nothing to search, so named here.
  if ((f.vpp ?? 1) > 1 && !s.pipelineParallel) return no("--vpp", `does not run pipeline parallel (vpp ${f.vpp})`, "pipelineParallel");
  if (f.stageLayers !== undefined && !s.pipelineParallel) return no("--stage-layers", "does not run pipeline parallel", "pipelineParallel");
  if (f.stageLayers !== undefined && s.stageSplit === "even" && f.stageLayers.some((n) => n !== f.stageLayers![0]))
    return no("--stage-layers", `runs even pipeline stages only, not ${f.stageLayers.join(",")}`, "stageSplit");
  // 1F1B stands for a single stage (no pipeline) in every engine's list; any other schedule needs one.
  if (f.schedule !== undefined && f.schedule !== "1f1b" && !s.pipelineParallel) return no("--schedule", `does not run pipeline parallel (no ${f.schedule} schedule)`, "pipelineParallel");
  if ((f.cp ?? 1) > 1 && s.contextParallel.length === 0) return no("--cp", `does not run context parallel (cp ${f.cp})`, "contextParallel");
  if ((f.cpComm !== undefined || f.cpSplit !== undefined) && s.contextParallel.length === 0)
    return no(f.cpComm !== undefined ? "--cp-comm" : "--cp-split", "does not run context parallel", "contextParallel");
  if (f.cpComm !== undefined && s.contextParallel.length > 0 && !s.contextParallel.includes(f.cpComm))
    return no("--cp-comm", `runs context parallel as ${s.contextParallel.join(", ")} only, not ${f.cpComm}`, "contextParallel");
  if (f.cpSplit !== undefined && s.contextParallel.length > 0 && !s.contextParallelSplits.includes(f.cpSplit))
    return no("--cp-split", `cuts the sequence for context parallel ${s.contextParallelSplits.join(" or ")} only, not ${f.cpSplit}`, "contextParallelSplits");
  if (((f.ep ?? 1) > 1 || (f.etp ?? 1) > 1) && !s.expertParallel) return no("--ep", "does not run expert parallel", "expertParallel");
  // Virtual stages need a schedule that runs them (interleaved 1F1B, zb1p, zbv, dualpipev).
  if ((f.vpp ?? 1) > 1 && !e.schedules.some((x) => VIRTUAL_SCHEDULES.has(x)))
    return no("--vpp", `runs no schedule with virtual stages (its schedules: ${e.schedules.join(", ")}), so not vpp ${f.vpp}`, "schedules", "schedules");
  if (f.schedule !== undefined && (f.pp ?? 2) > 1 && !e.schedules.includes(f.schedule))
    return no("--schedule", `runs the pipeline schedules ${e.schedules.join(", ")}, not ${f.schedule}`, "schedules", "schedules");
  if (f.recompute === "selective" && e.recompute !== "any") return no("--recompute", "has no selective recompute: it recomputes whole layers (full) or nothing", "recompute", "recompute");
  // Full recompute of each chunk's first N layers: Megatron-Core's block method, and paraplan's
  // worker (EngineSupports.blockRecompute; cost/block-recompute.ts runsBlockRecompute); or of N
  // layers a chunk as every N-th layer gives them (torchtitan: layout rule recompute_every).
  if (f.recomputeLayers !== undefined && !runsBlockRecompute(e) && !runsEveryNth(e))
    return no("--recompute-num-layers", `re-runs every layer under full recompute, not only the first ${f.recomputeLayers} of each stage (Megatron-Core's --recompute-method block)`, "blockRecompute");
  if (f.recompute !== undefined && f.recompute !== "none" && f.schedule !== undefined && ZERO_BUBBLE.has(f.schedule) && (f.pp ?? 2) > 1 && !s.recomputeWithZeroBubble)
    return no("--recompute", `runs the ${f.schedule} schedule without activation recompute only, not with ${f.recompute}`, "recomputeWithZeroBubble");
  // 16-bit beside tp or pp only under FSDP (torchtitan's maybe_enable_amp): ZeRO-0 or one
  // data-parallel rank there is an fp32 run.
  const modelParallel = (f.tp ?? 1) > 1 || (f.pp ?? 1) > 1;
  if (s.mixedPrecisionNeedsFsdp && modelParallel && (f.cp ?? 1) === 1 && (f.zero === 0 || f.dp === 1)) {
    const what = f.zero === 0 ? "--zero" : "--dp";
    return no(what, `trains in 16 bits beside tensor or pipeline parallel only where FSDP shards the data-parallel ranks; ${f.zero === 0 ? "ZeRO-0" : "dp 1"} there turns mixed precision off (an fp32 run)`, "mixedPrecisionNeedsFsdp");
  }
  if (f.zero !== undefined) {
    const withPp = (f.pp ?? 1) > 1;
    // (fewer beside a pipeline under bf16 where the stack says so: EngineSupports zeroWithPipelineUnderBf16)
    const bf16Only = withPp && zeroBesidePipeline(s, precision) !== s.zeroWithPipeline;
    const stages = withPp ? zeroBesidePipeline(s, precision) : s.zero;
    if (!stages.includes(f.zero))
      return no("--zero", `runs ZeRO stage${stages.length > 1 ? "s" : ""} ${stages.join(", ")}${withPp ? ` beside a pipeline${bf16Only ? ` under ${precision}` : ""}` : ""}, not ${f.zero}`, withPp ? (bf16Only ? "zeroWithPipelineUnderBf16" : "zeroWithPipeline") : "zero");
    // A stage the stack runs only with the reduction overlapped, asked for without it (--no-grad-overlap)
    if (!e.dataParallel.overlapGradReduce && e.dataParallel.overlapRequiredAtZero.includes(f.zero))
      return issue("engine_unsupported", "--no-grad-overlap", `engine ${e.name} runs ZeRO-${f.zero} only with the gradient reduction overlapped (${e.sources["dataParallel.overlapRequiredAtZero"] ?? "its profile"})`, `drop --no-grad-overlap, or fix another --zero`);
  }
  return null;
}
