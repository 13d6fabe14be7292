// Plan detail: memory against capacity, the step-time breakdown, communication per group and
// its link, the bubble, and what changed from the plan shown before — the lines that
// core/detail-lines.ts keeps for the screen's height, one row each.
import { Box, Text } from "ink";
import type { ModelSpec, PlanResult, Hardware } from "../../planner/index.js";
import type { PlanRequest } from "../plan-request.js";
import { detailView } from "./core/detail.js";
import { type DetailLine, detailLines } from "./core/detail-lines.js";
import type { RunChoice } from "./core/run-settings.js";
import { MEMORY_COLOR, Segments, TIME_COLOR, TONE_STYLE } from "./theme.js";

export interface DetailScreenProps {
  plan: PlanResult;
  previous: PlanResult | null;
  hw: Hardware;
  training: PlanRequest["training"];
  /** With the model, the screen also shows the plan's wire. */
  model?: ModelSpec;
  /** The tokens and price of the whole run (default: a trillion tokens, no price). */
  run?: RunChoice;
  width: number;
  height: number;
}

function Line({ line }: { line: DetailLine }) {
  switch (line.kind) {
    case "text":
      return (
        <Text {...TONE_STYLE[line.tone]} wrap="truncate-end">
          {line.text}
        </Text>
      );
    case "memoryBar":
      return (
        <Box flexShrink={0}>
          <Text>{line.prefix}</Text>
          <Segments runs={line.runs} colors={MEMORY_COLOR} />
        </Box>
      );
    case "memoryRow":
      return (
        <Box flexShrink={0}>
          <Text>{line.prefix}</Text>
          <Text color={MEMORY_COLOR[line.key]}>{line.bar}</Text>
          <Text>{line.suffix}</Text>
        </Box>
      );
    case "timeBar":
      return (
        <Box flexShrink={0}>
          <Text>{line.prefix}</Text>
          <Segments runs={line.runs} colors={TIME_COLOR} />
        </Box>
      );
    case "legend":
      return (
        <Text wrap="truncate-end">
          {line.prefix}
          {line.items.map((item) => (
            <Text key={item.key} color={TIME_COLOR[item.key]}>
              {item.text}
            </Text>
          ))}
        </Text>
      );
  }
}

export function DetailScreen({ plan, previous, hw, training, model, run, width, height }: DetailScreenProps) {
  const lines = detailLines(detailView(plan, hw, training, previous, width, model, run), height);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {lines.map((l, i) => (
        <Box key={i} flexShrink={0} height={1}>
          <Line line={l} />
        </Box>
      ))}
    </Box>
  );
}
