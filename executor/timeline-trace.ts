// Chrome trace event format (the JSON chrome://tracing and Perfetto open): one "X" (complete)
// event per piece of work, pid = pipeline stage, tid = stream. Pure. The writer takes generic
// events: the executor's trace holds measured and simulated stages, `plan --trace-out` simulated ones.
// Format: "Trace Event Format", Google, docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
// (ph "X" with ts and dur in microseconds; ph "M" process_name / thread_name metadata).
import type { Timeline } from "../planner/sim/timeline.js";

export interface TraceEvent {
  stage: number;
  /** "compute", "tp comm", "pp comm", "dp comm", or any other stream name. */
  stream: string;
  name: string;
  /** Seconds from the start of the step. */
  start: number;
  /** Seconds. */
  duration: number;
  /** Category shown by the viewer (forward, backward, …). */
  category?: string;
  args?: Record<string, unknown>;
  /** A set of stages shown together ("measured", "simulated"): its stages become processes
   *  `<group> stage <s>`, pid 1000·(group's order of appearance) + s. */
  group?: string;
}

/** Processes per group in the pid numbering. */
export const GROUP_PIDS = 1000;

export const TRACE_STREAMS = ["compute", "tp comm", "pp comm", "dp comm"] as const;

interface ChromeEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** Chrome trace JSON object for these events ({ traceEvents, displayTimeUnit }). */
export function chromeTrace(events: readonly TraceEvent[], title = "paraplan"): { traceEvents: ChromeEvent[]; displayTimeUnit: "ms"; otherData: Record<string, string> } {
  const streams: string[] = [...TRACE_STREAMS];
  const tid = (stream: string) => {
    let i = streams.indexOf(stream);
    if (i < 0) i = streams.push(stream) - 1;
    return i;
  };
  const groups: string[] = [];
  const pidOf = (e: TraceEvent) => {
    if (e.group === undefined) return e.stage;
    let g = groups.indexOf(e.group);
    if (g < 0) g = groups.push(e.group) - 1;
    return g * GROUP_PIDS + e.stage;
  };
  const out: ChromeEvent[] = [];
  const stages = new Map<number, string>();
  const threads = new Set<string>();
  for (const e of events) {
    const t = tid(e.stream);
    const pid = pidOf(e);
    stages.set(pid, e.group === undefined ? `stage ${e.stage}` : `${e.group} stage ${e.stage}`);
    threads.add(`${pid}:${t}`);
    out.push({
      name: e.name,
      ph: "X",
      pid,
      tid: t,
      ts: e.start * 1e6,
      dur: e.duration * 1e6,
      ...(e.category ? { cat: e.category } : {}),
      ...(e.args ? { args: e.args } : {}),
    });
  }
  const meta: ChromeEvent[] = [];
  for (const [s, name] of [...stages].sort((a, b) => a[0] - b[0])) {
    meta.push({ name: "process_name", ph: "M", pid: s, tid: 0, args: { name } });
    meta.push({ name: "process_sort_index", ph: "M", pid: s, tid: 0, args: { sort_index: s } });
  }
  for (const key of [...threads].sort()) {
    const [pid, t] = key.split(":").map(Number) as [number, number];
    meta.push({ name: "thread_name", ph: "M", pid, tid: t, args: { name: streams[t]! } });
    meta.push({ name: "thread_sort_index", ph: "M", pid, tid: t, args: { sort_index: t } });
  }
  return { traceEvents: [...meta, ...out], displayTimeUnit: "ms", otherData: { source: title } };
}

/** The simulated timeline's work as trace events (idle waits left out: gaps show them). */
export function timelineEvents(tl: Timeline): TraceEvent[] {
  return tl.segments
    .filter((s) => !s.wait)
    .map((s) => ({
      stage: s.stage,
      stream: s.stream,
      name: s.name,
      start: s.start,
      duration: s.end - s.start,
      category: s.kind,
      ...(s.critical ? { args: { critical: true } } : {}),
    }));
}

/** The simulated timeline as Chrome trace JSON text. */
export function timelineTrace(tl: Timeline): string {
  return JSON.stringify(chromeTrace(timelineEvents(tl), "paraplan simulated step"));
}
