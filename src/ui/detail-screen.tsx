// Plan detail: memory against capacity, the step-time breakdown, communication per group and
// its link, the bubble, and what changed from the plan shown before.
import { Box, Text } from "ink";
import type { Hardware, ModelSpec, PlanResult, Training } from "../../planner/index.js";
import { detailView } from "./core/detail.js";
import { runRows } from "./core/whole-run.js";
import { ACCENT, MEMORY_COLOR, Segments, TIME_COLOR } from "./theme.js";

export interface DetailScreenProps {
  plan: PlanResult;
  previous: PlanResult | null;
  hw: Hardware;
  training: Training;
  /** With the model, the screen also shows the plan's wire. */
  model?: ModelSpec;
  width: number;
  height: number;
}

const LABEL = 13;

export function DetailScreen({ plan, previous, hw, training, model, width, height }: DetailScreenProps) {
  const v = detailView(plan, hw, training, previous, width, model);
  const run = runRows(v, height);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text color={ACCENT} bold wrap="truncate-end">
        {v.title}
      </Text>
      <Text bold wrap="truncate-end">
        {v.memoryHeader}
      </Text>
      <Box>
        <Text>{`  ${"total".padEnd(LABEL)}`}</Text>
        <Segments runs={v.memoryBar} colors={MEMORY_COLOR} />
      </Box>
      {v.memoryRows.map((r) => (
        <Box key={r.key}>
          <Text>{`  ${r.label.padEnd(LABEL)}`}</Text>
          <Text color={MEMORY_COLOR[r.key]}>{r.bar}</Text>
          <Text>{` ${r.value.padStart(9)}`}</Text>
        </Box>
      ))}
      <Text bold wrap="truncate-end">
        {v.timeHeader}
      </Text>
      <Box>
        <Text>{"  "}</Text>
        <Segments runs={v.timeBar} colors={TIME_COLOR} />
      </Box>
      {v.timeLegend.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {"  "}
          {line.map((item, j) => (
            <Text key={item.key} color={TIME_COLOR[item.key]}>
              {`${j > 0 ? "  " : ""}${item.text}`}
            </Text>
          ))}
        </Text>
      ))}
      <Text bold>communication per step (group, link, time)</Text>
      {v.comms.map((c) => (
        <Text key={c.link.group} color={c.link.where === "node" ? undefined : c.link.where === "none" ? "gray" : "yellow"} wrap="truncate-end">
          {`  ${c.text}`}
        </Text>
      ))}
      {v.experts !== null && <Text wrap="truncate-end">{`  ${v.experts}`}</Text>}
      {v.context !== null && <Text wrap="truncate-end">{`  ${v.context}`}</Text>}
      {v.wire !== null && <Text wrap="truncate-end">{`  ${v.wire}`}</Text>}
      <Text wrap="truncate-end">{v.bubble}</Text>
      {v.diff.map((l, i) => (
        <Text key={i} color={i === 0 ? ACCENT : undefined} wrap="truncate-end">
          {l}
        </Text>
      ))}
      {run.title && <Text bold>whole run</Text>}
      {run.lines.map((l, i) => (
        <Text key={`run-${i}`} wrap="truncate-end">
          {`  ${l}`}
        </Text>
      ))}
    </Box>
  );
}
