// `nvidia-smi topo -m`: the GPU-pair connection matrix and each GPU's CPU and NUMA affinity.
// Format (NVIDIA System Management Interface documentation; the legend nvidia-smi prints):
//           GPU0    GPU1    NIC0    CPU Affinity    NUMA Affinity   GPU NUMA ID
//   GPU0     X      NV12    PXB     48-63,176-191   3               N/A
//   X = self; NV# = a bonded set of # NVLinks; PIX = at most one PCIe bridge; PXB = several PCIe
//   bridges, no host bridge; PHB = a PCIe host bridge (the CPU); NODE = the interconnect between
//   host bridges inside a NUMA node; SYS = PCIe and the SMP interconnect between NUMA nodes
//   (QPI/UPI). Older drivers print SOC for SYS, and list NICs by name (mlx5_0) instead of NIC#.
// Columns are tab- or space-separated; the affinity headers hold spaces.

export type PciePath = "PIX" | "PXB" | "PHB" | "NODE" | "SYS";
export type PairLink = { kind: "nvlink"; links: number } | { kind: "pcie"; path: PciePath } | { kind: "unknown"; text: string };

export interface Topology {
  /** GPU indexes, in row order. */
  gpus: number[];
  /** pairs[i][j]: how GPU rows i and j connect (null on the diagonal). */
  pairs: (PairLink | null)[][];
  cpuAffinity: (string | null)[];
  numaAffinity: (string | null)[];
}

const AFFINITY_HEADERS: string[][] = [["CPU", "Affinity"], ["NUMA", "Affinity"], ["GPU", "NUMA", "ID"]];
/** PCIe paths from nearest to farthest (the legend's order). */
export const PCIE_ORDER: PciePath[] = ["PIX", "PXB", "PHB", "NODE", "SYS"];

function header(tokens: string[]): { devices: string[]; affinity: string[] } {
  const devices: string[] = [];
  const affinity: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const phrase = AFFINITY_HEADERS.find((p) => p.every((w, k) => tokens[i + k] === w));
    if (phrase) {
      affinity.push(phrase.join(" "));
      i += phrase.length;
    } else devices.push(tokens[i++]!);
  }
  return { devices, affinity };
}

export function parsePairLink(text: string): PairLink | null {
  if (text === "X") return null;
  const nv = /^NV(\d+)$/.exec(text);
  if (nv) return { kind: "nvlink", links: Number(nv[1]) };
  const path = text === "SOC" ? "SYS" : text;
  if ((PCIE_ORDER as string[]).includes(path)) return { kind: "pcie", path: path as PciePath };
  return { kind: "unknown", text };
}

/** Parse the matrix; null when the text holds no GPU rows. */
export function parseTopo(text: string): Topology | null {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim().split(/\s+/).includes("GPU0"));
  if (start < 0) return null;
  const { devices, affinity } = header(lines[start]!.trim().split(/\s+/));
  const gpuCols = devices.map((d, i) => [d, i] as const).filter(([d]) => /^GPU\d+$/.test(d));
  const rows: { index: number; cells: string[]; aff: string[] }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*Legend/.test(line)) break;
    const tok = line.trim().split(/\s+/);
    const m = /^GPU(\d+)$/.exec(tok[0] ?? "");
    if (!m) continue;
    rows.push({ index: Number(m[1]), cells: tok.slice(1, 1 + devices.length), aff: tok.slice(1 + devices.length) });
  }
  if (rows.length === 0) return null;
  const affOf = (r: (typeof rows)[number], name: string) => {
    const k = affinity.indexOf(name);
    const v = k >= 0 ? r.aff[k] : undefined;
    return v === undefined || v === "N/A" ? null : v;
  };
  const pairs = rows.map((r) =>
    rows.map((other) => {
      const col = gpuCols.find(([d]) => d === `GPU${other.index}`);
      const cell = col ? r.cells[col[1]] : undefined;
      return cell === undefined ? { kind: "unknown" as const, text: "" } : parsePairLink(cell);
    }),
  );
  rows.forEach((_, i) => (pairs[i]![i] = null));
  return {
    gpus: rows.map((r) => r.index),
    pairs,
    cpuAffinity: rows.map((r) => affOf(r, "CPU Affinity")),
    numaAffinity: rows.map((r) => affOf(r, "NUMA Affinity")),
  };
}

export interface NvlinkPair {
  a: number;
  b: number;
  links: number;
}

export interface TopologySummary {
  gpus: number;
  /** The intra-node link the planner should assume: NVLink only when every pair shares NVLinks. */
  linkKind: "nvlink" | "pcie";
  allPairsNvlink: boolean;
  nvlinkPairs: NvlinkPair[];
  /** GPUs joined by NVLink (connected components), e.g. [[0,1],[2,3]] for bridged pairs. */
  nvlinkIslands: number[][];
  /** All pairs on NVLink with more links per GPU than one GPU has: the links go through NVSwitches. */
  nvswitch: boolean;
  /** The farthest PCIe path between two GPUs (null when every pair is on NVLink). */
  farthestPcie: PciePath | null;
  /** GPU pairs whose PCIe path crosses the inter-socket (SMP) link, counted once per pair. */
  socketCrossingPairs: number;
  numaNodes: string[];
}

/** NVLinks per GPU when nvidia-smi nvlink -s does not say: 18 on H100/H200 (NVIDIA H100 datasheet),
 *  the most of any GPU generation in the built-in profiles. */
export const MAX_LINKS_PER_GPU = 18;

export function summarizeTopo(t: Topology, linksPerGpu: number = MAX_LINKS_PER_GPU): TopologySummary {
  const n = t.gpus.length;
  const nvlinkPairs: NvlinkPair[] = [];
  let farthest = -1;
  let crossing = 0;
  let allNv = n > 1;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const p = t.pairs[i]![j];
      if (p?.kind === "nvlink") nvlinkPairs.push({ a: t.gpus[i]!, b: t.gpus[j]!, links: p.links });
      else allNv = false;
      if (p?.kind === "pcie") {
        farthest = Math.max(farthest, PCIE_ORDER.indexOf(p.path));
        if (p.path === "SYS") crossing++;
      }
    }
  const island = new Map(t.gpus.map((g) => [g, g]));
  const find = (g: number): number => (island.get(g) === g ? g : find(island.get(g)!));
  for (const p of nvlinkPairs) island.set(find(p.a), find(p.b));
  const groups = new Map<number, number[]>();
  for (const g of t.gpus) groups.set(find(g), [...(groups.get(find(g)) ?? []), g]);
  const perGpu = (g: number) => nvlinkPairs.filter((p) => p.a === g || p.b === g).reduce((s, p) => s + p.links, 0);
  const nvswitch = allNv && n > 2 && t.gpus.every((g) => perGpu(g) > linksPerGpu);
  return {
    gpus: n,
    linkKind: allNv ? "nvlink" : "pcie",
    allPairsNvlink: allNv,
    nvlinkPairs,
    nvlinkIslands: [...groups.values()].filter((g) => g.length > 1),
    nvswitch,
    farthestPcie: farthest < 0 ? null : PCIE_ORDER[farthest]!,
    socketCrossingPairs: crossing,
    numaNodes: [...new Set(t.numaAffinity.filter((x): x is string => x !== null))].sort(),
  };
}

/** The link a group of GPUs (row positions) communicates over: NVLink when every pair is. */
export function groupLinkKind(t: Topology, rows: number[]): "nvlink" | "pcie" {
  for (const i of rows) for (const j of rows) if (i < j && t.pairs[i]?.[j]?.kind !== "nvlink") return "pcie";
  return "nvlink";
}
