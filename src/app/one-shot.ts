// How a one-shot command (`plan`, `export`: read, search, simulate, print, exit in about half a
// second) sets V8 up, and whether its simulation gets a thread of its own (issue 11, start-up).
// Only node built-ins here: this module loads before anything else of the command.
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";

/** TurboFan without inlining. A process that lives half a second spends a good part of it in the
 *  interpreter while the optimising compiler works on the search's and the simulator's hot
 *  functions; without inlining those compilations are smaller and their code arrives sooner
 *  (compiled code then runs slower, which a short process does not repay). Measured on the 2-core machine of this
 *  project (medians of 9 alternating runs, bare `node -e 0` 118 ms): `plan --model gpt3-like`
 *  742 → 634 ms, `--model llama3-70b` 594 → 511 ms, `--model deepseek-v3 --gpus 2048` 1,120 →
 *  968 ms, a 7-count `--sweep-gpus` 1,232 → 1,124 ms. Smaller interrupt budgets, eager feedback
 *  vectors, Maglev, single-threaded GC and other inlining limits gained nothing beside it. The
 *  interactive planner, which runs long enough to repay inlining, keeps V8's defaults. */
export const ONE_SHOT_V8_FLAGS = "--no-turbo-inlining";

export function tuneForOneShot(): void {
  setFlagsFromString(ONE_SHOT_V8_FLAGS);
}

/** Cores below which the simulation runs in the command's own thread. A helper thread pays only
 *  where it does not take the core the search runs on or the one V8 compiles and collects on: on
 *  2 cores it was as fast or 3–8 % slower than simulating in-thread (README "Start-up").
 *  PARAPLAN_SIM_THREAD=1 or 0 forces it either way (the tests run both paths on any machine). */
export const THREAD_MIN_CORES = 4;

export function simulationThreadPays(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): boolean {
  const forced = env.PARAPLAN_SIM_THREAD;
  if (forced === "1") return true;
  if (forced === "0") return false;
  return cores >= THREAD_MIN_CORES;
}
