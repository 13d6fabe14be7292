// The pipeline stages and converters of a torchtitan job as read-torchtitan.ts reads them: the
// module names of each stage (v0.2.0's module_fqns_per_model_part), the split points of the
// releases before it, and the float8 converter's names.
import type { Schedule } from "../../planner/index.js";
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

/** What titanStages needs of the job: its parallelism keys and how the reader names them. */
export interface TitanStageJob {
  o: string;
  pp: number;
  layers: number;
  schedule: Schedule;
  /** the schedule as the file names it, and whether torch runs it with several stages a rank */
  scheduleAs: string;
  looped: boolean;
  /** pipeline_parallel_degree where the file states it, else the file */
  ppAt: string;
  get: (key: string) => unknown;
  int: (key: string, dflt: number, min: number) => number;
  setting: (key: string) => string;
  notes: string[];
}

const FIRST = "pipeline_parallel_first_stage_less_layers";
const LAST = "pipeline_parallel_last_stage_less_layers";

/** The stages torchtitan builds for a pipeline: stages per rank (vpp) and, where uneven, the
 *  layers of each. Without module_fqns_per_model_part (or the older split points) pipeline_llm
 *  (torchtitan/distributed/pipeline_parallel.py:57-120 @ v0.2.0; _get_pipeline_metadata @0014ac2c)
 *  takes ⌈(L + first + last)/per⌉ stages from pipeline_parallel_layers_per_stage, else one a rank
 *  (two under a multi-stage schedule), and cuts them with generate_llm_fqn_per_model_part weighing
 *  the embedding and the output as pipeline_parallel_first/last_stage_less_layers layers, default
 *  1 and 1 (job_config.py:335,341 @ v0.2.0; configs.py:162,168 @0014ac2c). The keys arrived with
 *  3c84ce095 (2025-07-30); before it generate_split_points (torchtitan/distributed/pipeline.py
 *  @000204a4) weighed both 1 with no setting, the same cut. */
export function titanStages(j: TitanStageJob): { vpp: number; stageLayers?: number[] } {
  const { o, pp, layers: L, schedule, notes } = j;
  let stageLayers: number[] | undefined;
  const splitSetting = j.get("pipeline_parallel_split_points");
  const split = typeof splitSetting === "string" ? [splitSetting] : splitSetting; // one override point
  const fqnSetting = j.get("module_fqns_per_model_part");
  const perStage = j.get("pipeline_parallel_layers_per_stage");
  // (releases before v0.2.0 named each stage's first layer; 3c84ce095 of 2025-07-30 deprecated
  // the key, 6e06a49cd of 2025-10-13 removed it)
  if (splitSetting !== undefined) notes.push(`${o}: pipeline_parallel_split_points is a key of torchtitan before v0.2.0, which rejects it ("Invalid field names"); v0.2.0 states the split as module_fqns_per_model_part`);
  const v = schedule === "zbv" || schedule === "dualpipev";
  /** Counts of a split: one stage per rank, or p·v virtual stages under a looped schedule
   *  (interleaved, zb1p: rank r holds r, r + p, …) as layout/stages.ts prices them; in a V (zbv,
   *  dualpipev) paraplan models equal ones: a split the file states is read so and said, one
   *  torchtitan cuts by the weights is refused naming them (`weighed`). */
  const counted = (counts: number[], key: string, weighed?: string) => {
    const even = counts.every((n) => n === counts[0]);
    const loopedStages = counts.length === pp || (counts.length % pp === 0 && (schedule === "interleaved" || schedule === "zb1p"));
    if (!even && loopedStages) stageLayers = counts;
    else if (!even && weighed !== undefined && v)
      throw new UserError(`${weighed}: torchtitan cuts the ${L} layers ${counts.join(",")} over the ${j.scheduleAs} schedule's ${counts.length} stages, and paraplan models a V schedule's stages equal; set ${FIRST} and ${LAST} to weights that cut equal stages (0 and 0 where ${counts.length} divides ${L}), or state equal stages in module_fqns_per_model_part`);
    // (a V schedule's stages as the file states them, uneven: priced equal they would be another run)
    else if (!even && v) throw new UserError(`${o}: ${key} gives the ${j.scheduleAs} schedule's ${counts.length} stages ${counts.join(",")} layers, and paraplan models a V schedule's stages equal; state equal stages`);
    else if (!even) notes.push(`${o}: uneven ${key} read as ${counts.length} equal stages`);
    return counts.length;
  };
  /** The weights' layers cut (stagesOfLayersPerStage), named by the weights the file sets, or by
   *  `base` and torchtitan's defaults; the defaults' uneven cut is said. */
  const weighed = (S: number, base: string, key: string) => {
    const f = j.int(FIRST, 1, 0);
    const l = j.int(LAST, 1, 0);
    const unset = [FIRST, LAST].filter((k) => j.get(k) === undefined);
    const set = [FIRST, LAST].find((k) => j.get(k) !== undefined);
    const at = set !== undefined ? j.setting(set) : `${base}, with torchtitan's default ${FIRST} 1 and ${LAST} 1`;
    const counts = stagesOfLayersPerStage(at, S, L, f, l);
    if (unset.length > 0 && counts.some((n) => n !== counts[0]))
      notes.push(`${o}: ${unset.join(" and ")} not set: torchtitan's default${unset.length > 1 ? "s" : ""}, 1${unset.length > 1 ? " and 1" : ""}, cut the ${L} layers ${counts.join(",")}`);
    return counted(counts, key, at);
  };
  let stages: number;
  if (fqnSetting !== undefined) {
    stages = counted(stagesOfModuleFqns(j.setting("module_fqns_per_model_part"), fqnSetting, L), "module_fqns_per_model_part");
  } else if (Array.isArray(split) && split.length > 0) {
    stages = counted(stagesOfSplitPoints(o, split, L), "pipeline_parallel_split_points");
  } else if (typeof perStage === "number") {
    const S = Math.ceil((L + j.int(FIRST, 1, 0) + j.int(LAST, 1, 0)) / perStage);
    // pipeline_llm checks a multi-stage schedule's count from layers per stage, not from names.
    if (j.looped && S === pp)
      throw new UserError(`${j.setting("pipeline_parallel_layers_per_stage")} gives one stage per rank, and torchtitan runs ${j.scheduleAs}, a multi-stage schedule, with at least 2 ("Multi-stage schedule requires at least 2 stages per rank", pipeline_parallel.py pipeline_llm)`);
    stages = S % pp === 0 ? weighed(S, j.setting("pipeline_parallel_layers_per_stage"), "pipeline_parallel_layers_per_stage") : S;
  } else stages = weighed(j.looped ? 2 * pp : pp, j.ppAt, "stages");
  if (stages % pp !== 0) throw new UserError(`${j.ppAt}: ${stages} pipeline stages do not divide over pipeline_parallel_degree ${pp}`);
  const vpp = stages / pp;
  if (v) {
    if (vpp !== 2) throw new UserError(`${o}: the ${j.scheduleAs.toLowerCase()} schedule needs exactly two stages per rank, the split gives ${vpp}`);
  } else if (schedule !== "zb1p" && j.looped !== vpp > 1)
    throw new UserError(`${o}: the ${j.scheduleAs.toLowerCase()} schedule needs ${j.looped ? "two or more stages" : "one stage"} per rank, the split gives ${vpp}`);
  if (L % stages !== 0 && stageLayers === undefined) throw new UserError(`${j.ppAt}: ${L} layers do not split into ${stages} equal stages; paraplan models equal stages`);
  return { vpp, ...(stageLayers ? { stageLayers } : {}) };
}
