// The ranked table's view-model: sorting, filters, the visible window of rows, and the status,
// filter and rejection lines. Every figure comes from the planner's PlanResult.
import { DEFAULT_CP_COMM, type PlanResult, REJECTION_CODES, type RejectionCode, type RejectionCounts, comparePlans } from "../../../planner/index.js";
import { EAGER_WORDS, compiledColumn, describePlan } from "../../format/plan-text.js";
import { type DepthEvery, depthEvery } from "../../format/recompute-depth.js";
import { modelEagerReasonOf } from "../../../planner/eager.js";
import { compact, count, gib, percent, seconds } from "../../format/units.js";
import { fit } from "./bars.js";
import { firstLines, wrapText } from "./frame.js";
import { planKey } from "./frontier.js";
import type { SearchProgress } from "./search-job.js";
import type { Session } from "./setup.js";
import { FILTER_DIMS, type FilterDim, type Filters, type PlanTable, type SortKey } from "./state.js";

const ORDER: Record<SortKey, (a: PlanResult, b: PlanResult) => number> = {
  throughput: comparePlans,
  memory: (a, b) => a.memory.total - b.memory.total || comparePlans(a, b),
  mfu: (a, b) => b.mfu - a.mfu || comparePlans(a, b),
};

export const SORT_LABEL: Record<SortKey, string> = { throughput: "throughput", memory: "memory per GPU", mfu: "MFU" };

export function sortPlans(plans: readonly PlanResult[], key: SortKey): PlanResult[] {
  return [...plans].sort(ORDER[key]);
}

export function filterPlans(plans: readonly PlanResult[], f: Filters): PlanResult[] {
  const active = FILTER_DIMS.filter((d) => f[d] !== undefined);
  if (active.length === 0) return [...plans];
  return plans.filter((p) => active.every((d) => p[d] === f[d]));
}

/** The table for these plans, order and filters: `last` when it was computed for the same ones
 *  (the state keeps it, src/ui/core/reducer.ts), else computed: filtered, then sorted. */
export function planTable(plans: readonly PlanResult[], sort: SortKey, f: Filters, last: PlanTable | null): PlanTable {
  const key = `${sort}|${JSON.stringify(f)}`;
  if (last && last.plans === plans && last.key === key) return last;
  return { plans, key, rows: sortPlans(filterPlans(plans, f), sort) };
}

/** The plans of the table, in order: filtered, then sorted. */
export function visiblePlans(plans: readonly PlanResult[], sort: SortKey, f: Filters): PlanResult[] {
  return planTable(plans, sort, f, null).rows;
}

/** The values a filter can take: those present among the feasible plans, ascending. */
export function filterValues(plans: readonly PlanResult[], dim: FilterDim): (number | string)[] {
  const seen = new Set<number | string>(plans.map((p) => p[dim]));
  const order = ["none", "selective", "full"];
  return [...seen].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : order.indexOf(String(a)) - order.indexOf(String(b))));
}

/** The next value of one filter: any → each value present among the plans the other filters
 *  keep → any (a value no filtered plan has would show an empty table). */
export function cycleFilter(plans: readonly PlanResult[], f: Filters, dim: FilterDim): Filters {
  const others: Filters = { ...f };
  delete others[dim];
  const values = filterValues(filterPlans(plans, others), dim);
  const at = f[dim] === undefined ? -1 : values.indexOf(f[dim]!);
  const next = values[at + 1];
  const out: Filters = { ...f };
  if (next === undefined) delete out[dim];
  else (out as Record<FilterDim, unknown>)[dim] = next;
  return out;
}

const SCHEDULE = { "1f1b": "1F1B", gpipe: "GPipe", interleaved: "int", zb1p: "ZB1P", zbv: "ZBV", dualpipev: "DPV" } as const;
const RECOMPUTE = { none: "none", selective: "sel", full: "full" } as const;

export const COLUMNS = ["#", "tp", "pp", "dp", "Z", "mb", "recomp", "sp", "sched", "mem/GPU", "cap", "step", "tokens/s", "MFU"];
const RIGHT = [true, true, true, true, true, true, false, false, false, true, true, true, true, true];

/** The pp cell: "16", or "16*" where the stages hold different numbers of layers (the split,
 *  "3,4×14,2", is the detail's: `plan`'s "16 [3,4×14,2]" would widen the column past 60 columns). */
export const ppCell = (p: PlanResult): string => (p.stageLayers ? `${p.pp}*` : String(p.pp));

/** The help's note on the mark. */
export const UNEVEN_NOTE = "pp 16*: uneven pipeline stages (their layers differ); Enter: the detail names the split";
/** What the recompute column's "blk N" means (Plan.recomputeLayers). */
export const BLOCK_NOTE = "blk4: full recompute of each stage's first 4 layers only, the others keep their activations (Megatron's --recompute-method block); ev8: of every 8th layer (torchtitan's selective_ac_option \"8\")";

/** `every`: how the engine runs a depth (src/format/recompute-depth.ts; absent: each stage's first N). */
export function planCells(p: PlanResult, rank: number, every?: DepthEvery): string[] {
  const n = every?.(p);
  return [
    String(rank),
    String(p.tp),
    ppCell(p),
    String(p.dp),
    String(p.zero),
    String(p.microBatch),
    p.recomputeLayers !== undefined ? (n !== undefined ? `ev${n}` : `blk${p.recomputeLayers}`) : RECOMPUTE[p.recompute],
    p.sequenceParallel ? "SP" : "",
    p.pp === 1 ? "-" : p.schedule === "interleaved" || (p.schedule === "zb1p" && p.vpp > 1) ? `${SCHEDULE[p.schedule]}×${p.vpp}` : SCHEDULE[p.schedule],
    gib(p.memory.total),
    percent(p.memory.total / p.memory.capacity, 0),
    seconds(p.time.step),
    count(p.tokensPerSecond),
    percent(p.mfu),
  ];
}

export interface TableView {
  header: string;
  rows: { text: string; index: number; selected: boolean }[];
  /** "rows 11–20 of 5,424" when the list is longer than the window. */
  position: string;
}

/** The expert-parallel cell after dp: "8", or "4×2" with expert tensor parallel. */
export const expertCell = (p: PlanResult): string => (p.etp > 1 ? `${p.ep}×${p.etp}` : String(p.ep));

/** The context-parallel cell after tp: "1", or "16 ring" / "16 ag" / "16 a2a" (and "c" for
 *  contiguous chunks). */
export const cpShortCell = (p: PlanResult): string =>
  p.cp > 1 ? `${p.cp} ${CP_SHORT[p.cpComm ?? DEFAULT_CP_COMM]}${p.cpSplit === "contiguous" ? " c" : ""}` : "1";
const CP_SHORT = { allgather: "ag", ring: "ring", a2a: "a2a" } as const;

/** Columns left out, in this order, where the table is wider than the screen: the step, tokens/s
 *  and MFU stay (QA: at 60 columns the header ended "tokens…"); "comp" goes last (the eager line
 *  above the table still says which plans run eager). */
const DROPPABLE = ["sp", "cap", "recomp", "sched", "mb", "comp"];

/** The "comp" cell: whether an engine that compiles runs this plan compiled ("yes") or eager,
 *  priced with its eager engine ("no"): the planner's `eager` (planner/eager.ts), as `plan`'s
 *  "compiled" column says it (src/format/plan-text.ts plansTable). */
export const compiledCell = (p: PlanResult): string => (p.eager ? "no" : "yes");

/** A window of `height` rows around the cursor, columns padded to their widest cell, those in
 *  DROPPABLE left out while the row is wider than `width`. With `experts` (a MoE model) an "ep"
 *  column follows dp; with `cp` (some plan uses context parallel) a "cp" column follows tp; with
 *  `compiled` (an engine that runs some plans eager: tableFlags) a "comp" column follows sched. */
export function tableView(plans: readonly PlanResult[], cursor: number, height: number, experts = plans.some((p) => p.ep > 1 || p.etp > 1), cp = plans.some((p) => p.cp > 1), width = Infinity, compiled = false, every?: DepthEvery): TableView {
  const n = plans.length;
  const h = Math.max(1, height);
  const first = Math.max(0, Math.min(cursor - Math.floor(h / 2), n - h));
  const shown = plans.slice(first, first + h);
  const withEp = <T>(r: T[], ep: T) => (experts ? [...r.slice(0, 4), ep, ...r.slice(4)] : r);
  const withCp = <T>(r: T[], c: T) => (cp ? [...r.slice(0, 2), c, ...r.slice(2)] : r);
  // (after the schedule, where `plan`'s table has its "compiled")
  const at = COLUMNS.indexOf("sched") + 1;
  const withComp = <T>(r: T[], c: T) => (compiled ? [...r.slice(0, at), c, ...r.slice(at)] : r);
  const columns = withCp(withEp(withComp(COLUMNS, "comp"), "ep"), "cp");
  const right = withCp(withEp(withComp(RIGHT, false), true), true);
  const cells = shown.map((p, i) => withCp(withEp(withComp(planCells(p, first + i + 1, every), compiledCell(p)), expertCell(p)), cpShortCell(p)));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j]!.length)));
  // Columns joined by one space: their widths plus one a column, less one.
  const kept = new Set(columns.map((_, j) => j));
  const wide = () => [...kept].reduce((a, j) => a + widths[j]! + 1, -1);
  for (const name of DROPPABLE) {
    if (wide() <= width) break;
    kept.delete(columns.indexOf(name));
  }
  const line = (r: string[]) => r.flatMap((c, j) => (kept.has(j) ? [right[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)] : [])).join(" ").trimEnd();
  return {
    header: line(columns),
    rows: cells.map((r, i) => ({ text: line(r), index: first + i, selected: first + i === cursor })),
    position: n > h ? `rows ${first + 1}–${first + shown.length} of ${count(n)}` : "",
  };
}

export function requestLine(s: Session): string {
  const { model: m, training: t, hw } = s.request;
  return `${m.name} · ${count(t.gpus)} × ${hw.gpuName} (${count(s.nodes)} × ${s.perNode}) · batch ${count(t.globalBatch)} × ${count(t.seqLen)}`;
}

/** The engine and where the request stands against its calibration runs, wrapped over at most
 *  two lines of its own (QA: on the status line it was cut at 80 columns, gone at 60). */
export function engineLines(s: Session, width: number): string[] {
  const note = calibrationNote(s);
  return firstLines(wrapText(`engine ${s.request.training.engine.name}${note ? `: ${note}` : ""}`, width), 2, width);
}

/** The engine whose figures price the request's plans, and whose calibration standing it has: the
 *  engine's eager engine where it runs every plan of this model eager (planner/eager.ts
 *  modelEagerReasonOf: paraplan-compile and a mixture of experts → paraplan, as src/plan-request.ts
 *  stands the request), else the engine itself. */
export function pricingEngine(s: Session): string {
  const { training: t, model } = s.request;
  const f = t.engine.eager;
  return f !== undefined && modelEagerReasonOf(f.when, model) !== null ? (f.engine?.name ?? f.name) : t.engine.name;
}

/** Which plans the engine runs eager and prices with its eager engine, as `plan`'s header says it
 *  under the engine (src/format/plan-text.ts eagerNote) in fewer words, over at most two lines:
 *  every plan (a mixture of experts), or those the "comp" column says "no" of; none for an engine
 *  that runs every plan as profiled. */
export function eagerLines(s: Session, width: number): string[] {
  const { training: t, model } = s.request;
  const f = t.engine.eager;
  if (f === undefined) return [];
  const name = f.engine?.name ?? f.name;
  const text =
    modelEagerReasonOf(f.when, model) !== null
      ? `runs every plan eager (${EAGER_WORDS["mixture-of-experts"]}): priced with engine ${name}`
      : compiledColumn(s.request)
        ? `comp no: runs eager (${f.when.filter((c) => c !== "mixture-of-experts").map((c) => EAGER_WORDS[c]).join(", ")}), priced with engine ${name}`
        : null;
  return text === null ? [] : firstLines(wrapText(text, width), 2, width);
}

export interface ResultsLayout {
  request: string;
  engine: string[];
  /** What the engine runs eager (eagerLines), under the engine's lines. */
  eager: string[];
  /** Whether the table has the "comp" column (as `plan`'s has "compiled"). */
  compiled: boolean;
  /** How the engine runs a plan's depth (every N-th layer on torchtitan: "evN"), or absent. */
  every?: DepthEvery;
  status: string;
  /** Rows left to the table (or the empty-table text) under the lines around it. */
  tableRows: number;
}

/** The results screen's lines around the table in `width` × `height`: request, engine and
 *  calibration, what runs eager, status, sort/filter, the table's header and the rejections. */
export function resultsLayout(s: Session, search: SearchProgress, width: number, height: number): ResultsLayout {
  const engine = engineLines(s, width);
  const eager = eagerLines(s, width);
  const every = depthEvery(s.request.training.engine, s.request.model.layers);
  return { request: fit(requestLine(s), width), engine, eager, compiled: compiledColumn(s.request), ...(every ? { every } : {}), status: fit(statusLine(search), width), tableRows: Math.max(1, height - 5 - engine.length - eager.length) };
}

/** The request against the published runs its engine was fitted on (src/calibration-standing.ts),
 *  for the status line: "" inside them. */
export function calibrationNote(s: Session): string {
  const c = s.request.calibration;
  if (c === undefined) return "";
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  // (the paraplan engines: what the worker's own runs showed, calibration-standing.ts ownRunsWords)
  const o = c.ownRuns?.fitted;
  const own = o ? `; ${pct(o.mean)} off on its own ${o.runs === 1 ? "run" : `${o.runs} runs`}${c.outside.length > 0 ? ` (beyond ${o.runs === 1 ? "it" : "them"} here: ${c.outside.map((o) => o.words).join("; ")})` : ""}` : "";
  // (the standing is the pricing engine's: paraplan's for a mixture of experts under paraplan-compile)
  if (c.runs === 0) return `no published run calibrates engine ${pricingEngine(s)}${own}`;
  // Outside: how far, and what runs nothing was fitted to showed where the engine has such
  // (megatron-core: NVIDIA's NeMo tables; calibration-standing.ts validationWords says it whole).
  if (c.outside.length > 0) return `beyond the calibration runs: ${c.outside.map((o) => o.words).join("; ")}${c.validation ? `; ${pct(c.validation.mean)} off out of sample` : ""}`;
  // Inside: the error to expect, as the runs showed it (profiles/calibration.json).
  return c.accuracy ? `within the calibration runs: step time off by ${pct(c.accuracy.mean)} on average there, ${pct(c.accuracy.losoMean)} fitted without a run's source` : "";
}

export function statusLine(p: SearchProgress, calibration = ""): string {
  const time = seconds(p.elapsedMs / 1000);
  const counts = `${count(p.searched)} searched · ${count(p.feasible)} feasible`;
  if (!p.done && p.chunksDone === 0) return "searching…";
  return (p.done ? `done in ${time}: ${counts}` : `searching… ${p.chunksDone}/${p.chunksTotal} · ${counts} · ${time}`) + (calibration ? ` · ${calibration}` : "");
}

/** The sort and filter line with the table's position ("rows 1–13 of 15") at its right end, in
 *  `width` columns: the filters cut ("…") where both do not fit, the position whole. */
export function sortLine(sort: SortKey, f: Filters, shown: number, total: number, position: string, width: number): string {
  const text = filterLine(sort, f, shown, total);
  if (position === "") return fit(text, width);
  const left = fit(text, Math.max(1, width - position.length - 1));
  return `${left}${" ".repeat(Math.max(1, width - left.length - position.length))}${position}`;
}

export function filterLine(sort: SortKey, f: Filters, shown: number, total: number): string {
  const active = FILTER_DIMS.filter((d) => f[d] !== undefined).map((d) => `${d === "zero" ? "ZeRO" : d} ${f[d]}`);
  const filters = active.length ? `filter ${active.join(", ")} (${count(shown)} of ${count(total)})` : "no filter";
  return `sort: ${SORT_LABEL[sort]} · ${filters}`;
}

/** Short names of the rejection codes, one for every code (the type keeps it whole: QA saw the
 *  raw cp_heads); the `?` legend gives each its reason. */
export const REJECTION_SHORT: Record<RejectionCode, string> & Record<string, string | undefined> = {
  tp_gpus: "tp∤GPUs",
  tp_heads: "tp∤heads",
  tp_kv_heads: "tp∤kv-heads",
  tp_spans_nodes: "tp>node",
  cp_gpus: "cp∤GPUs",
  cp_seq: "cp∤sequence",
  cp_moe: "cp with MoE",
  cp_heads: "cp∤heads of a tp rank",
  pp_gpus: "pp∤GPUs",
  pp_layers: "pp∤layers",
  stage_layers_count: "stage-layers count",
  stage_layers_min: "empty stage",
  stage_layers_sum: "stage-layers sum",
  dp_gpus: "dp∤GPUs",
  batch_dp: "dp∤batch",
  degrees_divide: "degrees∤GPUs",
  degrees_world: "degrees≠GPUs",
  expert_fold: "ep·etp∤tp·cp·dp",
  ep_experts: "ep∤experts",
  etp_dense: "etp without MoE",
  etp_ffn: "etp∤expert width",
  vpp_needs_pp: "vpp without pp",
  vpp_layers: "vpp∤layers",
  stage_layers_vpp: "uneven stages with vpp",
  stage_layers_v: "uneven V stages",
  schedule_vpp: "interleaved⇔vpp>1",
  v_schedule_vpp: "V needs vpp 2",
  v_schedule_layers: "2pp∤layers (V)",
  schedule_needs_pp: "schedule without pp",
  microbatch_global: "mb∤global batch",
  microbatch_batch: "mb∤batch",
  sp_needs_tp: "SP without tp",
  sp_seq: "tp∤seq (SP)",
  tp_overlap_sp: "tp overlap without SP",
  moe_tp_sp: "MoE tp without SP",
  moe_tp: "MoE needs tp 1 here",
  qk_norm_tp: "full QK norm needs tp 1 here",
  moe_fp16_ep: "fp16 expert parallel",
  moe_fp16_local_experts: "fp16 local experts",
  interleaved_microbatches: "pp∤micro-batches",
  zb1p_microbatches: "rounds∤micro-batches",
  dualpipev_microbatches: "micro-batches<2pp",
  recompute_layers: "depth≥stage",
  recompute_every: "no every-N depth",
  out_of_memory: "out of memory",
};

export const shortReason = (c: string): string => REJECTION_SHORT[c] ?? c;

/** One line: the rejected configurations by reason, most first, cut to the width. */
export function rejectionLine(r: RejectionCounts, width: number): string {
  const entries = (Object.entries(r) as [RejectionCode, number][]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return "rejected: none";
  const full = `rejected: ${entries.map(([c, n]) => `${compact(n)} ${shortReason(c)}`).join(", ")}`;
  return full.length <= width ? full : `${full.slice(0, Math.max(0, width - 1))}…`;
}

/** The legend of the rejection line (for the key help): the given codes, or all of them. */
export const rejectionLegend = (codes: readonly string[] = Object.keys(REJECTION_CODES)): string[] =>
  (Object.keys(REJECTION_CODES) as RejectionCode[]).filter((c) => codes.includes(c)).map((c) => `${shortReason(c)}: ${REJECTION_CODES[c]}`);

/** What the table says when it has no row: still searching, nothing fits, or nothing valid. */
export function emptyLines(p: SearchProgress, width: number): string[] {
  if (!p.done) return ["searching…"];
  const c = p.closest;
  if (c) {
    const over = c.memory.total / c.memory.capacity - 1;
    return [
      "No plan fits in memory.",
      fit(`The closest, ${describePlan(c)},`, width),
      fit(`needs ${gib(c.memory.total)} per GPU, ${percent(over)} over the ${gib(c.memory.capacity)} capacity.`, width),
      "Add GPUs, raise recompute or ZeRO, or use a GPU with more memory (b: back to the setup).",
    ];
  }
  return ["No valid configuration for this setup (see the rejections below); change it (b: back)."];
}

/** "#3 of 5,424 by throughput" — where a plan stands in the table as sorted and filtered. */
export function rankLine(plans: readonly PlanResult[], p: PlanResult, sort: SortKey): string {
  const k = planKey(p);
  const at = plans.findIndex((q) => planKey(q) === k);
  return at < 0 ? "not in the filtered table" : `#${count(at + 1)} of ${count(plans.length)} by ${SORT_LABEL[sort]}`;
}
