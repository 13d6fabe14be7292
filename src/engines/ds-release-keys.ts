// ds_config.json keys DeepSpeed v0.19.5 (cf443004, 2026-08-09) reads that known-keys.ts
// DEEPSPEED_KEYS (2024-2025 sources) lacks, each with the release that added it and why it leaves
// the step as paraplan prices it, or the refusal (dsReleaseChecks); test/export/fixtures/
// deepspeed-v0.19.5.txt names them with their files. test/export/deepspeed-v0195.test.ts.
import { UserError } from "../errors.js";
import { jsonAt, named } from "./setting-at.js";
import type { ConfigFile } from "./read-config.js";
import { pyTruthy } from "./ds-config-features.js";
import { DEEPSPEED_KEYS } from "./known-keys.js";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Accepted: why each changes nothing paraplan prices (DeepSpeed @ v0.19.5). */
export const DEEPSPEED_V0195_NEUTRAL: Record<string, string> = {
  // runtime/constants.py LOG_LEVEL, runtime/config.py get_log_level (v0.19.3)
  log_level: "the logger's level",
  // runtime/constants.py: v0.16.5 renamed seq_parallel_comm_data_type to this; read by Ulysses
  // sequence parallel only, whose sequence_parallel_size > 1 the reader refuses
  seq_parallel_communication_data_type: "Ulysses sequence parallel's all-to-all dtype (sequence_parallel_size > 1 is refused)",
  // datastates/config.py DeepSpeedDataStatesConfig (v0.18.1): the DataStates checkpoint engine
  datastates_ckpt: "the checkpoint engine (DataStates asynchronous checkpoints), outside the step",
  // runtime/precision_config.py DeepSpeedBF16Config.check_grad_overflow (v0.17.1, default True): an
  // inf/nan test of the same gradients before the step, as fp16's loss scaler makes
  "bf16.check_grad_overflow": "an overflow test of the gradients before the step (on by default)",
  // runtime/tensor_parallel/config.py TPTrainingConfig.keep_module_on_host (v0.16.3): where
  // checkpoint tensors wait while loading
  "tensor_parallel.keep_module_on_host": "where AutoTP keeps checkpoint tensors while loading them",
};

/** Refused where set (dsReleaseChecks says when): what each does that paraplan does not price. */
export const DEEPSPEED_V0195_REFUSED: Record<string, string> = {
  // runtime/zero/config.py zenflow: Optional[ZenFlowConfig] (v0.17.5; runtime/zenflow)
  "zero_optimization.zenflow": "offloads the optimizer's updates of the less important gradients to the CPU (ZenFlow)",
  // runtime/zero/config.py allgather_sequential, alias stage3_allgather_sequential (v0.18.5)
  "zero_optimization.allgather_sequential": "gathers ZeRO-3's parameters one at a time, bypassing the bucket, other gathers than paraplan prices",
  "zero_optimization.stage3_allgather_sequential": "gathers ZeRO-3's parameters one at a time, bypassing the bucket, other gathers than paraplan prices",
  // runtime/zero/config.py enable_sanity_checks (v0.17.6): "internal sanity checks, useful for debugging"
  "zero_optimization.enable_sanity_checks": "runs ZeRO's internal sanity checks each step (a debugging mode)",
  // runtime/zero/config.py leaf_module (v0.18.0; zero/leaf_module_config.py)
  "zero_optimization.leaf_module": "gathers the named modules' ZeRO-3 parameters whole, as leaf modules",
  // runtime/tensor_parallel/config.py TPTrainingConfig (v0.16.0): AutoTP's model dtype and the
  // inference-side TP and kernel injection, which paraplan does not price for training
  "tensor_parallel.dtype": "sets the dtype AutoTP converts the model to, beside the bf16/fp16 sections paraplan reads the precision from",
  "tensor_parallel.tp": "configures DeepSpeed's inference tensor parallelism (TPConfig tp_size)",
  "tensor_parallel.tensor_parallel": "configures DeepSpeed's inference tensor parallelism (TPConfig tp_size)",
  "tensor_parallel.injection_policy_tuple": "replaces layers by an injection policy",
  "tensor_parallel.replace_with_kernel_inject": "injects DeepSpeed's inference kernels",
  "tensor_parallel.kernel_inject": "injects DeepSpeed's inference kernels",
};

/** Every key this file places. */
export const DEEPSPEED_V0195_KEYS = new Set([...Object.keys(DEEPSPEED_V0195_NEUTRAL), ...Object.keys(DEEPSPEED_V0195_REFUSED)]);

/** The keys read-deepspeed.ts knows: the older lists' and v0.19.5's. */
export const DEEPSPEED_KNOWN = new Set([...DEEPSPEED_KEYS, ...DEEPSPEED_V0195_KEYS]);

/** Exit 2 for a v0.19.5 key set to what changes the step: a truthy value (Python's truth test,
 *  as DeepSpeed reads them; a zenflow or leaf_module block however it is filled), the ZeRO-3
 *  settings under stage 3 only (a note below it). */
export function dsReleaseChecks(ds: ConfigFile, raw: Obj, stage: number, notes: string[]): void {
  const o = ds.name;
  for (const [key, why] of Object.entries(DEEPSPEED_V0195_REFUSED)) {
    const [section, sub] = key.split(".") as [string, string];
    const block = raw[section];
    if (!isObj(block) || !(sub in block)) continue;
    const v = block[sub];
    const on = sub === "zenflow" || sub === "leaf_module" ? v !== null && v !== undefined : sub === "dtype" ? true : pyTruthy(v);
    if (!on) continue;
    const here = named(jsonAt(o, ds.text, key, isObj(v) ? undefined : v));
    const stage3Only = sub === "allgather_sequential" || sub === "stage3_allgather_sequential" || sub === "leaf_module";
    if (stage3Only && stage !== 3) {
      notes.push(`${here}: DeepSpeed applies it under ZeRO stage 3 only; at stage ${stage} it changes nothing`);
      continue;
    }
    throw new UserError(`${here} ${why} (DeepSpeed v0.19.5), which paraplan does not model`);
  }
}
