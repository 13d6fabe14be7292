// A simulated step as a timeline: segments per stage and stream, and per stage a breakdown of
// its compute stream's time that sums to the stage's end:
//   forward + backward + recompute   kernels
//   tpComm                           tensor-parallel collectives inside the layers (never hidden)
//   ppComm                           blocking sends, and the transfer time of an input it waited for
//   dpComm                           waits for data-parallel / ZeRO collectives (what overlap missed)
//   bubble                           waits for another stage's compute (the pipeline bubble and,
//                                    with unequal stages, stage imbalance: see SimSummary)
//   optimizer                        the optimizer step
import { criticalMask } from "./critical-path.js";
import type { EngineResult } from "./events.js";
import { type Graph, opName, type SegmentKind, type StreamName } from "./graph.js";

export type { SegmentKind, StreamName } from "./graph.js";

export interface Segment {
  stage: number;
  stream: StreamName;
  kind: SegmentKind | "bubble";
  name: string;
  start: number;
  end: number;
  critical: boolean;
  /** A wait of the compute stream (idle), attributed to what it waited for. */
  wait: boolean;
}

export interface StageTimes {
  forward: number;
  backward: number;
  recompute: number;
  tpComm: number;
  ppComm: number;
  dpComm: number;
  bubble: number;
  optimizer: number;
  end: number;
}

export interface SimSummary {
  /** Simulated step time, seconds. */
  step: number;
  /** The schedule's share of the critical stage's idle time (its waits for other stages): at most
   *  (p−1)/(v·m) of its busy time, what the schedule costs on equal stages (Narayanan et al. 2021
   *  §2.2), seconds. */
  bubble: number;
  /** The rest of that idle time: waiting caused by unequal stage times (a heavy last stage with
   *  the output layer), seconds. */
  imbalance: number;
  /** Communication the critical stage's compute waited on or ran on its critical path
   *  (tp + pp + exposed dp), seconds. */
  exposedComm: number;
}

export interface Timeline {
  step: number;
  pp: number;
  stages: StageTimes[];
  /** The stage whose work ends last (its breakdown sums to the step). */
  criticalStage: number;
  segments: Segment[];
  summary: SimSummary;
  /** Bubble (the schedule's share) of the critical stage over its busy time (compute, recompute
   *  and communication on its compute stream): (p−1)/m or (p−1)/(v·m) on uniform stages, never
   *  more. */
  bubbleFraction: number;
}

const empty = (): StageTimes => ({ forward: 0, backward: 0, recompute: 0, tpComm: 0, ppComm: 0, dpComm: 0, bubble: 0, optimizer: 0, end: 0 });

/** A stage's waits for other stages, split into the schedule's bubble — (p−1)/(v·m) of its busy
 *  time, the whole wait on equal stages (Narayanan et al. 2021 §2.2) — and stage imbalance, the
 *  rest. The executor's measured timeline splits the same way (executor/timeline.ts). */
export function splitIdle(idle: number, busy: number, pp: number, vpp: number, microBatches: number): { bubble: number; imbalance: number } {
  const share = pp > 1 && microBatches > 0 ? (pp - 1) / (vpp * microBatches) : 0;
  const bubble = Math.min(idle, share * busy);
  return { bubble, imbalance: idle - bubble };
}

export function buildTimeline(g: Graph, r: EngineResult, withSegments = true): Timeline {
  const P = g.costs.pp;
  const crit = withSegments ? criticalMask(r) : new Uint8Array(0);
  const stages = Array.from({ length: P }, empty);
  const segments: Segment[] = [];
  const cursor = new Float64Array(P);
  let lastOp = 0;
  for (let i = 0; i < g.ops.length; i++) if (r.end[i]! > r.end[lastOp]!) lastOp = i;
  const add = (seg: Omit<Segment, "critical" | "wait" | "name">, name: () => string, op: number, wait = false) => {
    if (withSegments && seg.end > seg.start) segments.push({ ...seg, name: name(), critical: op >= 0 && crit[op] === 1, wait });
  };

  for (let op = 0; op < g.ops.length; op++) {
    const info = g.ops[op]!;
    const s = info.stage;
    const st = stages[s]!;
    st.end = Math.max(st.end, r.end[op]!);
    if (info.stream !== "compute") {
      add({ stage: s, stream: info.stream, kind: info.stream === "pp comm" ? "ppComm" : "dpComm", start: r.start[op]!, end: r.end[op]! }, () => opName(g, op), op);
      continue;
    }
    // The gap before this compute operation, attributed to what released it.
    const gapStart = cursor[s]!;
    const gapEnd = r.start[op]!;
    if (gapEnd > gapStart) {
      const b = r.binder[op]!;
      const by = b >= 0 ? g.ops[b]! : null;
      let comm = 0;
      let kind: "ppComm" | "dpComm" = "ppComm";
      if (by?.stream === "dp comm") {
        comm = gapEnd - gapStart;
        kind = "dpComm";
      } else if (by?.stream === "pp comm") {
        comm = by.stage === s ? gapEnd - gapStart : Math.max(0, gapEnd - Math.max(gapStart, r.start[b]!));
      }
      const idle = gapEnd - gapStart - comm;
      st[kind] += comm;
      st.bubble += idle;
      // A wait is on the critical path when what it waited for is (the path runs through it).
      add({ stage: s, stream: "compute", kind: "bubble", start: gapStart, end: gapStart + idle }, () => "waiting for another stage", -1, true);
      add({ stage: s, stream: "compute", kind, start: gapStart + idle, end: gapEnd }, () => `waiting for ${b >= 0 ? opName(g, b) : "communication"}`, b, true);
    }
    let t = r.start[op]!;
    for (const [kind, d] of info.parts) {
      st[kind] += d;
      add({ stage: s, stream: kind === "tpComm" ? "tp comm" : "compute", kind, start: t, end: t + d }, () => opName(g, op), op);
      t += d;
    }
    cursor[s] = r.end[op]!;
  }
  // Work after the compute stream ends (ZeRO-1/2 weight gathers without overlap) is exposed dp.
  for (let s = 0; s < P; s++) stages[s]!.dpComm += Math.max(0, stages[s]!.end - cursor[s]!);
  const criticalStage = g.ops[lastOp]!.stage;
  const cs = stages[criticalStage]!;
  const busy = cs.forward + cs.backward + cs.recompute + cs.tpComm + cs.ppComm;
  const { bubble, imbalance } = splitIdle(cs.bubble, busy, P, g.costs.vpp, g.costs.microBatches);
  return {
    step: r.makespan,
    pp: P,
    stages,
    criticalStage,
    segments,
    summary: { step: r.makespan, bubble, imbalance, exposedComm: cs.tpComm + cs.ppComm + cs.dpComm },
    bubbleFraction: busy > 0 ? bubble / busy : 0,
  };
}
