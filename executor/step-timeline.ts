// The traced step beside the simulated one: the figures `execute` reports (bubble, exposed
// communication, step) and the Chrome trace file that holds both timelines, measured stages as
// processes "measured stage s", simulated ones as "simulated stage s" (one file, one viewer).
import { type Hardware, type ModelSpec, type Plan, type Training, microBatchesOf } from "../planner/index.js";
import { simulate } from "../planner/sim/simulate.js";
import { type TraceEvent, chromeTrace, timelineEvents } from "./timeline-trace.js";
import { ARTIFACTS } from "./run-dir.js";
import { type MeasuredEvent, type MeasuredTimeline, type StageBreakdown, breakdown } from "./timeline.js";

export const TRACE_FILE = ARTIFACTS.trace;

export interface StepFigures {
  /** Seconds from the step's start to the end of the last stage's optimizer step. */
  step: number;
  /** The schedule's share of the critical stage's waits; `imbalance` the rest (timeline.ts). */
  bubble: number;
  imbalance: number;
  bubbleFraction: number;
  exposedComm: number;
  criticalStage: number;
}

export interface TimelineSummary {
  /** The step that was traced (excluded from the mean step time). */
  tracedStep: number;
  /** The run directory's file holding both timelines (chrome://tracing, Perfetto). */
  trace: string;
  measured: StepFigures | null;
  simulated: StepFigures;
  /** Per measured stage: compute, optimizer, bubble, transfer waits, exposed communication. */
  stages: StageBreakdown[];
  /** Profiler failures of some stages (the other stages are still reported). */
  errors: string[];
  /** Micro-batches per step (global batch / (dp · micro-batch)), for the schedule's bubble
   *  formula beside the figures (planner/cost/pipeline.ts bubbleFormula); absent in older runs. */
  microBatches?: number;
}

/** Simulator-style names: F3 (forward of micro-batch 3), B3.1 (backward, model chunk 1). */
function eventName(e: MeasuredEvent, pp: number, vpp: number): string {
  if (e.stream !== "compute") return e.category.replace(/_/g, "-");
  if (e.category === "optimizer") return "optimizer step";
  const chunk = vpp > 1 && e.vstage !== undefined ? `.${Math.floor(e.vstage / pp)}` : "";
  return `${e.category === "forward" ? "F" : "B"}${e.mb ?? ""}${chunk}`;
}

export function measuredEvents(t: MeasuredTimeline): TraceEvent[] {
  return t.stages.flatMap((s) =>
    s.events.map((e) => ({
      stage: s.stage,
      stream: e.stream,
      name: eventName(e, t.pp, t.vpp),
      start: e.start,
      duration: e.duration,
      category: e.category,
      group: "measured",
      ...(e.mb !== undefined ? { args: { microBatch: e.mb, rank: s.rank } } : { args: { rank: s.rank } }),
    })),
  );
}

export interface StepTimelineInput {
  model: ModelSpec;
  hw: Hardware;
  training: Training;
  plan: Plan;
  measured: MeasuredTimeline;
}

/** The summary's `timeline` and the trace file's JSON. */
export function stepTimeline(i: StepTimelineInput): { summary: TimelineSummary; trace: string } {
  const sim = simulate(i.model, i.hw, i.training, i.plan);
  const b = breakdown(i.measured);
  const simulatedEvents = timelineEvents(sim).map((e) => ({ ...e, group: "simulated" }));
  const trace = chromeTrace([...measuredEvents(i.measured), ...simulatedEvents], "paraplan measured and simulated step");
  return {
    summary: {
      tracedStep: i.measured.step,
      trace: TRACE_FILE,
      measured: b && { step: b.step, bubble: b.bubble, imbalance: b.imbalance, bubbleFraction: b.bubbleFraction, exposedComm: b.exposedComm, criticalStage: b.criticalStage },
      simulated: {
        step: sim.step,
        bubble: sim.summary.bubble,
        imbalance: sim.summary.imbalance,
        bubbleFraction: sim.bubbleFraction,
        exposedComm: sim.summary.exposedComm,
        criticalStage: sim.criticalStage,
      },
      stages: b?.stages ?? [],
      errors: i.measured.stages.flatMap((s) => (s.error ? [`stage ${s.stage}: ${s.error}`] : [])),
      microBatches: microBatchesOf(i.training, i.plan),
    },
    trace: JSON.stringify(trace),
  };
}
