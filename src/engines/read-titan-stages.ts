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
