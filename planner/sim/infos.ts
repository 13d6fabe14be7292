// The kinds of operation of a graph (OpInfo: what the timeline reads) and their durations, each
// made from a recipe against the graph's costs. buildGraph and dp.ts register a kind as they add
// its first operation; reuse.ts makes every kind again from the same recipes for the costs of
// another plan of the same shape, so that both ways give the same numbers by the same arithmetic.
import type { CollectiveKind, PassCost, SimCosts, Transfer } from "./cost-types.js";
import type { Arena } from "./heap.js";

/** weightGrad: the weight-gradient half of a backward split in two (zero-bubble schedules' W). */
export type SegmentKind = "forward" | "backward" | "weightGrad" | "recompute" | "tpComm" | "epComm" | "cpComm" | "ppComm" | "dpComm" | "optimizer";
export type StreamName = "compute" | "tp comm" | "pp comm" | "dp comm";

export interface OpInfo {
  stage: number;
  stream: "compute" | "pp comm" | "dp comm";
  /** What it is ("layer", "send activation", "all-gather weights bucket"); timeline.ts opName()
   *  adds the pass and the index. Names are built only when a timeline is drawn (the ranking needs
   *  none). */
  label: string;
  /** Consecutive parts of a compute operation (a layer's kernels, then its tp collectives). */
  parts: Array<[SegmentKind, number]>;
  /** Where a backward's gradients start being produced, as a fraction of the operation (of each
   *  of its layers, when it plays several). */
  gradFrom: number;
  /** Identical layers the operation plays one after another (buildGraph's `coarse` graphs); 1
   *  when absent. */
  layers?: number;
}

/** The passes of a compute stream, by what they play: embedding, layer, head; F forward, B
 *  backward (a layer's re-runs its recompute first), I and W a split backward's input and weight
 *  gradients. */
export type PassPart = "embedF" | "embedB" | "layerF" | "layerB" | "headF" | "headB" | "layerI" | "layerW" | "headI" | "headW";

/** Per pass part its segments and their total time; where gradients start in a layer's and in the
 *  head's backward; a send's one segment. */
export interface PassTables {
  parts: Record<PassPart, Array<[SegmentKind, number]>>;
  time: Record<PassPart, number>;
  gradFrom: number;
  headGradFrom: number;
  sendParts: Array<[SegmentKind, number]>;
}

/** How a kind of operation is made from the costs: the passes of a stage (n layers as one
 *  operation, 0 for the stage's own kind of one layer: no `layers`), its optimizer step, its sends,
 *  a data-parallel collective of `bytes` on the link `inter` says, the tied embedding's all-reduce.
 *  grad: where its gradients start, 0 none, 1 a layer's, 2 the head's. */
export type Recipe =
  | { k: "pass"; stage: number; which: PassPart; n: number; label: string; grad: 0 | 1 | 2 }
  | { k: "optimizer"; stage: number }
  | { k: "send"; stage: number; label: string }
  | { k: "collective"; stage: number; kind: CollectiveKind; expert: boolean; bytes: number; calls: number; label: string; inter: boolean }
  | { k: "tied"; label: string; inter: boolean };

/** The part of a graph (graph.ts Graph) its kinds of operation live in. */
export interface InfoTables {
  costs: SimCosts;
  passes: PassTables;
  /** The distinct OpInfos, and per kind its recipe and an operation's fixed times and work. */
  infos: OpInfo[];
  recipes: Recipe[];
  /** (typed tables from `arena`, one kind of array from the first kind on: plain arrays changed
   *  element kind as their first fraction came, and the compiled code reading them was thrown away) */
  infoPre: Float64Array;
  infoWork: Float64Array;
  infoPost: Float64Array;
  /** Where infoPre … infoPost live and grow. */
  arena: Arena;
  /** dp.ts's cache of collective costs by kind and size, and of each stage's route (its link
   *  pair) by whether it crosses the network. */
  dpMemo: { costs: Map<string, Map<number, Transfer>>; routes: Map<number, number> };
}

/** A pass's cost less another (a backward less its weight gradient). */
function minus(a: PassCost, b: PassCost): PassCost {
  return { compute: Math.max(0, a.compute - b.compute), tp: a.tp - b.tp };
}

function passParts(kind: SegmentKind, p: PassCost): Array<[SegmentKind, number]> {
  const out: Array<[SegmentKind, number]> = [];
  if (p.compute > 0) out.push([kind, p.compute]);
  if (p.tp > 0) out.push(["tpComm", p.tp]);
  if (p.ep !== undefined && p.ep > 0) out.push(["epComm", p.ep]);
  if (p.cp !== undefined && p.cp > 0) out.push(["cpComm", p.cp]);
  return out;
}

/** Total time of consecutive parts. */
export function partsTime(parts: ReadonlyArray<readonly [SegmentKind, number]>): number {
  let total = 0;
  for (const [, d] of parts) total += d;
  return total;
}

/** Parts of `n` identical operations played as one. */
function scaled(parts: ReadonlyArray<readonly [SegmentKind, number]>, n: number): Array<[SegmentKind, number]> {
  return parts.map(([kind, d]) => [kind, n * d]);
}

/** A layer's backward (B, or I of a split one) re-running `share` of its recompute first. */
function layerBackParts(c: SimCosts, which: "layerB" | "layerI", share: number): Array<[SegmentKind, number]> {
  const r = c.layer.recompute;
  const part: PassCost = { compute: share * r.compute, tp: share * r.tp, ...(r.ep !== undefined ? { ep: share * r.ep } : {}), ...(r.cp !== undefined ? { cp: share * r.cp } : {}) };
  return [...passParts("recompute", part), ...passParts("backward", which === "layerB" ? c.layer.backward : minus(c.layer.backward, c.layer.weightGrad))];
}

/** Where a backward's gradients start: after its recompute parts. */
function gradStart(parts: ReadonlyArray<readonly [SegmentKind, number]>): number {
  let before = 0;
  for (const [kind, d] of parts) {
    if (kind === "backward") break;
    before += d;
  }
  return before / (partsTime(parts) || 1);
}

/** Parts shared by every operation of a kind (a layer's backward re-runs its recompute first). */
export function passTables(c: SimCosts): PassTables {
  const parts = {
    embedF: passParts("forward", c.embedding.forward),
    embedB: passParts("backward", c.embedding.backward),
    layerF: passParts("forward", c.layer.forward),
    layerB: [...passParts("recompute", c.layer.recompute), ...passParts("backward", c.layer.backward)],
    headF: passParts("forward", c.head.forward),
    // (the output's own recompute, the MTP modules' blocks, before its backward as a layer's)
    headB: [...passParts("recompute", c.head.recompute), ...passParts("backward", c.head.backward)],
    // A split backward: the input gradient (B) now, the weight gradient (W) later.
    layerI: [...passParts("recompute", c.layer.recompute), ...passParts("backward", minus(c.layer.backward, c.layer.weightGrad))],
    layerW: passParts("weightGrad", c.layer.weightGrad),
    headI: [...passParts("recompute", c.head.recompute), ...passParts("backward", minus(c.head.backward, c.head.weightGrad))],
    headW: passParts("weightGrad", c.head.weightGrad),
  };
  const time = {
    embedF: partsTime(parts.embedF),
    embedB: partsTime(parts.embedB),
    layerF: partsTime(parts.layerF),
    layerB: partsTime(parts.layerB),
    headF: partsTime(parts.headF),
    headB: partsTime(parts.headB),
    layerI: partsTime(parts.layerI),
    layerW: partsTime(parts.layerW),
    headI: partsTime(parts.headI),
    headW: partsTime(parts.headW),
  };
  const rTime = c.layer.recompute.compute + c.layer.recompute.tp + (c.layer.recompute.ep ?? 0) + (c.layer.recompute.cp ?? 0);
  const gradFrom = rTime / (rTime + c.layer.backward.compute + c.layer.backward.tp + (c.layer.backward.ep ?? 0) + (c.layer.backward.cp ?? 0) || 1);
  const headR = c.head.recompute.compute;
  const headGradFrom = headR / (headR + c.head.backward.compute + c.head.backward.tp || 1);
  const sendParts: Array<[SegmentKind, number]> = [["ppComm", c.p2p.latency + c.p2p.work + c.p2p.post]];
  return { parts, time, gradFrom, headGradFrom, sendParts };
}

/** A data-parallel collective's cost, by kind and size (cached: most buckets have one size). */
export function transferOf(g: InfoTables, kind: CollectiveKind, bytes: number, expert: boolean): Transfer {
  const m = g.dpMemo;
  const key = expert ? `expert ${kind}` : kind;
  let byBytes = m.costs.get(key);
  if (!byBytes) m.costs.set(key, (byBytes = new Map()));
  let t = byBytes.get(bytes);
  if (!t) byBytes.set(bytes, (t = expert ? g.costs.expert!.collective(kind, bytes) : g.costs.dpCollective(kind, bytes)));
  return t;
}

/** Register the kind of operation `r` makes; returns its index (Graph.opInfo). */
export function addInfo(g: InfoTables, r: Recipe): number {
  const i = g.infos.length;
  g.recipes.push(r);
  if (!makeInfo(g, r, i)) throw new Error(`simulate: ${r.k} ${i} made on a link its recipe does not name`);
  return i;
}

function set(g: InfoTables, i: number, info: OpInfo, pre: number, work: number, post: number): void {
  if (i >= g.infoPre.length) {
    g.infoPre = g.arena.f64("info.pre", i + 1, i);
    g.infoWork = g.arena.f64("info.work", i + 1, i);
    g.infoPost = g.arena.f64("info.post", i + 1, i);
  }
  g.infos[i] = info;
  g.infoPre[i] = pre;
  g.infoWork[i] = work;
  g.infoPost[i] = post;
}

/** Make kind `i` from recipe `r` against `g.costs`; false where a transfer would take another
 *  link than the recipe's (then the graph's routes are not this one's). */
export function makeInfo(g: InfoTables, r: Recipe, i: number): boolean {
  const c = g.costs;
  const T = g.passes;
  switch (r.k) {
    case "pass": {
      // (block recompute: the stage's share of a layer's recompute, SimCosts.recomputeShare)
      const share = c.recomputeShare?.[r.stage];
      if (share !== undefined && (r.which === "layerB" || r.which === "layerI")) {
        const p = layerBackParts(c, r.which, share);
        const t = partsTime(p);
        set(g, i, { stage: r.stage, stream: "compute", label: r.label, parts: r.n === 0 ? p : scaled(p, r.n), gradFrom: r.grad === 1 ? gradStart(p) : 0, ...(r.n === 0 ? {} : { layers: r.n }) }, (r.n === 0 ? 1 : r.n) * t, 0, 0);
        return true;
      }
      const p = T.parts[r.which];
      const from = r.grad === 1 ? T.gradFrom : r.grad === 2 ? T.headGradFrom : 0;
      if (r.n === 0) set(g, i, { stage: r.stage, stream: "compute", label: r.label, parts: p, gradFrom: from }, T.time[r.which], 0, 0);
      else set(g, i, { stage: r.stage, stream: "compute", label: r.label, parts: scaled(p, r.n), gradFrom: from, layers: r.n }, r.n * T.time[r.which], 0, 0);
      return true;
    }
    case "optimizer": {
      const parts: Array<[SegmentKind, number]> = [["optimizer", c.optimizer[r.stage]!]];
      set(g, i, { stage: r.stage, stream: "compute", label: "optimizer", parts, gradFrom: 0 }, partsTime(parts), 0, 0);
      return true;
    }
    case "send": {
      const p = c.p2p;
      set(g, i, { stage: r.stage, stream: "pp comm", label: r.label, parts: T.sendParts, gradFrom: 0 }, p.latency, p.work, p.post);
      return true;
    }
    case "collective": {
      const t = transferOf(g, r.kind, r.bytes, r.expert);
      if (t.inter !== r.inter) return false;
      const parts: Array<[SegmentKind, number]> = [["dpComm", r.calls * t.latency + t.work + t.post]];
      set(g, i, { stage: r.stage, stream: "dp comm", label: r.label, parts, gradFrom: 0 }, r.calls * t.latency, t.work, t.post);
      return true;
    }
    case "tied": {
      const t = c.tiedEmbedding;
      if (t === null || t.inter !== r.inter) return false;
      set(g, i, { stage: 0, stream: "dp comm", label: r.label, parts: [["dpComm", t.latency + t.work + t.post]], gradFrom: 0 }, t.latency, t.work, t.post);
      return true;
    }
  }
}
