// One training step as an operation graph: per stage a compute stream running its schedule
// (schedule.ts), a pipeline stream for its sends, a data-parallel stream for its collectives
// (dp.ts adds those), and the optimizer step.
import type { PassCost, SimCosts, Transfer } from "./costs.js";
import { Engine } from "./events.js";
import { linkId } from "./links.js";
import { stageOrder } from "./schedule.js";

export type SegmentKind = "forward" | "backward" | "recompute" | "tpComm" | "ppComm" | "dpComm" | "optimizer";
export type StreamName = "compute" | "tp comm" | "pp comm" | "dp comm";

export interface OpInfo {
  stage: number;
  stream: "compute" | "pp comm" | "dp comm";
  /** What it is ("layer 3", "send activation", "all-gather weights bucket 2"); opName() adds the
   *  pass. Names are built only when a timeline is drawn (the ranking needs none). */
  label: string;
  /** The pass it belongs to (passIndex), or −1. */
  pass: number;
  /** A further number: the layer, the bucket, the peer stage, or the operation served; −1. */
  index: number;
  /** Consecutive parts of a compute operation (a layer's kernels, then its tp collectives). */
  parts: Array<[SegmentKind, number]>;
  /** Where a backward's gradients start being produced, as a fraction of the operation. */
  gradFrom: number;
}

/** A weight-holding operation of one pass, in execution order, with the bytes of its weights. */
export interface ParamOp {
  op: number;
  bytes: number;
}

export interface Graph {
  costs: SimCosts;
  engine: Engine;
  ops: OpInfo[];
  streams: { compute: number[]; pp: number[]; dp: number[] };
  /** Index of a pass in the tables below: ((stage·2 + backward)·v + chunk)·m + mb. */
  passIndex: (stage: number, backward: boolean, chunk: number, mb: number) => number;
  firstOp: Int32Array;
  lastOp: Int32Array;
  paramOps: ParamOp[][];
  /** Each stage's passes in execution order (pass indices). */
  order: number[][];
  optimizerOp: number[];
  /** Operations the optimizer of a stage waits for (its gradient reductions). */
  reductions: number[][];
  /** dp.ts's cache of collective costs by kind and size, and of link pairs by stage. */
  dpMemo: { costs: Map<string, [Transfer, Array<[SegmentKind, number]>]>; links: Map<number, number[]> };
}

function passParts(kind: SegmentKind, p: PassCost): Array<[SegmentKind, number]> {
  const out: Array<[SegmentKind, number]> = [];
  if (p.compute > 0) out.push([kind, p.compute]);
  if (p.tp > 0) out.push(["tpComm", p.tp]);
  return out;
}

export function buildGraph(c: SimCosts): Graph {
  const engine = new Engine();
  const ops: OpInfo[] = [];
  const P = c.pp;
  const V = c.vpp;
  const M = c.microBatches;
  const lastChunk = P * V - 1;
  if (!Number.isInteger(M) || M < 1) throw new Error(`simulate: ${M} micro-batches per step is not a positive integer`);
  // Megatron-LM's interleaved schedule runs micro-batches in groups of p (checkSchedule).
  if (V > 1 && M % P !== 0) throw new Error(`simulate: interleaved schedule needs the ${M} micro-batches divisible by pp ${P}`);
  const streams = { compute: [] as number[], pp: [] as number[], dp: [] as number[] };
  for (let s = 0; s < P; s++) {
    streams.compute.push(engine.addStream(true));
    streams.pp.push(engine.addStream(false));
    streams.dp.push(engine.addStream(false));
  }
  const passIndex = (stage: number, backward: boolean, chunk: number, mb: number) => ((stage * 2 + (backward ? 1 : 0)) * V + chunk) * M + mb;
  const nPasses = P * 2 * V * M;
  const firstOp = new Int32Array(nPasses).fill(-1);
  const lastOp = new Int32Array(nPasses).fill(-1);
  const paramOps: ParamOp[][] = Array.from({ length: nPasses }, () => []);
  const order: number[][] = [];
  const optimizerOp: number[] = [];

  const compute = (s: number, pass: number, label: string, index: number, parts: Array<[SegmentKind, number]>, gradFrom = 0): number => {
    let total = 0;
    for (const [, d] of parts) total += d;
    const id = engine.add({ stream: streams.compute[s]!, pre: total });
    ops.push({ stage: s, stream: "compute", label, pass, index, parts, gradFrom });
    return id;
  };

  // Parts shared by every operation of a kind (a layer's backward re-runs its recompute first).
  const parts = {
    embedF: passParts("forward", c.embedding.forward),
    embedB: passParts("backward", c.embedding.backward),
    layerF: passParts("forward", c.layer.forward),
    layerB: [...passParts("recompute", c.layer.recompute), ...passParts("backward", c.layer.backward)],
    headF: passParts("forward", c.head.forward),
    headB: passParts("backward", c.head.backward),
  };
  const rTime = c.layer.recompute.compute + c.layer.recompute.tp;
  const gradFrom = rTime / (rTime + c.layer.backward.compute + c.layer.backward.tp || 1);

  // Compute streams: every stage's passes in schedule order, each pass layer by layer.
  for (let s = 0; s < P; s++) {
    const stageOrderIdx: number[] = [];
    for (const pass of stageOrder(c.schedule, P, V, M, s)) {
      const g = pass.chunk * P + s;
      const backward = pass.kind === "B";
      const idx = passIndex(s, backward, pass.chunk, pass.mb);
      stageOrderIdx.push(idx);
      const list = paramOps[idx]!;
      const push = (op: number, bytes: number) => {
        list.push({ op, bytes });
        if (firstOp[idx] === -1) firstOp[idx] = op;
        lastOp[idx] = op;
      };
      if (!backward) {
        if (g === 0) push(compute(s, idx, "embedding", -1, parts.embedF), c.embedding.bytes);
        for (let l = 0; l < c.layersPerChunk; l++) push(compute(s, idx, "layer", l, parts.layerF), c.layer.bytes);
        if (g === lastChunk) push(compute(s, idx, "head", -1, parts.headF), c.head.bytes);
      } else {
        if (g === lastChunk) push(compute(s, idx, "head", -1, parts.headB), c.head.bytes);
        for (let l = c.layersPerChunk - 1; l >= 0; l--) push(compute(s, idx, "layer", l, parts.layerB, gradFrom), c.layer.bytes);
        if (g === 0) push(compute(s, idx, "embedding", -1, parts.embedB), c.embedding.bytes);
      }
    }
    order.push(stageOrderIdx);
    optimizerOp.push(compute(s, -1, "optimizer", -1, [["optimizer", c.optimizer[s]!]]));
  }

  // Point-to-point: each chunk's output activation to the next chunk, its input gradient back.
  if (P > 1) {
    const p = c.p2p;
    const sendParts: Array<[SegmentKind, number]> = [["ppComm", p.latency + p.work + p.post]];
    const routes = new Map<number, number[]>();
    const send = (from: number, to: number, after: number, before: number, pass: number, label: string) => {
      let links = routes.get(from * P + to);
      if (!links) routes.set(from * P + to, (links = [linkId(from, p.inter, false), linkId(to, p.inter, true)]));
      const op = engine.add({ stream: streams.pp[from]!, pre: p.latency, work: p.work, links, post: p.post });
      ops.push({ stage: from, stream: "pp comm", label, pass, index: to, parts: sendParts, gradFrom: 0 });
      engine.dep(op, after);
      engine.dep(before, op);
      // A blocking send holds the sender: its next compute operation waits for it.
      if (c.blockingSends) engine.dep(after + 1, op);
    };
    for (let s = 0; s < P; s++)
      for (let ch = 0; ch < V; ch++)
        for (let mb = 0; mb < M; mb++) {
          const g = ch * P + s;
          if (g < lastChunk) {
            const s2 = (s + 1) % P;
            const ch2 = s + 1 === P ? ch + 1 : ch;
            const from = passIndex(s, false, ch, mb);
            send(s, s2, lastOp[from]!, firstOp[passIndex(s2, false, ch2, mb)]!, from, "send activation");
          }
          if (g > 0) {
            const s2 = (s - 1 + P) % P;
            const ch2 = s === 0 ? ch - 1 : ch;
            const from = passIndex(s, true, ch, mb);
            send(s, s2, lastOp[from]!, firstOp[passIndex(s2, true, ch2, mb)]!, from, "send gradient");
          }
        }
  }
  return {
    costs: c,
    engine,
    ops,
    streams,
    passIndex,
    firstOp,
    lastOp,
    paramOps,
    order,
    optimizerOp,
    reductions: Array.from({ length: P }, () => []),
    dpMemo: { costs: new Map(), links: new Map() },
  };
}

/** Human-readable name of an operation: "F3.1 layer 0" (forward of micro-batch 3, chunk 1),
 *  "B3 send gradient → stage 2", "all-gather weights for F0 layer 1". */
export function opName(g: Graph, op: number): string {
  const o = g.ops[op]!;
  const c = g.costs;
  let tag = "";
  if (o.pass >= 0) {
    const mb = o.pass % c.microBatches;
    const chunk = Math.floor(o.pass / c.microBatches) % c.vpp;
    const backward = Math.floor(o.pass / (c.microBatches * c.vpp)) % 2 === 1;
    tag = `${backward ? "B" : "F"}${mb}${c.vpp > 1 ? `.${chunk}` : ""} `;
  }
  if (o.stream === "pp comm") return `${tag}${o.label} → stage ${o.index}`;
  if (o.label.endsWith(" of") || o.label.endsWith(" for")) return `${o.label} ${opName(g, o.index)}`;
  return `${tag}${o.label}${o.index >= 0 ? ` ${o.index}` : ""}`;
}
