// Setup: model, cluster, software, nodes × GPUs per node, global batch and sequence. Enter plans.
import { Box, Text } from "ink";
import type { SetupOptions } from "./core/setup.js";
import { setupView } from "./core/setup-view.js";
import type { SetupState } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface SetupScreenProps {
  setup: SetupState;
  options: SetupOptions;
  width: number;
  height: number;
}

/** Lines the form takes above the list: intro, blank, seven fields, total, blank, list title. */
const FORM_LINES = 12;

export function SetupScreen({ setup, options, width, height }: SetupScreenProps) {
  const errorLines = setup.error ? 2 : 0;
  const v = setupView(setup, options, height - FORM_LINES - errorLines, width);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text>How should this model be split on this cluster? Enter alone plans the defaults.</Text>
      <Text> </Text>
      {v.fields.map((f) => (
        <Box key={f.id}>
          <Text color={f.focused ? ACCENT : undefined}>{f.focused ? " › " : "   "}</Text>
          <Text bold={f.focused}>{f.label.padEnd(14)}</Text>
          <Text color={f.focused ? ACCENT : undefined} inverse={f.editing}>
            {f.focused && !f.editing && f.option ? `‹ ${f.value} ›` : f.value}
          </Text>
          {f.editing ? <Text color={ACCENT}>▏</Text> : null}
        </Box>
      ))}
      <Text color="gray">{`   ${"".padEnd(14)}${v.total}`}</Text>
      <Text> </Text>
      {v.listTitle ? <Text color="gray">{v.listTitle}</Text> : null}
      {v.list.map((item, i) => (
        <Text key={i} color={item.selected ? ACCENT : undefined} bold={item.selected} wrap="truncate-end">
          {item.selected ? " ▸ " : "   "}
          {item.text}
        </Text>
      ))}
      {v.error ? (
        <Box marginTop={1}>
          <Text color="red" wrap="wrap">
            {v.error}
          </Text>
        </Box>
      ) : null}
    </Box>
  );
}
