// The simulation thread of `paraplan plan`, started as the command begins — before the command's
// own modules load — so that it loads the planner, reads the request and warms the simulator up on
// the other core while this thread loads, reads and searches (sim-thread.ts takes it over). Only
// node built-ins here: this module loads before anything else of the command (issue 11, start-up).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { Worker } from "node:worker_threads";
import { simulationThreadPays } from "./one-shot.js";

const SCRIPT = fileURLToPath(new URL("./sim-worker.js", import.meta.url));

/** node:worker_threads, loaded only where a thread starts (~4 ms of a start that has none). */
export const workerThreads = () => createRequire(import.meta.url)("node:worker_threads") as typeof import("node:worker_threads");

/** Flags after which `plan` simulates nothing, or runs another path (help, --from, a sweep). */
const NO_SIMULATION = ["--help", "-h", "--from", "--sweep-gpus"];

/** Whether `plan argv` will simulate plans: not turned off (--simulate-top 0) nor another path.
 *  A wrong guess costs only the thread: the command closes one it does not use. */
export function plansToSimulate(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (NO_SIMULATION.some((f) => a === f || a.startsWith(`${f}=`))) return false;
    if ((a === "--simulate-top" && argv[i + 1] === "0") || a === "--simulate-top=0") return false;
  }
  return true;
}

/** A thread started early, and whether it has ended (an error: the plans are simulated here). */
export interface EarlyThread {
  worker: Worker;
  exited: boolean;
}

/** The thread for `plan argv`, reading its request from argv itself (sim-worker.ts); null where
 *  no thread is wanted (too few cores: one-shot.ts) or can start (the sources run uncompiled, as
 *  under vitest: no sim-worker.js beside this file). Unreferenced: it never keeps the process
 *  alive by itself. */
export function startEarlySimulation(argv: readonly string[]): EarlyThread | null {
  if (!plansToSimulate(argv) || !simulationThreadPays() || !import.meta.url.endsWith(".js") || !existsSync(SCRIPT)) return null;
  try {
    const worker = new (workerThreads().Worker)(SCRIPT, { workerData: { argv: [...argv] } });
    const thread = { worker, exited: false };
    worker.unref();
    worker.on("error", () => {}); // sim-thread.ts falls back to this thread
    worker.on("exit", () => {
      thread.exited = true;
    });
    return thread;
  } catch {
    return null;
  }
}
