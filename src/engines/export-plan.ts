// The export entry points: exportPlan, a pure function (model, plan, training, hardware) → files,
// for the CLI and the interactive planner alike; and searchForFormat, the best plan an engine can
// run as is (the union of its sub-spaces, merged with the dimensions the user fixed).
import {
  type Fixed,
  type Hardware,
  type ModelSpec,
  type Plan,
  type PlanResult,
  type SearchResult,
  type Training,
  FORMAT_ENGINES,
  comparePlans,
  evaluatePlan,
  executorEngineName,
  search,
} from "../../planner/index.js";
import { defaultCompile } from "../../executor/spec.js";
import type { Device } from "../../executor/devices.js";
import { deepspeed } from "./deepspeed.js";
import {
  type Engine,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
  ExportRefused,
  type Release,
  describe,
  pickRelease,
  planOf,
} from "./engine-plan.js";
import { llmFoundry } from "./llm-foundry.js";
import { megatron } from "./megatron.js";
import { slurm } from "./slurm.js";
import { torchrun } from "./torchrun.js";
import { torchtitan } from "./torchtitan.js";
import { count, percent } from "../format/units.js";

export const ENGINES: Record<ExportFormat, Engine> = { megatron, deepspeed, torchtitan, "llm-foundry": llmFoundry, torchrun, slurm };

/** The engine a format's configuration runs on, which its export predicts with: the stack's
 *  (FORMAT_ENGINES); for the launchers (torchrun, slurm) paraplan's worker on `device` as their
 *  launch.json says (torchrun.ts launchSpecFile: compiled on CUDA, eager on CPU ranks, as execute
 *  --device runs it: executor/spec.ts defaultCompile), or none when `script` launches the user's
 *  own. */
export function formatEngineName(format: ExportFormat, script?: string, device: Device = "cuda"): string | undefined {
  if (format in FORMAT_ENGINES) return FORMAT_ENGINES[format as keyof typeof FORMAT_ENGINES];
  return script === undefined ? executorEngineName(defaultCompile(device)) : undefined;
}

/** The engine's configuration files for this plan. Throws ExportRefused (a one-line UserError)
 *  when the engine cannot run the plan; a nearest mapping is returned with its notes. */
export function exportPlan(
  format: ExportFormat,
  model: ModelSpec,
  plan: Plan,
  training: Training,
  hardware: Hardware,
  options: ExportOptions = {},
): ExportResult {
  const engine = ENGINES[format];
  const release = pickRelease(engine, options.release);
  const base = { model, training, hw: hardware, options, release };
  const t = engine.translate(planOf(plan), base);
  if (t.kind === "refused") throw new ExportRefused(format, t.reason);
  const runs = t.kind === "nearest" ? t.plan : planOf(plan);
  // (a setting the stack forces on for this plan: written, and predicted, as it runs)
  const forced = engine.runsWith?.(runs, training, release, model);
  const runsWith = forced?.training ?? training;
  const notes = [...(t.notes ?? []), ...(forced ? [forced.note] : [])];
  return { format, release, plan: runs, nearest: t.kind === "nearest", files: engine.files({ ...base, training: runsWith, plan: runs }), notes, training: runsWith };
}

function merge(fixed: Fixed, overlay: Fixed): Fixed | null {
  for (const [k, v] of Object.entries(overlay) as [keyof Fixed, Fixed[keyof Fixed]][])
    if (fixed[k] !== undefined && fixed[k] !== v) return null;
  return { ...fixed, ...overlay };
}

export interface FormatSearch {
  /** The best plan the engine runs exactly, or null. */
  best: PlanResult | null;
  /** The unrestricted search (run when no exact plan exists): its best is exported as nearest or refused. */
  unrestricted: SearchResult | null;
  /** Whether the fixed dimensions left any sub-space the engine runs (false: the user ruled them out). */
  searchedEngineSpace: boolean;
}

export function searchForFormat(
  format: ExportFormat,
  model: ModelSpec,
  hw: Hardware,
  training: Training,
  fixed: Fixed,
  release: Release,
  options: ExportOptions = {},
): FormatSearch {
  const engine = ENGINES[format];
  const base = { model, training, hw, options, release };
  const exact = (p: PlanResult) => engine.translate(p, base).kind === "exact";
  // A plan the stack runs otherwise than its sub-space was priced (paraplan's worker runs a
  // zero-bubble pipeline eager though launch.json asks it to compile: workerRunsWith) is priced
  // as it runs, as exportPlan prices it; if it no longer fits, it is no candidate (the search's
  // best at 64 GPUs for llama3-70b was a ZB1P plan needing 93 GiB eager, written as is).
  const asRuns = (p: PlanResult): PlanResult | null => {
    const other = engine.runsWith?.(p, training, release, model);
    if (other === undefined) return p;
    const r = evaluatePlan(model, hw, other.training, p);
    return r.memory.total > r.memory.capacity ? null : r;
  };
  let best: PlanResult | null = null;
  const consider = (found: PlanResult | undefined) => {
    const p = found && exact(found) ? asRuns(found) : null;
    if (p && (best === null || comparePlans(p, best) < 0)) best = p;
  };
  let searchedEngineSpace = false;
  for (const overlay of engine.overlays(release, model, training)) {
    const f = merge(fixed, overlay);
    if (f === null) continue;
    searchedEngineSpace = true;
    // (priced as the engine runs the sub-space: Megatron-FSDP's ZeRO-3 overlaps its reduction)
    const runsWith = engine.runsWith?.(f, training, release, model)?.training ?? training;
    const r = search(model, hw, runsWith, f, { top: 1 });
    const top = r.plans[0];
    // (the search already prices a plan the engine runs eager on its eager engine, planner/eager.ts:
    // re-priced the same, its rank stands)
    const again = top && exact(top) ? asRuns(top) : null;
    if (top === undefined || (again !== null && again.tokensPerSecond === top.tokensPerSecond && again.memory.total === top.memory.total)) consider(top);
    // A constraint the sub-spaces cannot state (e.g. core_v0.7's pp > 2 for interleaving): look
    // through the sub-space's plans in rank order.
    else search(model, hw, runsWith, f, { top: 1, keepAll: true }).all?.slice().sort(comparePlans).forEach(consider);
  }
  if (best !== null) return { best, unrestricted: null, searchedEngineSpace };
  return { best: null, unrestricted: search(model, hw, training, fixed, { top: 1 }), searchedEngineSpace };
}

/** Where the search's best plan of all (`search` with the same inputs) is faster than `chosen`,
 *  the best the format runs as priced: what it is and why the format does not write it (its
 *  refusal, or the plan the format would run instead), so that an export never settles on a
 *  slower plan unsaid (an engine dispatching with DeepEP exported to torchtitan's v0.2.0 names
 *  chose an ep-1 plan). Null where the chosen plan is the best of all, or as fast. */
export function fasterElsewhere(format: ExportFormat, model: ModelSpec, hw: Hardware, training: Training, fixed: Fixed, release: Release, chosen: PlanResult, options: ExportOptions = {}): string | null {
  const top = search(model, hw, training, fixed, { top: 1 }).plans[0];
  if (top === undefined || top.tokensPerSecond <= chosen.tokensPerSecond * 1.005) return null;
  const t = ENGINES[format].translate(planOf(top), { model, training, hw, options, release });
  const why = t.kind === "refused" ? t.reason : t.kind === "nearest" ? `${format} runs it as ${describe(t.plan)}` : "it is not in the sub-spaces this format's search covers";
  const faster = top.tokensPerSecond / chosen.tokensPerSecond - 1;
  return `the fastest plan of all, ${describe(top)} (${count(top.tokensPerSecond)} tokens/s, ${percent(faster)} faster), is not written: ${why}`;
}
