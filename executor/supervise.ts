// Process supervision: torchrun runs detached in its own process group; a watchdog kills the
// whole group (SIGTERM, then SIGKILL after a grace period) on the first error event, on a
// non-zero exit, or when paraplan itself is interrupted. torchrun's agent does not stop the
// other node's agent when a rank raises, and ignores SIGTERM while it waits (platform notes),
// so SIGKILL of the group is what guarantees that nothing is left behind.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type ErrorEvent, LineSplitter, type Phase, type WorkerEvent, parseLine } from "./events.js";
import { procPids } from "./proc.js";

export type Stream = "stdout" | "stderr";

export interface SuperviseOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGTERM → SIGKILL delay (ms). */
  graceMs?: number;
  /** How long to wait for the group to disappear after SIGKILL before giving up (ms). */
  reapMs?: number;
  /** How long a rank's "peer-lost" error waits before the group is stopped (ms): the peer's own
   *  error event, or torchrun's report of the rank it saw die (its monitor polls every 0.1 s,
   *  torch.distributed.run --monitor-interval), names the cause; the lost connection does not. */
  peerLostWaitMs?: number;
  /** A run whose ranks stop sending events once stepping has begun (a stuck or stopped rank, a
   *  deadlock, a collective that never completes: gloo waits 30 min, NCCL 10) is stopped after
   *  max(floorMs, factor × the longest wait for a step so far, compile and warm-up included).
   *  Default 300 s and 10×. After the summary, the worker's last event, the ranks have
   *  afterSummaryMs (default AFTER_SUMMARY_MS) to exit. */
  stall?: { floorMs: number; factor: number; afterSummaryMs?: number };
  /** Before the first step (a rank stuck building its model, one that never joins the process
   *  group, nodes that never join the rendezvous): the group is stopped after `deadlineMs`
   *  without a step ("startup-stalled", naming `ranks`, this node's, by their last phase), and
   *  every `noticeMs` until then onWaiting says where they are. */
  startup?: StartupOptions;
  onWaiting?: (w: StartupState) => void;
  onEvent?: (ev: WorkerEvent, stream: Stream) => void;
  onText?: (line: string, stream: Stream) => void;
  onBadEvent?: (line: string, why: string) => void;
}

/** How long the ranks have to exit once the worker has sent its summary: destroying the process
 *  group and leaving take seconds (executor/worker/__main__.py leaves without interpreter teardown). */
export const AFTER_SUMMARY_MS = 60_000;

export type StopReason = "error-event" | "exit-code" | "interrupted" | "spawn-failed" | "stalled" | "startup-stalled" | "write-failed";

export interface StartupOptions {
  deadlineMs: number;
  noticeMs: number;
  /** Ranks on this node. */
  localRanks: number;
  /** Their global ranks where known before the rendezvous (one node: 0…n−1; c10d numbers
   *  several nodes by arrival). */
  ranks?: readonly number[];
}

/** Where this node's ranks are before the first step: each one's last phase (null: none yet). */
export interface StartupState {
  waitedMs: number;
  phases: Record<number, Phase | null>;
  /** This node's ranks not in `phases` (their global rank unknown): none reported. */
  unnamed: number;
  /** Whether rank 0 reported the start: rank 0 built the model and its steps begin; the other
   *  ranks may still be building (their `phases` say). */
  started: boolean;
}

/** What the stall watchdog saw: no event for waitedMs after step lastStep. */
export interface Stall {
  waitedMs: number;
  lastStep: number;
  /** The longest wait for a step before it (ms). */
  longestStepMs: number;
}

export interface Outcome {
  /** torchrun's exit status (null when killed by a signal or never started). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The first error event any rank reported. */
  firstError: ErrorEvent | null;
  /** Why the watchdog stopped the group, or null for a run that ended by itself with status 0. */
  stopped: StopReason | null;
  /** The signal paraplan received, when stop() was called for one. */
  interrupt: NodeJS.Signals | null;
  spawnError: Error | null;
  /** Milliseconds from the stop decision until the process group was gone (null: not stopped). */
  stopMs: number | null;
  /** Set when the stall watchdog stopped the run. */
  stall?: Stall;
  /** Set when no step came before the start-up deadline. */
  startup?: StartupState;
}

/** Signal a whole process group; false when it no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}

/** Is any process of the group still running? Zombies (dead, not yet reaped by whoever adopted
 *  them) do not count: they hold no resources and ignore every signal. Uses /proc where present. */
export function groupAlive(pgid: number): boolean {
  if (!killGroup(pgid, 0)) return false;
  const pids = procPids();
  if (pids === null) return true;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}

/** pid → (ppid, pgrp) of every live process (Linux /proc; empty elsewhere). */
function processTable(): Map<number, { ppid: number; pgrp: number }> {
  const out = new Map<number, { ppid: number; pgrp: number }>();
  const pids = procPids();
  if (pids === null) return out;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") out.set(Number(pid), { ppid: Number(ppid), pgrp: Number(pgrp) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The process groups of `root`'s descendants other than its own: torchrun starts each rank in
 *  a session of its own, which a signal to torchrun's group does not reach. */
export function descendantGroups(root: number): number[] {
  const table = processTable();
  const own = table.get(process.pid)?.pgrp;
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const groups = new Set<number>();
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const pgrp = table.get(pid)?.pgrp;
    if (pgrp !== undefined && pgrp !== root && pgrp !== own) groups.add(pgrp);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...groups];
}

export class Supervisor {
  /** The ranks' own process groups (sessions), seen while torchrun was there to find them by:
   *  a rank that ignores SIGTERM or is stopped outlives its agent and holds the output pipes. */
  private readonly rankGroups = new Set<number>();
  private pgid: number | null = null;
  private firstError: ErrorEvent | null = null;
  private stopped: StopReason | null = null;
  private interrupt: NodeJS.Signals | null = null;
  private stopAt: number | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private stopNow: (() => void) | null = null;
  private peerTimer: NodeJS.Timeout | null = null;
  private readonly graceMs: number;
  private readonly reapMs: number;
  private readonly peerLostWaitMs: number;
  private readonly stallOpts: { floorMs: number; factor: number; afterSummaryMs?: number };
  private stallTimer: NodeJS.Timeout | null = null;
  private stall: Stall | null = null;
  private lastEventAt = Date.now();
  private lastStep = 0;
  private longestStepMs = 0;
  private startedAt = Date.now();
  private readonly phases = new Map<number, Phase>();
  private startSeen = false;
  private startupTimers: NodeJS.Timeout[] = [];
  private startupStall: StartupState | null = null;

  constructor(private readonly opts: SuperviseOptions) {
    this.graceMs = opts.graceMs ?? 3000;
    this.reapMs = opts.reapMs ?? 10_000;
    this.peerLostWaitMs = opts.peerLostWaitMs ?? 3000;
    this.stallOpts = opts.stall ?? { floorMs: 300_000, factor: 10 };
  }

  /** Start the command and resolve once it has exited and its process group is gone. */
  run(): Promise<Outcome> {
    return new Promise((resolvePromise) => {
      const child = spawn(this.opts.command, this.opts.args, {
        cwd: this.opts.cwd,
        env: this.opts.env ?? process.env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let exitCode: number | null = null;
      let signal: NodeJS.Signals | null = null;
      let spawnError: Error | null = null;
      let exited = false;
      let closed = false;
      const done = () => {
        if (!exited || !closed) return;
        this.reap().then(() => {
          if (this.killTimer) clearTimeout(this.killTimer);
          if (this.peerTimer) clearTimeout(this.peerTimer);
          if (this.stallTimer) clearTimeout(this.stallTimer);
          this.clearStartup();
          resolvePromise({
            ...(this.stall ? { stall: this.stall } : {}),
            ...(this.startupStall ? { startup: this.startupStall } : {}),
            exitCode,
            signal,
            firstError: this.firstError,
            stopped: this.stopped,
            interrupt: this.interrupt,
            spawnError,
            stopMs: this.stopAt === null ? null : Date.now() - this.stopAt,
          });
        });
      };
      this.pgid = child.pid ?? null;
      this.lastEventAt = Date.now();
      this.watchStartup();
      this.watchRanks = () => {
        if (this.pgid !== null && !exited) for (const g of descendantGroups(this.pgid)) this.rankGroups.add(g);
      };
      this.stopNow = () => this.kill();
      if (this.stopped) this.kill(); // stop() came before the spawn finished
      for (const stream of ["stdout", "stderr"] as const) {
        const lines = new LineSplitter((line) => this.line(line, stream));
        child[stream].on("data", (chunk: Buffer) => lines.push(chunk));
        child[stream].on("end", () => lines.end());
      }
      child.on("error", (e) => {
        spawnError = e;
        this.stopped ??= "spawn-failed";
        exited = true;
        closed = true;
        done();
      });
      child.on("exit", (code, sig) => {
        exitCode = code;
        signal = sig;
        exited = true;
        if (code !== 0 && !this.stopped) this.stop("exit-code");
        // Whatever torchrun leaves behind in its group or the ranks' (orphaned ranks) goes with it.
        else if (this.pgid !== null && !this.stopped) for (const g of this.groups()) killGroup(g, "SIGKILL");
        done();
      });
      child.on("close", () => {
        closed = true;
        done();
      });
    });
  }

  /** Ask the watchdog to stop everything (idempotent): SIGTERM the group now, SIGKILL later. */
  stop(reason: StopReason, interrupt: NodeJS.Signals | null = null): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.interrupt = interrupt;
    this.stopAt = Date.now();
    this.stopNow?.();
  }

  private watchRanks: () => void = () => {};
  private ranksSeen = false;

  /** torchrun's group and the ranks' groups. */
  private groups(): number[] {
    return this.pgid === null ? [] : [this.pgid, ...this.rankGroups];
  }

  private kill(): void {
    if (this.pgid === null) return;
    this.watchRanks();
    const groups = this.groups();
    // SIGTERM to every group (torchrun forwards it to its ranks too); SIGKILL after the grace
    // period, by a timer: a rank that outlives torchrun keeps the pipes open, so the end of the
    // run (reap) would never come without it.
    if (groups.map((g) => killGroup(g, "SIGTERM")).every((alive) => !alive)) return;
    this.killTimer = setTimeout(() => {
      for (const g of groups) killGroup(g, "SIGKILL");
    }, this.graceMs);
  }

  /** Wait until no process of the groups is left (SIGKILL once the grace period has passed). */
  private async reap(): Promise<void> {
    if (this.pgid === null) return;
    const start = Date.now();
    for (;;) {
      const alive = this.groups().filter(groupAlive);
      if (alive.length === 0) return;
      const waited = Date.now() - start;
      if (this.stopped === null || waited > this.graceMs) for (const g of alive) killGroup(g, "SIGKILL");
      if (waited > this.graceMs + this.reapMs) return; // zombies nobody reaps: give up waiting
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private line(line: string, stream: Stream): void {
    const p = parseLine(line);
    if (p.type === "text") {
      this.opts.onText?.(line, stream);
      return;
    }
    if (p.type === "bad") {
      this.opts.onBadEvent?.(line, p.why);
      return;
    }
    if (p.event.event === "phase") this.phases.set(p.event.rank, p.event.phase);
    if (p.event.event === "start") this.startSeen = true;
    if (p.event.event === "step") this.clearStartup();
    // Every rank has started by the first event past the phases (rank 0 sends it after the
    // process group formed).
    if (!this.ranksSeen && p.event.event !== "phase") {
      this.ranksSeen = true;
      this.watchRanks();
    }
    // The first error stops the group, except a lost peer: that rank is healthy and the cause is
    // elsewhere, so a later error of another kind replaces it and stops at once, and without one
    // the group is stopped after peerLostWaitMs (or ends first, torchrun reporting the dead rank).
    const lost = (e: ErrorEvent | null) => e?.kind === "peer-lost";
    if (p.event.event === "error" && (this.firstError === null || (lost(this.firstError) && !lost(p.event)))) {
      const first = this.firstError === null;
      this.firstError = p.event;
      if (!lost(p.event)) this.stop("error-event");
      else if (first) this.peerTimer = setTimeout(() => this.stop("error-event"), this.peerLostWaitMs);
    }
    this.watchStall(p.event);
    this.opts.onEvent?.(p.event, stream);
  }

  /** This node's ranks by their last phase, now. */
  private startupState(): StartupState {
    const o = this.opts.startup;
    const ranks = [...new Set([...(o?.ranks ?? []), ...this.phases.keys()])];
    const phases = Object.fromEntries(ranks.map((r) => [r, this.phases.get(r) ?? null]));
    return { waitedMs: Date.now() - this.startedAt, phases, unnamed: Math.max(0, (o?.localRanks ?? 0) - ranks.length), started: this.startSeen };
  }

  /** Until the first step: a notice every noticeMs, and the stop at deadlineMs. */
  private watchStartup(): void {
    const o = this.opts.startup;
    this.startedAt = Date.now();
    if (!o) return;
    const notice = setInterval(() => {
      if (!this.stopped) this.opts.onWaiting?.(this.startupState());
    }, o.noticeMs);
    const deadline = setTimeout(() => {
      this.startupStall = this.startupState();
      this.stop("startup-stalled");
    }, o.deadlineMs);
    this.startupTimers = [notice, deadline];
  }

  private clearStartup(): void {
    for (const t of this.startupTimers) clearTimeout(t);
    this.startupTimers = [];
  }

  /** (Re)arm the stall watchdog at each event once the first step has been reported. */
  private watchStall(ev: WorkerEvent): void {
    const now = Date.now();
    if (ev.event === "step") {
      this.longestStepMs = Math.max(this.longestStepMs, now - this.lastEventAt);
      this.lastStep = ev.step;
    }
    this.lastEventAt = now;
    if (this.lastStep === 0 || this.stopped) return;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    // After the summary (the worker's last event) the ranks only tear down: they are given
    // afterSummaryMs to exit, not the floor of a step's wait.
    const waitMs = ev.event === "summary" ? this.stallOpts.afterSummaryMs ?? AFTER_SUMMARY_MS : Math.max(this.stallOpts.floorMs, this.stallOpts.factor * this.longestStepMs);
    this.stallTimer = setTimeout(() => {
      this.stall = { waitedMs: Date.now() - this.lastEventAt, lastStep: this.lastStep, longestStepMs: this.longestStepMs };
      this.stop("stalled");
    }, waitMs);
  }
}
