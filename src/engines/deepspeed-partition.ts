// Megatron-DeepSpeed's pipeline split read back: GPTModelPipe hands DeepSpeed's PipelineModule a
// partition_method ("type:transformer" unless bigscience's --pp-partition-method names another,
// megatron/model/gpt_model.py), which gives every layer whose class name matches weight 1, the rest
// 0, and balances the weights over the stages (deepspeed/runtime/pipe/module.py _partition_layers):
// "type:transformer" weighs the L transformer layers; bigscience's "type:transformer|embedding"
// (BLOOM, tr11-176B-ml) the EmbeddingPipe at each end of tied embeddings as well (one end untied);
// "parameters" each spec's parameters; "uniform" counts the specs. Which DeepSpeed runs decides the
// split: partition_balanced was rewritten in 0.12.5 (deepspeedai/DeepSpeed#4312; ≤ 0.12.4's
// bottleneck search, planner/layout/deepspeed-balanced.ts, against the smallest spread of
// deepspeed/runtime/utils.py:583-621 @ v0.16.0, planner/layout/deepspeed-016-split.ts), and
// partition_uniform in 0.10.1. Where the two balances differ the version must be stated: by the
// header paraplan's export writes ("# names from DeepSpeed 0.16+ …"), or by an --engine file's
// supports.stageSplit ("first-heavy": ≤ 0.12.4, "min-spread": 0.12.5 on); else exit 2 naming it.
import { type DeepSpeedBalance, type ModelSpec, gptModelPipeTypeSplit, parametersSplit, pipeItemWeights, uniformSplit016 } from "../../planner/index.js";
import { deepspeed016Split, gptModelPipeWeights } from "../../planner/layout/deepspeed-016-split.js";
import { UserError } from "../errors.js";
import { type ArgSetting, intArg, strArg } from "./args-file.js";
import { DEEPSPEED_RELEASES } from "./deepspeed.js";

/** Who states the DeepSpeed version the files run on, and so its partition rule. */
export interface BalanceStated {
  balance: DeepSpeedBalance;
  /** In words, for the notes and refusals: "the file's header: DeepSpeed 0.16+". */
  says: string;
}

/** What readDeepSpeedPartition needs of the run: the file's layers and degrees, the tying,
 *  --model (for `parameters`, which weighs the model's own specs, and its MoE-loss spec), and
 *  what states the DeepSpeed version, if anything does. */
export interface PipeAt {
  layers: number | undefined;
  pp: number;
  vpp: number;
  tp: number;
  tied: boolean;
  model: ModelSpec | undefined;
  stated?: BalanceStated | undefined;
}

/** One rule's split: layers per stage, or null with why there is none. */
interface DeepSpeedSplit {
  split: number[] | null;
  /** Where split is null: short (for comparing the rules), and the refusal's words. */
  none?: { short: string; why: string };
  /** What is balanced, and by which rule (for the notes). */
  what: string;
  rule: string;
}

const ERA: Record<DeepSpeedBalance, string> = { "first-heavy": "DeepSpeed ≤ 0.12.4", "min-spread": "DeepSpeed 0.12.5 and later" };
const tooLarge = (layers: number, pp: number) => ({ short: "too large to work out", why: `${layers} layers on ${pp} stages are too many to work out ${ERA["min-spread"]}'s split` });

/** The stage split the file runs, or undefined where it is even (or there is no pipeline); an
 *  uneven one is said in `notes` with its rule. */
export function readDeepSpeedPartition(m: Map<string, ArgSetting>, o: string, at: PipeAt, notes: string[]): number[] | undefined {
  const { layers, pp, vpp } = at;
  if (layers === undefined || pp < 2) return undefined;
  const given = strArg(m, "pp-partition-method");
  const method = given ?? "type:transformer";
  const flag = given !== undefined ? `--pp-partition-method ${given} (line ${m.get("pp-partition-method")!.line})` : `the default partition_method type:transformer`;
  const how = method.toLowerCase();
  const under = (b: DeepSpeedBalance) =>
    how === "uniform" ? uniformSplit(layers, pp, b) : how === "parameters" ? weighedSplit(m, o, flag, at, b) : typeSplit(method, layers, pp, at, b, given === undefined);
  const old = under("first-heavy");
  if (old === null)
    throw new UserError(`${o}: ${flag} balances the stages by its own measure, which paraplan does not model (it reads type:transformer, type:transformer|embedding, uniform and parameters)`);
  const r = chosen(o, flag, old, under("min-spread")!, at);
  const split = r.split;
  if (split === null) throw new UserError(`${o}: ${flag}: ${r.none!.why} (${r.rule})`);
  if (split.every((x) => x === split[0])) return undefined;
  if (vpp > 1) throw new UserError(`${o}: ${flag} with virtual stages: paraplan models uneven stages with one stage per rank`);
  const empty = split.findIndex((n) => n < 1);
  if (empty >= 0)
    throw new UserError(`${o}: ${flag} balances ${r.what} over ${pp} stages as ${split.join(",")} (${r.rule}), leaving stage ${empty} without a transformer layer, which DeepSpeed's pipeline does not run`);
  notes.push(`${o}: ${flag} splits ${r.what} over ${pp} stages as ${split.join(",")} layers (${r.rule})`);
  return split;
}

/** The split of the DeepSpeed the files state; either where both rules agree; exit 2 naming how
 *  to state the version where they differ and nothing states it. */
function chosen(o: string, flag: string, old: DeepSpeedSplit, neu: DeepSpeedSplit, at: PipeAt): DeepSpeedSplit {
  const shown = (r: DeepSpeedSplit) => r.split?.join(",") ?? r.none!.short;
  if (shown(old) === shown(neu)) return { ...old, rule: `${old.rule}; ${neu.rule.slice(0, neu.rule.indexOf("'s "))}'s the same` };
  if (at.stated === undefined)
    throw new UserError(
      `${o}: ${flag} splits ${old.what} over ${at.pp} stages as ${shown(old)} under ${old.rule} and as ${shown(neu)} under ${neu.rule}, and the files do not state the DeepSpeed version: give --engine FILE, an engine file extending megatron-deepspeed with supports.stageSplit "first-heavy" (DeepSpeed ≤ 0.12.4) or "min-spread" (0.12.5 and later)`,
    );
  const r = at.stated.balance === "first-heavy" ? old : neu;
  return { ...r, rule: `${r.rule}, as ${at.stated.says}` };
}

/** bigscience's --pp-partition-method parameters: every spec of GPTModelPipe weighed by its
 *  trainable parameters on one tensor-parallel rank (planner/layout/gpt-model-pipe.ts), balanced by
 *  the rule's partition_balanced. The word embedding has Megatron's padded vocabulary
 *  (--pad-vocab-size-to, else --model's vocabulary padded to a multiple of
 *  --make-vocab-size-divisible-by (128) · tp, tokenizer.py _vocab_size_with_padding); learned
 *  positions add --max-position-embeddings rows (else the sequence length). */
function weighedSplit(m: Map<string, ArgSetting>, o: string, flag: string, at: PipeAt, balance: DeepSpeedBalance): DeepSpeedSplit {
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
  const split = parametersSplit(model, weighing, at.pp, balance);
  // (the weights as the other stages' ranks count them: spec 1 the embedding, spec 3 a layer)
  const [, embedding, , layer] = pipeItemWeights(model, weighing, false) as [number, number, number, number];
  const what = `GPTModelPipe's ${model.layers + 7} specs by their parameters on one tensor-parallel rank (the embedding ${embedding.toLocaleString("en-US")}${at.tied ? " at each end" : ""}, a layer ${layer.toLocaleString("en-US")}; vocabulary ${paddedVocab.toLocaleString("en-US")} padded)`;
  const rule = `${ERA[balance]}'s partition_balanced`;
  if (split === "disagree")
    return { split: null, none: { short: "a different split on the first stage's ranks", why: `with --embed-layernorm the first stage's ranks count the embedding's LayerNorm and the others do not, so they balance the stages differently and DeepSpeed's pipeline does not run` }, what, rule };
  if (split === null)
    return { split: null, none: balance === "first-heavy" ? { short: "no split (it asserts)", why: `DeepSpeed's partition_balanced finds no split of these weights (it asserts)` } : tooLarge(model.layers, at.pp), what, rule };
  return { split, what, rule };
}

/** "type:transformer" and "type:transformer|embedding": unit weights on the matching specs of
 *  GPTModelPipe. ≤ 0.12.4 over the L + 7 specs of 2021–23 (planner/layout/gpt-model-pipe.ts); 0.12.5
 *  on, the default (no --pp-partition-method: deepspeedai's GPTModelPipe @207b2d5a, which the export
 *  writes for) over its L + 5 specs and the MoE-loss spec (deepspeed-016-split.ts), bigscience's
 *  flag over its L + 7. The embedding is the first weighted spec and, tied, the last. Null for
 *  another method. */
function typeSplit(method: string, layers: number, pp: number, at: PipeAt, balance: DeepSpeedBalance, deepspeedai: boolean): DeepSpeedSplit | null {
  const kinds = /^type:/i.test(method) ? method.slice(5).split("|").map((k) => k.trim().toLowerCase()) : [];
  const embeddings = kinds.length > 0 && kinds.every((k) => k === "transformer") ? false : kinds.length === 2 && kinds.includes("transformer") && kinds.includes("embedding") ? true : null;
  if (embeddings === null) return null;
  const ends = embeddings ? (at.tied ? 2 : 1) : 0;
  const what = `${layers} layers${ends > 0 ? ` and ${ends} embedding${ends > 1 ? "s" : ""}` : ""}`;
  const moe = at.model?.moe !== undefined;
  const newSpecs = deepspeedai && balance === "min-spread";
  const specs = newSpecs ? gptModelPipeWeights(layers, moe).length : layers + 7;
  const split = newSpecs ? deepspeed016Split(layers, pp, moe) : gptModelPipeTypeSplit(layers, pp, ends, balance);
  const rule = `${ERA[balance]}'s partition_balanced over GPTModelPipe's ${specs} specs`;
  return split === null ? { split, none: tooLarge(layers, pp), what, rule } : { split, what, rule };
}

/** bigscience's --pp-partition-method uniform: DeepSpeed's partition_uniform over every spec of
 *  GPTModelPipe (megatron/model/gpt_model.py @ bigscience-workshop/Megatron-DeepSpeed 8387ae17):
 *  _to_float16, the embedding and a transpose before the L layers; the undo transpose, the final
 *  LayerNorm, the tied logits and float16_to_fp32 after — L + 7 items under 16-bit training. Before
 *  DeepSpeed 0.10.1 (deepspeedai/DeepSpeed#4053) every stage took ⌊(L + 7)/p⌋ items and the last
 *  the rest (deepspeed/runtime/utils.py partition_uniform @ v0.6.5), the ≤ 0.12.4 reading here; 70
 *  layers on 12 stages: 77 items, 6 a stage, 11 on the last: 3, 6 × 10 and 7 layers. From 0.10.1
 *  the first 77 mod 12 stages take one more (uniformSplit016). */
function uniformSplit(layers: number, pp: number, balance: DeepSpeedBalance): DeepSpeedSplit {
  const items = layers + 7;
  const what = `GPTModelPipe's ${items} items (${layers} layers)`;
  if (balance === "min-spread") return { split: uniformSplit016(layers, pp), what, rule: `DeepSpeed 0.10.1 and later's partition_uniform: ⌊${items}/${pp}⌋ items a stage, the first ${items % pp} one more` };
  const chunk = Math.floor(items / pp);
  const first = 3; // the layers are items 3 … L + 2
  const split = Array.from({ length: pp }, (_, k) => {
    const from = k * chunk;
    const to = k === pp - 1 ? items : (k + 1) * chunk;
    return Math.max(0, Math.min(to, first + layers) - Math.max(from, first));
  });
  return { split, what, rule: `DeepSpeed ≤ 0.10.0's partition_uniform: ⌊${items}/${pp}⌋ items a stage, the rest on the last` };
}

/** The DeepSpeed release the export's header names ("# names from <label>", deepspeed.ts
 *  DEEPSPEED_RELEASES), with its stage split: the files' own statement of their version. */
export function headerBalance(text: string): BalanceStated | undefined {
  const lines = new Set(text.split("\n").map((l) => l.trim()));
  const r = DEEPSPEED_RELEASES.find((x) => lines.has(`# names from ${x.label}`));
  if (r === undefined || (r.stageSplit !== "first-heavy" && r.stageSplit !== "min-spread")) return undefined;
  return { balance: r.stageSplit, says: `the file's header names DeepSpeed ${r.id}+` };
}
