// The `plan --json` contract: these names are relied on by scripts and by the other commands.
// Each plan's entry is the executor's planJson (a run directory's plan.json holds the same).
import { planJson } from "../../executor/plan-json.js";
import { type SearchResult, engineGradReduceBytes, isDefaultModules, recomputeModulesOf, totalParams } from "../../planner/index.js";
import { activeParams } from "../../planner/model.js";
import type { SimSummary } from "../../planner/sim/timeline.js";
import type { PlanRequest } from "../plan-request.js";
import { standingJson } from "../calibration-standing.js";
import { DEFAULT_MOE_IMBALANCE } from "../../planner/cost/moe-facts.js";
import { intraNodeLink } from "./units.js";
import { multiNodeDomain } from "../domain-slice.js";

/** Simulation results to add to the report (optional fields, planner/sim/rescore.ts). */
export interface SimulatedJson {
  /** Per plan of result.plans, in order (the first min(listed, top)). */
  simulated: SimSummary[];
  /** How many of the closed form's best plans were simulated. */
  top: number;
  /** Index (from 0) among them of the plan with the shortest simulated step. */
  fastest: number;
}

export function searchJson(req: PlanRequest, result: SearchResult, elapsedMs: number, sim?: SimulatedJson, cpWhy?: string | null) {
  const m = req.model;
  const t = req.training;
  const modules = recomputeModulesOf(t.engine);
  return {
    model: {
      name: m.name,
      params: totalParams(m, t.seqLen),
      // MoE: active per token (planner/model.ts activeParams: without the input embedding's lookup,
      // DeepSeek's convention; and with it, Mistral's, Qwen's and OLMoE's).
      ...(m.moe ? { activeParams: activeParams(m, t.seqLen), activeParamsWithInputEmbedding: activeParams(m, t.seqLen, { inputEmbedding: true }), moe: { ...m.moe } } : {}),
      ...(m.mla ? { mla: { ...m.mla } } : {}),
      ...(m.mtpLayers ? { mtpLayers: m.mtpLayers } : {}),
      layers: m.layers,
      hidden: m.hidden,
      heads: m.heads,
      kvHeads: m.kvHeads,
      ffnHidden: m.ffnHidden,
      vocab: m.vocab,
      seqLen: t.seqLen,
    },
    // (the node's link and bytes/s the header quotes; null where each node holds one GPU: unused;
    // the network per GPU in bytes/s, as the header's "50.0 GB/s network per GPU"; a multi-node
    // NVLink domain's GPUs, as the header's "(72-GPU NVLink domains)", and a slice of it)
    cluster: {
      profile: req.profileName,
      gpus: req.training.gpus,
      gpusPerNode: req.hw.gpusPerNode,
      intraNodeLink: intraNodeLink(req.hw),
      networkPerGpu: req.hw.inter.bandwidth,
      ...(req.domainSlice ? { gpusPerDomain: req.domainSlice.used, nvlinkDomain: req.domainSlice.of } : multiNodeDomain(req.hw) !== undefined ? { nvlinkDomain: multiNodeDomain(req.hw) } : {}),
    },
    globalBatch: req.training.globalBatch,
    precision: req.training.precision,
    engine: req.training.engine.name,
    // The engine's attention and gradient overlap as predicted, after --attention and
    // --no-grad-overlap (or a --from file) overrode them, as the header says.
    fusedAttention: req.training.fusedAttention,
    overlapGradReduce: req.training.overlapGradReduce,
    // --tp-comm-overlap: predicted with the engine's tensor-parallel overlap switched on.
    ...(req.training.engine.tensorParallel.overlapNeedsSp ? { tpCommOverlap: true } : {}),
    // Bytes per gradient element the data-parallel reduction moves (4: fp32, 2: 16-bit).
    gradReduceBytes: engineGradReduceBytes(req.training),
    // The parallelisms the engine's stack runs, the only ones searched (profiles/engines supports).
    engineSupports: req.training.engine.supports,
    engineRecompute: req.training.engine.recompute,
    // What the plans' "selective" recompute re-runs where not Megatron-Core's default (core_attn
    // alone): --recompute-modules, a --from file's or the engine file's, in Megatron's names
    // (planner/recompute-modules.ts; the header's engine line says "recompute modules …").
    ...(modules !== undefined && !isDefaultModules(modules) ? { recomputeModules: modules } : {}),
    ...(m.moe ? { moeImbalance: req.training.moeImbalance ?? DEFAULT_MOE_IMBALANCE, optimizerStates: req.training.optimizerStates ?? "fp32" } : {}),
    assumed: req.assumed,
    // The published runs the engine's figures were fitted on, and where this request lies outside them.
    ...(req.calibration ? { calibration: standingJson(req.calibration) } : {}),
    searched: result.searched,
    feasible: result.feasible,
    rejected: { ...result.rejected },
    elapsedMs,
    plans: result.plans.map((p, i) => planJson(p, sim?.simulated[i])),
    ...(result.closest ? { closest: planJson(result.closest) } : {}),
    // Why the best plan uses context parallel (planner/cp-why.ts), when it does.
    ...(cpWhy ? { cpWhy } : {}),
    // The rows are in the closed form's order; the simulation's fastest is named by its rank (from 1).
    ...(sim ? { simulatedTop: sim.top, simulatedFastest: sim.fastest + 1 } : {}),
  };
}
