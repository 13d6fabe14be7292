// One graph per shape: plans that differ only in what their operations cost (the closed form's
// top 20 come in pairs that differ only in recompute) have the same operations, dependencies and
// routes; only the operations' times and how far through a backward each gradient bucket is ready
// change. Building a graph and its collectives was most of a cold simulation (issue 11,
// start-up), so a Simulator keeps the last graph with its shape and, for costs of the same shape,
// makes its kinds of operation again from their recipes (infos.ts) and sets the times from them,
// the same numbers by the same arithmetic as a graph built anew (test/sim/reuse.test.ts).
import type { SimCosts } from "./cost-types.js";
import { gradProgress } from "./dp.js";
import type { Graph } from "./graph.js";
import { writeKindGrads } from "./graph-wasm.js";
import { makeInfo, passTables } from "./infos.js";

/** SimCosts fields that set only how long an operation takes, never which operations, edges or
 *  links a graph has: the passes' costs (ParamOpCost forward … weightGrad), a transfer's times,
 *  the optimizer step, the data-parallel slowdown (timeline.ts), block recompute's per-stage share
 *  (infos.ts). Every other field, and any field
 *  added later, is part of the shape. The collectives' costs are functions (not in the key): a
 *  collective's recipe checks that its transfer still takes the same link. */
const COST_ONLY = new Set(["forward", "backward", "recompute", "weightGrad", "latency", "work", "post", "optimizer", "dpSlowdown", "recomputeShare"]);

/** What a graph of these costs is made of, as a string: equal for two costs exactly where
 *  buildGraph (with `coarse`) and addDataParallel make the same operations, dependencies and
 *  routes, given that their collectives take the same links. Byte counts, bucket sizes, degrees,
 *  the schedule and every flag are in it, to the bit (a number's shortest round-trip form). */
export function shapeKey(c: SimCosts, coarse: boolean): string {
  const json = JSON.stringify(c, (k, v: unknown) => (COST_ONLY.has(k) ? undefined : typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? `${Object.is(v, -0) ? "-0" : v}` : v));
  return `${coarse ? "coarse" : "fine"} ${json}`;
}

/** Play graph `g` (built by buildGraph and addDataParallel for costs of the same shapeKey) with
 *  costs `c`: its kinds of operation made again, its operations' times and its partial
 *  dependencies' fractions set from them (in WebAssembly, wasm/dp.ts refillTimes; `reference`:
 *  the loops below, the same numbers). False where that cannot give the graph `c` would build
 *  (a collective on another link, a bucket now ready at its producer's very end); `g` is then
 *  spoilt and the caller builds anew. */
export function refill(g: Graph, c: SimCosts, reference = false): boolean {
  if (!g.reusable) return false;
  const recipes = g.recipes;
  g.costs = c;
  g.passes = passTables(c);
  // (emptied, not replaced: a field written again is one V8 had compiled code assume constant)
  g.dpMemo.costs.clear();
  g.infos.length = 0;
  for (let i = 0; i < recipes.length; i++) if (!makeInfo(g, recipes[i]!, i)) return false;
  const e = g.engine;
  const nParts = e.partialCount;
  if (nParts !== g.partBytes.length) return false;
  if (!reference) return refillInWasm(g);
  for (let k = 0; k < nParts; k++) {
    const on = e.partialOn(k);
    const fraction = gradProgress(g.infos[g.opInfo[on]!]!, g.partBytes[k]!);
    if (!(fraction < 1)) return false;
    e.setPartialFraction(k, fraction);
  }
  e.retime(g.opInfo, g.infoPre, g.infoWork, g.infoPost);
  return true;
}

/** refill's loops in WebAssembly (a fresh process ran them interpreted, an iteration per operation
 *  and per partial dependency of every graph played again: issue 11, start-up): the tables laid
 *  out in the arena's engine's memory, the fractions and times copied back into the Engine. */
function refillInWasm(g: Graph): boolean {
  const t = g.engine.timeTables();
  const { n, nParts } = t;
  const K = g.infos.length;
  const sizes: Array<[number, number]> = [[4, n], [4, nParts], [8, nParts], [8, K], [8, K], [8, nParts], [8, K], [8, K], [8, K], [8, n], [8, n], [8, n]];
  // (each table from its offset in the bytes laid out, rounded up to 8)
  const from: number[] = [];
  let bytes = 0;
  for (const [b, count] of sizes) {
    from.push(bytes);
    bytes += Math.ceil((b * Math.max(count, 1)) / 8) * 8;
  }
  const { x, buffer, base } = g.arena.engine().forBuilder(bytes);
  const off = from.map((o) => base + o);
  new Int32Array(buffer, off[0]!, n).set(g.opInfo.subarray(0, n));
  new Int32Array(buffer, off[1]!, nParts).set(t.partFrom.subarray(0, nParts));
  new Float64Array(buffer, off[2]!, nParts).set(g.partBytes);
  writeKindGrads(g, new Float64Array(buffer, off[3]!, K), new Float64Array(buffer, off[4]!, K));
  new Float64Array(buffer, off[6]!, K).set(g.infoPre.subarray(0, K));
  new Float64Array(buffer, off[7]!, K).set(g.infoWork.subarray(0, K));
  new Float64Array(buffer, off[8]!, K).set(g.infoPost.subarray(0, K));
  if (!x.refillTimes(n, nParts, off[0]!, off[1]!, off[2]!, off[3]!, off[4]!, off[5]!, off[6]!, off[7]!, off[8]!, off[9]!, off[10]!, off[11]!)) return false;
  t.partFraction.set(new Float64Array(buffer, off[5]!, nParts));
  t.opPre.set(new Float64Array(buffer, off[9]!, n));
  t.opWork.set(new Float64Array(buffer, off[10]!, n));
  t.opPost.set(new Float64Array(buffer, off[11]!, n));
  return true;
}
