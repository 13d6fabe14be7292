// The Megatron-LM / Megatron-DeepSpeed flags read-megatron.ts refuses or names rather than prices:
// flags that change performance in ways paraplan does not model (a warning), that move state to
// the CPU or build another model (exit 2, by flag), and sliding-window attention, which paraplan
// prices from a model's config.json but not from these arguments.
import type { ModelSpec } from "../../planner/index.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt } from "./args-file.js";

/** Known flags that change performance in ways paraplan does not model: named, then ignored. */
export const NOT_MODELED = [
  // (--recompute-modules is read by megatron-recompute.ts: under selective recompute the engine's
  // modules, refused where Megatron raises and on moe; without selective recompute it does nothing)
  "distribute-saved-activations", "cuda-graph-impl",
  "enable-cuda-graph", "ds-sequence-parallel-fpdt",
  "enable-zbh1-pipeline", "partition-activations",
];

/** Flags that move activations or optimizer state to the CPU: GPU memory and step time both
 *  change beyond what paraplan models, so the run is refused by flag, not priced as on-GPU. */
export const CPU_OFFLOAD = ["cpu-offloading-num-layers", "optimizer-cpu-offload", "checkpoint-in-cpu", "cpu-optimizer",
  // Megatron-DeepSpeed's FPDT with its chunks offloaded to host memory (megatron/arguments.py
  // --ds-sequence-parallel-fpdt-offloading @0782d753; QA: read silently)
  "ds-sequence-parallel-fpdt-offloading"];

/** Known flags that build another model, or hold or move other state than paraplan prices: every
 *  real Megatron flag is known (known-names.ts), so these are refused by flag (exit 2), not priced
 *  as the run without them. `when`, where given, says which values matter. */
export const NOT_EXPRESSIBLE: Record<string, { why: string; when?: (value: string | undefined) => boolean }> = {
  // The MLP: paraplan's Megatron MLPs are GELU and SwiGLU (model-facts.ts has no other gate).
  "quick-geglu": { why: "builds a quick-GELU-gated MLP" },
  "squared-relu": { why: "builds a squared-ReLU MLP" },
  "softmax-type": { why: "changes attention's softmax", when: (v) => v !== "vanilla" },
  // fp8 recipes beyond the planner's (fp8 matmuls, 16-bit parameters and their gathers).
  "fp8-param-gather": { why: "keeps the parameters in fp8 and gathers them in fp8" },
  "first-last-layers-bf16": { why: "keeps the first and last layers in bf16 under fp8" },
  "num-layers-at-start-in-bf16": { why: "keeps the first layers in bf16 under fp8" },
  "num-layers-at-end-in-bf16": { why: "keeps the last layers in bf16 under fp8" },
  // NVFP4 training, and fp8 recipes with other kernels and scaling state than the delayed and
  // tensorwise (current) scaling the engine's fp8 figures describe.
  "fp4-format": { why: "trains in fp4 (NVFP4)" },
  "fp4-recipe": { why: "trains in fp4 (NVFP4)" },
  "fp4-param-gather": { why: "keeps the parameters in fp4 and gathers them in fp4" },
  "fp8-recipe": { why: "scales fp8 by blocks (blockwise, MXFP8 microscaling), other kernels and state than delayed or tensorwise scaling", when: (v) => v !== "delayed" && v !== "tensorwise" },
  // Experts: the planner prices dropless experts, recomputed with the layer or not at all.
  "moe-expert-capacity-factor": { why: "caps each expert's tokens at a capacity (dropping or padding)" },
  "moe-pad-expert-input-to-capacity": { why: "pads each expert's input to its capacity" },
  // The router's and dispatcher's other state and kernels (megatron-moe-flags.ts lists the MoE
  // flags that change nothing paraplan prices; @ core_v0.14.0):
  // router.py apply_input_jitter: an fp32 noise tensor times the input, both kept for backward.
  "moe-input-jitter-eps": { why: "multiplies each MoE layer's router input by fp32 noise, keeping the noise and the jittered input for backward" },
  // experts.py TEGroupedMLP.forward: probs × input before fc1, the product kept beside the input.
  "moe-apply-probs-on-input": { why: "scales each routed copy by its probability before the experts, keeping the scaled copy for backward" },
  // moe_utils.py RouterGatingLinearFunction: torch.mm in fp64; token_dispatcher.py unpermutes in it.
  "moe-router-dtype": { why: "runs the router's GEMMs and the unpermutation in fp64", when: (v) => v === "fp64" },
  // moe_utils.py pad_routing_map: each rank routes extra copies so that every expert's count is a
  // multiple of 16 (32 under MXFP8); without fp8 Megatron raises (transformer_config.py:1220-1222).
  "moe-router-padding-for-fp8": { why: "routes extra copies so that each expert's count from every rank is a multiple of 16" },
  // core_v0.7.0 moe_layer.py:32: experts split over tp·ep; later releases keep the flag, unused.
  "moe-extended-tp": { why: "splits the experts over tp·ep in core_v0.7 (a no-op later, replaced by --expert-tensor-parallel-size)" },
  // The pipeline split: paraplan prices stages that each hold a layer (megatron-stages.ts reads the
  // split flags and layouts that keep to that).
  "standalone-embedding-stage": { why: "gives the embedding a pipeline stage of its own" },
  // Layers of other shapes: rotary embeddings on part of each head (TransformerConfig
  // rotary_percent; the config.json reader refuses partial rotary too), and per-layer shapes
  // from a heterogeneous-layers config (Nemotron-NAS style).
  "rotary-percent": { why: "rotates only part of each head (partial rotary embeddings)", when: (v) => Number(v) !== 1 },
  "heterogeneous-layers-config-path": { why: "builds layers of differing shapes (a heterogeneous-layers config)" },
  "heterogeneous-layers-config-encoded-json": { why: "builds layers of differing shapes (a heterogeneous-layers config)" },
  // Megatron-DeepSpeed's knowledge distillation (microsoft/Megatron-DeepSpeed @0782d753): under
  // either flag megatron/training.py pretrain builds a teacher model beside the student
  // (setup_teacher_model), whose forward pretrain_gpt.py's forward_step runs each micro-batch
  // (calculate_mos_loss); paraplan prices the student alone.
  kd: { why: "trains against a teacher model (knowledge distillation: a second model built beside the student, its forward run every micro-batch)" },
  mos: { why: "trains against a teacher model (mixture of students by distillation: a second model built beside the student, its forward run every micro-batch)" },
  // Megatron's "Move residual connections to fp32" (arguments.py; TransformerConfig
  // fp32_residual_connection): the residual adds and the layer inputs full recompute keeps in fp32,
  // where the engines price a 16-bit residual stream (Engine.residualBytes).
  "fp32-residual-connection": { why: "keeps the residual stream in fp32, more activation memory and traffic than the 16-bit residual priced" },
  // Megatron-DeepSpeed's memory optimizations (megatron/arguments.py _add_memoryopt_args @0782d753):
  // each layer split into two checkpointed parts, and linear layers cut into DeepSpeed TiledLinear tiles.
  "split-transformers": { why: "splits each transformer layer into two checkpointed parts, other saved tensors than a layer's" },
  "memory-centric-tiled-linear": { why: "cuts each linear layer into tiles (DeepSpeed's TiledLinear), other GEMMs and memory than priced" },
};

/** Sliding-window attention as Megatron-LM lays it out (--window-size, and --window-attn-skip-freq
 *  for which layers keep full attention): paraplan prices windows from a model's config.json, not
 *  from these arguments, so neither side's window is taken for the other's. */
export function slidingWindowRefusal(m: Map<string, ArgSetting>, o: string, model: ModelSpec | undefined, engine: string): void {
  const flag = ["window-size", "window-attn-skip-freq"].find((f) => m.has(f));
  if (flag !== undefined) throw new UserError(`${o}: ${argAt(m, flag)} builds sliding-window attention, which paraplan reads from a model's config.json, not from ${engine} arguments; it would price full attention`);
  if (model?.slidingWindow !== undefined)
    throw new UserError(`${o}: the model ${model.name} uses sliding-window attention, which this file does not set (no --window-size: ${engine} would train full attention); pass the --model the configuration trains`);
}
