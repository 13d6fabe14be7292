// What `plan` says when the search found no plan: the closest plan when nothing fits in memory,
// else why nothing was valid and which input to change — a fixed dimension only when one was
// fixed; when only the data-parallel size keeps the global batch from dividing, the batch.
import { depthEvery } from "./recompute-depth.js";
import { type SearchResult } from "../../planner/index.js";
import { cpCandidates, ppCandidates, tpCandidates } from "../../planner/space.js";
import { ONE_PLAN, brokenUpTo, dimsOf, ruleContext } from "../../planner/layout/layout.js";
import { RULE_BY_CODE } from "../../planner/layout/rules.js";
import type { PlanRequest } from "../plan-request.js";
import { describePlan, rejections } from "./plan-text.js";
import { count, gib, percent } from "./units.js";

/** The data-parallel sizes of the layouts whose tp, cp and pp pass every rule (ascending). */
export function layoutDps(req: PlanRequest): number[] {
  const { model: m, training: t, fixed, hw } = req;
  const ctx = ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain);
  const out = new Set<number>();
  for (const tp of tpCandidates(m, t, fixed))
    for (const cp of cpCandidates(m, t, fixed, tp))
      for (const pp of ppCandidates(m, t, fixed, tp, cp)) {
        const dp = t.gpus / (tp * cp * pp);
        if (fixed.dp !== undefined && fixed.dp !== dp) continue;
        if (brokenUpTo("pp", ctx, { ...dimsOf(ONE_PLAN), tp, cp, pp, dp }) === null) out.add(dp);
      }
  return [...out].sort((a, b) => a - b);
}

/** The one-line reason for exit 1 (without the "paraplan: " prefix). */
export function noPlanMessage(req: PlanRequest, result: SearchResult): string {
  const c = result.closest;
  if (c) {
    const over = c.memory.total / c.memory.capacity - 1;
    // Context parallel divides the activations, but a sequence that no 2·cp chunks divide (the
    // zig-zag split, layout/rules.ts cp_seq) leaves it out: say so, or "add GPUs" misleads.
    const cpSeq = result.rejected.cp_seq ?? 0;
    const cpNote = c.cp === 1 && cpSeq > 0
      ? ` Context parallel, which would split the activations, was left out: 2·cp does not divide the ${count(req.training.seqLen)}-token sequence (${count(cpSeq)} configurations, [cp_seq]); a length divisible by 2·cp allows it.`
      : "";
    return `no plan fits in memory; the closest, ${describePlan(c, depthEvery(req.training.engine, req.model.layers))}, needs ${gib(c.memory.total)} per GPU, ${percent(over)} over the ${gib(c.memory.capacity)} capacity. Add GPUs, raise recompute or ZeRO, or use a GPU with more memory.${cpNote}`;
  }
  const fixedAny = Object.keys(req.fixed).length > 0;
  if (result.searched === 0) return `no valid configuration: no configuration matches the fixed dimensions together. Relax the fixed dimensions.`;
  const why = rejections(result).replace(/^rejected: /, "");
  const codes = Object.keys(result.rejected);
  const batch = req.training.globalBatch;
  const dps = layoutDps(req);
  if (codes.length === 1 && codes[0] === "batch_dp" && dps.length > 0) {
    // Every layout is valid but for the batch: name the smallest dp and its nearest multiple.
    const dp = dps[0]!;
    const next = Math.ceil(batch / dp) * dp;
    const sizes = dps.length > 1 ? `dp can be ${dps.slice(0, 6).map(count).join(", ")}${dps.length > 6 ? ", …" : ""}` : `dp is ${count(dp)}`;
    return `no valid configuration: ${why}: the global batch ${count(batch)} is not divisible by the data-parallel size of any layout of ${count(req.training.gpus)} GPUs (${sizes}). Pass --global-batch a multiple of ${count(dp)} (e.g. ${count(next)})${fixedAny ? ", or relax the fixed dimensions" : ", or a GPU count whose data-parallel size divides it"}.`;
  }
  // A fixed tp whose groups leave the node or NVLink domain: the rule's own sentence names the
  // numbers (GB200 NVL72: tp 16 is below 72 but its groups straddle the racks' boundaries).
  const tpWhy = fixedTpSpans(req, result);
  // Under fp16 an engine with neither expert parallel (rule moe_fp16_ep) nor a priced loop over
  // several local experts (moe_fp16_local_experts) has no layout for the model at any GPU count
  // or batch: the precision is the input to change (Megatron-Core, arguments.py:1041-1042 @ 000c4ac).
  const ctx = ruleContext(req.model, req.training, req.hw.gpusPerNode, req.hw.fabric?.nvlinkDomain);
  if (ctx.fp16NoEp && ctx.expertsLoop && ctx.experts > 1)
    return `no valid configuration: ${why}. Under fp16 engine ${req.training.engine?.name ?? "megatron-core"} trains no plan of ${req.model.name}'s ${count(ctx.experts)} experts (ep > 1 stops at start, ep 1 loops over them): use --precision bf16 or fp8.`;
  return `no valid configuration: ${why}${tpWhy}. ${fixedAny ? "Relax the fixed dimensions." : "Change the GPU count (--gpus) or the global batch (--global-batch)."}`;
}

function fixedTpSpans(req: PlanRequest, result: SearchResult): string {
  const tp = req.fixed.tp;
  if (tp === undefined || (result.rejected.tp_spans_nodes ?? 0) === 0) return "";
  const { model: m, training: t, hw } = req;
  const ctx = ruleContext(m, t, hw.gpusPerNode, hw.fabric?.nvlinkDomain);
  const rule = RULE_BY_CODE.tp_spans_nodes;
  const d = { ...dimsOf(ONE_PLAN), tp, dp: t.gpus / tp };
  return rule.ok(d, ctx) ? "" : `: ${rule.message(d, ctx)}`;
}
