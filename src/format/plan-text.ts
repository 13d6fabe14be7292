// Text report of a search: header with assumptions, the ranked table, the best plan's
// breakdown, and rejections by reason.
import { domainNote } from "../domain-slice.js";
import { type Plan, type PlanResult, REJECTION_CODES, type RejectionCode, type SearchResult, bf16Optimizer, splitLabel, totalParams, worstStageName } from "../../planner/index.js";

export { splitLabel };
import { activeParams } from "../../planner/model.js";
import type { PlanRequest } from "../plan-request.js";
import { engineLabel } from "../plan-engine.js";
import { type DepthEvery, depthEvery, depthWords } from "./recompute-depth.js";
import { engineLimits } from "./engine-limits.js";
import { type CalibrationStanding, outsideWords, planOutside, standingLine } from "../calibration-standing.js";
import { bandwidth, bytesShown, intraNodeLink, compact, count, flopRate, gib, grouped, linkName, percent, seconds, table, tflopsCell } from "./units.js";
import { DEFAULT_CP_COMM } from "../../planner/types.js";
import { type EagerCase, modelEagerReasonOf } from "../../planner/eager.js";

export const SCHEDULE_LABEL = { "1f1b": "1F1B", interleaved: "interleaved 1F1B", gpipe: "GPipe", zb1p: "ZB1P zero bubble", zbv: "ZB-V zero bubble", dualpipev: "DualPipeV" } as const;

/** The recompute column: none, selective, full, or "block N" where full recompute re-runs the
 *  first N layers of each stage only (Megatron's --recompute-method block; Plan.recomputeLayers),
 *  "every N" where it re-runs every N-th layer (torchtitan's selective_ac_option; recompute-depth.ts). */
export const recomputeCell = (p: Pick<Plan, "recompute" | "recomputeLayers">, every?: number): string =>
  p.recomputeLayers === undefined ? p.recompute : every !== undefined ? `every ${every}` : `block ${p.recomputeLayers}`;

/** A plan in words: "tp 4 · pp 8 · vpp 6 · dp 32 · ZeRO-1 · micro-batch 2 · …"; `every`: how the
 *  engine runs the plan's depth (recompute-depth.ts depthEvery; absent: each stage's first N). */
export function describePlan(p: Plan, every?: DepthEvery): string {
  const parts = [`tp ${p.tp}`, ...(p.cp > 1 ? [`cp ${p.cp} (${cpLabel(p)})`] : []), p.stageLayers ? `pp ${p.pp} (stage layers ${splitLabel(p.stageLayers)})` : `pp ${p.pp}`];
  if (p.vpp > 1) parts.push(`vpp ${p.vpp}`);
  parts.push(`dp ${p.dp}`);
  // Expert groups, when there are any (MoE models): ep · etp fold over the same ranks, edp follows.
  if (p.ep > 1 || p.etp > 1) parts.push(`ep ${p.ep}`, ...(p.etp > 1 ? [`etp ${p.etp}`] : []));
  parts.push(`ZeRO-${p.zero}`, `micro-batch ${p.microBatch}`, p.recompute === "none" ? "no recompute" : p.recomputeLayers !== undefined ? depthWords(p, every?.(p)) : `${p.recompute} recompute`);
  if (p.sequenceParallel) parts.push("sequence parallel");
  if (p.pp > 1) parts.push(SCHEDULE_LABEL[p.schedule]);
  return parts.join(" · ");
}

/** The cp exchange in words: "ring, zig-zag". */
export const cpLabel = (p: Pick<Plan, "cpComm" | "cpSplit">): string =>
  `${CP_COMM_LABEL[p.cpComm ?? DEFAULT_CP_COMM]}, ${p.cpSplit === "contiguous" ? "contiguous" : "zig-zag"}`;
export const CP_COMM_LABEL = { allgather: "K/V all-gather", ring: "ring", a2a: "all-to-all" } as const;
/** A table cell: "1", or "16 ring" (with "contig." when the split is contiguous). */
export const cpCell = (p: Plan): string => (p.cp > 1 ? `${p.cp} ${p.cpComm ?? DEFAULT_CP_COMM}${p.cpSplit === "contiguous" ? " contig." : ""}` : "1");

/** Active parameters per token in both conventions (planner/model.ts activeParams): without the
 *  input embedding's lookup (DeepSeek's), and with it where that reads differently (Mistral's, Qwen's
 *  and OLMoE's published figures: Mixtral-8x7B "12.9B"), so either can be compared with a card. */
function activeText(m: PlanRequest["model"], seqLen: number): string {
  const without = compact(activeParams(m, seqLen));
  const withEmbedding = compact(activeParams(m, seqLen, { inputEmbedding: true }));
  return `${without} active per token${withEmbedding === without ? "" : `, ${withEmbedding} counting the input embedding`}`;
}

/** What the engine's search leaves out or means differently, as the header's second engine line
 *  ("searched as it runs: …") and the interactive planner's detail show it; null when nothing.
 *  `bf16First`: the BF16_Optimizer note before the limits (the detail of a ZeRO-0 plan, where it
 *  explains the gradients and optimizer rows and a short screen keeps the first lines). */
export function searchedAsItRuns(t: PlanRequest["training"], bf16First = false): string | null {
  const { limits, bf16 } = searchNotes(t);
  const parts = (bf16First ? [bf16, limits] : [limits, bf16]).filter((x) => x !== null);
  return parts.length > 0 ? `searched as it runs: ${parts.join(" · ")}` : null;
}

/** The engine's limits on the search, and what its ZeRO 0 is where that is DeepSpeed's
 *  BF16_Optimizer (null where none). */
function searchNotes(t: PlanRequest["training"]): { limits: string | null; bf16: string | null } {
  // (a ZeRO-0 row on DeepSpeed under bf16 is its BF16_Optimizer, not plain data parallelism)
  const pipedUnderBf16 = t.precision !== "fp16" && t.engine.supports.zeroWithPipelineUnderBf16 !== undefined ? `, ZeRO ${t.engine.supports.zeroWithPipelineUnderBf16.join(", ")} only beside a pipeline under ${t.precision}` : "";
  const bf16 = bf16Optimizer(t, 0) ? `ZeRO 0 is DeepSpeed's BF16_Optimizer (Adam states partitioned, fp32 gradients kept whole)${pipedUnderBf16}` : null;
  return { limits: engineLimits(t.engine), bf16 };
}

export const EAGER_WORDS: Record<EagerCase, string> = { "zero-bubble": "zero-bubble pipelines", "context-parallel": "context parallel", "mixture-of-experts": "mixtures of experts" };

/** Which plans the engine runs eager and prices with its eager engine (planner/eager.ts), as the
 *  header's line under the engine says it; null for an engine that runs every plan as profiled. */
export function eagerNote(t: PlanRequest["training"], m: PlanRequest["model"]): string | null {
  const f = t.engine.eager;
  if (f === undefined) return null;
  const name = f.engine?.name ?? f.name;
  const all = modelEagerReasonOf(f.when, m);
  if (all !== null) return `runs every plan eager (${all}): priced with engine ${name}`;
  const cases = f.when.filter((c) => c !== "mixture-of-experts").map((c) => EAGER_WORDS[c]);
  return cases.length > 0 ? `runs ${cases.join(" and ")} eager: those plans priced with engine ${name}` : null;
}

/** `sweep`: a GPU sweep's header (plan --sweep-gpus), the counts and global batches it spans in
 *  place of the one request's. */
export function header(req: Omit<PlanRequest, "calibration"> & { calibration?: CalibrationStanding }, sweep?: { cluster: string; batch: string }): string {
  const { model: m, hw, training: t } = req;
  const nodes = Math.ceil(t.gpus / hw.gpusPerNode);
  const intra = intraNodeLink(hw);
  const link = intra ? `${linkName(intra.kind)} ${bandwidth(intra.bandwidth)} and ` : "";
  const slice = domainNote(hw, req.domainSlice);
  const cluster = sweep?.cluster ?? `${count(t.gpus)} × ${hw.gpuName} — ${req.profileName}: ${count(nodes)} node${nodes > 1 ? "s" : ""} × ${count(hw.gpusPerNode)}${slice}`;
  const lines = [
    `${m.name} (${compact(totalParams(m, t.seqLen))} parameters${m.moe ? `, ${activeText(m, t.seqLen)}: ${m.moe.experts} ${m.moe.experts === 1 ? "expert" : "experts"}, top-${m.moe.topK}${m.moe.sharedExperts ? ` + ${m.moe.sharedExperts} shared` : ""}` : ""}) on ${cluster}, ${link}${bandwidth(hw.inter.bandwidth)} network per GPU${intra ? "" : ` (one GPU a node: no intra-node link in use)`}`,
    `global batch ${sweep?.batch ?? t.globalBatch} × ${t.seqLen} tokens, ${t.precision}, ${t.fusedAttention ? "fused" : "unfused"} attention, Adam with fp32 master weights${t.optimizerStates === "bf16" ? " and bf16 moments" : ""}`,
  ];
  lines.push(`engine ${engineLabel(t.engine, req.engineFrom)}`);
  const limits = searchedAsItRuns(t);
  if (limits) lines.push(`  ${limits}`);
  const eager = eagerNote(t, m);
  if (eager) lines.push(`  ${eager}`);
  if (req.assumed.length) lines.push(`assumed: ${req.assumed.join("; ")}`);
  if (req.calibration) lines.push(standingLine(req.calibration));
  return lines.join("\n");
}

/** A plan's cells under "tp pp vpp dp zero mbs recompute sp schedule memory/GPU step tokens/s". */
export function planCells(p: PlanResult, every?: DepthEvery): string[] {
  return [
    String(p.tp),
    p.stageLayers ? `${p.pp} [${splitLabel(p.stageLayers)}]` : String(p.pp),
    String(p.vpp),
    String(p.dp),
    String(p.zero),
    String(p.microBatch),
    recomputeCell(p, every?.(p)),
    p.sequenceParallel ? "yes" : "no",
    p.pp > 1 ? SCHEDULE_LABEL[p.schedule] : "-",
    `${gib(p.memory.total)} (${percent(p.memory.total / p.memory.capacity, 0)})`,
    seconds(p.time.step),
    count(p.tokensPerSecond),
  ];
}

/** planCells with the dimensions a table shows beside them: context parallel searched or given,
 *  a cp cell after tp (degree and exchange); a mixture of experts, ep and etp after dp (edp =
 *  tp·cp·dp/(ep·etp) follows). */
export function planCellsWith(p: PlanResult, experts: boolean, cp: boolean, every?: DepthEvery): string[] {
  const base = planCells(p, every);
  const dims = [base[0]!, ...(cp ? [cpCell(p)] : []), ...base.slice(1, 4), ...(experts ? [String(p.ep), String(p.etp)] : [])];
  return [...dims, ...base.slice(4)];
}

/** The dimension names of planCellsWith's first cells, to dp (and ep, etp). */
export const dimNames = (experts: boolean, cp: boolean): string[] => ["tp", ...(cp ? ["cp"] : []), "pp", "vpp", "dp", ...(experts ? ["ep", "etp"] : [])];

/** The ranked table; with `simulated` (per row, in order) a "sim. step" column after MFU. The
 *  step, tokens/s, TFLOP/s and MFU columns are the closed form's, whose order the rows are in. */
export function plansTable(plans: PlanResult[], simulated?: readonly { step: number }[], experts = false, cp = false, compiled = false, every?: DepthEvery): string {
  const rows = plans.map((p, i) => {
    const base = planCellsWith(p, experts, cp, every);
    // An engine that runs some plans eager (planner/eager.ts): whether this one compiles, after the schedule.
    const at = base.length - 3;
    const cells = [String(i + 1), ...(compiled ? [...base.slice(0, at), p.eager ? "no" : "yes", ...base.slice(at)] : base), tflopsCell(p.tflopsPerGpu), percent(p.mfu)];
    return simulated ? [...cells, simulated[i] ? seconds(simulated[i]!.step) : "-"] : cells;
  });
  const dims = dimNames(experts, cp);
  const head = ["#", ...dims, "zero", "mbs", "recompute", "sp", "schedule", ...(compiled ? ["compiled"] : []), "memory/GPU (of cap.)", "step", "tokens/s", "TFLOP/s/GPU", "MFU"];
  const right = [true, ...dims.map(() => true), true, true, false, false, false, ...(compiled ? [false] : []), true, true, true, true, true];
  return simulated ? table([...head, "sim. step"], rows, [...right, true]) : table(head, rows, right);
}

/** The best plan's figures; with the request's calibration standing, what of the plan none of
 *  its engine's published runs used (calibration-standing.ts planOutside). */
export function breakdown(p: PlanResult, standing?: CalibrationStanding, zero0IsBf16Optimizer = false, every?: DepthEvery): string {
  const unrun = standing ? outsideWords(planOutside(p, standing)) : [];
  const m = p.memory;
  const t = p.time;
  const stage = p.worstStage === "only" ? "" : ` (${worstStageName(p, "pipeline stage")}, the fullest)`;
  return [
    `best plan: ${describePlan(p, every)}`,
    `  memory per GPU${stage}: weights ${bytesShown(m.weights)} + gradients ${bytesShown(m.gradients)} + optimizer ${bytesShown(m.optimizer)} + activations ${bytesShown(m.activations)} + other ${bytesShown(m.other)} = ${bytesShown(m.total)} of ${gib(m.capacity)}`,
    ...(m.experts !== undefined ? [`  of which routed experts (weights, gradients, optimizer; ÷ ep·etp = ${p.ep * p.etp}, states sharded over edp = ${(p.tp * p.cp * p.dp) / (p.ep * p.etp)}): ${bytesShown(m.experts)}`] : []),
    `  step ${seconds(t.step)}: compute ${seconds(t.compute)}, recompute ${seconds(t.recompute)}, tp comm ${seconds(t.tpComm)}, ${m.experts !== undefined ? `ep all-to-all ${seconds(t.epComm)} (${percent(t.epComm / t.step)}), ` : ""}${p.cp > 1 ? `cp exchange ${seconds(t.cpComm)} (${percent(t.cpComm / t.step)}), ` : ""}pp comm ${seconds(t.ppComm)}, bubble ${seconds(t.bubble)}, exposed dp comm ${seconds(t.dpComm)}, optimizer ${seconds(t.optimizer)}`,
    `  ${count(p.tokensPerSecond)} tokens/s, ${p.tflopsPerGpu >= 1 ? `${grouped(p.tflopsPerGpu)} model TFLOP/s` : `${flopRate(p.tflopsPerGpu).replace(" ", " model ")}`} per GPU, MFU ${percent(p.mfu)}, HFU ${percent(p.hfu)}`,
    ...(p.zero > 0 && p.dp * p.cp === 1 ? [`  ${zeroNote(p.zero, zero0IsBf16Optimizer)}`] : []),
    ...(p.order ? [`  rank order ${p.orderReason ?? `${p.order} (the other order places dp and pp alike here)`}`] : []),
    ...(p.eager ? [`  runs eager (${p.eager.reason}): priced with engine ${p.eager.engine}`] : []),
    ...(unrun.length > 0 ? [`  calibration: no published run of this engine used ${unrun.join(" or ")}`] : []),
  ].join("\n");
}

/** A fixed ZeRO stage without data parallelism (the search lists ZeRO-0 only there). */
export const zeroNote = (zero: number, zero0IsBf16Optimizer = false): string =>
  zero0IsBf16Optimizer
    ? `ZeRO-${zero} with dp 1: nothing to shard (one data-parallel replica holds every state); DeepSpeed's ZeRO optimizer, lighter than its ZeRO-0 under bf16 (BF16_Optimizer keeps an fp32 copy of the gradients)`
    : `ZeRO-${zero} with dp 1: nothing to shard (one data-parallel replica holds every state), the same plan as ZeRO-0${zero === 3 ? " plus ZeRO-3's gather buffers" : ""}`;

export function rejections(result: SearchResult): string {
  const entries = (Object.entries(result.rejected) as [RejectionCode, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return "rejected: none";
  return `rejected: ${entries.map(([code, n]) => `${count(n)} ${REJECTION_CODES[code]} [${code}]`).join("; ")}`;
}

/** The closed form's best plans simulated step by step (planner/sim/rescore.ts). */
export interface SimulationNote {
  simulated: number;
  /** Whether the simulated steps order the simulated plans differently. */
  orderDiffers: boolean;
  /** Rank (from 0) of the plan with the shortest simulated step, and that step. */
  fastest: number;
  fastestStep: number;
  /** Rows listed. */
  listed: number;
  /** The first plan's simulation. */
  bestStep: number;
  bestBubble: number;
  bestImbalance: number;
  bestExposedComm: number;
}

export function simulationLine(n: SimulationNote, closedFormStep: number): string {
  const listedNote = n.fastest >= n.listed ? ` (not listed; --top ${n.fastest + 1} shows it)` : "";
  const verdict =
    n.fastest === 0
      ? `#1 is also the simulation's fastest${n.orderDiffers ? " (it orders some of the others differently)" : ", the order holds"}`
      : `the simulation finds #${n.fastest + 1} fastest${listedNote}, ${seconds(n.fastestStep)} against #1's ${seconds(n.bestStep)}`;
  return [
    `simulated the top ${n.simulated} step by step ("sim. step"; the rows keep the closed form's order and figures, as the interactive planner ranks): ${verdict}`,
    `#1 simulated ${seconds(n.bestStep)} (closed form ${seconds(closedFormStep)}): bubble ${seconds(n.bestBubble)}, stage imbalance ${seconds(n.bestImbalance)}, exposed communication ${seconds(n.bestExposedComm)}`,
  ].join("\n");
}

/** Whether the table says which plans compile: an engine that runs some plans eager and others
 *  not (a model it runs eager whatever the plan: the header says so once). The interactive
 *  planner's results table follows it (src/ui/core/results.ts). */
export const compiledColumn = (req: Pick<PlanRequest, "model" | "training">): boolean => {
  const f = req.training.engine.eager;
  return f !== undefined && modelEagerReasonOf(f.when, req.model) === null && f.when.some((c) => c !== "mixture-of-experts");
};

/** Whether a table of these plans shows cp: context parallel searched beside cp 1, or in a plan. */
export const showsCp = (result: Pick<SearchResult, "withoutCp">, plans: readonly Plan[]): boolean => result.withoutCp !== undefined || plans.some((p) => p.cp > 1);

export function planReport(req: PlanRequest, result: SearchResult, elapsedMs: number, sim?: SimulationNote, simulated?: readonly { step: number }[], cpWhy?: string | null): string {
  const cp = showsCp(result, result.plans);
  const every = depthEvery(req.training.engine, req.model.layers);
  return [
    header(req),
    `searched ${count(result.searched)} configurations in ${elapsedMs.toFixed(0)} ms: ${count(result.feasible)} fit in memory`,
    "",
    plansTable(result.plans, sim ? simulated : undefined, req.model.moe !== undefined, cp, compiledColumn(req), every),
    ...(sim ? [simulationLine(sim, result.plans[0]!.time.step)] : []),
    "",
    breakdown(result.plans[0]!, req.calibration, bf16Optimizer(req.training, 0), every),
    ...(cpWhy ? [`  why context parallel: ${cpWhy}`] : []),
    "",
    rejections(result),
  ].join("\n");
}
