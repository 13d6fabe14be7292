// Per-stage order of forward and backward passes for the pipeline schedules the planner knows.
// Pure: (schedule, p, v, m, stage) → the list of passes that stage runs, in order.
//
//  GPipe (Huang et al. 2019, Fig. 2c): all m forwards, then all m backwards in reverse order.
//  1F1B (Narayanan et al. 2021 §2.2.1, PipeDream-Flush; Megatron-LM schedules.py,
//    forward_backward_pipelining_without_interleaving): stage i of p runs
//      warm-up   min(p − i − 1, m) forwards,
//      steady    m − warm-up pairs (one forward, then one backward),
//      cool-down the warm-up's backwards.
//  Interleaved 1F1B (Narayanan et al. 2021 §2.2.2; Megatron-LM schedules.py,
//    forward_backward_pipelining_with_interleaving): m·v virtual micro-batches per stage,
//      warm-up   min((p − i − 1)·2 + (v − 1)·p, m·v)  — all m·v when m = p,
//      steady    one forward then one backward per virtual micro-batch,
//      cool-down the remaining backwards;
//    virtual micro-batch k runs chunk ⌊(k mod p·v)/p⌋ forward (v − 1 − that backward) of
//    micro-batch ⌊k/(p·v)⌋·p + k mod p  (get_model_chunk_id and the microbatch group of size p).
import type { Schedule } from "../types.js";
import { B, F, type Visit, dualPipeVOrder, zb1pOrder, zbvOrder } from "./zb-orders.js";

export interface Pass {
  /** Forward or backward (a backward includes its recompute). */
  kind: "F" | "B";
  /** Micro-batch index, 0 … m−1. */
  mb: number;
  /** Virtual chunk on this stage, 0 … v−1 (model chunk c·p + stage, Megatron's assignment). */
  chunk: number;
}

export interface Phases {
  warmup: number;
  steady: number;
  cooldown: number;
}

/** Warm-up / steady / cool-down counts of one stage (in passes of one chunk each). */
export function phases(schedule: Schedule, pp: number, vpp: number, microBatches: number, stage: number): Phases {
  if (schedule === "gpipe") return { warmup: microBatches, steady: 0, cooldown: microBatches };
  if (schedule === "1f1b" || vpp === 1) {
    const warmup = Math.min(pp - stage - 1, microBatches);
    return { warmup, steady: microBatches - warmup, cooldown: warmup };
  }
  const total = microBatches * vpp;
  const warmup = microBatches === pp ? total : Math.min((pp - stage - 1) * 2 + (vpp - 1) * pp, total);
  return { warmup, steady: total - warmup, cooldown: warmup };
}

/** Chunk and micro-batch of virtual micro-batch k in the interleaved schedule. */
export function virtualPass(kind: "F" | "B", k: number, pp: number, vpp: number): Pass {
  return { kind, mb: virtualMb(k, pp, vpp), chunk: virtualChunk(kind === "B", k, pp, vpp) };
}

function virtualChunk(backward: boolean, k: number, pp: number, vpp: number): number {
  const fwdChunk = Math.floor((k % (pp * vpp)) / pp);
  return backward ? vpp - 1 - fwdChunk : fwdChunk;
}

function virtualMb(k: number, pp: number, vpp: number): number {
  return Math.floor(k / (pp * vpp)) * pp + (k % pp);
}

/** The passes stage `stage` runs, in order. v is used only by the interleaved schedule. */
export function stageOrder(schedule: Schedule, pp: number, vpp: number, microBatches: number, stage: number): Pass[] {
  const out: Pass[] = [];
  visitStageOrder(schedule, pp, vpp, microBatches, stage, (backward, chunk, mb) => out.push({ kind: backward ? "B" : "F", mb, chunk }));
  return out;
}

/** stageOrder() as calls of `visit(backward, chunk, mb)` in order, with no object per pass. */
export function visitStageOrder(
  schedule: Schedule,
  pp: number,
  vpp: number,
  microBatches: number,
  stage: number,
  visit: (backward: boolean, chunk: number, mb: number) => void,
): void {
  visitOrder(schedule, pp, vpp, microBatches, stage, (kind, chunk, mb) => visit(kind === B, chunk, mb));
}

/** GPipe's, 1F1B's and the interleaved schedule's passes as visitPasses' calls (full backwards),
 *  virtual micro-batch k's chunk and micro-batch written out (virtualChunk, virtualMb): a graph
 *  visits every pass of every stage, and the calls between this loop and `visit` ran interpreted
 *  for the first graphs of a process (issue 11, start-up). */
function visitOrder(schedule: Schedule, pp: number, vpp: number, microBatches: number, stage: number, visit: Visit): void {
  if (schedule === "gpipe") {
    for (let mb = 0; mb < microBatches; mb++) visit(F, 0, mb, true);
    for (let mb = microBatches - 1; mb >= 0; mb--) visit(B, 0, mb, true);
    return;
  }
  const v = schedule === "interleaved" ? vpp : 1;
  const { warmup, steady } = phases(schedule, pp, v, microBatches, stage);
  const total = microBatches * v;
  if (v === 1) {
    for (let k = 0; k < warmup; k++) visit(F, 0, k, true);
    for (let i = 0; i < steady; i++) {
      visit(F, 0, warmup + i, true);
      visit(B, 0, i, true);
    }
    for (let k = steady; k < total; k++) visit(B, 0, k, true);
    return;
  }
  const group = pp * v;
  for (let k = 0; k < warmup; k++) visit(F, Math.floor((k % group) / pp), Math.floor(k / group) * pp + (k % pp), true);
  for (let i = 0; i < steady; i++) {
    const f = warmup + i;
    visit(F, Math.floor((f % group) / pp), Math.floor(f / group) * pp + (f % pp), true);
    visit(B, v - 1 - Math.floor((i % group) / pp), Math.floor(i / group) * pp + (i % pp), true);
  }
  for (let k = steady; k < total; k++) visit(B, v - 1 - Math.floor((k % group) / pp), Math.floor(k / group) * pp + (k % pp), true);
}

/** Whether the schedule places two stages per rank in a V (rank r: stages r and 2p−1−r) rather
 *  than looping them (local chunk c: stage c·p + r, Megatron's and torch's interleaving). */
export function vShaped(schedule: Schedule): boolean {
  return schedule === "zbv" || schedule === "dualpipev";
}

/** Global stage of local chunk `chunk` on rank `stage` (p ranks, v chunks each). */
export function globalStage(schedule: Schedule, pp: number, chunk: number, stage: number): number {
  return vShaped(schedule) ? (chunk === 0 ? stage : 2 * pp - 1 - stage) : chunk * pp + stage;
}

/** Rank and local chunk of global stage `g`: the inverse of globalStage. */
export function stageOf(schedule: Schedule, pp: number, g: number): { stage: number; chunk: number } {
  if (vShaped(schedule)) return g < pp ? { stage: g, chunk: 0 } : { stage: 2 * pp - 1 - g, chunk: 1 };
  return { stage: g % pp, chunk: Math.floor(g / pp) };
}

/** Every schedule's passes on rank `stage`, in order, as (kind, chunk, micro-batch, full): the
 *  zero-bubble schedules from zb-orders.ts, the others from visitStageOrder (full backwards). */
export function visitPasses(schedule: Schedule, pp: number, vpp: number, microBatches: number, stage: number, visit: Visit): void {
  if (schedule === "zb1p") return zb1pOrder(pp, vpp, microBatches, stage, visit);
  if (schedule === "zbv") return zbvOrder(pp, microBatches, stage, visit);
  if (schedule === "dualpipev") return dualPipeVOrder(pp, microBatches, stage, visit);
  visitOrder(schedule, pp, vpp, microBatches, stage, visit);
}
