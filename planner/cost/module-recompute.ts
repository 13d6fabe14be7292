// What Megatron-Core's fine-grained selective recompute (--recompute-modules, planner/
// recompute-modules.ts) drops from a layer's saved tensors and re-runs before its backward, per
// micro-batch on one GPU. The tensors are Korthikanti et al. 2022's list (§4.1, cost/
// activations.ts activationCoefficients), in units of s·b·h bytes; the work is the forward's own
// terms (cost/compute.ts, cost/moe-time.ts) for the modules re-run.
//   core_attn       the attention core: its materialised scores (5as²b, 2as²b without dropout; a
//                   fused kernel keeps none), re-run at the attention core's time
//   layernorm       each norm that is a module of its own drops its output, the next linear's
//                   saved input, 2sbh (replicated; ÷t under sequence parallelism) and re-runs the
//                   norm (read 2, write 2 bytes an element); Transformer Engine's specs have two:
//                   MLA's input norm and an MoE layer's pre-MLP norm (gpt_layer_specs.py
//                   @ core_r0.14.0: the others are fused into the next linear, an IdentityOp)
//   mla_up_proj     Q, K and V after MLA's up-projections and rotary, 2·(2·n_h(d_n+d_r) + n_h·d_v)
//                   bytes a token (÷t), re-running the two up-projection GEMMs and the rotary
//   mlp             a dense layer's MLP under a checkpoint that keeps its input (the residual its
//                   fused norm reads): its normed input 2sbh (replicated) and its f-wide tensors
//                   (split), re-running the norm, both GEMMs and the activation, and its two
//                   tensor-parallel collectives (selectiveTpShare)
//   moe_act         the routed experts' activation output, 2·f_e/etp bytes a routed row, re-running
//                   the activation (moe-memory.ts, moe-time.ts)
//   shared_experts  the shared experts' f-wide tensors under a checkpoint that keeps their input,
//                   re-running their GEMMs, activation and tensor-parallel collectives
//   moe             an MoE layer's MoE block under a checkpoint that keeps its input (the pre-MLP
//                   norm's output): the router's scores, the routed copies and the shared experts'
//                   tensors dropped (moe-memory.ts), re-running the router, the experts, the shared
//                   experts, their memory-bound work (moe-time.ts), the dispatch and combine
//                   all-to-alls (a third pass, recomputeEpPasses) and the block's tp collectives
// Not counted: an fp8 recipe's casts of the re-run GEMMs' inputs (a few bytes an element beside
// the GEMM), and the kernel launches of the re-run modules.
import { gatedMlp, mlpMatrices } from "../model.js";
import { attentionCoreWidths, moeLayerCount } from "../moe.js";
import { type RecomputeModule, isDefaultModules, recomputeModulesOf } from "../recompute-modules.js";
import type { Engine } from "../engine.js";
import type { Hardware, ModelSpec, Plan } from "../types.js";
import { busiestRank } from "../layout/stages.js";
import { fullRecomputeShare } from "./block-recompute.js";
import { type Gemm, gemmFlops } from "./flops.js";
import { mlaUpGemms, routerGemm, sharedExpertGemms } from "./moe-flops.js";
import { expertParams } from "../moe.js";
import { hbm as hbmTime, ropeWidths } from "./compute.js";
import { trafficFactor } from "./engine-terms.js";

/** Coefficients of s·b·h bytes a layer no longer keeps under these modules (besides the scores,
 *  which activations.ts drops under core_attn). `moeLayer`: an MoE layer's attention and shared
 *  experts, `m` then a dense layer of the shared experts' width (moe-memory.ts sharedWidthLayer). */
export function moduleDiscards(m: ModelSpec, modules: readonly RecomputeModule[], moeLayer: boolean): { replicated: number; split: number } {
  const h = m.hidden;
  let replicated = 0;
  let split = 0;
  const mlpTensors = ((gatedMlp(m) ? 3 : 2) * 2 * m.ffnHidden) / h;
  if (modules.includes("layernorm")) replicated += (m.mla !== undefined ? 2 : 0) + (moeLayer ? 2 : 0);
  if (modules.includes("mla_up_proj") && m.mla !== undefined) {
    const w = attentionCoreWidths(m);
    split += (2 * 2 * w.qk + 2 * w.v) / h;
  }
  if (modules.includes("mlp") && !moeLayer) {
    replicated += 2;
    split += mlpTensors;
  }
  if ((modules.includes("shared_experts") || modules.includes("moe")) && moeLayer && m.ffnHidden > 0) split += mlpTensors;
  return { replicated, split };
}

/** The work "selective" re-runs of one layer per micro-batch beyond the attention core, in
 *  seconds: `tokens` the rank's b·s/cp, `spShare` 1/t under sequence parallelism (else 1), `gemm`
 *  the time of one GEMM on this GPU (cost/compute.ts gemmTime at the matmul peak), `moeLayer` as
 *  moduleDiscards (m then of the shared experts' width). */
export function moduleRecomputeTime(
  m: ModelSpec,
  hw: Hardware,
  e: Engine | undefined,
  modules: readonly RecomputeModule[],
  o: { tp: number; tokens: number; spShare: number; moeLayer: boolean; gemm: (g: Gemm) => number },
): number {
  const { tp, tokens: T, spShare } = o;
  const h = m.hidden;
  const hbm = (bytes: number) => hbmTime(hw, bytes);
  const norm = 4 * T * h * spShare * trafficFactor(e, "norm");
  const act = (f: number) => (gatedMlp(m) ? 6 : 4) * T * (f / tp) * trafficFactor(e, "biasActivation");
  let s = 0;
  if (modules.includes("layernorm")) s += hbm(((m.mla !== undefined ? 1 : 0) + (o.moeLayer ? 1 : 0)) * norm);
  if (modules.includes("mla_up_proj") && m.mla !== undefined) {
    for (const g of mlaUpGemms(m, m.mla, tp, T)) s += o.gemm(g);
    const r = ropeWidths(m);
    s += hbm(4 * T * (r.split / tp + r.whole) * trafficFactor(e, "rotary"));
  }
  const mlp = (f: number) => {
    // [T, h] × [h, f/t] (gate and up), [T, f/t] × [f/t, h]
    s += o.gemm({ m: T, n: f / tp, k: h, count: mlpMatrices(m) - 1 }) + o.gemm({ m: T, n: h, k: f / tp, count: 1 }) + hbm(act(f));
  };
  // (the dense MLP's norm is fused into its first linear, re-run with it)
  if (modules.includes("mlp") && !o.moeLayer) {
    mlp(m.ffnHidden);
    s += hbm(norm);
  }
  if ((modules.includes("shared_experts") || modules.includes("moe")) && o.moeLayer && m.ffnHidden > 0) mlp(m.ffnHidden);
  return s;
}

/** The plan's recompute and the chunks it runs over (block recompute: cost/block-recompute.ts). */
export type RecomputePlan = Pick<Plan, "recompute" | "pp"> & Partial<Pick<Plan, "vpp" | "stageLayers" | "recomputeLayers">>;

/** The share of a layer's forward collectives full recompute runs again: 1, or under block
 *  recompute rank `rank`'s recomputed share (absent: the busiest rank's, whose layers the wire
 *  counts). */
function fullShare(m: ModelSpec, p: RecomputePlan, rank?: number): number {
  if (p.recomputeLayers === undefined) return 1;
  const chunks = { pp: p.pp, vpp: p.vpp ?? 1, stageLayers: p.stageLayers, recomputeLayers: p.recomputeLayers };
  return fullRecomputeShare({ ...chunks, recompute: "full" }, m.layers, rank ?? busiestRank(chunks, m.layers));
}

/** The share of a layer's forward tensor-parallel collectives "selective" runs again, averaged
 *  over the model's layers: a re-run MLP (dense layers, "mlp") or shared experts (MoE layers,
 *  "shared_experts") all-gathers its input and reduce-scatters its output (all-reduces without
 *  sequence parallelism): 2 of the layer forward's 4 (Korthikanti et al. 2022 §4.2.2). 1 under
 *  full recompute (rank `rank`'s block share under block recompute), 0 without recompute. */
export function recomputeTpShare(m: ModelSpec, e: Engine | undefined, p: RecomputePlan, rank?: number): number {
  const recompute = p.recompute;
  if (recompute === "full") return fullShare(m, p, rank);
  if (recompute !== "selective") return 0;
  const modules = recomputeModulesOf(e);
  // (the default, the attention core alone, runs no collective again: no layer count on the search's path)
  if (modules === undefined || isDefaultModules(modules)) return 0;
  const nMoe = moeLayerCount(m);
  const dense = modules.includes("mlp") ? m.layers - nMoe : 0;
  // (a re-run MoE block gathers and scatters its tokens over tp as a dense MLP: wire.ts counts an
  // MoE layer's collectives as a dense one's)
  const shared = modules.includes("moe") || (modules.includes("shared_experts") && m.moe !== undefined && m.moe.sharedExperts > 0) ? nMoe : 0;
  return (0.5 * (dense + shared)) / m.layers;
}

/** Passes of each MoE layer's all-to-alls: forward and backward, and the forward again under
 *  full recompute (its block share under block recompute) or a selective one that re-runs the MoE
 *  block ("moe"). */
export function recomputeEpPasses(m: ModelSpec, e: Engine | undefined, p: RecomputePlan, rank?: number): number {
  if (p.recompute === "full") return 2 + fullShare(m, p, rank);
  return p.recompute === "selective" && recomputeModulesOf(e)?.includes("moe") === true ? 3 : 2;
}

/** The FLOPs one step's "selective" re-runs beyond the attention cores (GEMMs only, as
 *  flops.ts counts), whole model: `tokens` the step's b·s. */
export function moduleRecomputeFlops(m: ModelSpec, modules: readonly RecomputeModule[], tokens: number): number {
  const nMoe = moeLayerCount(m);
  const sum = (gs: Gemm[]) => gs.reduce((a, g) => a + gemmFlops(g), 0);
  let f = 0;
  if (modules.includes("mla_up_proj") && m.mla !== undefined) f += m.layers * sum(mlaUpGemms(m, m.mla, 1, tokens));
  const mlp = (w: number): Gemm[] => [{ m: tokens, n: w, k: m.hidden, count: mlpMatrices(m) - 1 }, { m: tokens, n: m.hidden, k: w, count: 1 }];
  if (modules.includes("mlp")) f += (m.layers - nMoe) * sum(mlp(m.ffnHidden));
  if ((modules.includes("shared_experts") || modules.includes("moe")) && m.moe !== undefined) f += nMoe * sum(sharedExpertGemms(m, 1, tokens));
  // (the router's [T, h]×[h, E] and k routed copies through the expert MLP, moe-flops.ts)
  if (modules.includes("moe") && m.moe !== undefined) f += nMoe * (gemmFlops(routerGemm(m, tokens)) + 2 * tokens * m.moe.topK * expertParams(m));
  return f;
}
