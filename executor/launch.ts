// The torchrun command line of each node, the worker's environment, and the rendezvous endpoint
// (single node: 127.0.0.1, a busy port replaced by a free one; several nodes: a port on this
// machine held by another program refused).
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import type { Device } from "./devices.js";
import { CannotResolve, PortHeld } from "./errors.js";
import { isThisMachine, portHolder, unresolvable } from "./port-holder.js";

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
  /** Whether the port was seen free, or held by a torch launcher, on this machine before the
   *  launch: false where it could not be told (the endpoint on another machine, or a holder
   *  paraplan cannot see), so a rendezvous that never completes may also be a port held by a
   *  program that is not a torch rendezvous. */
  portChecked: boolean;
}

/** The command line as said in one line: at most 80 characters. */
const short = (s: string) => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
};

/**
 * Single node: 127.0.0.1 (whatever host was named) on the requested port (default 29500), or a
 * free one when it is busy.
 * Several nodes: the endpoint as given — every node must name the same one. Where it names this
 * machine, torchrun here hosts the rendezvous store (port-holder.ts): a port held by a program
 * that is not a torch launcher is refused (PortHeld) rather than waited on until the deadline.
 */
export async function chooseRendezvous(requested: Endpoint | undefined, nnodes: number, o: { checkPort?: boolean } = {}): Promise<Rendezvous> {
  if (nnodes > 1) {
    if (!requested) throw new Error("several nodes need an explicit rendezvous endpoint");
    const here = { endpoint: requested, replacedPort: null };
    // checkPort false: only the commands are printed (--print-launch), to be run later.
    if (o.checkPort === false) return { ...here, portChecked: false };
    // A host that does not exist held every rank at the rendezvous until the start-up deadline
    // (20 min by default), torchrun only logging "Name or service not known".
    if (await unresolvable(requested.host))
      throw new CannotResolve(`--rdzv-endpoint: host "${requested.host}" does not resolve on this node (ENOTFOUND): torchrun would retry it until the start-up deadline; name a host every node resolves, or its address`);
    if (!(await isThisMachine(requested.host))) return { ...here, portChecked: false };
    // The store listens on every address: any listener on the port is in its way.
    if (await portFree("0.0.0.0", requested.port)) return { ...here, portChecked: true };
    const holder = portHolder(requested.port);
    if (holder && !holder.torch)
      throw new PortHeld(
        `port ${requested.port} on ${requested.host} is held by another program (pid ${holder.pid}${holder.command ? `: ${short(holder.command)}` : ""}), not a torch rendezvous; torchrun on this node would host the rendezvous there: stop that program, or name a free port in --rdzv-endpoint on every node`,
      );
    return { ...here, portChecked: holder !== null };
  }
  const host = "127.0.0.1";
  const port = requested?.port ?? DEFAULT_RDZV_PORT;
  if (await portFree(host, port)) return { endpoint: { host, port }, replacedPort: null, portChecked: true };
  return { endpoint: { host, port: await freePort(host) }, replacedPort: port, portChecked: true };
}
