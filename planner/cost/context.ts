// Context parallelism (cp ranks split the sequence for attention; every other module runs
// unchanged on s/cp tokens: Megatron-Core docs/user-guide/features/context_parallel.md;
// formulas-scale §2). What one cp rank computes, holds and sends, for the variants of
// Megatron-Core's --cp-comm-type (planner/types.ts CpComm):
//   allgather  gather the whole sequence's K and V before attention, reduce-scatter dK and dV in
//              backward (Llama 3 §3.3.2; Megatron "all_gather"). Not overlapped.
//   ring       pass K and V chunks around the cp ring, cp−1 steps, each overlapped with the
//              blockwise attention of the chunk in hand; backward passes K,V and dK,dV
//              (Ring Attention, Liu et al. 2023 §3; Megatron "p2p").
//   a2a        re-shard sequence into heads: all-to-alls of q, k, v in and of the output back,
//              4 per layer forward, 4 backward (DeepSpeed-Ulysses, Jacobs et al. 2023).
// Only the K/V heads travel (grouped-query attention shrinks K and V, not Q: kvHeads·headDim wide).
import { causalKeys, windowKeys } from "./causal.js";
import { OVERLAP_SLOWDOWN, overlapCost } from "./overlap.js";
import { type Engine, MEGATRON_CP_MERGE } from "../engine.js";
import { attentionWidth, headDim } from "../model.js";
import { type CpComm, type CpSplit, DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type ModelSpec, type Plan, type Training } from "../types.js";

/** Bytes per element of K, V and their gradients (16-bit; attention runs in bf16 even under fp8). */
const KV_BYTES = 2;

export type CpPlan = Pick<Plan, "cp" | "tp" | "microBatch"> & Partial<Pick<Plan, "cpComm" | "cpSplit" | "recompute">>;

export const cpCommOf = (p: Partial<Pick<Plan, "cp" | "cpComm">>): CpComm => p.cpComm ?? DEFAULT_CP_COMM;
export const cpSplitOf = (p: Partial<Pick<Plan, "cp" | "cpSplit">>): CpSplit => p.cpSplit ?? DEFAULT_CP_SPLIT;

/** The busiest cp rank's causal attention work over the mean (formulas-scale §2.4, derived here).
 *  Contiguous: rank i holds chunk i of c and attends to chunks 0..i, i full blocks plus half the
 *  diagonal one: i + ½ units; the mean is c/2 and the last rank does c − ½, so max/mean = (2c−1)/c
 *  (→ 2 for large c). Zig-zag (2c chunks, rank i holds i and 2c−1−i; Llama 3 §3.3.2, Megatron-Core):
 *  (i + ½) + (2c−1−i + ½) = 2c quarter-chunks on every rank: 1. */
export function cpImbalance(cp: number, split: CpSplit): number {
  if (cp <= 1 || split === "zigzag") return 1;
  return (2 * cp - 1) / cp;
}

/** Σ_{q<n} min(q + 1, w): the (query, key) pairs of the first n queries when each attends to
 *  itself and at most w − 1 keys before it (a causal mask: w ≥ n). */
const windowPrefix = (n: number, w: number): number => (n <= w ? (n * (n + 1)) / 2 : (w * (w + 1)) / 2 + (n - w) * w);
const windowPairs = (from: number, to: number, w: number): number => windowPrefix(to, w) - windowPrefix(from, w);

/** The busiest cp rank's sliding-window work over the mean, counted token by token (each query q
 *  attends to min(q + 1, w) keys; derived here as formulas-scale §2.4 derives the causal case):
 *  rank i's queries are chunk i (contiguous) or chunks i and 2c−1−i of 2c (zig-zag). A window
 *  shorter than a chunk leaves every rank but the first the same w keys a query, so contiguous
 *  chunks are balanced too: at 131,072 tokens, c = 16 and w = 4,096 the last rank does 8,192·4,096
 *  pairs against a mean of (15·8,192·4,096 + 4,096·4,097/2 + 4,096·4,096)/16, ×1.016, not the
 *  causal ×31/16. A window spanning the sequence is the causal mask (cpImbalance). */
export function cpWindowImbalance(seqLen: number, cp: number, split: CpSplit, window: number): number {
  if (cp <= 1) return 1;
  if (window >= seqLen) return cpImbalance(cp, split);
  const zigzag = split === "zigzag";
  const chunk = seqLen / (zigzag ? 2 * cp : cp);
  let most = 0;
  for (let i = 0; i < cp; i++) {
    const own = windowPairs(i * chunk, (i + 1) * chunk, window);
    most = Math.max(most, zigzag ? own + windowPairs((2 * cp - 1 - i) * chunk, (2 * cp - i) * chunk, window) : own);
  }
  return (most * cp) / windowPrefix(seqLen, window);
}

/** The busiest cp rank's attention work over the mean, over the model's layers (what the layer's
 *  attention time is multiplied by). The K/V exchanges that keep each rank's queries (all-gather,
 *  ring) carry the split's causal imbalance (cpImbalance), a sliding-window layer its window's
 *  (cpWindowImbalance), weighted by each kind's work per query (causal.ts: the flash kernel's
 *  tiles): the last rank is the busiest of both under contiguous chunks, and zig-zag leaves the
 *  causal layers equal, so the weighted sum is the busiest rank's. Ulysses (a2a) re-shards by
 *  heads: every rank attends over the whole sequence for h/c heads, equal work whatever the split
 *  (Jacobs et al. 2023 §3.1). */
export function cpAttentionImbalance(m: ModelSpec, seqLen: number, cp: { cp: number; split: CpSplit; comm?: CpComm | undefined }): number {
  if (cp.cp <= 1 || cp.comm === "a2a") return 1;
  const causal = cpImbalance(cp.cp, cp.split);
  if (m.slidingWindow === undefined) return causal;
  const share = (m.slidingWindowLayers ?? m.layers) / m.layers;
  const full = (1 - share) * causalKeys(seqLen);
  const windowed = share * windowKeys(seqLen, m.slidingWindow);
  return (full * causal + windowed * cpWindowImbalance(seqLen, cp.cp, cp.split, m.slidingWindow)) / (full + windowed);
}

/** The engine's K/V exchange facts (no engine: Megatron-Core's, Transformer Engine). */
const cpFacts = (e: Engine | undefined): Engine["contextParallel"] => e?.contextParallel ?? MEGATRON_CP_MERGE;

/** One micro-batch's K and V of the whole sequence on one tp rank, bytes: 2·s·b·h_kv·β/t
 *  (h_kv = kvHeads·headDim; each tp rank holds kvHeads/t of the K/V heads). A stack that repeats
 *  K/V to the query heads before attention exchanges them at the query width (torchtitan's
 *  repeat_kv, models/llama/model.py). */
export function kvBytes(m: ModelSpec, t: Pick<Training, "seqLen"> & { engine?: Engine | undefined }, p: Pick<Plan, "tp" | "microBatch">): number {
  const heads = cpFacts(t.engine).kvHeads === "query" ? m.heads : m.kvHeads;
  return (2 * t.seqLen * p.microBatch * heads * headDim(m) * KV_BYTES) / p.tp;
}

/** Bytes of the cp exchange's buffers alive while one layer's attention runs, on one GPU
 *  (formulas-scale §2.1, §2.3): allgather the gathered full K and V (2·s·b·h_kv·β/t; where the
 *  attention keeps them, cp-saved.ts counts them among the activations and this is the backward's
 *  dK and dV of the whole sequence before their reduce-scatter, the same size); ring two
 *  K/V chunks (the one attended and the one arriving, 2·(2·s·b·h_kv·β/(t·c))); a2a the heads
 *  re-sharded: q, k, v and the output over the whole sequence for h/c heads. */
export function cpBufferBytes(m: ModelSpec, t: Pick<Training, "seqLen"> & { engine?: Engine | undefined }, p: CpPlan): number {
  if (p.cp <= 1) return 0;
  const kv = kvBytes(m, t, p);
  const comm = cpCommOf(p);
  if (comm === "allgather") return kv;
  if (comm === "ring") return (2 * kv) / p.cp;
  const q = (t.seqLen * p.microBatch * attentionWidth(m) * KV_BYTES) / p.tp;
  return (2 * q + kv) / p.cp;
}

/** The ring's overlap condition (Ring Attention, Liu et al. 2023 §3 "Arithmetic intensity between
 *  hosts", generalised in formulas-scale §2.2): a step hides its K/V transfer when the chunk's
 *  attention FLOPs take longer than the transfer. Per step a rank's c_b = s/c queries meet c_b keys:
 *  4·c_b²·h_q FLOPs (QKᵀ and PV, halved by the causal mask: ×share) against 2·c_b·h_kv·β bytes, so
 *  it overlaps when c_b ≥ (2·h_kv·β)/(4·h_q·share) · F/B = (β/2)·(h_kv/h_q)·(F/B)/share.
 *  Returns that least chunk, tokens. */
export function ringMinChunk(m: ModelSpec, flops: number, bandwidth: number, causalShare = 0.5): number {
  const ratio = (m.kvHeads * headDim(m)) / attentionWidth(m);
  return ((KV_BYTES / 2) * ratio * (flops / bandwidth)) / causalShare;
}

/** What a ring step costs on the critical path: its transfer beyond the attention it overlaps,
 *  plus the slowdown the hidden part inflicts on that attention (NCCL's SMs and HBM traffic taken
 *  from the kernel beside it: cost/overlap.ts, Lee et al. 2025; the engine's figure). */
export const ringExposed = (send: number, stepCompute: number, slowdown = OVERLAP_SLOWDOWN): number => overlapCost(send, stepCompute, slowdown);

/** Calls of one layer's cp exchange per pass (forward; backward), and one call's message M, bytes
 *  (all-gather: the gathered output; reduce-scatter: the input; p2p: the chunk sent; all-to-all:
 *  the rank's input). formulas-scale §2.1. */
export interface CpCall {
  kind: "allGather" | "reduceScatter" | "p2p" | "allToAll";
  bytes: number;
  forward: number;
  backward: number;
  /** Which tensors (for the wire's id). */
  what: "kv" | "dkv" | "q-out" | "kv-a2a";
}

export function cpCalls(m: ModelSpec, t: Pick<Training, "seqLen"> & { engine?: Engine | undefined }, p: CpPlan): CpCall[] {
  if (p.cp <= 1) return [];
  const c = p.cp;
  const kv = kvBytes(m, t, p);
  // dK, dV at the engine's type (torch's context parallel accumulates and passes them in fp32:
  // _templated_ring_attention_backward, convert_to_f32), relative to K and V's 16 bits.
  const dkv = cpFacts(t.engine).dkvBytes / KV_BYTES;
  const comm = cpCommOf(p);
  if (comm === "allgather") {
    // Forward: all-gather K,V (the gathered output is the whole sequence's K,V). Backward: Megatron
    // keeps only the local chunk, gathers again, then reduce-scatters dK,dV (≈ 2× forward). A stack
    // whose attention keeps the gathered K,V (Engine.contextParallel.allgatherKeeps, cost/cp-saved.ts)
    // gathers in backward only where its selective recompute re-runs the gather (paraplan's per-op
    // SAC saves only functional collectives' outputs, executor/worker/fastpaths.py; the worker's
    // GatherSequence is a plain dist.all_gather); full recompute's re-run forward is the wire's.
    const regather = !cpFacts(t.engine).allgatherKeeps.includes("gathered-kv") || p.recompute === "selective";
    return [
      { kind: "allGather", bytes: kv, forward: 1, backward: regather ? 1 : 0, what: "kv" },
      { kind: "reduceScatter", bytes: kv * dkv, forward: 0, backward: 1, what: "dkv" },
    ];
  }
  if (comm === "ring")
    // Forward: the local K,V chunk (2·(s/c)·b·h_kv·β/t) travels c−1 steps; backward K,V again and
    // the partial dK,dV: 2(c−1) sends. Total ≈ 6·s·b·h_kv·β·(c−1)/c. fp32 dK,dV count as two
    // sends' bytes each ((c−1)·(1 + dkv) backward).
    return [{ kind: "p2p", bytes: kv / c, forward: c - 1, backward: (c - 1) * (1 + dkv), what: "kv" }];
  // Ulysses: q in and the output back (s/c·b·h_q·β/t each), k and v in (s/c·b·h_kv·β/t each).
  const q = (t.seqLen * p.microBatch * attentionWidth(m) * KV_BYTES) / (p.tp * c);
  return [
    { kind: "allToAll", bytes: q, forward: 2, backward: 2, what: "q-out" },
    { kind: "allToAll", bytes: kv / (2 * c), forward: 2, backward: 2, what: "kv-a2a" },
  ];
}

/** Sequence lengths below which the search leaves cp at 1, and the fewest tokens a cp rank keeps.
 *  The choice (the issue leaves it open): cp only divides activations and attention, so it helps
 *  where those dominate — from 16K tokens (Megatron-Core's context_parallel.md motivates it by long
 *  sequences; Llama 3 §3.3.2 turns it on only for its 128K stage); below 16K, tp, pp and recompute
 *  already fit the activations, and searching it would triple the space for nothing. Each rank
 *  keeps at least a 1K chunk: below it a ring step's attention is too small to hide anything. */
export const CP_MIN_SEQ = 16384;
export const CP_MIN_TOKENS = 1024;

/** cp degrees worth searching for this sequence: 1, and above it only from CP_MIN_SEQ tokens on,
 *  while each rank keeps at least CP_MIN_TOKENS. */
export function cpWorthSearching(cp: number, seqLen: number): boolean {
  return cp === 1 || (seqLen >= CP_MIN_SEQ && seqLen / cp >= CP_MIN_TOKENS);
}

/** The ids of the cp exchange's wire items (wire/wire.ts). */
export const CP_IDS = ["cp-kv-gather", "cp-dkv-scatter", "cp-kv-ring", "cp-a2a-q-out", "cp-a2a-kv"] as const;

/** The attention one call of a cp item overlaps (cpCallExposed's window): a forward call one
 *  forward step of the rank's attention (attentionStep, its layer's attention over cp); a backward
 *  ring send its share of a backward step, which does `backwardFactor` times the forward step's work
 *  (a flash kernel 2.5: Dao 2023 §3.1, cost/compute.ts attentionBackwardFactor) while the c−1
 *  steps carry the item's perUnit sends (K,V and dK,dV: (c−1)·(1 + dkv), cpCalls), so
 *  factor·step·(c−1)/perUnit each — Megatron's 16-bit dK,dV 1.25 steps a send, torch's fp32 ones
 *  2.5/3. Every other call: the forward step. */
export function cpCallWindow(i: Pick<CpCall, "kind"> & { pass: string; perUnit: number }, attentionStep: number, cp: number, backwardFactor: number): number {
  if (i.kind !== "p2p" || i.pass !== "backward" || i.perUnit <= 0) return attentionStep;
  return (backwardFactor * attentionStep * (cp - 1)) / i.perUnit;
}

/** Time one call of a cp item costs on the critical path, given its full time: the all-gather,
 *  reduce-scatter and all-to-alls in full (Llama 3 §3.3.2 runs the all-gather exposed; Ulysses'
 *  all-to-alls sit between the projections and attention); a ring send only beyond the attention
 *  of one step it overlaps (ringExposed). `attentionStep`: the attention the call overlaps
 *  (cpCallWindow: a forward step, or a backward send's share of a backward step). */
export function cpCallExposed(kind: CpCall["kind"], time: number, attentionStep: number, slowdown = OVERLAP_SLOWDOWN, gatherOverlapsStep = false): number {
  // torch's context parallel issues its K/V all-gather asynchronously and waits after the first
  // attention step (_AllGatherRotater, torch.distributed.tensor.experimental._attention), and
  // passes dK,dV beside the backward's steps: each hides behind one step as a ring send does.
  const overlapped = kind === "p2p" || (gatherOverlapsStep && (kind === "allGather" || kind === "reduceScatter"));
  return overlapped ? ringExposed(time, attentionStep, slowdown) : time;
}
