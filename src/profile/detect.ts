// What this node has, from nvidia-smi: the GPUs, the driver and CUDA versions, how the GPUs are
// connected (topo -m) and the NVLink speeds (nvlink -s). No nvidia-smi, or no GPU listed: a
// CPU-only machine. Commands run through an injectable runner so tests replay recorded outputs.
import { spawnSync } from "node:child_process";
import { profileForGpu } from "../../executor/devices.js";
import { type NvlinkGpu, gpuNvlinkBandwidth, parseNvlinkStatus } from "./nvlink.js";
import { GPU_QUERY_ARGS, type SmiGpu, parseCudaVersion, parseDriverVersion, parseGpuQuery, pcieBandwidth } from "./smi.js";
import { MAX_LINKS_PER_GPU, type Topology, type TopologySummary, parseTopo, summarizeTopo } from "./topo.js";

/** Runs a command; its stdout, or null when it is missing or fails. */
export type Runner = (cmd: string, args: string[]) => string | null;

export const runQuiet: Runner = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  return r.error || r.status !== 0 ? null : r.stdout;
};

export interface Detected {
  device: "cuda" | "cpu";
  gpus: SmiGpu[];
  driver: string | null;
  cuda: string | null;
  topology: Topology | null;
  summary: TopologySummary | null;
  nvlink: NvlinkGpu[];
  /** What could not be read, in words. */
  notes: string[];
}

export function detect(run: Runner = runQuiet): Detected {
  const notes: string[] = [];
  const query = run("nvidia-smi", GPU_QUERY_ARGS);
  const gpus = query === null ? [] : parseGpuQuery(query);
  if (gpus.length === 0) {
    notes.push(query === null ? "nvidia-smi is not available: a CPU-only machine" : "nvidia-smi lists no GPU: a CPU-only machine");
    return { device: "cpu", gpus: [], driver: null, cuda: null, topology: null, summary: null, nvlink: [], notes };
  }
  const banner = run("nvidia-smi", []) ?? "";
  const cuda = parseCudaVersion(banner);
  const driver = gpus[0]?.driver ?? parseDriverVersion(banner);
  if (cuda === null) notes.push("the CUDA version nvidia-smi reports was not found");
  const nvlinkText = run("nvidia-smi", ["nvlink", "-s"]);
  const nvlink = nvlinkText === null ? [] : parseNvlinkStatus(nvlinkText);
  let topology: Topology | null = null;
  if (gpus.length > 1) {
    const topoText = run("nvidia-smi", ["topo", "-m"]);
    topology = topoText === null ? null : parseTopo(topoText);
    if (topology === null) notes.push("nvidia-smi topo -m gave no GPU matrix: the link kind is the base profile's");
  }
  const links = nvlink.map((g) => g.active.length).filter((n) => n > 0);
  const summary = topology && summarizeTopo(topology, links.length ? Math.min(...links) : MAX_LINKS_PER_GPU);
  return { device: "cuda", gpus, driver, cuda, topology, summary, nvlink, notes };
}

/** The first `n` GPUs only (paraplan profile --gpus N): ranks 0..n−1 run on GPUs 0..n−1. */
export function firstGpus(d: Detected, n: number): Detected {
  if (d.device === "cpu" || n >= d.gpus.length) return d;
  const gpus = d.gpus.slice(0, n);
  const keep = new Set(gpus.map((g) => g.index));
  const nvlink = d.nvlink.filter((g) => keep.has(g.index));
  let topology: Topology | null = null;
  if (d.topology && n > 1) {
    const rows = d.topology.gpus.map((g, i) => [g, i] as const).filter(([g]) => keep.has(g)).map(([, i]) => i);
    topology = {
      gpus: rows.map((i) => d.topology!.gpus[i]!),
      pairs: rows.map((i) => rows.map((j) => d.topology!.pairs[i]![j]!)),
      cpuAffinity: rows.map((i) => d.topology!.cpuAffinity[i]!),
      numaAffinity: rows.map((i) => d.topology!.numaAffinity[i]!),
    };
  }
  const links = nvlink.map((g) => g.active.length).filter((x) => x > 0);
  const summary = topology && summarizeTopo(topology, links.length ? Math.min(...links) : MAX_LINKS_PER_GPU);
  return { ...d, gpus, nvlink, topology, summary, notes: [...d.notes, `--gpus ${n}: GPUs ${[...keep].join(", ")} of ${d.gpus.length}`] };
}

/** The built-in profile closest to what was detected: by GPU name, or cpu for CPU ranks. */
export function closestBuiltin(d: Detected): string | null {
  if (d.device === "cpu") return "cpu";
  const g = d.gpus[0]!;
  return profileForGpu(g.name, g.memory);
}

export interface LinkRate {
  value: number;
  source: string;
}

/** Each-way bandwidth per GPU of the intra-node link that was detected: the sum of a GPU's active
 *  NVLinks when every pair is on NVLink, else its PCIe link (generation × width). Null when
 *  nvidia-smi did not report enough. */
export function detectedLinkRate(d: Detected): LinkRate | null {
  if (d.summary?.linkKind === "nvlink") {
    const totals = d.nvlink.map(gpuNvlinkBandwidth).filter((x) => x > 0);
    if (totals.length === 0) return null;
    const g = d.nvlink.find((x) => x.active.length > 0)!;
    return {
      value: Math.min(...totals),
      source: `nvidia-smi nvlink -s: ${g.active.length} active NVLinks × ${(g.active[0]! / 1e9).toPrecision(5)} GB/s each way per GPU`,
    };
  }
  const rates = d.gpus.map((g) => pcieBandwidth(g.pcieGen, g.pcieWidth));
  if (rates.length === 0 || rates.some((r) => r === null)) return null;
  const g = d.gpus[0]!;
  return {
    value: Math.min(...(rates as number[])),
    source: `nvidia-smi pcie.link.gen.max/width.max: PCIe Gen${g.pcieGen} x${g.pcieWidth} each way (PCI-SIG base specification, 128b/130b encoding)`,
  };
}

/** One line about the node, for the profile's description and the report. */
export function describeNode(d: Detected): string {
  if (d.device === "cpu") return "CPU only (no NVIDIA GPU)";
  const g = d.gpus[0]!;
  const parts = [`${d.gpus.length} × ${g.name} (${Math.round(g.memory / 2 ** 20)} MiB)`];
  const s = d.summary;
  if (s) {
    if (s.allPairsNvlink) {
      const nv = s.nvlinkPairs[0]!.links;
      parts.push(`NVLink between all pairs (NV${nv}${s.nvswitch ? ", through NVSwitch" : ""})`);
    } else if (s.nvlinkIslands.length) parts.push(`NVLink within ${s.nvlinkIslands.map((g) => g.join("-")).join(", ")}, PCIe (${s.farthestPcie}) otherwise`);
    else parts.push(`PCIe only (farthest path ${s.farthestPcie})`);
    if (s.socketCrossingPairs > 0) parts.push(`${s.socketCrossingPairs} GPU pairs cross the inter-socket link`);
    if (s.numaNodes.length > 1) parts.push(`NUMA nodes ${s.numaNodes.join(", ")}`);
  }
  return parts.join("; ");
}
