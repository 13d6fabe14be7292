// Per-rank order of the zero-bubble pipeline schedules, as torch.distributed.pipelining builds it
// (torch 2.13, torch/distributed/pipelining/schedules.py, `_calculate_single_rank_operations` of
// each class), ported action for action so that the simulator plays what the executor runs:
//  - zb1p: ScheduleInterleavedZeroBubble (Qi et al. 2024, "Zero Bubble Pipeline Parallelism",
//    ZB-H1 with v local stages): warm-up min((v−1)·r + (p−1−rank), m·v) forwards, r = micro-batches
//    per round; then one forward and one input-gradient backward (I) per step, each rank's weight
//    gradients (W) delayed by `rank` steps (`_get_1f1b_rank_ops(enable_zero_bubble=True)`).
//  - zbv: ScheduleZBVZeroBubble (Qi et al. §6, ZB-V): two stages per rank in a V (rank i: stages i
//    and 2p−1−i), phases warm-up F0 ×(2(p−i)−1), F1F0 ×i, F1 I1 W1 ×(p−i), steady F0 I0 W0 F1 I1 W1,
//    cool-down I0 I1 ×i, I0 W0 ×(p−i), then the remaining W.
//  - dualpipev: ScheduleDualPipeV (the V-shaped "cut-in-half" DualPipe of deepseek-ai/DualPipe,
//    DeepSeek-V3 report §3.2.1): eight steps F0 / F0F1 / I1W1F1 / F0B1-F1B0 / B1-F1B0 / B1B0 /
//    W0B0 / W0, where B is a full backward unless the step switches to zero bubble (I, W later).
//    torch runs an overlapped F&B pair one after the other on the rank's stream; so does this.
// Pure: (schedule, p, v, m, rank) → visits of (kind, local chunk, micro-batch, full backward).

/** F forward; B backward (the input gradient, and with `full` the weight gradient too); W the
 *  weight gradient of a split backward. */
export const F = 0;
export const B = 1;
export const W = 2;
export type PassKind = typeof F | typeof B | typeof W;
export type Visit = (kind: PassKind, chunk: number, mb: number, full: boolean) => void;

/** ScheduleInterleavedZeroBubble with v local stages (looped placement: local chunk c is stage
 *  c·p + rank). */
export function zb1pOrder(p: number, v: number, m: number, rank: number, visit: Visit): void {
  const rounds = Math.max(1, Math.floor(m / p));
  const perRound = Math.floor(m / rounds);
  const total = v * m;
  const warmup = Math.min((v - 1) * perRound + (p - 1 - rank), total);
  const fwdChunk = (step: number) => Math.floor(step / perRound) % v;
  const bwdChunk = (step: number) => v - 1 - (Math.floor((step - warmup) / perRound) % v);
  const fCount = new Int32Array(v);
  const bCount = new Int32Array(v);
  const wCount = new Int32Array(v);
  const backwardSteps: number[] = [];
  let wDone = 0;
  const forward = (step: number) => {
    const c = fwdChunk(step);
    visit(F, c, fCount[c]!++, false);
  };
  const backward = (step: number) => {
    const c = bwdChunk(step);
    visit(B, c, bCount[c]!++, false);
    backwardSteps.push(step);
  };
  const weight = () => {
    const c = bwdChunk(backwardSteps[wDone++]!);
    visit(W, c, wCount[c]!++, false);
  };
  // fwd_bwd_ops = total − warmup, cooldown_ops = warmup: 2·total passes of F and I.
  for (let step = 0; step < total + warmup; step++) {
    if (step < warmup) forward(step);
    else if (step < total) {
      forward(step);
      backward(step);
      if (step - warmup >= rank) weight();
    } else {
      backward(step);
      if (step - warmup >= rank) weight();
    }
  }
  while (wDone < backwardSteps.length) weight();
}

/** ScheduleZBVZeroBubble: local chunk 0 is stage rank, chunk 1 stage 2p−1−rank. */
export function zbvOrder(p: number, m: number, rank: number, visit: Visit): void {
  const n = Math.max(2 * p - 1, m);
  // Actions on micro-batches ≥ m are dropped (torch pads n up to 2p−1 and then removes them).
  const put = (kind: PassKind, chunk: number, mb: number) => {
    if (mb < m) visit(kind, chunk, mb, false);
  };
  let f0 = 0;
  let f1 = 0;
  let b0 = 0;
  let b1 = 0;
  for (let i = 0; i < 2 * (p - rank) - 1; i++) put(F, 0, f0++);
  for (let i = 0; i < rank; i++) {
    put(F, 1, f1++);
    put(F, 0, f0++);
  }
  for (let i = 0; i < p - rank; i++) {
    put(F, 1, f1++);
    put(B, 1, b1);
    put(W, 1, b1++);
  }
  while (f1 < f0 || f0 < n) {
    if (f0 < n) put(F, 0, f0++);
    put(B, 0, b0);
    put(W, 0, b0++);
    put(F, 1, f1++);
    put(B, 1, b1);
    put(W, 1, b1++);
  }
  let w0 = b0;
  let w1 = b1;
  for (let i = 0; i < rank; i++) {
    put(B, 0, b0++);
    put(B, 1, b1++);
  }
  for (let i = 0; i < p - rank; i++) {
    put(B, 0, b0++);
    put(W, 0, w0++);
  }
  while (w1 < b1) put(W, 1, w1++);
  while (w0 < b0) put(W, 0, w0++);
}

/** ScheduleDualPipeV: local chunk 0 is stage rank, chunk 1 stage 2p−1−rank; m ≥ 2p. */
export function dualPipeVOrder(p: number, m: number, rank: number, visit: Visit): void {
  const fCount = [0, 0];
  const bCount = [0, 0];
  const pendingW: Array<[number, number]> = [];
  const fwd = (c: number) => visit(F, c, fCount[c]!++, false);
  const full = (c: number) => visit(B, c, bCount[c]!++, true);
  const input = (c: number) => {
    const mb = bCount[c]!++;
    visit(B, c, mb, false);
    pendingW.push([c, mb]);
  };
  const weight = () => {
    const next = pendingW.shift();
    if (next) visit(W, next[0], next[1], false);
  };
  // Step 1: F0; step 2: F0 F1; step 3: I1 W1 F1 (zero bubble).
  for (let i = 0; i < 2 * (p - rank - 1); i++) fwd(0);
  for (let i = 0; i < rank + 1; i++) {
    fwd(0);
    fwd(1);
  }
  for (let i = 0; i < p - rank - 1; i++) {
    input(1);
    weight();
    fwd(1);
  }
  // Step 4: F0&B1, F1&B0 (the last rank's first pair is not overlapped: F0 then B1 anyway).
  for (let i = 0; i < m - 2 * p + rank + 1; i++) {
    fwd(0);
    full(1);
    fwd(1);
    full(0);
  }
  // Step 5: B1, F1&B0.
  for (let i = 0; i < p - rank - 1; i++) {
    full(1);
    fwd(1);
    full(0);
  }
  // Step 6: B1 B0, the second half splitting the backward (zero bubble).
  const half = Math.floor((rank + 1) / 2);
  let zb = false;
  for (let i = 0; i < rank + 1; i++) {
    if (i === half && rank % 2 === 1) zb = true;
    if (zb) input(1);
    else full(1);
    if (i === half && rank % 2 === 0) zb = true;
    if (zb) input(0);
    else full(0);
  }
  // Step 7: W0 B0; step 8: W0.
  for (let i = 0; i < p - rank - 1; i++) {
    weight();
    if (zb) input(0);
    else full(0);
  }
  for (let i = 0; i < rank + 1; i++) weight();
  // torch leaves any weight gradient still queued to the end of the step (its W counters end equal
  // to its B counters); play them last so every micro-batch's gradients are complete.
  while (pendingW.length > 0) weight();
}
