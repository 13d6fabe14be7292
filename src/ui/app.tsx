// The interactive planner: one store (src/ui/core), a controller for keys and side effects,
// and a screen per step — setup → results → detail / frontier → execute.
import { Box, Text, useApp, useInput, useStdin, useStdout } from "ink";
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import { Controller, type Services } from "./core/controller.js";
import { hintFor, toKeyPresses } from "./core/keys.js";
import { createStore, currentPlan, reducer, tablePlans } from "./core/reducer.js";
import { titleRow } from "./core/chrome.js";
import { footerMessage } from "./core/run-settings.js";
import { type Terminal, frameLayout, terminalOf } from "./core/frame.js";
import type { SetupOptions } from "./core/setup.js";
import type { StartState } from "./core/start-preset.js";
import { type AppState, initialState, screenOf } from "./core/state.js";
import { DetailScreen } from "./detail-screen.js";
import { ExecuteScreen } from "./execute-screen.js";
import { FrontierScreen } from "./frontier-screen.js";
import { HelpOverlay } from "./help-overlay.js";
import { ResultsScreen } from "./results-screen.js";
import { SetupScreen } from "./setup-screen.js";
import { ACCENT } from "./theme.js";

/** Clear the screen, cursor home. */
const CLEAR = "\x1b[2J\x1b[H";

/**
 * The terminal's size, following resizes; fixed sizes (tests) override it. The listener goes
 * before ink's own, so that the frame is laid out for the new size (a sync update) before ink
 * draws it again: the old frame, wider than a narrowed terminal, would wrap into more lines than
 * ink erases. `clear`: start the new size on a clear screen (the terminal re-wraps what is on it).
 */
function useTerminal(width: number | undefined, height: number | undefined, clear: boolean): Terminal {
  const { stdout } = useStdout();
  const subscribe = useCallback(
    (changed: () => void) => {
      const onResize = () => {
        if (clear) stdout.write(CLEAR);
        changed();
      };
      stdout.prependListener("resize", onResize);
      return () => {
        stdout.off("resize", onResize);
      };
    },
    [stdout, clear],
  );
  // Renders again when the size changes (the snapshot), reading it from stdout.
  useSyncExternalStore(subscribe, () => `${stdout.columns}×${stdout.rows}`);
  return terminalOf(stdout.columns, stdout.rows, width, height);
}

export interface AppProps {
  options: SetupOptions;
  services: Services;
  /** The setup and whole run to start from (`paraplan ui`'s flags); default: the setup's defaults. */
  start?: StartState;
  /** Fixed size of the frame (tests), the terminal one row taller; default: the terminal's. */
  width?: number;
  height?: number;
  /** Called on quit (default: unmount the app). */
  onQuit?: () => void;
  /** Clear the screen on a resize (the alternate screen of `paraplan`; default: no). */
  clearOnResize?: boolean;
}

function Body({ state, width, height }: { state: AppState; width: number; height: number }) {
  const screen = screenOf(state);
  if (state.help) return <HelpOverlay screen={screen} rejected={state.search?.rejected} width={width} height={height} />;
  const plan = currentPlan(state);
  const session = state.session;
  if (screen === "results" && session && state.search)
    return (
      <ResultsScreen session={session} search={state.search} plans={tablePlans(state)} sort={state.sort} filters={state.filters} cursor={state.cursor} width={width} height={height} />
    );
  if (screen === "detail" && session && plan)
    return (
      <DetailScreen plan={plan} previous={state.previous} hw={session.request.hw} training={session.request.training} model={session.request.model} run={state.runChoice} width={width} height={height} />
    );
  if (screen === "frontier" && state.search) return <FrontierScreen plans={state.search.plans} selected={plan} width={width} height={height} />;
  if (screen === "execute" && state.run) return <ExecuteScreen run={state.run} width={width} height={height} />;
  return <SetupScreen setup={state.setup} options={state.options} width={width} height={height} />;
}

export function App({ options, services, start, width, height, onQuit, clearOnResize = false }: AppProps) {
  const { exit } = useApp();
  const [store] = useState(() => createStore(reducer, initialState(options, start)));
  const [controller] = useState(() => new Controller(store, services, () => (onQuit ?? exit)()));
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const terminal = useTerminal(width, height, clearOnResize);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      for (const k of toKeyPresses(input, key)) controller.key(k);
    },
    { isActive: isRawModeSupported === true },
  );
  useEffect(() => () => controller.dispose(), [controller]);
  const message = footerMessage(state.entry, state.message);
  const layout = frameLayout(terminal, message?.text ?? null);
  const title = titleRow(state, layout.kind === "frame" ? layout.width : terminal.cols);
  if (layout.kind === "too-small")
    return (
      <Box flexDirection="column" overflow="hidden">
        {layout.lines.map((l, i) => (
          <Text key={i} color="yellow">
            {l}
          </Text>
        ))}
      </Box>
    );
  // Clipped to the terminal: drawn at a resize before this component has the new size, the old
  // frame must not be wider than the terminal (its lines would wrap into more than ink erases).
  return (
    <Box flexDirection="column" overflow="hidden">
      <Box flexDirection="column" width={layout.width}>
        <Box justifyContent="space-between" width={layout.width} flexShrink={0}>
          <Text bold color={ACCENT} wrap="truncate-end">
            {title.left}
          </Text>
          <Text color="gray">{title.right}</Text>
        </Box>
        <Box height={layout.body} flexDirection="column" overflow="hidden">
          <Body state={state} width={layout.width} height={layout.body} />
        </Box>
        {layout.message.map((l, i) => (
          <Text key={i} color={message?.tone === "error" ? "red" : "green"} wrap="truncate-end">
            {l}
          </Text>
        ))}
        <Text color="gray" wrap="truncate-end">
          {hintFor(state)}
        </Text>
      </Box>
    </Box>
  );
}
