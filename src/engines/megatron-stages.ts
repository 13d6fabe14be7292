// Uneven pipeline stages in Megatron-LM core_r0.14 (megatron/training/arguments.py
// _add_distributed_args; megatron/core/transformer/transformer_block.py get_num_layers_to_build):
// --decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers give the first and
// the last stage their layers, the others split evenly over the middle stages. Written from a
// plan's stageLayers of the form [first, middle…equal, last] (others are refused by
// planner/layout/capabilities.ts), and read back into stageLayers.
import type { Plan } from "../../planner/index.js";
import { firstMiddleLast } from "../../planner/index.js";
import { type ArgSetting, intArg } from "./args-file.js";
import { UserError } from "../errors.js";

type Arg = [string, ...string[]];

/** The two flags for an uneven split (none for an even one). */
export function megatronStageArgs(p: Plan): Arg[] {
  if (p.stageLayers === undefined) return [];
  const f = firstMiddleLast(p.stageLayers);
  if (f === null) return [];
  return [["--decoder-first-pipeline-num-layers", String(f.first)], ["--decoder-last-pipeline-num-layers", String(f.last)]];
}

/** The split the flags give (each absent one: an even share of what the other leaves, as
 *  get_num_layers_to_build does), or undefined when neither is given or the split is even. */
export function readMegatronStages(m: Map<string, ArgSetting>, o: string, layers: number | undefined, pp: number, vpp: number): number[] | undefined {
  const first = intArg(m, "decoder-first-pipeline-num-layers", o);
  const last = intArg(m, "decoder-last-pipeline-num-layers", o);
  if (first === undefined && last === undefined) return undefined;
  const flags = [first !== undefined ? `--decoder-first-pipeline-num-layers ${first}` : "", last !== undefined ? `--decoder-last-pipeline-num-layers ${last}` : ""].filter(Boolean).join(" and ");
  if (layers === undefined) throw new UserError(`${o}: ${flags} need --num-layers`);
  if (pp < 2) throw new UserError(`${o}: ${flags} need a pipeline (--pipeline-model-parallel-size > 1)`);
  if (vpp > 1) throw new UserError(`${o}: ${flags} with virtual stages: paraplan models uneven stages with one stage per rank`);
  const rest = layers - (first ?? 0) - (last ?? 0);
  const middleStages = pp - (first !== undefined ? 1 : 0) - (last !== undefined ? 1 : 0);
  // validate_args: the remaining layers divide evenly over the remaining stages.
  if (rest < 0 || (middleStages === 0 ? rest !== 0 : rest % middleStages !== 0 || rest === 0))
    throw new UserError(`${o}: ${flags} leave ${rest} of the ${layers} layers for ${middleStages} other stage${middleStages === 1 ? "" : "s"}, not an even positive split`);
  const middle = middleStages > 0 ? rest / middleStages : 0;
  const split = Array.from({ length: pp }, () => middle);
  if (first !== undefined) split[0] = first;
  if (last !== undefined) split[pp - 1] = last;
  return split.every((x) => x === split[0]) ? undefined : split;
}
