// Execute: the run's progress bar, loss sparkline and step time, then measured against
// predicted (from the executor's summary), or the executor's refusal or failure.
import { Box, Text } from "ink";
import { runView } from "./core/run-view.js";
import type { RunState } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface ExecuteScreenProps {
  run: RunState;
  width: number;
  height: number;
}

const STATUS_COLOR = { preparing: "yellow", running: "yellow", done: "green", failed: "red", refused: "red" } as const;

export function ExecuteScreen({ run, width, height }: ExecuteScreenProps) {
  const v = runView(run, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {v.title}
      </Text>
      {v.note ? <Text color="gray">{v.note}</Text> : null}
      {v.engine ? <Text color="gray">{v.engine}</Text> : null}
      <Text color={STATUS_COLOR[run.status]}>{v.status}</Text>
      {v.progress ? <Text color={ACCENT}>{v.progress}</Text> : null}
      {v.loss ? <Text>{v.loss}</Text> : null}
      {v.speed ? <Text>{v.speed}</Text> : null}
      {v.table.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>predicted against measured</Text>
          {v.table.map((l, i) => (
            <Text key={i} underline={i === 0} wrap="truncate-end">
              {l}
            </Text>
          ))}
        </Box>
      ) : null}
      {v.message ? (
        <Box marginTop={1}>
          <Text color="red" wrap="wrap">
            {v.message}
          </Text>
        </Box>
      ) : null}
      {v.runDir ? <Text color="gray">{v.runDir}</Text> : null}
    </Box>
  );
}
