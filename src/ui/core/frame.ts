// The frame around every screen, sized to the terminal: the title line, the body, the status
// message (wrapped over as many lines as it needs, up to a third of the screen) and the key hint.
// Below the smallest size the screens are laid out for, one message says so instead.
import { fit } from "./bars.js";

/** The smallest terminal the screens are laid out for (columns × rows). */
export const MIN_COLS = 60;
export const MIN_ROWS = 20;
/** Wider terminals get at most this many columns (the bars and tables stay readable). */
export const MAX_WIDTH = 120;

export interface Terminal {
  cols: number;
  rows: number;
}

/** The terminal's size (80 × 24 when unknown); a fixed frame size (tests) stands for a terminal
 *  one row taller, as the frame is one line short of the terminal (see frameLayout). */
export function terminalOf(columns: number | undefined, rows: number | undefined, width?: number, height?: number): Terminal {
  return { cols: width ?? columns ?? 80, rows: height !== undefined ? height + 1 : (rows ?? 24) };
}

/**
 * `text` in lines of at most `width` characters, broken between words (a word longer than a line
 * is cut across lines); line breaks in the text are kept.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/ +/).filter((x) => x !== "")) {
      if (line !== "" && line.length + 1 + word.length <= w) {
        line += ` ${word}`;
        continue;
      }
      if (line !== "") out.push(line);
      let rest = word;
      while (rest.length > w) {
        out.push(rest.slice(0, w));
        rest = rest.slice(w);
      }
      line = rest;
    }
    out.push(line);
  }
  return out;
}

/** At most `max` lines of `lines`; when some are left out, the last one shown ends in "…". */
export function firstLines(lines: readonly string[], max: number, width: number): string[] {
  if (lines.length <= max) return [...lines];
  const shown = lines.slice(0, Math.max(1, max));
  shown[shown.length - 1] = fit(`${shown[shown.length - 1]!} …`, width);
  return shown;
}

export type FrameLayout =
  | { kind: "too-small"; lines: string[] }
  | {
      kind: "frame";
      width: number;
      height: number;
      /** Lines left to the screen between the title and the message. */
      body: number;
      /** The status message, wrapped (one blank line when there is none). */
      message: string[];
    };

export function tooSmallText(t: Terminal): string {
  return `terminal too small: need at least ${MIN_COLS}×${MIN_ROWS}, have ${t.cols}×${t.rows} (enlarge it; q quits)`;
}

/**
 * Where everything goes in a terminal of this size. The frame is one line short of the terminal
 * (a frame as tall as the screen makes ink clear and redraw it) and at most MAX_WIDTH wide.
 */
export function frameLayout(t: Terminal, message: string | null): FrameLayout {
  if (t.cols < MIN_COLS || t.rows < MIN_ROWS) {
    const width = Math.max(1, t.cols);
    return { kind: "too-small", lines: firstLines(wrapText(tooSmallText(t), width), Math.max(1, t.rows - 1), width) };
  }
  const width = Math.min(MAX_WIDTH, t.cols);
  const height = t.rows - 1;
  const lines = message ? firstLines(wrapText(message, width), Math.max(2, Math.floor(height / 3)), width) : [" "];
  return { kind: "frame", width, height, body: height - 2 - lines.length, message: lines };
}

/** A line a screen may leave out when its body is short: the higher its priority, the longer it
 *  stays. */
export interface Ranked {
  priority: number;
  /** Lines of one block that reads only whole (a table's title, header, rule and rows): leaving
   *  out one of them leaves out all. */
  group?: string;
}

/**
 * The lines that fit in `height` rows, in their order: whole lines are left out, the lowest
 * priority first (of equal priority, the lowest on the screen first), never cut or drawn over
 * each other; a line of a group goes with every line of its group (QA: a table kept its header
 * and lost its rows).
 */
export function keepWithin<T extends Ranked>(lines: readonly T[], height: number): T[] {
  const excess = lines.length - Math.max(0, height);
  if (excess <= 0) return [...lines];
  const order = lines
    .map((l, i) => [l.priority, i] as const)
    .sort((a, b) => a[0] - b[0] || b[1] - a[1])
    .map(([, i]) => i);
  const dropped = new Set<number>();
  for (const i of order) {
    if (dropped.size >= excess) break;
    if (dropped.has(i)) continue;
    const g = lines[i]!.group;
    if (g === undefined) dropped.add(i);
    else lines.forEach((l, j) => l.group === g && dropped.add(j));
  }
  return lines.filter((_, i) => !dropped.has(i));
}
