// Colours of the interactive planner (presentation only), and the component that paints runs of
// text laid out by src/ui/core. Every bar also differs by glyph, so it reads without colour.
import { Text } from "ink";
import type { MemoryKey, TimeKey } from "./core/detail.js";
import type { Tone } from "./core/frontier.js";
import type { Tone as LineTone } from "./core/detail-lines.js";

export const MEMORY_COLOR: Record<MemoryKey | "free", string> = {
  weights: "cyan",
  gradients: "blue",
  optimizer: "magenta",
  activations: "yellow",
  other: "white",
  free: "gray",
};

export const TIME_COLOR: Record<TimeKey | "free", string> = {
  compute: "green",
  recompute: "greenBright",
  tpComm: "cyan",
  epComm: "cyanBright",
  cpComm: "blueBright",
  ppComm: "blue",
  bubble: "red",
  dpComm: "magenta",
  optimizer: "yellow",
  free: "gray",
};

export const TONE_COLOR: Record<Tone, string | undefined> = {
  axis: "gray",
  plan: "white",
  frontier: "cyan",
  selected: "yellowBright",
  blank: undefined,
};

export const ACCENT = "cyan";

export interface Run {
  key: string;
  text: string;
}

export function Segments({ runs, colors }: { runs: readonly Run[]; colors: Record<string, string | undefined> }) {
  return (
    <Text wrap="truncate-end">
      {runs.map((r, i) => (
        <Text key={i} color={colors[r.key]}>
          {r.text}
        </Text>
      ))}
    </Text>
  );
}

/** How core/detail-lines.ts's tones are drawn. */
export const TONE_STYLE: Record<LineTone, { color?: string; bold?: boolean }> = {
  plan: { color: ACCENT, bold: true },
  heading: { bold: true },
  plain: {},
  accent: { color: ACCENT },
  gray: { color: "gray" },
  warn: { color: "yellow" },
};
