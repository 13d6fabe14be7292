// The interactive planner: one store (src/ui/core), a controller for keys and side effects,
// and a screen per step — setup → results → detail / frontier → execute.
import { Box, Text, useApp, useInput, useStdin, useStdout } from "ink";
import { useEffect, useState, useSyncExternalStore } from "react";
import { Controller, type Services } from "./core/controller.js";
import { HINT, toKeyPresses } from "./core/keys.js";
import { createStore, currentPlan, reducer, tablePlans } from "./core/reducer.js";
import { screenTitle } from "./core/chrome.js";
import type { SetupOptions } from "./core/setup.js";
import { type AppState, initialState, screenOf } from "./core/state.js";
import { DetailScreen } from "./detail-screen.js";
import { ExecuteScreen } from "./execute-screen.js";
import { FrontierScreen } from "./frontier-screen.js";
import { HelpOverlay } from "./help-overlay.js";
import { ResultsScreen } from "./results-screen.js";
import { SetupScreen } from "./setup-screen.js";
import { ACCENT } from "./theme.js";

// The terminal's size, following resizes; fixed sizes (tests) override it.
interface Size {
  width: number;
  height: number;
}

/** Wider terminals get at most this many columns (the bars and tables stay readable). */
const MAX_WIDTH = 120;

function measure(cols: number | undefined, rows: number | undefined): Size {
  // One line short of the terminal: a frame as tall as the screen makes ink clear and redraw it.
  return { width: Math.max(60, Math.min(MAX_WIDTH, cols ?? 80)), height: Math.max(20, (rows ?? 24) - 1) };
}

function useTerminalSize(width?: number, height?: number): Size {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => measure(stdout.columns, stdout.rows));
  useEffect(() => {
    const onResize = () => setSize(measure(stdout.columns, stdout.rows));
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return { width: width ?? size.width, height: height ?? size.height };
}

export interface AppProps {
  options: SetupOptions;
  services: Services;
  /** Fixed size (tests); default: the terminal's. */
  width?: number;
  height?: number;
  /** Called on quit (default: unmount the app). */
  onQuit?: () => void;
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
      <DetailScreen plan={plan} previous={state.previous} hw={session.request.hw} training={session.request.training} model={session.request.model} width={width} height={height} />
    );
  if (screen === "frontier" && state.search) return <FrontierScreen plans={state.search.plans} selected={plan} width={width} height={height} />;
  if (screen === "execute" && state.run) return <ExecuteScreen run={state.run} width={width} height={height} />;
  return <SetupScreen setup={state.setup} options={state.options} width={width} height={height} />;
}

export function App({ options, services, width, height, onQuit }: AppProps) {
  const { exit } = useApp();
  const [store] = useState(() => createStore(reducer, initialState(options)));
  const [controller] = useState(() => new Controller(store, services, () => (onQuit ?? exit)()));
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const size = useTerminalSize(width, height);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      for (const k of toKeyPresses(input, key)) controller.key(k);
    },
    { isActive: isRawModeSupported === true },
  );
  useEffect(() => () => controller.dispose(), [controller]);
  const screen = screenOf(state);
  const bodyHeight = size.height - 3;
  return (
    <Box flexDirection="column" width={size.width}>
      <Box justifyContent="space-between" width={size.width}>
        <Text bold color={ACCENT}>
          {screenTitle(state)}
        </Text>
        <Text color="gray">? keys · q quit</Text>
      </Box>
      <Box height={bodyHeight} flexDirection="column">
        <Body state={state} width={size.width} height={bodyHeight} />
      </Box>
      <Text color={state.message?.tone === "error" ? "red" : "green"} wrap="truncate-end">
        {state.message?.text ?? " "}
      </Text>
      <Text color="gray" wrap="truncate-end">
        {HINT[screen]}
      </Text>
    </Box>
  );
}
