// The attention kernel a Megatron-LM or Megatron-DeepSpeed script runs (read-megatron.ts
// megatronFacts): fused (flash, cuDNN) or unfused (the s×s scores materialised), as the model
// implementation the flags choose builds it.
import { type ArgSetting, argAt, strArg } from "./args-file.js";

const FLASH_FLAGS = ["use-flash-attn", "use-flash-attn-v1", "use-flash-attn-v2", "use-flash-attn-triton", "use-flash-attn-builder"];

/** true fused, false unfused, undefined where the file leaves it to the engine's default.
 *  Megatron-LM (megatron/training/arguments.py, pretrain_gpt.py model_provider @ core_r0.14.0 and
 *  core_v0.7.0):
 *  - --use-legacy-models builds megatron/legacy/model/transformer.py ParallelAttention: flash
 *    attention with --use-flash-attn (causal self-attention, as GPT's), else CoreAttention, which
 *    materialises the scores; --attention-backend is core's and not read there.
 *  - --transformer-impl local builds the local spec (gpt_layer_specs.py get_gpt_layer_local_spec:
 *    core_r0.14 LocalSpecProvider.core_attention, core_v0.7 core_attention=DotProductAttention),
 *    megatron/core/transformer/dot_product_attention.py DotProductAttention, unfused whatever
 *    --attention-backend or --use-flash-attn say (neither reaches it): said in a note.
 *  - Transformer Engine (the default): TEDotProductAttention by --attention-backend (unfused and
 *    local unfused; flash, fused and auto fused); --use-flash-attn is the legacy models' flag.
 *  Megatron-DeepSpeed: its --use-flash-attn flags (megatron/arguments.py @207b2d5a). */
export function megatronAttention(m: Map<string, ArgSetting>, o: string, deepspeed: boolean, notes: string[]): boolean | undefined {
  const flash = FLASH_FLAGS.some((f) => m.has(f));
  if (deepspeed) return flash ? true : undefined;
  if (m.has("use-legacy-models")) return flash;
  const backend = strArg(m, "attention-backend");
  if (strArg(m, "transformer-impl") === "local") {
    const said = [...FLASH_FLAGS, "attention-backend"].filter((f) => m.has(f) && !(f === "attention-backend" && (backend === "unfused" || backend === "local")));
    if (said.length > 0) notes.push(`${o}: ${said.map((f) => argAt(m, f)).join(", ")} not used by --transformer-impl local, whose DotProductAttention is unfused: read as unfused attention`);
    return false;
  }
  if (backend !== undefined) return backend !== "unfused" && backend !== "local";
  return flash ? true : undefined;
}
