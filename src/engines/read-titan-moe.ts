// torchtitan's mixture-of-experts settings (job_config.py @ v0.2.0 / v0.2.2; the experts themselves
// are the model registry's MoEArgs, which --model states): the expert tensor parallel degree, the
// debug option that balances the routing exactly, and DualPipeV's overlap of the expert-parallel
// all-to-all. Read into the plan, or refused by key where paraplan does not price them.
import { UserError } from "../errors.js";
import type { TomlValue } from "./toml.js";

export interface TitanMoe {
  etp: number;
  /** 1 under the round-robin routing of the force-load-balance debug option. */
  moeImbalance?: number;
}

/** `get`, `setting` as readTorchtitan's: a setting by section and key, and the setting as the file
 *  gives it for a refusal. */
export function readTitanMoe(
  s: { get: (section: string, key: string) => TomlValue | undefined; setting: (section: string, key: string) => string; o: string },
  p: { tp: number; pp: number; ep: number; schedule: string; experts: boolean; fp8: boolean },
  notes: string[],
): TitanMoe {
  const { get, setting, o } = s;
  // The float8 converter swaps nn.Linear modules (Float8LinearConverter, components/quantization/
  // float8.py @ v0.2.0); the routed experts are GroupedExperts on torch._grouped_mm, in bf16 unless
  // the quantize.grouped_mm.float8 converter (refused with the other converters) takes them.
  if (p.experts && p.fp8) {
    const which = get("model", "converters") !== undefined ? setting("model", "converters") : setting("float8", "enable_float8_linear");
    throw new UserError(`${which} converts the linear layers to fp8 but not the routed experts' grouped GEMMs, which stay bf16 (torchtitan's Float8LinearConverter swaps nn.Linear only), which paraplan does not model: it prices every GEMM in fp8`);
  }
  // expert_tensor_parallel_degree (job_config.py:411 @ v0.2.0): "No effect for non-MoE models, or
  // when ep = 1"; with ep > 1 ParallelDims asserts etp = tp or 1 (parallel_dims.py:57-58), etp = tp
  // splitting each expert over the tp ranks and taking ep from dp_shard·cp, etp = 1 taking it from
  // dp_shard·cp·tp (:59-64): etp innermost, then ep, as paraplan folds them (planner/layout/groups.ts).
  const stated = get("parallelism", "expert_tensor_parallel_degree");
  let etp = 1;
  if (stated !== undefined) {
    if (typeof stated !== "number" || !Number.isInteger(stated) || stated < 1) throw new UserError(`${setting("parallelism", "expert_tensor_parallel_degree")}: must be an integer ≥ 1`);
    if (p.ep > 1 && stated !== 1 && stated !== p.tp)
      throw new UserError(`${setting("parallelism", "expert_tensor_parallel_degree")} with tensor_parallel_degree ${p.tp}: torchtitan asserts ETP = TP or ETP = 1 (ParallelDims, parallel_dims.py:58 @ v0.2.0), so the run stops at start`);
    if (p.ep > 1) etp = stated;
    else if (stated > 1) notes.push(`${setting("parallelism", "expert_tensor_parallel_degree")} has no effect without expert parallel (expert_parallel_degree 1)`);
  }
  // Round-robin routing, "each experts get same amount of token" (torchtitan/models/moe/moe.py
  // TokenChoiceTopKRouter._debug_force_load_balance_routing @ v0.2.0): training.debug_moe_force_
  // load_balance in 0.2.0, debug.moe_force_load_balance from 0.2.1 (job_config.py:995 @ v0.2.2).
  const forced = ([["training", "debug_moe_force_load_balance"], ["debug", "moe_force_load_balance"]] as const).find(([sec, key]) => get(sec, key) === true);
  if (forced) notes.push(`${setting(forced[0], forced[1])} routes tokens round-robin over the experts: priced at expert load imbalance 1`);
  // DualPipeV's overlap of the expert-parallel all-to-all with another micro-batch's compute,
  // on by default from 0.2.1 (pipeline_parallel_expert_parallel_overlap, job_config.py:420 and
  // pipeline_parallel.py:216-219 @ v0.2.2; 0.2.0 has neither the setting nor the overlap).
  const overlap = get("parallelism", "pipeline_parallel_expert_parallel_overlap");
  if (p.schedule === "dualpipev" && p.pp > 1 && p.ep > 1 && overlap !== false) {
    const said = overlap === undefined ? `${o}: pipeline_parallel_schedule DualPipeV with pipeline and expert parallel (pipeline_parallel_expert_parallel_overlap not set: true from torchtitan 0.2.1)` : setting("parallelism", "pipeline_parallel_expert_parallel_overlap");
    throw new UserError(`${said} overlaps the expert-parallel all-to-all with another micro-batch's compute (pipeline_parallel.py:216-219 @ v0.2.2), which paraplan does not model; set pipeline_parallel_expert_parallel_overlap = false to plan the schedule without it`);
  }
  return { etp, ...(forced ? { moeImbalance: 1 } : {}) };
}
