// Frontier chart: throughput against memory per GPU for every feasible plan; the selected plan
// and the Pareto frontier are marked (the scatter is laid out in src/ui/core/frontier.ts).
import { Box, Text } from "ink";
import type { PlanResult } from "../../planner/index.js";
import { frontierView } from "./core/frontier.js";
import { Segments, TONE_COLOR } from "./theme.js";

export interface FrontierScreenProps {
  plans: readonly PlanResult[];
  selected: PlanResult | null;
  width: number;
  height: number;
}

export function FrontierScreen({ plans, selected, width, height }: FrontierScreenProps) {
  const v = frontierView(plans, selected, width, height - 2);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {v.caption.map((line, i) => (
        <Text key={i} bold={i === 0} color={i === 1 ? TONE_COLOR.selected : undefined} wrap="truncate-end">
          {line}
        </Text>
      ))}
      {v.rows.map((row, i) => (
        <Segments key={i} runs={row.map((r) => ({ key: r.tone, text: r.text }))} colors={TONE_COLOR} />
      ))}
    </Box>
  );
}
