// nvidia-smi parsers against recorded outputs (fixtures/README.md): the GPU query, the banner,
// `topo -m` and `nvlink -s` of a DGX A100, a DGX H100, an 8-GPU PCIe server across two sockets
// and a 4-GPU workstation with NVLink bridges.
import { describe, expect, it } from "vitest";
import { gpuNvlinkBandwidth, parseNvlinkStatus } from "../../src/profile/nvlink.js";
import { parseCudaVersion, parseDriverVersion, parseGpuQuery, pcieBandwidth } from "../../src/profile/smi.js";
import { groupLinkKind, parsePairLink, parseTopo, summarizeTopo } from "../../src/profile/topo.js";
import { fixture } from "./helpers.js";

describe("nvidia-smi --query-gpu and the banner", () => {
  it("reads name, memory (MiB → bytes), driver and PCIe link of each GPU", () => {
    const gpus = parseGpuQuery(fixture("dgx-h100", "query.csv"));
    expect(gpus).toHaveLength(8);
    expect(gpus[7]).toEqual({ index: 7, name: "NVIDIA H100 80GB HBM3", memory: 81559 * 2 ** 20, driver: "550.54.15", pcieGen: 5, pcieWidth: 16 });
    expect(parseGpuQuery(fixture("workstation-4gpu-nvlink", "query.csv")).map((g) => g.name)).toEqual(Array(4).fill("NVIDIA RTX A6000"));
  });
  it("turns [N/A] into null and skips lines that are not GPUs", () => {
    const g = parseGpuQuery("0, NVIDIA H200, 143771, 560.35.03, [N/A], [N/A]\n\nNo devices were found\n");
    expect(g).toEqual([{ index: 0, name: "NVIDIA H200", memory: 143771 * 2 ** 20, driver: "560.35.03", pcieGen: null, pcieWidth: null }]);
  });
  it("finds the CUDA and driver versions in the banner", () => {
    expect(parseCudaVersion(fixture("dgx-a100", "banner.txt"))).toBe("12.2");
    expect(parseDriverVersion(fixture("dgx-h100", "banner.txt"))).toBe("550.54.15");
    expect(parseCudaVersion("CUDA Version                          : 12.4")).toBe("12.4"); // nvidia-smi -q
    expect(parseCudaVersion("no driver")).toBeNull();
  });
  it("PCIe bandwidth: Gen4 x16 ≈ 31.5 GB/s and Gen5 x16 ≈ 63 GB/s each way (hardware.md)", () => {
    expect(pcieBandwidth(4, 16)! / 1e9).toBeCloseTo(31.5, 0);
    expect(pcieBandwidth(5, 16)! / 1e9).toBeCloseTo(63, 0);
    expect(pcieBandwidth(null, 16)).toBeNull();
  });
});

describe("nvidia-smi nvlink -s", () => {
  it("DGX A100: 12 links of 25 GB/s per GPU = 300 GB/s each way", () => {
    const g = parseNvlinkStatus(fixture("dgx-a100", "nvlink.txt"));
    expect(g).toHaveLength(8);
    expect(g[0]).toMatchObject({ index: 0, name: "NVIDIA A100-SXM4-80GB", inactive: 0 });
    expect(g[0]!.active).toHaveLength(12);
    expect(gpuNvlinkBandwidth(g[3]!)).toBeCloseTo(300e9, -6);
  });
  it("DGX H100: 18 links of 26.562 GB/s", () => {
    const g = parseNvlinkStatus(fixture("dgx-h100", "nvlink.txt"));
    expect(g.every((x) => x.active.length === 18)).toBe(true);
    expect(g[0]!.active[0]).toBeCloseTo(26.562e9, -3);
  });
  it("a PCIe GPU lists no links; inactive links are counted apart", () => {
    expect(parseNvlinkStatus(fixture("pcie-8gpu-2socket", "nvlink.txt")).every((g) => g.active.length === 0)).toBe(true);
    const g = parseNvlinkStatus("GPU 3: Tesla V100-SXM2-32GB (UUID: GPU-x)\n\t Link 0: 25.781 GB/s\n\t Link 1: <inactive>\n");
    expect(g[0]).toMatchObject({ index: 3, name: "Tesla V100-SXM2-32GB", inactive: 1 });
    expect(g[0]!.active).toEqual([25.781e9]);
  });
});

describe("nvidia-smi topo -m", () => {
  it("reads the pair codes", () => {
    expect(parsePairLink("NV12")).toEqual({ kind: "nvlink", links: 12 });
    expect(parsePairLink("SOC")).toEqual({ kind: "pcie", path: "SYS" }); // old drivers
    expect(parsePairLink("X")).toBeNull();
    expect(parsePairLink("C2C")).toEqual({ kind: "unknown", text: "C2C" });
  });

  it("DGX A100: NV12 between all pairs through NVSwitch, four NUMA nodes, NIC columns ignored", () => {
    const t = parseTopo(fixture("dgx-a100", "topo.txt"))!;
    expect(t.gpus).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.cpuAffinity[0]).toBe("48-63,176-191");
    expect(t.numaAffinity).toEqual(["3", "3", "1", "1", "7", "7", "5", "5"]);
    const s = summarizeTopo(t, 12);
    expect(s).toMatchObject({ gpus: 8, linkKind: "nvlink", allPairsNvlink: true, nvswitch: true, farthestPcie: null, socketCrossingPairs: 0 });
    expect(s.nvlinkPairs).toHaveLength(28);
    expect(s.nvlinkIslands).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
    expect(s.numaNodes).toEqual(["1", "3", "5", "7"]);
  });

  it("DGX H100: NV18 between all pairs, NVSwitch, two sockets", () => {
    const s = summarizeTopo(parseTopo(fixture("dgx-h100", "topo.txt"))!, 18);
    expect(s).toMatchObject({ linkKind: "nvlink", nvswitch: true, numaNodes: ["0", "1"] });
  });

  it("8 PCIe GPUs over two sockets: PCIe link, no NVLink, 16 pairs cross the socket link (old header style)", () => {
    const t = parseTopo(fixture("pcie-8gpu-2socket", "topo.txt"))!;
    expect(t.gpus).toHaveLength(8);
    expect(t.pairs[0]![1]).toEqual({ kind: "pcie", path: "PXB" });
    expect(t.pairs[0]![2]).toEqual({ kind: "pcie", path: "NODE" });
    expect(t.pairs[0]![4]).toEqual({ kind: "pcie", path: "SYS" });
    expect(t.cpuAffinity[5]).toBe("32-63,96-127");
    const s = summarizeTopo(t);
    expect(s).toMatchObject({ linkKind: "pcie", allPairsNvlink: false, nvlinkPairs: [], nvswitch: false, farthestPcie: "SYS", socketCrossingPairs: 16 });
    expect(s.numaNodes).toEqual(["0", "1"]);
    expect(groupLinkKind(t, [0, 1])).toBe("pcie");
  });

  it("4-GPU workstation with NVLink bridges: pairs 0-1 and 2-3 on NV4, PCIe otherwise", () => {
    const t = parseTopo(fixture("workstation-4gpu-nvlink", "topo.txt"))!;
    const s = summarizeTopo(t, 4);
    expect(s).toMatchObject({ linkKind: "pcie", allPairsNvlink: false, nvswitch: false, farthestPcie: "PHB", socketCrossingPairs: 0 });
    expect(s.nvlinkPairs).toEqual([{ a: 0, b: 1, links: 4 }, { a: 2, b: 3, links: 4 }]);
    expect(s.nvlinkIslands).toEqual([[0, 1], [2, 3]]);
    expect(groupLinkKind(t, [0, 1])).toBe("nvlink");
    expect(groupLinkKind(t, [0, 1, 2, 3])).toBe("pcie");
  });

  it("NVLink between all pairs without switches (4 × H100 NV6 mesh) is not NVSwitch", () => {
    const text = "\tGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\tNUMA Affinity\n" +
      ["GPU0\t X \tNV6\tNV6\tNV6\t0-7\t0", "GPU1\tNV6\t X \tNV6\tNV6\t0-7\t0", "GPU2\tNV6\tNV6\t X \tNV6\t0-7\t0", "GPU3\tNV6\tNV6\tNV6\t X \t0-7\t0"].join("\n");
    const s = summarizeTopo(parseTopo(text)!, 18);
    expect(s).toMatchObject({ linkKind: "nvlink", allPairsNvlink: true, nvswitch: false });
  });

  it("space-separated output and an unparseable text", () => {
    const text = "        GPU0    GPU1    CPU Affinity    NUMA Affinity\nGPU0     X      PHB     0-63            0\nGPU1    PHB      X      0-63            0\n";
    const t = parseTopo(text)!;
    expect(t.pairs[0]![1]).toEqual({ kind: "pcie", path: "PHB" });
    expect(t.numaAffinity).toEqual(["0", "0"]);
    expect(parseTopo("Failed to initialize NVML")).toBeNull();
  });
});
