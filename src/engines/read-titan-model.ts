// The model a torchtitan job builds ([model] name and flavor, job_config.py Model @ v0.2.0: name
// "llama3", flavor "debugmodel" unless set), checked against --model by the sizes paraplan prices
// (titan-flavors.ts), and the settings the flavor cannot run with: context parallel beside
// FlexAttention, a pipeline on a family without a pipelining function, iRoPE's blocks shorter than
// the sequence.
import { UserError } from "../errors.js";
import type { ModelSpec } from "../../planner/index.js";
import { type TitanFlavor, TITAN_MODELS, flavorModel, flexWords, sizeDifferences, titanFlavor } from "./titan-flavors.js";

export interface TitanModel {
  name: string;
  flavor: string;
  f: TitanFlavor;
  /** The flavor as the file states it: `tt.toml: model.flavor = "16B" (line 3)`, or the default's words. */
  said: string;
}

/** The flavor a job builds, refused (exit 2) where its sizes are not --model's or it is not one
 *  v0.2.0 ships; undefined where the file names no model (paraplan's export of a model torchtitan
 *  does not ship leaves [model] for the user's registry entry: read as --model) or names a model
 *  outside torchtitan's registry (a warning: it cannot be checked). */
export function readTitanModel(
  s: { o: string; name: unknown; flavor: unknown; flavorSetting: string },
  model: ModelSpec,
  warnings: string[],
): TitanModel | undefined {
  const { o } = s;
  if (s.name === undefined && s.flavor === undefined) return undefined;
  const name = String(s.name ?? "llama3");
  const flavor = String(s.flavor ?? "debugmodel");
  const said = s.flavor === undefined ? `${o}: model.flavor not set (torchtitan's default "debugmodel")` : s.flavorSetting;
  const family = Object.hasOwn(TITAN_MODELS, name) ? TITAN_MODELS[name] : undefined;
  if (family === undefined) {
    // llama3_ft (DiLoCo's fault-tolerant llama3), a user's register_train_spec entry: not the
    // flavors this table knows, nor their synchronisation.
    warnings.push(`${o}: model.name "${name}" flavor "${flavor}": a model paraplan cannot check against --model ${model.name}; read as it`);
    return undefined;
  }
  const f = titanFlavor(name, flavor);
  if (f === undefined)
    throw new UserError(`${said} is not a ${name} flavor paraplan knows (${Object.keys(family.flavors).join(", ")}; ${family.source} @ v0.2.0): the model it builds cannot be checked against --model ${model.name}`);
  const diff = sizeDifferences(flavorModel(name, flavor, f), model);
  if (diff.length > 0)
    throw new UserError(`${said} builds ${name} "${flavor}" (${f.at} @ v0.2.0), not ${model.name}: ${diff.join(", ")}; pass the --model the configuration trains`);
  return { name, flavor, f, said };
}

/** The job's settings the flavor cannot run, refused by key; the flavor's attention in a note. */
export function checkTitanFlavorRun(
  t: TitanModel,
  p: { cp: number; pp: number; seqLen: number; cpSetting: string; ppSetting: string; seqSetting: string },
  notes: string[],
): void {
  const { name, flavor, f, said } = t;
  if (f.flex && p.cp > 1)
    throw new UserError(`${p.cpSetting} with ${name} "${flavor}", which runs FlexAttention: torchtitan v0.2.0 raises NotImplementedError("CP support for FlexAttention is still in progress.") (${TITAN_MODELS[name]!.flexCp} @ v0.2.0), so the run stops at start`);
  if (!TITAN_MODELS[name]!.pipelines && p.pp > 1)
    throw new UserError(`${p.ppSetting} with ${name}, whose TrainSpec has no pipelining_fn: torchtitan v0.2.0 raises "Pipeline Parallel is enabled but ${name} does not support pipelining" (torchtitan/train.py:221-226), so the run stops at start`);
  if (f.chunked && p.seqLen > f.chunked.block)
    throw new UserError(`${said} attends within fixed blocks of ${f.chunked.block} tokens on all but every ${f.chunked.nopeEvery}th layer (iRoPE, ${f.at} @ v0.2.0), shorter than ${p.seqSetting}: chunked attention, which paraplan does not model`);
  const flex = flexWords(name, flavor, f);
  if (flex) notes.push(flex);
}
