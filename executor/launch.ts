// The torchrun command line of each node, the worker's environment, and the rendezvous endpoint
// (single node: 127.0.0.1, a busy port replaced by a free one).
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import type { Device } from "./devices.js";

export const DEFAULT_RDZV_PORT = 29500;
export const WORKER_MODULE = "executor.worker";

/** A rendezvous address: `HOST:PORT`. */
export interface Endpoint {
  host: string;
  port: number;
}

export interface NodeLaunch {
  python: string;
  /** The package root: the worker module `executor.worker` is imported from it. */
  root: string;
  specPath: string;
  device: Device;
  nnodes: number;
  nodeRank: number;
  perNode: number;
  endpoint: Endpoint;
  rdzvId: string;
  /** Seconds torchrun waits for every node at the rendezvous (its c10d join_timeout, 600 by
   *  default); undefined: torchrun's. */
  joinTimeout?: number | undefined;
}

/** Arguments after the interpreter: `-m torch.distributed.run …` (torchrun of that python). */
export function torchrunArgs(n: NodeLaunch): string[] {
  return [
    "-m", "torch.distributed.run",
    "--nnodes", String(n.nnodes),
    "--nproc-per-node", String(n.perNode),
    "--node-rank", String(n.nodeRank),
    "--rdzv-backend", "c10d",
    "--rdzv-endpoint", `${n.endpoint.host}:${n.endpoint.port}`,
    "--rdzv-id", n.rdzvId,
    ...(n.joinTimeout !== undefined ? ["--rdzv-conf", `join_timeout=${Math.ceil(n.joinTimeout)}`] : []),
    "--max-restarts", "0",
    "-m", WORKER_MODULE,
    "--spec", n.specPath,
  ];
}

/** Variables the worker needs beyond the caller's environment. */
export function workerEnvVars(n: Pick<NodeLaunch, "root" | "device" | "perNode">, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars: Record<string, string> = {
    PYTHONPATH: base.PYTHONPATH ? `${n.root}:${base.PYTHONPATH}` : n.root,
    PYTHONUNBUFFERED: "1",
  };
  // CPU ranks share the cores: without a limit each rank starts one thread per core.
  if (n.device === "cpu" && !base.OMP_NUM_THREADS)
    vars.OMP_NUM_THREADS = String(Math.max(1, Math.floor(availableParallelism() / n.perNode)));
  return vars;
}

export function workerEnv(n: NodeLaunch, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ...workerEnvVars(n, base) };
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One node's command as a shell line: `VAR=… python -m torch.distributed.run …`. */
export function commandLine(n: NodeLaunch, base: NodeJS.ProcessEnv = process.env): string {
  const vars = Object.entries(workerEnvVars(n, base)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...vars, shellQuote(n.python), ...torchrunArgs(n).map(shellQuote)].join(" ");
}

/** The command of every node, node rank 0 first. */
export function allNodeLines(n: Omit<NodeLaunch, "nodeRank">, base: NodeJS.ProcessEnv = process.env): string[] {
  return Array.from({ length: n.nnodes }, (_, nodeRank) => commandLine({ ...n, nodeRank }, base));
}

/** Can a server listen on host:port right now? */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host: host.replace(/^\[|\]$/g, ""), port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS reports free on host. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Rendezvous {
  endpoint: Endpoint;
  /** The port asked for when it was busy and replaced. */
  replacedPort: number | null;
}

/**
 * Single node: 127.0.0.1 (whatever host was named) on the requested port (default 29500), or a
 * free one when it is busy.
 * Several nodes: the endpoint as given — every node must name the same one.
 */
export async function chooseRendezvous(requested: Endpoint | undefined, nnodes: number): Promise<Rendezvous> {
  if (nnodes > 1) {
    if (!requested) throw new Error("several nodes need an explicit rendezvous endpoint");
    return { endpoint: requested, replacedPort: null };
  }
  const host = "127.0.0.1";
  const port = requested?.port ?? DEFAULT_RDZV_PORT;
  if (await portFree(host, port)) return { endpoint: { host, port }, replacedPort: null };
  return { endpoint: { host, port: await freePort(host) }, replacedPort: port };
}
