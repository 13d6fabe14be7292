// The frontier chart: throughput against memory per GPU for every feasible plan, as a
// character-cell scatter plot; the Pareto frontier (no other plan is both faster and smaller)
// and the selected plan are marked.
import { DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type Plan, type PlanResult } from "../../../planner/index.js";
import { compact, count, gib } from "../../format/units.js";
import { fit } from "./bars.js";
import { shortPlan } from "./detail.js";

export type Tone = "axis" | "plan" | "frontier" | "selected" | "blank";

export interface ToneRun {
  text: string;
  tone: Tone;
}

export interface FrontierView {
  rows: ToneRun[][];
  caption: string[];
}

export const GLYPH = { plan: "·", frontier: "◆", selected: "●" } as const;

/** Every dimension of a plan (two plans with the same key are the same plan): cp's exchange and
 *  cut, ep, etp, uneven stages and the rank order included, defaults filled in. */
export const planKey = (p: Plan) =>
  [
    p.tp, p.cp, p.cp > 1 ? (p.cpComm ?? DEFAULT_CP_COMM) : "", p.cp > 1 ? (p.cpSplit ?? DEFAULT_CP_SPLIT) : "", p.ep, p.etp,
    p.pp, p.vpp, p.dp, p.zero, p.microBatch, p.recompute, p.recomputeLayers ?? "", p.sequenceParallel, p.schedule,
    p.stageLayers?.join(".") ?? "", p.order ?? "tp-cp-dp-pp",
  ].join("/");

/** The Pareto frontier, by memory ascending: each plan faster than every plan using less memory. */
export function paretoFrontier(plans: readonly PlanResult[]): PlanResult[] {
  const byMemory = [...plans].sort((a, b) => a.memory.total - b.memory.total || b.tokensPerSecond - a.tokensPerSecond);
  const out: PlanResult[] = [];
  let best = -Infinity;
  for (const p of byMemory) {
    if (p.tokensPerSecond > best) {
      out.push(p);
      best = p.tokensPerSecond;
    }
  }
  return out;
}

/** The frontier plan `delta` steps from the selected one (from the nearest in memory when the
 *  selected plan is not on the frontier). */
export function frontierStep(frontier: readonly PlanResult[], selected: PlanResult | null, delta: number): PlanResult | null {
  if (frontier.length === 0) return null;
  if (selected === null) return frontier[frontier.length - 1]!;
  let at = frontier.findIndex((p) => planKey(p) === planKey(selected));
  if (at < 0) {
    let best = Infinity;
    frontier.forEach((p, i) => {
      const d = Math.abs(p.memory.total - selected.memory.total);
      if (d < best) [best, at] = [d, i];
    });
    return frontier[at]!;
  }
  return frontier[Math.max(0, Math.min(frontier.length - 1, at + delta))]!;
}

const RANK: Record<Tone, number> = { blank: 0, axis: 1, plan: 2, frontier: 3, selected: 4 };

function runs(cells: { ch: string; tone: Tone }[]): ToneRun[] {
  const out: ToneRun[] = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last.tone === c.tone) last.text += c.ch;
    else out.push({ text: c.ch, tone: c.tone });
  }
  return out;
}

/** Three labels under an axis of w cells that starts at column `at`: left, centre, right. */
export function xAxisLabels([lo, mid, hi]: [string, string, string], at: number, w: number): string {
  const line = Array.from({ length: at + w }, () => " ");
  const place = (text: string, start: number) => [...text].forEach((c, i) => (line[start + i] = c));
  place(lo, at);
  const m = at + Math.floor(w / 2) - Math.floor(mid.length / 2);
  if (m > at + lo.length && m + mid.length < at + w - hi.length) place(mid, m);
  place(hi, at + w - hi.length);
  return line.join("").trimEnd();
}

/** A width × height chart (axes and labels included) plus its caption lines. */
export function frontierView(plans: readonly PlanResult[], selected: PlanResult | null, width: number, height: number): FrontierView {
  const label = 8;
  const w = Math.max(10, width - label - 1);
  const h = Math.max(3, height - 2);
  if (plans.length === 0) return { rows: [[{ text: "no feasible plan to chart", tone: "axis" }]], caption: [] };
  const mem = plans.map((p) => p.memory.total / 2 ** 30);
  const tps = plans.map((p) => p.tokensPerSecond);
  const [x0, x1] = [Math.min(...mem), Math.max(...mem)];
  const [y0, y1] = [Math.min(...tps), Math.max(...tps)];
  const col = (x: number) => (x1 > x0 ? Math.round(((x - x0) / (x1 - x0)) * (w - 1)) : Math.floor(w / 2));
  const row = (y: number) => h - 1 - (y1 > y0 ? Math.round(((y - y0) / (y1 - y0)) * (h - 1)) : Math.floor(h / 2));
  const grid: { ch: string; tone: Tone }[][] = Array.from({ length: h }, () => Array.from({ length: w }, () => ({ ch: " ", tone: "blank" as Tone })));
  const put = (p: PlanResult, tone: "plan" | "frontier" | "selected") => {
    const cell = grid[row(p.tokensPerSecond)]![col(p.memory.total / 2 ** 30)]!;
    if (RANK[tone] >= RANK[cell.tone]) Object.assign(cell, { ch: GLYPH[tone], tone });
  };
  plans.forEach((p) => put(p, "plan"));
  const frontier = paretoFrontier(plans);
  frontier.forEach((p) => put(p, "frontier"));
  if (selected) put(selected, "selected");
  const yLabel = (r: number) => (r === 0 ? compact(y1) : r === h - 1 ? compact(y0) : r === Math.floor((h - 1) / 2) ? compact((y0 + y1) / 2) : "");
  const rows: ToneRun[][] = grid.map((cells, r) => [{ text: `${yLabel(r).padStart(label - 1)} ┤`, tone: "axis" as Tone }, ...runs(cells)]);
  rows.push([{ text: `${" ".repeat(label)}└${"─".repeat(w)}`, tone: "axis" }]);
  rows.push([{ text: xAxisLabels([gib(x0 * 2 ** 30), gib(((x0 + x1) / 2) * 2 ** 30), gib(x1 * 2 ** 30)], label + 1, w), tone: "axis" }]);
  const sel = selected ? `● ${gib(selected.memory.total)}, ${compact(selected.tokensPerSecond)} tokens/s: ${shortPlan(selected)}` : "";
  return {
    rows,
    caption: [
      fit(`tokens/s ↑ against memory per GPU → · ${count(plans.length)} feasible plans · ◆ frontier (${frontier.length})`, width),
      ...(sel ? [fit(sel, width)] : []),
    ],
  };
}
