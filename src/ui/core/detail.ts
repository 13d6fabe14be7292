// The plan detail's view-model: memory against capacity, the step-time breakdown, communication
// per group with its link, the bubble, and the difference from the plan shown before.
import { depthEvery } from "../../format/recompute-depth.js";
import { DEFAULT_CP_COMM, type Hardware, type ModelSpec, type Plan, type PlanResult, type Training, degreesOf, place, splitLabel, wireLinks, wireOf, worstStageName } from "../../../planner/index.js";
import { cpAttentionImbalance, cpImbalance } from "../../../planner/cost/context.js";
import { bytesShown, count, flopRate, percent, seconds } from "../../format/units.js";
import { type Segment, fit, meter, stackedBar, wrapGroups } from "./bars.js";
import { type GroupLink, allGroupLinks } from "./links.js";
import { DEFAULT_RUN, type RunChoice } from "./run-settings.js";
import { wholeRunLines, wrapParts } from "./whole-run.js";
import { searchedAsItRuns } from "../../format/plan-text.js";
import type { PlanRequest } from "../../plan-request.js";
import { wrapText } from "./frame.js";
import { runsAs } from "../../../planner/eager.js";

export type MemoryKey = "weights" | "gradients" | "optimizer" | "activations" | "other";
export const MEMORY_KEYS: readonly MemoryKey[] = ["weights", "gradients", "optimizer", "activations", "other"];
export const MEMORY_GLYPH: Record<MemoryKey | "free", string> = {
  weights: "█",
  gradients: "▓",
  optimizer: "▒",
  activations: "░",
  other: "▪",
  free: "·",
};

export type TimeKey = "compute" | "recompute" | "tpComm" | "epComm" | "cpComm" | "ppComm" | "bubble" | "dpComm" | "optimizer";
export const TIME_KEYS: readonly TimeKey[] = ["compute", "recompute", "tpComm", "epComm", "cpComm", "ppComm", "bubble", "dpComm", "optimizer"];
export const TIME_LABEL: Record<TimeKey, string> = {
  compute: "compute",
  recompute: "recompute",
  tpComm: "tp comm",
  epComm: "ep all-to-all",
  cpComm: "cp exchange",
  ppComm: "pp comm",
  bubble: "bubble",
  dpComm: "dp exposed",
  optimizer: "optimizer",
};
export const TIME_GLYPH: Record<TimeKey | "free", string> = {
  compute: "█",
  recompute: "▓",
  tpComm: "▒",
  epComm: "⇄",
  cpComm: "↻",
  ppComm: "░",
  bubble: "╳",
  dpComm: "≡",
  optimizer: "▪",
  free: " ",
};

export interface MemoryRow {
  key: MemoryKey;
  label: string;
  bar: string;
  value: string;
}

export interface CommRow {
  link: GroupLink;
  text: string;
}

export interface DetailView {
  /** The plan, over two lines where it is wider than the screen (planLines). */
  title: string[];
  memoryHeader: string;
  memoryBar: Segment<MemoryKey>[];
  memoryRows: MemoryRow[];
  timeHeader: string;
  timeBar: Segment<TimeKey>[];
  timeLegend: { key: TimeKey; text: string }[][];
  comms: CommRow[];
  /** MoE plans: the routed experts' memory and the all-to-all's share of the step (null: dense). */
  experts: string | null;
  /** cp plans: the exchange, what it moves per layer and its share of the step (null: cp 1). */
  context: string | null;
  /** The plan's wire in one line (with the model), else null. */
  wire: string | null;
  bubble: string;
  /** What the engine's search leaves out or means differently (DeepSpeed's ZeRO 0 is its
   *  BF16_Optimizer), as the CLI's header says it, wrapped to the width; empty when nothing. */
  notes: string[];
  /** The whole run per trillion tokens and under failures (with the model), else empty: each
   *  line as the rows it takes in the width (wrapParts). */
  run: string[][];
  diff: string[];
}

const COUNT_NAME = { tp: "ranks", cp: "ranks", pp: "stages", dp: "replicas", ep: "ranks" } as const;

function commRows(hw: Hardware, p: PlanResult): CommRow[] {
  const time = { tp: p.time.tpComm, cp: p.time.cpComm, pp: p.time.ppComm, dp: p.time.dpComm, ep: p.time.epComm };
  const links = allGroupLinks(hw, p);
  // The link column as wide as its longest entry (a fixed 30 cut the time off at 60 columns).
  const linkText = (l: GroupLink) => (l.where === "none" ? "no communication" : `${l.link} ${l.bandwidth}`);
  const linkWidth = Math.max(...links.map((l) => linkText(l).length));
  return links.map((l) => {
    const size = `${l.size} ${l.size === 1 ? COUNT_NAME[l.group].slice(0, -1) : COUNT_NAME[l.group]}`;
    const link = linkText(l);
    const exposed = l.group === "dp" ? (time.dp === 0 ? "fully overlapped" : `${seconds(time.dp)} exposed`) : seconds(time[l.group]);
    const t = l.where === "none" ? "" : exposed;
    const name = l.group === "dp" && p.cp > 1 ? "dp·cp" : l.group;
    return { link: l, text: `${name}  ${size.padEnd(12)} ${link.padEnd(linkWidth)}  ${t}`.trimEnd() };
  });
}

const SCHEDULE = { "1f1b": "1F1B", gpipe: "GPipe", interleaved: "interleaved", zb1p: "ZB1P", zbv: "ZB-V", dualpipev: "DualPipeV" } as const;

/** The plan in one short line (describePlan's words, abbreviated to fit 80 columns: mb micro-batch,
 *  sel selective, SP sequence parallel). */
export function shortPlan(p: Plan): string {
  return planParts(p).join(" · ");
}

/** The plan over at most two lines of `width`, broken between its parts (" ·" ends the first):
 *  a plan with uneven stages is wider than 80 columns (deepseek-v3's "pp 16 [3,4×14,2]"). */
export function planLines(p: Plan, width: number, every?: number): string[] {
  const groups = wrapGroups(planParts(p, every), (x) => x, width - 2, " · ");
  if (groups.length === 1) return [fit(groups[0]!.join(" · "), width)];
  return [fit(`${groups[0]!.join(" · ")} ·`, width), fit(groups.slice(1).flat().join(" · "), width)];
}

/** A plan's parts: "tp 8", "pp 16 [3,4×14,2]" (uneven stage layers, as `plan`'s table writes them:
 *  format/plan-text.ts planCells), "dp 16", … */
function planParts(p: Plan, every?: number): string[] {
  const parts = [`tp ${p.tp}`, ...(p.cp > 1 ? [`cp ${p.cp} ${p.cpComm ?? DEFAULT_CP_COMM}`] : []), p.stageLayers ? `pp ${p.pp} [${splitLabel(p.stageLayers)}]` : `pp ${p.pp}`];
  if (p.vpp > 1) parts.push(`vpp ${p.vpp}`);
  parts.push(`dp ${p.dp}`);
  if (p.ep > 1 || p.etp > 1) parts.push(p.etp > 1 ? `ep ${p.ep}×etp ${p.etp}` : `ep ${p.ep}`);
  parts.push(`ZeRO-${p.zero}`, `mb ${p.microBatch}`, p.recompute === "none" ? "no recompute" : `recompute ${p.recompute === "selective" ? "sel" : p.recomputeLayers !== undefined ? (every !== undefined ? `every ${every} (${p.recomputeLayers} a stage)` : `block ${p.recomputeLayers}`) : "full"}`);
  if (p.sequenceParallel) parts.push("SP");
  if (p.pp > 1) parts.push(SCHEDULE[p.schedule]);
  return parts;
}

export function bubbleLine(p: PlanResult, t: Training): string {
  if (p.pp === 1) return "bubble: none (no pipeline)";
  const microBatches = t.globalBatch / (p.dp * p.microBatch);
  const chunks = p.vpp > 1 ? `, ${p.vpp} chunks each` : "";
  return `bubble ${seconds(p.time.bubble)} = ${percent(p.time.bubble / p.time.step)} of the step (${p.pp} stages${chunks}, ${microBatches} micro-batch${microBatches === 1 ? "" : "es"})`;
}

const PLAN_DIMS: (keyof Plan)[] = ["tp", "cp", "cpComm", "cpSplit", "pp", "stageLayers", "vpp", "dp", "ep", "etp", "zero", "microBatch", "recompute", "recomputeLayers", "sequenceParallel", "schedule"];
const DIM_LABEL: Partial<Record<keyof Plan, string>> = { zero: "ZeRO", microBatch: "micro-batch", sequenceParallel: "SP", stageLayers: "stage layers", recomputeLayers: "layers recomputed" };

// Shared with the text report (format/plan-text.ts), which printed "0 TFLOP/s" and "0.00 GiB".
export { bytesShown, flopRate };

const signed = (x: number, f: (v: number) => string) => (x === 0 ? "±0" : `${x > 0 ? "+" : "−"}${f(Math.abs(x))}`);

/** What changed from the previous plan to this one: dimensions, then throughput, memory, step, MFU. */
export function planDiff(prev: PlanResult, p: PlanResult): string[] {
  // (stage layers by value: two plans' arrays are never the same object; even stages have none)
  const value = (x: unknown) => (Array.isArray(x) ? splitLabel(x) : x);
  const dims = PLAN_DIMS.filter((d) => value(prev[d]) !== value(p[d])).map((d) => {
    const v = (x: unknown) => (typeof x === "boolean" ? (x ? "on" : "off") : x === undefined ? (d === "recomputeLayers" ? "all" : "even") : String(value(x)));
    return `${DIM_LABEL[d] ?? d} ${v(prev[d])}→${v(p[d])}`;
  });
  if (dims.length === 0) return [];
  const rel = (p.tokensPerSecond - prev.tokensPerSecond) / prev.tokensPerSecond;
  return [
    `vs previous: ${dims.join(", ")}`,
    `  tokens/s ${signed(rel, (x) => percent(x))} · memory/GPU ${signed(p.memory.total - prev.memory.total, bytesShown)} · step ${signed(p.time.step - prev.time.step, seconds)} · MFU ${signed(100 * (p.mfu - prev.mfu), (x) => `${x.toFixed(1)} pts`)}`,
  ];
}

/** What one GPU of the slowest stage puts on the wire in a step, by group (the plan's wire, the
 *  items the closed form prices): "on the wire per GPU and step: tp 12.0 GiB in 6,144 calls · …". */
export function wireLine(m: ModelSpec, hw: Hardware, t: Training, p: Plan): string {
  const links = wireLinks(hw, place(hw, degreesOf(p), p.order));
  const by = new Map<string, { bytes: number; calls: number }>();
  for (const i of wireOf(m, t, p, links)) {
    if (!i.closedForm || i.calls === 0) continue;
    const g = i.id === "pp-gather" || i.id === "tied-embedding" ? "pp" : i.group;
    const e = by.get(g) ?? { bytes: 0, calls: 0 };
    e.bytes += i.calls * i.bytes;
    e.calls += i.calls;
    by.set(g, e);
  }
  if (by.size === 0) return "on the wire: nothing (one GPU)";
  const parts = [...by].map(([g, e]) => `${g} ${bytesShown(e.bytes)} in ${count(e.calls)} call${e.calls === 1 ? "" : "s"}`);
  return `on the wire per GPU and step: ${parts.join(" · ")}`;
}

/** The context-parallel exchange in one line: variant, K/V bytes of one layer's exchange per
 *  micro-batch and pass (model known), and its exposed share of the step. */
export function contextLine(p: PlanResult, hw: Hardware, t: Training, model?: ModelSpec): string {
  // (the model's own imbalance where known: a sliding window or Ulysses balances contiguous chunks)
  const busiest = model ? cpAttentionImbalance(model, t.seqLen, { cp: p.cp, split: "contiguous", comm: p.cpComm ?? DEFAULT_CP_COMM }) : cpImbalance(p.cp, "contiguous");
  const variant = `${p.cpComm ?? DEFAULT_CP_COMM}, ${p.cpSplit === "contiguous" ? `contiguous (busiest rank ×${busiest.toFixed(2)} attention)` : "zig-zag"}`;
  let moved = "";
  if (model) {
    const links = wireLinks(hw, place(hw, degreesOf(p), p.order));
    let bytes = 0;
    for (const i of wireOf(model, t, p, links)) if (i.group === "cp" && i.pass === "forward") bytes += i.perUnit * i.bytes;
    moved = ` · ${bytesShown(bytes)} per layer forward`;
  }
  return `context parallel: cp ${p.cp} (${variant}) · s/cp = ${count(t.seqLen / p.cp)} tokens a rank${moved} · exposed ${seconds(p.time.cpComm)} = ${percent(p.time.cpComm / p.time.step)} of the step`;
}

/** The engine's "searched as it runs" line, wrapped under the bubble (for a ZeRO-0 plan the
 *  BF16_Optimizer note first: it explains the memory rows above). */
function notesOf(p: PlanResult, t: PlanRequest["training"], width: number): string[] {
  const n = searchedAsItRuns(t, p.zero === 0);
  // (a plan the engine runs eager: whose figures these are, planner/eager.ts)
  const eager = p.eager ? `runs eager (${p.eager.reason}): priced with engine ${p.eager.engine}` : null;
  return [n, eager].flatMap((x) => (x === null ? [] : wrapText(x, width)));
}

/** `run`: the tokens and price the whole run is priced for (state.ts runChoice). */
export function detailView(p: PlanResult, hw: Hardware, t: PlanRequest["training"], previous: PlanResult | null, width: number, model?: ModelSpec, run: RunChoice = DEFAULT_RUN): DetailView {
  const m = p.memory;
  // The training the plan runs under (its engine's eager engine where it runs eager, planner/eager.ts).
  const ran = model ? runsAs(model, t, p) : t;
  const barWidth = Math.max(10, width - 26);
  const stage = p.worstStage === "only" ? "" : ` (${worstStageName(p, "stage")}, the fullest)`;
  const memoryRows = MEMORY_KEYS.map((k) => ({
    key: k,
    label: k,
    bar: meter(m[k], m.capacity, barWidth, MEMORY_GLYPH[k], "·"),
    value: bytesShown(m[k]),
  }));
  const legendItems = TIME_KEYS.filter((k) => p.time[k] > 0).map((k) => ({ key: k, text: `${TIME_GLYPH[k]} ${TIME_LABEL[k]} ${seconds(p.time[k])}` }));
  const timeLegend = wrapGroups(legendItems, (i) => i.text, width - 2);
  const experts =
    m.experts === undefined
      ? null
      : fit(`experts: ${bytesShown(m.experts)} of routed-expert states (÷ ep·etp = ${p.ep * p.etp}, over edp ${(p.tp * p.cp * p.dp) / (p.ep * p.etp)}) · all-to-all ${seconds(p.time.epComm)} = ${percent(p.time.epComm / p.time.step)} of the step`, width);
  return {
    // (torchtitan's depth is every N-th layer: src/format/recompute-depth.ts)
    title: planLines(p, width, model ? depthEvery(t.engine, model.layers)?.(p) : undefined),
    memoryHeader: fit(`memory per GPU${stage}: ${bytesShown(m.total)} of ${bytesShown(m.capacity)} (${percent(m.total / m.capacity, 0)})`, width),
    memoryBar: stackedBar(MEMORY_KEYS.map((k) => ({ key: k, value: m[k] })), m.capacity, barWidth, MEMORY_GLYPH),
    memoryRows,
    timeHeader: fit(`step ${seconds(p.time.step)} · ${count(p.tokensPerSecond)} tokens/s · MFU ${percent(p.mfu)} · ${flopRate(p.tflopsPerGpu)} per GPU`, width),
    timeBar: stackedBar(TIME_KEYS.map((k) => ({ key: k, value: p.time[k] })), p.time.step, width - 2, TIME_GLYPH),
    timeLegend,
    comms: commRows(hw, p),
    experts,
    context: p.cp > 1 ? fit(contextLine(p, hw, ran, model), width) : null,
    wire: model ? fit(wireLine(model, hw, ran, p), width) : null,
    bubble: fit(bubbleLine(p, ran), width),
    notes: notesOf(p, t, width),
    run: model ? wholeRunLines(model, hw, ran, p, run).map((l) => wrapParts(l, width - 2)) : [],
    diff: previous ? planDiff(previous, p).map((l) => fit(l, width)) : [],
  };
}
