// `nvidia-smi nvlink -s` (link status): per GPU, each NVLink's speed per direction, or
// "<inactive>". Format (NVIDIA System Management Interface documentation, `nvidia-smi nvlink -h`):
//   GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-…)
//            Link 0: 25 GB/s
//            Link 1: <inactive>
// GPUs without NVLink print their header line only (or nothing).

export interface NvlinkGpu {
  index: number;
  name: string;
  /** Speed of each active link, bytes/s per direction. */
  active: number[];
  inactive: number;
}

const UNIT: Record<string, number> = { "GB/s": 1e9, "MB/s": 1e6, "GiB/s": 2 ** 30, "MiB/s": 2 ** 20 };

export function parseNvlinkStatus(text: string): NvlinkGpu[] {
  const gpus: NvlinkGpu[] = [];
  let current: NvlinkGpu | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const gpu = /^GPU (\d+): (.*?)(?: \(UUID: [^)]*\))?$/.exec(line);
    if (gpu) {
      current = { index: Number(gpu[1]), name: gpu[2]!.trim(), active: [], inactive: 0 };
      gpus.push(current);
      continue;
    }
    const link = /^Link (\d+): (.*)$/.exec(line);
    if (!link || !current) continue;
    const speed = /^([\d.]+)\s*([GM]i?B\/s)$/.exec(link[2]!.trim());
    if (speed) current.active.push(Number(speed[1]) * (UNIT[speed[2]!] ?? 1e9));
    else current.inactive++;
  }
  return gpus;
}

/** Total NVLink bandwidth of a GPU per direction (sum of its active links), bytes/s. */
export function gpuNvlinkBandwidth(g: NvlinkGpu): number {
  return g.active.reduce((a, b) => a + b, 0);
}
