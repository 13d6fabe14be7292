// The pipeline stages and converters of a torchtitan job as read-torchtitan.ts reads them: the
// module names of each stage (v0.2.0's module_fqns_per_model_part), the split points of the
// releases before it, and the float8 converter's names.
import { UserError } from "../errors.js";

/** torchao's Float8Linear: "quantize.linear.float8" from v0.2.0 (components/quantization/float8.py),
 *  "float8" before (@000204a4). */
export const isFloat8 = (c: string) => c === "float8" || c === "quantize.linear.float8";

/** The layers of each stage from module_fqns_per_model_part (one list of module names per stage,
 *  pipeline_module_split @ v0.2.0): the layers 0 … L−1 each once and in order, the embedding in the
 *  first stage and the output in the last, as paraplan's stages place them. `at`: the setting. */
export function stagesOfModuleFqns(at: string, parts: unknown, layers: number): number[] {
  if (!Array.isArray(parts) || parts.length === 0 || !parts.every((x) => Array.isArray(x) && x.every((n) => typeof n === "string")))
    throw new UserError(`${at} is not a list of lists of module names`);
  const names = parts as string[][];
  let next = 0;
  const counts = names.map((part, s) => {
    let n = 0;
    for (const name of part) {
      const m = /^layers\.(\d+)$/.exec(name);
      if (m) {
        if (Number(m[1]) !== next) throw new UserError(`${at}: stage ${s} lists ${name} where layers.${next} comes next; paraplan models the layers in order, each once`);
        next++;
        n++;
      } else if (name === "tok_embeddings" ? s !== 0 : name === "norm" || name === "output" ? s !== names.length - 1 : true)
        throw new UserError(`${at}: stage ${s} lists "${name}"; paraplan models tok_embeddings on the first stage, layers.N, and norm and output on the last`);
    }
    if (n === 0) throw new UserError(`${at}: stage ${s} holds no layer, which paraplan does not model`);
    return n;
  });
  if (next !== layers) throw new UserError(`${at} lists ${next} layers and the model has ${layers}`);
  return counts;
}

/** The layers of each stage from split points "layers.N" (each the first layer of the next stage). */
export function stagesOfSplitPoints(o: string, split: readonly unknown[], layers: number): number[] {
  const at = split.map((p) => {
    const m = typeof p === "string" ? /^layers\.(\d+)$/.exec(p) : null;
    if (!m) throw new UserError(`${o}: pipeline_parallel_split_points entry ${JSON.stringify(p)} is not "layers.N"`);
    return Number(m[1]);
  });
  const bounds = [0, ...at, layers];
  const out = bounds.slice(1).map((b, i) => b - bounds[i]!);
  if (out.some((n) => n < 1)) throw new UserError(`${o}: pipeline_parallel_split_points ${at.map((n) => `layers.${n}`).join(", ")} are not increasing inside the ${layers} layers`);
  return out;
}

/** The layers of each of `stages` stages as torchtitan cuts them from layers per stage
 *  (generate_llm_fqn_per_model_part, torchtitan/distributed/pipeline_parallel.py @ v0.2.0; the
 *  same cut since pipeline_parallel_layers_per_stage arrived, 8b737fe3c of 2025-04-07): the
 *  embedding counts as `first` layers and the output as `last`, the L + first + last effective
 *  layers go ⌊·/S⌋ to each stage and one more to the first (L + first + last) mod S, and the first
 *  and last stages hold that less their weight. `at`: the setting, for the errors torchtitan raises. */
export function stagesOfLayersPerStage(at: string, stages: number, layers: number, first: number, last: number): number[] {
  const effective = layers + first + last;
  const per = Math.floor(effective / stages);
  const extra = effective % stages;
  if (stages > effective || per === 0) throw new UserError(`${at}: ${stages} stages cannot hold ${layers} layers with the embedding and output weighted ${first} and ${last} (torchtitan raises)`);
  if (first > per || last > per) throw new UserError(`${at}: the embedding's or output's weight (${first}, ${last}) exceeds the ${per} layers a stage (torchtitan raises)`);
  const counts = Array.from({ length: stages }, (_, s) => per + (s < extra ? 1 : 0) - (s === 0 ? first : 0) - (s === stages - 1 ? last : 0));
  const empty = counts.findIndex((n) => n < 1);
  if (empty >= 0) throw new UserError(`${at}: stage ${empty} would hold no transformer layer, which paraplan does not model`);
  return counts;
}
