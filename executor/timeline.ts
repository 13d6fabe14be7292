// The measured timeline of one step (the worker's `timeline` event, executor/worker/trace.py):
// validation, and the same breakdown the simulator gives a simulated step (planner/sim/timeline.ts)
// — the pipeline bubble and the exposed communication of the stage that ends last. Pure.
//
// Definitions, per stage (its representative rank), times in seconds from the step's start:
//   bubble        waits for another stage's compute: the gap before a forward (backward) up to
//                 the end of the same micro-batch's forward on the previous (backward on the next)
//                 virtual stage — as the simulator attributes a wait to what released it;
//   transfer      the rest of such a gap: the activation or gradient still in flight (pp comm);
//   exposedComm   time in which a collective or a transfer of the stage runs and the stage
//                 neither computes nor sits in the bubble: |(C ∪ T) \ (K ∪ B)|, K the compute
//                 kernels (CUDA, from the profiler) or the compute spans (CPU ranks, where a rank
//                 blocked in a collective inside a span cannot be told from computing: tp
//                 collectives inside a layer count as compute there, a lower bound). This is
//                 Holistic Trace Analysis' "exposed communication" (comm not overlapped by compute),
//                 with the bubble left out.
//   imbalance     of the critical stage's bubble, the part beyond the schedule's (p−1)/(v·m) of
//                 its busy time: waiting caused by unequal stage times (planner/sim/timeline.ts
//                 splitIdle, the simulator's split).
import type { PassSplit } from "../planner/cost/pipeline.js";
import { splitIdle } from "../planner/sim/timeline.js";
import type { Schedule } from "../planner/types.js";
import { type Interval, measure, subtract, union } from "./intervals.js";

export interface MeasuredEvent {
  /** "compute", "tp comm", "pp comm", "dp comm" or "comm". */
  stream: string;
  /** forward, backward (the input gradient alone where a zero-bubble schedule splits it),
   *  weight (its weight gradient), optimizer; or the collective kind (all_reduce, p2p, …). */
  category: string;
  /** Virtual stage (model chunk) and micro-batch of a compute span. */
  vstage?: number;
  mb?: number;
  start: number;
  duration: number;
}

export interface MeasuredStage {
  /** Pipeline rank. */
  stage: number;
  rank: number;
  events: MeasuredEvent[];
  /** Compute kernels' union (CUDA only). */
  busy?: Interval[];
  error?: string;
}

export interface MeasuredTimeline {
  step: number;
  pp: number;
  vpp: number;
  microBatches: number;
  schedule: string;
  stages: MeasuredStage[];
}

export interface StageBreakdown {
  stage: number;
  /** forward + backward spans, and the optimizer span. */
  compute: number;
  optimizer: number;
  bubble: number;
  /** Transfer waits (included in exposedComm). */
  ppComm: number;
  exposedComm: number;
  end: number;
}

export interface StepBreakdown {
  step: number;
  criticalStage: number;
  /** The schedule's share of the critical stage's waits for other stages. */
  bubble: number;
  /** The rest of those waits: stage imbalance. */
  imbalance: number;
  /** bubble / (compute spans + transfer waits) of the critical stage: (p−1)/m on uniform stages. */
  bubbleFraction: number;
  exposedComm: number;
  stages: StageBreakdown[];
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const int = (x: unknown): x is number => num(x) && Number.isInteger(x) && x >= 0;

function event(x: unknown): MeasuredEvent | null {
  if (!isObj(x) || typeof x.stream !== "string" || typeof x.category !== "string" || !num(x.start) || !num(x.duration) || x.duration < 0) return null;
  return {
    stream: x.stream,
    category: x.category,
    ...(int(x.vstage) ? { vstage: x.vstage } : {}),
    ...(int(x.mb) ? { mb: x.mb } : {}),
    start: x.start,
    duration: x.duration,
  };
}

/** The `timeline` event's content, validated; a string says what is wrong. */
export function parseTimeline(o: Record<string, unknown>): MeasuredTimeline | string {
  if (!int(o.step) || !int(o.pp) || o.pp < 1 || !int(o.microBatches) || !Array.isArray(o.stages)) return "timeline event without step, pp, microBatches and stages";
  const stages: MeasuredStage[] = [];
  for (const s of o.stages) {
    if (!isObj(s) || !int(s.stage) || !Array.isArray(s.events)) return "timeline stage without stage and events";
    const events = s.events.map(event);
    if (events.some((e) => e === null)) return `stage ${s.stage}: an event without stream, category, start and duration`;
    const busy = Array.isArray(s.busy) ? s.busy.filter((b): b is Interval => Array.isArray(b) && num(b[0]) && num(b[1])) : undefined;
    stages.push({
      stage: s.stage,
      rank: int(s.rank) ? s.rank : 0,
      events: events as MeasuredEvent[],
      ...(busy ? { busy } : {}),
      ...(typeof s.error === "string" ? { error: s.error } : {}),
    });
  }
  return {
    step: o.step,
    pp: o.pp,
    vpp: int(o.vpp) && o.vpp > 0 ? o.vpp : 1,
    microBatches: o.microBatches,
    schedule: typeof o.schedule === "string" ? o.schedule : "none",
    stages,
  };
}

const key = (category: string, vstage: number, mb: number) => `${category}:${vstage}:${mb}`;

/** Compute spans of the passes: a weight-gradient span (W) waits for nothing on another stage. */
const PASSES = new Set(["forward", "backward", "weight"]);

/** torch.distributed.pipelining class (the worker's `schedule`) → the planner's schedule. */
const TORCH_SCHEDULES: Record<string, Schedule> = {
  Schedule1F1B: "1f1b",
  ScheduleGPipe: "gpipe",
  ScheduleInterleaved1F1B: "interleaved",
  ScheduleInterleavedZeroBubble: "zb1p",
  ScheduleZBVZeroBubble: "zbv",
  ScheduleDualPipeV: "dualpipev",
};

/** Mean forward, input- and weight-gradient span of a stage: the split the zero-bubble bubble
 *  formula weighs (planner/cost/pipeline.ts); a whole backward counts as input gradient. */
function passSplit(s: MeasuredStage): PassSplit {
  const mean = (c: string) => {
    const xs = s.events.filter((e) => e.stream === "compute" && e.category === c);
    return xs.length ? xs.reduce((a, e) => a + e.duration, 0) / xs.length : 0;
  };
  return { forward: mean("forward"), inputGrad: mean("backward"), weightGrad: mean("weight") };
}

/** The span a compute span waited for: the same micro-batch's forward on the previous virtual
 *  stage, or its backward on the next; none for stage 0's forwards and the last stage's
 *  backwards (which follow its own forward). */
function producer(e: MeasuredEvent, virtualStages: number): string | null {
  if (e.vstage === undefined || e.mb === undefined) return null;
  if (e.category === "forward") return e.vstage > 0 ? key("forward", e.vstage - 1, e.mb) : null;
  if (e.category === "backward") return e.vstage < virtualStages - 1 ? key("backward", e.vstage + 1, e.mb) : null;
  return null;
}

function stageBreakdown(s: MeasuredStage, ends: Map<string, number>, virtualStages: number): StageBreakdown {
  const spans = s.events.filter((e) => e.stream === "compute" && PASSES.has(e.category)).sort((a, b) => a.start - b.start);
  const opt = s.events.find((e) => e.stream === "compute" && e.category === "optimizer");
  const bubble: Interval[] = [];
  const transfer: Interval[] = [];
  let cursor = 0;
  for (const e of spans) {
    if (e.start > cursor) {
      const by = producer(e, virtualStages);
      const p = by === null ? undefined : ends.get(by);
      if (p !== undefined) {
        if (p > cursor) bubble.push([cursor, Math.min(e.start, p)]);
        if (e.start > Math.max(cursor, p)) transfer.push([Math.max(cursor, p), e.start]);
      }
    }
    cursor = Math.max(cursor, e.start + e.duration);
  }
  const end = opt ? Math.max(cursor, opt.start + opt.duration) : cursor;
  const spanIntervals: Interval[] = [...spans, ...(opt ? [opt] : [])].map((e) => [e.start, e.start + e.duration]);
  const compute = union(s.busy ?? spanIntervals);
  const comm = union(
    s.events.filter((e) => e.stream !== "compute").map((e): Interval => [Math.max(0, e.start), Math.min(end, e.start + e.duration)]).filter(([a, b]) => b > a),
  );
  const exposed = subtract(union([...comm, ...transfer]), union([...compute, ...bubble]));
  return {
    stage: s.stage,
    compute: spans.reduce((a, e) => a + e.duration, 0),
    optimizer: opt?.duration ?? 0,
    bubble: measure(bubble),
    ppComm: measure(union(transfer)),
    exposedComm: measure(exposed),
    end,
  };
}

/** Per-stage breakdowns and the critical (last-ending) stage's bubble and exposed communication. */
export function breakdown(t: MeasuredTimeline): StepBreakdown | null {
  const stages = t.stages.filter((s) => s.events.some((e) => e.stream === "compute"));
  if (stages.length === 0) return null;
  const ends = new Map<string, number>();
  for (const s of stages)
    for (const e of s.events)
      if (e.stream === "compute" && e.vstage !== undefined && e.mb !== undefined) ends.set(key(e.category, e.vstage, e.mb), e.start + e.duration);
  const rows = stages.map((s) => stageBreakdown(s, ends, t.pp * t.vpp));
  const crit = rows.reduce((a, b) => (b.end > a.end ? b : a));
  const busy = crit.compute + crit.ppComm;
  const critStage = stages.find((s) => s.stage === crit.stage);
  const schedule = TORCH_SCHEDULES[t.schedule];
  const { bubble, imbalance } = splitIdle(crit.bubble, busy, t.pp, t.vpp, t.microBatches, schedule, critStage && passSplit(critStage));
  return {
    step: crit.end,
    criticalStage: crit.stage,
    bubble,
    imbalance,
    bubbleFraction: busy > 0 ? bubble / busy : 0,
    exposedComm: crit.exposedComm,
    stages: rows,
  };
}
