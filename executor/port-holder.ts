// Who holds a rendezvous port on this machine. torchrun's c10d rendezvous hosts its TCP store on
// the node whose address the endpoint names (torch/distributed/elastic/rendezvous/
// c10d_rendezvous_backend.py _create_tcp_store: is_host from _matches_machine_hostname, whatever
// the node rank); when the port is taken, it joins whatever listens there as a client. A program
// that is not a torch store then holds every rank at the rendezvous until the start-up deadline,
// which read as "the other nodes never joined". Linux /proc only; elsewhere, or for a socket of
// another user's process, the holder is unknown (null).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { procPids } from "./proc.js";

export interface PortHolder {
  pid: number;
  /** Its command line, arguments joined by spaces. */
  command: string;
  /** A torch launcher (torchrun, python -m torch.distributed.run / .launch): a rendezvous store,
   *  another node's on this machine or an earlier run's. */
  torch: boolean;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Whether `host` is a name that does not exist (the resolver's definite ENOTFOUND, within 2 s):
 *  torchrun does not fail on it but retries it until the rendezvous's join timeout, saying so only
 *  in its log ("Name or service not known"). An address, a name that resolves, a resolver that is
 *  slow or failing for now (EAI_AGAIN) are not. */
export async function unresolvable(host: string): Promise<boolean> {
  const h = host.replace(/^\[|\]$/g, "");
  if (isIP(h) !== 0 || h === "localhost" || h === hostname()) return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000)));
  try {
    return await Promise.race([lookup(h, { all: true }).then(() => false, (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND"), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `host` names this machine (loopback, its hostname, or one of its interfaces'
 *  addresses, after a DNS lookup), as torch's _matches_machine_hostname decides it. */
export async function isThisMachine(host: string): Promise<boolean> {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "localhost" || LOOPBACK.test(h) || h === hostname()) return true;
  const own = new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address)));
  if (own.has(h)) return true;
  // A name that does not resolve within 2 s is not this machine's (one that does not exist is
  // refused before the launch: chooseRendezvous, unresolvable).
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ address: string }[]>((resolve) => (timer = setTimeout(() => resolve([]), 2000)));
  let addrs: { address: string }[];
  try {
    addrs = await Promise.race([lookup(h, { all: true }), late]);
  } catch {
    addrs = [];
  } finally {
    clearTimeout(timer);
  }
  return addrs.some((a) => LOOPBACK.test(a.address) || own.has(a.address));
}

/** A torch launcher's command line (torchrun's agent hosts the c10d store). */
export function isTorchLauncher(argv: readonly string[]): boolean {
  return argv.some((a, i) => /(^|\/)torchrun$/.test(a) || (argv[i - 1] === "-m" && /^torch\.distributed\.(run|launch)$/.test(a)));
}

/** Socket inodes listening on TCP `port` (any address, IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== "0A") continue; // 0A: TCP_LISTEN
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && f[9] && f[9] !== "0") out.add(f[9]);
    }
  }
  return out;
}

/** The process listening on TCP `port` on this machine, or null when none can be seen (none
 *  listens, another user's process, no /proc). */
export function portHolder(port: number): PortHolder | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  const pids = procPids();
  if (pids === null) return null;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m || !inodes.has(m[1]!)) continue;
      let argv: string[] = [];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
      } catch {
        // gone meanwhile: the pid still says who held it
      }
      return { pid: Number(pid), command: argv.join(" "), torch: isTorchLauncher(argv) };
    }
  }
  return null;
}
