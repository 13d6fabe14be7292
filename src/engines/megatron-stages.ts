// Uneven pipeline stages in Megatron-LM core_r0.14 (megatron/training/arguments.py
// _add_distributed_args; megatron/core/transformer/transformer_block.py get_num_layers_to_build):
// --decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers give the first and
// the last stage their layers, the others split evenly over the middle stages. Written from a
// plan's stageLayers of the form [first, middle…equal, last] (others are refused by
// planner/layout/capabilities.ts), and read back into stageLayers.
import type { Plan } from "../../planner/index.js";
import { firstLastOfVirtual, firstLastVirtualSplit, firstMiddleLast } from "../../planner/index.js";
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
