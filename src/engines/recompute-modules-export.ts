// Megatron-Core's recompute modules (Engine.recomputeModules, planner/recompute-modules.ts) in the
// exports. Megatron-LM's writes them (--recompute-modules, core_v0.12.0 and later), checked as
// TransformerConfig.__post_init__ checks them (transformer_config.py:864-937 @ core_r0.14.0), and
// read-megatron.ts reads them back (megatron-recompute.ts readRecomputeModules). The other formats
// have no module list: a selective plan whose modules are not the default would recompute there
// what their own selective recompute does, not what the plan was priced with, so they refuse it,
// naming --recompute-modules (as engine-dispatch.ts refuses the engine's expert communication).
import { type ModelSpec, type Plan, type RecomputeModule, type Training, RECOMPUTE_MODULES, isDefaultModules, recomputeModulesOf, recomputeModulesRefusal } from "../../planner/index.js";
import { overlapsSharedExperts } from "../../planner/cost/dispatch.js";

type Arg = [string, ...string[]];

/** The modules a selective plan re-runs on the training's engine where they are not Megatron's
 *  default (core_attn alone), in RECOMPUTE_MODULES' order (an engine file's may be any: the
 *  reader gives that order back); undefined otherwise (no file need state them). */
export function exportedModules(p: Pick<Plan, "recompute">, t: Training): readonly RecomputeModule[] | undefined {
  if (p.recompute !== "selective") return undefined;
  const modules = recomputeModulesOf(t.engine);
  return modules === undefined || isDefaultModules(modules) ? undefined : RECOMPUTE_MODULES.filter((x) => modules.includes(x));
}

const flagOf = (modules: readonly RecomputeModule[]) => `--recompute-modules ${modules.join(",")}`;

/** Under fp8, the modules whose outputs Megatron rebuilds in fp8, which its default delayed
 *  scaling refuses (transformer_config.py:912-918 @ core_r0.14.0): the file states the tensorwise
 *  (current) recipe, which paraplan prices as delayed (megatron-refusals.ts: fp8-recipe). */
const fp8Rebuilt = (modules: readonly RecomputeModule[], t: Training) => (t.precision === "fp8" ? modules.filter((x) => x === "layernorm" || x === "moe_act") : []);

/** Why a Megatron-LM file of `release` cannot run the plan's modules as priced; null where it can
 *  (or where the plan needs no list). */
export function megatronModulesRefusal(m: ModelSpec, p: Plan, t: Training, release: "core_r0.14" | "core_v0.7"): string | null {
  const modules = exportedModules(p, t);
  if (modules === undefined) return null;
  const flag = flagOf(modules);
  if (release === "core_v0.7") return `${flag}: Megatron-LM core_v0.7 has no --recompute-modules (core_v0.12.0 adds it; its selective recompute is the attention core alone); use --release core_r0.14`;
  const model = recomputeModulesRefusal(modules, t.engine, m);
  if (model !== null) return `${flag}: ${model}`;
  // (the export writes --moe-grouped-gemm except under fp16, which grouped GEMM does not run: moe-args.ts)
  if (modules.includes("moe_act") && t.precision === "fp16")
    return `${flag}: moe_act needs --moe-grouped-gemm (Megatron raises ValueError without it, transformer_config.py:884-887 @ core_r0.14.0), which runs under bf16 only (validate_args, arguments.py:790-791 @ core_v0.14.0); use bf16 or fp8, or drop moe_act`;
  if (modules.includes("shared_experts") && overlapsSharedExperts(m, t, p))
    return `${flag}: shared_experts beside the shared experts' overlap the engine prices (moe.sharedExpertOverlap, written --moe-shared-expert-overlap): Megatron raises ValueError ("shared_experts recompute cannot work with --moe-shared-expert-overlap", transformer_config.py:903-910 @ core_r0.14.0)`;
  return null;
}

/** The arguments after --recompute-granularity selective (megatronModulesRefusal has passed): the
 *  list in Megatron's spelling, and under fp8 with layernorm or moe_act the tensorwise recipe. */
export function megatronModulesArgs(p: Plan, t: Training): Arg[] {
  const modules = exportedModules(p, t);
  if (modules === undefined) return [];
  return [["--recompute-modules", ...modules], ...(fp8Rebuilt(modules, t).length > 0 ? [["--fp8-recipe", "tensorwise"] as Arg] : [])];
}

/** What the Megatron-LM file asks of the run beside the modules (a note), or null. */
export function megatronModulesNote(p: Plan, t: Training): string | null {
  const modules = exportedModules(p, t);
  const rebuilt = modules === undefined ? [] : fp8Rebuilt(modules, t);
  if (rebuilt.length === 0) return null;
  return `--recompute-modules with ${rebuilt.join(" and ")} under fp8: written with --fp8-recipe tensorwise (Megatron's default delayed scaling raises ValueError: "Delayed scaling does not support moe_act and layernorm recompute for fp8", transformer_config.py:912-918 @ core_r0.14.0; priced as delayed), and needs Transformer Engine 2.6.0dev0 or later (lines 919-924)`;
}

/** Why a file of `stack` (`own`: what its selective recompute re-runs instead, with its source)
 *  cannot run the plan's modules; null where the plan needs no list. */
export function modulesExportRefusal(p: Pick<Plan, "recompute">, t: Training, stack: string, own: string): string | null {
  const modules = exportedModules(p, t);
  if (modules === undefined) return null;
  return `${flagOf(modules)}: the engine ${t.engine!.name}'s selective recompute re-runs ${modules.join(", ")} (Megatron-Core's --recompute-modules; activations.recomputeModules), and ${stack} has no such list (${own}): the file would not run as priced; use --format megatron, or drop the modules`;
}
