// Shared by the UI tests: real setup options and searches (small ones, to stay fast), key codes,
// waiting for frames, and a fake executor port.
import type { StepEvent } from "../../executor/events.js";
import { type Summary, errors } from "../../executor/summary.js";
import type { PlanResult } from "../../planner/index.js";
import { type Services, defaultServices } from "./core/controller.js";
import type { ExecuteInput, ExecutePort, RunCallbacks } from "./core/execute.js";
import { type SearchProgress, searchAll } from "./core/search-job.js";
import { type Session, type SetupOptions, defaultsFor, loadSetupOptions, sessionFor } from "./core/setup.js";

let cached: SetupOptions | null = null;
/** Every preset and profile, loaded once per test file. */
export function allOptions(): SetupOptions {
  cached ??= loadSetupOptions();
  return cached;
}

/** Options whose only model is `model`, defaulting to `gpus` GPUs and a batch of `batch`. */
export function smallOptions(model = "llama3-8b", gpus = 8, batch = 16): SetupOptions {
  const o = allOptions();
  const m = o.models.find((x) => x.arg === model)!;
  return { models: [{ ...m, gpus, globalBatch: batch }, ...o.models.filter((x) => x.arg === "tiny")], profiles: o.profiles, engines: o.engines };
}

export function sessionOf(model: string, nodes: number, perNode: number, batch?: number, profile = "dgx-h100", engine = "megatron-core"): Session {
  const o = allOptions();
  const m = o.models.find((x) => x.arg === model)!;
  const p = o.profiles.find((x) => x.arg === profile)!;
  const e = o.engines.find((x) => x.arg === engine)!;
  const d = defaultsFor(m, p);
  return sessionFor({ model: m, profile: p, engine: e, nodes, perNode, batch: batch ?? d.batch, seq: d.seq });
}

/** A finished search of a session, as the results screen receives it. */
export function finished(s: Session): SearchProgress {
  return { ...searchAll(s.request), chunksDone: 1, chunksTotal: 1, elapsedMs: 12, done: true };
}

export const KEY = {
  up: "\u001B[A",
  down: "\u001B[B",
  right: "\u001B[C",
  left: "\u001B[D",
  enter: "\r",
  escape: "\u001B",
  tab: "\t",
  backspace: "\u007F",
} as const;

export const tick = (ms = 10) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until `ok` holds (polling), or fail with what was last seen. */
export async function waitFor(ok: () => boolean, what: () => string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting; last frame:\n${what()}`);
    await tick(20);
  }
}

/** Lines wider than `width` or more lines than `height` (empty when the frame fits). */
export function overflow(frame: string, width: number, height: number): string[] {
  const lines = frame.split("\n");
  const wide = lines.filter((l) => [...l].length > width).map((l) => `${[...l].length} cols: ${l}`);
  return lines.length > height ? [...wide, `${lines.length} lines`] : wide;
}

export function step(n: number, loss: number): StepEvent {
  return { event: "step", step: n, loss, stepTime: 0.25, tokensPerSecond: 1024 };
}

export function summaryFor(input: ExecuteInput, steps: number): Summary {
  const p = input.plan;
  const measured = { stepTime: 0.25, tokensPerSecond: 1024, mfu: null, peakMemory: 2 ** 30, flopsPerStep: 3.5e8 };
  const predicted = { stepTime: 0.2, tokensPerSecond: 1280, mfu: 0.19, peakMemory: 2 ** 31, flopsPerStep: 3.5e8 };
  return {
    plan: { tp: p.tp, pp: p.pp, dp: p.dp, cp: 1, ep: 1, etp: 1, vpp: p.vpp, zero: p.zero, microBatch: p.microBatch, recompute: p.recompute, sequenceParallel: p.sequenceParallel, schedule: p.schedule },
    steps,
    measured: { ...measured, loss: [5.5, 5.4] },
    predicted,
    // as execute computes it, (predicted − measured)/measured: step −20 %, tokens/s +25 %, memory +100 %
    error: errors(measured, predicted),
    runDir: "/tmp/runs/fake",
    model: input.session.request.model.name,
    device: "cpu",
    world: 1,
    profile: "cpu",
    collectives: { rows: [], predictedTime: { tp: 0, pp: 0, dp: 0 } },
  };
}

export interface FakeRun {
  port: ExecutePort;
  inputs: ExecuteInput[];
  callbacks: RunCallbacks[];
  cancelled: number;
}

/** An executor port that records its calls; the test drives the callbacks. */
export function fakeExecutor(note = "no GPU here: on 8 CPU ranks (cpu profile)"): FakeRun {
  const run: FakeRun = {
    inputs: [],
    callbacks: [],
    cancelled: 0,
    port: (input, cb) => {
      run.inputs.push(input);
      run.callbacks.push(cb);
      return { note, cancel: () => run.cancelled++ };
    },
  };
  return run;
}

/** The real services with a fake executor and files written into `files` (a path already there
 *  fails with EEXIST, as the real writer does). */
export function testServices(run: FakeRun, files: Map<string, string> = new Map(), cwd = "/tmp/paraplan-ui"): Services {
  const writeFile = (path: string, text: string) => {
    if (files.has(path)) throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), { code: "EEXIST" });
    files.set(path, text);
  };
  const exists = (path: string) => [...files.keys()].some((f) => f === path || f.startsWith(`${path}/`));
  return { ...defaultServices(run.port), cwd: () => cwd, writeFile, exists };
}

export const best = (plans: readonly PlanResult[]) => [...plans].sort((a, b) => b.tokensPerSecond - a.tokensPerSecond)[0]!;
