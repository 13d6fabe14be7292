// Uneven pipeline stages in Megatron-LM core_r0.14 (megatron/training/arguments.py
// _add_distributed_args; megatron/core/transformer/transformer_block.py get_num_layers_to_build):
// --decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers give the first and
// the last stage their layers, the others split evenly over the middle stages. Written from a
// plan's stageLayers of the form [first, middle…equal, last] (others are refused by
// planner/layout/capabilities.ts), and read back into stageLayers.
import type { ModelSpec, Plan } from "../../planner/index.js";
import { parametersSplit, pipeItemWeights } from "../../planner/index.js";
import { firstLastOfVirtual, firstLastVirtualSplit, firstMiddleLast, gptModelPipeTypeSplit } from "../../planner/index.js";
import { type ArgSetting, argAt, intArg, strArg } from "./args-file.js";
import { UserError } from "../errors.js";

type Arg = [string, ...string[]];

/** The two flags for an uneven split (none for an even one): --decoder-first/last-pipeline-num-
 *  layers for one stage per rank; with virtual stages Megatron-Core's accounted split, the embedding
 *  and the loss counted as a layer each (planner/layout/stages.ts accountedVirtualSplit; any other
 *  virtual split is refused by planner/layout/capabilities.ts). */
export function megatronStageArgs(p: Plan): Arg[] {
  if (p.stageLayers === undefined) return [];
  if (p.vpp > 1) {
    // whole ranks cut evenly into their chunks, else the accounted split (capabilities.ts)
    const ranks = firstLastOfVirtual(p.stageLayers, p.pp, p.vpp);
    if (ranks) return [["--decoder-first-pipeline-num-layers", String(ranks.first)], ["--decoder-last-pipeline-num-layers", String(ranks.last)]];
    return [["--account-for-embedding-in-pipeline-split"], ["--account-for-loss-in-pipeline-split"]];
  }
  const f = firstMiddleLast(p.stageLayers);
  if (f === null) return [];
  return [["--decoder-first-pipeline-num-layers", String(f.first)], ["--decoder-last-pipeline-num-layers", String(f.last)]];
}

/** Layers the embedding and the loss stand for in the split: one each with
 *  --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split. */
export function accountedEnds(m: Map<string, ArgSetting>): { embedding: number; loss: number } {
  return { embedding: m.has("account-for-embedding-in-pipeline-split") ? 1 : 0, loss: m.has("account-for-loss-in-pipeline-split") ? 1 : 0 };
}

/** --account-for-embedding-in-pipeline-split / --account-for-loss-in-pipeline-split (core_r0.14,
 *  the Qwen3 recipes' way): the embedding and the loss each count as a layer, the L + e + l units
 *  split evenly over the pp ranks (and their vpp virtual stages), and the first virtual stage of
 *  the first rank and the last of the last build one transformer layer fewer
 *  (transformer_block.py get_num_layers_to_build; TransformerConfig and validate_args require p
 *  (and v) to divide the units, and refuse the flags beside --decoder-first/last-pipeline-num-layers).
 *  Virtual stages in model order, rank r holding r, r + p, … (layout/stages.ts). 126 layers, both
 *  flags, pp 8: [15, 16 × 6, 15]. */
function accountedSplit(m: Map<string, ArgSetting>, o: string, layers: number | undefined, pp: number, vpp: number): number[] | undefined {
  const { embedding, loss } = accountedEnds(m);
  const flags = [embedding ? "--account-for-embedding-in-pipeline-split" : "", loss ? "--account-for-loss-in-pipeline-split" : ""].filter(Boolean).join(" and ");
  if (m.has("decoder-first-pipeline-num-layers") || m.has("decoder-last-pipeline-num-layers"))
    throw new UserError(`${o}: ${flags} cannot be set with --decoder-first/last-pipeline-num-layers (Megatron's TransformerConfig refuses it)`);
  if (layers === undefined) throw new UserError(`${o}: ${flags} need --num-layers`);
  if (pp < 2) return undefined;
  const units = layers + embedding + loss;
  if (units % (pp * vpp) !== 0)
    throw new UserError(`${o}: ${flags} make ${units} units of ${layers} layers, which ${vpp > 1 ? `pp ${pp} × vpp ${vpp}` : `pp ${pp}`} does not divide (Megatron's validate_args refuses it)`);
  const split = Array.from({ length: pp * vpp }, () => units / (pp * vpp));
  split[0]! -= embedding;
  split[split.length - 1]! -= loss;
  if (split.some((n) => n < 1))
    throw new UserError(`${o}: ${flags} leave a pipeline stage with the ${split[0]! < 1 ? "embedding" : "loss"} alone (${split.join(",")} layers), which paraplan does not model`);
  return split.every((x) => x === split[0]) ? undefined : split;
}

/** Items a --pipeline-model-parallel-layout may unroll to: far above any real model's layers,
 *  and a bound on what "t*99999999" may make paraplan build. */
const LAYOUT_MAX_ITEMS = 100_000;

/** --pipeline-model-parallel-layout (core_r0.14, megatron/core/transformer/
 *  pipeline_parallel_layer_layout.py parse_str_to_list and validate_layer_layout): commas are
 *  cosmetic, "(…)*n" and then "x*n" unroll, "|" separates the p·v stages in model order (stage
 *  v·p + r on rank r), and each stage lists its items — E the embedding, t a transformer layer, m
 *  an MTP module, L the loss; E first and L last, once each, as many t as --num-layers. paraplan
 *  prices stages that each hold a layer, the embedding on the first and the loss (and any MTP
 *  module) on the last: "Et*3|t*4|t*4|t*3L" is [3, 4, 4, 3]. A stage of the embedding, the loss or
 *  the MTP modules alone (DeepSeek-V3's "…|m|L") is refused. */
export function readLayout(m: Map<string, ArgSetting>, o: string, layers: number | undefined, pp: number, mtpLayers: number): { split: number[] | undefined; vpp: number } {
  const at = argAt(m, "pipeline-model-parallel-layout");
  const text = strArg(m, "pipeline-model-parallel-layout")!;
  for (const f of ["num-virtual-stages-per-pipeline-rank", "num-layers-per-virtual-pipeline-stage", "decoder-first-pipeline-num-layers", "decoder-last-pipeline-num-layers", "account-for-embedding-in-pipeline-split", "account-for-loss-in-pipeline-split"])
    if (m.has(f)) throw new UserError(`${o}: ${at} cannot be set with --${f} (Megatron's validate_args and TransformerConfig refuse it)`);
  if (layers === undefined) throw new UserError(`${o}: ${at} needs --num-layers`);
  let items = 0;
  const unroll = (str: string, re: RegExp) =>
    str.replace(re, (_: string, body: string, n: string) => {
      items += body.length * Number(n);
      if (items > LAYOUT_MAX_ITEMS) throw new UserError(`${o}: ${at} unrolls to more than ${LAYOUT_MAX_ITEMS.toLocaleString("en-US")} items`);
      return body.repeat(Number(n));
    });
  const flat = unroll(unroll(text.replace(/,/g, ""), /\(([^)]+)\)\*(\d+)/g), /(.)\*(\d+)/g);
  const bad = /[^EtmL|]/.exec(flat);
  if (bad) throw new UserError(`${o}: ${at}: "${bad[0]}" is not a layer (E, t, m, L, with | between stages)`);
  const stages = flat.split("|");
  const all = stages.join("");
  const count = (c: string) => all.split(c).length - 1;
  if (all[0] !== "E" || all[all.length - 1] !== "L" || count("E") !== 1 || count("L") !== 1)
    throw new UserError(`${o}: ${at}: the embedding (E) must come first and the loss (L) last, once each`);
  if (count("t") !== layers) throw new UserError(`${o}: ${at} places ${count("t")} transformer layers, not --num-layers ${layers}`);
  if (count("m") !== mtpLayers) throw new UserError(`${o}: ${at} places ${count("m")} MTP modules, not the ${mtpLayers} of --mtp-num-layers`);
  if (stages.length % pp !== 0) throw new UserError(`${o}: ${at} has ${stages.length} stages, which pp ${pp} does not divide`);
  const split = stages.map((st) => st.split("t").length - 1);
  const alone = split.findIndex((n) => n === 0);
  if (alone >= 0) throw new UserError(`${o}: ${at}: stage ${alone} ("${stages[alone]}") holds no transformer layer, which paraplan does not model`);
  if (stages.slice(0, -1).some((st) => st.includes("m"))) throw new UserError(`${o}: ${at}: MTP modules before the last stage, which paraplan does not model`);
  return { split: split.every((x) => x === split[0]) ? undefined : split, vpp: stages.length / pp };
}

/** The split the flags give (each absent one: an even share of what the other leaves, as
 *  get_num_layers_to_build does), or undefined when neither is given or the split is even. */
export function readMegatronStages(m: Map<string, ArgSetting>, o: string, layers: number | undefined, pp: number, vpp: number): number[] | undefined {
  const ends = accountedEnds(m);
  if (ends.embedding + ends.loss > 0) return accountedSplit(m, o, layers, pp, vpp);
  const first = intArg(m, "decoder-first-pipeline-num-layers", o);
  const last = intArg(m, "decoder-last-pipeline-num-layers", o);
  if (first === undefined && last === undefined) return undefined;
  const flags = [first !== undefined ? `--decoder-first-pipeline-num-layers ${first}` : "", last !== undefined ? `--decoder-last-pipeline-num-layers ${last}` : ""].filter(Boolean).join(" and ");
  if (layers === undefined) throw new UserError(`${o}: ${flags} need --num-layers`);
  if (pp < 2) throw new UserError(`${o}: ${flags} need a pipeline (--pipeline-model-parallel-size > 1)`);
  const rest = layers - (first ?? 0) - (last ?? 0);
  const middleStages = pp - (first !== undefined ? 1 : 0) - (last !== undefined ? 1 : 0);
  // validate_args: the remaining layers divide evenly over the remaining stages.
  if (rest < 0 || (middleStages === 0 ? rest !== 0 : rest % middleStages !== 0 || rest === 0))
    throw new UserError(`${o}: ${flags} leave ${rest} of the ${layers} layers for ${middleStages} other stage${middleStages === 1 ? "" : "s"}, not an even positive split`);
  const middle = middleStages > 0 ? rest / middleStages : 0;
  const split = Array.from({ length: pp }, () => middle);
  if (first !== undefined) split[0] = first;
  if (last !== undefined) split[pp - 1] = last;
  if (split.every((x) => x === split[0])) return undefined;
  if (vpp === 1) return split;
  // virtual stages: each rank's layers cut evenly into its vpp chunks (TransformerConfig raises
  // unless vpp divides each rank's count)
  const bad = split.findIndex((n) => n % vpp !== 0);
  if (bad >= 0) throw new UserError(`${o}: ${flags} give ${bad === 0 ? "the first" : bad === pp - 1 ? "the last" : "each middle"} rank ${split[bad]} layers, which its ${vpp} virtual stages do not divide (Megatron's TransformerConfig refuses it)`);
  return firstLastVirtualSplit(layers, pp, vpp, split[0]!, split[pp - 1]!) ?? undefined;
}

/** Megatron-DeepSpeed's pipeline split: GPTModelPipe hands DeepSpeed's PipelineModule a
 *  partition_method ("type:transformer" unless bigscience's --pp-partition-method names another,
 *  megatron/model/gpt_model.py), which gives every layer whose class name matches weight 1, the
 *  rest 0, and balances the weights over the stages (deepspeed/runtime/pipe/module.py
 *  _partition_layers): "type:transformer" weighs the L transformer layers; bigscience's
 *  "type:transformer|embedding" (BLOOM, tr11-176B-ml) the EmbeddingPipe at each end of tied
 *  embeddings as well (one end untied); "parameters" each spec's parameters. The balance is
 *  DeepSpeed ≤ 0.12.4's partition_balanced, the era of this engine (planner/layout/
 *  deepspeed-balanced.ts): BLOOM's 70 layers and 2 embeddings on 12 stages are 5, 6 × 10, 5; 70
 *  layers by "type:transformer" are 6 × 11, 4. `notes` hears an uneven split and its rule. */
export function readDeepSpeedPartition(m: Map<string, ArgSetting>, o: string, at: PipeAt, notes: string[]): number[] | undefined {
  const { layers, pp, vpp, tied } = at;
  if (layers === undefined || pp < 2) return undefined;
  const given = strArg(m, "pp-partition-method");
  const method = given ?? "type:transformer";
  const flag = given !== undefined ? `--pp-partition-method ${given} (line ${m.get("pp-partition-method")!.line})` : `the default partition_method type:transformer`;
  const how = method.toLowerCase();
  const r = how === "uniform" ? uniformSplit(layers, pp) : how === "parameters" ? weighedSplit(m, o, flag, at) : typeSplit(method, layers, pp, tied);
  if (r === null)
    throw new UserError(`${o}: ${flag} balances the stages by its own measure, which paraplan does not model (it reads type:transformer, type:transformer|embedding, uniform and parameters)`);
  const { split, what, rule } = r;
  if (split.every((x) => x === split[0])) return undefined;
  if (vpp > 1) throw new UserError(`${o}: ${flag} with virtual stages: paraplan models uneven stages with one stage per rank`);
  const empty = split.findIndex((n) => n < 1);
  if (empty >= 0)
    throw new UserError(`${o}: ${flag} balances ${what} over ${pp} stages as ${split.join(",")} (${rule}), leaving stage ${empty} without a transformer layer, which DeepSpeed's pipeline does not run`);
  notes.push(`${o}: ${flag} splits ${what} over ${pp} stages as ${split.join(",")} layers (${rule})`);
  return split;
}

/** What readDeepSpeedPartition needs of the run: the file's layers and degrees, the tying, and
 *  --model (for `parameters`, which weighs the model's own specs). */
export interface PipeAt {
  layers: number | undefined;
  pp: number;
  vpp: number;
  tp: number;
  tied: boolean;
  model: ModelSpec | undefined;
}

/** bigscience's --pp-partition-method parameters: every spec of GPTModelPipe weighed by its
 *  trainable parameters on one tensor-parallel rank (planner/layout/gpt-model-pipe.ts), balanced by
 *  DeepSpeed ≤ 0.12.4's partition_balanced. The word embedding has Megatron's padded vocabulary
 *  (--pad-vocab-size-to, else --model's vocabulary padded to a multiple of
 *  --make-vocab-size-divisible-by (128) · tp, tokenizer.py _vocab_size_with_padding); learned
 *  positions add --max-position-embeddings rows (else the sequence length). */
function weighedSplit(m: Map<string, ArgSetting>, o: string, flag: string, at: PipeAt): DeepSpeedSplit {
  const model = at.model;
  if (model === undefined || model.layers !== at.layers) throw new UserError(`${o}: ${flag} weighs the layers by their parameters: give --model with the file's ${at.layers} layers`);
  if (model.moe !== undefined || model.mla !== undefined || model.mtpLayers)
    throw new UserError(`${o}: ${flag} with ${model.moe ? "experts" : model.mla ? "latent attention" : "multi-token prediction"}: paraplan weighs GPTModelPipe's dense specs only (bigscience's Megatron-DeepSpeed builds no others)`);
  const divisible = intArg(m, "make-vocab-size-divisible-by", o) ?? 128;
  const multiple = divisible * at.tp;
  const paddedVocab = intArg(m, "pad-vocab-size-to", o) ?? Math.ceil(model.vocab / multiple) * multiple;
  const rows = model.positional === "learned" ? (intArg(m, "max-position-embeddings", o) ?? intArg(m, "seq-length", o) ?? model.positionTable ?? model.defaultSeqLen) : 0;
  const embedNorm = m.has("embed-layernorm");
  const weighing = { tp: at.tp, paddedVocab, positionRows: rows, embedNorm, tied: at.tied };
  const split = parametersSplit(model, weighing, at.pp);
  if (split === "disagree")
    throw new UserError(`${o}: ${flag} with --embed-layernorm: the first stage's ranks count the embedding's LayerNorm and the others do not, so they balance the stages differently and DeepSpeed's pipeline does not run`);
  if (split === null) throw new UserError(`${o}: ${flag}: DeepSpeed's partition_balanced finds no split of these weights (it asserts)`);
  // (the weights as the other stages' ranks count them: spec 1 the embedding, spec 3 a layer)
  const [, embedding, , layer] = pipeItemWeights(model, weighing, false) as [number, number, number, number];
  const what = `GPTModelPipe's ${model.layers + 7} specs by their parameters on one tensor-parallel rank (the embedding ${embedding.toLocaleString("en-US")}${at.tied ? " at each end" : ""}, a layer ${layer.toLocaleString("en-US")}; vocabulary ${paddedVocab.toLocaleString("en-US")} padded)`;
  return { split, what, rule: `DeepSpeed ≤ 0.12.4's partition_balanced; 0.12.5 on balances differently` };
}

interface DeepSpeedSplit {
  /** Transformer layers per stage. */
  split: number[];
  /** What is balanced, and by which rule (for the notes). */
  what: string;
  rule: string;
}

/** "type:transformer" and "type:transformer|embedding": unit weights on the matching specs of
 *  GPTModelPipe, balanced by DeepSpeed ≤ 0.12.4's partition_balanced (planner/layout/
 *  gpt-model-pipe.ts). The embedding is the first weighted spec and, tied, the last. */
function typeSplit(method: string, layers: number, pp: number, tied: boolean): DeepSpeedSplit | null {
  const kinds = /^type:/i.test(method) ? method.slice(5).split("|").map((k) => k.trim().toLowerCase()) : [];
  const embeddings = kinds.length > 0 && kinds.every((k) => k === "transformer") ? false : kinds.length === 2 && kinds.includes("transformer") && kinds.includes("embedding") ? true : null;
  if (embeddings === null) return null;
  const ends = embeddings ? (tied ? 2 : 1) : 0;
  const split = gptModelPipeTypeSplit(layers, pp, ends);
  const what = `${layers} layers${ends > 0 ? ` and ${ends} embedding${ends > 1 ? "s" : ""}` : ""}`;
  return { split, what, rule: `DeepSpeed ≤ 0.12.4's partition_balanced over GPTModelPipe's ${layers + 7} specs; 0.12.5 on balances differently` };
}

/** bigscience's --pp-partition-method uniform: DeepSpeed's partition_uniform over every spec of
 *  GPTModelPipe (megatron/model/gpt_model.py @ bigscience-workshop/Megatron-DeepSpeed 8387ae17):
 *  _to_float16, the embedding and a transpose before the L layers; the undo transpose, the final
 *  LayerNorm, the tied logits and float16_to_fp32 after — L + 7 items under 16-bit training. Before
 *  DeepSpeed 0.10.1 (deepspeedai/DeepSpeed#4053) every stage took ⌊(L + 7)/p⌋ items and the last
 *  the rest (deepspeed/runtime/utils.py partition_uniform @ v0.6.5). 70 layers on 12 stages: 77
 *  items, 6 a stage, 11 on the last: 3, 6 × 10 and 7 layers. */
function uniformSplit(layers: number, pp: number): DeepSpeedSplit {
  const items = layers + 7;
  const chunk = Math.floor(items / pp);
  const first = 3; // the layers are items 3 … L + 2
  const split = Array.from({ length: pp }, (_, k) => {
    const from = k * chunk;
    const to = k === pp - 1 ? items : (k + 1) * chunk;
    return Math.max(0, Math.min(to, first + layers) - Math.max(from, first));
  });
  return { split, what: `GPTModelPipe's ${items} items (${layers} layers)`, rule: `DeepSpeed ≤ 0.10.0's partition_uniform: ⌊${items}/${pp}⌋ items a stage, the rest on the last` };
}
