// torchtitan's TOML keys after v0.2.0: v0.2.1 (81af8833, 2025-12-26) and v0.2.2 (73a0e697,
// 2026-02-20), torchtitan/config/job_config.py (test/export/fixtures/torchtitan-v0.2.2.txt; the
// v0.2.1 keys are v0.2.2's less lr_scheduler.total_steps and parallelism.context_parallel_load_balancer).
// A TOML file that uses one of them is a v0.2.1-or-later job: its trainer steps the pipeline with
// return_outputs=False (torchtitan/train.py @ v0.2.1:518, v0.2.2:508), so the last stage frees each
// micro-batch's logits, as main's overrides do (torchtitan.ts TORCHTITAN_RELEASES keptOutputBytes
// 0); a file with none of them is read as v0.2.0, as before. test/export/torchtitan-v022.test.ts.
import { UserError } from "../errors.js";

/** Keys v0.2.2 has that TORCHTITAN_02_KEYS ∪ TORCHTITAN_MAIN_KEYS (known-keys.ts) lack, each with
 *  why it leaves the training step as paraplan prices it, or "refused" with what it does. */
export const TORCHTITAN_V022_NEW: Record<string, string> = {
  "job.save_config_file": "writes the job's configuration to a file at start",
  "lr_scheduler.total_steps": "the learning-rate schedule's length",
  "training.dataloader.num_workers": "data loading on the host (the batches have the same shape)",
  "training.dataloader.persistent_workers": "data loading on the host",
  "training.dataloader.pin_memory": "data loading on the host (pinned host buffers)",
  "training.dataloader.prefetch_factor": "data loading on the host",
  "validation.dataloader.num_workers": "validation's data loading, outside the training step",
  "validation.dataloader.persistent_workers": "validation's data loading, outside the training step",
  "validation.dataloader.pin_memory": "validation's data loading, outside the training step",
  "validation.dataloader.prefetch_factor": "validation's data loading, outside the training step",
  // job_config.py Parallelism.expert_parallel_comm_backend @ v0.2.2: "standard" (all-to-all
  // collectives) or "deepep" (DeepEP's kernels), read-titan-deepep.ts.
  "parallelism.expert_parallel_comm_backend": "\"deepep\" is read as the deepep dispatcher where torchtitan runs DeepEP as paraplan prices it, else refused (read-titan-deepep.ts)",
};

/** torchtitan main's overrides after the recorded @0014ac2c, at b5bcd76c (2026-08-21),
 *  torchtitan/config/configs.py (fixtures/torchtitan-main-b5bcd76.txt): the batch counted in token
 *  slots, CUDA graphs by default, an SPMD backend. Each is refused with what it does, except async
 *  tensor parallel, moved from [parallelism] to [compile] and read as before (read-torchtitan.ts),
 *  and structured logging (log records only: TITAN_MAIN_ACCEPTED). */
export const TORCHTITAN_MAIN_LATER: Record<string, string> = {
  "compile.enable_async_tensor_parallel": "read as parallelism.enable_async_tensor_parallel, its name at @0014ac2c",
  "training.num_tokens_per_microbatch_per_dp_rank": "counts each rank's micro-batch in token slots (main after @0014ac2c); paraplan reads @0014ac2c's training.local_batch_size and seq_len",
  "training.num_tokens_per_train_step": "counts the global batch in token slots (main after @0014ac2c); paraplan reads @0014ac2c's training.global_batch_size",
  "training.max_context_length": "sets the logical context the token slots pack (main after @0014ac2c); paraplan reads @0014ac2c's training.seq_len",
  "parallelism.num_pp_microbatches": "counts the pipeline's micro-batches (main after @0014ac2c); paraplan reads @0014ac2c's parallelism.pipeline_parallel_microbatch_size",
  "training.disable_cuda_graphs": "switches the CUDA graphs main after @0014ac2c captures the step in by default, which paraplan does not price either way",
  "parallelism.spmd_backend": "chooses main's SPMD backend (spmd_types by default after @0014ac2c), other than the DTensor paths paraplan's torchtitan figures describe",
  "parallelism.context_parallel_ptrr_mask_key": "masks context-parallel attention by a key of the batch",
  "debug.spmd_typechecking": "type-checks every SPMD operation at run time",
  "debug.enable_structured_logging": "writes structured log records (configs.py DebugConfig, True by default): no change to the step",
};

/** The keys of TORCHTITAN_MAIN_LATER read, not refused. */
const TITAN_MAIN_ACCEPTED = new Set(["compile.enable_async_tensor_parallel", "debug.enable_structured_logging"]);

/** Keys of v0.2.1 or later that v0.2.0's job_config.py lacks (the names that date a TOML file). */
export const TORCHTITAN_AFTER_020 = [
  ...Object.keys(TORCHTITAN_V022_NEW),
  "activation_checkpoint.debug", "activation_checkpoint.determinism_check", "activation_checkpoint.preserve_rng_state",
  "comm.mode", "debug.deterministic", "debug.deterministic_warn_only", "debug.moe_force_load_balance", "debug.seed",
  "parallelism.context_parallel_load_balancer", "parallelism.pipeline_parallel_expert_parallel_overlap",
];

/** v0.2.0 keys v0.2.1 moved ([debug]) or removed. */
export const TORCHTITAN_020_ONLY = ["parallelism.enable_compiled_autograd", "training.debug_moe_force_load_balance", "training.deterministic", "training.seed"];

/** The release a TOML file's keys date it to, and a warning where it mixes v0.2.0-only keys with
 *  later ones (torchtitan's config manager refuses a key its release lacks). */
export function titanTomlRelease(keys: string[], o: string, warnings: string[]): "0.2.0" | "0.2.1+" {
  const later = keys.find((k) => TORCHTITAN_AFTER_020.includes(k));
  const older = keys.find((k) => TORCHTITAN_020_ONLY.includes(k));
  if (later !== undefined && older !== undefined)
    warnings.push(`${o}: ${later} is a torchtitan v0.2.1-or-later key and ${older} one v0.2.1 removed: the file mixes releases; read as v0.2.1 or later (the last pipeline stage frees its logits)`);
  return later !== undefined ? "0.2.1+" : "0.2.0";
}

/** Settings of the later releases that change the step: exit 2 naming them. `setting(section, key)`
 *  names the setting where the file has it. */
export function titanReleaseChecks(get: (section: string, key: string) => unknown, setting: (section: string, key: string) => string): void {
  for (const [key, why] of Object.entries(TORCHTITAN_MAIN_LATER)) {
    const [section, name] = key.split(".") as [string, string];
    if (!TITAN_MAIN_ACCEPTED.has(key) && get(section, name) !== undefined && !(name === "spmd_typechecking" && get(section, name) === false))
      throw new UserError(`${setting(section, name)} ${why}, which paraplan does not model`);
  }
  // (parallelism.expert_parallel_comm_backend: read-titan-deepep.ts)
  // comm.mode (job_config.py Comm.mode @ v0.2.1, configs.py CommConfig on main): fake_backend and
  // local_tensor run no real collectives (a dry run of the configuration), not a training step.
  const mode = get("comm", "mode");
  if (mode === "torchcomms")
    throw new UserError(`${setting("comm", "mode")} runs the collectives through torchcomms' communicators, not the NCCL process groups paraplan's figures describe`);
  if (mode !== undefined && mode !== "default")
    throw new UserError(`${setting("comm", "mode")} runs no real collectives (a fake or local-tensor backend for dry runs), which paraplan does not model: it prices a training step`);
  // debug.batch_invariant (configs.py DebugConfig on main): batch-invariant kernels, other kernels
  // than the ones paraplan prices (as Megatron-LM's --batch-invariant-mode, megatron-v019-flags.ts).
  if (get("debug", "batch_invariant") === true)
    throw new UserError(`${setting("debug", "batch_invariant")} runs batch-invariant kernels (a deterministic forward whatever the batch), other kernels than paraplan prices`);
}
