// The report of `plan --from`: the configuration's plan beside the best plan found, the predicted
// gain (tokens/s ratio) and the changes, dimension by dimension; as text and as the `from` object
// of --json.
import { depthEvery } from "../format/recompute-depth.js";
import type { Plan, PlanResult, SearchResult } from "../../planner/index.js";
import { planJson } from "../../executor/plan-json.js";
import { dimNames, header, planCellsWith, rejections, showsCp } from "../format/plan-text.js";
import { count, gib, percent, table } from "../format/units.js";
import type { PlanRequest } from "../plan-request.js";
import { SCHEDULE_NAME, describe } from "./engine-plan.js";
import type { ConfigReading } from "./read-config.js";

export interface Change {
  dimension: keyof Plan;
  from: Plan[keyof Plan];
  to: Plan[keyof Plan];
}

/** One change as "what from → to". */
const FORMAT: Record<keyof Plan, (v: Plan[keyof Plan]) => string> = {
  tp: String,
  pp: String,
  vpp: String,
  dp: String,
  cp: String,
  cpComm: (v) => String(v ?? "allgather"),
  cpSplit: (v) => String(v ?? "zigzag"),
  ep: String,
  etp: String,
  stageLayers: (v) => (Array.isArray(v) ? v.join(",") : "even"),
  zero: (v) => `ZeRO-${v}`,
  microBatch: String,
  recompute: String,
  // (the count a stage: the first N under Megatron's block method, every N-th layer under torchtitan's)
  recomputeLayers: (v) => (v === undefined ? "every layer" : `${String(v)} a stage`),
  sequenceParallel: (v) => (v ? "on" : "off"),
  schedule: (v) => SCHEDULE_NAME[v as Plan["schedule"]],
  order: (v) => String(v ?? "tp-cp-dp-pp"),
};
const NAME: Record<keyof Plan, string> = {
  tp: "tp", pp: "pp", vpp: "vpp", dp: "dp", cp: "cp", cpComm: "cp exchange", cpSplit: "cp split", ep: "ep", etp: "etp", stageLayers: "stage layers", zero: "ZeRO", microBatch: "micro-batch", recompute: "recompute",
  recomputeLayers: "layers recomputed", sequenceParallel: "sequence parallel", schedule: "schedule", order: "rank order",
};

const ORDER: (keyof Plan)[] = ["tp", "cp", "pp", "vpp", "dp", "ep", "etp", "zero", "microBatch", "recompute", "recomputeLayers", "sequenceParallel", "schedule"];

/** Dimensions that differ; the schedule only where a pipeline makes it mean something. */
export function changes(a: Plan, b: Plan): Change[] {
  return ORDER.filter((k) => a[k] !== b[k] && (k !== "schedule" || a.pp > 1 || b.pp > 1)).map((k) => ({ dimension: k, from: a[k], to: b[k] }));
}

/** The layers a plan recomputes whole: an undefined recomputeLayers is every layer under full
 *  recompute only; a plan without it says its own recompute ("none", or "selective": part of each). */
const layersRecomputed = (p: Plan): string => (p.recompute === "full" ? FORMAT.recomputeLayers(p.recomputeLayers) : p.recompute);

export function changeLine(a: Plan, b: Plan): string {
  const c = changes(a, b);
  if (c.length === 0) return "changes: none";
  const one = (x: Change) =>
    x.dimension === "zero" ? `${FORMAT.zero(x.from)} → ${FORMAT.zero(x.to)}`
    : x.dimension === "recomputeLayers" ? `${NAME.recomputeLayers} ${layersRecomputed(a)} → ${layersRecomputed(b)}`
    : `${NAME[x.dimension]} ${FORMAT[x.dimension](x.from)} → ${FORMAT[x.dimension](x.to)}`;
  return `changes: ${c.map(one).join("; ")}`;
}

export function gainLine(current: PlanResult, best: PlanResult): string {
  const gain = best.tokensPerSecond / current.tokensPerSecond;
  if (changes(current, best).length === 0) return `predicted gain: 1.00× — your configuration is the best plan found (${count(current.tokensPerSecond)} tokens/s)`;
  const line = `predicted gain: ${gain.toFixed(2)}× tokens/s with the best plan found (${count(best.tokensPerSecond)} vs ${count(current.tokensPerSecond)} tokens/s)`;
  if (gain < 1.005 && best.memory.total < current.memory.total) return `${line}; it needs ${gib(best.memory.total)} per GPU instead of ${gib(current.memory.total)}`;
  return line;
}

/** The rows of the comparison, as the plan table's columns: cp where context parallel was
 *  searched or either plan has it, ep and etp for a mixture of experts (plan-text.ts planCellsWith). */
const rowNames = (experts: boolean, cp: boolean): string[] => [...dimNames(experts, cp), "zero", "micro-batch", "recompute", "sequence parallel", "schedule", "memory/GPU (of cap.)", "step", "tokens/s", "MFU"];

export function comparisonText(req: PlanRequest, reading: ConfigReading, current: PlanResult, result: SearchResult, elapsedMs: number): string {
  const best = result.plans[0];
  const experts = req.model.moe !== undefined;
  const cp = showsCp(result, best ? [current, best] : [current]);
  const ROWS = rowNames(experts, cp);
  const every = depthEvery(req.training.engine, req.model.layers);
  const column = (p: PlanResult): string[] => [...planCellsWith(p, experts, cp, every), percent(p.mfu)];
  const yours = column(current);
  const theirs = best ? column(best) : ROWS.map(() => "-");
  const lines = [
    header(req),
    `from ${reading.sources.join(" + ")} (${reading.engine}): ${describe(current, every)}`,
    ...reading.notes.map((n) => `note: ${n}`),
    `searched ${count(result.searched)} configurations in ${elapsedMs.toFixed(0)} ms: ${count(result.feasible)} fit in memory`,
    "",
    table(["", "yours", "best found"], ROWS.map((r, i) => [r, yours[i]!, theirs[i]!]), [false, true, true]),
    "",
  ];
  if (current.memory.total > current.memory.capacity)
    lines.push(`your configuration needs ${gib(current.memory.total)} per GPU, over the ${gib(current.memory.capacity)} capacity: it would run out of memory`);
  if (best) lines.push(gainLine(current, best), changeLine(current, best));
  else lines.push(`no plan fits in memory: ${rejections(result).replace(/^rejected: /, "")}`);
  return lines.join("\n");
}

export function comparisonJson(reading: ConfigReading, current: PlanResult, best: PlanResult | null) {
  return {
    sources: reading.sources,
    // The configuration's format (megatron, deepspeed, torchtitan, llm-foundry); the top-level
    // "engine" is the engine profile it was priced with.
    format: reading.engine,
    gpus: reading.gpus,
    plan: planJson(current),
    fits: current.memory.total <= current.memory.capacity,
    predictedGain: best ? best.tokensPerSecond / current.tokensPerSecond : null,
    changes: best ? changes(current, best) : [],
    warnings: reading.warnings,
    notes: reading.notes,
  };
}
