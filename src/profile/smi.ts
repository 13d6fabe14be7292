// `nvidia-smi` as paraplan profile reads it: the GPU query (name, memory, driver, PCIe link) and
// the CUDA version of the banner. Formats: NVIDIA System Management Interface documentation
// (`nvidia-smi --help-query-gpu`); memory.total with `nounits` is in MiB.

/** The query paraplan runs; the fields come back in this order. */
export const GPU_QUERY = ["index", "name", "memory.total", "driver_version", "pcie.link.gen.max", "pcie.link.width.max"] as const;
export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY.join(",")}`, "--format=csv,noheader,nounits"];

export interface SmiGpu {
  index: number;
  name: string;
  /** Total memory, bytes. */
  memory: number;
  driver: string | null;
  /** Maximum PCIe generation and width of the GPU's link (null when not reported). */
  pcieGen: number | null;
  pcieWidth: number | null;
}

const num = (s: string | undefined): number | null => {
  const v = Number((s ?? "").trim());
  return (s ?? "").trim() !== "" && Number.isFinite(v) ? v : null;
};

/** Parse the CSV of GPU_QUERY_ARGS, one GPU per line. "[N/A]" and "[Not Supported]" become null. */
export function parseGpuQuery(csv: string): SmiGpu[] {
  const gpus: SmiGpu[] = [];
  for (const raw of csv.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    const f = line.split(",").map((x) => x.trim());
    // A GPU name never holds a comma, but guard against one: the numeric fields are at the ends.
    if (f.length < 3) continue;
    const extra = f.length - GPU_QUERY.length;
    const name = extra > 0 ? f.slice(1, 2 + extra).join(",") : (f[1] ?? "");
    const rest = extra > 0 ? [f[0], name, ...f.slice(2 + extra)] : f;
    const index = num(rest[0]);
    const mib = num(rest[2]);
    if (index === null || mib === null || name === "") continue;
    const driver = rest[3] && !rest[3].startsWith("[") ? rest[3] : null;
    gpus.push({ index, name, memory: mib * 2 ** 20, driver, pcieGen: num(rest[4]), pcieWidth: num(rest[5]) });
  }
  return gpus;
}

/** "CUDA Version: 12.4" from the banner of plain `nvidia-smi` (or `nvidia-smi -q`). */
export function parseCudaVersion(text: string): string | null {
  const m = /CUDA Version\s*:?\s*([\d.]+)/.exec(text);
  return m ? m[1]! : null;
}

/** "Driver Version: 550.54.15" from the banner, when the query did not give it. */
export function parseDriverVersion(text: string): string | null {
  const m = /Driver Version\s*:?\s*([\d.]+)/.exec(text);
  return m ? m[1]! : null;
}

/** Per-direction data rate of one PCIe lane, bytes/s, by generation: 2.5 and 5 GT/s with
 *  8b/10b encoding (Gen 1-2), 8, 16, 32, 64 GT/s with 128b/130b (Gen 3-5; Gen 6 uses FLIT
 *  encoding, ~242/256) — PCI-SIG PCI Express Base Specifications; hardware.md: Gen4 x16 ≈ 31.5 GB/s. */
export function pcieLaneRate(gen: number): number | null {
  const table: Record<number, number> = {
    1: (2.5e9 * 8) / 10 / 8,
    2: (5e9 * 8) / 10 / 8,
    3: (8e9 * 128) / 130 / 8,
    4: (16e9 * 128) / 130 / 8,
    5: (32e9 * 128) / 130 / 8,
    6: (64e9 * 242) / 256 / 8,
  };
  return table[gen] ?? null;
}

/** Each-way bandwidth of a GPU's PCIe link from its generation and width, bytes/s. */
export function pcieBandwidth(gen: number | null, width: number | null): number | null {
  if (gen === null || width === null) return null;
  const lane = pcieLaneRate(gen);
  return lane === null ? null : lane * width;
}
