// The GPU count a launch script's launcher states: torchrun's --nproc-per-node × --nnodes, or the
// deepspeed launcher's --num_gpus × --num_nodes, read from the launcher options args-file.ts
// keeps apart from the trainer's (launcherArgs). A count the script leaves to the machine, the
// environment or a hostfile is decided at launch: `unset`, and the reader asks for --gpus.
import { type ArgSetting, launcherArgs } from "./args-file.js";

/** The world size a launch script's torchrun options state (torch/distributed/run.py:
 *  --nproc-per-node × --nnodes, --nnodes "N" or "MIN:MAX", default 1): undefined when the script
 *  gives no --nproc-per-node. A count left to a variable the script does not set, or to the
 *  machine ("gpu", "auto"), is `{ unset }`,
 *  an elastic range (MIN < MAX) `{ elastic }`: both are decided at launch. */
export function launcherWorld(text: string):
  | { gpus: number; says: string }
  | { elastic: { perNode: number; min: number; max: number; says: string } }
  | { unset: string }
  | undefined {
  const m = new Map(launcherArgs(text).map((s) => [s.flag.replace(/_/g, "-"), s]));
  const ds = m.get("num-gpus") ?? m.get("num-accelerators");
  if (ds) return deepspeedWorld(ds, m);
  const per = m.get("nproc-per-node");
  const nodes = m.get("nnodes");
  // A count the script leaves to a variable it does not set (SLURM_NNODES, $1): decided at launch.
  for (const s of [per, nodes]) if (s?.values[0]?.includes("$")) return { unset: `torchrun --${s.flag} ${s.values[0]} is a shell variable the script does not set` };
  // "gpu", "cuda", "auto", "cpu": the count torchrun finds on the machine (run.py determine_local_world_size).
  if (per?.values[0] !== undefined && /^(gpu|cuda|auto|cpu|xpu)$/.test(per.values[0])) return { unset: `torchrun --${per.flag} ${per.values[0]} is the count torchrun finds on each machine` };
  // A count from a default the script gives a variable (`--nnodes ${NNODES:-1}`): the environment
  // sets it at launch, and a default is often the one-node trial's.
  for (const s of [per, nodes]) if (s?.defaulted) return { unset: `torchrun --${s.flag} ${s.values[0]} is the default the script gives a variable the environment can set at launch` };
  const perValue = per?.values[0];
  if (perValue === undefined || !/^\d+$/.test(perValue) || Number(perValue) < 1) return undefined;
  const p = Number(perValue);
  const perSays = `--${per!.flag} ${perValue}`;
  const nodesValue = nodes?.values[0] ?? "1";
  const range = /^(\d+)(?::(\d+))?$/.exec(nodesValue);
  if (!range) return undefined;
  const min = Number(range[1]);
  const max = range[2] !== undefined ? Number(range[2]) : min;
  const says = nodes ? `torchrun ${perSays} --${nodes.flag} ${nodesValue}` : `torchrun ${perSays}`;
  if (min < 1 || max < min) return undefined;
  if (max > min) return { elastic: { perNode: p, min, max, says } };
  return { gpus: p * min, says };
}

/** The deepspeed launcher's world (deepspeed/launcher/runner.py): --num_gpus per node (-1, the
 *  default: every GPU found) × --num_nodes (-1, the default: every host of the hostfile, or one
 *  without a hostfile). A count it leaves to the machine or a hostfile is decided at launch. */
function deepspeedWorld(per: ArgSetting, m: Map<string, ArgSetting>): { gpus: number; says: string } | { unset: string } | undefined {
  const nodes = m.get("num-nodes");
  const host = m.get("hostfile") ?? m.get("include") ?? m.get("exclude");
  const p = per.values[0] ?? "";
  const n = nodes?.values[0];
  const says = `deepspeed --${per.flag} ${p}${nodes ? ` --${nodes.flag} ${n}` : ""}`;
  for (const v of [p, n]) if (v?.includes("$")) return { unset: `${says}: ${v} is a shell variable the script does not set` };
  for (const s of [per, nodes]) if (s?.defaulted) return { unset: `${says}: ${s.values[0]} is the default the script gives a variable the environment can set at launch` };
  if (!/^\d+$/.test(p) || Number(p) < 1) return { unset: `${says}: --${per.flag} ${p} is the count deepspeed finds on each machine` };
  if (n === undefined || n === "-1") {
    if (host) return { unset: `${says}: the nodes are the --${host.flag} file's, decided at launch` };
    if (n === "-1") return { unset: `${says}: --${nodes!.flag} -1 is every host of the hostfile, decided at launch` };
    return { gpus: Number(p), says: `${says} (one node: no --num_nodes or hostfile)` };
  }
  if (!/^\d+$/.test(n) || Number(n) < 1) return undefined;
  return { gpus: Number(p) * Number(n), says };
}
