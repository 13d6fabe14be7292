// The device `paraplan execute` plans and launches for. A launch for other machines
// (--print-launch, or several nodes) is for --device, else for the device of the plan's
// profile (a GPU profile → cuda, the cpu profile → cpu), never for what this node happens to
// have; a run on this node alone is for --device, else for the GPUs found here (none: CPU
// ranks). Whatever does not match this node is said in one line each, not guessed around.
import { availableParallelism } from "node:os";
import { CPU_PROFILE, type Device, type GpuInfo, deviceOfProfile, profileForGpu } from "../../executor/devices.js";
import { isPath, loadProfile } from "../load.js";
import { gpuGeneration } from "../../planner/index.js";
import { plural } from "../format/units.js";

export interface DeviceInput {
  /** --device. */
  flag: Device | undefined;
  /** --profile, as given. */
  profile: string | undefined;
  /** The GPUs nvidia-smi lists here (none looked for under --device cpu). */
  here: GpuInfo[];
  /** --print-launch or --nnodes > 1: the ranks run (also) on other machines. */
  forOtherMachines: boolean;
  nnodes: number;
  /** --gpus: the ranks over every node, when given. */
  ranks: number | undefined;
}

export interface DeviceChoice {
  device: Device;
  /** One line each, for stderr: where the choice and this node disagree, and what to pass. */
  notes: string[];
}

const gpusHere = (here: GpuInfo[]) => `${here.length} × ${here[0]?.name ?? "GPU"}`;

export function chooseDevice(i: DeviceInput): DeviceChoice {
  const notes: string[] = [];
  const profileHw = i.profile === undefined ? undefined : loadProfile(i.profile);
  const profileDevice = profileHw === undefined ? undefined : deviceOfProfile(profileHw.gpuName);
  // GPUs are found with nvidia-smi alone (executor/devices.ts): an AMD part's node shows none, and
  // what follows (CPU ranks, or no devices under --device cuda) would otherwise go unexplained.
  if (profileHw !== undefined && i.here.length === 0 && gpuGeneration(profileHw).startsWith("MI"))
    notes.push(`profile ${i.profile} is an AMD GPU (${profileHw.gpuName}): paraplan finds GPUs with nvidia-smi only, so ROCm GPUs are not detected here; execute is not wired for ROCm (README "ROCm")`);
  const detected: Device = i.here.length > 0 ? "cuda" : "cpu";
  const device = i.flag ?? (i.forOtherMachines && profileDevice !== undefined ? profileDevice : detected);
  const named = i.profile !== undefined ? `profile ${i.profile}` : "";
  if (device === "cuda" && i.here.length === 0 && i.forOtherMachines)
    notes.push(`the launch is for CUDA GPUs (${i.flag === "cuda" || !named ? "--device cuda" : named}); this node has none (nvidia-smi lists none): run the commands on the GPU nodes`);
  if (device === "cpu" && i.here.length > 0 && i.flag === undefined)
    notes.push(`the launch is for CPU ranks (${named}); this node has ${gpusHere(i.here)}: pass --device cuda and a GPU profile for GPU ranks`);
  if (device === "cuda" && i.profile !== undefined && !isPath(i.profile) && i.here[0]) {
    const own = profileForGpu(i.here[0].name, i.here[0].memory);
    if (own !== null && own !== i.profile && profileDevice === "cuda")
      notes.push(`profile ${i.profile} is not the one of the GPUs here (${i.here[0].name}: ${own}); the predictions are for ${i.profile}'s GPUs`);
  }
  if (profileDevice !== undefined && profileDevice !== device && !(device === "cpu" && i.here.length > 0 && i.flag === undefined))
    notes.push(
      device === "cpu"
        ? `${named} is a GPU profile but the ranks are CPU ranks: its predictions are not comparable with what they measure; --profile ${CPU_PROFILE} for CPU figures${i.forOtherMachines ? "" : ", or --print-launch for the GPU nodes"}`
        : `${named} describes CPU ranks but the ranks are CUDA GPUs: its predictions are not comparable with what they measure`,
    );
  const perNode = i.ranks === undefined ? 1 : Math.ceil(i.ranks / i.nnodes);
  const byDefault = i.flag === undefined && profileDevice === undefined && device === "cpu";
  if (byDefault && (i.nnodes > 1 || perNode > availableParallelism()))
    notes.push(
      `no CUDA GPU found here, so the ${i.nnodes > 1 ? `${i.nnodes} nodes run CPU ranks` : `${plural(perNode, "rank is a CPU rank", "ranks are CPU ranks")} on ${plural(availableParallelism(), "core")}`} (profile ${CPU_PROFILE}); for GPUs pass --device cuda --profile NAME (with --print-launch to print the GPU nodes' commands)`,
    );
  // More CPU ranks than cores share them: each runs at a fraction of the core the profile times.
  else if (device === "cpu" && i.nnodes === 1 && perNode > availableParallelism())
    notes.push(`${perNode} CPU ranks on ${plural(availableParallelism(), "core")} share ${availableParallelism() === 1 ? "it" : "them"}: measured times are slower than the predictions by about ${(perNode / availableParallelism()).toFixed(1)}×, not comparable`);
  return { device, notes };
}
