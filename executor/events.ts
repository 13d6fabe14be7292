// The worker's event stream (executor/PROTOCOL.md): lines prefixed `PARAPLAN_EVENT ` carrying one
// JSON object each, rank 0's on stdout, any rank's error and phase on stderr. Everything else is
// log text.

import { type MeasuredTimeline, parseTimeline } from "./timeline.js";

export const EVENT_PREFIX = "PARAPLAN_EVENT ";

export interface StartEvent {
  event: "start";
  world: number;
  mesh: Record<string, number>;
  torch: string;
}

export interface StepEvent {
  event: "step";
  step: number;
  loss: number;
  stepTime: number;
  tokensPerSecond: number;
}

/** Collective counts and bytes by kind (all_reduce, all_gather, reduce_scatter, send, recv, …). */
export type Comms = Record<string, { count: number; bytes: number | null }>;

export interface MeasuredFromWorker {
  stepTime: number;
  tokensPerSecond: number;
  peakMemory: number | null;
  flopsPerStep: number | null;
  loss: number[];
  comms: Comms;
  /** The worker's other figures (step times, peak-memory breakdown and rank, …), as sent. */
  extra?: Record<string, unknown>;
}

const MEASURED_FIELDS = new Set(["stepTime", "tokensPerSecond", "peakMemory", "flopsPerStep", "loss", "comms", "mfu"]);

export interface SummaryEvent {
  event: "summary";
  measured: MeasuredFromWorker;
}

export interface ErrorEvent {
  event: "error";
  rank: number | null;
  kind: "oom" | "peer-lost" | "exception" | string;
  message: string;
}

/** One traced step's timeline, a rank per pipeline stage (executor/timeline.ts). */
export interface TimelineEvent {
  event: "timeline";
  timeline: MeasuredTimeline;
}

/** Where a rank is before its first step (every rank, on stderr): "started" (its process runs),
 *  "joined" (its process group formed), "built" (its model and optimizer are built). */
export const PHASES = ["started", "joined", "built"] as const;
export type Phase = (typeof PHASES)[number];
export interface PhaseEvent {
  event: "phase";
  rank: number;
  phase: Phase;
}

export type WorkerEvent = StartEvent | StepEvent | SummaryEvent | ErrorEvent | TimelineEvent | PhaseEvent;

export type Parsed = { type: "event"; event: WorkerEvent } | { type: "text"; line: string } | { type: "bad"; line: string; why: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const numOrNull = (x: unknown): number | null => (num(x) ? x : null);

function comms(x: unknown): Comms {
  const out: Comms = {};
  if (!isObj(x)) return out;
  for (const [kind, v] of Object.entries(x)) {
    if (isObj(v) && num(v.count)) out[kind] = { count: v.count, bytes: numOrNull(v.bytes) };
  }
  return out;
}

/** Validate one decoded event object; null names what is wrong. */
export function toEvent(o: unknown): WorkerEvent | string {
  if (!isObj(o)) return "not a JSON object";
  switch (o.event) {
    case "start":
      return {
        event: "start",
        world: num(o.world) ? o.world : 0,
        mesh: isObj(o.mesh) ? (Object.fromEntries(Object.entries(o.mesh).filter(([, v]) => num(v))) as Record<string, number>) : {},
        torch: typeof o.torch === "string" ? o.torch : "",
      };
    case "step":
      if (!num(o.step) || !num(o.stepTime)) return "step event without numeric step and stepTime";
      return {
        event: "step",
        step: o.step,
        loss: num(o.loss) ? o.loss : NaN,
        stepTime: o.stepTime,
        tokensPerSecond: num(o.tokensPerSecond) ? o.tokensPerSecond : NaN,
      };
    case "summary": {
      const m = o.measured;
      if (!isObj(m) || !num(m.stepTime)) return "summary event without measured.stepTime";
      return {
        event: "summary",
        measured: {
          stepTime: m.stepTime,
          tokensPerSecond: num(m.tokensPerSecond) ? m.tokensPerSecond : NaN,
          peakMemory: numOrNull(m.peakMemory),
          flopsPerStep: numOrNull(m.flopsPerStep),
          loss: Array.isArray(m.loss) ? m.loss.map((v) => (num(v) ? v : NaN)) : [],
          comms: comms(m.comms),
          extra: Object.fromEntries(Object.entries(m).filter(([k]) => !MEASURED_FIELDS.has(k))),
        },
      };
    }
    case "timeline": {
      const t = parseTimeline(o);
      return typeof t === "string" ? t : { event: "timeline", timeline: t };
    }
    case "error":
      return {
        event: "error",
        rank: num(o.rank) ? o.rank : null,
        kind: typeof o.kind === "string" ? o.kind : "exception",
        message: typeof o.message === "string" ? o.message : JSON.stringify(o.message ?? ""),
      };
    case "phase":
      if (!num(o.rank) || !(PHASES as readonly unknown[]).includes(o.phase)) return `phase event without a rank and one of ${PHASES.join(", ")}`;
      return { event: "phase", rank: o.rank, phase: o.phase as Phase };
    default:
      return `unknown event ${JSON.stringify(o.event)}`;
  }
}

/** Classify one output line. The prefix may follow other text (a torchrun log prefix such as
 *  `[default0]:`), so it is searched for, not only matched at the start. */
export function parseLine(line: string): Parsed {
  const at = line.indexOf(EVENT_PREFIX);
  if (at < 0) return { type: "text", line };
  const body = line.slice(at + EVENT_PREFIX.length).trim();
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch (e) {
    return { type: "bad", line, why: `malformed JSON (${(e as Error).message})` };
  }
  const ev = toEvent(o);
  return typeof ev === "string" ? { type: "bad", line, why: ev } : { type: "event", event: ev };
}

/** Split a byte stream into lines (UTF-8 safe across chunk boundaries); `end()` flushes the rest. */
export class LineSplitter {
  private rest = "";
  private readonly decoder = new TextDecoder("utf-8");
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: Buffer | string): void {
    this.rest += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.rest.indexOf("\n")) >= 0) {
      const line = this.rest.slice(0, nl).replace(/\r$/, "");
      this.rest = this.rest.slice(nl + 1);
      this.onLine(line);
    }
  }
  end(): void {
    this.rest += this.decoder.decode();
    if (this.rest.length > 0) this.onLine(this.rest.replace(/\r$/, ""));
    this.rest = "";
  }
}
