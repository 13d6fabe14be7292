// Execute: the run's progress bar, loss sparkline and step time, then measured against
// predicted (from the executor's summary), or the executor's refusal or failure — the lines
// core/run-view.ts keeps for the screen's height, one row each.
import { Box, Text } from "ink";
import { type RunTone, runLines, runView } from "./core/run-view.js";
import type { RunState } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface ExecuteScreenProps {
  run: RunState;
  width: number;
  height: number;
}

const STATUS_COLOR = { preparing: "yellow", running: "yellow", done: "green", failed: "red", refused: "red", stopping: "yellow", stopped: "yellow" } as const;

const STYLE: Record<Exclude<RunTone, "status">, { color?: string; bold?: boolean; underline?: boolean }> = {
  title: { bold: true },
  gray: { color: "gray" },
  accent: { color: ACCENT },
  plain: {},
  heading: { bold: true },
  tableHead: { underline: true },
  error: { color: "red" },
};

export function ExecuteScreen({ run, width, height }: ExecuteScreenProps) {
  const lines = runLines(runView(run, width), width, height);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {lines.map((l, i) => (
        <Box key={i} flexShrink={0} height={1}>
          <Text {...(l.tone === "status" ? { color: STATUS_COLOR[run.status] } : STYLE[l.tone])} wrap="truncate-end">
            {l.text === "" ? " " : l.text}
          </Text>
        </Box>
      ))}
    </Box>
  );
}
