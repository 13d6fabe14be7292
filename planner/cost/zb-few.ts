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
  const stages = pp * v;
  // Each rank's passes in order: kind, global stage, micro-batch, full backward.
  const kinds: Uint8Array[] = [];
  const where: Int32Array[] = [];
  const full: Uint8Array[] = [];
  for (let r = 0; r < pp; r++) {
    const k: number[] = [];
    const s: number[] = [];
    const fb: number[] = [];
    visitPasses(schedule, pp, v, m, r, (kind: PassKind, chunk, mb, whole) => {
      k.push(kind);
      s.push(globalStage(schedule, pp, chunk, r) * m + mb);
      fb.push(whole ? 1 : 0);
    });
    kinds.push(Uint8Array.from(k));
    where.push(Int32Array.from(s));
    full.push(Uint8Array.from(fb));
  }
  // Finish times of each (stage, micro-batch)'s forward and input gradient; −1 not yet run.
  const fDone = new Float64Array(stages * m).fill(-1);
  const iDone = new Float64Array(stages * m).fill(-1);
  const next = new Int32Array(pp);
  const free = new Float64Array(pp);
  let left = 0;
  for (const k of kinds) left += k.length;
  while (left > 0) {
    let progressed = false;
    for (let r = 0; r < pp; r++) {
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
        if (k[n] === F) fDone[idx] = end;
        else if (k[n] === B) iDone[idx] = end;
        free[r] = end;
        next[r] = n + 1;
        left--;
        progressed = true;
      }
    }
    if (!progressed) return Infinity;
  }
  let step = 0;
  for (let r = 0; r < pp; r++) step = Math.max(step, free[r]!);
  return step;
}
