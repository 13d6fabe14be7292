// Activation recompute as a Megatron-LM or Megatron-DeepSpeed script asks for it (read-megatron.ts
// megatronFacts): the granularity, for full recompute the grouping Megatron runs it in, and for
// selective recompute the modules it re-runs (--recompute-modules).
import { type ModelSpec, type Recompute, type RecomputeModule, RECOMPUTE_MODULES, UNPRICED_RECOMPUTE_MODULES, recomputeModulesRefusal } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";

/** The recompute the flags make (_add_training_args of megatron/training/arguments.py): granularity
 *  full|selective; --recompute-activations means selective; --checkpoint-activations is
 *  Megatron-DeepSpeed's full recompute, and Megatron-LM exits on it (validate_args). `layers`: the
 *  file's --num-layers, else the model's. */
export function readRecompute(m: Map<string, ArgSetting>, o: string, deepspeed: boolean, layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined, notes: string[]): Recompute {
  const has = (f: string) => m.has(f);
  let recompute: Recompute = "none";
  const granularity = strArg(m, "recompute-granularity");
  if (granularity !== undefined && granularity !== "full" && granularity !== "selective")
    throw new UserError(`${o}: ${argAt(m, "recompute-granularity")} is not full or selective`);
  if (granularity) recompute = granularity;
  if (has("recompute-activations")) recompute = "selective";
  // The deprecated --moe-layer-recompute: selective recompute with moe among the modules
  // (readRecomputeModules), and a ValueError beside full granularity (transformer_config.py:926-937
  // @ core_r0.14.0).
  if (has("moe-layer-recompute")) {
    if (recompute === "full") throw new UserError(`${o}: ${argAt(m, "moe-layer-recompute")} with full recompute granularity: Megatron raises ValueError ("Do not set --moe-layer-recompute with full recompute granularity")`);
    recompute = "selective";
  }
  if (has("checkpoint-activations")) {
    if (!deepspeed) throw new UserError(`${o}: ${argAt(m, "checkpoint-activations")} is no longer a Megatron-LM argument (validate_args exits); use --recompute-granularity full`);
    if (recompute === "selective") throw new UserError(`${o}: --checkpoint-activations (full) and selective recompute contradict`);
    recompute = "full";
  }
  const method = strArg(m, "recompute-method");
  if (recompute === "selective" && method !== undefined)
    throw new UserError(`${o}: ${argAt(m, "recompute-method")} with selective recompute: validate_args refuses it`);
  if (!deepspeed) megatronCoreChecks(m, o, recompute, method);
  // Selective recompute of other modules than the attention core: Megatron-LM's (readRecomputeModules);
  // Megatron-DeepSpeed has no --recompute-modules, its selective recompute is the attention core.
  // (QA: an empty list or core_attn twice was said to recompute "other modules", and under full
  // recompute the flag passed unsaid)
  const modules = m.get("recompute-modules");
  const dsHasNone = "Megatron-DeepSpeed has no --recompute-modules (megatron/arguments.py @207b2d5a): its selective recompute re-runs the attention core alone";
  if (deepspeed && modules) {
    if (recompute === "selective" && modules.values.some((v) => v !== "core_attn")) throw new UserError(`${o}: ${argAt(m, "recompute-modules")}: ${dsHasNone}; drop the flag`);
    notes.push(`${o}: ${argAt(m, "recompute-modules")}: ${dsHasNone}; read as ${recompute === "selective" ? "that" : recompute === "full" ? "full recompute" : "no recompute"}`);
  }
  // An empty list under selective recompute checkpoints nothing (each module asks `in
  // recompute_modules`, transformer_config.py:867-868 @ core_r0.14.0 checks none): no recompute.
  if (!deepspeed && recompute === "selective" && modules?.values.length === 0 && !has("moe-layer-recompute")) {
    notes.push(`${o}: ${argAt(m, "recompute-modules")} names no module: selective recompute re-runs nothing, read as no recompute`);
    recompute = "none";
  }
  // (block with --recompute-num-layers 0 checkpoints no layer: transformer_block.py:443-461 @
  // core_r0.14.0 runs each plainly, and TransformerConfig asks only that the count is given)
  if (recompute === "full" && fullRecomputeLayers(m, o, deepspeed, method, layers, pp, vpp, stageLayers) === 0) {
    notes.push(`${o}: ${argAt(m, "recompute-method")} ${argAt(m, "recompute-num-layers")} checkpoints no layer: read as no recompute`);
    recompute = "none";
  }
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
 *  _checkpointed_forward @ core_r0.14.0, over the layers of one model chunk, a stage or a virtual
 *  stage): "uniform" checkpoints groups of --recompute-num-layers layers, every layer recomputed;
 *  "block" checkpoints the first --recompute-num-layers layers of each chunk and runs the rest
 *  without recompute. paraplan prices uniform with groups of 1, and block: every layer where N
 *  covers each chunk's, else the first N of each (Plan.recomputeLayers, read by
 *  blockRecomputeLayers). Groups are refused, not priced as layers; so is block below a chunk's
 *  layers in Megatron-DeepSpeed, whose engine prices whole layers or none. Returns the count. */
function fullRecomputeLayers(m: Map<string, ArgSetting>, o: string, deepspeed: boolean, method: string | undefined, layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined): number | undefined {
  if (method !== undefined && method !== "uniform" && method !== "block")
    throw new UserError(`${o}: ${argAt(m, "recompute-method")} is not uniform or block`);
  const n = intArg(m, "recompute-num-layers", o, 0);
  if (method === "block") {
    const chunk = largestChunk(layers, pp, vpp, stageLayers);
    const where = vpp > 1 ? "virtual stage" : pp > 1 ? "pipeline stage" : "model";
    if (n === undefined || (deepspeed && (chunk === undefined || n < chunk)))
      throw new UserError(`${o}: --recompute-method block ${n === undefined ? "without --recompute-num-layers" : `--recompute-num-layers ${n}`} recomputes only that many of the ${chunk ?? "(unknown)"} layers of each ${where} and keeps the others' activations, which paraplan does not model ${deepspeed ? "on Megatron-DeepSpeed (its engine prices every layer recomputed, or none)" : "without the count"}`);
  } else if (n === 0)
    throw new UserError(`${o}: ${argAt(m, "recompute-method")} ${argAt(m, "recompute-num-layers")}: uniform groups of 0 layers never advance (transformer_block.py:431-441 @ core_r0.14.0 loops forever), so the run never trains; use --recompute-num-layers 1`);
  else if ((n ?? 1) > 1)
    throw new UserError(`${o}: --recompute-method ${method ?? "uniform"} --recompute-num-layers ${n} checkpoints groups of ${n} layers (one stored input per group, the group rebuilt together), which paraplan does not model; it prices full recompute layer by layer (--recompute-num-layers 1)`);
  return n;
}

/** The layers of a model chunk, the largest where stages differ (undefined where unknown). */
const largestChunk = (layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined): number | undefined =>
  stageLayers !== undefined ? Math.max(...stageLayers) : layers !== undefined ? Math.ceil(layers / (pp * vpp)) : undefined;

/** Megatron-LM's --recompute-method block --recompute-num-layers N under full recompute, where N is
 *  below the largest chunk's layers: the plan's recomputeLayers (planner/cost/
 *  block-recompute.ts; the first min(N, c) layers of a chunk of c recomputed). Undefined where every
 *  layer is (uniform, or N covering each chunk), without full recompute, and in Megatron-DeepSpeed
 *  (fullRecomputeLayers refuses it there). */
export function blockRecomputeLayers(m: Map<string, ArgSetting>, o: string, recompute: Recompute, layers: number | undefined, pp: number, vpp: number, stageLayers: number[] | undefined, notes: string[]): number | undefined {
  if (recompute !== "full" || strArg(m, "recompute-method") !== "block") return undefined;
  const n = intArg(m, "recompute-num-layers", o, 0)!;
  const chunk = largestChunk(layers, pp, vpp, stageLayers);
  if (chunk !== undefined && n >= chunk) return undefined;
  const where = vpp > 1 ? "virtual stage" : pp > 1 ? "pipeline stage" : "model";
  notes.push(`${o}: ${argAt(m, "recompute-method")} ${argAt(m, "recompute-num-layers")}: the first ${n} layers of each ${where}${chunk !== undefined ? ` (of ${chunk})` : ""} recomputed, the others keep their activations`);
  return n;
}

/** The recompute settings a Megatron file gives: the engine's modules (ConfigReading), and the
 *  plan's depth (Plan.recomputeLayers). */
export interface RecomputeFacts {
  /** --recompute-modules under selective recompute (readRecomputeModules). */
  recomputeModules?: RecomputeModule[] | undefined;
  /** --recompute-method block --recompute-num-layers N under full recompute (blockRecomputeLayers). */
  recomputeLayers?: number | undefined;
}

/** The reading's fields of them, where set (the depth travels in the plan read). */
export const recomputeReading = (f: RecomputeFacts): { recomputeModules?: RecomputeModule[] } => ({
  ...(f.recomputeModules !== undefined ? { recomputeModules: f.recomputeModules } : {}),
});

/** --recompute-modules (core_v0.12.0 and later): the modules Megatron's selective recompute
 *  re-runs (TransformerConfig.recompute_modules, transformer_config.py:864-937 @ core_r0.14.0), in
 *  RECOMPUTE_MODULES' order, duplicates once (Megatron asks `in`); undefined without the flag (the
 *  engine's, Megatron's default core_attn), or where the list is not read: no selective recompute
 *  (Megatron reads it only there: a note), or an empty list (readRecompute: no recompute). Exit 2
 *  where Megatron raises at start, on "moe" (UNPRICED_RECOMPUTE_MODULES), and on a module `model`
 *  has nothing for (recomputeModulesRefusal). */
export function readRecomputeModules(m: Map<string, ArgSetting>, o: string, recompute: Recompute, s: { fp8: boolean; model?: ModelSpec | undefined }, notes: string[]): RecomputeModule[] | undefined {
  const given = m.get("recompute-modules");
  // (the deprecated --moe-layer-recompute appends moe to the list, Megatron's default core_attn
  // where none is given: transformer_config.py:864-865, 926-937 @ core_r0.14.0)
  const layer = m.has("moe-layer-recompute");
  if ((given === undefined || given.values.length === 0) && !layer) return undefined;
  const flag = given !== undefined ? argAt(m, "recompute-modules") : argAt(m, "moe-layer-recompute");
  const values = [...(given?.values ?? ["core_attn"]), ...(layer ? ["moe"] : [])];
  if (recompute !== "selective") {
    notes.push(`${o}: ${flag} changes nothing under ${recompute === "full" ? "full recompute" : "no recompute"}: Megatron reads the list only with --recompute-granularity selective (transformer_config.py:867 @ core_r0.14.0)`);
    return undefined;
  }
  // (each says what to change: QA)
  const stops = (what: string, lines: string, fix: string, raises = "ValueError") => new UserError(`${o}: ${flag}: ${what}: Megatron raises ${raises} at start (transformer_config.py:${lines} @ core_r0.14.0), so the run never trains; ${fix}`);
  // (QA: `MODS="mla_up_proj moe_act"` … `--recompute-modules $MODS` was said to make Megatron raise;
  // args-file.ts resolves a variable set to one word, not to a list)
  const variable = values.find((v) => v.includes("$"));
  if (variable !== undefined) throw new UserError(`${o}: ${flag}: ${variable} is a shell variable paraplan does not resolve (one set to a list of words); write the modules in its place, a word each`);
  const megatrons = [...RECOMPUTE_MODULES, ...Object.keys(UNPRICED_RECOMPUTE_MODULES)].sort();
  const unknown = values.filter((v) => !megatrons.includes(v));
  // A list in one word ("a,b", or quoted "a b"), or in upper case: Megatron takes each module as a
  // word of its own, spelled as it lists them.
  const words = values.flatMap((v) => v.toLowerCase().split(/[\s,]+/).filter((w) => w !== ""));
  const spelled = words.every((w) => megatrons.includes(w)) ? `write them as Megatron reads them, a lower-case word each: --recompute-modules ${words.join(" ")}` : "name each as Megatron lists them";
  if (unknown.length > 0) throw stops(`${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not among Megatron's modules (${megatrons.join(", ")})`, "868-882", spelled, "AssertionError");
  const unpriced = values.find((v) => Object.hasOwn(UNPRICED_RECOMPUTE_MODULES, v));
  if (unpriced !== undefined) throw new UserError(`${o}: ${flag}: ${unpriced} ${UNPRICED_RECOMPUTE_MODULES[unpriced]}`);
  const modules = RECOMPUTE_MODULES.filter((x) => values.includes(x));
  const has = (f: string) => m.has(f);
  if (modules.includes("moe_act") && !has("moe-grouped-gemm")) throw stops("moe_act without --moe-grouped-gemm", "884-887", "add --moe-grouped-gemm, or drop moe_act");
  if (modules.includes("mla_up_proj") && !has("multi-latent-attention")) throw stops("mla_up_proj without --multi-latent-attention", "889-893", "drop mla_up_proj");
  if (modules.includes("shared_experts") && has("moe-shared-expert-intermediate-size") && has("moe-shared-expert-overlap"))
    throw stops(`shared_experts with ${argAt(m, "moe-shared-expert-overlap")} ("shared_experts recompute cannot work with --moe-shared-expert-overlap")`, "903-910", "drop shared_experts or --moe-shared-expert-overlap");
  // Under fp8 the dropped outputs of the norms and the experts' activation are rebuilt in fp8,
  // which delayed scaling (Megatron's default --fp8-recipe) cannot (lines 912-924).
  const fp8Rebuilt = modules.filter((x) => x === "layernorm" || x === "moe_act");
  if (s.fp8 && fp8Rebuilt.length > 0) {
    const recipe = strArg(m, "fp8-recipe") ?? "delayed";
    if (recipe === "delayed") throw stops(`${fp8Rebuilt.join(" and ")} under fp8 with ${m.has("fp8-recipe") ? argAt(m, "fp8-recipe") : "the delayed recipe (--fp8-recipe's default)"} ("Delayed scaling does not support moe_act and layernorm recompute for fp8")`, "912-918", `set --fp8-recipe tensorwise (as paraplan's export writes it), or drop ${fp8Rebuilt.join(" and ")}`);
    notes.push(`${o}: ${flag}: ${fp8Rebuilt.join(" and ")} recomputed under fp8 needs Transformer Engine 2.6.0dev0 or later (Megatron raises ValueError on an older one: transformer_config.py:919-924 @ core_r0.14.0)`);
  }
  // Model code that runs the list otherwise than paraplan prices it (QA): the legacy models' layers
  // read core_attn alone (ParallelAttention, megatron/legacy/model/transformer.py:605-608 @
  // core_v0.14.0), and the local spec's norms are modules of their own on every layer
  // (gpt_layer_specs.py:196 get_gpt_layer_local_spec), not Transformer Engine's two.
  const others = modules.filter((x) => x !== "core_attn");
  if (has("use-legacy-models") && others.length > 0)
    throw new UserError(`${o}: ${flag} beside ${argAt(m, "use-legacy-models")}: the legacy models re-run only core_attn of the list (megatron/legacy/model/transformer.py:605-608 @ core_v0.14.0), so ${others.join(", ")} would re-run nothing; drop ${others.length > 1 ? "them" : "it"}, or the legacy models`);
  if (modules.includes("layernorm") && strArg(m, "transformer-impl") === "local")
    throw new UserError(`${o}: ${flag} beside ${argAt(m, "transformer-impl")}: the local spec's input and pre-MLP norms are modules of their own on every layer (gpt_layer_specs.py:196 get_gpt_layer_local_spec @ core_v0.14.0), and paraplan prices layernorm as Transformer Engine's spec runs it (latent attention's input norm and an MoE layer's pre-MLP norm alone); drop layernorm, or run Transformer Engine`);
  const model = s.model;
  const why = model === undefined ? null : recomputeModulesRefusal(modules, undefined, model);
  if (why !== null) throw new UserError(`${o}: ${flag} on ${model!.name}: ${why}; pass the --model the configuration trains, or drop the module`);
  return modules;
}
