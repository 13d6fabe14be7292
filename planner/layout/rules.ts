// The rules that make a layout valid, once, as data: each names the dimensions it needs, a check
// on plain numbers, its code and the sentence that explains it. Every path that accepts a plan
// applies these: the search dimension by dimension (only the rules it can break: the others hold
// for every candidate it enumerates), fixed flags as soon as their dimensions are given, and
// whole plans from files, engine configurations, the interactive planner and execute.
import type { CpComm, CpSplit, Recompute, Schedule, ZeroStage } from "../types.js";
import { type Degrees, type GroupShape, edpOf, span } from "./groups.js";
import { SCHEDULES } from "../schema/plan.js";
import { everyNthDepths, everyNthFor } from "../cost/nth-recompute.js";
import { largestChunk } from "../cost/block-recompute.js";

/** Every dimension a rule may look at. cp, ep and etp default to 1 until they are searched. */
export interface Dims extends Degrees {
  vpp: number;
  microBatch: number;
  schedule: Schedule;
  sequenceParallel: boolean;
  zero: ZeroStage;
  recompute: Recompute;
  /** Layers of each pipeline stage when uneven (Plan.stageLayers; layout/stages.ts). Not searched:
   *  given with `--stage-layers` or in a plan, it travels with pp. */
  stageLayers?: readonly number[];
  /** Full recompute's depth (Plan.recomputeLayers): chosen by the search, or given in a plan. */
  recomputeLayers?: number;
  /** The cp variant (cp > 1; absent: the defaults, types.ts DEFAULT_CP_COMM / DEFAULT_CP_SPLIT). */
  cpComm?: CpComm;
  cpSplit?: CpSplit;
}
export type Dim = Exclude<keyof Dims, "stageLayers" | "recomputeLayers">;

/** What the rules know besides the dimensions. */
export interface RuleContext {
  gpus: number;
  globalBatch: number;
  seqLen: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffnHidden: number;
  /** Routed experts per MoE layer (0: a dense model). */
  experts: number;
  gpusPerNode: number;
  /** GPUs of one NVLink domain when a fabric makes it larger than the node (GB200 NVL72: 72);
   *  absent: the node. Tensor parallel stays inside it. */
  nvlinkDomain?: number;
  /** The engine's tensor-parallel overlap is switched on and needs sequence parallelism
   *  (Engine.tensorParallel.overlapNeedsSp: Megatron's --tp-comm-overlap). */
  tpOverlapNeedsSp?: boolean;
  /** An fp16 run on an engine that loops over a rank's local experts then
   *  (EngineSupports.expertsLoopUnderFp16). */
  expertsLoop?: boolean;
  /** An fp16 run of a mixture-of-experts model on an engine that runs no expert parallel under
   *  fp16 (EngineSupports.expertParallelUnderFp16 false: Megatron asserts it). */
  fp16NoEp?: boolean;
  /** The routed experts' FFN width (MoeSpec.expertFfnHidden; absent for a dense model): etp splits
   *  it. */
  expertFfnHidden?: number;
  /** A mixture-of-experts model on an engine whose MoE layer needs sequence parallelism beside
   *  tp > 1 (EngineSupports.moeNeedsSpWithTp: Megatron-Core). */
  moeTpNeedsSp?: boolean;
  /** A mixture-of-experts model on an engine that runs MoE layers at tp 1 only
   *  (EngineSupports.moeWithTensorParallel false: paraplan's worker). */
  moeTpOne?: boolean;
  /** A model with query/key norms over the whole projections on an engine that builds them at tp
   *  1 only (EngineSupports.qkNormFullWithTensorParallel false: paraplan's worker). */
  qkNormTpOne?: boolean;
  /** The engine and its pipeline schedules (Engine.schedules); absent: every schedule paraplan models. */
  engineSchedules?: { name: string; schedules: readonly Schedule[] };
  /** The engine's partial full recompute is every N-th layer of a rank (EngineSupports
   *  everyNthRecompute: torchtitan 0.2), which gives some depths only (rule recompute_every). */
  everyNthRecompute?: boolean;
}

/** The schedules that run vpp virtual stages a rank — interleaved and zb1p any number, zbv and
 *  dualpipev exactly two (rules schedule_vpp, v_schedule_vpp) — that the engine runs, for a
 *  schedule of one stage a rank given with vpp > 1. */
function virtualSchedulesMessage(d: Dims, c: RuleContext): string {
  const runs = c.engineSchedules?.schedules ?? SCHEDULES;
  const taking = (["interleaved", "zb1p", "zbv", "dualpipev"] as const).filter((s) => runs.includes(s) && (!V_SCHEDULES.has(s) || d.vpp === 2));
  const who = c.engineSchedules ? `engine ${c.engineSchedules.name}` : "paraplan";
  const one = `${d.schedule} runs one stage per rank`;
  if (taking.length === 0) return `${one}, and ${who} runs no schedule with ${d.vpp} virtual stages a rank; use --vpp 1`;
  const list = taking.length === 1 ? taking[0]! : `${taking.slice(0, -1).join(", ")} or ${taking.at(-1)!}`;
  return `${one}; with vpp ${d.vpp} ${who} runs ${list}`;
}

/** Every code a layout rule can give. */
export type LayoutCode =
  "tp_gpus" | "tp_heads" | "tp_kv_heads" | "tp_spans_nodes" | "cp_gpus" | "cp_seq" | "cp_moe" | "cp_heads" | "pp_gpus" | "pp_layers" | "stage_layers_count" | "stage_layers_min" | "stage_layers_sum" | "stage_layers_vpp" | "stage_layers_v" | "dp_gpus" | "batch_dp" | "degrees_divide" | "degrees_world" | "expert_fold" | "ep_experts" | "etp_dense" | "etp_ffn" | "vpp_needs_pp" | "vpp_layers" | "schedule_vpp" | "schedule_needs_pp" | "microbatch_global" | "microbatch_batch" | "sp_needs_tp" | "sp_seq" | "tp_overlap_sp" | "moe_tp_sp" | "moe_tp" | "qk_norm_tp" | "moe_fp16_ep" | "moe_fp16_local_experts" | "interleaved_microbatches" | "v_schedule_vpp" | "v_schedule_layers" | "zb1p_microbatches" | "dualpipev_microbatches" | "recompute_layers" | "recompute_every";

export interface Rule {
  code: LayoutCode;
  /** The flag a user fixes the first of `dims` with (the one to change). */
  flag: string;
  dims: readonly Dim[];
  /** True when the layout obeys the rule. */
  ok: (d: Dims, c: RuleContext) => boolean;
  /** Why not, naming the numbers. */
  message: (d: Dims, c: RuleContext) => string;
  /** A fixed value that breaks it is bad input (exit 2) rather than a configuration the search
   *  counts as rejected: true for arithmetic the user can check by hand; false for rules that
   *  depend on the hardware or on the other, searched dimensions. */
  input: boolean;
  /** Checked on whichever of `dims` are given (the product of the fixed degrees); others need
   *  all of `dims`. */
  partial?: true;
  /** The short reason the search's rejection counts print. */
  reason: string;
}

/** Whether some group of this shape leaves the NVLink domain (the node, without a fabric). */
const crossesNodes = (g: GroupShape, c: RuleContext) => {
  const where = span(g, c.gpus, scaleUpOf(c));
  return where === "network" || where === "mixed";
};
const scaleUpOf = (c: RuleContext) => c.nvlinkDomain ?? c.gpusPerNode;
/** What tensor parallel stays inside: "a node", or "an NVLink domain" where a fabric has one. */
const tpHome = (c: RuleContext) => (c.nvlinkDomain !== undefined && c.nvlinkDomain !== c.gpusPerNode ? ["NVLink domain", "an NVLink domain"] : ["node", "a node"]);
const divides = (a: number, b: number) => b % a === 0;
/** Schedules that place two stages per rank in a V (rank r: stages r and 2·pp−1−r). */
export const V_SCHEDULES: ReadonlySet<Schedule> = new Set<Schedule>(["zbv", "dualpipev"]);
/** Chunks the sequence is cut into: 2·cp for zig-zag (the default), cp contiguous. */
const cpChunks = (d: Pick<Dims, "cp" | "cpSplit">) => (d.cpSplit === "contiguous" ? d.cp : 2 * d.cp);
const prodFixed = (d: Partial<Dims>) => (d.tp ?? 1) * (d.cp ?? 1) * (d.pp ?? 1) * (d.dp ?? 1);

/** In the search's order: a configuration is counted under the first rule it breaks. */
export const RULES: readonly Rule[] = [
  { code: "tp_gpus", flag: "--tp", dims: ["tp"], input: true, reason: "tp does not divide the GPU count",
    ok: (d, c) => divides(d.tp, c.gpus), message: (d, c) => `${d.tp} does not divide the ${c.gpus} GPUs; pick a divisor of ${c.gpus}` },
  { code: "tp_heads", flag: "--tp", dims: ["tp"], input: true, reason: "tp does not divide the attention heads",
    ok: (d, c) => divides(d.tp, c.heads), message: (d, c) => `${d.tp} does not divide the ${c.heads} attention heads` },
  { code: "tp_kv_heads", flag: "--tp", dims: ["tp"], input: true, reason: "tp does not divide the key/value heads",
    ok: (d, c) => divides(d.tp, c.kvHeads), message: (d, c) => `${d.tp} does not divide the ${c.kvHeads} key/value heads` },
  { code: "tp_spans_nodes", flag: "--tp", dims: ["tp"], input: false,
    reason: "tp groups would leave a node, or an NVLink domain (tp larger than it, or not dividing its GPUs)",
    ok: (d, c) => d.tp <= scaleUpOf(c) && !crossesNodes({ size: d.tp, stride: 1 }, c),
    message: (d, c) => {
      const [unit, home] = tpHome(c);
      return d.tp > scaleUpOf(c)
        ? `tp ${d.tp} is larger than the ${scaleUpOf(c)} GPUs of ${home} (tensor parallel stays inside ${home})`
        : `tp ${d.tp} groups would cross the boundaries of ${scaleUpOf(c)}-GPU ${unit}s (tensor parallel stays inside ${home})`;
    } },
  { code: "cp_gpus", flag: "--cp", dims: ["cp"], input: true, reason: "cp does not divide the GPU count",
    ok: (d, c) => divides(d.cp, c.gpus), message: (d, c) => `${d.cp} does not divide the ${c.gpus} GPUs; pick a divisor of ${c.gpus}` },
  // Load-balanced (zig-zag) context parallel cuts the sequence into 2·cp chunks (Megatron-Core
  // context_parallel; Llama 3 §3.3.2); contiguous into cp.
  { code: "cp_seq", flag: "--cp", dims: ["cp"], input: true, reason: "cp does not divide the sequence into its chunks (2·cp for zig-zag)",
    ok: (d, c) => d.cp === 1 || divides(cpChunks(d), c.seqLen),
    message: (d, c) => (d.cpSplit === "contiguous" ? `cp = ${d.cp} does not divide the sequence length ${c.seqLen}` : `2·cp = ${2 * d.cp} does not divide the sequence length ${c.seqLen} (zig-zag cuts it into 2·cp chunks)`) },
  // The MoE cost paths (routed tokens, all-to-all volumes, expert activations) assume each rank
  // holds the whole sequence; refused until they divide by cp.
  { code: "cp_moe", flag: "--cp", dims: ["cp"], input: true, reason: "context parallel with a mixture-of-experts model is not modelled",
    ok: (d, c) => d.cp === 1 || c.experts === 0, message: (d) => `cp ${d.cp} with a mixture-of-experts model is not modelled yet (the MoE costs assume cp = 1); use cp 1` },
  // DeepSpeed-Ulysses scatters heads over the cp ranks (Jacobs et al. 2023 §3.1): the heads of a
  // tp rank, query and key/value, must divide by cp (no K/V replication is modelled). Checked on a
  // fixed cp alone too (partial): with tp searched, tp 1 leaves a rank the most heads, and a larger
  // tp only divides them further (heads/tp divides by cp only where cp·tp divides the heads).
  { code: "cp_heads", flag: "--cp", dims: ["cp", "tp"], input: true, partial: true, reason: "cp does not divide the heads of a tp rank (all-to-all context parallel)",
    ok: (d, c) => d.cp === 1 || d.cpComm !== "a2a" || (divides(d.cp, c.heads / (d.tp ?? 1)) && divides(d.cp, c.kvHeads / (d.tp ?? 1))),
    message: (d, c) => {
      const tp = d.tp ?? 1;
      return `all-to-all context parallel (cp exchange a2a) scatters heads over cp: cp ${d.cp} must divide the ${c.heads / tp} query and ${c.kvHeads / tp} key/value heads of each tp rank (tp ${tp}${d.tp === undefined ? ", the most heads a rank can keep" : ""})`;
    } },
  { code: "pp_gpus", flag: "--pp", dims: ["pp"], input: true, reason: "pp does not divide the GPU count",
    ok: (d, c) => divides(d.pp, c.gpus), message: (d, c) => `${d.pp} does not divide the ${c.gpus} GPUs; pick a divisor of ${c.gpus}` },
  // The V schedules run two even stages a rank (rank r: stages r and 2·pp−1−r; uneven ones run
  // looped only, stage_layers_v): 2·pp must divide the layers. Before pp_layers, so that a fixed
  // pp and V schedule hear this reason, not one about vpp or a default uneven split.
  { code: "v_schedule_layers", flag: "--schedule", dims: ["pp", "schedule"], input: true, reason: "zbv and dualpipev need 2·pp to divide the layers (two even stages a rank)",
    ok: (d, c) => !V_SCHEDULES.has(d.schedule) || d.stageLayers !== undefined || d.pp === 1 || divides(2 * d.pp, c.layers),
    message: (d, c) => {
      const pps = c.layers % 2 === 0 ? Array.from({ length: c.layers / 2 - 1 }, (_, k) => k + 2).filter((p) => divides(2 * p, c.layers) && divides(p, c.gpus)) : [];
      const pick = pps.length > 0 ? `pp ${pps.join(", ")} would` : c.layers % 2 === 1 ? "no pp does, the layers being odd" : "no pp dividing the GPUs does";
      return `${d.schedule} runs two stages a rank in a V, even ones: 2·pp = ${2 * d.pp} stages do not divide the ${c.layers} layers (${pick}); or an uneven split under zb1p or interleaved`;
    } },
  { code: "pp_layers", flag: "--pp", dims: ["pp"], input: true, reason: "pp does not divide the layers",
    ok: (d, c) => d.stageLayers !== undefined || divides(d.pp, c.layers),
    message: (d, c) => (d.pp > c.layers ? `${d.pp} stages for ${c.layers} layers: every stage needs at least one; pick a pp up to ${c.layers}` : `${d.pp} does not divide the ${c.layers} layers`) },
  // Uneven stages (layout/stages.ts): one positive count per stage, summing to the layers; with
  // virtual stages (vpp > 1) one per virtual stage, p·v in model order (rank r holds r, r + p, …).
  { code: "stage_layers_count", flag: "--stage-layers", dims: ["pp", "vpp"], input: true, reason: "stage layers list neither one count per pipeline rank nor one per virtual stage",
    ok: (d) => d.stageLayers === undefined || d.stageLayers.length === d.pp || d.stageLayers.length === d.pp * d.vpp,
    message: (d) => `${d.stageLayers?.join(",")} lists ${d.stageLayers?.length} stages but pp = ${d.pp}${d.vpp > 1 ? ` and pp·vpp = ${d.pp * d.vpp}` : ""}; give one layer count per pipeline stage${d.vpp > 1 ? " (with vpp > 1, one per virtual stage)" : ""}` },
  { code: "stage_layers_min", flag: "--stage-layers", dims: ["pp"], input: true, reason: "a pipeline stage with no layers",
    ok: (d) => d.stageLayers === undefined || d.stageLayers.every((n) => n >= 1),
    message: (d) => `${d.stageLayers?.join(",")} leaves stage ${d.stageLayers?.findIndex((n) => n < 1)} without layers; every stage needs at least one` },
  { code: "stage_layers_sum", flag: "--stage-layers", dims: ["pp"], input: true, reason: "stage layers do not sum to the model's layers",
    ok: (d, c) => d.stageLayers === undefined || d.stageLayers.reduce((a, b) => a + b, 0) === c.layers,
    message: (d, c) => `${d.stageLayers?.join(",")} sums to ${d.stageLayers?.reduce((a, b) => a + b, 0)}, not the model's ${c.layers} layers` },
  { code: "dp_gpus", flag: "--dp", dims: ["dp"], input: true, reason: "dp does not divide the GPU count",
    ok: (d, c) => divides(d.dp, c.gpus), message: (d, c) => `${d.dp} does not divide the ${c.gpus} GPUs; pick a divisor of ${c.gpus}` },
  { code: "batch_dp", flag: "--dp", dims: ["dp"], input: true, reason: "global batch not divisible by dp",
    ok: (d, c) => divides(d.dp, c.globalBatch), message: (d, c) => `${d.dp} does not divide the global batch ${c.globalBatch}` },
  { code: "degrees_divide", flag: "--tp/--pp/--dp", dims: ["tp", "cp", "pp", "dp"], partial: true, input: true, reason: "tp·cp·pp·dp does not divide the GPU count",
    ok: (d, c) => divides(prodFixed(d), c.gpus), message: (d, c) => `${degreeNames(d)} = ${prodFixed(d)} does not divide the ${c.gpus} GPUs` },
  { code: "degrees_world", flag: "--tp/--pp/--dp", dims: ["tp", "cp", "pp", "dp"], input: true, reason: "tp·cp·pp·dp is not the GPU count",
    ok: (d, c) => prodFixed(d) === c.gpus,
    message: (d, c) => `${degreeNames(d)} = ${prodFixed(d)} but there are ${c.gpus} GPUs; they must multiply to the GPU count` },
  { code: "ep_experts", flag: "--ep", dims: ["ep"], input: true, reason: "ep does not divide the experts",
    ok: (d, c) => d.ep === 1 || (c.experts > 0 && divides(d.ep, c.experts)),
    message: (d, c) => (c.experts === 0 ? `ep ${d.ep} needs a mixture-of-experts model` : `${d.ep} does not divide the ${c.experts} experts`) },
  // etp splits the routed experts' matrices (Megatron-Core --expert-tensor-parallel-size): a dense
  // model has none, so an etp there would change nothing the plan prices or exports.
  { code: "etp_dense", flag: "--etp", dims: ["etp"], input: true, reason: "expert tensor parallel needs a mixture-of-experts model",
    ok: (d, c) => d.etp === 1 || c.experts > 0, message: (d) => `etp ${d.etp} needs a mixture-of-experts model (a dense model has no experts to split)` },
  // Each etp rank holds f_e/etp of every local expert's columns (Megatron-Core's expert linears
  // divide the width by the expert tensor-parallel size and assert it divides: megatron/core/utils.py
  // divide): a width etp does not divide is a model the engine cannot build.
  { code: "etp_ffn", flag: "--etp", dims: ["etp"], input: true, reason: "etp does not divide the experts' FFN width",
    ok: (d, c) => d.etp === 1 || c.expertFfnHidden === undefined || c.expertFfnHidden % d.etp === 0,
    message: (d, c) => `etp ${d.etp} does not divide the routed experts' FFN width ${c.expertFfnHidden} (each etp rank holds width/etp of every expert)` },
  // (after the rules of ep and etp alone: a value wrong by itself is named before the product,
  // an etp 3 that does not divide the experts' width before the 24 = 3·8 that does not fold)
  { code: "expert_fold", flag: "--ep", dims: ["tp", "cp", "dp", "ep", "etp"], input: true,
    reason: "etp·ep does not divide tp·cp·dp (expert groups must fold onto the dense ones)",
    ok: (d) => Number.isInteger(edpOf(d)),
    message: (d) => `etp·ep = ${d.etp * d.ep} does not divide tp·cp·dp = ${d.tp * d.cp * d.dp}: the expert groups must fold onto the same ranks (Megatron-Core MoE parallel folding)` },
  { code: "vpp_needs_pp", flag: "--vpp", dims: ["vpp", "pp"], input: true, reason: "virtual stages need a pipeline",
    ok: (d) => d.vpp === 1 || d.pp > 1, message: () => "virtual stages need a pipeline (pp > 1)" },
  { code: "vpp_layers", flag: "--vpp", dims: ["pp", "vpp"], input: true, reason: "pp·vpp does not divide the layers",
    ok: (d, c) => d.stageLayers !== undefined || divides(d.pp * d.vpp, c.layers), message: (d, c) => `pp·vpp = ${d.pp * d.vpp} does not divide the ${c.layers} layers` },
  // With vpp > 1 a split lists the virtual stages (p·v counts); the looped schedules (interleaved,
  // zb1p) run them; the V schedules (zbv, dualpipev: rank r holds r and 2p−1−r) are not modelled
  // with uneven stages (stage_layers_v).
  { code: "stage_layers_vpp", flag: "--stage-layers", dims: ["pp", "vpp"], input: true, reason: "uneven stages with vpp > 1 need one count per virtual stage",
    ok: (d) => d.stageLayers === undefined || d.vpp === 1 || d.stageLayers.length !== d.pp,
    message: (d) => `with vpp ${d.vpp} give one layer count per virtual stage (pp·vpp = ${d.pp * d.vpp}), not one per rank (${d.stageLayers?.length})` },
  { code: "stage_layers_v", flag: "--stage-layers", dims: ["vpp", "schedule"], input: true, reason: "uneven virtual stages run looped (interleaved, zb1p), not in a V",
    ok: (d) => d.stageLayers === undefined || d.vpp === 1 || !V_SCHEDULES.has(d.schedule),
    message: (d) => `uneven stages (${d.stageLayers?.join(",")}) run with interleaved or zb1p (virtual stages r, r + pp, … on rank r), not ${d.schedule}'s V` },
  // 1F1B and GPipe run one stage per rank, interleaved 1F1B several; zb1p either
  // (torch ScheduleInterleavedZeroBubble takes any number of local stages).
  { code: "schedule_vpp", flag: "--schedule", dims: ["vpp", "schedule"], input: true, reason: "interleaved if and only if vpp > 1",
    ok: (d) => d.schedule === "zb1p" || V_SCHEDULES.has(d.schedule) || (d.schedule === "interleaved") === d.vpp > 1,
    message: (d, c) => (d.vpp > 1 ? virtualSchedulesMessage(d, c) : "interleaved needs vpp > 1") },
  // torch ScheduleZBVZeroBubble and ScheduleDualPipeV raise unless each rank holds exactly two
  // stages, placed in a V (rank r: stages r and 2·pp−1−r; torch/distributed/pipelining/schedules.py).
  { code: "v_schedule_vpp", flag: "--schedule", dims: ["vpp", "schedule"], input: true, reason: "zbv and dualpipev need exactly 2 stages per rank (vpp 2)",
    ok: (d) => !V_SCHEDULES.has(d.schedule) || d.vpp === 2,
    message: (d) => `${d.schedule} runs exactly two stages per rank in a V: it needs vpp 2 (not ${d.vpp})` },
  { code: "schedule_needs_pp", flag: "--schedule", dims: ["schedule", "pp"], input: true, reason: "a pipeline schedule needs pp > 1",
    ok: (d) => d.schedule === "1f1b" || d.pp > 1, message: (d) => `${d.schedule} needs a pipeline (pp > 1)` },
  { code: "microbatch_global", flag: "--micro-batch", dims: ["microBatch"], input: true, reason: "micro-batch does not divide the global batch",
    ok: (d, c) => divides(d.microBatch, c.globalBatch), message: (d, c) => `${d.microBatch} does not divide the global batch ${c.globalBatch}` },
  { code: "microbatch_batch", flag: "--micro-batch", dims: ["dp", "microBatch"], input: true,
    reason: "micro-batch does not divide the per-replica batch (global batch / dp)",
    ok: (d, c) => divides(d.dp * d.microBatch, c.globalBatch),
    message: (d, c) => `dp·micro-batch = ${d.dp * d.microBatch} does not divide the global batch ${c.globalBatch}` },
  { code: "sp_needs_tp", flag: "--sequence-parallel", dims: ["sequenceParallel", "tp"], input: true, reason: "sequence parallel needs tp > 1",
    ok: (d) => !d.sequenceParallel || d.tp > 1, message: () => "sequence parallel needs tp > 1" },
  // Sequence parallel splits each rank's tokens along the sequence over tp: Megatron-Core's
  // _split_along_first_dim asserts "First dimension of the tensor should be divisible by tensor
  // parallel size" (tensor_parallel/mappings.py @ core_r0.14.0); with context parallel a rank holds
  // s/cp of them. (QA: --seq 2047 --tp 2 --sequence-parallel was planned and exported.)
  { code: "sp_seq", flag: "--sequence-parallel", dims: ["sequenceParallel", "tp", "cp"], input: true, reason: "sequence parallel needs tp to divide each rank's tokens (s/cp)",
    ok: (d, c) => !d.sequenceParallel || (c.seqLen / d.cp) % d.tp === 0,
    message: (d, c) => `sequence parallel splits each rank's ${(c.seqLen / d.cp).toLocaleString("en-US")} tokens${d.cp > 1 ? ` (${c.seqLen.toLocaleString("en-US")} over cp ${d.cp})` : ""} over tp ${d.tp}, which does not divide them (Megatron's _split_along_first_dim asserts it); pick a tp that divides them, or a --seq it divides` },
  // Megatron asserts it: "Tensor parallel communication/GEMM overlap can happen only when sequence
  // parallelism is enabled" (megatron/training/arguments.py @ core_v0.12.0).
  { code: "tp_overlap_sp", flag: "--tp-comm-overlap", dims: ["sequenceParallel", "tp"], input: true, reason: "tensor-parallel overlap (--tp-comm-overlap) needs sequence parallel",
    ok: (d, c) => !c.tpOverlapNeedsSp || d.tp === 1 || d.sequenceParallel,
    message: () => "tensor-parallel overlap needs sequence parallel (Megatron asserts it): turn sequence parallel on or the overlap off" },
  // Megatron-Core's MoE layer refuses to train beside tp > 1 without sequence parallel: "During
  // training, performance may degrade if MoE and tensor parallelism are enabled without also
  // enabling sequence parallelism" is a ValueError (megatron/core/transformer/moe/moe_layer.py
  // MoELayer.forward @ core_v0.14.0; the same @ core_v0.9.0), so such a plan never runs there.
  { code: "moe_tp_sp", flag: "--no-sequence-parallel", dims: ["sequenceParallel", "tp"], input: true, reason: "a mixture-of-experts model beside tp > 1 needs sequence parallel on this engine",
    ok: (d, c) => !c.moeTpNeedsSp || d.tp === 1 || d.sequenceParallel,
    message: (d) => `tp ${d.tp} with a mixture-of-experts model needs sequence parallel on this engine (Megatron-Core's MoELayer.forward raises a ValueError in training without it): turn sequence parallel on, or use tp 1` },
  // paraplan's worker runs MoE layers at tp 1 only (executor/worker/spec.py moe_checks).
  { code: "moe_tp", flag: "--tp", dims: ["tp"], input: true, reason: "this engine runs mixture-of-experts models at tp 1 only",
    ok: (d, c) => !c.moeTpOne || d.tp === 1, message: (d) => `tp ${d.tp}: this engine runs mixture-of-experts models at tp 1 only (its profile's supports.moeWithTensorParallel is false)` },
  // paraplan's worker normalises queries and keys over the whole projections at tp 1 only: a
  // tensor-parallel rank holds a part of each projection (executor/worker/spec.py validate).
  { code: "qk_norm_tp", flag: "--tp", dims: ["tp"], input: true, reason: "this engine normalises queries and keys over the whole projections at tp 1 only",
    ok: (d, c) => !c.qkNormTpOne || d.tp === 1, message: (d) => `tp ${d.tp}: this engine normalises queries and keys over the whole projections at tp 1 only, a tensor-parallel rank holding a part of each (its profile's supports.qkNormFullWithTensorParallel is false)` },
  // Megatron asserts "Expert parallelism is not supported with fp16 training" once
  // expert_model_parallel_size > 1 (megatron/training/arguments.py:507-508 @ core_v0.7.0,
  // :955-956 @ core_v0.14.0, :1041-1042 @ 000c4ac): such a plan stops at start. Named by
  // --precision: with ep 1 the next rule refuses the loop over the experts, so no ep is left.
  { code: "moe_fp16_ep", flag: "--precision", dims: ["ep"], input: true, reason: "under fp16 the engine runs no expert parallel (Megatron asserts it)",
    ok: (d, c) => !c.fp16NoEp || d.ep === 1,
    message: (d) => `fp16 with ep ${d.ep}: Megatron asserts "Expert parallelism is not supported with fp16 training" (megatron/training/arguments.py:1041-1042 @ 000c4ac, :955-956 @ core_v0.14.0), and at ep 1 its experts run in a loop paraplan does not price: use bf16 or fp8` },
  // Megatron-Core's grouped GEMM needs bf16 (arguments.py:790-791 @ core_v0.14.0): under fp16 each
  // rank loops over its local experts (SequentialMLP), which paraplan does not price; one local
  // expert (ep = experts) is the same GEMM either way, where the engine runs expert parallel in fp16.
  { code: "moe_fp16_local_experts", flag: "--ep", dims: ["ep"], input: false, reason: "under fp16 the engine loops over a rank's local experts (its grouped GEMM needs bf16), which paraplan does not price",
    ok: (d, c) => !c.expertsLoop || c.experts === 0 || d.ep >= c.experts,
    message: (d, c) => `under fp16 the engine runs a rank's ${c.experts / d.ep} local experts one after another (its grouped GEMM needs bf16: Megatron asserts --moe-grouped-gemm under --bf16), which paraplan does not price: use bf16 or fp8${c.fp16NoEp ? "" : `, or ep = ${c.experts}`}` },
  // Megatron-LM's interleaved schedule runs micro-batches in groups of pp (megatron/core/
  // pipeline_parallel/schedules.py, forward_backward_pipelining_with_interleaving).
  { code: "interleaved_microbatches", flag: "--micro-batch", dims: ["schedule", "pp", "dp", "microBatch"], input: false,
    reason: "interleaved schedule needs the micro-batch count divisible by pp",
    ok: (d, c) => d.schedule !== "interleaved" || divides(d.pp, c.globalBatch / (d.dp * d.microBatch)),
    message: (d, c) => `the interleaved schedule needs the micro-batch count (${c.globalBatch / (d.dp * d.microBatch)}) divisible by pp = ${d.pp}` },
  // torch ScheduleInterleavedZeroBubble: rounds = max(1, ⌊m/pp⌋) must divide m.
  { code: "zb1p_microbatches", flag: "--micro-batch", dims: ["schedule", "pp", "dp", "microBatch"], input: false,
    reason: "zb1p needs the micro-batch count divisible by its rounds, max(1, ⌊m/pp⌋)",
    ok: (d, c) => d.schedule !== "zb1p" || divides(Math.max(1, Math.floor(c.globalBatch / (d.dp * d.microBatch) / d.pp)), c.globalBatch / (d.dp * d.microBatch)),
    message: (d, c) => {
      const m = c.globalBatch / (d.dp * d.microBatch);
      return `zb1p needs the micro-batch count (${m}) divisible by its rounds max(1, ⌊m/pp⌋) = ${Math.max(1, Math.floor(m / d.pp))}`;
    } },
  // torch ScheduleDualPipeV: "DualPipeV requires at least as many microbatches as stages" (2·pp).
  { code: "dualpipev_microbatches", flag: "--micro-batch", dims: ["schedule", "pp", "dp", "microBatch"], input: false,
    reason: "dualpipev needs at least 2·pp micro-batches",
    ok: (d, c) => d.schedule !== "dualpipev" || c.globalBatch / (d.dp * d.microBatch) >= 2 * d.pp,
    message: (d, c) => `dualpipev needs at least 2·pp = ${2 * d.pp} micro-batches, not ${c.globalBatch / (d.dp * d.microBatch)}` },
  // Megatron-Core's block method (cost/block-recompute.ts): a depth re-runs the first N layers of
  // each chunk under full recompute; one at or above the largest chunk is full recompute itself,
  // which a plan says by leaving the depth out (a plan states one thing one way). Whole plans only:
  // the search sets the depth itself, and --recompute-num-layers is a count to cap each chunk at.
  { code: "recompute_layers", flag: "--recompute-num-layers", dims: ["recompute", "pp", "vpp"], input: false,
    reason: "a recompute depth without full recompute, or not below the largest stage's layers",
    ok: (d, c) => d.recomputeLayers === undefined || (d.recompute === "full" && d.recomputeLayers < largestChunk(d, c.layers)),
    message: (d, c) => d.recompute !== "full"
      ? `recomputeLayers ${d.recomputeLayers} with ${d.recompute === "none" ? "no" : d.recompute} recompute: the depth says which layers of each stage full recompute re-runs; drop it or use recompute "full"`
      : `recomputeLayers ${d.recomputeLayers} is not below the ${largestChunk(d, c.layers)} layers of the largest ${d.vpp > 1 ? "virtual stage" : "stage"}: full recompute re-runs every layer there; drop recomputeLayers` },
  // torchtitan's layer option re-runs every N-th block a rank counts: some depths only, those
  // where each chunk re-runs the same count (cost/nth-recompute.ts).
  { code: "recompute_every", flag: "--recompute-num-layers", dims: ["recompute", "pp", "vpp"], input: false,
    reason: "a recompute depth that no every-N-th-layer option gives each stage (torchtitan's selective_ac_option)",
    ok: (d, c) => !c.everyNthRecompute || d.recompute !== "full" || d.recomputeLayers === undefined || d.recomputeLayers >= largestChunk(d, c.layers) || everyNthFor(d, c.layers, d.recomputeLayers) !== null,
    message: (d, c) => `recomputeLayers ${d.recomputeLayers}: the engine re-runs every N-th layer of a rank (torchtitan's selective_ac_option "N"), and no N re-runs ${d.recomputeLayers} of each ${d.vpp > 1 ? "virtual stage" : "stage"} here (${depthsWords(d, c.layers)})` },
];

function depthsWords(d: Dims, layers: number): string {
  const ds = everyNthDepths(d, layers);
  return ds.length === 0 ? "none gives a depth below the stage's layers" : `depths it gives: ${ds.map((x) => `${x.depth} (every ${x.every})`).join(", ")}`;
}

function degreeNames(d: Partial<Dims>): string {
  const names = (["tp", "cp", "pp", "dp"] as const).filter((k) => k !== "cp" || (d.cp ?? 1) > 1);
  return names.join("·");
}

export const RULE_BY_CODE: Readonly<Record<LayoutCode, Rule>> = Object.fromEntries(RULES.map((r) => [r.code, r])) as Record<LayoutCode, Rule>;

/** The order in which the search assigns dimensions (cp, ep and etp stay 1 until searched). */
export const SEARCH_ORDER: readonly Dim[] = ["cp", "ep", "etp", "tp", "pp", "dp", "vpp", "schedule", "microBatch", "sequenceParallel", "recompute", "zero"];

const levelOf = (r: Rule): Dim => r.dims.reduce((a, b) => (SEARCH_ORDER.indexOf(b) > SEARCH_ORDER.indexOf(a) ? b : a), SEARCH_ORDER[0]!);

const BY_LEVEL = new Map<Dim, readonly Rule[]>(SEARCH_ORDER.map((dim) => [dim, RULES.filter((r) => levelOf(r) === dim)]));

/** The rules the search checks once `level` is assigned (all earlier ones already hold). */
export const rulesAt = (level: Dim): readonly Rule[] => BY_LEVEL.get(level) ?? [];

/** The code of the first rule broken, or null. */
export function firstBroken(rules: readonly Rule[], d: Dims, c: RuleContext): LayoutCode | null {
  for (let i = 0; i < rules.length; i++) if (!rules[i]!.ok(d, c)) return rules[i]!.code;
  return null;
}
