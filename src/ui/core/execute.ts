// Execute a plan through the executor's API (executor/prepare.ts, executor/run.ts): the same
// preparation, supervision and summary as `paraplan execute`, reported as callbacks.
// Without GPUs, a plan of a few GPUs runs on as many CPU ranks; a larger one is handed to the
// executor for CUDA devices, and the executor's refusal is what the user sees.
import { parseExecuteArgs } from "../../../executor/args.js";
import { DoesNotFit } from "../../../executor/choose.js";
import { type GpuInfo, detectCudaGpus } from "../../../executor/devices.js";
import type { StepEvent } from "../../../executor/events.js";
import { torchrunArgs, workerEnv } from "../../../executor/launch.js";
import { type Prepared, prepare, writeRunSummary } from "../../../executor/prepare.js";
import { PythonMissing } from "../../../executor/python.js";
import { supervisedRun, writeFailure } from "../../../executor/run.js";
import type { Summary } from "../../../executor/summary.js";
import type { PlanResult } from "../../../planner/index.js";
import { UserError } from "../../errors.js";
import { failureMessage } from "../../format/execute-text.js";
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
  prepared(info: { runDir: string; torch: string | null }): void;
  step(ev: StepEvent): void;
  done(summary: Summary): void;
  /** refused: the executor declined before starting (no devices, no Python, does not fit). */
  failed(message: string, refused: boolean): void;
}

export type ExecutePort = (input: ExecuteInput, cb: RunCallbacks) => { note: string; cancel: Cancel };

export const worldOf = (p: PlanResult) => p.tp * p.pp * p.dp;

export interface DeviceChoice {
  device: "cuda" | "cpu";
  note: string;
}

export function chooseDevice(world: number, gpusFound: number): DeviceChoice {
  if (gpusFound > 0) return { device: "cuda", note: `on ${world} of the ${gpusFound} GPU(s) found here` };
  if (world <= CPU_RANK_LIMIT) return { device: "cpu", note: `no GPU here: on ${world} CPU rank${world > 1 ? "s" : ""} (cpu profile)` };
  return { device: "cuda", note: `no GPU here, and ${world} GPUs is too many for CPU ranks (at most ${CPU_RANK_LIMIT})` };
}

/** The `paraplan execute` flags that run exactly this plan. */
export function executeArgv(s: Session, p: PlanResult, device: "cuda" | "cpu", steps: number): string[] {
  const t = s.request.training;
  const argv = ["--model", s.modelArg, "--device", device, "--gpus", String(worldOf(p)), "--global-batch", String(t.globalBatch), "--seq", String(t.seqLen), "--steps", String(steps)];
  if (device === "cuda") argv.push("--profile", s.profileArg);
  argv.push("--tp", String(p.tp), "--pp", String(p.pp), "--dp", String(p.dp), "--vpp", String(p.vpp), "--zero", String(p.zero));
  argv.push("--micro-batch", String(p.microBatch), "--recompute", p.recompute, "--schedule", p.schedule);
  argv.push(p.sequenceParallel ? "--sequence-parallel" : "--no-sequence-parallel");
  return argv;
}

const refusal = (e: unknown): string | null =>
  e instanceof DoesNotFit || e instanceof UserError || e instanceof PythonMissing ? (e as Error).message : null;

async function runPrepared(p: Prepared, cb: RunCallbacks, onStop: (stop: () => void) => void): Promise<void> {
  const { req, result } = p.chosen;
  const before = new Set(process.listeners("SIGINT"));
  const running = supervisedRun({
    command: p.node.python,
    args: torchrunArgs(p.node),
    env: workerEnv(p.node),
    cwd: process.cwd(),
    runDir: p.runDir,
    reporter: { start: () => {}, step: (ev) => cb.step(ev) },
  });
  // The run stops cleanly on SIGINT: its handler, registered synchronously above, is the stop.
  const handler = process.listeners("SIGINT").find((h) => !before.has(h));
  if (handler) onStop(() => (handler as (s: NodeJS.Signals) => void)("SIGINT"));
  const res = await running;
  if (res.failure || res.measured === null) {
    const failure = res.failure ?? { kind: "no-summary" as const, reason: null };
    writeFailure(p.runDir, failure, res.steps.length, result.memory.total);
    cb.failed(failureMessage(failure, { runDir: p.runDir, steps: res.steps.length, predictedMemory: result.memory.total, capacity: result.memory.capacity, nnodes: p.node.nnodes }), false);
    return;
  }
  const summary = writeRunSummary(p, res.measured, res.steps.length, res.timeline);
  cb.done(summary);
}

export interface ExecuteDeps {
  detect?: () => GpuInfo[];
}

/** The real executor: detect devices, prepare, run under supervision, summarise. */
export function executeWithExecutor(deps: ExecuteDeps = {}): ExecutePort {
  return (input, cb) => {
    const gpus = (deps.detect ?? detectCudaGpus)();
    const choice = chooseDevice(worldOf(input.plan), gpus.length);
    let stop: (() => void) | null = null;
    let cancelled = false;
    const go = async () => {
      let p: Prepared;
      try {
        const args = parseExecuteArgs(executeArgv(input.session, input.plan, choice.device, input.steps));
        p = await prepare(args, { detect: () => gpus });
      } catch (e) {
        const why = refusal(e);
        if (why === null) throw e;
        cb.failed(why, true);
        return;
      }
      if (cancelled) return cb.failed("stopped before the run started", true);
      cb.prepared({ runDir: p.runDir, torch: p.torch });
      await runPrepared(p, cb, (s) => {
        stop = s;
        if (cancelled) s();
      });
    };
    // prepare() checks the interpreter synchronously: start after this frame is drawn.
    setImmediate(() => go().catch((e: unknown) => cb.failed(`internal error: ${(e as Error)?.message ?? String(e)}`, false)));
    return {
      note: choice.note,
      cancel: () => {
        cancelled = true;
        stop?.();
      },
    };
  };
}
