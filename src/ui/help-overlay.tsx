// `?`: the keys of the current screen and the global ones (from the key table in core).
import { Box, Text } from "ink";
import { GLOBAL_HELP, KEY_HELP } from "./core/keys.js";
import { helpLines } from "./core/chrome.js";
import type { RejectionCounts } from "../../planner/index.js";
import type { Screen } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface HelpOverlayProps {
  screen: Screen;
  rejected?: RejectionCounts;
  width: number;
  height: number;
}

export function HelpOverlay({ screen, rejected, width, height }: HelpOverlayProps) {
  const lines = helpLines(screen, KEY_HELP[screen], GLOBAL_HELP, width - 4, height - 2, rejected);
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={ACCENT} paddingX={1} overflow="hidden">
      {lines.map((l, i) => (
        <Text key={i} bold={l.heading} color={l.heading ? ACCENT : undefined} wrap="truncate-end">
          {l.text}
        </Text>
      ))}
    </Box>
  );
}
