// Uneven pipeline stages in Megatron-LM core_r0.14 (megatron/training/arguments.py
// _add_distributed_args; megatron/core/transformer/transformer_block.py get_num_layers_to_build):
// --decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers give the first and
// the last stage their layers, the others split evenly over the middle stages. Written from a
// plan's stageLayers of the form [first, middle…equal, last] (others are refused by
// planner/layout/capabilities.ts), and read back into stageLayers.
import type { Plan } from "../../planner/index.js";
import { firstMiddleLast } from "../../planner/index.js";
import { type ArgSetting, intArg, strArg } from "./args-file.js";
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

/** bigscience's Megatron-DeepSpeed (BLOOM, tr11-176B-ml) --pp-partition-method "type:transformer|
 *  embedding": DeepSpeed's PipelineModule gives every layer whose class name matches one unit and
 *  balances the units over the stages (deepspeed/runtime/pipe/module.py _partition_layers,
 *  ds_utils.partition_balanced): the L transformer layers and the EmbeddingPipe at each end of
 *  tied embeddings (one end untied). With L + ends a multiple of p every stage holds
 *  (L + ends)/p units, the first (and, tied, the last) one transformer layer fewer: BLOOM's 70
 *  layers on 12 stages are 5, 6 × 10, 5. "type:transformer" (Megatron-DeepSpeed's fixed method)
 *  is the even split. */
export function readDeepSpeedPartition(m: Map<string, ArgSetting>, o: string, layers: number | undefined, pp: number, vpp: number, tied: boolean): number[] | undefined {
  const method = strArg(m, "pp-partition-method");
  if (method === undefined || layers === undefined || pp < 2) return undefined;
  const line = m.get("pp-partition-method")!.line;
  const kinds = /^type:/i.test(method) ? method.slice(5).split("|").map((k) => k.trim().toLowerCase()) : [];
  if (kinds.length > 0 && kinds.every((k) => k === "transformer")) return undefined;
  if (kinds.length !== 2 || !kinds.includes("transformer") || !kinds.includes("embedding"))
    throw new UserError(`${o}: --pp-partition-method ${method} (line ${line}) balances the stages by its own measure, which paraplan does not model (it reads type:transformer and type:transformer|embedding)`);
  if (vpp > 1) throw new UserError(`${o}: --pp-partition-method ${method} (line ${line}) with virtual stages: paraplan models uneven stages with one stage per rank`);
  const ends = tied ? 2 : 1;
  const units = layers + ends;
  if (units % pp !== 0)
    throw new UserError(`${o}: --pp-partition-method ${method} (line ${line}) balances ${layers} layers and ${ends} embedding${ends > 1 ? "s" : ""} (${units} units) over ${pp} stages unevenly, which paraplan does not model`);
  const split = Array.from({ length: pp }, () => units / pp);
  split[0]! -= 1;
  if (tied) split[pp - 1]! -= 1;
  return split.every((x) => x === split[0]) ? undefined : split;
}
