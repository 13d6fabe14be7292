// Megatron-LM core_v0.19.0's pretrain_gpt.py flags that core_r0.14 ∪ core_v0.7.0 (known-names.ts
// MEGATRON_FLAGS) lack, each placed by what it does in a training step, read in Megatron-LM
// @ core_v0.19.0 (5be96267; the list: test/export/fixtures/megatron-lm-core_v0.19.0.txt):
//   MEGATRON_V019_NEUTRAL    changes neither time nor memory of the step paraplan prices (by reason)
//   MEGATRON_V019_ALIASES    the --disable-X / --no-X spelling of a core_r0.14 flag: read as that one
//   MEGATRON_V019_REFUSED    changes time or memory in a way paraplan does not price: exit 2 by name
//   MEGATRON_V019_OFFLOAD    moves activations to the CPU: exit 2 by name (as CPU_OFFLOAD)
//   MEGATRON_V019_UNPRICED   another kernel, fusion or CUDA graph for the same work: warned, then
//                            ignored (as megatron-refusals.ts NOT_MODELED and megatron-flags.ts fusionFlags)
//   megatronV019Checks       those whose meaning depends on the file's other flags
// test/export/megatron-v019.test.ts holds every name of the fixture to exactly one place.
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";

const words = (s: string) => s.trim().split(/\s+/);

/** Accepted: each group's reason says why the step paraplan prices stays the same. */
export const MEGATRON_V019_NEUTRAL: Record<string, string[]> = {
  "checkpoint saving and loading (writers, process groups, validation, dequantisation at load), outside the step": words(`
    async-ckpt-cpu-priority async-ckpt-io-priority async-ckpt-use-cpu-shm async-strategy
    ckpt-fully-parallel-load-exchange-algo ckpt-fully-parallel-load-process-group ckpt-fully-parallel-save-process-group
    disable-ckpt-load-validate-sharding-integrity no-ckpt-load-validate-sharding-integrity disable-stream-ckpt-dequant
    no-stream-ckpt-dequant dist-ckpt-workers verify-integrity override-ckpt-iteration disable-strict-fsdp-dtensor-load`),
  "logging, profiling and diagnostics (tensorboard, NVTX, the PyTorch profiler, NCCL's flight recorder, dumps and sniff tests every N iterations)": words(`
    disable-log-loss-scale-to-tensorboard log-device-memory-used log-memory-interval nvtx-ranges record-shapes
    pytorch-profiler-collect-callstack pytorch-profiler-collect-chakra pytorch-profiler-collect-shapes
    disable-flight-recorder-dump-on-timeout no-flight-recorder-dump-on-timeout disable-flight-recorder-extra-dump-on-exec
    no-flight-recorder-extra-dump-on-exec disable-flight-recorder-include-only-active no-flight-recorder-include-only-active
    flight-recorder-dump-path flight-recorder-include-stack-trace flight-recorder-trace-buffer-size save-activations-interval
    save-dgrads-interval save-params-interval save-tokens-per-expert-interval save-wgrads-interval gpu-sniff-test-interval`),
  "data loading, datasets and tokenizers (fill-in-the-middle rewrites a sample within its length): the step gets batches of the same shape": words(`
    chat-template dataloader-defer-npy-index-mmap dataloader-fast-cache-load fim-data fim-eod-token fim-fragment-rate
    fim-middle-token fim-no-prefix fim-pad-token fim-prefix-token fim-rate fim-split-sample fim-spm-rate fim-suffix-token
    per-dataset-sequences-path null-tokenizer-eod-id null-tokenizer-pad-id tokenizer-hf-no-include-special-tokens
    tokenizer-hf-no-use-fast tokenizer-sentencepiece-legacy tokenizer-special-tokens
    disable-tokenizer-sentencepiece-ignore-extra-whitespaces no-tokenizer-sentencepiece-ignore-extra-whitespaces
    disable-use-tokenizer-model-from-checkpoint-args enable-msc`),
  "evaluation runs (forward only, between training steps)": words(`eval-global-batch-size eval-micro-batch-size start-eval-at-iter validation-set-names`),
  "inference serving and generation (dynamic batching, KV cache, speculative decoding, the text server), which pretrain_gpt.py's training step does not run": words(`
    enable-chunked-prefill inference-coordinator-port inference-cuda-graph-all-prefills inference-cuda-graph-max-tokens
    inference-cuda-graph-scope inference-disable-ep-consensus no-inference-disable-ep-consensus inference-disable-triton-nvls-kernels
    inference-dynamic-batching-async-sched-mode inference-dynamic-batching-cuda-graph-mixed-prefill-count
    inference-dynamic-batching-cuda-graph-sizing-distribution inference-dynamic-batching-logprobs-mode
    inference-dynamic-batching-mamba-memory-ratio inference-dynamic-batching-max-requests inference-dynamic-batching-max-tokens
    inference-dynamic-batching-paused-buffer-size-gb inference-dynamic-batching-prefix-caching
    no-inference-dynamic-batching-prefix-caching inference-dynamic-batching-prefix-caching-coordinator-policy
    inference-dynamic-batching-prefix-caching-eviction-policy inference-dynamic-batching-prefix-caching-mamba-gb
    inference-dynamic-batching-prefix-caching-routing-alpha inference-dynamic-batching-sampling-backend
    inference-dynamic-batching-track-generated-token-events inference-fuse-tp-communication inference-grouped-gemm-backend
    inference-logging-step-interval inference-moe-disable-fused-quant-kernels inference-moe-token-dispatcher-type inference-shards
    inference-text-gen-server-logging no-inference-text-gen-server-logging inference-use-synchronous-zmq-collectives
    no-inference-use-synchronous-zmq-collectives inference-wandb-logging no-inference-wandb-logging num-speculative-tokens
    mamba-inference-conv-states-dtype mamba-inference-ssm-states-dtype use-same-sampling-seed-across-dp-ranks`),
  "reinforcement-learning rollouts and the inference model beside training (generation, refit, rollout scheduling; used under --perform-rl-step, as core_r0.14's --rl-* flags, which paraplan accepts too)": words(`
    refit-method rl-consumption-granularity rl-default-temperature rl-default-top-k rl-default-top-p rl-generation-lag
    rl-inference-expert-model-parallel-size rl-inference-expert-tensor-model-parallel-size rl-inference-model-unified-memory-level
    rl-inference-parsers rl-inference-pipeline-model-parallel-size rl-inference-tensor-model-parallel-size rl-kv-cache-management-mode
    rl-offload-inference-model-weights-when-idle no-rl-offload-inference-model-weights-when-idle rl-persist-cuda-graphs
    no-rl-persist-cuda-graphs rl-profile rl-profile-dir rl-sequence-packing-max-sequences-per-bin rl-skip-bos-token
    no-rl-skip-bos-token rl-submission-granularity rl-training-cuda-graphs no-rl-training-cuda-graphs no-rl-use-sequence-packing
    rl-verify-model-weights-swap no-rl-verify-model-weights-swap moe-enable-routing-replay`),
  "fault tolerance, signals and fault injection, outside a step's work": words(`
    exit-signal exit-signal-handler-for-dataloader exit-signal-handler-for-training ft-num-warmup-iters
    fault-injector-delay-start-iteration fault-injector-fault-delay fault-injector-fault-probabilities fault-injector-fault-types
    fault-injector-mtti-seconds fault-injector-num-ranks fault-injector-offset-seconds fault-injector-ranks fault-injector-seed`),
  "numerics only, same shapes and kernels: MuP's multipliers and initialisation, weight decay's targets, YaRN's RoPE frequencies": words(`
    use-mup mup-attn-scale-power mup-base-head-dim mup-base-hidden-size mup-embedding-mult mup-output-mult mup-width-mult
    apply-wd-to-qk-layernorm no-weight-decay-cond-type yarn-beta-fast yarn-beta-slow yarn-correction-range-round-to-int
    no-yarn-correction-range-round-to-int yarn-original-max-position-embeddings`),
  "vocabulary padding: paraplan prices --model's vocabulary whatever Megatron-LM pads it to (as --make-vocab-size-divisible-by)": words(`disable-pad-vocab-size no-pad-vocab-size`),
  "the same bytes laid out otherwise (one grouped tensor for the experts' weights or biases, interleaved GLU halves)": words(`
    moe-single-grouped-weight moe-single-grouped-bias moe-mlp-glu-interleave-size moe-shared-expert-glu-interleave-size`),
  "the router's balancing (quantile balancing's bias step): the balance reached is --moe-imbalance's, as megatron-moe-flags.ts MOE_NEUTRAL's": words(`moe-router-quantile-balancing-ema`),
  "phases of the data schedule at a fixed global batch (a checkpoint at each transition)": words(`phase-transition-iterations`),
  // Settings read only under a flag refused by name itself (MEGATRON_V019_REFUSED, or the readers'
  // --optimizer, --moe-token-dispatcher-type and --fp8-recipe checks): without it they build nothing.
  "settings of --experimental-attention-variant dsa / gated_delta_net (DeepSeek sparse attention, gated delta net: experimental_attention_variant/dsa.py, ssm/gated_delta_net), refused itself": words(`
    dsa-indexer-head-dim dsa-indexer-k-norm-epsilon dsa-indexer-k-norm-fp32 dsa-indexer-loss-coeff dsa-indexer-n-heads
    dsa-indexer-rope-interleaved dsa-indexer-skip-topk-offset dsa-indexer-topk dsa-indexer-topk-freq dsa-indexer-use-sparse-loss
    dsa-kernel-backend disable-dsa-indexer-rotate-activation no-dsa-indexer-rotate-activation disable-dsa-indexer-scoring-relu
    no-dsa-indexer-scoring-relu linear-attention-freq linear-conv-kernel-dim linear-key-head-dim linear-num-key-heads
    linear-num-value-heads linear-value-head-dim`),
  "settings of Lion and Muon (--optimizer other than adam is refused by the reader)": words(`
    lion-beta1 lion-beta2 muon-coefficient-type muon-nesterov muon-scalar-optimizer no-use-layer-wise-param-layout`),
  "settings of the flex dispatcher (DeepEP, HybridEP, NCCL-EP), which the reader refuses where tokens move (ep·etp > 1: not the alltoall dispatcher)": words(`
    moe-flex-dispatcher-backend moe-flex-dispatcher-num-sms moe-hybridep-num-blocks-permute moe-hybridep-num-blocks-unpermute
    moe-hybridep-num-sms moe-hybridep-num-sms-preprocessing moe-hybridep-pad-uneven-dispatch-inputs moe-ncclep-static-shape
    moe-ncclep-zero-copy moe-permute-fusion-into-hybridep`),
  "settings of --overlap-moe-expert-parallel-comm (the combined 1F1B all-to-all overlap), refused itself": words(`ep-overlap-early-attn-memory-release high-priority-a2a-comm-stream`),
  "settings of --moe-paged-stash, refused itself": words(`moe-paged-stash-buffer-size-factor-cpu moe-paged-stash-buffer-size-factor-cuda moe-paged-stash-page-size`),
  "settings of --moe-routing-trace-path, refused itself": words(`
    moe-routing-trace-capture-hidden-states moe-routing-trace-capture-logits moe-routing-trace-dump-weights moe-routing-trace-max-training-iters`),
  "settings of --qk-clip, refused itself": words(`qk-clip-alpha qk-clip-threshold`),
  "settings of --use-kitchen-attention, refused itself": words(`kitchen-attention-backend`),
  "settings of --logits-load-dir / --logits-save-dir (distillation from cached logits), refused themselves": words(`
    logits-load-decode-threads logits-load-ignore-errors logits-load-kd-loss-alpha logits-load-msc-prefetch-depth
    logits-load-prefetch-factor logits-save-dtype logits-save-top-k logits-save-top-p logits-save-top-p-min-k`),
  "settings of hybrid (Mamba) layers, which --hybrid-layer-pattern builds and is refused itself": words(`mamba-training-ssm-states-dtype mtp-hybrid-override-pattern`),
  "used only under --fp8-recipe mxfp8 (the LM head in MXFP8), which the reader refuses": words(`fp8-output-proj`),
};

/** The --disable-X / --no-X spellings ArgumentGroupFactory adds beside a core_r0.14 flag (the
 *  same argparse destination, megatron/training/argument_utils.py): read as the older name. */
export const MEGATRON_V019_ALIASES: Record<string, string> = {
  "disable-align-grad-reduce": "no-align-grad-reduce",
  "disable-clone-scatter-output-in-embedding": "no-clone-scatter-output-in-embedding",
  "disable-manual-gc-eval": "no-manual-gc-eval",
  "disable-fp8-wgrad": "no-fp8-wgrad",
  "no-tp-comm-bulk-dgrad": "disable-tp-comm-bulk-dgrad",
  "no-tp-comm-bulk-wgrad": "disable-tp-comm-bulk-wgrad",
  "no-tp-comm-overlap-ag": "disable-tp-comm-overlap-ag",
  "no-tp-comm-overlap-rs": "disable-tp-comm-overlap-rs",
  "no-tp-comm-split-ag": "disable-tp-comm-split-ag",
  "no-tp-comm-split-rs": "disable-tp-comm-split-rs",
};

type Refusal = { why: string; when?: (value: string | undefined) => boolean };

/** Refused by name (exit 2): what each does that paraplan does not price. `when`, where given,
 *  says which values matter (the default does nothing). */
export const MEGATRON_V019_REFUSED: Record<string, Refusal> = {
  // Other layers than paraplan's attention and MLP (transformer_config.py, experimental_attention_variant/).
  "attention-output-gate": { why: "adds a gate (a projection and an elementwise product) to each attention layer's output" },
  "experimental-attention-variant": { why: "builds another attention than softmax attention (gated delta net or DeepSeek sparse attention)" },
  "hybrid-layer-pattern": { why: "builds a hybrid model (Mamba, gated delta net or sparse-attention layers beside attention)" },
  "moe-latent-size": { why: "projects each MoE layer's input to a latent width and back (MoE latent projections)" },
  "moe-shared-expert-gate": { why: "adds a gate to the shared experts" },
  "mtp-use-repeated-layer": { why: "runs one MTP layer repeatedly instead of one layer a depth" },
  "mtp-detach-heads": { why: "detaches the MTP heads' inputs, so that no MTP gradient flows back into the model" },
  "mtp-standalone": { why: "places the MTP layers in a virtual pipeline stage of their own" },
  "use-kitchen-attention": { why: "runs the kitchen extension's attention instead of Transformer Engine's" },
  "te-precision-config-file": { why: "overrides the precision module by module" },
  "batch-invariant-mode": { why: "runs batch-invariant kernels (a deterministic forward whatever the batch), other kernels than paraplan prices" },
  "fake-process-group": { why: "skips every collective (a memory-profiling mode, not a training run)" },
  "freeze-all-layers": { why: "freezes every layer: no weight gradients and no optimizer step for them" },
  // Attention over packed documents, and context parallel balanced over them.
  "dataloader-inter-document-masking": { why: "restricts attention to each document of a packed sample (variable-length attention), less work than the causal attention paraplan prices" },
  "hybrid-context-parallel": { why: "balances packed variable-length sequences over the dp·cp ranks (hybrid context parallel)" },
  "max-seqlen-per-dp-cp-rank": { why: "sets each rank's sequence budget for hybrid context parallel over packed sequences" },
  // Experts: dropping, padding, skewed routing, stashing, tracing, deferred weight gradients.
  "moe-expert-rank-capacity-factor": { why: "caps each expert rank's tokens at a budget, dropping the rest" },
  "moe-router-padding-for-quantization": { why: "routes extra copies so that each expert's count from every rank is a multiple of 16 (32 under MXFP8)" },
  "moe-router-force-biased": { why: "adds a random bias to the router's logits, skewing the experts' loads by an amount paraplan cannot know" },
  "moe-paged-stash": { why: "stashes the routed experts' activations in paged GPU and host buffers" },
  "moe-routing-trace-path": { why: "traces every router call to disk during training (hooks on each router, optionally its inputs and logits)" },
  "overlap-dispatch-backward-with-experts-wgrad": { why: "defers the experts' weight-gradient GEMMs to a stream of their own beside the token dispatch" },
  // Memory and communication of the data-parallel and FSDP groups.
  "create-all-gather-group": { why: "gives the data-parallel all-gathers a communicator of their own, running them beside the reduce-scatters" },
  "ddp-param-name-patterns-for-fp32-local-accumulation": { why: "accumulates the matched parameters' gradients in fp32 buffers" },
  "outer-dp-sharding-strategy": { why: "shards the optimizer states over the outer data-parallel group of hybrid sharding", when: (v) => v !== "no_shard" },
  "megatron-fsdp-enable-fine-grained-param-gather": { why: "gathers Megatron-FSDP's parameters in finer pieces, overlapped otherwise than paraplan prices" },
  "megatron-fsdp-grad-comm-dtype": { why: "sets the dtype Megatron-FSDP communicates gradients in", when: (v) => v !== "auto" },
  "megatron-fsdp-main-grads-dtype": { why: "sets the dtype of Megatron-FSDP's main gradient buffer", when: (v) => v !== "auto" },
  "megatron-fsdp-main-params-dtype": { why: "sets the dtype of Megatron-FSDP's main parameter buffer", when: (v) => v !== "auto" },
  "megatron-fsdp-max-pool-double-buffer": { why: "sizes Megatron-FSDP's double buffer by its largest unit (MaxPoolAllocator: more memory)" },
  "fsdp-db-use-persist-buf-on-alloc-fail": { why: "keeps the modules outside Megatron-FSDP's double buffer in persistent buffers" },
  // Activations kept otherwise.
  "mlp-chunks-for-training": { why: "runs the MLP in chunks along the sequence, holding fewer of its activations at once", when: (v) => Number(v) !== 1 },
  // Muon's QK clip and the attention logit it needs (transformer_engine.py: the kernel returns each
  // head's largest logit; megatron/core/optimizer/qk_clip.py).
  "qk-clip": { why: "clips the query and key weights by each step's largest attention logit, which the attention kernel returns" },
  "log-max-attention-logit": { why: "asks the attention kernel for each head's largest logit every step" },
  // Distillation from cached logits (megatron/training/arguments.py _add_logits_distillation_args).
  "logits-load-dir": { why: "adds a distillation loss against top-k logits loaded from disk each step" },
  "logits-save-dir": { why: "saves each step's top-k logits to disk" },
};

/** Fine-grained activation offloading (docs/user-guide/features/fine_grained_activation_offloading)
 *  and the pinned buffers of --cpu-offloading-num-layers: exit 2 as moving state to the CPU. */
export const MEGATRON_V019_OFFLOAD = words(`
  fine-grained-activation-offloading offload-modules activation-offload-fraction min-offloaded-tensor-size
  delta-offload-bytes-across-pp-ranks delay-offload-until-cuda-graph fine-grained-offloading-max-inflight-offloads
  cpu-offloading-retain-pinned-cpu-buffers`);

/** Other kernels, fusions or CUDA graphs for the same work: named in a warning, then ignored, as
 *  --enable-cuda-graph and --no-bias-dropout-fusion are. */
export const MEGATRON_V019_UNPRICED = words(`
  cuda-graph-modules optimizer-cuda-graph disable-jit-fuser flash-attention-version fused-residual-rmsnorm
  mla-down-proj-fusion use-transformer-engine-op-fuser use-grouped-gemm-for-dense-mlp use-grouped-gemm-for-shared-expert
  fsdp-manual-registration`);

/** Refused or neutral by the file's other flags (exit 2 where they change what paraplan prices). */
export const MEGATRON_V019_CHECKED = ["tensor-parallel-num-weight-shards", "expert-tensor-parallel-num-weight-shards"];

/** Every name this file places. */
export const MEGATRON_V019_FLAGS = new Set([
  ...Object.values(MEGATRON_V019_NEUTRAL).flat(),
  ...Object.keys(MEGATRON_V019_ALIASES),
  ...Object.keys(MEGATRON_V019_REFUSED),
  ...MEGATRON_V019_OFFLOAD,
  ...MEGATRON_V019_UNPRICED,
  ...MEGATRON_V019_CHECKED,
]);

/** The checks that need the file's other flags:
 *  - generalised tensor parallelism: each weight split into N shards over tp·gtp ranks and regathered
 *    (megatron/core/model_parallel_config.py resolve_tensor_parallel_weight_shards: N = tp is the
 *    default, no GTP); N other than tp (etp for experts) is refused;
 *  - --no-fp8-wgrad / --disable-fp8-wgrad (fp8_wgrad False: the weight-gradient GEMMs in 16 bits)
 *    under fp8, where paraplan prices every GEMM in fp8; without fp8 it changes nothing;
 *  - --position-embedding-type yarn (new in v0.19): rotary positions, RoPE unfused. */
export function megatronV019Checks(m: Map<string, ArgSetting>, o: string, s: { tp: number; etp: number; fp8: boolean }, warnings: string[], notes: string[]): void {
  // --position-embedding-type yarn: read as rotary positions (megatron-claims.ts); validate_args
  // turns the RoPE fusion off for every type but rope (arguments.py:1573-1574 @ core_v0.19.0), as
  // --no-rope-fusion does (megatron-flags.ts fusionFlags: warned, not priced).
  if (strArg(m, "position-embedding-type") === "yarn")
    warnings.push(`${o}: ${argAt(m, "position-embedding-type")} applies rotary embeddings in unfused kernels (validate_args sets apply_rope_fusion False for any type but rope, arguments.py:1573-1574 @ core_v0.19.0; more memory traffic a layer); paraplan does not price it: read as rotary positions, the unfused kernels ignored`);
  const experts = (intArg(m, "num-experts", o, 0) ?? 0) > 0;
  for (const [flag, degree, name] of [["tensor-parallel-num-weight-shards", s.tp, "tp"], ["expert-tensor-parallel-num-weight-shards", s.etp, "etp"]] as const) {
    const n = intArg(m, flag, o);
    // (without --num-experts no expert weight is built to shard)
    if (n !== undefined && n !== degree && (name === "tp" || experts))
      throw new UserError(`${o}: ${argAt(m, flag)} splits each weight into ${n} shards over ${name} ${degree} × ${n / degree} ranks and regathers it for each use (generalised tensor parallelism, megatron/core/model_parallel_config.py @ core_v0.19.0), which paraplan does not model`);
  }
  const wgrad = ["no-fp8-wgrad", "disable-fp8-wgrad"].find((f) => m.has(f));
  if (wgrad === undefined) return;
  if (s.fp8) throw new UserError(`${o}: ${argAt(m, wgrad)} runs the weight-gradient GEMMs in 16 bits under fp8 (TransformerConfig fp8_wgrad False), which paraplan does not model: it prices every GEMM in fp8`);
  notes.push(`${o}: ${argAt(m, wgrad)} changes nothing without fp8`);
}

/** MEGATRON_FLAGS names core_v0.19.0's parser no longer has (removed or renamed since core_r0.14
 *  main @000c4ac or core_v0.7.0): a file that uses one of them beside a name new in core_v0.19.0
 *  mixes releases. No release between is read here, so it is a warning naming both, not exit 2. */
export const MEGATRON_V019_REMOVED = words(`
  delay-param-gather disable-chunked-prefill enable-one-logger grpo-default-temperature grpo-default-top-p hybrid-attention-ratio
  hybrid-mlp-ratio inference-dynamic-batching-buffer-guaranteed-fraction inference-dynamic-batching-buffer-overflow-factor inference-dynamic-batching-max-requests-override inference-dynamic-batching-max-tokens-override inference-max-batch-size
  inference-wandb-logging-step-interval kitchen-config-file kitchen-recipe-number langrl-external-server langrl-inference-server-conversation-template langrl-inference-server-type
  legacy-tokenizer local_rank log-batch-size-to-tensorboard moe-extended-tp moe-use-legacy-grouped-gemm muon-use-nesterov
  no-async-tensor-model-parallel-allreduce no-delay-grad-reduce no-langrl-external-server no-log-learnig-rate-to-tensorboard no-rl-calculate-intra-group-similarity no-rl-offload-kv-cache-during-training
  no-rl-remove-kv-cache-during-training no-rl-reset-cuda-graphs no-scatter-gather-tensors-in-pipeline one-logger-entity pipeline-model-parallel-split-rank retriever-seq-length
  retro-add-retriever retro-attention-gate retro-cyclic-train-iters retro-encoder-attention-dropout retro-encoder-hidden-dropout retro-encoder-layers
  retro-no-verify-neighbor-count retro-num-neighbors retro-num-retrieved-chunks retro-project-dir rl-calculate-intra-group-similarity rl-offload-kv-cache-during-training
  rl-remove-kv-cache-during-training rl-reset-cuda-graphs rl-sequence-packing-bin-size standalone-embedding-stage tiktoken-special-tokens use-custom-fsdp
  use-legacy-models`);

/** A warning where a file uses names of core_v0.19.0 only and names core_v0.19.0 no longer has. */
export function releaseMixWarning(m: Map<string, ArgSetting>, o: string, warnings: string[]): void {
  const given = [...m.keys()];
  const newer = given.find((f) => MEGATRON_V019_FLAGS.has(f) && !(f in MEGATRON_V019_ALIASES));
  const older = given.find((f) => MEGATRON_V019_REMOVED.includes(f));
  if (newer !== undefined && older !== undefined)
    warnings.push(`${o}: ${argAt(m, newer)} is a Megatron-LM core_v0.19.0 argument and ${argAt(m, older)} one core_v0.19.0 no longer has: the file mixes releases (Megatron-LM exits on an argument its release lacks); check which release runs it`);
}
