// The frame around every screen: the title (with where the plan stands on the detail screen)
// and the `?` list of keys (with, on the results, the legend of the rejection reasons).
import type { RejectionCounts } from "../../../planner/index.js";
import { fit } from "./bars.js";
import { wrapText } from "./frame.js";
import type { KeyHelp } from "./keys.js";
import { currentPlan, tablePlans } from "./reducer.js";
import { BLOCK_NOTE, UNEVEN_NOTE, rankLine, rejectionLegend } from "./results.js";
import { type AppState, type Screen, screenOf } from "./state.js";

const TITLE = { setup: "setup", results: "ranked plans", detail: "plan detail", frontier: "frontier", execute: "execute" } as const;

export function screenTitle(s: AppState): string {
  const screen = screenOf(s);
  const plan = currentPlan(s);
  if (s.help) return `paraplan · keys (${TITLE[screen]})`;
  if (screen === "detail" && plan) return `paraplan · plan detail · ${rankLine(tablePlans(s), plan, s.sort)}`;
  return `paraplan · ${TITLE[screen]}`;
}

/** The frame's top right corner. */
export const TITLE_KEYS = "? keys · q quit";

/** The title row in `width` columns: the title (without "paraplan · " where it would be cut, then
 *  cut) and the keys at the right, never wrapping onto a second row. */
export function titleRow(s: AppState, width: number): { left: string; right: string } {
  const room = Math.max(1, width - TITLE_KEYS.length - 1);
  const full = screenTitle(s);
  const short = full.replace(/^paraplan · /, "");
  return { left: fit(full.length <= room ? full : short, room), right: TITLE_KEYS };
}

export interface HelpLine {
  text: string;
  heading: boolean;
}

/** `rejected`: the search's rejections (the legend lists the reasons that occurred). */
export function helpLines(screen: Screen, keys: readonly KeyHelp[], global: readonly KeyHelp[], width: number, height: number, rejected: RejectionCounts = {}): HelpLine[] {
  const keyWidth = Math.max(...[...keys, ...global].map((k) => k.keys.length));
  // Wrapped under their own start where the rows allow (QA: cut mid-word with rows free), else cut.
  const build = (wrap: boolean): HelpLine[] => {
    const item = (lead: string, text: string, indent: number): HelpLine[] =>
      wrap
        ? wrapText(text, Math.max(10, width - indent)).map((l, i) => ({ text: fit(`${i === 0 ? lead : " ".repeat(indent)}${l}`, width), heading: false }))
        : [{ text: fit(`${lead}${text}`, width), heading: false }];
    const row = (k: KeyHelp) => item(`${k.keys.padEnd(keyWidth)}  `, k.does, keyWidth + 2);
    const lines: HelpLine[] = [{ text: `keys — ${screen} (any key closes this)`, heading: true }, ...keys.flatMap(row), ...global.flatMap(row)];
    if (screen === "results") lines.push(...item("", UNEVEN_NOTE, 2), ...item("", BLOCK_NOTE, 2));
    const legend = rejectionLegend(Object.keys(rejected));
    if (screen === "results" && legend.length > 0) {
      lines.push({ text: "rejected configurations, by reason", heading: true });
      lines.push(...legend.flatMap((text) => item("", text, 2)));
    }
    return lines;
  };
  const wrapped = build(true);
  return (wrapped.length <= height ? wrapped : build(false)).slice(0, Math.max(1, height));
}
