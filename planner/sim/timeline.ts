// A simulated step as a timeline: segments per stage and stream, and per stage a breakdown of
// its compute stream's time that sums to the stage's end:
//   forward + backward + recompute   kernels
//   tpComm                           tensor-parallel collectives inside the layers (never hidden)
//   epComm                           expert-parallel all-to-alls inside the MoE layers (their exposed
//                                    part where the engine overlaps them: cost/dispatch.ts)
//   cpComm                           context-parallel K/V exchange inside the layers (the ring's
//                                    sends beyond the attention they overlap; cost/context.ts)
//   ppComm                           blocking sends, and the transfer time of an input it waited for
//   dpComm                           waits for data-parallel / ZeRO collectives (what overlap missed)
//                                    and the slowdown of compute beside them ("dp slowdown")
//   bubble                           waits for another stage's compute (the pipeline bubble and,
//                                    with unequal stages, stage imbalance: see SimSummary)
//   optimizer                        the optimizer step
import { bubbleFraction, type PassSplit } from "../cost/pipeline.js";
import type { Schedule } from "../types.js";
import { criticalMask } from "./critical-path.js";
import type { EngineResult } from "./events.js";
import { type Graph, hasDataParallel, infoOf, type SegmentKind, type StreamName } from "./graph.js";
import { BACKWARD, BUBBLE, column, CP, DP, dpOverlap, END, EP, FORWARD, N, OPTIMIZER, PP, RECOMPUTE, sumSummary, TP } from "./stage-sums.js";

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
  epComm: number;
  cpComm: number;
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
   *  (tp + ep + cp + pp + exposed dp), seconds. */
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

/** A stage's waits for other stages, split into the schedule's bubble — (p−1)/(v·m) of its busy
 *  time, the whole wait on equal stages (Narayanan et al. 2021 §2.2) — and stage imbalance, the
 *  rest. The executor's measured timeline splits the same way (executor/timeline.ts). */
export function splitIdle(
  idle: number,
  busy: number,
  pp: number,
  vpp: number,
  microBatches: number,
  schedule?: Schedule,
  split?: PassSplit,
): { bubble: number; imbalance: number } {
  // The schedule's own bubble (cost/pipeline.ts); without a schedule, 1F1B or interleaved by vpp.
  const share = pp > 1 && microBatches > 0 ? bubbleFraction(schedule ?? (vpp > 1 ? "interleaved" : "1f1b"), pp, vpp, microBatches, split) : 0;
  const bubble = Math.min(idle, share * busy);
  return { bubble, imbalance: idle - bubble };
}

function stageTimes(t: Float64Array, s: number): StageTimes {
  const o = s * N;
  return {
    forward: t[o + FORWARD]!,
    backward: t[o + BACKWARD]!,
    recompute: t[o + RECOMPUTE]!,
    tpComm: t[o + TP]!,
    epComm: t[o + EP]!,
    cpComm: t[o + CP]!,
    ppComm: t[o + PP]!,
    dpComm: t[o + DP]!,
    bubble: t[o + BUBBLE]!,
    optimizer: t[o + OPTIMIZER]!,
    end: t[o + END]!,
  };
}

/** The timeline of a run of graph `g`. Without segments (ranking: only the summary is read) it
 *  builds no segment, name or critical path: the same per-stage sums, nothing else. */
export function buildTimeline(g: Graph, r: EngineResult, withSegments = true): Timeline {
  const P = g.costs.pp;
  const times = new Float64Array(P * N);
  const cursor = new Float64Array(P);
  const listing = withSegments ? { list: [] as Segment[], ops: [] as number[] } : null;
  const slowdown = g.costs.dpSlowdown > 0 && hasDataParallel(g.costs);
  let overlap: Float64Array | null = null;
  let lastOp = 0;
  if (listing) {
    const n = g.engine.opCount;
    const { end } = r;
    for (let i = 0; i < n; i++) if (end[i]! > end[lastOp]!) lastOp = i;
    sumStages(g, r, times, cursor, listing);
    if (slowdown) overlap = dpOverlap(g, r, P);
  } else {
    // The ranking's summary: the same sums and overlap in one pass (stage-sums.ts).
    overlap = slowdown ? new Float64Array(P) : null;
    lastOp = sumSummary(g, r, times, cursor, overlap);
  }
  // Where each stage's compute stream ends, before the data-parallel slowdown below.
  const computeEnd = new Float64Array(P);
  for (let s = 0; s < P; s++) computeEnd[s] = times[s * N + END]!;
  // Work after the compute stream ends (ZeRO-1/2 weight gathers without overlap) is exposed dp.
  for (let s = 0; s < P; s++) times[s * N + DP] = times[s * N + DP]! + Math.max(0, times[s * N + END]! - cursor[s]!);
  // Compute beside its stage's data-parallel collectives runs slower (cost/overlap.ts): each
  // stage ends later by the slowdown of the compute its collectives overlapped, counted as dp
  // communication, as the closed form charges it (cost/time.ts overlapCost). First order: what
  // the later end would delay further is not played out; the timeline shows it as one segment
  // at the end of the stage's compute stream ("dp slowdown"), so that segments, trace and chart
  // end where the breakdown does.
  let makespan = r.makespan;
  if (overlap !== null) {
    for (let s = 0; s < P; s++) {
      const extra = g.costs.dpSlowdown * overlap[s]!;
      times[s * N + DP] = times[s * N + DP]! + extra;
      times[s * N + END] = times[s * N + END]! + extra;
      makespan = Math.max(makespan, times[s * N + END]!);
    }
  }
  // The critical stage is the one whose work ends last, slowdown included (its end is the step,
  // its breakdown sums to it). Ties keep the stage of the engine's last operation.
  let criticalStage = g.infos[g.opInfo[lastOp]!]!.stage;
  for (let s = 0; s < P; s++) if (times[s * N + END]! > times[criticalStage * N + END]!) criticalStage = s;
  const segments = listing ? finishSegments(g, r, listing, cursor, computeEnd, times, criticalStage, lastOp) : [];
  const stages = Array.from({ length: P }, (_, s) => stageTimes(times, s));
  const cs = stages[criticalStage]!;
  const busy = cs.forward + cs.backward + cs.recompute + cs.tpComm + cs.epComm + cs.cpComm + cs.ppComm;
  const c = g.costs;
  const split = { forward: c.layer.forward.compute, inputGrad: c.layer.backward.compute - c.layer.weightGrad.compute + c.layer.recompute.compute, weightGrad: c.layer.weightGrad.compute };
  const { bubble, imbalance } = splitIdle(cs.bubble, busy, P, c.vpp, c.microBatches, c.schedule, split);
  return {
    step: makespan,
    pp: P,
    stages,
    criticalStage,
    segments,
    summary: { step: makespan, bubble, imbalance, exposedComm: cs.tpComm + cs.epComm + cs.cpComm + cs.ppComm + cs.dpComm },
    bubbleFraction: busy > 0 ? bubble / busy : 0,
  };
}

/** The segments' critical flags, from the critical path ending at the critical stage's last
 *  operation (the engine's last operation when that is on the critical stage), and each stage's
 *  tail on its compute stream: the wait for collectives after its compute (exposed dp) and the
 *  data-parallel slowdown, so that the compute stream's segments end at the stage's end. */
function finishSegments(
  g: Graph,
  r: EngineResult,
  listing: { list: Segment[]; ops: number[] },
  cursor: Float64Array,
  computeEnd: Float64Array,
  times: Float64Array,
  criticalStage: number,
  lastOp: number,
): Segment[] {
  const P = g.costs.pp;
  const { end } = r;
  const { infos, opInfo } = g;
  // Each stage's operation ending last (the first of the highest end).
  const lastOf = new Int32Array(P).fill(-1);
  for (let op = 0; op < end.length; op++) {
    const s = infos[opInfo[op]!]!.stage;
    if (lastOf[s]! < 0 || end[op]! > end[lastOf[s]!]!) lastOf[s] = op;
  }
  const from = infos[opInfo[lastOp]!]!.stage === criticalStage ? lastOp : lastOf[criticalStage]!;
  const crit = criticalMask(r, from);
  const { list, ops } = listing;
  for (let i = 0; i < list.length; i++) list[i]!.critical = ops[i]! >= 0 && crit[ops[i]!] === 1;
  for (let s = 0; s < P; s++) {
    const last = lastOf[s]!;
    if (computeEnd[s]! > cursor[s]!)
      list.push({ stage: s, stream: "compute", kind: "dpComm", start: cursor[s]!, end: computeEnd[s]!, name: `waiting for ${last >= 0 ? opName(g, last) : "communication"}`, critical: last >= 0 && crit[last] === 1, wait: true });
    const stageEnd = times[s * N + END]!;
    if (stageEnd > computeEnd[s]!)
      list.push({ stage: s, stream: "compute", kind: "dpComm", start: computeEnd[s]!, end: stageEnd, name: "dp slowdown (compute beside data-parallel collectives)", critical: s === criticalStage, wait: false });
  }
  return list;
}

/** Sum each stage's times into `times` (rows of N), each stage's compute-stream end into
 *  `cursor`, and, given `segments`, list the segments. The loop over every operation has a
 *  function of its own with nothing after it: compiled in the middle of its first run, it has
 *  run no code that would follow it (code after the loop made the compiled loop fall back to the
 *  interpreter at every step simulated). */
function sumStages(g: Graph, r: EngineResult, times: Float64Array, cursor: Float64Array, segments: { list: Segment[]; ops: number[] } | null): void {
  const n = g.engine.opCount;
  const { infos, opInfo } = g;
  const { start, end, binder } = r;
  const add = (stage: number, stream: StreamName, kind: Segment["kind"], from: number, to: number, name: () => string, op: number, wait: boolean) => {
    if (to > from) {
      // critical: set by finishSegments, from the operation recorded beside the segment
      segments!.list.push({ stage, stream, kind, start: from, end: to, name: name(), critical: false, wait });
      segments!.ops.push(op);
    }
  };
  const listing = segments !== null;

  for (let op = 0; op < n; op++) {
    const info = infos[opInfo[op]!]!;
    const s = info.stage;
    const row = s * N;
    times[row + END] = Math.max(times[row + END]!, end[op]!);
    if (info.stream !== "compute") {
      if (listing) add(s, info.stream, info.stream === "pp comm" ? "ppComm" : "dpComm", start[op]!, end[op]!, () => opName(g, op), op, false);
      continue;
    }
    // The gap before this compute operation, attributed to what released it.
    const gapStart = cursor[s]!;
    const gapEnd = start[op]!;
    if (gapEnd > gapStart) {
      const b = binder[op]!;
      const by = b >= 0 ? infos[opInfo[b]!]! : null;
      let comm = 0;
      let kind: "ppComm" | "dpComm" = "ppComm";
      if (by?.stream === "dp comm") {
        comm = gapEnd - gapStart;
        kind = "dpComm";
      } else if (by?.stream === "pp comm") {
        comm = by.stage === s ? gapEnd - gapStart : Math.max(0, gapEnd - Math.max(gapStart, start[b]!));
      }
      const idle = gapEnd - gapStart - comm;
      const c = row + (kind === "dpComm" ? DP : PP);
      times[c] = times[c]! + comm;
      times[row + BUBBLE] = times[row + BUBBLE]! + idle;
      if (listing) {
        // A wait is on the critical path when what it waited for is (the path runs through it).
        add(s, "compute", "bubble", gapStart, gapStart + idle, () => "waiting for another stage", -1, true);
        add(s, "compute", kind, gapStart + idle, gapEnd, () => `waiting for ${b >= 0 ? opName(g, b) : "communication"}`, b, true);
      }
    }
    let t = start[op]!;
    const parts = info.parts;
    for (let k = 0; k < parts.length; k++) {
      const kind = parts[k]![0];
      const d = parts[k]![1];
      const c = row + column(kind);
      times[c] = times[c]! + d;
      if (listing) add(s, kind === "tpComm" || kind === "epComm" || kind === "cpComm" ? "tp comm" : "compute", kind, t, t + d, () => opName(g, op), op, false);
      t += d;
    }
    cursor[s] = end[op]!;
  }
}

/** Human-readable name of an operation: "F3.1 layer 0" (forward of micro-batch 3, chunk 1),
 *  "B3 send gradient → stage 2", "all-gather weights for F0 layer 1". */
function opName(g: Graph, op: number): string {
  const o = infoOf(g, op);
  const c = g.costs;
  const pass = g.opPass[op]!;
  const index = g.opIndex[op]!;
  let tag = "";
  if (pass >= 0) {
    const mb = pass % c.microBatches;
    const chunk = Math.floor(pass / c.microBatches) % c.vpp;
    const kind = Math.floor(pass / (c.microBatches * c.vpp)) % 3;
    tag = `${"FBW"[kind]}${mb}${c.vpp > 1 ? `.${chunk}` : ""} `;
  }
  if (o.stream === "pp comm") return `${tag}${o.label} → stage ${index}`;
  if (o.label.endsWith(" of") || o.label.endsWith(" for")) return `${o.label} ${opName(g, index)}`;
  return `${tag}${o.label}${index >= 0 ? ` ${index}` : ""}`;
}
