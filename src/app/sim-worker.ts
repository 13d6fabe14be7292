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

/** Started early from the command's arguments (sim-early.ts): the request read here as the
 *  command reads it (same arguments, same files, same code); else handed over ready. */
async function request(): Promise<SimRequest | null> {
  const data = workerData as SimRequest | { argv: string[] };
  if (!("argv" in data)) return data;
  try {
    const [{ takeRunArgs }, { parsePlanArgs }, { buildRequest }] = await Promise.all([import("../run-args.js"), import("../plan-args.js"), import("../plan-request.js")]);
    const r = buildRequest(parsePlanArgs(takeRunArgs(data.argv).rest));
    return { model: r.model, hw: r.hw, training: r.training };
  } catch {
    return null; // bad input: the command says so; asked, this thread answers that it cannot
  }
}

let req: SimRequest | null = null;
let asked = false;

/** A plan of the request's model with the simulator's common paths (a pipeline, data parallel,
 *  ZeRO-1, several micro-batches): 4 GPUs, 2 stages when the layers split in two. */
function warmupPlan(req: SimRequest): { plan: Plan; gpus: number } {
  const pp = req.model.layers % 2 === 0 ? 2 : 1;
  return { plan: { ...ONE_PLAN, pp, dp: 2, zero: 1 }, gpus: 2 * pp };
}

const sim = new Simulator();
function warm(req: SimRequest, round: number): void {
  if (asked || round >= MAX_WARMUP) return;
  try {
    const { plan, gpus } = warmupPlan(req);
    simulateSummary(req.model, req.hw, { ...req.training, gpus, globalBatch: 16 }, plan, {}, sim);
  } catch {
    return; // a model the small plan does not suit: no warm-up
  }
  setImmediate(() => warm(req, round + 1)); // let the plans' message in between rounds
}

const ready = request().then((r) => {
  req = r;
  if (r) warm(r, 0);
});

parentPort!.once("message", (plans: PlanResult[]) => {
  asked = true;
  void ready.then(() => {
    let reply: SimReply;
    try {
      if (!req) throw new Error("no request");
      reply = { ok: true, result: simulateTop(req.model, req.hw, req.training, plans) };
    } catch (e) {
      reply = { ok: false, message: (e as Error).message };
    }
    parentPort!.postMessage(reply);
  });
});
