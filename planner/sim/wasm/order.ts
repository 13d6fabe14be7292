// A stage's passes in schedule order for GPipe, 1F1B and the interleaved 1F1B (schedule.ts
// visitOrder, the readable reference, with the passes' notes buildGraph makes as it visits them)
// in AssemblyScript, compiled into the engine's module (engine.ts re-exports it): the same passes
// in the same order, so that the graph is the one graph.ts builds (test/sim/graph-wasm.test.ts).
// In TypeScript a fresh process visited every pass of every stage through a callback, interpreted
// for its first graphs (issue 11, start-up). The zero-bubble schedules stay zb-orders.ts's.
import { i32At, setI32 } from "./memory";

// The schedules visited here (schedule.ts): GPipe; 1F1B, or any with one chunk; interleaved.
const GPIPE: i32 = 0;
const ONE_CHUNK: i32 = 1;

// The tables buildGraph's visitor writes (graph.ts Graph): the stage's passes in order, per pass
// whether it produces weight gradients, per stage and chunk its first forward and last gradient
// pass.
let order: usize = 0;
let gradPass: usize = 0;
let firstForward: usize = 0;
let lastGrad: usize = 0;
let k: i32 = 0;
// The graph's chunks per stage and micro-batches (Graph.passIndex), the stage at hand.
let gV: i32 = 1;
let gM: i32 = 1;
let stage: i32 = 0;

/** buildGraph's visitor for a full pass (forward 0, backward 1) of `chunk` and `mb`. */
function visit(kind: i32, chunk: i32, mb: i32): void {
  const idx = ((stage * 3 + kind) * gV + chunk) * gM + mb; // Graph.passIndex
  setI32(order, k++, idx);
  const at = stage * gV + chunk;
  if (kind == 1) {
    setI32(gradPass, idx, 1);
    setI32(lastGrad, at, idx);
  } else if (i32At(firstForward, at) < 0) setI32(firstForward, at, idx);
}

/** visitOrder for stage `s` of `pp` (schedule GPIPE, ONE_CHUNK, else interleaved with `v`
 *  chunks), the graph's `V` chunks per stage and `M` micro-batches: the passes written from
 *  `orderAt`, their flags and the chunks' first forward and last gradient pass (tables of the
 *  whole graph); returns how many passes. */
export function stageOrder(schedule: i32, pp: i32, v: i32, V: i32, M: i32, s: i32, orderAt: usize, gradAt: usize, firstAt: usize, lastAt: usize): i32 {
  order = orderAt;
  gradPass = gradAt;
  firstForward = firstAt;
  lastGrad = lastAt;
  k = 0;
  gV = V;
  gM = M;
  stage = s;
  if (schedule == GPIPE) {
    for (let mb = 0; mb < M; mb++) visit(0, 0, mb);
    for (let mb = M - 1; mb >= 0; mb--) visit(1, 0, mb);
    return k;
  }
  const total = M * v;
  if (schedule == ONE_CHUNK || v == 1) {
    // schedule.ts phases: warm-up min(p − i − 1, m), the rest steady, cool-down the warm-up's
    const warmup = min(pp - s - 1, M);
    const steady = M - warmup;
    for (let j = 0; j < warmup; j++) visit(0, 0, j);
    for (let i = 0; i < steady; i++) {
      visit(0, 0, warmup + i);
      visit(1, 0, i);
    }
    for (let j = steady; j < total; j++) visit(1, 0, j);
    return k;
  }
  const warmup = M == pp ? total : min((pp - s - 1) * 2 + (v - 1) * pp, total);
  const steady = total - warmup;
  const group = pp * v;
  for (let j = 0; j < warmup; j++) visit(0, (j % group) / pp, (j / group) * pp + (j % pp));
  for (let i = 0; i < steady; i++) {
    const f = warmup + i;
    visit(0, (f % group) / pp, (f / group) * pp + (f % pp));
    visit(1, v - 1 - (i % group) / pp, (i / group) * pp + (i % pp));
  }
  for (let j = steady; j < total; j++) visit(1, v - 1 - (j % group) / pp, (j / group) * pp + (j % pp));
  return k;
}
