// Detection from recorded nvidia-smi outputs: GPUs, versions, topology, the closest built-in and
// the link rate; CPU-only machines; `paraplan profile --detect`.
import { describe, expect, it } from "vitest";
import { profileCommand } from "../../src/commands/profile.js";
import { closestBuiltin, describeNode, detect, detectedLinkRate, firstGpus } from "../../src/profile/detect.js";
import { capture, fixtureRunner, noSmi } from "./helpers.js";

describe("detect", () => {
  it("DGX A100: 8 GPUs, driver and CUDA, NVLink through NVSwitch, base dgx-a100-80g, 300 GB/s NVLink", () => {
    const d = detect(fixtureRunner("dgx-a100"));
    expect(d).toMatchObject({ device: "cuda", driver: "535.129.03", cuda: "12.2", notes: [] });
    expect(d.gpus).toHaveLength(8);
    expect(d.summary).toMatchObject({ linkKind: "nvlink", nvswitch: true });
    expect(closestBuiltin(d)).toBe("dgx-a100-80g");
    const rate = detectedLinkRate(d)!;
    expect(rate.value).toBeCloseTo(300e9, -6);
    expect(rate.source).toMatch(/12 active NVLinks × 25\.000 GB\/s/);
    expect(describeNode(d)).toMatch(/^8 × NVIDIA A100-SXM4-80GB \(81920 MiB\); NVLink between all pairs \(NV12, through NVSwitch\); NUMA nodes 1, 3, 5, 7$/);
  });

  it("DGX H100: base dgx-h100", () => {
    const d = detect(fixtureRunner("dgx-h100"));
    expect(closestBuiltin(d)).toBe("dgx-h100");
    expect(d.summary?.nvswitch).toBe(true);
    expect(detectedLinkRate(d)!.value).toBeCloseTo(18 * 26.562e9, -6);
  });

  it("8 × L40S over two sockets: PCIe Gen4 x16, base l40s-pcie", () => {
    const d = detect(fixtureRunner("pcie-8gpu-2socket"));
    expect(closestBuiltin(d)).toBe("l40s-pcie");
    expect(d.summary).toMatchObject({ linkKind: "pcie", socketCrossingPairs: 16 });
    expect(detectedLinkRate(d)!.value / 1e9).toBeCloseTo(31.5, 0);
    expect(describeNode(d)).toMatch(/PCIe only \(farthest path SYS\); 16 GPU pairs cross the inter-socket link; NUMA nodes 0, 1/);
  });

  it("RTX A6000 workstation: NVLink pairs, no built-in to extend", () => {
    const d = detect(fixtureRunner("workstation-4gpu-nvlink"));
    expect(d.summary?.nvlinkIslands).toEqual([[0, 1], [2, 3]]);
    expect(closestBuiltin(d)).toBeNull();
    expect(describeNode(d)).toMatch(/NVLink within 0-1, 2-3, PCIe \(PHB\) otherwise/);
  });

  it("no nvidia-smi, or no GPU listed: CPU only, base cpu", () => {
    const d = detect(noSmi);
    expect(d).toMatchObject({ device: "cpu", gpus: [], topology: null });
    expect(d.notes[0]).toMatch(/not available/);
    expect(closestBuiltin(d)).toBe("cpu");
    expect(detect(() => "No devices were found\n").notes[0]).toMatch(/lists no GPU/);
  });

  it("--gpus: the first GPUs only, with their part of the topology", () => {
    const d = firstGpus(detect(fixtureRunner("workstation-4gpu-nvlink")), 2);
    expect(d.gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(d.summary).toMatchObject({ gpus: 2, linkKind: "nvlink", allPairsNvlink: true, nvswitch: false });
    expect(d.nvlink).toHaveLength(2);
    const one = firstGpus(detect(fixtureRunner("dgx-h100")), 1);
    expect(one.topology).toBeNull();
    expect(one.notes.join()).toMatch(/--gpus 1: GPUs 0 of 8/);
  });

  it("one GPU: no topology is asked for", () => {
    const calls: string[][] = [];
    const d = detect((cmd, args) => {
      calls.push(args);
      return args[0]?.startsWith("--query") ? "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 5, 16\n" : "";
    });
    expect(d.gpus).toHaveLength(1);
    expect(d.topology).toBeNull();
    expect(calls.some((a) => a[0] === "topo")).toBe(false);
  });
});

describe("paraplan profile --detect", () => {
  it("prints the node and the built-in it would extend", async () => {
    const c = capture();
    expect(await profileCommand(["--detect"], c.io, { run: fixtureRunner("dgx-h100"), host: "node1" })).toBe(0);
    expect(c.stdout()).toMatch(/^node1: 8 × NVIDIA H100 80GB HBM3/);
    expect(c.stdout()).toMatch(/driver 550\.54\.15, CUDA 12\.4/);
    expect(c.stdout()).toMatch(/intra-node link: nvlink \(NVSwitch\)/);
    expect(c.stdout()).toMatch(/NVLink: 18 active links per GPU at 26\.562 GB\/s/);
    expect(c.stdout()).toMatch(/closest built-in: dgx-h100/);
  });

  it("--json, and the bridged pairs of a workstation", async () => {
    const c = capture();
    expect(await profileCommand(["--detect", "--json"], c.io, { run: fixtureRunner("workstation-4gpu-nvlink"), host: "ws" })).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.base).toBeNull();
    expect(j.detected.summary.nvlinkPairs).toHaveLength(2);
    const t = capture();
    await profileCommand(["--detect"], t.io, { run: fixtureRunner("workstation-4gpu-nvlink"), host: "ws" });
    expect(t.stdout()).toMatch(/NVLink pairs: 0-1 \(NV4\), 2-3 \(NV4\)/);
    expect(t.stdout()).toMatch(/none matches this GPU \(pass --base NAME\)/);
  });

  it("--device cuda on a machine without GPUs: exit 1; an unknown GPU without --base: exit 2", async () => {
    const c = capture();
    expect(await profileCommand(["--device", "cuda"], c.io, { run: noSmi })).toBe(1);
    expect(c.stderr()).toMatch(/no NVIDIA GPU found .*use --device cpu/);
    const w = capture();
    expect(await profileCommand([], w.io, { run: fixtureRunner("workstation-4gpu-nvlink") })).toBe(2);
    expect(w.stderr()).toMatch(/no built-in profile matches the GPU "NVIDIA RTX A6000"; pass --base NAME/);
  });

  it("bad flags are one-line errors (exit 2)", async () => {
    for (const argv of [["--device", "tpu"], ["--ranks", "0", "--device", "cpu"], ["--ranks", "2"], ["--bogus"], ["--out", ""]]) {
      const c = capture();
      expect(await profileCommand(argv, c.io, { run: noSmi }), argv.join(" ")).toBe(2);
      expect(c.err).toHaveLength(1);
    }
  });
});
