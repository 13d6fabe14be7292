// What expert parallelism puts on the wire, per MoE layer and pass (forward, backward, and the
// forward again under full recompute) and per step:
//   ep-dispatch, ep-combine   all-to-all of the routed copies over the ep group: each rank sends
//                             its T_r·k token copies (h wide, 16-bit) to the ranks of their experts
//                             and gets the outputs back; the backward mirrors both (formulas-scale
//                             §1.7; Megatron-Core MoEAlltoAllTokenDispatcher). The busiest rank
//                             receives ρ times the mean and the collective ends with it.
//                             The engine's dispatcher (Engine.moe): DeepEP's sends a token once
//                             per node (its link's offNode share, cost/dispatch.ts); under fp8
//                             an engine may dispatch in fp8 (ep-dispatch: the forward dispatch and
//                             the backward's gradient toward the experts, DeepSeek-V3 §3.3.3),
//                             ep-combine stays 16-bit.
//   etp-gather, etp-scatter   with expert tensor parallel, the etp group all-gathers the received
//                             copies and reduce-scatters the outputs (Megatron-Core's dispatcher
//                             with expert_tensor_parallel_size > 1).
//   edp-gradients, edp-weights the routed experts' gradients and (ZeRO) weights over the expert
//                             data-parallel group, in the ZeRO stage's pattern of the dense ones
//                             (Megatron-Core DistributedDataParallel reduces expert-parallel
//                             parameters over expt_dp_group; formulas-scale §1.5).
import { busiestRankLayers, moeLayersIn, mtpCount } from "../moe.js";
import { rankParamSplit, stageParamSplit } from "../model.js";
import { busiestRank } from "../layout/stages.js";
import { moeImbalanceOf } from "../cost/moe-facts.js";
import { bf16Optimizer, gradReduceBytes } from "../cost/engine-terms.js";
import { edpOf } from "../layout/groups.js";
import type { Link, ModelSpec, Plan, Training } from "../types.js";
import { dispatchBytes, offNodeShare } from "../cost/dispatch.js";
import { BYTES_16 } from "./facts.js";
import { recomputeEpPasses } from "../cost/module-recompute.js";
import type { WireGroup, WireItem, WireKind, WireId, WireUnit } from "./wire.js";

type Add = (i: Omit<WireItem, "link" | "where" | "pass"> & { on: WireGroup; pass?: WireItem["pass"]; link?: Link }) => void;

export function expertWire(m: ModelSpec, t: Training, plan: Plan, item: Add, epLink?: Link): void {
  const { tp, pp, dp, ep, etp, microBatch: b, zero } = plan;
  const e = m.moe!;
  const microBatches = t.globalBatch / (dp * b);
  // The rank holding the most layers (even split: the last; uneven stages: the fullest, whose
  // all-to-alls set the step as its compute does, cost/time.ts; vpp > 1: its virtual stages
  // together), and its MoE layers, whole, so that calls per step stay whole.
  const busy = busiestRankLayers(m, plan);
  const layersInStage = busy.layers;
  const moeHere = busy.moeLayers;
  const moeAll = moeLayersIn(m, 0, m.layers) + mtpCount(m);
  // (a third pass under full recompute, or a selective one re-running the MoE block)
  const passes = recomputeEpPasses(m, t.engine, plan);
  const copies = (b * t.seqLen * e.topK) / tp; // T_r·k per rank
  const rho = moeImbalanceOf(t);
  const ranks = t.gpus / pp; // ranks of one stage
  const perLayer = moeHere / layersInStage; // calls per (average) layer and pass
  const calls = microBatches * moeHere * passes;
  const worldPerCall = (bytes: number) => ranks * moeAll * microBatches * passes * bytes;
  if (ep > 1) {
    // (a deduplicating dispatcher's share of the buffer on the network, on the ep group's link)
    // (a group across the network with no `local` has one rank a node)
    const offNode = epLink ? offNodeShare(m, t, ep, epLink.local ?? (epLink.kind === "network" ? 1 : undefined)) : undefined;
    const link = offNode !== undefined ? { ...epLink!, offNode } : undefined;
    for (const id of ["ep-dispatch", "ep-combine"] as const) {
      const bytes = (id === "ep-dispatch" ? dispatchBytes(t) : BYTES_16) * copies * m.hidden;
      item({ id, group: "ep", on: "ep", kind: "allToAll", bytes: rho * bytes, size: ep, unit: "layer-pass", perUnit: perLayer, calls, hides: "none", closedForm: true, worldBytes: worldPerCall(bytes), ...(link ? { link } : {}) });
    }
  }
  if (etp > 1) {
    const bytes = BYTES_16 * etp * copies * m.hidden;
    const pairs: [WireId, WireKind][] = [["etp-gather", "allGather"], ["etp-scatter", "reduceScatter"]];
    for (const [id, kind] of pairs)
      item({ id, group: "etp", on: "etp", kind, bytes: rho * bytes, size: etp, unit: "layer-pass", perUnit: perLayer, calls, hides: "none", closedForm: true, worldBytes: worldPerCall(bytes) });
  }
  const edp = edpOf({ tp, cp: plan.cp, dp, pp, ep, etp });
  if (edp > 1) {
    // (the busiest rank's own stages' experts: layout/stages.ts rankHoldings)
    const grad = BYTES_16 * rankParamSplit(m, t.seqLen, plan, busiestRank(plan, m.layers)).expert;
    const world = (ranks * BYTES_16 * stageParamSplit(m, t.seqLen, tp, 1, m.layers, "only", ep, etp).expert);
    // Gradients at the engine's reduce type, as the dense ones (wire.ts); weights at 16 bits.
    const g = gradReduceBytes(t) / BYTES_16;
    const add = (id: WireId, kind: WireKind, unit: WireUnit, n: number, hides: WireItem["hides"], scale = 1) =>
      item({ id, group: "edp", on: "edp", kind, bytes: scale * grad, size: edp, unit, perUnit: 1, calls: n, hides, closedForm: true, worldBytes: n * scale * world });
    if (zero === 0) {
      add("edp-gradients", "allReduce", "step", 1, "backward", g);
      // (BF16_Optimizer: the experts' shards stepped and gathered as the dense ones, wire.ts)
      if (bf16Optimizer(t, zero)) add("edp-weights", "allGather", "step", 1, "forward");
    } else if (zero <= 2) {
      add("edp-gradients", "reduceScatter", zero === 2 ? "microbatch" : "step", zero === 2 ? microBatches : 1, "backward", g);
      add("edp-weights", "allGather", "step", 1, "forward");
    } else {
      add("edp-gradients", "reduceScatter", "microbatch", microBatches, "backward", g);
      add("edp-weights", "allGather", "microbatch", 2 * microBatches, "forward");
    }
  }
}
