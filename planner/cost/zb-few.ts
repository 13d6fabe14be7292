// The zero-bubble schedules' step with too few micro-batches for their steady state. Qi et al.
// 2024's bubble, (p−1)(T_F + T_B − T_W) per chunk (cost/pipeline.ts), assumes every rank has W
// passes left to fill its cool-down; with m < p micro-batches on zb1p, or m < 2p − 1 on zbv, it
// does not: one micro-batch alone runs F through all p·v stages, its input gradients back and a
// last W (on uniform stages p·v·(T_F + T_B) + T_W, twice to thrice the formula's step at m = 1).
// There the step is the critical path of torch's own per-rank orders (sim/zb-orders.ts, as the
// simulator plays them) on uniform stages, without communication: each pass starts when its rank
// is free and its input is ready (F after the previous stage's F, an input gradient after the next
// stage's, a W after its own input gradient). Its cost is the p·v·m passes there are, m < 2p.
import type { Schedule } from "../types.js";
import { B, F, type PassKind, W } from "../sim/zb-orders.js";
import { globalStage, visitPasses } from "../sim/schedule.js";

/** Whether the schedule's steady-state bubble misses with m micro-batches on p ranks: zb1p below
 *  m = p, zbv below m = 2p − 1 (the simulator matches the formula from there on, uniform stages
 *  with T_F = T_B = T_W: test/sim/zero-bubble.test.ts). dualpipev needs m ≥ 2p anyway. */
/** The most passes the critical path plays in one call (above: the lower bound). */
const MAX_PASSES = 2_000;

export function fewMicroBatches(schedule: Schedule, pp: number, microBatches: number): boolean {
  if (pp === 1) return false;
  if (schedule === "zb1p") return microBatches < pp;
  if (schedule === "zbv") return microBatches < 2 * pp - 1;
  return false;
}

/** The step on uniform stages of torch's order for `schedule` with p ranks, v chunks a rank and
 *  m micro-batches, each chunk's forward f, input gradient i and weight gradient w (seconds); a
 *  full backward (i + w) where the order does not split it. Infinity if the order deadlocks (it
 *  does not for the schedules torch builds). */
export function zeroBubbleCriticalPath(schedule: Schedule, pp: number, vpp: number, microBatches: number, f: number, i: number, w: number): number {
  const v = schedule === "zb1p" ? vpp : 2;
  const m = microBatches;
  // zb1p with one stage a rank, by hand: micro-batch 0's forward through the p stages, its input
  // gradient back, stage 0's W; each further micro-batch adds f + i on that path (m ≤ p), which is
  // what playing the order gives (test/sim/zero-bubble.test.ts), in O(1) for the search's loop.
  if (schedule === "zb1p" && v === 1 && m <= pp) return (pp + m - 1) * (f + i) + w;
  // Beyond it, play the order where it is small enough for the search's loop (2,000 passes, well
  // under a millisecond). A larger pipeline with so few micro-batches takes the larger of two
  // bounds: one micro-batch's path through the v·p stages and back plus each further micro-batch's
  // forward and input gradient on it, and the steady state's step (cost/pipeline.ts): within 1.3 %
  // of the played order on the large cases tried (zbv p 32 m 60, zb1p v 2 p 64 m 40).
  if (3 * pp * v * m > MAX_PASSES) {
    const bound = Math.max(v * pp * (f + i) + w + (m - 1) * (f + i), m * v * (f + i + w) + (pp - 1) * Math.max(0, f + i - w));
    // zbv with m ≤ p: each further micro-batch adds a forward on both of rank 0's stages, an input
    // gradient and a W to micro-batch 0's path and rank 0's two W (equal to the played order at
    // f = i = w and i = 1.2f, w = 0.8f; below it where the input gradient is much the larger)
    return schedule === "zbv" && m <= pp ? Math.max(bound, 2 * pp * (f + i) + 2 * w + (m - 1) * (2 * f + i + w)) : bound;
  }
  const stages = pp * v;
  // Each rank's passes in order: kind, global stage, micro-batch, full backward.
  const kinds: number[][] = [];
  const where: number[][] = [];
  const full: boolean[][] = [];
  for (let r = 0; r < pp; r++) {
    const k: number[] = [];
    const s: number[] = [];
    const fb: boolean[] = [];
    visitPasses(schedule, pp, v, m, r, (kind: PassKind, chunk, mb, whole) => {
      k.push(kind);
      s.push(globalStage(schedule, pp, chunk, r) * m + mb);
      fb.push(whole);
    });
    kinds.push(k);
    where.push(s);
    full.push(fb);
  }
  // Finish times of each (stage, micro-batch)'s forward and input gradient; −1 not yet run.
  const fDone = new Float64Array(stages * m).fill(-1);
  const iDone = new Float64Array(stages * m).fill(-1);
  const next = new Int32Array(pp);
  const free = new Float64Array(pp);
  let left = 0;
  for (const k of kinds) left += k.length;
  // A worklist of ranks: a rank runs its passes while their inputs are ready, and each pass that
  // ends wakes the rank of the stage it feeds (a forward the next stage's, an input gradient the
  // previous stage's), so every pass is looked at a bounded number of times.
  const rankOf = (stage: number) => (schedule === "zb1p" ? stage % pp : stage < pp ? stage : 2 * pp - 1 - stage);
  const queue = new Int32Array(pp);
  const queued = new Uint8Array(pp).fill(1);
  for (let r = 0; r < pp; r++) queue[r] = r;
  let head = 0;
  let size = pp;
  const wake = (r: number) => {
    if (queued[r]) return;
    queued[r] = 1;
    queue[(head + size++) % pp] = r;
  };
  while (size > 0) {
    const r = queue[head]!;
    head = (head + 1) % pp;
    size--;
    queued[r] = 0;
    const k = kinds[r]!;
    const at = where[r]!;
    while (next[r]! < k.length) {
      const n = next[r]!;
      const idx = at[n]!;
      const s = Math.floor(idx / m);
      let ready: number;
      if (k[n] === F) ready = s === 0 ? 0 : fDone[idx - m]!;
      else if (k[n] === B) ready = s === stages - 1 ? fDone[idx]! : iDone[idx + m]!;
      else ready = iDone[idx]!;
      if (ready < 0) break;
      const start = Math.max(free[r]!, ready);
      const end = start + (k[n] === F ? f : k[n] === W ? w : full[r]![n] ? i + w : i);
      if (k[n] === F) {
        fDone[idx] = end;
        if (s + 1 < stages) wake(rankOf(s + 1));
      } else if (k[n] === B) {
        iDone[idx] = end;
        if (s > 0) wake(rankOf(s - 1));
      }
      free[r] = end;
      next[r] = n + 1;
      left--;
    }
  }
  if (left > 0) return Infinity;
  let step = 0;
  for (let r = 0; r < pp; r++) step = Math.max(step, free[r]!);
  return step;
}
