// The devices present on this node: CUDA GPUs (nvidia-smi) and the built-in hardware profile
// that matches them by name; CPU ranks use profiles/hardware/cpu.json.
import { spawnSync } from "node:child_process";

export interface GpuInfo {
  name: string;
  /** Total memory, bytes. */
  memory: number;
}

/** Parse `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` (memory "81559 MiB"). */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const units: Record<string, number> = { kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 };
  const gpus: GpuInfo[] = [];
  for (const raw of csv.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const comma = line.lastIndexOf(",");
    if (comma < 0) continue;
    const name = line.slice(0, comma).trim();
    const mem = /^([\d.]+)\s*([KMG]i?B)?$/i.exec(line.slice(comma + 1).trim());
    if (!name || !mem) continue;
    const unit = units[(mem[2] ?? "MiB").toLowerCase()] ?? 2 ** 20;
    gpus.push({ name, memory: Number(mem[1]) * unit });
  }
  return gpus;
}

/** The CUDA GPUs nvidia-smi lists; none when nvidia-smi is missing or fails. */
export function detectCudaGpus(run: (cmd: string, args: string[]) => string | null = runQuiet): GpuInfo[] {
  const out = run("nvidia-smi", ["--query-gpu=name,memory.total", "--format=csv,noheader"]);
  return out === null ? [] : parseNvidiaSmi(out);
}

function runQuiet(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
  return r.error || r.status !== 0 ? null : r.stdout;
}

/**
 * The built-in profile for a GPU, by the name nvidia-smi reports ("NVIDIA H100 80GB HBM3",
 * "NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe", "NVIDIA H200", "NVIDIA L40S", "NVIDIA B200",
 * "NVIDIA GB200", "NVIDIA H800", …);
 * null when no built-in matches.
 */
export function profileForGpu(name: string, memory: number): string | null {
  const n = name.toUpperCase();
  const pcie = /PCIE|NVL/.test(n);
  if (n.includes("H200")) return "hgx-h200";
  // 2026 profiles: GB200 before B200 (the name contains it); the H800 profile is the SXM part.
  if (n.includes("GB200")) return "gb200-nvl72";
  if (n.includes("B200")) return "dgx-b200";
  if (n.includes("H800")) return pcie ? null : "h800";
  if (n.includes("H100")) return pcie ? "h100-pcie" : "dgx-h100";
  if (n.includes("A100")) {
    if (pcie) return "a100-pcie";
    const big = /80\s*GB/.test(n) || memory > 48 * 2 ** 30;
    return big ? "dgx-a100-80g" : "dgx-a100-40g";
  }
  if (n.includes("L40S")) return "l40s-pcie";
  return null;
}

export const CPU_PROFILE = "cpu";

export type Device = "cuda" | "cpu";

export interface Devices {
  device: Device;
  /** Devices present on this node (GPUs found, or the CPU ranks asked for). */
  present: number;
  gpus: GpuInfo[];
}

/** What this node has: CUDA GPUs when asked for or found, else CPU ranks. */
export function presentDevices(device: Device | undefined, cpuRanks: number, gpus: GpuInfo[]): Devices {
  const d: Device = device ?? (gpus.length > 0 ? "cuda" : "cpu");
  return d === "cuda" ? { device: d, present: gpus.length, gpus } : { device: d, present: cpuRanks, gpus: [] };
}

/** The device a hardware profile describes: CPU ranks for a CPU profile (cpu.json, and profiles
 *  measured on CPU ranks, which keep its CPU name), CUDA GPUs for every other. */
export function deviceOfProfile(gpuName: string): Device {
  return /\bCPU\b/i.test(gpuName) ? "cpu" : "cuda";
}
