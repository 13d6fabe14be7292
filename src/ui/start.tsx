// `paraplan` in a terminal: the interactive planner on the alternate screen (the terminal's
// contents come back on quit).
import { render } from "ink";
import { App } from "./app.js";
import { defaultServices } from "./core/controller.js";
import { executeWithExecutor } from "./core/execute.js";
import { type SetupOptions, loadSetupOptions } from "./core/setup.js";
import type { StartState } from "./core/start-preset.js";

const ALT_SCREEN_ON = "\x1b[?1049h\x1b[H";
const ALT_SCREEN_OFF = "\x1b[?1049l";

/** Run the planner until the user quits, from `start` when given (`paraplan ui`'s flags, read
 *  against `options`); resolves to the exit status. */
export async function startInteractive(options: SetupOptions = loadSetupOptions(), start?: StartState): Promise<number> {
  const services = defaultServices(executeWithExecutor());
  // Leave the alternate screen however the process ends (a signal from outside included).
  const restore = () => process.stdout.write(ALT_SCREEN_OFF);
  process.stdout.write(ALT_SCREEN_ON);
  process.once("exit", restore);
  try {
    // On the alternate screen: a resize starts on a clear screen (the terminal re-wraps what is on it).
    const app = render(<App options={options} services={services} start={start} clearOnResize />, { exitOnCtrlC: false });
    await app.waitUntilExit();
  } finally {
    process.off("exit", restore);
    restore();
  }
  return 0;
}
