// ASCII Gantt chart of a simulated step: one row per pipeline stage, time left to right. Pure:
// (timeline, width) → lines, so the interactive planner can draw the same chart.
// Each column shows what the stage's compute stream spent most of that slice of time on; upper
// case marks work on the critical path.
import type { Segment, Timeline } from "../../planner/sim/timeline.js";
import { seconds } from "./units.js";

type Cell = "f" | "b" | "w" | "r" | "c" | "o" | ".";
const CELLS: readonly Cell[] = ["f", "b", "w", "r", "c", "o", "."];

export const GANTT_LEGEND =
  "f forward  b backward (input gradient where split)  w weight gradient (zero-bubble schedules)  r recompute  c communication (tp, pp, exposed dp)  o optimizer  . idle (bubble or imbalance)  UPPER CASE: on the critical path";

function cellOf(seg: Segment): Cell {
  switch (seg.kind) {
    case "forward":
      return "f";
    case "backward":
      return "b";
    case "weightGrad":
      return "w";
    case "recompute":
      return "r";
    case "optimizer":
      return "o";
    case "bubble":
      return ".";
    default:
      return "c";
  }
}

/** Wrap text to `width`: between items (separated by two spaces) where possible, else between
 *  words. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  const put = (piece: string, sep: string) => {
    const next = line ? `${line}${sep}${piece}` : piece;
    if (next.length > width && line) {
      lines.push(line);
      line = piece;
    } else line = next;
  };
  for (const item of text.split("  ")) {
    if (item.length <= width) put(item, "  ");
    else item.split(" ").forEach((word, i) => put(word, i === 0 ? "  " : " "));
  }
  if (line) lines.push(line);
  return lines;
}

/** The chart as lines no wider than `width` (at least 30). */
export function renderGantt(tl: Timeline, width = 80): string[] {
  const w = Math.max(30, Math.floor(width));
  const label = (s: number) => `stage ${s}`.padEnd(`stage ${tl.pp - 1}`.length);
  const labelWidth = label(0).length;
  const cols = w - labelWidth - 3;
  const step = tl.step > 0 ? tl.step : 1;
  const dt = step / cols;
  const rows: string[] = [];
  const byStage: Segment[][] = Array.from({ length: tl.pp }, () => []);
  for (const seg of tl.segments) if (seg.stream === "compute" || seg.stream === "tp comm") byStage[seg.stage]!.push(seg);

  for (let s = 0; s < tl.pp; s++) {
    // time[col][cell] and critical time per column and cell
    const time = new Float64Array(cols * CELLS.length);
    const crit = new Float64Array(cols * CELLS.length);
    const idle = CELLS.indexOf(".");
    for (let c = 0; c < cols; c++) time[c * CELLS.length + idle] = dt; // uncovered time is idle
    for (const seg of byStage[s]!) {
      const k = CELLS.indexOf(cellOf(seg));
      const c0 = Math.max(0, Math.floor(seg.start / dt));
      const c1 = Math.min(cols - 1, Math.floor(seg.end / dt));
      for (let c = c0; c <= c1; c++) {
        const overlap = Math.min(seg.end, (c + 1) * dt) - Math.max(seg.start, c * dt);
        if (overlap <= 0) continue;
        const at = c * CELLS.length;
        time[at + k] = time[at + k]! + overlap;
        time[at + idle] = time[at + idle]! - overlap;
        if (seg.critical) crit[at + k] = crit[at + k]! + overlap;
      }
    }
    let bar = "";
    for (let c = 0; c < cols; c++) {
      let best = idle;
      for (let k = 0; k < CELLS.length; k++) if (time[c * CELLS.length + k]! > time[c * CELLS.length + best]! + 1e-15 * dt) best = k;
      const ch = CELLS[best]!;
      const critical = crit[c * CELLS.length + best]! > 0.5 * time[c * CELLS.length + best]!;
      bar += critical ? ch.toUpperCase() : ch;
    }
    rows.push(`${label(s)} |${bar}|`);
  }
  const start = "0";
  const end = seconds(tl.step);
  const axis = `${" ".repeat(labelWidth + 2)}${start}${end.padStart(cols - start.length)}`;
  const idle = tl.pp > 1 ? `  bubble ${seconds(tl.summary.bubble)}  imbalance ${seconds(tl.summary.imbalance)}` : "";
  const head = `simulated step ${seconds(tl.step)}  critical stage ${tl.criticalStage}${idle}  one column = ${seconds(dt)}`;
  return [...wrap(head, w), ...rows, axis, ...wrap(GANTT_LEGEND, w)];
}
