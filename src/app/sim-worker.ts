// The helper thread of sim-thread.ts: warm the simulator up on a small plan of the request's model
// until the plans arrive, then simulate them and post the result. Warm-up is bounded in count.
import { parentPort, workerData } from "node:worker_threads";
import type { Plan, PlanResult } from "../../planner/index.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { Simulator, simulateSummary } from "../../planner/sim/simulate.js";
import { simulateTop } from "../../planner/sim/rescore.js";
import type { SimReply, SimRequest } from "./sim-thread.js";

/** Warm-up rounds at most (a round is a few milliseconds once compiled). */
const MAX_WARMUP = 400;

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

/** A plan of the request's model shaped like those the search ranks first, so that V8 compiles
 *  the paths they take: tensor parallel with sequence parallel, an interleaved pipeline, data
 *  parallel with ZeRO-1 and 8 micro-batches (32 GPUs). On this 2-core machine, after 300 ms of
 *  warm-up the top 20 of gpt3-like simulated in ~105 ms with this shape, ~175 ms after a 1F1B
 *  warm-up without tp. Models whose heads or layers do not divide so get 2 stages of 1F1B. */
function warmupPlan(req: SimRequest): { plan: Plan; gpus: number; globalBatch: number } {
  const { layers, heads } = req.model;
  if (layers % 8 === 0 && heads % 2 === 0)
    return { plan: { ...ONE_PLAN, tp: 2, sequenceParallel: true, pp: 4, vpp: 2, schedule: "interleaved", dp: 4, zero: 1 }, gpus: 32, globalBatch: 32 };
  const pp = layers % 2 === 0 ? 2 : 1;
  return { plan: { ...ONE_PLAN, pp, dp: 2, zero: 1 }, gpus: 2 * pp, globalBatch: 16 };
}

// (building every graph anew: the warm-up plan's graph replayed would leave buildGraph cold)
const sim = new Simulator(false);
function warm(req: SimRequest, round: number): void {
  if (asked || round >= MAX_WARMUP) return;
  try {
    const { plan, gpus, globalBatch } = warmupPlan(req);
    simulateSummary(req.model, req.hw, { ...req.training, gpus, globalBatch }, plan, {}, sim);
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
