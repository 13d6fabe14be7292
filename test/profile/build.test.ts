// Building the measured profile from measurements with known figures: it extends the closest
// built-in, overrides what was measured (listed in measuredFields), keeps the network, keeps the
// link of a single GPU, and loads through the same schema as the built-ins.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { profileCommand } from "../../src/commands/profile.js";
import { loadProfile } from "../../src/load.js";
import { buildProfile } from "../../src/profile/build.js";
import { detect } from "../../src/profile/detect.js";
import { defaultLocalPath, readProfile, validate, writeProfile } from "../../src/profile/files.js";
import { capture, fixtureRunner, noSmi, tmp } from "./helpers.js";
import { collectives, gpuMeasurements } from "./synthetic.js";

const H100 = { peak: 989e12, top: 0.8, half: 2e10, copy: 3.0e12, kernels: 2.6e12, attention: 4.5e14 };

function build(machine: string, baseName: string, m: ReturnType<typeof gpuMeasurements>, device: "cuda" | "cpu" = "cuda") {
  const detected = device === "cpu" ? detect(noSmi) : detect(fixtureRunner(machine));
  const base = readProfile(baseName);
  const ranks = device === "cpu" ? 2 : detected.gpus.length;
  return buildProfile({ name: "local-test", host: "test", date: "2026-01-02", baseName, base: base.hw, device, detected, m, quick: false, ranks });
}

describe("a measured DGX H100 profile", () => {
  const m = gpuMeasurements({ ...H100, world: 8, collectives: collectives([2, 4, 8], [[0, 1], [0, 7]], 3e-6, 360e9) });
  const b = build("dgx-h100", "dgx-h100", m);
  const { hw } = validate(b.profile, "local-test.json");
  const base = loadProfile("dgx-h100");

  it("extends dgx-h100, is marked measured with date and versions", () => {
    expect(b.profile).toMatchObject({ name: "local-test", extends: "dgx-h100", measured: true, measuredOn: "2026-01-02" });
    expect(b.profile.versions).toEqual({ torch: "2.5.1", cuda: "12.4", driver: "550.54.15", python: "3.11.7" });
    expect(hw.measured).toBe(true);
  });

  it("lists what was measured or read from this machine, and nothing else", () => {
    expect(b.measuredFields.sort()).toEqual(
      [
        "gpu.name", "gpu.memory", "gpu.matmulEfficiency", "gpu.memoryBandwidthEfficiency", "gpu.attentionEfficiency",
        "node.gpusPerNode", "node.link.latency", "node.link.collectiveEfficiency",
      ].sort(),
    );
  });

  // The link: α 3 us and B 360 GB/s fitted over every collective, B then capped at the median
  // large-message (1 GiB) bus bandwidth measured, as the ring model gives it below B: all-reduce
  // 2(n−1)α + 2(n−1)/n·M/B, busbw 2(n−1)/n·M/t = 359.277 (n 2), 358.557 (4), 357.126 (8) GB/s, and
  // all-gather and reduce-scatter alike; send/recv 359.638 (pairs 0-1, 0-7). Median of the 11:
  // 358.557 GB/s, of 450: 0.797.
  it("figures: table against the 989 TFLOP/s datasheet peak, memory-bound 2.6 of 3.35 TB/s, link 358.6 of 450 GB/s, α 3 us", () => {
    expect(hw.peak.bf16).toBe(989e12);
    for (const [f, e] of hw.matmul.points) expect(e).toBeCloseTo((0.8 * f) / (f + 2e10), 1);
    expect(hw.memoryBandwidth).toBe(3350e9);
    expect(hw.memoryBandwidthEfficiency).toBeCloseTo(2.6 / 3.35, 3);
    expect(hw.attentionEfficiency).toBeCloseTo(450 / 989, 3);
    expect(hw.intra).toMatchObject({ kind: "nvlink", bandwidth: 450e9 });
    expect(hw.intra.efficiency).toBe(0.797);
    expect(hw.intra.latency).toBeCloseTo(3e-6, 12);
    expect(hw.gpusPerNode).toBe(8);
    expect(hw.memory).toBe(81559 * 2 ** 20);
  });

  it("keeps the network of the built-in (one node cannot measure it) and says so", () => {
    expect(hw.inter).toEqual(base.inter);
    expect(b.notes.join("\n")).toMatch(/network between nodes: dgx-h100's figures/);
    expect(hw.sources["network.bandwidth"]).toBe(base.sources["network.bandwidth"]);
  });

  it("every measured figure cites how it was measured", () => {
    expect(hw.sources["gpu.matmulEfficiency"]).toMatch(/measured by paraplan profile on test 2026-01-02: bf16 torch\.matmul over 72 GEMM shapes/);
    expect(hw.sources["node.link.latency"]).toMatch(/one least-squares fit of log t to t = L·α \+ W·M\/B over 110 points of 11 collectives over nvlink .*nccl-tests PERFORMANCE\.md/);
    expect(hw.sources["node.link.collectiveEfficiency"]).toMatch(/fitted B 358\.6 GB\/s per rank \(large-message busbw 358\.6 GB\/s\) of 450 GB\/s/);
  });
});

describe("special cases", () => {
  it("one GPU: no interconnect to measure, the built-in's link kept and not listed as measured", () => {
    const m = gpuMeasurements({ ...H100, world: 1, collectives: [] });
    const detected = detect((cmd, args) => (args[0]?.startsWith("--query") ? "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 5, 16\n" : ""));
    const b = buildProfile({ name: "one", host: "h", date: "2026-01-02", baseName: "dgx-h100", base: loadProfile("dgx-h100"), device: "cuda", detected, m, quick: true, ranks: 1 });
    const { hw } = validate(b.profile, "one.json");
    expect((b.profile.node as Record<string, unknown>).link).toBeUndefined();
    expect(b.measuredFields.filter((f) => f.startsWith("node.link"))).toEqual([]);
    expect(b.notes.join("\n")).toMatch(/one GPU: no interconnect to measure; node\.link keeps dgx-h100's figures \(not measured\)/);
    expect(hw.intra).toEqual(loadProfile("dgx-h100").intra);
    expect(hw.gpusPerNode).toBe(1);
    // the DGX's 10.2 kW is a node of 8: one GPU's share, 1,275 W, not 10.2 kW a GPU (the energy
    // divides run.nodePower by node.gpusPerNode)
    expect(hw.run?.nodePower).toBe(1275);
  });

  it("--no-collectives on several GPUs: the link is not measured, and the note says why", () => {
    const b = build("dgx-h100", "dgx-h100", gpuMeasurements({ ...H100, world: 0, collectives: [] }));
    expect(b.notes.join()).toMatch(/no collectives were measured; node\.link keeps dgx-h100's figures/);
    expect(b.measuredFields.some((f) => f.startsWith("node.link"))).toBe(false);
  });

  it("the default file is the one `--profile local` reads (profiles/hardware/local-<host>.json)", () => {
    const path = defaultLocalPath();
    expect(path.endsWith(join("profiles", "hardware", `local-${hostname()}.json`))).toBe(true);
    if (existsSync(path)) return; // a real measured profile of this machine: leave it alone
    const b = build("dgx-h100", "dgx-h100", gpuMeasurements({ ...H100, world: 8, collectives: collectives([2, 8], [[0, 1]], 3e-6, 360e9) }));
    try {
      writeProfile(path, b.profile);
      const hw = loadProfile("local");
      expect(hw.measured).toBe(true);
      // busbw at 1 GiB: 357.126 (n 8), 359.277 (n 2), 359.638 (send/recv); median of 7 359.277 → 0.798
      expect(hw.intra.efficiency).toBe(0.798);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it("a node whose link differs from its base's (NVSwitch A100s over a PCIe base): kind and rate from nvidia-smi", () => {
    const m = gpuMeasurements({ peak: 312e12, top: 0.8, half: 1e10, copy: 1.8e12, kernels: 1.5e12, attention: 1.5e14, world: 8, collectives: collectives([2, 4, 8], [[0, 1]], 5e-6, 240e9) });
    const b = build("dgx-a100", "a100-pcie", m);
    const { hw } = validate(b.profile, "x.json");
    expect(hw.intra.kind).toBe("nvlink");
    expect(hw.intra.bandwidth).toBeCloseTo(300e9, -6);
    // B 240 GB/s capped at the median busbw at 1 GiB, 238.932 GB/s (n 4; 239.465 at n 2, 237.873
    // at 8, α 5 us), of NVLink's 300 GB/s: 0.796.
    expect(hw.intra.efficiency).toBe(0.796);
    expect(b.measuredFields).toEqual(expect.arrayContaining(["node.link.kind", "node.link.bandwidth"]));
    expect(hw.sources["node.link.bandwidth"]).toMatch(/12 active NVLinks/);
  });

  it("bridged pairs: the node-wide link is PCIe; the NVLink pairs are reported beside it", () => {
    const m = gpuMeasurements({ ...H100, peak: 312e12, world: 4, collectives: collectives([2, 4], [[0, 1], [0, 3]], 0, 0, (n, pair) => (n === 2 && (!pair || pair[1] === 1) ? [3e-6, 50e9] : [12e-6, 20e9])) });
    const b = build("workstation-4gpu-nvlink", "a100-pcie", m);
    const { hw } = validate(b.profile, "ws.json");
    expect(hw.intra.kind).toBe("pcie");
    expect(hw.intra.latency).toBeCloseTo(12e-6, 11);
    expect(hw.intra.efficiency).toBeCloseTo(20 / 31.5, 2);
    // (B 50 GB/s capped at its busbw at 1 GiB on 2 ranks, 2^30 / (6 us + 21.475 ms) = 49.99 GB/s)
    expect(b.notes.join("\n")).toMatch(/nvlink \(GPU groups that share it\): α 3 us, B 49\.99 GB\/s per rank/);
  });

  it("CPU ranks: fp32 against cpu's stated peak, raised (with a note) when a GEMM beats it; link over loopback", () => {
    const m = gpuMeasurements({ peak: 200e9, top: 0.9, half: 1e8, copy: 20e9, kernels: 5e9, attention: 20e9, dtype: "fp32", world: 2, collectives: collectives([2], [[0, 1]], 100e-6, 0.5e9) });
    m.versions = { torch: "2.13.0", cuda: null };
    const b = build("", "cpu", m, "cpu");
    const { hw } = validate(b.profile, "cpu-local.json");
    expect(b.profile.extends).toBe("cpu");
    expect(b.profile.versions).toEqual({ torch: "2.13.0", cuda: "none", driver: "none" });
    expect(b.profile.description).toMatch(/\d+ CPU cores? \(.*\), 2 gloo ranks of (\d+|\?) threads?/);
    expect(hw.peak.bf16).toBeCloseTo(180e9, -8);
    expect(hw.peak.tf32).toBe(hw.peak.bf16);
    expect(Math.max(...hw.matmul.points.map((p) => p[1]))).toBeLessThanOrEqual(1);
    expect(b.notes.join("\n")).toMatch(/beats cpu's peak 96 GFLOP\/s: peak set to it/);
    expect(hw.intra.kind).toBe("pcie"); // cpu.json's stand-in kind
    expect(hw.intra.efficiency).toBeCloseTo(0.25, 3);
    expect(hw.intra.latency).toBeCloseTo(100e-6, 10);
    expect(b.measuredFields).not.toContain("gpu.memory");
    expect(b.measuredFields).toEqual(expect.arrayContaining(["gpu.peak.bf16", "node.link.latency"]));
  });
});

describe("paraplan profile (measurement replaced by synthetic figures)", () => {
  const fake = {
    run: fixtureRunner("dgx-h100"),
    host: "dgx1",
    checkPython: () => ({ python: "python", torch: "2.5.1", cudaDevices: 8 }),
    measure: async (o: { ranks: number; onProgress?: (p: string, d: number, t: number, l: string) => void }) => {
      o.onProgress?.("matmul", 1, 1, "x");
      return gpuMeasurements({ ...H100, world: o.ranks, collectives: collectives([2, 4, 8], [[0, 1]], 3e-6, 360e9) });
    },
  };

  it("writes --out, prints the figures, and `plan --profile FILE` can use it", async () => {
    const out = join(tmp(), "h100.json");
    const c = capture();
    expect(await profileCommand(["--out", out, "--raw", out + ".raw"], c.io, fake)).toBe(0);
    const text = c.stdout();
    expect(text).toMatch(/matmul bf16: best 7\d\d\.\d* TFLOP\/s \(80% of 989 TFLOP\/s\)/);
    // (B capped at the median busbw at 1 GiB, 358.557 GB/s: see "figures" above)
    expect(text).toMatch(/interconnect \(nvlink\): α 3 us, B 358\.6 GB\/s per rank → collectiveEfficiency 0\.797 of 450 GB\/s/);
    expect(text).toMatch(new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} in \\d+ s: extends dgx-h100`));
    expect(text).toMatch(/use it: paraplan plan --model <preset\|file> --profile \//);
    const file = JSON.parse(readFileSync(out, "utf8"));
    expect(file).toMatchObject({ name: "h100", extends: "dgx-h100", measured: true });
    expect(loadProfile(out).intra.efficiency).toBe(0.797);
    expect(JSON.parse(readFileSync(out + ".raw", "utf8")).measurements.world).toBe(8);
  });

  // QA: `profile --device cpu --base CPU` (names are read without case) measured, then failed to
  // write: the profile said "extends": "CPU", which no file loads ("extends" is the exact name).
  it("--base in another case extends the built-in by its own name, and plan loads the profile", async () => {
    const out = join(tmp(), "h100.json");
    const c = capture();
    expect(await profileCommand(["--base", "DGX-H100", "--out", out], c.io, fake)).toBe(0);
    expect(c.err).toEqual([]);
    expect(c.stdout()).toMatch(/closest built-in: dgx-h100\b/);
    expect(JSON.parse(readFileSync(out, "utf8")).extends).toBe("dgx-h100");
    expect(loadProfile(out).intra.efficiency).toBe(0.797);
  });

  it("--json prints one object with the path, the profile and the fits", async () => {
    const out = join(tmp(), "p.json");
    const c = capture();
    expect(await profileCommand(["--out", out, "--json", "--name", "mine"], c.io, fake)).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.path).toBe(out);
    expect(j.profile.name).toBe("mine");
    expect(j.measuredFields).toContain("node.link.latency");
    expect(j.link.fits.length).toBeGreaterThan(0);
  });

  it("an --out or --raw that cannot be written is exit 2 with one line naming it", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "x");
    const c = capture();
    expect(await profileCommand(["--out", join(dir, "file", "sub", "p.json")], c.io, fake)).toBe(2);
    expect(c.err).toEqual([expect.stringMatching(/^paraplan: --out: cannot write ".*\/file\/sub\/p\.json": .*\/file exists and is not a directory \(ENOTDIR\)$/)]);
    const r = capture();
    expect(await profileCommand(["--out", join(dir, "ok.json"), "--raw", join(dir, "file", "raw.json")], r.io, fake)).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^paraplan: --raw: cannot write ".*raw\.json": .*\/file exists and is not a directory \(ENOTDIR\)$/)]);
  });

  it("a torch that sees fewer GPUs than nvidia-smi: exit 4", async () => {
    const c = capture();
    expect(await profileCommand(["--out", join(tmp(), "x.json")], c.io, { ...fake, checkPython: () => ({ python: "p", torch: "2.5.1+cpu", cudaDevices: 0 }) })).toBe(4);
    expect(c.stderr()).toMatch(/sees 0 CUDA devices but 8 are to be profiled/);
  });

  it("--gpus 1 profiles the first GPU alone: no collectives, the link stays dgx-h100's", async () => {
    const out = join(tmp(), "one.json");
    const c = capture();
    let ranks = -1;
    const code = await profileCommand(["--gpus", "1", "--out", out, "--json"], c.io, {
      ...fake,
      measure: async (o) => {
        ranks = o.ranks;
        return gpuMeasurements({ ...H100, world: 0, collectives: [] });
      },
    });
    expect(code, c.stderr()).toBe(0);
    expect(ranks).toBe(1);
    const j = JSON.parse(c.stdout());
    expect(j.profile.node.gpusPerNode.value).toBe(1);
    expect(j.profile.node.link).toBeUndefined();
    expect(j.notes.join()).toMatch(/one GPU: no interconnect to measure/);
    const t = capture();
    expect(await profileCommand(["--gpus", "9", "--out", out], t.io, fake)).toBe(1);
    expect(t.stderr()).toMatch(/--gpus 9: nvidia-smi lists 8 GPUs$/m);
  });
});

describe("repeatability of the memory and attention timings", () => {
  it("events keep each repeat and the spread; a spread above 20% is one warning line, none at or below", async () => {
    const { collect, emptyMeasurements } = await import("../../src/profile/events.js");
    const { noisyNotes } = await import("../../src/profile/build.js");
    const { resultLines } = await import("../../src/profile/report.js");
    const m = emptyMeasurements();
    // residual_add: repeats 1.0, 1.1, 1.4 ms: (1.4 − 1.0) / 1.1 = 36% > 20%; copy (2.1 − 2.0) / 2.0 = 5%.
    collect(m, { event: "kernel", name: "residual_add", bytes: 6e6, seconds: 1.1e-3, repeats: [1.0e-3, 1.1e-3, 1.4e-3], spread: 0.4 / 1.1 });
    collect(m, { event: "copy", bytes: 1e8, seconds: 2.0e-3, repeats: [2.0e-3, 2.0e-3, 2.1e-3], spread: 0.05 });
    // exactly 20%: not above
    collect(m, { event: "kernel", name: "gelu", bytes: 1e7, seconds: 1e-3, repeats: [1e-3, 1.2e-3, 1e-3], spread: 0.2 });
    expect(m.kernels[0]).toEqual({ name: "residual_add", bytes: 6e6, seconds: 1.1e-3, repeats: [1.0e-3, 1.1e-3, 1.4e-3], spread: 0.4 / 1.1 });
    expect(m.copy[0]!.repeats).toHaveLength(3);
    const warnings = noisyNotes(m);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: noisy machine: residual_add varied 36% over 3 repeats \(above 20%\)/);
    // In the profile's result lines, as a warning (not a note).
    const b = build("dgx-h100", "dgx-h100", { ...gpuMeasurements({ ...H100, world: 8, collectives: [] }), kernels: m.kernels, copy: m.copy });
    expect(resultLines(b).filter((l) => l.startsWith("warning: noisy machine"))).toHaveLength(1);
  });
});
