// Which engine a plan is predicted with: --engine, else the one an export format or a --from
// file implies, else the default (planner/engine.ts DEFAULT_ENGINE); --attention,
// --no-grad-overlap, --recompute-modules … then override its settings.
import { DEFAULT_ENGINE, type Engine, type ModelSpec, gradReduceBytes, isDefaultModules, recomputeModulesOf, recomputeModulesRefusal, withOverrides } from "../planner/index.js";
import { loadEngine } from "./load-engine.js";
import { type Builtins, readBuiltins } from "./builtin-table.js";
import type { PlanArgs } from "./plan-args.js";
import { UserError } from "./errors.js";
import { size } from "./format/units.js";

type EngineArgs = Pick<PlanArgs, "engine" | "fusedAttention" | "overlapGradReduce" | "attentionGiven" | "gradOverlapGiven" | "tpCommOverlap" | "gradReduceInBf16" | "gradReduceInFp32" | "overlapParamGather" | "moeDispatcher" | "moeOverlap" | "moeSharedOverlap" | "recomputeModules" | "keptOutputBytes" | "stageSplit" | "bucketBytes" | "maxReuseDistance" | "zero1AllReduce" | "precision" | "valuesFrom">;

export function resolveEngine(args: EngineArgs, implied?: { engine: string; from: string }, builtins: Builtins | undefined = readBuiltins()): { engine: Engine; from: string } {
  const name = args.engine ?? implied?.engine ?? DEFAULT_ENGINE;
  const notes = [args.engine !== undefined ? "--engine" : implied ? implied.from : "default"];
  if (args.attentionGiven) notes.push(`attention ${args.fusedAttention ? "fused" : "unfused"}`);
  if (args.gradOverlapGiven) notes.push(`gradient reduction ${args.overlapGradReduce ? "overlapped" : "after backward"}`);
  const loaded = loadEngine(name, builtins);
  // A setting a --plan file gave is named as the file's field, not as a flag the user did not type.
  const named = (flag: string) => args.valuesFrom?.[flag] ?? flag;
  if (args.overlapParamGather !== undefined && args.overlapParamGather !== loaded.dataParallel.overlapParamGather)
    notes.push(`weight gather ${args.overlapParamGather ? "overlapped" : "after the optimizer"}`);
  if (args.moeDispatcher !== undefined && args.moeDispatcher !== loaded.moe.dispatcher) notes.push(`${args.moeDispatcher === "deepep" ? "DeepEP" : args.moeDispatcher} dispatcher`);
  if (args.moeOverlap !== undefined) notes.push("expert all-to-all overlapped");
  if (args.moeSharedOverlap !== undefined) notes.push("shared experts beside the all-to-all");
  if (args.tpCommOverlap) {
    // A switch the stack does not have is bad input, not a silent no-op.
    if (loaded.tensorParallel.commOverlap === null) throw new UserError(`${named("--tp-comm-overlap")}: the ${loaded.name} engine has no tensor-parallel communication overlap to switch on (megatron-core has: Transformer Engine userbuffers; torchtitan-compile: async TP)`);
    // The overlap needs sequence parallel (layout rule tp_overlap_sp): a stack that never runs it
    // got sequence-parallel plans it cannot run; one without tensor parallel has nothing to hide.
    if (!loaded.supports.tensorParallel || loaded.supports.sequenceParallel === "never")
      throw new UserError(`${named("--tp-comm-overlap")}: the ${loaded.name} engine runs no ${loaded.supports.tensorParallel ? "sequence" : "tensor"} parallel (supports.${loaded.supports.tensorParallel ? "sequenceParallel" : "tensorParallel"}), which the overlap needs; drop --tp-comm-overlap`);
    notes.push("tensor-parallel communication overlapped");
  }
  // Where the stack already reduces 16-bit gradients the switch changes nothing, and says so.
  if (args.gradReduceInBf16 && args.gradReduceInFp32)
    throw new UserError("--grad-reduce-in-bf16 and --grad-reduce-in-fp32 contradict each other: give one");
  // (what the engine keeps under the run's precision: Megatron-LM's fp32 only under bf16)
  const kept = gradReduceBytes({ engine: loaded, precision: args.precision });
  // A stack with no switch to another gradient type under this precision (Megatron-LM 2021 forces
  // fp32 under --bf16, arguments.py @ v2.6, and has no --grad-reduce-in-bf16): the flag is bad input.
  const rule = loaded.dataParallel.gradBytesByPrecision?.[args.precision === "fp16" ? "fp16" : "bf16"];
  const flag = args.gradReduceInBf16 && kept !== 2 ? "--grad-reduce-in-bf16" : args.gradReduceInFp32 && kept !== 4 ? "--grad-reduce-in-fp32" : undefined;
  if (rule?.fixed && flag) throw new UserError(`${named(flag)}: engine ${loaded.name} keeps ${kept === 4 ? "fp32" : "16-bit"} gradients under ${args.precision} with no switch to another type (${loaded.sources["dataParallel.gradBytesByPrecision"] ?? "its profile"}); drop the flag or pick another --engine`);
  if (args.gradReduceInFp32) notes.push(kept === 4 ? "fp32 gradients, as the engine keeps them" : "fp32 gradients");
  if (args.gradReduceInBf16) notes.push(kept === 2 ? "16-bit gradients, as the engine keeps them" : "16-bit gradients");
  if (args.bucketBytes !== undefined && (args.bucketBytes !== loaded.dataParallel.bucketSize || loaded.dataParallel.bucketSizePerDp !== 0)) notes.push(`gradient bucket ${size(args.bucketBytes)}`);
  const engine = withOverrides(loaded, {
    fusedAttention: args.attentionGiven ? args.fusedAttention : undefined,
    overlapGradReduce: args.gradOverlapGiven ? args.overlapGradReduce : undefined,
    tpCommOverlap: args.tpCommOverlap,
    gradReduceInBf16: args.gradReduceInBf16,
    gradReduceInFp32: args.gradReduceInFp32,
    overlapParamGather: args.overlapParamGather,
    moeDispatcher: args.moeDispatcher,
    moeOverlap: args.moeOverlap,
    moeSharedOverlap: args.moeSharedOverlap,
    recomputeModules: args.recomputeModules,
    keptOutputBytes: args.keptOutputBytes,
    stageSplit: args.stageSplit,
  });
  // The modules selective recompute re-runs where not Megatron's default (the flag's, a --from
  // file's or the engine file's own), as --json's recomputeModules gives them (format/plan-json.ts).
  const modules = recomputeModulesOf(engine);
  if (modules !== undefined && !isDefaultModules(modules)) notes.push(`recompute modules ${modules.join(", ")}`);
  // A --from file's gradient bucket (DeepSpeed's reduce_bucket_size), fixed whatever dp is
  // (Engine.dataParallel.bucketSize, priced by planner/cost/engine-terms.ts engineBucketBytes).
  const bucketed = args.bucketBytes === undefined ? engine : { ...engine, dataParallel: { ...engine.dataParallel, bucketSize: args.bucketBytes, bucketSizePerDp: 0 } };
  // A --from file's ZeRO-3 reuse distance (DeepSpeed's stage3_max_reuse_distance), on a stack that
  // releases gathered parameters by it (maxReuseDistance not null: planner/cost/regather.ts), and
  // its ZeRO-1 all-reduce (DeepSpeed's reduce_scatter false).
  const dp = { ...bucketed.dataParallel };
  if (args.maxReuseDistance !== undefined && dp.maxReuseDistance !== null && args.maxReuseDistance !== dp.maxReuseDistance) {
    dp.maxReuseDistance = args.maxReuseDistance;
    notes.push(`ZeRO-3 reuse distance ${args.maxReuseDistance.toLocaleString("en-US")} elements`);
  }
  if (args.zero1AllReduce === true && !dp.zero1AllReduce) {
    dp.zero1AllReduce = true;
    notes.push("ZeRO-1 gradients all-reduced whole");
  }
  const changed = dp.maxReuseDistance !== bucketed.dataParallel.maxReuseDistance || dp.zero1AllReduce !== bucketed.dataParallel.zero1AllReduce;
  const out = changed ? { ...bucketed, dataParallel: dp } : bucketed;
  return { engine: out === engine ? out : withEagerAlike(out, args), from: notes.join("; ") };
}

/** --recompute-modules (or a --from file's) against the engine and model, after resolveEngine:
 *  exit 2 naming it where the engine's selective recompute is another rule than Megatron-Core's,
 *  where the engine runs no selective recompute (whole layers or full only: the modules would
 *  change nothing), or where the model has nothing for a module (recomputeModulesRefusal). */
export function recomputeModulesIssue(args: Pick<PlanArgs, "recomputeModules" | "valuesFrom">, e: Engine, m: ModelSpec): void {
  const modules = args.recomputeModules;
  if (modules === undefined) {
    // An engine file's own list (QA: mla_up_proj on Llama was priced as a selective recompute
    // re-running nothing), refused as the flag's is.
    const own = e.recompute === "any" ? recomputeModulesOf(e) : undefined;
    const why = own === undefined ? null : recomputeModulesRefusal(own, undefined, m);
    if (why !== null) throw new UserError(`--engine ${e.name}: activations.recomputeModules ${JSON.stringify(own)} on ${m.name}: ${why}; drop the module from the engine file, or pick another --engine`);
    return;
  }
  const flag = args.valuesFrom?.["--recompute-modules"] ?? `--recompute-modules ${modules.join(",")}`;
  // An engine with no selective recompute first (recomputeModulesRefusal would say it too, with
  // less: QA found this line unreachable behind it), then one whose selective recompute is
  // another rule (no module asked: the engine's rule alone).
  if (e.recompute !== "any") throw new UserError(`${flag}: engine ${e.name} recomputes ${e.recompute === "full" ? "every layer whole only" : "whole layers or none"} (recompute "${e.recompute}"), no selective recompute for the modules to change; drop the flag`);
  const engine = recomputeModulesRefusal([], e, m);
  if (engine !== null) throw new UserError(`${flag}: ${engine} (engine ${e.name}); pick a Megatron-Core engine or drop the flag`);
  const model = recomputeModulesRefusal(modules, undefined, m);
  if (model !== null) throw new UserError(`${flag} on ${m.name}: ${model}; drop the module`);
}

/** A --from file's bucket, reuse distance and ZeRO-1 all-reduce on the eager engine too (which
 *  prices the plans the engine runs eager, planner/eager.ts; withOverrides carries the flags). */
function withEagerAlike(e: Engine, args: EngineArgs): Engine {
  const eager = e.eager?.engine;
  if (eager === undefined) return e;
  const d = eager.dataParallel;
  const dataParallel = {
    ...d,
    ...(args.bucketBytes !== undefined ? { bucketSize: args.bucketBytes, bucketSizePerDp: 0 } : {}),
    maxReuseDistance: args.maxReuseDistance !== undefined && d.maxReuseDistance !== null ? args.maxReuseDistance : d.maxReuseDistance,
    zero1AllReduce: args.zero1AllReduce === true || d.zero1AllReduce,
  };
  return { ...e, eager: { ...e.eager!, engine: { ...eager, dataParallel } } };
}

/** The header's words for it: "megatron-core (default)", "fsdp (--engine; gradient reduction after backward)". */
export const engineLabel = (e: Engine, from: string) => `${e.name} (${from})`;
