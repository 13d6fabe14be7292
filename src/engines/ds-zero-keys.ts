// The zero_optimization section's settings that read-deepspeed.ts refuses or says (DeepSpeed @
// v0.16.0): offloaded state, ZeRO-3 over other groups (MiCS, ZeRO++ hpZ), ZeRO++'s quantized
// gathers and reductions, the deprecated stage 1, and the reduction settings that move other
// bytes than the stage's reduce-scatter paraplan prices.
import { UserError } from "../errors.js";
import { jsonAt, named } from "./setting-at.js";
import type { ConfigFile } from "./read-config.js";
import { pyTruthy } from "./ds-config-features.js";
import { DEEPSPEED_KNOWN } from "./ds-release-keys.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Exit 2 for a zero_optimization setting paraplan does not model at this stage; a note for one
 *  DeepSpeed ignores there. `raw`: the whole ds_config (prescale_gradients and
 *  gradient_predivide_factor sit at its top level). */
export function zeroOptimizationRefusals(ds: ConfigFile, raw: Obj, zo: Obj, stage: number, notes: string[]): void {
  const o = ds.name;
  // DeepSpeedZeroConfig forbids keys it does not define (runtime/config_utils.py DeepSpeedConfigModel:
  // model_config extra="forbid"; runtime/zero/config.py get_zero_config builds it from the section
  // @ v0.19.5), so deepspeed.initialize raises on a typo there: exit 2 naming it, not a warning.
  for (const k of Object.keys(zo))
    if (!DEEPSPEED_KNOWN.has(`zero_optimization.${k}`))
      throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${k}`, zo[k]))} is not a field of DeepSpeed's zero_optimization, whose config model forbids other keys (DeepSpeedZeroConfig, runtime/zero/config.py; extra="forbid" in runtime/config_utils.py @ v0.19.5): deepspeed.initialize would raise; check its spelling`);
  // The switches read below are bools of DeepSpeed's pydantic config model, which is not strict
  // (runtime/zero/config.py DeepSpeedZeroConfig over runtime/config_utils.py DeepSpeedConfigModel):
  // it turns "false", "no", "0" into False. Compared with false as written they were taken for their
  // defaults ("contiguous_gradients": "false" priced as true): refused by key instead.
  for (const k of ["overlap_comm", "contiguous_gradients", "reduce_scatter", "legacy_stage1", "cpu_offload", "cpu_offload_param", "zero_quantized_weights", "zero_quantized_gradients", "stage3_use_all_reduce_for_fetch_params", "use_all_reduce_for_fetch_params"])
    if (zo[k] !== undefined && zo[k] !== null && typeof zo[k] !== "boolean")
      throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${k}`, zo[k]))}: must be true or false (DeepSpeed's config model reads text such as "false" as one; paraplan does not guess)`);
  // Offloaded state changes GPU memory and step time beyond the model: refused, not priced on-GPU.
  // A block without a device offloads nothing: DeepSpeed's default device is "none"
  // (runtime/zero/offload_config.py OffloadDeviceEnum: none, cpu, nvme).
  for (const off of ["offload_optimizer", "offload_param"]) {
    const device = isObj(zo[off]) ? ((zo[off] as Obj).device ?? "none") : "none";
    if (device === "none") continue;
    if (device !== "cpu" && device !== "nvme") throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${off}.device`, device))} is none of DeepSpeed's "none", "cpu" or "nvme"`);
    throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${off}`, undefined))} moves state to ${device}, which paraplan does not model`);
  }
  // The boolean forms of older releases (runtime/zero/config.py: cpu_offload, cpu_offload_param,
  // deprecated for offload_optimizer / offload_param with device "cpu").
  for (const off of ["cpu_offload", "cpu_offload_param"])
    if (zo[off] === true) throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${off}`, true))} moves state to the CPU, which paraplan does not model`);
  // ZeRO-3 variants that shard or gather over other groups than all data-parallel ranks (MiCS:
  // mics_shard_size > 0 shards within groups of that size; ZeRO++ hpZ: a secondary copy of the
  // parameters per group of zero_hpz_partition_size); both act under stage 3 only.
  if (stage === 3 && typeof zo.mics_shard_size === "number" && zo.mics_shard_size > 0)
    throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.mics_shard_size", zo.mics_shard_size))} shards ZeRO-3 within groups (MiCS), which paraplan does not model (it shards over every data-parallel rank)`);
  if (stage === 3 && typeof zo.zero_hpz_partition_size === "number" && zo.zero_hpz_partition_size > 1)
    throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.zero_hpz_partition_size", zo.zero_hpz_partition_size))} keeps a secondary parameter shard per group (ZeRO++ hpZ), which paraplan does not model`);
  // ZeRO++ qwZ and qgZ: DeepSpeed hands both to the ZeRO-3 optimizer only (runtime/engine.py
  // _configure_zero_optimizer @ v0.16.0: DeepSpeedZeroOptimizer_Stage3 gets zero_quantized_weights
  // and the all-to-all group qgZ needs, engine.py:1193; DeepSpeedZeroOptimizer gets neither):
  // under stage 3 the weights are gathered in int8 (zero/partition_parameters.py _all_gather_params,
  // zero/partitioned_param_coordinator.py:449) and the gradients reduced by a two-stage int4
  // all-to-all across nodes (zero/stage3.py:1386, comm/coalesced_collectives.py
  // all_to_all_quant_reduce), not the 16-bit gathers and reduce-scatters paraplan prices; below
  // stage 3 they change nothing, said.
  const ZERO_PP: Record<string, string> = {
    zero_quantized_weights: "gathers ZeRO-3's weights in int8 (ZeRO++ qwZ), which paraplan does not model: it prices 16-bit weight gathers",
    zero_quantized_gradients: "reduces ZeRO-3's gradients by an int4 all-to-all across nodes (ZeRO++ qgZ), which paraplan does not model: it prices a 16-bit reduce-scatter",
  };
  for (const [q, why] of Object.entries(ZERO_PP))
    if (zo[q] === true) {
      if (stage === 3) throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${q}`, true))} ${why}`);
      notes.push(`${named(jsonAt(o, ds.text, `zero_optimization.${q}`, true))}: DeepSpeed applies it under ZeRO stage 3 only; at stage ${stage} it changes nothing`);
    }
  // The deprecated ZeRO stage 1 of DeepSpeed < 0.5.9: later releases raise on it
  // (runtime/engine.py _configure_zero_optimizer "The deprecated version of ZeRO Stage 1 is not
  // supported in deepspeed >= 0.5.9" @ v0.16.0).
  if (zo.legacy_stage1 === true)
    throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.legacy_stage1", true))}: DeepSpeed 0.5.9 and later raise on the deprecated ZeRO stage 1 it asks for; paraplan prices the current ZeRO stages`);
  // Without contiguous_gradients DeepSpeed reduces every gradient through buffers it flattens on
  // the way (stage_1_and_2.py reduce_ipg_grads buffered_reduce_fallback) and keeps the partition's
  // gradients in their own .grad tensors, allocating none of the reduce_bucket_size buffers
  // (ipg_buffer, stage_1_and_2.py:2039, stage3.py:528) that paraplan prices (the engine's
  // dataParallel.bucketMemory "separate"): refused, not priced as the default true.
  if (stage > 0 && zo.contiguous_gradients === false)
    throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.contiguous_gradients", false))} reduces the gradients through temporary flattened buffers instead of the reduce_bucket_size buffers paraplan prices (DeepSpeed's default true); leave it out or set true`);
  // reduce_scatter false all-reduces each bucket whole and keeps the rank's partition (ZeRO-1/2:
  // stage_1_and_2.py average_tensor → gradient_reduction_w_predivide; ZeRO-3 with contiguous
  // gradients: stage3.py:1314 __avg_scatter_contiguous_grads, dist.all_reduce) @ v0.16.0: twice a
  // reduce-scatter's bytes. ZeRO-1's all-reduce once a step is what the planner prices as
  // Engine.dataParallel.zero1AllReduce (read so); ZeRO-2 and ZeRO-3 have no such switch.
  if (stage === 1 && zo.reduce_scatter === false)
    notes.push(`${named(jsonAt(o, ds.text, "zero_optimization.reduce_scatter", false))}: DeepSpeed all-reduces ZeRO-1's gradients whole once a step; priced so`);
  if (stage >= 2 && zo.reduce_scatter === false)
    throw new UserError(`${named(jsonAt(o, ds.text, "zero_optimization.reduce_scatter", false))} all-reduces ZeRO-${stage}'s gradient buckets whole (twice a reduce-scatter's bytes), which paraplan does not model at ZeRO-${stage}: it prices DeepSpeed's default reduce-scatter`);
  // ZeRO-2's reduce-scatter asserts unscaled gradients (stage_1_and_2.py:241-244 @ v0.16.0:
  // "gradient_predivide_factor != 1.0 is not yet supported", "pre-scale gradients is not yet
  // supported ... with reduce scatter enabled"): DeepSpeed refuses the run.
  if (stage === 2 && zo.reduce_scatter !== false) {
    if (pyTruthy(raw.prescale_gradients))
      throw new UserError(`${named(jsonAt(o, ds.text, "prescale_gradients", raw.prescale_gradients))} at ZeRO stage 2: DeepSpeed refuses pre-scaled gradients with its reduce-scatter ("pre-scale gradients is not yet supported")`);
    if (typeof raw.gradient_predivide_factor === "number" && raw.gradient_predivide_factor !== 1)
      throw new UserError(`${named(jsonAt(o, ds.text, "gradient_predivide_factor", raw.gradient_predivide_factor))} at ZeRO stage 2: DeepSpeed refuses a predivide factor other than 1 with its reduce-scatter`);
  }
  // ZeRO-3 fetching parameters by an all-reduce of a zero-padded flat buffer instead of an
  // all-gather (zero/partition_parameters.py:1286 @ v0.16.0): twice the bytes.
  const fetchKey = ["stage3_use_all_reduce_for_fetch_params", "use_all_reduce_for_fetch_params"].find((k) => zo[k] !== undefined);
  if (stage === 3 && fetchKey !== undefined && zo[fetchKey] === true)
    throw new UserError(`${named(jsonAt(o, ds.text, `zero_optimization.${fetchKey}`, true))} fetches ZeRO-3's parameters with an all-reduce (twice an all-gather's bytes), which paraplan does not model: it prices all-gathers`);

}
