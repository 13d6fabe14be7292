// Context parallel (Plan.cp, cpComm, cpSplit) in the engines' terms: the Megatron-LM,
// Megatron-DeepSpeed and torchtitan settings that state it, what a training setting rules out
// (a refusal naming it), and reading the settings back. Which variants each engine runs at all is
// planner/layout/cp-capabilities.ts; flags are checked against the recorded release lists
// (test/export/fixtures/megatron-lm-*.txt, megatron-deepspeed.txt, torchtitan-*.txt).
import { type CpComm, type CpSplit, DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type ModelSpec, type Plan, type Training } from "../../planner/index.js";
import { MEGATRON_CP_ARGS, MEGATRON_CP_COMM_TYPE, MEGATRON_DEFAULT_CP_COMM, a2aHeadsRefusal } from "../../planner/layout/cp-capabilities.js";
import { UserError } from "../errors.js";
import { type ArgSetting, argAt, intArg } from "./args-file.js";
import type { TomlValue } from "./toml.js";

type Arg = [string, ...string[]];

/** The context-parallel fields of a plan: cp alone at 1, with its exchange and cut above. */
export type CpFields = Pick<Plan, "cp" | "cpComm" | "cpSplit">;
export function cpFields(cp: number, comm: CpComm, split: CpSplit): CpFields {
  return cp > 1 ? { cp, cpComm: comm, cpSplit: split } : { cp: 1 };
}

const commOf = (p: Plan): CpComm => p.cpComm ?? DEFAULT_CP_COMM;

/** Megatron-LM (_add_distributed_args): --context-parallel-size, and --cp-comm-type where the
 *  release has it (core_v0.7.0 runs the p2p ring only; cp-capabilities refuses the rest). */
export function megatronCpArgs(p: Plan, release: string): Arg[] {
  if (p.cp <= 1) return [];
  const a: Arg[] = [["--context-parallel-size", String(p.cp)]];
  if (MEGATRON_CP_ARGS[release]?.cpCommType) a.push(["--cp-comm-type", MEGATRON_CP_COMM_TYPE[commOf(p)]]);
  return a;
}

/** What the training and model rule out for cp beyond the engine's variants: Transformer Engine
 *  runs context parallel in its flash and fused attention backends only (get_attention_backend
 *  disables UnfusedDotProductAttention for it) and needs the sequence in 2·cp equal chunks
 *  (Megatron's get_batch_on_this_cp_rank; TE: seq_len % (cp_size * 2) == 0); the all-to-all
 *  variant splits heads cp ways. */
export function megatronCpTrainingRefusal(m: ModelSpec, p: Plan, t: Training): string | null {
  if (p.cp <= 1) return null;
  if (!t.fusedAttention)
    return `Megatron-LM's context parallel runs in Transformer Engine's flash and fused attention only (get_attention_backend disables unfused attention with cp = ${p.cp}); plan with fused attention`;
  if (t.seqLen % (2 * p.cp) !== 0) return `Megatron-LM cuts the sequence into 2·cp = ${2 * p.cp} equal chunks; the sequence length ${t.seqLen} does not divide`;
  return a2aHeadsRefusal(p, m.heads, m.kvHeads, "Megatron-LM")?.reason ?? null;
}

/** Megatron-DeepSpeed's Ulysses (megatron/arguments.py @207b2d5a --ds-sequence-parallel-size;
 *  pretrain_gpt.py get_batch gives sequence-parallel rank r the r-th contiguous 1/cp of the
 *  sequence; deepspeed/sequence/layer.py DistributedAttention scatters heads). */
export function deepspeedCpArgs(p: Plan): Arg[] {
  return p.cp > 1 ? [["--ds-sequence-parallel-size", String(p.cp)]] : [];
}

export function deepspeedCpTrainingRefusal(m: ModelSpec, p: Plan, t: Training): string | null {
  if (p.cp <= 1) return null;
  // get_batch cuts by tensor-parallel rank instead of sequence-parallel rank under --sequence-parallel.
  if (p.sequenceParallel)
    return `Megatron-DeepSpeed's pretrain_gpt.py get_batch cuts the sequence by tensor-parallel rank when --sequence-parallel is on, so its Ulysses (cp = ${p.cp}) does not combine with Megatron's sequence parallel; plan without sequence parallel`;
  if (t.seqLen % p.cp !== 0) return `Megatron-DeepSpeed's Ulysses cuts the sequence into cp = ${p.cp} equal parts; the sequence length ${t.seqLen} does not divide`;
  return a2aHeadsRefusal(p, m.heads, m.kvHeads, "Megatron-DeepSpeed")?.reason ?? null;
}

/** torchtitan's [parallelism] context-parallel keys: the degree; the rotate method (set_rotate_method,
 *  torchtitan/distributed/utils.py:216 @ v0.2.2; Literal["allgather", "alltoall"], job_config.py:446),
 *  "alltoall" for the ring (K/V shards passed on one step at a time: torch's _AllToAllRotater) and
 *  "allgather", torchtitan's default, for the all-gather exchange (_AllGatherRotater: K/V gathered
 *  once, asynchronously, then attended block by block, as the torchtitan engine prices it:
 *  contextParallel.stepwise, gatherOverlapsStep); on main the load balancer, "headtail" (chunks r
 *  and 2cp−1−r: zigzag) or None (contiguous). */
export function titanCpValues(p: Plan, release: string): Record<string, TomlValue> {
  if (p.cp <= 1) return { context_parallel_degree: 1 };
  const rotate = commOf(p) === "allgather" ? "allgather" : "alltoall";
  const v: Record<string, TomlValue> = { context_parallel_degree: p.cp, context_parallel_rotate_method: rotate };
  // tyro reads the word None as None for an optional field (`str | None`).
  if (release === "main") v.context_parallel_load_balancer = (p.cpSplit ?? DEFAULT_CP_SPLIT) === "zigzag" ? "headtail" : "None";
  // v0.2.2's TOML (job_config.py:431 @ v0.2.2, `str | None`): "headtail", the zigzag split; TOML has
  // no None, so the contiguous split is refused there (torchtitanCpRefusal).
  if (release === "0.2.2") v.context_parallel_load_balancer = "headtail";
  return v;
}

/** torch's context_parallel shards the sequence over cp (with load balancing, into 2·cp chunks). */
export function titanCpTrainingRefusal(p: Plan, t: Training): string | null {
  if (p.cp <= 1) return null;
  const chunks = (p.cpSplit ?? DEFAULT_CP_SPLIT) === "zigzag" ? 2 * p.cp : p.cp;
  return t.seqLen % chunks === 0 ? null : `torchtitan's context parallel cuts the sequence into ${chunks} equal chunks; the sequence length ${t.seqLen} does not divide`;
}

/** Megatron-LM's --context-parallel-size and --cp-comm-type read back (p2p when absent, the
 *  arguments.py default); the hierarchical a2a+p2p variant is not one paraplan models.
 *  --cp-comm-type takes one type or one per layer (nargs='+', arguments.py:2762 @ 000c4ac, :2457 @
 *  core_v0.14.0): one value is passed on as a string, a list as a list (core_transformer_config_from_args,
 *  arguments.py:1298-1299 @ 000c4ac, :1196-1197 @ core_v0.14.0) whose length TransformerConfig
 *  asserts equals num_layers (transformer_config.py:1516-1518 @ 000c4ac, :1350-1352 @ core_v0.14.0).
 *  A list of one type throughout is that type; mixed types per layer are not modelled. `layers`:
 *  --num-layers, or the model's where the file leaves it out. */
export function readMegatronCp(args: Map<string, ArgSetting>, o: string, layers?: number): CpFields {
  const cp = intArg(args, "context-parallel-size", o) ?? 1;
  if (cp <= 1) return { cp: 1 };
  const types = args.get("cp-comm-type")?.values;
  if (types?.length === 0) throw new UserError(`${o}: ${argAt(args, "cp-comm-type")} has no value`);
  if (args.has("hierarchical-context-parallel-sizes") || types?.includes("a2a+p2p"))
    throw new UserError(`${o}: hierarchical context parallel (--cp-comm-type a2a+p2p, --hierarchical-context-parallel-sizes): paraplan models one cp exchange (p2p, all_gather or a2a)`);
  if (types !== undefined && types.length > 1) {
    if (layers === undefined) throw new UserError(`${o}: ${argAt(args, "cp-comm-type")} gives one type per layer, but neither --num-layers nor --model states the layers to check it against`);
    if (types.length !== layers)
      throw new UserError(`${o}: ${argAt(args, "cp-comm-type")} gives ${types.length} types for ${layers} layers: Megatron asserts one type, or one per layer (transformer_config.py:1516-1518 @ 000c4ac)`);
    if (new Set(types).size > 1)
      throw new UserError(`${o}: ${argAt(args, "cp-comm-type")} mixes exchanges per layer (${[...new Set(types)].join(", ")}), which paraplan does not model: it prices one cp exchange for every layer`);
  }
  const type = types?.[0];
  let comm: CpComm = MEGATRON_DEFAULT_CP_COMM;
  if (type !== undefined) {
    const found = (Object.entries(MEGATRON_CP_COMM_TYPE) as [CpComm, string][]).find(([, v]) => v === type);
    if (!found) throw new UserError(`${o}: --cp-comm-type "${type}" is not p2p, all_gather or a2a`);
    comm = found[0];
  }
  return cpFields(cp, comm, "zigzag");
}

/** Megatron-DeepSpeed's --ds-sequence-parallel-size: Ulysses, contiguous parts. */
export function readDeepSpeedCp(args: Map<string, ArgSetting>, o: string): CpFields {
  if (args.has("context-parallel-size"))
    throw new UserError(`${o}: --context-parallel-size is Megatron-LM's; Megatron-DeepSpeed's context parallel is --ds-sequence-parallel-size`);
  return cpFields(intArg(args, "ds-sequence-parallel-size", o) ?? 1, "a2a", "contiguous");
}

/** torchtitan's context-parallel keys read back: the rotate method's exchange ("alltoall" the ring,
 *  "allgather", the default, the all-gather exchange torch runs step by step: titanCpValues); the
 *  cut from the load balancer (main, 0.2.2; 0.2 has none: torch's balanced default). */
export function readTitanCp(
  get: (key: string) => TomlValue | undefined,
  int: (key: string, dflt: number) => number,
  o: string,
  notes: string[],
  toml?: { setting: (key: string) => string },
): CpFields {
  const cp = int("context_parallel_degree", 1);
  if (cp <= 1) return { cp: 1 };
  const rotate = String(get("context_parallel_rotate_method") ?? "allgather");
  if (rotate !== "allgather" && rotate !== "alltoall") throw new UserError(`${o}: parallelism.context_parallel_rotate_method "${rotate}" is not allgather or alltoall`);
  const balancer = String(get("context_parallel_load_balancer") ?? "headtail");
  let split: CpSplit;
  if (balancer === "headtail") split = "zigzag";
  else if (balancer === "None") {
    // A TOML file's "None" stays the string: ConfigManager._dict_to_dataclass copies the value as
    // tomllib gives it (torchtitan/config/manager.py:180 @ v0.2.2), tyro keeps that default, and
    // cp_shard, finding the string truthy and neither "headtail" nor "ptrr", raises ValueError
    // "Invalid load_balancer_type 'None'" (torchtitan/distributed/context_parallel.py:184, 207-211
    // @ v0.2.2). Only a command-line override (tyro) reads the word None as None.
    if (toml)
      throw new UserError(`${toml.setting("context_parallel_load_balancer")}: torchtitan keeps the TOML string "None" as a string (config/manager.py:180 @ v0.2.2) and cp_shard raises ValueError "Invalid load_balancer_type 'None'" at the first step (distributed/context_parallel.py:207-211 @ v0.2.2); TOML has no None: leave the key out for the balanced split, or pass --parallelism.context_parallel_load_balancer None on the command line`);
    split = "contiguous";
  }
  else if (balancer === "ptrr") {
    split = "zigzag";
    notes.push(`${o}: context_parallel_load_balancer ptrr (FlexAttention's per-token round robin) read as the balanced zigzag split`);
  } else throw new UserError(`${o}: parallelism.context_parallel_load_balancer "${balancer}" is not headtail, ptrr or None`);
  return cpFields(cp, rotate === "allgather" ? "allgather" : "ring", split);
}
