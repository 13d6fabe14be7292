// The plan detail as the lines the screen draws, in order, each with a priority: a body too short
// for all of them leaves out whole lines, the least needed first (the whole run, the bars that
// repeat the figures beside them, the headings), so that every figure stays on its own row.
// detail-screen.tsx renders what this returns, nothing more.
import type { Segment } from "./bars.js";
import type { DetailView, MemoryKey, TimeKey } from "./detail.js";
import { type Ranked, keepWithin } from "./frame.js";

/** How a text line is drawn (theme.tsx gives each its colour). */
export type Tone = "plan" | "heading" | "plain" | "accent" | "gray" | "warn";

export type DetailLine = Ranked &
  (
    | { kind: "text"; tone: Tone; text: string }
    | { kind: "memoryBar"; prefix: string; runs: Segment<MemoryKey>[] }
    | { kind: "memoryRow"; key: MemoryKey; prefix: string; bar: string; suffix: string }
    | { kind: "timeBar"; prefix: string; runs: Segment<TimeKey>[] }
    | { kind: "legend"; prefix: string; items: { key: TimeKey; text: string }[] }
  );

const LABEL = 13;

/** Priorities: the figures (memory, step, links, bubble) stay longest; then the plan line, the
 *  engine's notes, the difference and the wire; the headings and bars that repeat figures go before them, and the
 *  whole run (below the rest) first. */
const FIGURE = 6;
const PLAN = 5;
/** The engine's notes explain figures above (DeepSpeed's BF16_Optimizer: whole fp32 gradients). */
const NOTE = 4.5;
const EXTRA = 4;
const HEADING = 3;
const TIME_BAR = 3;
const TOTAL_BAR = 2;
const RUN_LINE = 1;
const RUN_TITLE = 0;

const text = (tone: Tone, t: string, priority: number): DetailLine => ({ kind: "text", tone, text: t, priority });

/** Every line of the detail, before any is left out. */
export function allDetailLines(v: DetailView): DetailLine[] {
  const lines: DetailLine[] = [
    ...v.title.map((t) => text("plan", t, PLAN)),
    text("heading", v.memoryHeader, FIGURE),
    { kind: "memoryBar", prefix: `  ${"total".padEnd(LABEL)}`, runs: v.memoryBar, priority: TOTAL_BAR },
    ...v.memoryRows.map((r): DetailLine => ({ kind: "memoryRow", key: r.key, prefix: `  ${r.label.padEnd(LABEL)}`, bar: r.bar, suffix: ` ${r.value.padStart(9)}`, priority: FIGURE })),
    text("heading", v.timeHeader, FIGURE),
    { kind: "timeBar", prefix: "  ", runs: v.timeBar, priority: TIME_BAR },
    ...v.timeLegend.map((items): DetailLine => ({ kind: "legend", prefix: "  ", items: items.map((it, j) => ({ key: it.key, text: `${j > 0 ? "  " : ""}${it.text}` })), priority: FIGURE })),
    text("heading", "communication per step (group, link per GPU, time)", HEADING),
    ...v.comms.map((c) => text(c.link.where === "node" ? "plain" : c.link.where === "none" ? "gray" : "warn", `  ${c.text}`, FIGURE)),
  ];
  if (v.experts !== null) lines.push(text("plain", `  ${v.experts}`, FIGURE));
  if (v.context !== null) lines.push(text("plain", `  ${v.context}`, FIGURE));
  if (v.wire !== null) lines.push(text("plain", `  ${v.wire}`, EXTRA));
  lines.push(text("plain", v.bubble, FIGURE));
  // (its first lines stay longest: a short body keeps the start of the note, whole lines of it)
  lines.push(...v.notes.map((l, i) => text("gray", l, NOTE - i / 100)));
  lines.push(...v.diff.map((l, i) => text(i === 0 ? "accent" : "plain", l, EXTRA)));
  if (v.run.length > 0) {
    lines.push(text("heading", "whole run", RUN_TITLE));
    // A line's rows go together (wrapParts: whole, where they were cut at 80 columns); of the
    // lines the first (time, GPU-hours and energy of the run) stays longest, then the goodput
    // under failures.
    v.run.forEach((rows, i) => lines.push(...rows.map((r): DetailLine => ({ ...text("plain", `  ${r}`, RUN_LINE + (v.run.length - 1 - i) / v.run.length), group: `run-${i}` }))));
  }
  return lines;
}

/** The lines of the detail that fit in `height` rows. */
export function detailLines(v: DetailView, height: number): DetailLine[] {
  return keepWithin(allDetailLines(v), height);
}
