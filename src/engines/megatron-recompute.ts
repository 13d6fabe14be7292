// Activation recompute as a Megatron-LM or Megatron-DeepSpeed script asks for it (read-megatron.ts
// megatronFacts): the granularity, and for full recompute the grouping Megatron runs it in.
import type { Recompute } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";

/** The recompute the flags make (_add_training_args of megatron/training/arguments.py): granularity
 *  full|selective; --recompute-activations means selective; --checkpoint-activations is
 *  Megatron-DeepSpeed's full recompute, and Megatron-LM exits on it (validate_args). `layers`: the
 *  file's --num-layers, else the model's. */
export function readRecompute(m: Map<string, ArgSetting>, o: string, deepspeed: boolean, layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined): Recompute {
  const has = (f: string) => m.has(f);
  let recompute: Recompute = "none";
  const granularity = strArg(m, "recompute-granularity");
  if (granularity !== undefined && granularity !== "full" && granularity !== "selective")
    throw new UserError(`${o}: ${argAt(m, "recompute-granularity")} is not full or selective`);
  if (granularity) recompute = granularity;
  if (has("recompute-activations")) recompute = "selective";
  if (has("checkpoint-activations")) {
    if (!deepspeed) throw new UserError(`${o}: ${argAt(m, "checkpoint-activations")} is no longer a Megatron-LM argument (validate_args exits); use --recompute-granularity full`);
    if (recompute === "selective") throw new UserError(`${o}: --checkpoint-activations (full) and selective recompute contradict`);
    recompute = "full";
  }
  const method = strArg(m, "recompute-method");
  if (recompute === "selective" && method !== undefined)
    throw new UserError(`${o}: ${argAt(m, "recompute-method")} with selective recompute: validate_args refuses it`);
  if (!deepspeed) megatronCoreChecks(m, o, recompute, method);
  // Selective recompute of other modules than the attention core (core_r0.14 --recompute-modules,
  // default core_attn) keeps other activations than paraplan's selective recompute prices.
  const modules = m.get("recompute-modules");
  if (recompute === "selective" && modules && modules.values.join(" ") !== "core_attn")
    throw new UserError(`${o}: --recompute-modules ${modules.values.join(" ")} (line ${modules.line}) recomputes other modules than the attention core, which paraplan does not model`);
  if (recompute === "full") fullRecomputeIsEveryLayer(m, o, method, layers, pp, vpp, stageLayers);
  if (deepspeed && has("checkpoint-activations") && (intArg(m, "checkpoint-num-layers", o) ?? 1) > 1)
    throw new UserError(`${o}: ${argAt(m, "checkpoint-num-layers")} checkpoints groups of layers (one stored input per group, the group rebuilt together), which paraplan does not model; it prices full recompute layer by layer (--checkpoint-num-layers 1)`);
  return recompute;
}

/** What Megatron-LM's TransformerConfig.__post_init__ raises on (megatron/core/transformer/
 *  transformer_config.py @ core_r0.14.0 and core_v0.7.0, built from the arguments for the legacy
 *  and the core models alike, pretrain_gpt.py model_provider): full recompute without
 *  --recompute-method ("recompute_method must be "block" or "uniform"") or without
 *  --recompute-num-layers, and selective recompute with --recompute-num-layers. Megatron-DeepSpeed's
 *  older transformer has no such checks. */
function megatronCoreChecks(m: Map<string, ArgSetting>, o: string, recompute: Recompute, method: string | undefined): void {
  const raises = "which Megatron's TransformerConfig refuses (ValueError)";
  const full = argAt(m, "recompute-granularity");
  if (recompute === "full" && method === undefined)
    throw new UserError(`${o}: ${full} without --recompute-method (uniform or block), ${raises}`);
  if (recompute === "full" && !m.has("recompute-num-layers"))
    throw new UserError(`${o}: ${full} --recompute-method ${method} without --recompute-num-layers, ${raises}`);
  if (recompute === "selective" && m.has("recompute-num-layers"))
    throw new UserError(`${o}: ${argAt(m, "recompute-num-layers")} with selective recompute, ${raises}`);
}

/** Full recompute as Megatron runs it (megatron/core/transformer/transformer_block.py
 *  _checkpointed_forward, over the layers of one model chunk, a stage or a virtual stage):
 *  "uniform" checkpoints groups of --recompute-num-layers layers, every layer recomputed; "block"
 *  checkpoints the first --recompute-num-layers layers of each chunk and keeps the rest's
 *  activations. paraplan's full recompute is every layer checkpointed alone: uniform with groups of
 *  1, or block covering every chunk's layers; anything else is refused, not priced as it. */
function fullRecomputeIsEveryLayer(m: Map<string, ArgSetting>, o: string, method: string | undefined, layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined): void {
  if (method !== undefined && method !== "uniform" && method !== "block")
    throw new UserError(`${o}: ${argAt(m, "recompute-method")} is not uniform or block`);
  const n = intArg(m, "recompute-num-layers", o);
  if (method === "block") {
    const chunk = stageLayers !== undefined ? Math.max(...stageLayers) : layers !== undefined ? Math.ceil(layers / (pp * vpp)) : undefined;
    const where = vpp > 1 ? "virtual stage" : pp > 1 ? "pipeline stage" : "model";
    if (chunk === undefined || n === undefined || n < chunk)
      throw new UserError(`${o}: --recompute-method block ${n === undefined ? "without --recompute-num-layers" : `--recompute-num-layers ${n}`} recomputes only that many of the ${chunk ?? "(unknown)"} layers of each ${where} and keeps the others' activations, which paraplan does not model (it prices every layer recomputed, or none)`);
  } else if ((n ?? 1) > 1)
    throw new UserError(`${o}: --recompute-method ${method ?? "uniform"} --recompute-num-layers ${n} checkpoints groups of ${n} layers (one stored input per group, the group rebuilt together), which paraplan does not model; it prices full recompute layer by layer (--recompute-num-layers 1)`);
}
