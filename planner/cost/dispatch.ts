// The experts' dispatcher: how much of a rank's all-to-all buffer crosses the network, and in how
// many bytes an element (wire/expert-wire.ts builds the items, cost/collectives.ts allToAllTime
// prices them; the closed form and the simulator both through callTime).
//
// Every rank holds T_r tokens and sends k routed copies of each, h elements a copy.
//   alltoall (Megatron-Core MoEAlltoAllTokenDispatcher): every copy is its own message; under
//     uniform routing over an ep group of n ranks, `local` of them in the rank's node, (n − local)/n
//     of the buffer leaves the node (formulas-scale §1.7). Group-limited routing changes which
//     experts a token picks, not how many copies are sent, nor (groups uniform) where they go.
//   deepep (DeepEP's internode dispatch; DeepSeek-V3 report §3.2.2): a token crosses InfiniBand
//     once per *other* node holding one of its experts, to the GPU of the same in-node index, which
//     forwards it over NVLink to the GPUs of its experts; the combine is reduced in the node first
//     and crosses back once. Per token: D_other·h elements on the network, D_other the expected
//     number of other nodes among its targets.
// Expected nodes hit. A node of the N the ep group spans is missed by one uniform copy with
// probability 1 − 1/N, by all k with (1 − 1/N)^k, so by linearity of expectation the token reaches
// E[D] = N·(1 − (1 − 1/N)^k) nodes (N = 8, k = 8: 8·(1 − (7/8)^8) = 5.25) and E[D_other] =
// (N − 1)·(1 − (1 − 1/N)^k) other ones (4.60). Group-limited routing (MoeSpec.routingGroups G,
// groupsPerToken M: the token's copies within M of the G groups, DeepSeek-V3 §2.1.2) with the
// groups aligned to nodes (experts sit on the ep ranks in order, rank i the i-th E/ep of them, so a
// node holds a run of E/N experts: G/N whole groups when N divides G, or a group spans N/G nodes
// when G divides N):
//   N | G, g = G/N groups a node: X of them chosen, hypergeometric P(X = x) = C(g,x)·C(G−g,M−x) /
//     C(G,M); each copy lands in the node with probability x/M: P(hit) = Σ_x P(x)·(1 − (1 − x/M)^k).
//     (G = N = 8, M = 4, k = 8: ½·(1 − (3/4)^8) = 0.44994, E[D] = 3.60 ≤ M = 4, E[D_other] = 3.15.)
//   G | N, c = N/G nodes a group: the node's group chosen with probability M/G, the copies then
//     uniform over M·c nodes: P(hit) = (M/G)·(1 − (1 − 1/(M·c))^k).
//   otherwise the ungrouped P(hit), which no grouping exceeds by much (a bound, not the figure).
// Copies uniform and independent (with replacement): the busiest rank's excess is ρ's, as for the
// alltoall dispatcher (Training.moeImbalance scales the bytes).
import type { ModelSpec, Plan, Training } from "../types.js";
import type { SharedExpertOverlap } from "../engine.js";
import { OVERLAP_SLOWDOWN, overlapCost } from "./overlap.js";
import { callTime } from "./collectives.js";
import type { WireItem } from "../wire/wire.js";
import { BYTES_16 } from "../wire/facts.js";
import { recomputeEpPasses } from "./module-recompute.js";

/** The dispatcher the run's engine uses (absent engine: Megatron-Core's alltoall). */
export const dispatcherOf = (t: Pick<Training, "engine">) => t.engine?.moe.dispatcher ?? "alltoall";

/** Bytes per element of the token-to-expert all-to-all: the engine's fp8 dispatch under
 *  --precision fp8 (DeepSeek-V3 §3.3.3: 1 + 4/128), else 16-bit. The combine is always 16-bit. */
export function dispatchBytes(t: Pick<Training, "engine" | "precision">): number {
  const fp8 = t.engine?.moe.fp8DispatchBytes ?? null;
  return t.precision === "fp8" && fp8 !== null ? fp8 : BYTES_16;
}

/** E[nodes a token's k copies reach], uniform over N nodes: N·(1 − (1 − 1/N)^k). */
export const expectedNodes = (N: number, k: number): number => N * (1 - (1 - 1 / N) ** k);

function choose(n: number, r: number): number {
  if (r < 0 || r > n) return 0;
  let out = 1;
  for (let i = 1; i <= r; i++) out = (out * (n - r + i)) / i;
  return out;
}

/** The probability that a given node of the N is among a token's targets (derivation above). */
export function nodeHit(N: number, k: number, groups?: number, perToken?: number): number {
  const ungrouped = 1 - (1 - 1 / N) ** k;
  if (groups === undefined || perToken === undefined || N <= 1) return N <= 1 ? 1 : ungrouped;
  const G = groups;
  const M = perToken;
  if (Number.isInteger(G / N)) {
    const g = G / N;
    let p = 0;
    for (let x = 1; x <= Math.min(g, M); x++) p += ((choose(g, x) * choose(G - g, M - x)) / choose(G, M)) * (1 - (1 - x / M) ** k);
    return p;
  }
  if (Number.isInteger(N / G)) return (M / G) * (1 - (1 - 1 / (M * (N / G))) ** k);
  return ungrouped;
}

/** Under the deepep dispatcher, the share of a rank's k-copy buffer that crosses the network:
 *  E[D_other]·h / (k·h) = (N − 1)·P(hit)/k, N = ep/local nodes. Undefined for the alltoall
 *  dispatcher or an ep group inside one node (nothing deduplicates there). */
export function offNodeShare(m: ModelSpec, t: Pick<Training, "engine">, ep: number, local: number | undefined): number | undefined {
  if (dispatcherOf(t) !== "deepep" || local === undefined || local >= ep || m.moe === undefined) return undefined;
  const N = ep / local;
  const e = m.moe;
  return ((N - 1) * nodeHit(N, e.topK, e.routingGroups, e.groupsPerToken)) / e.topK;
}

/** Whether the engine overlaps this plan's all-to-alls with another micro-batch's compute
 *  (Engine.moe.overlap): not beside full recompute where the stack refuses it (Megatron-Core asserts
 *  "disable full recomputation when enabling overlap_moe_expert_parallel_comm"), and with pp > 1
 *  only under its schedules (Megatron-Core asserts a virtual pipeline: interleaved), as
 *  transformer_config.py:1298-1337 @ core_v0.14.0 does. */
export function overlapsAllToAll(t: Pick<Training, "engine">, p: Pick<Plan, "ep" | "pp" | "recompute" | "schedule">): boolean {
  const o = t.engine?.moe.overlap ?? null;
  if (o === null || p.ep <= 1) return false;
  if (p.recompute === "full" && !o.fullRecompute) return false;
  return p.pp === 1 || o.schedules === null || o.schedules.includes(p.schedule);
}

/** One call of each of an MoE layer pass's items: the dispatch, the combine, and the etp gathers
 *  (`other`), seconds. */
export interface EpPassCalls {
  dispatch: number;
  combine: number;
  other: number;
}

/** One call of each of an MoE layer pass's items on the wire, apart (the closed form and the
 *  simulator alike; the expert items are all the closed form's). */
export function epPassCalls(wire: readonly WireItem[]): EpPassCalls {
  const c = { dispatch: 0, combine: 0, other: 0 };
  for (const i of wire)
    if (i.id === "ep-dispatch") c.dispatch += callTime(i);
    else if (i.id === "ep-combine") c.combine += callTime(i);
    else if (i.id === "etp-gather" || i.id === "etp-scatter") c.other += callTime(i);
  return c;
}

/** Whether the engine runs this plan's shared experts beside the same micro-batch's all-to-alls
 *  (Engine.moe.sharedExpertOverlap): the model has shared experts, tokens cross ranks (ep > 1), and
 *  the all-to-alls are not already overlapped with another micro-batch's compute, which takes
 *  precedence (Megatron-Core asserts the two apart: transformer_config.py:1332-1334 @ core_v0.14.0). */
export function overlapsSharedExperts(m: ModelSpec, t: Pick<Training, "engine">, p: Pick<Plan, "ep" | "pp" | "recompute" | "schedule">): boolean {
  return (t.engine?.moe.sharedExpertOverlap ?? null) !== null && (m.moe?.sharedExperts ?? 0) > 0 && p.ep > 1 && !overlapsAllToAll(t, p);
}

/** The mean exposed all-to-all time of one MoE layer pass where the shared experts run beside the
 *  same micro-batch's all-to-alls on a stream of their own: in each pass the engine overlaps, the
 *  dispatch hides behind the shared experts' part `o.dispatch` names and the combine behind
 *  `o.combine`'s, each the part that does not fit exposed and the compute beside it `slowdown`
 *  slower (cost/overlap.ts overlapCost); the backward's parts are twice the forward's (input and
 *  weight gradients) and overlap only where `o.backward`. `passes`: 2, or 3 under full recompute
 *  (the forward re-run, overlapped as the forward). The etp gathers stay on the critical path. */
export function sharedExpertExposed(c: EpPassCalls, shared: { up: number; down: number }, o: SharedExpertOverlap, passes: number, slowdown: number): number {
  const part = (which: "none" | "up" | "down" | "all", scale: number) => scale * (which === "none" ? 0 : which === "up" ? shared.up : which === "down" ? shared.down : shared.up + shared.down);
  const pass = (scale: number) => overlapCost(c.dispatch, part(o.dispatch, scale), slowdown) + overlapCost(c.combine, part(o.combine, scale), slowdown) + c.other;
  const forward = pass(1);
  const backward = o.backward ? pass(2) : c.dispatch + c.combine + c.other;
  return ((passes - 1) * forward + backward) / passes;
}

/** What one MoE layer pass's all-to-alls (`perPass` seconds on the critical path) cost where the
 *  engine overlaps them. With another micro-batch's compute (overlapsAllToAll): they run beside
 *  another micro-batch's pass of an MoE layer (DualPipe pairs a forward chunk with a backward chunk,
 *  so a pass's all-to-alls meet the other's compute: the window is the MoE layer's mean pass,
 *  (forward + backward)/2), the part that does not fit exposed, the compute beside them `slowdown`
 *  slower (cost/overlap.ts overlapCost; DeepSeek-V3 §3.5.1: 20 of 132 SMs to communication,
 *  20/132 = 0.152). The first forward and the last backward of a step have no partner; their 1/m
 *  of the all-to-alls is priced hidden all the same (the closed form and the simulator alike).
 *  With the same micro-batch's shared experts (overlapsSharedExperts): sharedExpertExposed on
 *  `calls()`, the pass's items apart, the compute beside them slowed by the engine's figure for a
 *  collective beside compute. Else perPass. */
export function epPassExposed(
  perPass: number,
  mix: { moe: { forward: number; backward: number }; shared?: { up: number; down: number } | undefined } | undefined,
  m: ModelSpec,
  t: Pick<Training, "engine" | "overlapSlowdown">,
  p: Pick<Plan, "ep" | "pp" | "recompute" | "schedule">,
  calls: () => EpPassCalls,
): number {
  if (mix === undefined) return perPass;
  if (overlapsAllToAll(t, p)) return overlapCost(perPass, (mix.moe.forward + mix.moe.backward) / 2, t.engine!.moe.overlap!.slowdown);
  if (mix.shared === undefined || !overlapsSharedExperts(m, t, p)) return perPass;
  const slowdown = t.overlapSlowdown ?? t.engine?.overlapSlowdown ?? OVERLAP_SLOWDOWN;
  return sharedExpertExposed(calls(), mix.shared, t.engine!.moe.sharedExpertOverlap!, recomputeEpPasses(m, t.engine, p), slowdown);
}
