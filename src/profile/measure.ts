// Runs the Python profiler: one process for matmul, memory and attention, then torchrun with one
// rank per GPU (or --ranks CPU ranks over gloo) for the collectives. Both run supervised
// (executor/supervise.ts: own process group, killed on Ctrl-C or failure); their events become
// the measurements.
import { availableParallelism } from "node:os";
import { chooseRendezvous, workerEnvVars } from "../../executor/launch.js";
import { Supervisor } from "../../executor/supervise.js";
import { type Measurements, collect, emptyMeasurements, parseProfileLine } from "./events.js";

export class ProfileFailed extends Error {
  readonly code = "failed";
  constructor(message: string) {
    super(message);
    this.name = "ProfileFailed";
  }
}

export interface MeasureOptions {
  root: string;
  python: string;
  env: NodeJS.ProcessEnv;
  device: "cuda" | "cpu";
  /** Ranks for the collectives: GPUs present, or --ranks on CPU. */
  ranks: number;
  quick: boolean;
  skip: { single?: boolean; collectives?: boolean };
  onProgress?: (phase: string, done: number, total: number, label: string) => void;
  onLog?: (line: string) => void;
}

const pow2 = (from: number, to: number, step: number) => {
  const out: number[] = [];
  for (let e = from; e <= to; e += step) out.push(2 ** e);
  return out;
};

/** Message sizes: 8 KB to 1 GB on GPUs (×4 steps, as nccl-tests' -f 4 would), 8 KB to 32 MB
 *  over gloo on CPU; --quick takes every few. */
export function messageSizes(device: "cuda" | "cpu", quick: boolean): number[] {
  if (device === "cuda") return quick ? [2 ** 13, 2 ** 18, 2 ** 23, 2 ** 28] : [...pow2(13, 29, 2), 2 ** 30];
  return quick ? [2 ** 13, 2 ** 17, 2 ** 21, 2 ** 23] : pow2(13, 25, 2);
}

/** CPU threads of one rank: the cores shared by the ranks, as executor/launch.ts gives the worker. */
export const cpuThreads = (ranks: number) => Math.max(1, Math.floor(availableParallelism() / Math.max(1, ranks)));

async function supervised(o: MeasureOptions, args: string[], env: NodeJS.ProcessEnv, m: Measurements, what: string): Promise<void> {
  const tail: string[] = [];
  let error: string | null = null;
  const sup = new Supervisor({
    command: o.python,
    args,
    env,
    cwd: o.root,
    onText: (line, stream) => {
      const ev = parseProfileLine(line);
      if (ev === null) {
        if (stream === "stderr" && line.trim()) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
        }
        o.onLog?.(line);
        return;
      }
      if (ev.event === "progress")
        o.onProgress?.(String(ev.phase), Number(ev.done), Number(ev.total), String(ev.label ?? ""));
      else if (ev.event === "error") {
        error ??= `${ev.rank !== null && ev.rank !== undefined ? `rank ${ev.rank}: ` : ""}${String(ev.message)}`;
        sup.stop("error-event");
      } else collect(m, ev);
    },
  });
  const stop = () => sup.stop("interrupted", "SIGINT");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let outcome;
  try {
    outcome = await sup.run();
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  if (outcome.stopped === "interrupted") throw new ProfileFailed(`${what} interrupted`);
  if (outcome.spawnError) throw new ProfileFailed(`${what}: cannot start ${o.python} (${outcome.spawnError.message})`);
  if (error || outcome.exitCode !== 0) {
    const last = tail.filter((l) => /Error|error|Exception/.test(l)).pop() ?? tail.pop() ?? `exit status ${outcome.exitCode}`;
    throw new ProfileFailed(`${what} failed: ${error ?? last.trim()}`);
  }
}

export async function measure(o: MeasureOptions): Promise<Measurements> {
  const m = emptyMeasurements();
  const threads = o.device === "cpu" ? cpuThreads(o.ranks) : 0;
  const base = { ...o.env, ...workerEnvVars({ root: o.root, device: o.device, perNode: Math.max(1, o.ranks) }, o.env) };
  if (!o.skip.single) {
    const args = ["-m", "executor.profiler", "single", "--device", o.device];
    if (o.quick) args.push("--quick");
    if (threads) args.push("--threads", String(threads));
    await supervised(o, args, base, m, "the matmul/memory measurement");
  }
  if (!o.skip.collectives && o.ranks >= 2) {
    const rdzv = await chooseRendezvous(undefined, 1);
    const args = [
      "-m", "torch.distributed.run",
      "--nnodes", "1",
      "--nproc-per-node", String(o.ranks),
      "--rdzv-backend", "c10d",
      "--rdzv-endpoint", `${rdzv.endpoint.host}:${rdzv.endpoint.port}`,
      "--rdzv-id", `paraplan-profile-${process.pid}`,
      "--max-restarts", "0",
      "-m", "executor.profiler", "collectives",
      "--device", o.device,
      "--sizes", messageSizes(o.device, o.quick).join(","),
    ];
    if (o.quick) args.push("--quick");
    await supervised(o, args, base, m, "the collectives measurement");
    if (m.collectives.length === 0) throw new ProfileFailed("the collectives measurement reported no result");
  }
  return m;
}
