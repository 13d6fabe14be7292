// The stage split of a pipeline: how many layers each stage holds. Even (L/pp on every stage)
// unless the plan gives stageLayers (`--stage-layers a,b,…`): Megatron-Core's
// --decoder-first-pipeline-num-layers / --decoder-last-pipeline-num-layers, torchtitan's
// pipeline_parallel_split_points and DeepSpeed's partition_method put fewer layers on the stages
// that also hold the embedding or the loss. The cost model, the simulator and the exports read the
// split from here; the rules that make one valid are in rules.ts (stage_layers_*).
import type { Plan, Schedule } from "../types.js";
import { deepspeed016Split } from "./deepspeed-016-split.js";
import { typeSplit } from "./gpt-model-pipe.js";
import { V_SCHEDULES } from "./rules.js";

/** Where a stage sits: it decides what it holds besides its layers (the embedding on the first,
 *  the output layer and loss on the last, both without a pipeline). */
export type StageKind = "first" | "middle" | "last" | "only";

/** Layers of each stage, first to last: the plan's stageLayers, else L/pp on each (fractional only
 *  for a plan the rules refuse). */
export function stageSplit(plan: Pick<Plan, "pp" | "stageLayers">, layers: number): readonly number[] {
  if (plan.stageLayers !== undefined) return plan.stageLayers;
  return Array.from({ length: plan.pp }, () => layers / plan.pp);
}

export function stageKind(index: number, pp: number): StageKind {
  if (pp === 1) return "only";
  return index === 0 ? "first" : index === pp - 1 ? "last" : "middle";
}

/** The layers [from, to) of stage `index`: running sums of the split. */
export function stageLayerRange(split: readonly number[], index: number): [number, number] {
  let from = 0;
  for (let i = 0; i < index; i++) from += split[i]!;
  return [from, from + split[index]!];
}

/** Virtual stages (entries of a split) rank `rank` holds: with one stage per rank its own; with
 *  vpp > 1 (interleaved, zb1p) the looped placement r, r + p, r + 2p, … (torch.distributed.
 *  pipelining and torchtitan stage_ids_this_rank style "loop"; Narayanan et al. 2021 §2.2.2). */
export function rankStages(pp: number, vpp: number, rank: number): number[] {
  return Array.from({ length: vpp }, (_, j) => rank + j * pp);
}

/** Layers rank `rank` holds: the sum of its virtual stages' (even split: L/p). */
export function rankLayers(plan: Pick<Plan, "pp" | "vpp" | "stageLayers">, layers: number, rank: number): number {
  const split = plan.stageLayers;
  if (split === undefined) return layers / plan.pp;
  if (split.length === plan.pp) return split[rank]!;
  let n = 0;
  for (const g of rankStages(plan.pp, plan.vpp, rank)) n += split[g]!;
  return n;
}

/** The rank holding the most layers (ties: the later, nearer the output layer): its per-layer
 *  collectives (tensor and context parallel, the expert all-to-alls) are the step's, as its compute
 *  is where it is also the slowest (slowestStage). Even split: the last rank. */
export function busiestRank(plan: Pick<Plan, "pp" | "vpp" | "stageLayers">, layers: number): number {
  if (plan.stageLayers === undefined) return plan.pp - 1;
  let best = plan.pp - 1;
  let most = rankLayers(plan, layers, best);
  for (let r = plan.pp - 2; r >= 0; r--) {
    const n = rankLayers(plan, layers, r);
    if (n > most) [best, most] = [r, n];
  }
  return best;
}

/** Layer ranges [from, to) rank `rank` holds under a fixed split (one per virtual stage). */
export function rankRanges(plan: Pick<Plan, "pp" | "vpp" | "stageLayers">, rank: number): [number, number][] {
  const split = plan.stageLayers!;
  const stages = split.length === plan.pp ? [rank] : rankStages(plan.pp, plan.vpp, rank);
  return stages.map((g) => stageLayerRange(split, g));
}

/** What one pipeline rank holds: the layers [from, to) of each of its (virtual) stages, their
 *  count, and whether the embedding (with global stage 0) and the output layer (with the last
 *  global stage) are among them. */
export interface RankHoldings {
  ranges: [number, number][];
  layers: number;
  embedding: boolean;
  head: boolean;
}

/** The stages rank `rank` holds: with one stage per rank its own; vpp > 1 in the looped placement
 *  (rankStages: interleaved, zb1p); V schedules (zbv, dualpipev: torch
 *  generate_stage_to_rank_mapping style "v", sim/schedule.ts globalStage) stages r and 2p − 1 − r,
 *  so rank 0 holds the first and the last stage, the embedding and the output layer, and rank
 *  p − 1 the two middle ones and neither. Even split: L/(p·v) layers a virtual stage; uneven
 *  (stageLayers): the split's own (rankRanges; the rules refuse stageLayers with a V). */
export function rankHoldings(plan: Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers">, layers: number, rank: number): RankHoldings {
  const pp = plan.pp;
  if (pp === 1) return { ranges: [[0, layers]], layers, embedding: true, head: true };
  if (plan.stageLayers !== undefined) {
    const ranges = rankRanges(plan, rank);
    let n = 0;
    for (const r of ranges) n += r[1] - r[0];
    const stages = plan.stageLayers.length;
    const last = stages === pp ? rank === pp - 1 : rankStages(pp, plan.vpp, rank).includes(stages - 1);
    return { ranges, layers: n, embedding: rank === 0, head: last };
  }
  if (V_SCHEDULES.has(plan.schedule)) {
    const c = layers / (2 * pp);
    return { ranges: [[rank * c, (rank + 1) * c], [(2 * pp - 1 - rank) * c, (2 * pp - rank) * c]], layers: layers / pp, embedding: rank === 0, head: rank === 0 };
  }
  const v = plan.vpp;
  const c = layers / (pp * v);
  // (rankStages' stages r + j·p, without its array: the search asks this of every layout)
  const ranges: [number, number][] = [];
  for (let j = 0; j < v; j++) ranges.push([(rank + j * pp) * c, (rank + j * pp + 1) * c]);
  return { ranges, layers: layers / pp, embedding: rank === 0, head: rank === pp - 1 };
}

/** rankHoldings without the ranges (for a dense model, whose layers are all alike, nothing reads
 *  them): the same layers, embedding and head, and no array for an even split. The search asks
 *  this of every layout it prices; the ranges were a fifth of its allocation (issue 11, start-up). */
export function rankHeld(plan: Pick<Plan, "pp" | "vpp" | "schedule" | "stageLayers">, layers: number, rank: number): Omit<RankHoldings, "ranges"> {
  const pp = plan.pp;
  if (pp === 1) return { layers, embedding: true, head: true };
  if (plan.stageLayers !== undefined) {
    const h = rankHoldings(plan, layers, rank);
    return { layers: h.layers, embedding: h.embedding, head: h.head };
  }
  if (V_SCHEDULES.has(plan.schedule)) return { layers: layers / pp, embedding: rank === 0, head: rank === 0 };
  return { layers: layers / pp, embedding: rank === 0, head: rank === pp - 1 };
}

/** Which of a stage's ends rank `rank` holds, as stageParamSplit names them: both ("only"), the
 *  embedding ("first"), the output layer ("last") or neither ("middle"). */
export function holdingsKind(h: Pick<RankHoldings, "embedding" | "head">): StageKind {
  return h.embedding ? (h.head ? "only" : "first") : h.head ? "last" : "middle";
}

/** The slowest rank of a pipeline: per micro-batch, its layers' forward and backward (with vpp > 1
 *  the sum over its virtual stages, rankLayers) plus, on the rank of the last (virtual) stage, the
 *  output layer's (the embedding lookup is memory-bound and small: the closed form leaves it out,
 *  cost/time.ts). A pipeline advances at the pace of its slowest rank: every micro-batch passes
 *  through it, and the 1F1B bubble is (p−1) of its F+B (Narayanan et al. 2021 §2.2, whose t_f, t_b
 *  are per stage; formulas.md "Pipeline bubble"). In the looped placement the last virtual stage
 *  sits on rank p−1. Ties go to the later rank, so an even split keeps the last, as before. */
export function slowestStage(
  plan: Pick<Plan, "pp" | "stageLayers"> & Partial<Pick<Plan, "vpp">>,
  layers: number,
  perLayer: number,
  head: number,
): { index: number; layers: number; withHead: boolean } {
  // Even split: every stage alike, the last (with the output layer) the slowest — no array (the
  // search calls this for every plan it prices).
  if (plan.stageLayers === undefined) return { index: plan.pp - 1, layers: layers / plan.pp, withHead: true };
  const p = { pp: plan.pp, vpp: plan.vpp ?? 1, stageLayers: plan.stageLayers };
  const last = rankLayers(p, layers, plan.pp - 1);
  let best = { index: plan.pp - 1, layers: last, withHead: true };
  let bestTime = last * perLayer + head;
  for (let i = plan.pp - 2; i >= 0; i--) {
    const n = rankLayers(p, layers, i);
    if (n * perLayer > bestTime) {
      bestTime = n * perLayer;
      best = { index: i, layers: n, withHead: false };
    }
  }
  return best;
}

/** Micro-batches whose activations stage `index` holds at its peak, one stage per rank (the only
 *  case with uneven stages: vpp = 1):
 *  - GPipe (Huang et al. 2019): all m forwards before any backward → m on every stage;
 *  - 1F1B (Narayanan et al. 2021 §2.2.1): stage k runs p−k−1 warm-up forwards plus one in steady
 *    state → min(p − k, m): p on the first stage, 1 on the last (cost/pipeline.ts, cost/memory.ts);
 *  - zb1p with one chunk per rank: rank k delays its W by k steps, so every rank holds min(p, m)
 *    (cost/pipeline.ts inFlightLayers and memory.ts). */
export function inFlightMicroBatches(schedule: Schedule, pp: number, index: number, microBatches: number): number {
  if (pp === 1) return 1;
  if (schedule === "gpipe") return microBatches;
  if (schedule === "zb1p") return Math.min(pp, microBatches);
  return Math.min(pp - index, microBatches);
}

/** Micro-batches rank `rank` holds of each of its virtual stages at its peak (rankStages order),
 *  vpp > 1 in the looped placement:
 *  - interleaved 1F1B (Narayanan et al. 2021 §2.2.2; Megatron-LM's and torch's
 *    ScheduleInterleaved1F1B order): rank r runs (v−1)·p + 2(p−1−r) warm-up forwards plus one in
 *    steady state, N = min(m·v, (v−1)·p + 2(p−1−r) + 1), cycling its chunks in groups of p
 *    micro-batches (forward i on local chunk ⌊(i mod p·v)/p⌋). All N are held when its first
 *    backward starts: the peak with equal chunks (cost/pipeline.ts inFlightLayers: rank 0 holds
 *    p·v + p − 1 chunks, rank p−1 (v−1)·p + 1); with unequal chunks the steady state swaps a
 *    forward of one chunk for a backward of another, which this count at the end of warm-up leaves
 *    out (an approximation: it can miss a chunk's difference in layers).
 *  - zb1p: every chunk's activations stay until its W, min(p, m) micro-batches of each
 *    (cost/pipeline.ts inFlightLayers: v·min(p, m) chunks).
 *  With vpp 1: [inFlightMicroBatches]. */
export function inFlightPerChunk(schedule: Schedule, pp: number, vpp: number, rank: number, microBatches: number): number[] {
  if (vpp === 1) return [inFlightMicroBatches(schedule, pp, rank, microBatches)];
  if (schedule === "zb1p") return Array.from({ length: vpp }, () => Math.min(pp, microBatches));
  const n = Math.min(microBatches * vpp, (vpp - 1) * pp + 2 * (pp - 1 - rank) + 1);
  // The i-th forward (i < n) is of chunk ⌊(i mod p·v)/p⌋: per chunk, p per full round of p·v
  // forwards and what the last, partial round reaches (closed form: a loop over n made this
  // O(p²·v) over a split's ranks, 13 of 20 s for 10,000 layers on 1,048,576 GPUs).
  const rounds = Math.floor(n / (pp * vpp));
  const rest = n - rounds * pp * vpp;
  return Array.from({ length: vpp }, (_, j) => rounds * pp + Math.min(pp, Math.max(0, rest - j * pp)));
}

/** The form "first, middle…equal, last" of a split (Megatron-Core's uneven pipeline: one count for
 *  the first stage, one for the last, the rest even), or null. Middle stages exist only with pp ≥ 3;
 *  with pp = 2 both are given. */
export function firstMiddleLast(split: readonly number[]): { first: number; middle: number | null; last: number } | null {
  const n = split.length;
  if (n < 2) return null;
  const middle = split.slice(1, -1);
  if (middle.some((x) => x !== middle[0])) return null;
  return { first: split[0]!, middle: middle[0] ?? null, last: split[n - 1]! };
}

/** Parse "a,b,…" into positive integers; null when any entry is not one. */
export function parseStageLayers(text: string): number[] | null {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => !/^\d+$/.test(s))) return null;
  const out = parts.map(Number);
  return out.every((x) => Number.isSafeInteger(x) && x >= 0) ? out : null;
}

/** How the fullest stage is named in the plan's text: "first pipeline stage", "last …", or
 *  "pipeline stage k of p" for a middle stage of an uneven split (1-based, as the split is listed). */
export function worstStageName(p: { worstStage: StageKind; worstStageIndex?: number; pp: number }, noun: string): string {
  if (p.worstStage === "middle" && p.worstStageIndex !== undefined) return `${noun} ${p.worstStageIndex + 1} of ${p.pp}`;
  return `${p.worstStage} ${noun}`;
}

/** torchtitan's split when none is given (generate_split_points, torchtitan 9dec370
 *  torchtitan/parallelisms/pipelining_utils.py): ⌊L/S⌋ layers on the first stage, one more on each
 *  middle stage while the remainder lasts, the rest on the last — the extra layers away from the
 *  embedding and the loss. 126 layers on 8 stages: [15, 16, 16, 16, 16, 16, 16, 15]. */
export function middleHeavySplit(layers: number, stages: number): number[] {
  const base = Math.floor(layers / stages);
  let extra = layers % stages;
  const out: number[] = [base];
  for (let i = 1; i < stages - 1; i++) {
    const n = extra > 0 ? base + 1 : base;
    if (extra > 0) extra--;
    out.push(n);
  }
  if (stages > 1) out.push(layers - out.reduce((a, b) => a + b, 0));
  return out;
}

/** How a stack splits L layers over p stages when p does not divide them (EngineSupports.stageSplit):
 *  - "middle-heavy": torchtitan's generate_split_points (middleHeavySplit);
 *  - "first-last": Megatron-Core's --decoder-first/last-pipeline-num-layers (firstLastSplit);
 *  - "first-heavy": DeepSpeed's PipelineModule partition_method "type:transformer" under the
 *    partition_balanced of DeepSpeed ≤ 0.12.4 (firstHeavySplit), as Megatron-DeepSpeed builds it;
 *  - "min-spread": the same under DeepSpeed 0.12.5 and later, whose partition_balanced finds the
 *    smallest spread (deepspeed-016-split.ts): ⌈L/p⌉ on the first L mod p stages, ⌊L/p⌋ after;
 *  - "even": the stack asserts that p divides L (Megatron-LM v2.6): no uneven split. */
export type StageSplit = "middle-heavy" | "first-last" | "first-heavy" | "min-spread" | "even";
export const STAGE_SPLITS: readonly StageSplit[] = ["middle-heavy", "first-last", "first-heavy", "min-spread", "even"];

/** Megatron-Core's uneven split: ⌈L/p⌉ layers on every middle stage (they divide evenly, as
 *  validate_args requires) and what remains, r = L − (p − 2)·⌈L/p⌉ ≤ 2⌈L/p⌉, on the first and the
 *  last — the last, which also holds the output layer and the loss, the lighter: ⌈r/2⌉ and ⌊r/2⌋
 *  (--decoder-first-pipeline-num-layers / --decoder-last-pipeline-num-layers, megatron/training/
 *  arguments.py and transformer_block.py get_num_layers_to_build @ core_r0.14). The slowest stage
 *  holds ⌈L/p⌉, as in any split. 126 layers on 12 stages: [8, 11 × 10, 8]. Null where r < 2 (a
 *  first or last stage without layers): the middle-heavy split stands in. */
export function firstLastSplit(layers: number, stages: number): number[] | null {
  if (stages < 2) return null;
  const middle = Math.ceil(layers / stages);
  const rest = layers - (stages - 2) * middle;
  if (rest < 2) return null;
  const first = Math.ceil(rest / 2);
  return [first, ...Array.from({ length: stages - 2 }, () => middle), rest - first];
}

/** Megatron-DeepSpeed's split (partition_method "type:transformer", GPTModelPipe in megatron/model/
 *  gpt_model.py: only the transformer layers weigh) under DeepSpeed ≤ 0.12.4's partition_balanced
 *  over GPTModelPipe's L + 7 specs (gpt-model-pipe.ts typeSplit). Mostly ⌈L/p⌉ a stage from the
 *  first, the last taking what is left — 70 layers on 12 stages: [6 × 11, 4] — but not always:
 *  the probe's bucketed search puts 64 on 9 as [7 × 8, 8] and 4 on 3 as [1, 1, 2]. Null where a stage
 *  gets no layer (9 on 4: [3, 3, 3, 0]): DeepSpeed's pipeline needs a transformer layer on every
 *  stage (the caveat in GPTModelPipe). */
export function firstHeavySplit(layers: number, stages: number): number[] | null {
  const split = typeSplit(layers, stages, 0);
  return split !== null && split.every((n) => n >= 1) ? split : null;
}

/** The split a plan gets when pp does not divide the layers and none is given (issue 12: "pp no
 *  longer has to divide the layers", with the embedding and the loss where the engine puts them):
 *  the engine's own (StageSplit). Megatron-Core and torchtitan keep the first (embedding) and the
 *  last (output layer and loss) stages lighter — Llama 3 405B trained its 126 layers on 16 stages
 *  with one layer fewer on the first and the last (Llama 3 paper §3.3.2) — and DeepSpeed fills the
 *  stages from the first. Undefined where the even split holds, where pp exceeds the layers (rule
 *  pp_layers), where the stack runs even splits only, and where its split leaves a stage empty. */
export function defaultStageLayers(layers: number, pp: number, how: StageSplit): number[] | undefined {
  if (pp <= 1 || pp > layers || layers % pp === 0 || how === "even") return undefined;
  if (how === "first-last") return firstLastSplit(layers, pp) ?? middleHeavySplit(layers, pp);
  if (how === "first-heavy") return firstHeavySplit(layers, pp) ?? undefined;
  // (GPTModelPipe's MoE-loss spec moves no split with a layer on every stage: the test checks it)
  if (how === "min-spread") return deepspeed016Split(layers, pp, false) ?? undefined;
  return middleHeavySplit(layers, pp);
}

/** Megatron-Core's split of L layers over p ranks of v virtual stages each when p·v does not divide
 *  them: --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split count
 *  the embedding and the loss as a layer each, the L + 2 units split evenly over the p·v virtual
 *  stages, and the first virtual stage (rank 0's first chunk) and the last (rank p−1's last) build
 *  one transformer layer fewer (transformer_block.py get_num_layers_to_build @ core_r0.14; the
 *  flags date from core_r0.11). In model order, stage v·p + r on rank r (rankStages). Llama 3 405B's
 *  126 layers on 16 ranks of 4: [1, 2 × 62, 1]. Null where p·v does not divide L + 2, where a virtual
 *  stage would keep no layer (the unit alone), with v = 1 (defaultStageLayers) and where the even
 *  split holds. */
export function accountedVirtualSplit(layers: number, pp: number, vpp: number): number[] | null {
  if (pp < 2 || vpp < 2 || layers % (pp * vpp) === 0) return null;
  const stages = pp * vpp;
  const units = layers + 2;
  if (units % stages !== 0 || units / stages < 2) return null;
  const u = units / stages;
  return [u - 1, ...Array.from({ length: stages - 2 }, () => u), u - 1];
}

/** Megatron-Core's --decoder-first/last-pipeline-num-layers with virtual stages: rank 0 builds
 *  `first` layers, rank p − 1 `last`, each middle rank (L − first − last)/(p − 2), and each rank cuts
 *  its layers evenly into its v chunks (transformer_block.py get_num_layers_to_build; TransformerConfig
 *  requires v to divide each rank's count, @ core_r0.14). The p·v virtual stages in model order
 *  (stage j·p + r on rank r). Null where a count does not divide or a stage would be empty. */
export function firstLastVirtualSplit(layers: number, pp: number, vpp: number, first: number, last: number): number[] | null {
  if (pp < 2 || vpp < 2) return null;
  const rest = layers - first - last;
  const middle = pp > 2 ? rest / (pp - 2) : 0;
  if (first < vpp || last < vpp || first % vpp !== 0 || last % vpp !== 0 || (pp > 2 ? !Number.isInteger(middle) || middle < vpp || middle % vpp !== 0 : rest !== 0)) return null;
  const perRank = (r: number) => (r === 0 ? first : r === pp - 1 ? last : middle) / vpp;
  return Array.from({ length: pp * vpp }, (_, g) => perRank(g % pp));
}

/** The per-rank totals of a p·v split in firstLastVirtualSplit's form (each rank's chunks equal, the
 *  middle ranks alike), or null. */
export function firstLastOfVirtual(split: readonly number[], pp: number, vpp: number): { first: number; last: number } | null {
  if (pp < 2 || vpp < 2 || split.length !== pp * vpp) return null;
  for (let g = pp; g < split.length; g++) if (split[g] !== split[g % pp]) return null;
  for (let r = 2; r < pp - 1; r++) if (split[r] !== split[1]) return null;
  return { first: split[0]! * vpp, last: split[pp - 1]! * vpp };
}

/** The default split of virtual stages (vpp > 1) when p·v does not divide the layers: Megatron-Core's
 *  accounted split (accountedVirtualSplit) for a stack that splits "first-last"; none for the others
 *  (torchtitan's and DeepSpeed's are not modelled with virtual stages: a split is given, or p·v
 *  divides L). */
export function defaultVirtualStageLayers(layers: number, pp: number, vpp: number, how: StageSplit): number[] | undefined {
  // (only where pp does not divide the layers, as the one-stage-a-rank default: where it does, the
  // search's virtual stages are the even ones, space.ts vppCandidates)
  if (how !== "first-last" || layers % pp === 0) return undefined;
  return accountedVirtualSplit(layers, pp, vpp) ?? undefined;
}

/** Virtual stages per rank with a default split (defaultVirtualStageLayers), ascending: the v ≥ 2
 *  for which one exists. */
export function virtualSplitVpps(layers: number, pp: number, how: StageSplit): number[] {
  if (how !== "first-last" || pp < 2 || layers % pp === 0 || (layers + 2) % pp !== 0) return [];
  const perRank = (layers + 2) / pp;
  const out: number[] = [];
  for (let v = 2; v <= perRank; v++) if (perRank % v === 0 && accountedVirtualSplit(layers, pp, v) !== null) out.push(v);
  return out;
}

/** A stage split in words, three or more equal neighbours as one run: [7,8,…,8,7] → "7,8×14,7". */
export function splitLabel(split: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < split.length; ) {
    let j = i;
    while (j < split.length && split[j] === split[i]) j++;
    const n = j - i;
    out.push(...(n >= 3 ? [`${split[i]}×${n}`] : split.slice(i, j).map(String)));
    i = j;
  }
  return out.join(",");
}

/** The default splits a searched pp gets, as [vpp, split] pairs (the search, and its chunks in
 *  src/ui/core/search-job.ts): with a fixed vpp > 1 that vpp's (defaultVirtualStageLayers); else one
 *  stage per rank (defaultStageLayers) and, beside an uneven one with vpp searched, each v whose
 *  virtual stages the stack splits (virtualSplitVpps). An undefined split: the even one. */
export function defaultSplits(layers: number, pp: number, fixedVpp: number | undefined, how: StageSplit): [number, number[] | undefined][] {
  if ((fixedVpp ?? 1) > 1) return [[fixedVpp!, defaultVirtualStageLayers(layers, pp, fixedVpp!, how)]];
  const one = defaultStageLayers(layers, pp, how);
  if (one === undefined || fixedVpp !== undefined) return [[1, one]];
  return [[1, one], ...virtualSplitVpps(layers, pp, how).map((v): [number, number[] | undefined] => [v, defaultVirtualStageLayers(layers, pp, v, how)])];
}

/** How the assumptions line names a default split. */
export function stageSplitPhrase(how: StageSplit): string {
  if (how === "first-heavy") return "DeepSpeed ≤ 0.12.4's partition_balanced, the heavier first";
  if (how === "min-spread") return "DeepSpeed 0.16 balances the stages, the heavier first";
  if (how === "middle-heavy") return "torchtitan's generate_split_points, ⌊L/p⌋ on the first stage and one more on each next while the remainder lasts";
  return "Megatron-Core's --decoder-first/last-pipeline-num-layers, ⌈L/p⌉ on the middle stages and the rest on the first and the last";
}
