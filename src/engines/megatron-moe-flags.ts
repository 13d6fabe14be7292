// Megatron-LM's mixture-of-experts arguments beyond the experts' shape and layout (_add_moe_args,
// megatron/training/arguments.py:2774-2898 @ core_v0.14.0), each in one of three places:
//   read into the price    MOE_READ (moe-args.ts readMegatronMoe; --moe-router-force-load-balancing
//                          in read-megatron.ts)
//   refused by name        megatron-refusals.ts NOT_EXPRESSIBLE, and megatronMoeChecks below where
//                          the file's other flags decide (exit 2)
//   changing nothing paraplan prices   MOE_NEUTRAL, each with why
// test/export/from-moe-flags.test.ts holds every MoE flag of known-names.ts to one of them. Line
// numbers: megatron/core/transformer/transformer_config.py @ core_v0.14.0 unless said otherwise.
import type { ModelSpec, MoeDispatcher, Recompute, SharedExpertOverlap } from "../../planner/index.js";
import { MEGATRON_SHARED_OVERLAP } from "../../planner/megatron-defaults.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";

/** Read into the price: the experts' shape and layers, the router's score function, the dispatcher
 *  and grouped GEMM paraplan prices (or refuses), the expert layout, the MTP modules, forced balance. */
export const MOE_READ = [
  "num-experts", "moe-router-topk", "moe-ffn-hidden-size", "moe-shared-expert-intermediate-size", "moe-layer-freq",
  "moe-router-score-function", "moe-token-dispatcher-type", "moe-grouped-gemm", "expert-model-parallel-size",
  "expert-tensor-parallel-size", "mtp-num-layers", "moe-router-force-load-balancing", "moe-enable-deepep",
  "overlap-moe-expert-parallel-comm", "delay-wgrad-compute", "moe-shared-expert-overlap",
  // (selective recompute with moe among the modules: megatron-recompute.ts)
  "moe-layer-recompute",
];

/** Accepted: they change which experts a token goes to, a loss scalar, a kernel's fusion within
 *  what paraplan prices, or nothing in a training step. The balance a router reaches is
 *  --moe-imbalance's (an assumption plan prints), whichever balancing the file sets. */
export const MOE_NEUTRAL: Record<string, string> = {
  "moe-router-load-balancing-type": "chooses how the router is balanced (aux_loss, seq_aux_loss, sinkhorn, none); the aux losses are reductions over the [tokens, experts] scores, sinkhorn iterates on them in fp32 (moe_utils.py sinkhorn); the balance reached is --moe-imbalance's",
  "moe-aux-loss-coeff": "a loss weight",
  "moe-z-loss-coeff": "a loss weight (z_loss_func: a logsumexp over the [tokens, experts] logits)",
  "mtp-loss-scaling-factor": "a loss weight",
  "moe-router-pre-softmax": "softmax before or after the top-k selection, over the same scores",
  "moe-router-topk-scaling-factor": "scales the routing probabilities",
  "moe-router-num-groups": "group-limited routing (with --moe-router-group-topk) chooses a token's experts within g groups; the alltoall dispatcher sends every routed copy on its own (token_dispatcher.py MoEAlltoAllTokenDispatcher.token_dispatch), so neither the copies a rank sends nor, under uniform routing, the share leaving its node change; under --moe-enable-deepep the model's grouping (moe.routingGroups) prices the dispatch and the file's must agree with it (deepepGroups)",
  "moe-router-group-topk": "see --moe-router-num-groups",
  "moe-router-enable-expert-bias": "aux-loss-free balancing (DeepSeek-V3 §2.1.2): a bias per expert in the top-k selection, E fp32 values (router.py TopKRouter); with a softmax router Megatron raises, refused in megatronMoeChecks",
  "moe-router-bias-update-rate": "the expert bias's step size",
  "moe-router-fusion": "fuses the top-k and aux-loss kernels over the [tokens, experts] scores",
  "moe-router-dtype": "fp32: the router GEMM takes bf16 inputs with an fp32 output and its backward runs in TF32 (moe_utils.py RouterGatingLinearFunction, Transformer Engine general_gemm), the router being E/(k·3·f_e) of the routed GEMMs' FLOPs (DeepSeek-V3: 256/(8·3·2048) = 0.5%); fp64 is refused (NOT_EXPRESSIBLE)",
  "moe-permute-fusion": "fuses the permutation kernels; paraplan prices the routed copies' permute and unpermute as one read and write of 2h bytes a copy each, fused or not (cost/moe-time.ts)",
  "moe-per-layer-logging": "logging",
  "moe-token-drop-policy": "used only with --moe-expert-capacity-factor, which is refused",
  "moe-deepep-num-sms": "the SMs DeepEP's kernels run on (20 by default, transformer_config.py:193, as DeepSeek-V3's §3.5.1); paraplan prices the dispatch on the critical path with no compute beside it, where the SMs it takes cost no time",
  "moe-use-upcycling": "converts a dense checkpoint into the MoE model once before the first step (training.py:1071-1114 @ core_v0.14.0); the steps are the MoE model's",
  "moe-upcycling-granularity": "used only by --moe-use-upcycling's conversion",
  "moe-use-legacy-grouped-gemm": "GroupedMLP runs the same grouped GEMMs (grouped_gemm's gmm) as TEGroupedMLP in 16 bits; under fp8 it has no fp8 path and is refused in megatronMoeChecks",
  "moe-pad-experts-for-cuda-graph-inference": "inference only",
};

/** Megatron's MoE flags whose meaning depends on the file's others: a run Megatron stops at start,
 *  or one whose time paraplan does not price, is exit 2 naming the flag (the router and dispatcher
 *  are built only with --num-experts). */
export function megatronMoeChecks(m: Map<string, ArgSetting>, o: string, s: { fp8: boolean }, notes: string[]): void {
  const experts = intArg(m, "num-experts", o, 0) ?? 0;
  if (experts === 0) return;
  const has = (f: string) => m.has(f);
  const stops = (what: string, where: string) => new UserError(`${o}: ${what}: Megatron raises at start (${where} @ core_v0.14.0), so the run never trains`);
  // The legacy GroupedMLP calls grouped_gemm's gmm on 16-bit tensors (experts.py GroupedMLP @
  // core_v0.14.0); only TEGroupedMLP pads and casts for fp8.
  if (s.fp8 && has("moe-use-legacy-grouped-gemm") && has("moe-grouped-gemm"))
    throw new UserError(`${o}: ${argAt(m, "moe-use-legacy-grouped-gemm")} under fp8: the legacy GroupedMLP runs the experts' GEMMs in 16 bits (grouped_gemm's gmm has no fp8 path, experts.py @ core_v0.14.0), which paraplan does not model: it prices them in fp8`);
  const score = strArg(m, "moe-router-score-function") ?? "softmax";
  if (has("moe-router-enable-expert-bias") && score !== "sigmoid")
    throw stops(`${argAt(m, "moe-router-enable-expert-bias")} with the ${score} score function (expert bias needs --moe-router-score-function sigmoid)`, "transformer_config.py:1200-1204");
  const groupTopk = intArg(m, "moe-router-group-topk", o);
  if (groupTopk !== undefined) {
    const groups = intArg(m, "moe-router-num-groups", o);
    if (groups === undefined) throw stops(`${argAt(m, "moe-router-group-topk")} without --moe-router-num-groups`, "transformer_config.py:1246-1249");
    if (experts % groups !== 0) throw stops(`${argAt(m, "moe-router-num-groups")} does not divide --num-experts ${experts}`, "transformer_config.py:1251-1254");
    if (groupTopk > groups) throw stops(`${argAt(m, "moe-router-group-topk")} is more than ${argAt(m, "moe-router-num-groups")}`, "transformer_config.py:1255-1258");
  }
  const balancing = m.get("moe-router-load-balancing-type")?.values ?? ["aux_loss"];
  const sinkhorn = balancing.length === 1 && balancing[0] === "sinkhorn";
  // Softmax over one selected expert has a zero gradient (transformer_config.py:1230-1238).
  if ((intArg(m, "moe-router-topk", o) ?? 2) === 1 && score === "softmax" && !has("moe-router-pre-softmax") && !sinkhorn)
    throw stops(`${argAt(m, "moe-router-topk")} with a softmax router and no --moe-router-pre-softmax`, "transformer_config.py:1230-1238");
  const coeffs = m.get("moe-aux-loss-coeff")?.values ?? [];
  if (sinkhorn && coeffs.some((c) => Number(c) !== 0))
    throw new UserError(`${o}: ${argAt(m, "moe-router-load-balancing-type")} with ${argAt(m, "moe-aux-loss-coeff")}: Megatron asserts no aux loss under sinkhorn routing (router.py:188 @ core_v0.14.0), so the run stops at its first step`);
}

/** Under DeepEP the model's group-limited routing sets how many nodes a token reaches (planner/
 *  cost/dispatch.ts), so the file's --moe-router-num-groups / --moe-router-group-topk (limiting
 *  only where the token's groups are fewer than the groups) must be the model's; the dispatcher. */
export function deepepGroups(m: Map<string, ArgSetting>, o: string, dispatcher: MoeDispatcher | undefined, model: ModelSpec | undefined): MoeDispatcher | undefined {
  if (dispatcher !== "deepep" || model?.moe === undefined) return dispatcher;
  const g = intArg(m, "moe-router-num-groups", o);
  const t = intArg(m, "moe-router-group-topk", o);
  const file = g !== undefined && t !== undefined && t < g ? `${t} of ${g} groups a token` : "no group limit";
  const e = model.moe;
  const theirs = e.routingGroups !== undefined ? `${e.groupsPerToken} of ${e.routingGroups} groups a token` : "no group limit";
  if (file !== theirs)
    throw new UserError(`${o}: ${argAt(m, "moe-enable-deepep")} routes with ${file} (--moe-router-num-groups, --moe-router-group-topk), the model ${model.name} with ${theirs} (moe.routingGroups, moe.groupsPerToken): DeepEP's dispatch sends a token once per node it reaches, which the grouping sets; pass the --model the configuration trains, or make them agree`);
  return dispatcher;
}

/** --moe-shared-expert-overlap: the shared experts on a stream of their own beside the all-to-alls
 *  (Engine.moe.sharedExpertOverlap, MEGATRON_SHARED_OVERLAP); undefined without it, and without
 *  shared experts (no --moe-shared-expert-intermediate-size: moe_layer.py:68-69, 162-167 builds
 *  none), a note. Megatron raises beside a dispatcher other than alltoall
 *  (transformer_config.py:771-776 @ core_v0.14.0; flex too from core_v0.18.0, :1644-1650 @
 *  core_v0.19.0, so a file with flex runs a release that overlaps it, read as such). */
export function sharedExpertOverlap(m: Map<string, ArgSetting>, o: string, notes: string[]): SharedExpertOverlap | undefined {
  if (!m.has("moe-shared-expert-overlap") || (intArg(m, "num-experts", o, 0) ?? 0) === 0) return undefined;
  const flag = argAt(m, "moe-shared-expert-overlap");
  if (!m.has("moe-shared-expert-intermediate-size")) {
    notes.push(`${o}: ${flag} changes nothing without shared experts (no --moe-shared-expert-intermediate-size: moe_layer.py builds none)`);
    return undefined;
  }
  const dispatcher = strArg(m, "moe-token-dispatcher-type") ?? "allgather";
  if (dispatcher !== "alltoall" && dispatcher !== "flex")
    throw new UserError(`${o}: ${flag} with the ${dispatcher} dispatcher${m.has("moe-token-dispatcher-type") ? "" : " (Megatron's default)"}: Megatron raises "moe_shared_expert_overlap only works with alltoall token dispatcher" (transformer_config.py:771-776 @ core_v0.14.0; alltoall or flex from core_v0.18.0), so the run never trains`);
  if (dispatcher === "flex") notes.push(`${o}: ${flag} with the flex dispatcher runs on core_v0.18.0 and later (earlier releases raise, transformer_config.py:771-776 @ core_v0.14.0): the up projection beside DeepEP's dispatch, the down beside its combine, as those releases run it (token_dispatcher.py MoEFlexTokenDispatcher @ core_v0.19.0)`);
  return MEGATRON_SHARED_OVERLAP;
}

/** Megatron-Core's default --moe-deepep-num-sms (transformer_config.py:193 @ core_v0.14.0). */
export const DEEPEP_SMS = 20;

/** --overlap-moe-expert-parallel-comm: the 1F1B all-to-all overlap, a forward and a backward
 *  micro-batch's MoE layers interleaved so that each one's all-to-alls run beside the other's
 *  compute (Engine.moe.overlap; --delay-wgrad-compute splits the experts' weight gradients out to
 *  widen the window, and asserts the overlap), with what core_v0.14.0 asserts beside it
 *  (transformer_config.py:1298-1346): ep > 1, a virtual pipeline where pp > 1, no full recompute,
 *  no --recompute-method or --recompute-num-layers, no --moe-shared-expert-overlap, at most one MTP
 *  layer; the legacy grouped GEMM not beside --delay-wgrad-compute. `sms`: the SMs DeepEP's kernels
 *  take (--moe-deepep-num-sms, default 20, transformer_config.py:193) under flex, null for NCCL's
 *  all-to-all (whose SMs the engine's overlapSlowdown prices). Undefined: no overlap. */
export function moeOverlap(m: Map<string, ArgSetting>, o: string, s: { ep: number; pp: number; vpp: number; recompute: Recompute; dispatcher: MoeDispatcher | undefined }): { sms: number | null } | undefined {
  const has = (f: string) => m.has(f);
  const stops = (what: string, lines: string) => new UserError(`${o}: ${what}: Megatron asserts it at start (transformer_config.py:${lines} @ core_v0.14.0), so the run never trains`);
  if (!has("overlap-moe-expert-parallel-comm")) {
    if (has("delay-wgrad-compute")) throw stops(`${argAt(m, "delay-wgrad-compute")} without --overlap-moe-expert-parallel-comm`, "1340-1343");
    return undefined;
  }
  const flag = argAt(m, "overlap-moe-expert-parallel-comm");
  if (s.ep <= 1) throw stops(`${flag} without expert parallel (ep ${s.ep})`, "1309-1311");
  if (s.pp > 1 && s.vpp <= 1) throw stops(`${flag} with pp ${s.pp} and no virtual pipeline`, "1303-1307");
  if (s.recompute === "full") throw stops(`${flag} with full recompute`, "1317-1319");
  for (const [f, lines] of [["recompute-method", "1320-1322"], ["recompute-num-layers", "1323-1325"], ["moe-shared-expert-overlap", "1332-1334"]] as const)
    if (has(f)) throw stops(`${flag} with ${argAt(m, f)}`, lines);
  if ((intArg(m, "mtp-num-layers", o, 0) ?? 0) > 1) throw stops(`${flag} with ${argAt(m, "mtp-num-layers")} (at most 1)`, "1335-1337");
  if (has("delay-wgrad-compute") && has("moe-use-legacy-grouped-gemm")) throw stops(`${argAt(m, "delay-wgrad-compute")} with ${argAt(m, "moe-use-legacy-grouped-gemm")}`, "1344-1346");
  return { sms: s.dispatcher === "deepep" ? (intArg(m, "moe-deepep-num-sms", o) ?? DEEPEP_SMS) : null };
}
