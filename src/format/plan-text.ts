// Text report of a search: header with assumptions, the ranked table, the best plan's
// breakdown, and rejections by reason.
import { type Plan, type PlanResult, REJECTION_CODES, type RejectionCode, type SearchResult, totalParams } from "../../planner/index.js";
import type { PlanRequest } from "../plan-request.js";
import { bandwidth, compact, count, gib, grouped, percent, seconds, table } from "./units.js";

export const SCHEDULE_LABEL = { "1f1b": "1F1B", interleaved: "interleaved 1F1B", gpipe: "GPipe", zb1p: "ZB1P zero bubble", zbv: "ZB-V zero bubble", dualpipev: "DualPipeV" } as const;

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

/** The ranked table; with `simulated` (per row, in order) a "sim. step" column after MFU. The
 *  step, tokens/s, TFLOP/s and MFU columns are the closed form's, whose order the rows are in. */
export function plansTable(plans: PlanResult[], simulated?: readonly { step: number }[]): string {
  const rows = plans.map((p, i) => {
    const cells = [String(i + 1), ...planCells(p), grouped(p.tflopsPerGpu), percent(p.mfu)];
    return simulated ? [...cells, simulated[i] ? seconds(simulated[i]!.step) : "-"] : cells;
  });
  const head = ["#", "tp", "pp", "vpp", "dp", "zero", "mbs", "recompute", "sp", "schedule", "memory/GPU (of cap.)", "step", "tokens/s", "TFLOP/s/GPU", "MFU"];
  const right = [true, true, true, true, true, true, true, false, false, false, true, true, true, true, true];
  return simulated ? table([...head, "sim. step"], rows, [...right, true]) : table(head, rows, right);
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

export function planReport(req: PlanRequest, result: SearchResult, elapsedMs: number, sim?: SimulationNote, simulated?: readonly { step: number }[]): string {
  return [
    header(req),
    `searched ${count(result.searched)} configurations in ${elapsedMs.toFixed(0)} ms: ${count(result.feasible)} fit in memory`,
    "",
    plansTable(result.plans, sim ? simulated : undefined),
    ...(sim ? [simulationLine(sim, result.plans[0]!.time.step)] : []),
    "",
    breakdown(result.plans[0]!),
    "",
    rejections(result),
  ].join("\n");
}
