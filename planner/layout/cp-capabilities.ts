// Which context-parallel variants (Plan.cp, cpComm, cpSplit) each export engine can run, and the
// flags of the recorded releases that say them. A refusal names the release, flag or mechanism.
// Sources: Megatron-LM megatron/training/arguments.py of the releases in src/engines/megatron.ts
// (lists in test/export/fixtures/megatron-lm-*.txt); Megatron-DeepSpeed megatron/arguments.py
// @207b2d5a (fixtures/megatron-deepspeed.txt); torchtitan job_config.py @000204a4 and configs.py
// @0014ac2c (fixtures/torchtitan-*.txt); torch.distributed.tensor.experimental.context_parallel.
import { type CpComm, type CpSplit, DEFAULT_CP_COMM, DEFAULT_CP_SPLIT, type Plan } from "../types.js";

export type CpCode = "megatron_cp_release" | "megatron_cp_comm" | "megatron_cp_split" | "deepspeed_cp_comm" | "torchtitan_cp_comm" | "torchtitan_cp_split" | "cp_heads";

export interface CpRefusal {
  code: CpCode;
  reason: string;
}

const refuse = (code: CpCode, reason: string): CpRefusal => ({ code, reason });
const commOf = (p: Plan): CpComm => p.cpComm ?? DEFAULT_CP_COMM;
const splitOf = (p: Plan): CpSplit => p.cpSplit ?? DEFAULT_CP_SPLIT;

/** Megatron-LM's context-parallel arguments in each recorded release (_add_distributed_args):
 *  core_v0.7.0 has --context-parallel-size only (Transformer Engine's point-to-point ring, its
 *  cp_comm_type default); core_r0.14 adds --cp-comm-type p2p | all_gather | a2a | a2a+p2p. */
export const MEGATRON_CP_ARGS: Readonly<Record<string, { contextParallelSize: boolean; cpCommType: boolean }>> = {
  "core_r0.14": { contextParallelSize: true, cpCommType: true },
  "core_v0.7": { contextParallelSize: true, cpCommType: false },
};

/** Megatron's --cp-comm-type values for the plan's K/V exchanges (arguments.py help of
 *  --cp-comm-type; Transformer Engine attention/dot_product_attention/context_parallel.py). */
export const MEGATRON_CP_COMM_TYPE: Readonly<Record<CpComm, string>> = { ring: "p2p", allgather: "all_gather", a2a: "a2a" };
/** What Megatron runs when --cp-comm-type is not given (arguments.py default, and core_v0.7's only one). */
export const MEGATRON_DEFAULT_CP_COMM: CpComm = "ring";

/** The all-to-all variants scatter attention heads over the cp ranks (DeepSpeed-Ulysses, Jacobs et
 *  al. 2023 §3.1; Transformer Engine's a2a asserts it): each tensor-parallel rank's query and
 *  key/value heads must split cp ways. */
export function a2aHeadsRefusal(p: Plan, heads: number, kvHeads: number, engine: string): CpRefusal | null {
  if (p.cp <= 1 || commOf(p) !== "a2a") return null;
  const q = heads / p.tp;
  const kv = Math.max(1, kvHeads / p.tp);
  if (q % p.cp === 0 && kv % p.cp === 0) return null;
  return refuse("cp_heads", `${engine}'s all-to-all context parallel scatters attention heads over cp = ${p.cp} ranks: each tensor-parallel rank's ${q} query and ${kv} key/value heads must split ${p.cp} ways`);
}

/** Megatron-LM: every variant where the release has the flags; the sequence always cut zigzag. */
export function megatronCpRefusal(p: Plan, release: string | undefined): CpRefusal | null {
  if (p.cp <= 1) return null;
  const name = `Megatron-LM ${release ?? ""}`.trim();
  const args = release === undefined ? undefined : MEGATRON_CP_ARGS[release];
  if (args && !args.contextParallelSize) return refuse("megatron_cp_release", `${name} has no --context-parallel-size (the plan has cp = ${p.cp}); use --release core_r0.14`);
  const comm = commOf(p);
  if (args && !args.cpCommType && comm !== MEGATRON_DEFAULT_CP_COMM)
    return refuse("megatron_cp_comm", `${name} has no --cp-comm-type: its context parallel passes K/V around the ring point to point (p2p), not ${comm}; use --release core_r0.14, or a plan with the ring exchange`);
  if (splitOf(p) === "contiguous")
    return refuse("megatron_cp_split", "Megatron-LM always cuts the sequence into 2·cp chunks and gives cp rank r chunks r and 2cp−1−r (get_batch_on_this_cp_rank, load balance for causal attention); it has no contiguous split");
  return null;
}

/** Megatron-DeepSpeed's context parallel is DeepSpeed-Ulysses (--ds-sequence-parallel-size):
 *  all-to-all only. */
export function deepspeedCpRefusal(p: Plan): CpRefusal | null {
  if (p.cp <= 1) return null;
  const comm = commOf(p);
  if (comm !== "a2a")
    return refuse("deepspeed_cp_comm", `DeepSpeed's context parallel is Ulysses (Megatron-DeepSpeed --ds-sequence-parallel-size, deepspeed/sequence/layer.py DistributedAttention), an all-to-all of heads; it has no ${comm === "ring" ? "ring (point-to-point K/V)" : "all-gather-K/V"} attention; use --format megatron, or a plan with the all-to-all exchange`);
  return null;
}

/** torchtitan's context parallel is torch's ring attention (context_parallel): K/V attended block by
 *  block and merged under either rotate method (parallelism.context_parallel_rotate_method,
 *  job_config.py:446 @ v0.2.2), "alltoall" passing shards around the ring (the ring exchange) and
 *  "allgather", the default, gathering them once (the all-gather exchange, priced step by step by the
 *  torchtitan engines: contextParallel.stepwise); it has no Ulysses (all-to-all of heads). 0.2 has no
 *  load-balancer key: torch's default (_ContextParallelOptions.enable_load_balance) cuts zigzag. */
export function torchtitanCpRefusal(p: Plan, release: string | undefined): CpRefusal | null {
  if (p.cp <= 1) return null;
  if (commOf(p) === "a2a")
    return refuse("torchtitan_cp_comm", "torchtitan's context parallel is torch's ring attention (torch.distributed.tensor.experimental.context_parallel: K/V attended block by block, passed around the ring or all-gathered, context_parallel_rotate_method alltoall or allgather); it has no all-to-all (Ulysses) attention; use a plan with the ring or all-gather exchange, or --format megatron");
  if (release === "0.2" && splitOf(p) === "contiguous")
    return refuse("torchtitan_cp_split", "torchtitan 0.2 has no context-parallel load-balancer setting: torch's context_parallel balances causal attention (chunks r and 2cp−1−r, the zigzag split); use --release main (context_parallel_load_balancer None)");
  // v0.2.2's context_parallel_load_balancer is `str | None` (job_config.py:431 @ v0.2.2): None turns
  // the balancing off, and a TOML file has no None (a string "None" is no balancer it knows).
  if (release === "0.2.2" && splitOf(p) === "contiguous")
    return refuse("torchtitan_cp_split", "torchtitan 0.2.2's TOML job file cannot switch the context-parallel load balancer off (context_parallel_load_balancer takes None, job_config.py:431 @ v0.2.2, which TOML has no value for), so torch's context_parallel balances causal attention (the zigzag split); use --release main (context_parallel_load_balancer None)");
  return null;
}
