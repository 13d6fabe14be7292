// `paraplan` in a terminal: the interactive planner on the alternate screen (the terminal's
// contents come back on quit).
import { render } from "ink";
import { App } from "./app.js";
import { defaultServices } from "./core/controller.js";
import { executeWithExecutor } from "./core/execute.js";
import { loadSetupOptions } from "./core/setup.js";

const ALT_SCREEN_ON = "\x1b[?1049h\x1b[H";
const ALT_SCREEN_OFF = "\x1b[?1049l";

/** Run the planner until the user quits; resolves to the exit status. */
export async function startInteractive(): Promise<number> {
  const options = loadSetupOptions();
  const services = defaultServices(executeWithExecutor());
  // Leave the alternate screen however the process ends (a signal from outside included).
  const restore = () => process.stdout.write(ALT_SCREEN_OFF);
  process.stdout.write(ALT_SCREEN_ON);
  process.once("exit", restore);
  try {
    // On the alternate screen: a resize starts on a clear screen (the terminal re-wraps what is on it).
    const app = render(<App options={options} services={services} clearOnResize />, { exitOnCtrlC: false });
    await app.waitUntilExit();
  } finally {
    process.off("exit", restore);
    restore();
  }
  return 0;
}
