// torchtitan v0.2.0's model registry (torchtitan/models/__init__.py _supported_models: deepseek_v3,
// llama3, llama3_ft, llama4, qwen3): the flavors a job's [model] name and flavor build, in the sizes
// paraplan prices, so that `plan --from` checks them against --model and the export names the
// flavor that builds a preset. Every number is the flavor's argument at the tag, or its default in
// the family's model/args.py, or computed as the family's model.py computes it (llamaFfn, llama4Moe).
import type { MlaSpec, MoeSpec, ModelSpec, RopeScaling } from "../../planner/index.js";
import { modelFact, type ClaimField } from "./read-config.js";
import { factsInWords } from "./model-facts.js";

export interface TitanFlavor {
  /** Where the flavor is (file:line @ v0.2.0). */
  at: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  /** head_dim where it is not dim/n_heads (qwen3). */
  headDim?: number;
  /** The dense FFN's width; undefined where every layer is MoE (the dense width builds nothing). */
  ffnHidden?: number;
  vocab: number;
  tied: boolean;
  qkNorm?: "head";
  moe?: MoeSpec;
  mla?: MlaSpec;
  // What it builds at the same cost: positions and the norm's epsilon.
  ropeTheta: number;
  normEps: number;
  ropeScaling?: RopeScaling;
  /** DeepSeek's YaRN, applied only to sequences beyond original_seq_len (precompute_freqs_cis). */
  yarn?: { factor: number; original: number };
  /** FlexAttention with block_causal masks (use_flex_attn, attn_mask_type "block_causal"):
   *  attention within each document of the packed sequence. */
  flex?: boolean;
  /** iRoPE: every n-th layer without positions, the others attending within fixed blocks. */
  chunked?: { nopeEvery: number; block: number };
  /** The paraplan preset of exactly these sizes (`plan --from` without --model plans it). */
  preset?: string;
}

export interface TitanFamily {
  /** Where the flavors are (the family's __init__.py @ v0.2.0). */
  source: string;
  /** Whether the family's TrainSpec has a pipelining_fn: train.py:221-226 @ v0.2.0 raises
   *  "Pipeline Parallel is enabled but … does not support pipelining" where it is None. */
  pipelines: boolean;
  /** Where parallelize raises NotImplementedError("CP support for FlexAttention is still in
   *  progress.") for a FlexAttention flavor beside context parallel (@ v0.2.0). */
  flexCp: string;
  flavors: Record<string, TitanFlavor>;
}

/** Llama's SwiGLU width (FeedForward, torchtitan/models/llama3/model/model.py:286-290 @ v0.2.0;
 *  llama4's dense layers the same, llama4/model/model.py:375-380). */
export function llamaFfn(dim: number, multipleOf: number, multiplier?: number): number {
  let h = Math.trunc((2 * 4 * dim) / 3);
  if (multiplier !== undefined) h = Math.trunc(multiplier * h);
  return multipleOf * Math.ceil(h / multipleOf);
}

/** Llama 4's expert width (TransformerBlock, llama4/model/model.py:358-371 @ v0.2.0): the dense
 *  width before rounding, divided by top_k + num_shared_experts (auto_scale_hidden_dim), rounded up. */
export function llama4Moe(dim: number, multipleOf: number, multiplier: number | undefined, topK: number, shared: number): number {
  let h = Math.trunc((2 * 4 * dim) / 3);
  if (multiplier !== undefined) h = Math.trunc(multiplier * h);
  h = Math.trunc(h / (topK + shared));
  return h + ((multipleOf - (h % multipleOf)) % multipleOf);
}

const moe = (experts: number, topK: number, sharedExperts: number, expertFfnHidden: number, router: MoeSpec["router"], denseLayers = 0, layerFreq = 1): MoeSpec =>
  ({ experts, topK, sharedExperts, expertFfnHidden, denseLayers, layerFreq, router });
const mla = (qLoraRank: number): MlaSpec => ({ qLoraRank, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });

// llama3 (llama3/__init__.py:29-69; args.py: vocab_size 128256, norm_eps 1e-5, multiple_of 256,
// n_kv_heads = n_heads unset, and RoPEScalingArgs factor 8, low 1, high 4, original 8192 on every flavor).
const L3 = "torchtitan/models/llama3/__init__.py";
const L3_SCALING: RopeScaling = { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };
const llama3 = (line: number, layers: number, hidden: number, heads: number, kvHeads: number, ffn: number, vocab = 128256): TitanFlavor =>
  ({ at: `${L3}:${line}`, layers, hidden, heads, kvHeads, ffnHidden: ffn, vocab, tied: false, ropeTheta: 500_000, normEps: 1e-5, ropeScaling: L3_SCALING });

// qwen3 (qwen3/__init__.py:32-191; model/args.py: norm_eps 1e-6, enable_weight_tying False,
// qk_norm an RMSNorm over head_dim, model.py:150-156; moe_enabled builds MoE on every layer, :309-318).
const Q3 = "torchtitan/models/qwen3/__init__.py";
const qwen3 = (line: number, layers: number, hidden: number, heads: number, kvHeads: number, ffn: number, tied: boolean, vocab = 151936, theta = 1_000_000): TitanFlavor =>
  ({ at: `${Q3}:${line}`, layers, hidden, heads, kvHeads, headDim: 128, ffnHidden: ffn, vocab, tied, qkNorm: "head", ropeTheta: theta, normEps: 1e-6 });
const qwen3Moe = (f: TitanFlavor, experts: number, width: number): TitanFlavor => {
  const { ffnHidden: _dense, ...rest } = f;
  return { ...rest, moe: moe(experts, 8, 0, width, "softmax") };
};

// deepseek_v3 (deepseek_v3/__init__.py:29-157; model/args.py: norm_eps 1e-5, rope_theta 10000, YaRN
// rope_factor 40 beyond original_seq_len 4096; layer_id >= n_dense_layers is MoE, model.py:295).
const DS = "torchtitan/models/deepseek_v3/__init__.py";
const deepseek = (line: number, layers: number, hidden: number, heads: number, ffn: number, vocab: number, m: MoeSpec, qLora: number, flex: boolean): TitanFlavor =>
  ({ at: `${DS}:${line}`, layers, hidden, heads, kvHeads: heads, ffnHidden: ffn, vocab, tied: false, moe: m, mla: mla(qLora), ropeTheta: 10_000, normEps: 1e-5, yarn: { factor: 40, original: 4096 }, ...(flex ? { flex } : {}) });

// llama4 (llama4/__init__.py:29-102; model/args.py: vocab_size 202048, norm_eps 1e-5, multiple_of 256,
// interleave_moe_layer_step 2, MoEArgs 8 experts, 1 shared, top 1, sigmoid (moe/moe.py:19-31);
// (layer_id + 1) % step == 0 is MoE, model.py:356; RoPEScalingArgs factor 16, low 1, high 1, original 8192).
const L4 = "torchtitan/models/llama4/__init__.py";
const L4_SCALING: RopeScaling = { type: "llama3", factor: 16, lowFreqFactor: 1, highFreqFactor: 1, originalMaxPositions: 8192 };
const llama4 = (line: number, o: { dim: number; layers: number; heads: number; kv?: number; vocab?: number; mult?: number; multipleOf?: number; experts?: number; step?: number; scaling: boolean; chunked?: { nopeEvery: number; block: number } }): TitanFlavor => {
  const multipleOf = o.multipleOf ?? 256;
  const step = o.step ?? 2;
  return {
    at: `${L4}:${line}`, layers: o.layers, hidden: o.dim, heads: o.heads, kvHeads: o.kv ?? o.heads,
    ...(step > 1 ? { ffnHidden: llamaFfn(o.dim, multipleOf, o.mult) } : {}),
    vocab: o.vocab ?? 202048, tied: false,
    moe: moe(o.experts ?? 8, 1, 1, llama4Moe(o.dim, multipleOf, o.mult, 1, 1), "sigmoid", 0, step),
    ropeTheta: 500_000, normEps: 1e-5, ...(o.scaling ? { ropeScaling: L4_SCALING } : {}),
    ...(o.chunked ? { chunked: o.chunked, flex: true } : {}),
  };
};

export const TITAN_MODELS: Record<string, TitanFamily> = {
  llama3: {
    flexCp: "torchtitan/models/llama3/infra/parallelize.py:71-72",
    source: L3,
    pipelines: true,
    flavors: {
      debugmodel: llama3(30, 6, 256, 16, 16, llamaFfn(256, 256), 2048),
      debugmodel_flex_attn: { ...llama3(33, 6, 256, 16, 16, llamaFfn(256, 256), 2048), flex: true },
      "8B": { ...llama3(42, 32, 4096, 32, 8, llamaFfn(4096, 1024, 1.3)), preset: "llama3-8b" },
      "70B": { ...llama3(51, 80, 8192, 64, 8, llamaFfn(8192, 4096, 1.3)), preset: "llama3-70b" },
      "405B": { ...llama3(60, 126, 16384, 128, 8, llamaFfn(16384, 4096, 1.2)), preset: "llama3-405b" },
    },
  },
  qwen3: {
    flexCp: "torchtitan/models/qwen3/infra/parallelize.py:63-64",
    source: Q3,
    // (get_train_spec: pipelining_fn=None, qwen3/__init__.py:199)
    pipelines: false,
    flavors: {
      debugmodel: qwen3(33, 8, 256, 16, 8, 3072, true, 2048),
      "0.6B": qwen3(46, 28, 1024, 16, 8, 3072, true),
      "1.7B": qwen3(59, 28, 2048, 16, 8, 6144, true),
      "4B": qwen3(72, 36, 2560, 32, 8, 9728, true),
      "8B": qwen3(85, 36, 4096, 32, 8, 12288, false),
      "14B": qwen3(97, 40, 5120, 40, 8, 17408, false),
      "32B": qwen3(109, 64, 5120, 64, 8, 25600, false),
      debugmodel_moe: qwen3Moe(qwen3(122, 8, 256, 16, 8, 3072, false, 2048), 64, 768),
      "30B-A3B": { ...qwen3Moe(qwen3(145, 48, 2048, 32, 4, 6144, false), 128, 768), preset: "qwen3-30b-a3b" },
      "235B-A22B": { ...qwen3Moe(qwen3(168, 94, 4096, 64, 4, 12288, false, 151936, 5_000_000), 128, 1536), preset: "qwen3-235b-a22b" },
    },
  },
  deepseek_v3: {
    flexCp: "torchtitan/models/deepseek_v3/infra/parallelize.py:65-66",
    source: DS,
    pipelines: true,
    flavors: {
      debugmodel: deepseek(30, 6, 256, 16, 1024, 2048, moe(8, 3, 2, 256, "softmax", 1), 0, false),
      debugmodel_flex_attn: deepseek(53, 6, 256, 16, 1024, 2048, moe(8, 3, 2, 256, "softmax", 1), 0, true),
      "16B": { ...deepseek(78, 27, 2048, 16, 10944, 102400, moe(64, 6, 2, 1408, "softmax", 1), 0, true), preset: "deepseek-v2-lite" },
      // (group-limited routing: n_expert_groups, n_limited_groups, deepseek_v3/__init__.py:120-121, 147-148)
      "236B": deepseek(103, 60, 5120, 128, 12288, 102400, { ...moe(160, 6, 2, 1536, "softmax", 1), routingGroups: 8, groupsPerToken: 3 }, 1536, true),
      // (no multi-token-prediction module in torchtitan's DeepSeek-V3: deepseek-v3's preset has one)
      "671B": deepseek(130, 61, 7168, 128, 18432, 129280, { ...moe(256, 8, 1, 2048, "sigmoid", 3), routingGroups: 8, groupsPerToken: 4 }, 1536, true),
    },
  },
  llama4: {
    flexCp: "torchtitan/models/llama4/infra/parallelize.py:75-76",
    source: L4,
    pipelines: true,
    flavors: {
      debugmodel: llama4(30, { dim: 256, layers: 6, heads: 16, vocab: 2048, scaling: true }),
      "17bx16e": llama4(38, { dim: 5120, layers: 48, heads: 40, kv: 8, mult: 1.2, multipleOf: 2048, experts: 16, step: 1, scaling: true }),
      "17bx128e": llama4(51, { dim: 5120, layers: 48, heads: 40, kv: 8, mult: 1.2, multipleOf: 2048, experts: 128, scaling: false }),
      debugmodel_irope: llama4(61, { dim: 256, layers: 6, heads: 16, vocab: 2048, scaling: true, chunked: { nopeEvery: 4, block: 256 } }),
      "17bx16e_irope": llama4(73, { dim: 5120, layers: 48, heads: 40, kv: 8, mult: 1.2, multipleOf: 2048, experts: 16, step: 1, scaling: true, chunked: { nopeEvery: 4, block: 8192 } }),
      "17bx128e_irope": llama4(89, { dim: 5120, layers: 48, heads: 40, kv: 8, mult: 1.2, multipleOf: 2048, experts: 128, scaling: false, chunked: { nopeEvery: 4, block: 8192 } }),
    },
  },
};

/** The flavor `name`/`flavor` names, or undefined (Object.hasOwn: "constructor" is no flavor). */
export function titanFlavor(name: string, flavor: string): TitanFlavor | undefined {
  const family = Object.hasOwn(TITAN_MODELS, name) ? TITAN_MODELS[name] : undefined;
  return family && Object.hasOwn(family.flavors, flavor) ? family.flavors[flavor] : undefined;
}

/** The flavor as a model file: what paraplan would price for it. */
export function flavorModel(name: string, flavor: string, f: TitanFlavor): ModelSpec {
  return {
    name: `torchtitan ${name} "${flavor}"`,
    layers: f.layers, hidden: f.hidden, heads: f.heads, kvHeads: f.kvHeads,
    ...(f.headDim !== undefined ? { headDim: f.headDim } : {}),
    // (a model with no dense layer prices no dense width: any)
    ffnHidden: f.ffnHidden ?? 0,
    vocab: f.vocab, defaultSeqLen: 4096, mlp: "swiglu", positional: "rope", tiedEmbeddings: f.tied, dropout: false,
    ropeTheta: f.ropeTheta, normEps: f.normEps, ...(f.ropeScaling ? { ropeScaling: f.ropeScaling } : {}),
    ...(f.qkNorm ? { qkNorm: f.qkNorm } : {}), ...(f.moe ? { moe: f.moe } : {}), ...(f.mla ? { mla: f.mla } : {}),
  };
}

/** The sizes the price depends on, as `plan --from` compares a read-back model (read-config.ts
 *  modelFact): the head width where there is no latent attention, the dense width where both have
 *  a dense layer. */
const SIZES: ClaimField[] = ["layers", "hidden", "heads", "kvHeads", "headDim", "ffnHidden", "vocab", "mlp", "positional", "tiedEmbeddings", "qkvBias", "qkNorm", "slidingWindow", "dropout", "moe", "mla", "mtpLayers"];

const hasDenseLayer = (m: ModelSpec): boolean => m.moe === undefined || m.moe.denseLayers > 0 || m.moe.layerFreq > 1;

/** Where the flavor's sizes differ from m's, each as "field theirs (m: mine)"; empty: the same price. */
export function sizeDifferences(theirs: ModelSpec, m: ModelSpec): string[] {
  const out: string[] = [];
  for (const field of SIZES) {
    if (field === "headDim" && (theirs.mla !== undefined || m.mla !== undefined)) continue;
    // (where one side has no dense layer, the moe field's MoE layers say so)
    if (field === "ffnHidden" && !(hasDenseLayer(theirs) && hasDenseLayer(m))) continue;
    const [a, b] = [modelFact(theirs, field), modelFact(m, field)];
    if (a !== b) out.push(`${field} ${String(a)} (${m.name}: ${String(b)})`);
  }
  return out;
}

export interface TitanModelOf {
  name: string;
  flavor: string;
  f: TitanFlavor;
}

/** The torchtitan flavor (not a debug model) that builds m's sizes, or null. */
export function titanFlavorOf(m: ModelSpec): TitanModelOf | null {
  for (const [name, family] of Object.entries(TITAN_MODELS))
    for (const [flavor, f] of Object.entries(family.flavors))
      if (!flavor.startsWith("debugmodel") && sizeDifferences(flavorModel(name, flavor, f), m).length === 0) return { name, flavor, f };
  return null;
}

/** What the flavor builds at the same cost, in factsInWords's terms (with DeepSeek's YaRN where the
 *  sequence is longer than its original_seq_len). */
export function flavorFactsInWords(m: ModelSpec, f: TitanFlavor, seqLen: number): string {
  const words = factsInWords({ ...m, positional: "rope", ropeTheta: f.ropeTheta, normEps: f.normEps, tiedEmbeddings: f.tied, ...(f.ropeScaling ? { ropeScaling: f.ropeScaling } : { ropeScaling: undefined }) });
  return f.yarn && seqLen > f.yarn.original ? `${words}, YaRN rope_factor ${f.yarn.factor} beyond ${f.yarn.original} tokens` : words;
}

/** The flavor's attention where it is not causal SDPA over the whole sequence, in words. */
export function flexWords(name: string, flavor: string, f: TitanFlavor): string | undefined {
  if (!f.flex) return undefined;
  const chunks = f.chunked ? ` and, on all but every ${f.chunked.nopeEvery}th layer, attention within fixed blocks of ${f.chunked.block} tokens (iRoPE)` : "";
  return `torchtitan's ${name} flavor "${flavor}" runs FlexAttention with block_causal masks (use_flex_attn, attn_mask_type: attention within each document of the packed sequence)${chunks}, priced as causal attention over the whole sequence: less attention work where documents are shorter, on a kernel paraplan has not calibrated`;
}
