// Before the first step: where this node's ranks are (the worker's phase events, executor/
// PROTOCOL.md), as the waiting notices and the start-up failure say it. A run stuck there waited
// on gloo's 30 minutes (NCCL's 10) with nothing printed; a multi-node run waiting for its other
// nodes printed nothing at all.
import type { Phase } from "../../executor/events.js";
import type { StartupState } from "../../executor/supervise.js";
import type { Endpoint } from "../../executor/launch.js";
import { duration } from "./run-text.js";

/** Integers in order, runs of three or more as ranges: "2", "0, 1, 3", "0–7", "3–1999". */
export function spanList(ns: readonly number[]): string {
  const r = [...new Set(ns)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < r.length; ) {
    let j = i;
    while (j + 1 < r.length && r[j + 1] === r[j]! + 1) j++;
    runs.push(j - i >= 2 ? `${r[i]}–${r[j]}` : r.slice(i, j + 1).join(", "));
    i = j + 1;
  }
  return runs.join(", ");
}

/** "rank 2", "ranks 0, 1, 3", "ranks 0–7". */
export function rankList(ranks: readonly number[]): string {
  return `${new Set(ranks).size === 1 ? "rank" : "ranks"} ${spanList(ranks)}`;
}

const WHERE: Record<Phase | "none", string> = {
  none: "never started",
  started: "started but never joined the process group",
  joined: "joined the process group but never finished building the model",
  built: "built the model",
};

type Ranks = { phases: Record<number, Phase | null>; unnamed: number };

/** "rank 2 never started; ranks 0, 1, 3 built the model", the ranks furthest behind first; ranks
 *  whose number is unknown (several nodes, none reported) by their count. */
export function phaseWords(w: Ranks): string {
  const order: (Phase | "none")[] = ["none", "started", "joined", "built"];
  const named = order
    .map((p) => [p, Object.entries(w.phases).filter(([, q]) => (q ?? "none") === p).map(([r]) => Number(r))] as const)
    .filter(([, rs]) => rs.length > 0)
    .map(([p, rs]) => `${rankList(rs)} ${WHERE[p]}`);
  const more = w.unnamed > 0 ? [`${w.unnamed} ${Object.keys(w.phases).length > 0 ? "other " : ""}rank${w.unnamed === 1 ? "" : "s"} of this node ${WHERE.none}`] : [];
  return [...more, ...named].join("; ");
}

const nobody = (w: Ranks) => Object.values(w.phases).every((p) => p === null);
/** Every rank of this node reported "built". Not rank 0's start event: rank 0 sends it once it
 *  has built the model itself, whatever the other ranks' phases (executor/worker/main.py). */
const allBuilt = (w: Ranks) => w.unnamed === 0 && Object.keys(w.phases).length > 0 && Object.values(w.phases).every((p) => p === "built");
/** "every rank" of a run on one node; of several, only this node's ranks are known here. */
const everyRank = (c: StartupContext) => (c.nnodes > 1 ? "every rank of this node" : "every rank");
const host = (e: Endpoint) => `${e.host}:${e.port}`;
const time = (s: number) => (s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : duration(s));

export interface StartupContext {
  nnodes: number;
  endpoint?: Endpoint | undefined;
  /** The start-up deadline, seconds (--startup-timeout). */
  deadline?: number | undefined;
  /** Whether the rendezvous port was seen free, or held by a torch rendezvous, on this machine
   *  before the launch (executor/launch.ts Rendezvous.portChecked). Otherwise (the endpoint on
   *  another machine, a holder that cannot be seen) a rendezvous that never completes may also
   *  be its port held by a program that is not a torch rendezvous: the failure names both. */
  portChecked?: boolean | undefined;
}

/** "; every rank stops at 20.0 min without one (--startup-timeout)" */
const until = (c: StartupContext) => (c.deadline === undefined ? "" : `; every rank stops at ${time(c.deadline)} without one (--startup-timeout)`);

/** Said once, as a multi-node run starts: what this node waits for before anything happens.
 *  (torchrun's rendezvous does not say how many nodes have joined so far.) */
export function rendezvousLine(c: StartupContext & { nodeRank: number; rdzvId: string; endpoint: Endpoint }): string {
  return `node ${c.nodeRank} of ${c.nnodes}: waiting for all ${c.nnodes} nodes to join the rendezvous at ${host(c.endpoint)} (id ${c.rdzvId}); start paraplan execute on each with the same --nnodes, --rdzv-endpoint and --rdzv-id${until(c)}`;
}

/** The notice while the first step is awaited. */
export function waitingLine(w: StartupState, c: StartupContext): string {
  const t = time(w.waitedMs / 1000);
  if (nobody(w) && c.nnodes > 1 && c.endpoint)
    return `waiting ${t} for all ${c.nnodes} nodes to join the rendezvous at ${host(c.endpoint)} (start paraplan execute with this --rdzv-endpoint on each)${until(c)}`;
  if (allBuilt(w)) return `waiting ${t} for the first step: ${everyRank(c)} built the model; the first step runs (compilation and warm-up included)${until(c)}`;
  return `waiting ${t} for the first step: ${nobody(w) ? "no rank has started yet" : phaseWords(w)}${until(c)}`;
}

/** The failure: no step before the deadline. */
export function startupFailure(f: Ranks & { waited: number }, c: StartupContext, kept: string): string {
  const t = time(f.waited);
  const raise = "--startup-timeout to wait longer";
  if (nobody(f) && c.nnodes > 1 && c.endpoint)
    return `no rank of this node started in ${t}: the ${c.nnodes} nodes never all joined the rendezvous at ${host(c.endpoint)}${c.portChecked ? "" : `, or port ${c.endpoint.port} on ${c.endpoint.host} is held by a program that is not a torch rendezvous`}; stopped, ${kept} (log: worker.log)`;
  if (nobody(f)) return `no rank started in ${t}; stopped, ${kept} (log: worker.log)`;
  if (allBuilt(f))
    return `no step after ${t}: ${everyRank(c)} built the model but the first step never ended (a collective that never completes, or a first step slower than that: ${raise}); stopped every rank, ${kept} (log: worker.log)`;
  return `no step after ${t}: ${phaseWords(f)}: a rank is stuck before its first step (${raise} if it is only slow); stopped every rank, ${kept} (log: worker.log)`;
}
