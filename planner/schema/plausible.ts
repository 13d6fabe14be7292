// The plausible range of a profile's per-GPU figures: outside it a figure is a unit slip ("3350
// TB/s" for GB/s, "500 mW", 1e-300), not a machine, and is refused with the range rather than
// priced. Each bound lies far outside the parts of today (shared/reference/hardware.md and
// hardware-2026.md, the vendors' datasheets) so that parts to come still load, and far inside the
// factor of 1000 a unit prefix slips by.
import type { Quantity } from "../units.js";

export interface Range {
  min: number;
  max: number;
  quantity: Quantity | "fraction";
}

export const PLAUSIBLE = {
  // Fastest HBM today ≈ 8 TB/s per GPU (B200, GB200: hardware-2026.md); the cpu profile's rank has
  // 25.6 GB/s, half of dual-channel DDR4-3200. 100 MB/s is one DDR4-3200 channel (25.6 GB/s)
  // shared by 256 ranks; 100 TB/s is 12× B200 (the link bound beside it is the same).
  memoryBandwidth: { min: 100e6, max: 100e12, quantity: "bytes/s" },
  // Dense peaks of today: 96 GFLOP/s for one AVX2 core (profiles/hardware/cpu.json) up to GB200's
  // 5 PFLOP/s fp8 (hardware-2026.md). 1 GFLOP/s is one FMA a cycle at 500 MHz, scalar; 100
  // PFLOP/s is 20× GB200's fp8.
  peak: { min: 1e9, max: 100e15, quantity: "FLOP/s" },
  // Memory per GPU today: 48 GB (L40S) to 192 GB (MI300X) (hardware.md, hardware-2026.md); the
  // cpu profile's rank 4 GB. 100 MB holds no model worth planning; 4 TB is 20× MI300X, beyond any
  // part announced.
  memory: { min: 100e6, max: 4e12, quantity: "bytes" },
  // Board power of the parts here: 350 W (L40S) to 1,200 W (GB200) (hardware-2026.md). 10 W is a
  // 35th of the L40S; 5 kW is 4× GB200 and below a whole 8-GPU node (DGX H100 10.2 kW, DGX B200
  // 14.3 kW: hardware-2026.md), the slip of a node's power for a GPU's.
  power: { min: 10, max: 5000, quantity: "watts" },
  // A whole node's power (run.nodePower): DGX A100 6.5 kW to DGX B200 14.3 kW (hardware-2026.md);
  // 100 W is one 100 W GPU's board with nothing around it; 200 kW is 14× DGX B200, above a whole
  // GB200 NVL72 rack's ~120-130 kW, the slip of a row's or a cluster's power for a node's.
  nodePower: { min: 100, max: 200e3, quantity: "watts" },
  // Per-GPU scale-out bandwidth (network.bandwidth): 50 Gb/s (a100-pcie) to 400 Gb/s (ConnectX-7)
  // here, 800 Gb/s (ConnectX-8, 100 GB/s) the fastest NIC shipping per GPU (hardware-2026.md).
  // 100 Mb/s is Fast Ethernet (12.5 MB/s); 200 GB/s (1.6 Tb/s) is twice ConnectX-8: above it a
  // figure is bits read as bytes ("400 GB/s" for 400 Gb/s).
  network: { min: 12.5e6, max: 200e9, quantity: "bytes/s" },
  // The in-node link per GPU: 2 GB/s (the cpu profile's ranks) to NVLink 5's 900 GB/s each way
  // (dgx-b200); 500 MB/s is PCIe 2.0 x1, half PCIe 3.0 x1 (0.985 GB/s), slower than any slot a
  // GPU sits in. The ceiling is parseHardwareFile's 100 TB/s for any link.
  nodeLink: { min: 500e6, max: 100e12, quantity: "bytes/s" },
  // An efficiency below 1e-4 prices an H100 (989 TFLOP/s) below 0.1 TFLOP/s, one CPU core's peak
  // (cpu.json 96 GFLOP/s): no GPU kernel runs that slowly, and calibrate writes no lower
  // (MIN_EFFICIENCY, src/profile/tables.ts). Efficiencies are at most 1 by their schemas.
  efficiency: { min: 1e-4, max: 1, quantity: "fraction" },
} as const satisfies Record<string, Range>;

const SI: [number, string][] = [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""]];
const UNIT: Record<Quantity, string> = { bytes: "B", "bytes/s": "B/s", seconds: "s", "FLOP/s": "FLOP/s", watts: "W" };

/** A bound as a reader writes it: 100 MB/s, 4 TB, 5 kW, 0.0001. */
export function showBound(v: number, q: Range["quantity"]): string {
  if (q === "fraction") return String(v);
  const [scale, prefix] = SI.find(([s]) => v >= s) ?? [1, ""];
  return `${+(v / scale).toPrecision(3)} ${prefix}${UNIT[q]}`;
}

/** A message naming the field, its value as written and the range, or null within it. */
export function implausible(path: string, value: number, written: unknown, r: Range): string | null {
  if (value >= r.min && value <= r.max) return null;
  const shown = typeof written === "string" ? written : r.quantity === "watts" ? `${written} W` : String(written);
  const what = r.quantity === "fraction" ? "of an efficiency (a typo?)" : `per ${r === PLAUSIBLE.nodePower ? "node" : "GPU"} (a unit slip?)`;
  return `field "${path}": ${shown} is outside ${showBound(r.min, r.quantity)} to ${showBound(r.max, r.quantity)}, the plausible range ${what}`;
}

/** A hop's latency, a link's or a fabric tier's: microseconds (NCCL's NVLink 3 us, InfiniBand 6
 *  us, NVLS 25 us: the profiles); 10 ms is a unit slip ("3 s" for 3 us), not a fabric. */
export const LATENCY_MAX = 10e-3;

type Said = { min: number; minIncluded: true; max: number; words: string; what: string };
const said = (r: Range, what: string, like: string): Said => ({
  min: r.min, minIncluded: true, max: r.max, what, words: `from ${showBound(r.min, r.quantity)} to ${showBound(r.max, r.quantity)}, like ${like}`,
});
const latency: Said = { min: 0, minIncluded: true, max: LATENCY_MAX, what: "a latency a hop", words: "from 0 to 10 ms, like 5 us" };

/** What a profile's quantity at `path` is and its range in words, for the messages of a value that
 *  does not read (no unit, the wrong unit, negative, zero): the same ranges that refuse a value
 *  that reads (implausible above, the latency and reserve bounds of ./hardware.ts). */
export function saidRange(path: string): Said | undefined {
  if (path.startsWith("gpu.peak.")) return said(PLAUSIBLE.peak, "a dense peak per GPU", "989 TFLOP/s");
  if (path === "node.link.latency" || path === "network.latency" || (path.startsWith("fabric.") && path.endsWith(".latency"))) return latency;
  switch (path) {
    case "gpu.memory": return said(PLAUSIBLE.memory, "a GPU's memory", "80 GiB");
    case "gpu.memoryBandwidth": return said(PLAUSIBLE.memoryBandwidth, "a GPU's memory bandwidth", "3350 GB/s");
    case "gpu.reserve": return { min: 0, minIncluded: true, max: PLAUSIBLE.memory.max, what: "the memory reserved per GPU", words: "from 0 to below gpu.memory, like 2 GiB" };
    case "gpu.powerLimit": case "gpu.ratedPower": case "run.boardPower": return said(PLAUSIBLE.power, "a GPU's board power", "700 W");
    case "run.nodePower": return said(PLAUSIBLE.nodePower, "a node's power", "10.2 kW");
    case "node.link.bandwidth": return said(PLAUSIBLE.nodeLink, "a GPU's in-node link bandwidth each way", "450 GB/s");
    case "network.bandwidth": return said(PLAUSIBLE.network, "a GPU's network bandwidth", "400 Gb/s");
    default: return undefined;
  }
}
