// Setup: model, cluster, software, nodes × GPUs per node, global batch and sequence. Enter plans.
import { Box, Text } from "ink";
import type { SetupOptions } from "./core/setup.js";
import { setupScreenView } from "./core/setup-view.js";
import type { SetupState } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface SetupScreenProps {
  setup: SetupState;
  options: SetupOptions;
  width: number;
  height: number;
}

export function SetupScreen({ setup, options, width, height }: SetupScreenProps) {
  const v = setupScreenView(setup, options, height, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">How should this model be split on this cluster? Enter alone plans the defaults.</Text>
      <Text> </Text>
      {v.fields.map((f) => (
        <Box key={f.id} flexShrink={0}>
          <Text color={f.focused ? ACCENT : undefined}>{f.focused ? " › " : "   "}</Text>
          <Text bold={f.focused}>{f.label.padEnd(14)}</Text>
          <Text color={f.problem ? "red" : f.focused ? ACCENT : undefined} inverse={f.editing}>
            {f.focused && !f.editing && f.option ? `‹ ${f.value} ›` : f.value}
          </Text>
          {f.editing ? <Text color={ACCENT}>▏</Text> : null}
          {f.problem ? <Text color="red">{`  ${f.problem}`}</Text> : null}
        </Box>
      ))}
      <Text color="gray" wrap="truncate-end">{`   ${"".padEnd(14)}${v.total}`}</Text>
      {v.error.length > 0 ? <Text> </Text> : null}
      {v.error.map((l, i) => (
        <Text key={`e${i}`} color="red" wrap="truncate-end">
          {l}
        </Text>
      ))}
      {v.showList ? <Text> </Text> : null}
      {v.showList && v.listTitle ? <Text color="gray" wrap="truncate-end">{v.listTitle}</Text> : null}
      {v.showList
        ? v.list.map((item, i) => (
            <Text key={i} color={item.selected ? ACCENT : undefined} bold={item.selected} wrap="truncate-end">
              {item.selected ? " ▸ " : "   "}
              {item.text}
            </Text>
          ))
        : null}
    </Box>
  );
}
