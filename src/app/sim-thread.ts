// The second opinion of `plan` (simulate the closed form's best K step by step) on a second
// thread: the thread starts with the request, before the search, and runs the simulator on a small
// plan of the same model until the search hands it the plans — so that by then V8 has compiled the
// simulator's hot loops, and the K simulations cost what the simulator's bench says (warm) instead
// of several times that in a fresh process (issue 11, start-up). The results are the simulator's
// own (same code, same inputs): where no thread pays (fewer than 4 cores: one-shot.ts) or can be
// started (the sources run uncompiled, as under vitest, or the platform refuses one), the plans
// are simulated here, the same way.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import type { Hardware, ModelSpec, PlanResult, Training } from "../../planner/index.js";
import { type Simulated, simulateTop } from "../../planner/sim/rescore.js";
import { type EarlyThread, workerThreads } from "./sim-early.js";
import { simulationThreadPays } from "./one-shot.js";

/** What the thread is started with (workerData) and asked (a message). */
export interface SimRequest {
  model: ModelSpec;
  hw: Hardware;
  training: Training;
}
export type SimReply = { ok: true; result: Simulated } | { ok: false; message: string };

export interface SimHelper {
  /** Simulate `plans` (best first), keeping their order. */
  simulate(plans: readonly PlanResult[]): Promise<Simulated>;
  /** Let the thread go (nothing to simulate). */
  close(): void;
}

const SCRIPT = fileURLToPath(new URL("./sim-worker.js", import.meta.url));

/** In this thread: the fallback, and what the thread itself runs. */
function local(req: SimRequest): SimHelper {
  return { simulate: async (plans) => simulateTop(req.model, req.hw, req.training, plans), close: () => {} };
}

/** Start the helper thread for this request (or the in-thread fallback). `early`: a thread the
 *  command started from its arguments before loading (sim-early.ts), which read this same request
 *  from them; it is used instead of starting one. */
export function startSimulation(req: SimRequest, early?: EarlyThread | null): SimHelper {
  let worker: Worker;
  if (early?.exited) return local(req);
  if (early) worker = early.worker;
  else {
    // Compiled only: under vitest the sources are .ts and no sim-worker.js sits beside this file;
    // and only where a thread pays (one-shot.ts: not on 2 cores).
    if (!simulationThreadPays() || !import.meta.url.endsWith(".js") || !existsSync(SCRIPT)) return local(req);
    try {
      worker = new (workerThreads().Worker)(SCRIPT, { workerData: req });
    } catch {
      return local(req);
    }
  }
  // Unreferenced: a command that ends without asking (an error, nothing found) does not wait for it.
  worker.unref();
  let failed = false;
  worker.on("error", () => {
    failed = true;
  });
  return {
    simulate(plans) {
      if (failed) return local(req).simulate(plans);
      return new Promise<Simulated>((resolve) => {
        let settled = false;
        const fallBack = () => {
          if (settled) return;
          settled = true;
          void worker.terminate();
          resolve(simulateTop(req.model, req.hw, req.training, plans));
        };
        worker.once("message", (reply: SimReply) => {
          if (settled) return;
          if (!reply.ok) return fallBack();
          settled = true;
          void worker.terminate();
          resolve(reply.result);
        });
        worker.once("error", fallBack);
        worker.once("exit", fallBack); // ended without a reply
        worker.ref(); // awaited now
        worker.postMessage(plans);
      });
    },
    close() {
      void worker.terminate();
    },
  };
}
