// What an engine's stack does not run, in words, for the plan header: the search tries only what
// it runs (planner/space.ts), so a user who misses tensor-parallel plans under `--engine fsdp` is
// told why. Nothing for Megatron-Core's own set (the default engine's, MEGATRON_SUPPORTS).
import { type Engine, type EngineRecompute, MEGATRON_SUPPORTS } from "../../planner/index.js";

const stages = (z: readonly number[]) => (z.length === 4 ? "0–3" : z.join(", "));
const sameSet = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x) => b.includes(x));

const RECOMPUTE_LIMIT: Record<EngineRecompute, string | null> = { any: null, layers: "recompute whole layers or none", full: "full recompute only" };

/** "no tensor parallel · no pipeline · ZeRO 0, 2, 3 · recompute whole layers or none", or null
 *  where the stack runs what Megatron-Core runs. */
export function engineLimits(e: Pick<Engine, "supports" | "recompute">, d = MEGATRON_SUPPORTS): string | null {
  const s = e.supports;
  const out: string[] = [];
  if (!s.tensorParallel) out.push("no tensor parallel");
  else if (s.sequenceParallel !== d.sequenceParallel) out.push(s.sequenceParallel === "never" ? "no sequence parallel" : s.sequenceParallel === "always" ? "sequence parallel always with tp" : "sequence parallel optional");
  if (!s.pipelineParallel) out.push("no pipeline");
  if (s.contextParallel.length === 0) out.push("no context parallel");
  else if (!sameSet(s.contextParallel, d.contextParallel)) out.push(`context parallel ${s.contextParallel.join(", ")} only`);
  if (!s.expertParallel) out.push("no expert parallel");
  const zero = !sameSet(s.zero, d.zero);
  const piped = s.pipelineParallel && !sameSet(s.zeroWithPipeline, d.zeroWithPipeline);
  if (zero || piped) {
    const beside = !s.pipelineParallel ? "" : !sameSet(s.zeroWithPipeline, s.zero) ? ` (${stages(s.zeroWithPipeline)} beside a pipeline)` : s.zero.length > 1 ? ", beside a pipeline too" : "";
    out.push(`ZeRO ${stages(s.zero)}${beside}`);
  }
  if (!sameSet(s.precisions, d.precisions)) out.push(`${s.precisions.join(", ")} only`);
  if (s.mixedPrecisionNeedsFsdp && (s.tensorParallel || s.pipelineParallel)) out.push("tp or pp with FSDP only (16-bit)");
  const recompute = RECOMPUTE_LIMIT[e.recompute];
  if (recompute) out.push(recompute);
  return out.length ? out.join(" · ") : null;
}
