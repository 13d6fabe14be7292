// Slurm: an sbatch script that starts one torchrun per node with srun. #SBATCH options and the
// SLURM_* variables are the sbatch manual's (slurm.schedmd.com/sbatch.html, "OPTIONS" and "OUTPUT
// ENVIRONMENT VARIABLES"); NCCL variables are NCCL's (docs.nvidia.com/deeplearning/nccl/user-guide/
// docs/env.html, NCCL 2.23). Lists recorded in test/export/fixtures/sbatch.txt and nccl-env.txt.
import type { Fixed, Hardware } from "../../planner/index.js";
import { type Engine, type EngineContext, type ExportFile, type Release, describe } from "./engine-plan.js";
import { UserError } from "../errors.js";
import { deviceOfProfile } from "../../executor/devices.js";
import { commentText, exportId, launchSpecFile, launcherTranslate, layout, scriptText, torchrunArgs, workerRunsWith } from "./torchrun.js";

export const SLURM_RELEASES: readonly Release[] = [
  { id: "23", label: "Slurm sbatch (slurm.schedmd.com/sbatch.html) with PyTorch 2.x torchrun and NCCL 2.23 variables" },
];

/** NVSwitch-connected Hopper and Blackwell GPUs: NVLink SHARP (NVLS) collectives exist there
 *  (NCCL ≥ 2.17), and a profile that prices them (fabric.nvls: cost/tuner.ts, DGX B200 and GB200
 *  NVL72's NVLink 5 switches) gets the switch that turns them on. */
export function nvlsSwitch(hw: Hardware): boolean {
  if (hw.intra.kind !== "nvlink") return false;
  if (hw.fabric?.nvls) return true;
  return hw.gpusPerNode >= 4 && /\b(H100|H200|H800|GH200|B200|GB200)\b/.test(hw.gpuName);
}

/** Environment hints that suit the profile's links: active lines only where they are safe
 *  everywhere, the site-specific ones (interfaces, HCAs) as comments to fill in. */
export function ncclHints(hw: Hardware, nodes: number): string[] {
  const out: string[] = [];
  // CPU ranks (the cpu profile): no GPUs, so no NCCL; paraplan's worker joins them over gloo.
  if (deviceOfProfile(hw.gpuName) === "cpu") return ["# CPU ranks: no GPUs and no NCCL (paraplan's worker joins its ranks over gloo: executor/worker/main.py)"];
  if (hw.intra.kind === "nvlink") {
    out.push("# GPUs in a node talk over NVLink; NCCL picks P2P over NVLink by itself. To keep P2P on NVLink paths only:");
    out.push("# export NCCL_P2P_LEVEL=NVL");
  } else if (hw.intra.kind === "infinity-fabric") {
    out.push("# GPUs in a node talk over AMD Infinity Fabric (xGMI); RCCL picks it by itself and reads the same NCCL_* variables");
  } else {
    out.push("# GPUs in a node talk over PCIe: let P2P cross PCIe switches (PXB); if they sit under different CPU sockets try SYS,");
    out.push("# or NCCL_P2P_DISABLE=1 where P2P across the host bridge is slow or broken");
    out.push("# export NCCL_P2P_LEVEL=PXB");
  }
  if (nvlsSwitch(hw)) {
    out.push("# NVSwitch (Hopper, Blackwell): NVLink SHARP offloads all-reduce to the switches");
    out.push("export NCCL_NVLS_ENABLE=1");
  }
  // A multi-node NVLink domain (GB200 NVL72: 18 trays of 4): the plan prices groups inside it on
  // NVLink (layout/fabric.ts), which holds only where the allocation's nodes fill its racks in order.
  const domain = hw.fabric?.nvlinkDomain ?? hw.gpusPerNode;
  if (nodes > 1 && domain > hw.gpusPerNode) {
    const per = domain / hw.gpusPerNode;
    out.push(`# The plan prices groups inside ${domain}-GPU NVLink domains on NVLink: the nodes must fill whole domains (${per} nodes of ${hw.gpusPerNode}) in rank order,`);
    out.push("# as a block topology allocates them (Slurm's topology/block plugin); nodes spread over racks put those groups on the network");
    // A block's segments (--segment, the topology/block plugin's allocation unit: CoreWeave SUNK
    // "Topology/Block Scheduling", docs.coreweave.com/docs/products/sunk/topology-scheduling):
    // written as a comment, as sites without the plugin refuse the option.
    out.push(`# where the plugin runs, segments of ${per} nodes keep each domain's share in one block:`);
    out.push(`# #SBATCH --segment=${per}`);
  }
  if (nodes > 1) {
    out.push("# Between nodes: name the InfiniBand/RoCE adapters and the bootstrap interface of your cluster");
    out.push("# export NCCL_IB_HCA=mlx5");
    out.push("# export NCCL_SOCKET_IFNAME=^lo,docker");
  }
  return out;
}

/** Single quotes for `bash -c '…'`. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function files(ctx: EngineContext): ExportFile[] {
  // The rendezvous is the allocation's first node (MASTER_ADDR below), not an address given here.
  if (ctx.options.rdzvEndpoint !== undefined)
    throw new UserError("--rdzv-endpoint: the sbatch script rendezvouses at the allocation's first node (MASTER_ADDR from SLURM_JOB_NODELIST); drop the flag, or use --format torchrun");
  const l = layout(ctx);
  const name = exportId(ctx.model.name);
  const run = [
    ...torchrunArgs(l, '"$SLURM_NNODES"', '"$SLURM_NODEID"', '"$MASTER_ADDR:$MASTER_PORT"', '"$SLURM_JOB_ID"'),
    scriptText(ctx),
  ].join(" ");
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${name}`,
    `#SBATCH --nodes=${l.nodes}`,
    "#SBATCH --ntasks-per-node=1",
    // (a CPU profile's ranks are cores: GPUs asked of a CPU-only partition keep the job from starting)
    deviceOfProfile(ctx.hw.gpuName) === "cpu" ? `#SBATCH --cpus-per-task=${l.perNode}` : `#SBATCH --gpus-per-node=${l.perNode}`,
    "#SBATCH --exclusive",
    "#SBATCH --output=%x-%j.out",
    "",
    `# ${commentText(ctx.model.name)} on ${ctx.training.gpus} x ${commentText(ctx.hw.gpuName)}${ctx.options.profileName ? ` (${commentText(ctx.options.profileName)})` : ""}`,
    `# plan: ${describe(ctx.plan)}`,
    `# names from ${ctx.release.label}`,
  ];
  if (ctx.options.script === undefined) lines.push("# the worker is paraplan's: submit from paraplan's directory with its .venv active; it reads launch.json");
  else lines.push("# the script's words are written quoted, as given: nothing in them expands");
  lines.push("", ...ncclHints(ctx.hw, l.nodes), "");
  lines.push('export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)');
  lines.push("export MASTER_PORT=29500");
  lines.push("# one torchrun per node; SLURM_NODEID is this node's index in the allocation");
  lines.push(`srun bash -c ${quote(run)}`);
  const out: ExportFile[] = [{ name: "paraplan.sbatch", content: lines.join("\n") + "\n" }];
  if (ctx.options.script === undefined) out.push(launchSpecFile(ctx));
  return out;
}

export const slurm: Engine = {
  format: "slurm",
  releases: SLURM_RELEASES,
  overlays: (): Fixed[] => [{}],
  translate: launcherTranslate,
  files,
  runsWith: workerRunsWith,
};
