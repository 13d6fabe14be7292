// The helper thread of sim-thread.ts: warm the simulator up on a small plan of the request's model
// until the plans arrive, then simulate them and post the result. Warm-up is bounded in count.
import { parentPort, workerData } from "node:worker_threads";
import type { Plan, PlanResult } from "../../planner/index.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { Simulator, simulateSummary } from "../../planner/sim/simulate.js";
import { simulateTop } from "../../planner/sim/rescore.js";
import type { SimReply, SimRequest } from "./sim-thread.js";

/** Warm-up rounds at most (a round is a few milliseconds once compiled). */
const MAX_WARMUP = 60;

const req = workerData as SimRequest;
let asked = false;

/** A plan of the request's model with the simulator's common paths (a pipeline, data parallel,
 *  ZeRO-1, several micro-batches): 4 GPUs, 2 stages when the layers split in two. */
function warmupPlan(): { plan: Plan; gpus: number } {
  const pp = req.model.layers % 2 === 0 ? 2 : 1;
  return { plan: { ...ONE_PLAN, pp, dp: 2, zero: 1 }, gpus: 2 * pp };
}

const sim = new Simulator();
function warm(round: number): void {
  if (asked || round >= MAX_WARMUP) return;
  try {
    const { plan, gpus } = warmupPlan();
    simulateSummary(req.model, req.hw, { ...req.training, gpus, globalBatch: 16 }, plan, {}, sim);
  } catch {
    return; // a model the small plan does not suit: no warm-up
  }
  setImmediate(() => warm(round + 1)); // let the plans' message in between rounds
}

parentPort!.once("message", (plans: PlanResult[]) => {
  asked = true;
  let reply: SimReply;
  try {
    reply = { ok: true, result: simulateTop(req.model, req.hw, req.training, plans) };
  } catch (e) {
    reply = { ok: false, message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
warm(0);
