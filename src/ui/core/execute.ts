// Execute a plan through the application layer (src/app): the same choice for the devices
// present, preparation, supervision and summary as `paraplan execute`, reported as callbacks. The
// plan shown is handed over as it is, with the session's model, hardware and training.
// Without GPUs, a plan of a few GPUs runs on as many CPU ranks; a larger one is handed to the
// executor for CUDA devices, and the executor's refusal is what the user sees.
import { eagerReason } from "../../../executor/compile-mode.js";
import { type GpuInfo, detectCudaGpus } from "../../../executor/devices.js";
import type { StepEvent } from "../../../executor/events.js";
import type { Summary } from "../../../executor/summary.js";
import type { PlanResult } from "../../../planner/index.js";
import { worldOf } from "../../../planner/layout/groups.js";
import type { PresentAdvice } from "../../app/choose.js";
import { type Prepared, prepareShown } from "../../app/prepare.js";
import { type Execution, endOnSignals, startExecution } from "../../app/run.js";
import { exitFor } from "../../errors.js";
import { count, plural } from "../../format/units.js";
import type { Cancel } from "./search-job.js";
import type { Session } from "./setup.js";

/** Plans of at most this many GPUs run on CPU ranks when no GPU is present. */
export const CPU_RANK_LIMIT = 8;
export const RUN_STEPS = 10;

export interface ExecuteInput {
  session: Session;
  plan: PlanResult;
  steps: number;
}

export interface RunCallbacks {
  /** engine: the engine profile the prediction was made with (the worker's: paraplan or
   *  paraplan-compile); eager: why the worker runs this plan eager though the device compiles. */
  prepared(info: { runDir: string; torch: string | null; engine: string; eager: string | null }): void;
  step(ev: StepEvent): void;
  done(summary: Summary): void;
  /** refused: the executor declined before starting (no devices, no Python, does not fit). */
  failed(message: string, refused: boolean): void;
}

export type ExecutePort = (input: ExecuteInput, cb: RunCallbacks) => { note: string; cancel: Cancel };


/** What to do, on these screens, when the GPUs a plan needs are not here (not execute's flags). */
export const UI_ADVICE: PresentAdvice = {
  noGpu: `plans of at most ${CPU_RANK_LIMIT} GPUs run here on CPU ranks: go back (b) to the setup and plan for fewer GPUs`,
  tooFew: (present) => `go back (b) to the setup and plan for ${plural(present, "GPU")} or fewer, or run this plan on its nodes with paraplan execute --nnodes`,
};

export interface DeviceChoice {
  device: "cuda" | "cpu";
  note: string;
}

export function chooseDevice(world: number, gpusFound: number): DeviceChoice {
  // More ranks than GPUs here: a run of several nodes (execute --nnodes on each), which the
  // executor refuses on this node alone; the note says so, not "1024 of the 8 GPUs".
  if (gpusFound > 0 && world > gpusFound) return { device: "cuda", note: `the plan needs ${plural(world, "GPU")}, ${count(gpusFound)} found here: run it on its nodes with paraplan execute --nnodes` };
  if (gpusFound > 0) return { device: "cuda", note: `on ${world} of the ${plural(gpusFound, "GPU")} found here` };
  if (world <= CPU_RANK_LIMIT) return { device: "cpu", note: `no GPU here: on ${world} CPU rank${world > 1 ? "s" : ""} (cpu profile)` };
  return { device: "cuda", note: `no GPU here, and ${world} GPUs is too many for CPU ranks (at most ${CPU_RANK_LIMIT})` };
}

export interface ExecuteDeps {
  detect?: () => GpuInfo[];
}

/** The real executor: detect devices, prepare, run under supervision, summarise. */
export function executeWithExecutor(deps: ExecuteDeps = {}): ExecutePort {
  return (input, cb) => {
    const gpus = (deps.detect ?? detectCudaGpus)();
    // Every rank the plan starts, tp·cp·dp·pp (planner/layout/groups.ts), as src/app/prepare.ts does.
    const choice = chooseDevice(worldOf(input.plan), gpus.length);
    let execution: Execution | null = null;
    let cancelled = false;
    const go = async () => {
      let p: Prepared;
      try {
        p = await prepareShown({ request: input.session.request, plan: input.plan, device: choice.device, steps: input.steps, advice: UI_ADVICE }, gpus);
      } catch (e) {
        const refusal = exitFor(e);
        if (refusal === null) throw e;
        cb.failed(refusal.message, true);
        return;
      }
      if (cancelled) return cb.failed("stopped before the run started", true);
      const { req, result } = p.chosen;
      const eager = p.spec.execution.compile ? eagerReason(result, req.model) : null;
      cb.prepared({ runDir: p.runDir, torch: p.torch, engine: req.training.engine.name, eager });
      execution = startExecution(p, { start: () => {}, step: (ev) => cb.step(ev) });
      // The stop key calls stop; a signal from outside stops the run as in `paraplan execute`.
      const end = await endOnSignals(execution);
      if (end.kind === "done") cb.done(end.summary);
      else cb.failed(end.kind === "failed" ? end.known.message : end.message, false);
    };
    // The interpreter check is synchronous: start after this frame is drawn.
    setImmediate(() => go().catch((e: unknown) => cb.failed(`internal error: ${(e as Error)?.message ?? String(e)}`, false)));
    return {
      note: choice.note,
      cancel: () => {
        cancelled = true;
        execution?.stop("SIGINT");
      },
    };
  };
}
