// Text report of a search: header with assumptions, the ranked table, the best plan's
// breakdown, and rejections by reason.
import { type Plan, type PlanResult, REJECTION_CODES, type RejectionCode, type SearchResult, totalParams } from "../../planner/index.js";
import type { PlanRequest } from "../plan-request.js";
import { bandwidth, compact, count, gib, grouped, percent, seconds, table } from "./units.js";

export const SCHEDULE_LABEL = { "1f1b": "1F1B", interleaved: "interleaved 1F1B", gpipe: "GPipe" } as const;

/** A plan in words: "tp 4 · pp 8 · vpp 6 · dp 32 · ZeRO-1 · micro-batch 2 · …". */
export function describePlan(p: Plan): string {
  const parts = [`tp ${p.tp}`, `pp ${p.pp}`];
  if (p.vpp > 1) parts.push(`vpp ${p.vpp}`);
  parts.push(`dp ${p.dp}`, `ZeRO-${p.zero}`, `micro-batch ${p.microBatch}`, p.recompute === "none" ? "no recompute" : `${p.recompute} recompute`);
  if (p.sequenceParallel) parts.push("sequence parallel");
  if (p.pp > 1) parts.push(SCHEDULE_LABEL[p.schedule]);
  return parts.join(" · ");
}

export function header(req: PlanRequest): string {
  const { model: m, hw, training: t } = req;
  const nodes = Math.ceil(t.gpus / hw.gpusPerNode);
  const link = `${hw.intra.kind === "nvlink" ? "NVLink" : "PCIe"} ${bandwidth(hw.intra.bandwidth)}`;
  const lines = [
    `${m.name} (${compact(totalParams(m, t.seqLen))} parameters) on ${count(t.gpus)} × ${hw.gpuName} — ${req.profileName}: ${count(nodes)} node${nodes > 1 ? "s" : ""} × ${count(hw.gpusPerNode)}, ${link} and ${bandwidth(hw.inter.bandwidth)} network per GPU`,
    `global batch ${t.globalBatch} × ${t.seqLen} tokens, ${t.precision}, ${t.fusedAttention ? "fused" : "unfused"} attention, Adam with fp32 master weights`,
  ];
  if (req.assumed.length) lines.push(`assumed: ${req.assumed.join("; ")}`);
  return lines.join("\n");
}

/** A plan's cells under "tp pp vpp dp zero mbs recompute sp schedule memory/GPU step tokens/s". */
export function planCells(p: PlanResult): string[] {
  return [
    String(p.tp),
    String(p.pp),
    String(p.vpp),
    String(p.dp),
    String(p.zero),
    String(p.microBatch),
    p.recompute,
    p.sequenceParallel ? "yes" : "no",
    p.pp > 1 ? SCHEDULE_LABEL[p.schedule] : "-",
    `${gib(p.memory.total)} (${percent(p.memory.total / p.memory.capacity, 0)})`,
    seconds(p.time.step),
    count(p.tokensPerSecond),
  ];
}

export function plansTable(plans: PlanResult[]): string {
  const rows = plans.map((p, i) => [String(i + 1), ...planCells(p), grouped(p.tflopsPerGpu), percent(p.mfu)]);
  return table(
    ["#", "tp", "pp", "vpp", "dp", "zero", "mbs", "recompute", "sp", "schedule", "memory/GPU (of cap.)", "step", "tokens/s", "TFLOP/s/GPU", "MFU"],
    rows,
    [true, true, true, true, true, true, true, false, false, false, true, true, true, true, true],
  );
}

export function breakdown(p: PlanResult): string {
  const m = p.memory;
  const t = p.time;
  const stage = p.worstStage === "only" ? "" : ` (${p.worstStage} pipeline stage, the fullest)`;
  return [
    `best plan: ${describePlan(p)}`,
    `  memory per GPU${stage}: weights ${gib(m.weights)} + gradients ${gib(m.gradients)} + optimizer ${gib(m.optimizer)} + activations ${gib(m.activations)} + other ${gib(m.other)} = ${gib(m.total)} of ${gib(m.capacity)}`,
    `  step ${seconds(t.step)}: compute ${seconds(t.compute)}, recompute ${seconds(t.recompute)}, tp comm ${seconds(t.tpComm)}, pp comm ${seconds(t.ppComm)}, bubble ${seconds(t.bubble)}, exposed dp comm ${seconds(t.dpComm)}, optimizer ${seconds(t.optimizer)}`,
    `  ${count(p.tokensPerSecond)} tokens/s, ${grouped(p.tflopsPerGpu)} model TFLOP/s per GPU, MFU ${percent(p.mfu)}, HFU ${percent(p.hfu)}`,
    ...(p.zero > 0 && p.dp === 1 ? [`  ${zeroNote(p.zero)}`] : []),
  ].join("\n");
}

/** A fixed ZeRO stage without data parallelism (the search lists ZeRO-0 only there). */
export const zeroNote = (zero: number): string =>
  `ZeRO-${zero} with dp 1: nothing to shard (one data-parallel replica holds every state), the same plan as ZeRO-0${zero === 3 ? " plus ZeRO-3's gather buffers" : ""}`;

export function rejections(result: SearchResult): string {
  const entries = (Object.entries(result.rejected) as [RejectionCode, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return "rejected: none";
  return `rejected: ${entries.map(([code, n]) => `${count(n)} ${REJECTION_CODES[code]} [${code}]`).join("; ")}`;
}

/** Whether simulating the closed form's best plans changed their order (planner/sim/rescore.ts). */
export interface SimulationNote {
  simulated: number;
  reranked: boolean;
  /** The listed best plan's rank in the closed form, from 0. */
  bestClosedFormRank: number;
  bestStep: number;
  bestBubble: number;
  bestImbalance: number;
  bestExposedComm: number;
}

export function simulationLine(n: SimulationNote, closedFormStep: number): string {
  const order = n.reranked
    ? `order changed (rows in simulated order, the step column is the closed form's${n.bestClosedFormRank > 0 ? `; the best plan was #${n.bestClosedFormRank + 1} in the closed form` : ""})`
    : "order unchanged";
  return `simulated the top ${n.simulated} step by step: ${order}; best plan ${seconds(n.bestStep)} simulated (closed form ${seconds(closedFormStep)}), bubble ${seconds(n.bestBubble)}, stage imbalance ${seconds(n.bestImbalance)}, exposed communication ${seconds(n.bestExposedComm)}`;
}

export function planReport(req: PlanRequest, result: SearchResult, elapsedMs: number, sim?: SimulationNote): string {
  return [
    header(req),
    `searched ${count(result.searched)} configurations in ${elapsedMs.toFixed(0)} ms: ${count(result.feasible)} fit in memory`,
    "",
    plansTable(result.plans),
    ...(sim ? [simulationLine(sim, result.plans[0]!.time.step)] : []),
    "",
    breakdown(result.plans[0]!),
    "",
    rejections(result),
  ].join("\n");
}
