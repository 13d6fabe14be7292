// The priors of the fitted engine figures: the values the engine profiles held before any fit,
// each from physics or published facts (the sources quoted in profiles/engines/*.json at commit
// b78d0ae). A leave-one-source-out fold keeps these for a key only the held-out source informs
// (fsdp: MPT only; torchtitan, torchtitan-compile: TT24 only; megatron-deepspeed: NAR21T2 only),
// except a figure the engine shares with the one it extends (INHERITS): the parent's, fitted on
// the fold's rows.
// Hardware matmul multipliers have prior 1: the hardware profiles' own tables.
// megatron-core's overlap slowdown is not fitted: Lee et al.'s 18.9%, the planner's default.

export const PRIORS: Record<string, { value: number; source: string }> = {
  "hw/h100/fp8": { value: 0.81, source: "FlashAttention-3 (Shah et al. 2024, abstract): ~1.2 PFLOP/s of 1979 in FP8 against 740 of 989 TFLOP/s in FP16 on H100, 0.61 of peak against 0.75: fp8 kernels reach 0.81 of the 16-bit fraction" },
  "megatron-core/tp-overlap": { value: 0.9, source: "profiles/engines/megatron-core.json tensorParallel.commOverlap before this fit: TE userbuffers' defaults leave about a tenth of the tensor-parallel collectives exposed" },
  "hw/h100/attention": { value: 0.5, source: "dgx-h100's attentionEfficiency 0.5 before this fit (megatron-core's cuDNN fused attention)" },
  "hw/a100/attention": { value: 0.45, source: "dgx-a100's attentionEfficiency 0.45 before this fit" },
  "megatron-2021/matmul": { value: 1, source: "the hardware profile's matmul table as it is: no published measure of 2021's cuBLAS against today's on the same A100" },
  "megatron-2021/launch": { value: 8e-6, source: "~8 us host submit of a small eager PyTorch op on A100 (flagos-ai/Torch-FL PR #27; pytorch/pytorch#41383)" },
  "megatron-deepspeed/launch": { value: 8e-6, source: "as megatron-2021 (eager PyTorch)" },
  "megatron-deepspeed/zero3-bandwidth": { value: 1, source: "NCCL's ring rate over the data-parallel link, as FSDP's flat collectives reach it: no published measure of DeepSpeed 2021's per-tensor ZeRO-3 gathers" },
  "fsdp/attention/A100": { value: 0.28, source: "FA2 paper's Triton FlashAttention A100 bars, 78-95 of 312 TFLOP/s" },
  "fsdp/attention/H100": { value: 0.14, source: "0.28 scaled by FA2's H100/A100 fraction (0.30/0.62)" },
  "fsdp/launch": { value: 8e-6, source: "~8 us eager host submit (flagos-ai/Torch-FL PR #27)" },
  "fsdp/slowdown": { value: 0.19, source: "Lee et al. 2025: 18.9%" },
  "torchtitan/attention/H100": { value: 0.3, source: "FA2's H100 fraction (~300 of 989 TFLOP/s, SDPA flash backend) [FA2]" },
  "torchtitan/launch": { value: 8e-6, source: "~8 us eager host submit (flagos-ai/Torch-FL PR #27)" },
  "torchtitan/slowdown": { value: 0.19, source: "Lee et al. 2025: 18.9%" },
  "torchtitan-compile/attention/H100": { value: 0.3, source: "as torchtitan (SDPA flash backend is not compiled)" },
  "torchtitan-compile/launch": { value: 4e-6, source: "Inductor's wrapper: about half the eager host cost (pytorch/pytorch#41383; Ansel et al. 2024)" },
  "torchtitan-compile/tp-overlap": { value: 0.9, source: "async TP decomposes the sequence-parallel collectives into p2p steps behind the GEMM's chunks, as TE's userbuffers do: megatron-core's prior (profiles/engines/torchtitan-compile.json)" },
  "torchtitan-compile/slowdown": { value: 0.19, source: "Lee et al. 2025: 18.9%" },
};

/** Lower bounds a fitted figure may not cross, each from the kernels the stack runs (params.ts
 *  boundsOf). Megatron-Core runs attention through Transformer Engine's DotProductAttention, which
 *  on Hopper selects cuDNN's fused attention or flash-attn 2 (its backend selection); the slower,
 *  FA2, reaches about 300 of 989 TFLOP/s forward and backward (the torchtitan prior's figure,
 *  [FA2]), so megatron-core's end-to-end figure is not below it (contention with overlapped
 *  collectives is the separate overlap slowdown). Fitted unbounded, MEG24 — the one source that
 *  informs it, whose micro-batch, recompute and sequence parallelism are not stated (shared/
 *  calibration README) — took it to 0.179, which made NVIDIA's own Megatron-Core tables 26 % (NeMo
 *  24.07, Llama fp8) to 58 % (NeMo 24.03, 4K–1M tokens) slow (bench/validation/nemo.ts). */
export const FLOORS: Record<string, { value: number; source: string }> = {
  "hw/h100/attention": { value: 0.3, source: "flash-attn 2's H100 fraction (~300 of 989 TFLOP/s) [FA2], the slower of the kernels Transformer Engine selects on Hopper" },
};

/** A key's prior: the table's, else 1 (a hardware multiplier). */
export const priorOf = (key: string): number => PRIORS[key]?.value ?? 1;

/** Figures an engine shares with the engine its profile `extends`, where the mechanism is the
 *  same one: torchtitan's FSDP2 issues the same NCCL all-gathers and reduce-scatters on side
 *  streams beside the same cuBLAS GEMMs as FSDP1 (llm-foundry), so the compute an overlapped
 *  collective slows is the contention Lee et al. 2025 time per GPU, not per framework; and its
 *  eager layers pay the same host submit per kernel. Its attention kernel (SDPA's FA2, against
 *  llm-foundry's Triton FlashAttention) and async TP are its own. */
export const INHERITS: Record<string, string> = {
  "torchtitan/slowdown": "fsdp/slowdown",
  "torchtitan/launch": "fsdp/launch",
  "torchtitan-compile/slowdown": "torchtitan/slowdown",
};

/** The fitted key a fold takes an unfitted key's figure from: the nearest ancestor (INHERITS)
 *  the fold fitted, if any. */
export function inheritedFrom(key: string, fitted: Readonly<Record<string, number>>): string | undefined {
  for (let k = INHERITS[key], depth = 0; k !== undefined && depth < 8; k = INHERITS[k], depth++) if (fitted[k] !== undefined) return k;
  return undefined;
}

/** A leave-one-source-out fold's value for every key: its own fit where the fold fits the key;
 *  else, for a figure the engine shares with its parent (INHERITS), the parent's value in the
 *  fold — what a profile that `extends` the parent and states only what differs would predict,
 *  fitted on other sources' rows; else the prior. */
export function foldValues(keys: readonly string[], fitted: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, fitted[k] ?? fitted[inheritedFrom(k, fitted) ?? ""] ?? priorOf(k)]));
}
