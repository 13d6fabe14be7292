// QA defects in the hardware profiles and their bounds: parts reusing dgx-h100's fitted figures
// took its matmul and attention figures but not its fp8 factor; "B200 (GB200)" read as a B200;
// run powers, link bandwidths and 16-bit peaks had no plausibility bound.
import { describe, expect, it } from "vitest";
import { message } from "../engines/engine-file.js";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { gpuGeneration } from "../../planner/engine.js";
import { loadProfile } from "../../src/load.js";
import { fileHardware, rawHardware } from "./fixtures.js";

function hardware(over: Record<string, unknown>) {
  const merged = resolveExtends({ name: "mine", extends: "dgx-h100", ...over }, rawHardware, "mine.json");
  if (!merged.ok) return merged;
  return parseHardwareFile(merged.value, "mine.json");
}

describe("parts that reuse dgx-h100's fitted figures reuse all three", () => {
  it.each(["dgx-b200", "gb200-nvl72", "mi300x", "l40s-pcie"])("%s takes dgx-h100's fp8Efficiency by reference", (name) => {
    const [hw, h100] = [loadProfile(name, undefined), loadProfile("dgx-h100", undefined)];
    expect(hw.peak.fp8).not.toBeNull(); // each has an fp8 peak (B200 4500, GB200 5000, MI300X 2614.9, L40S 733 TFLOP/s)
    // Before: undefined, so fp8 GEMMs ran at the whole doubled peak (×1) against the H100's ~0.86.
    expect(hw.fp8Efficiency).toBe(h100.fp8Efficiency);
    expect(hw.fp8Efficiency).toBeLessThan(1);
    const gpu = (fileHardware(name) as { gpu: Record<string, { sameAs?: string }> }).gpu;
    expect(gpu.fp8Efficiency!.sameAs).toBe("dgx-h100");
  });
});

describe("gpuGeneration: the most specific generation in the name", () => {
  it("a GB200 is a GB200, not the B200 named first", () => {
    expect(gpuGeneration({ gpuName: "B200 (GB200) 186GB" })).toBe("GB200");
    expect(gpuGeneration(loadProfile("gb200-nvl72", undefined))).toBe("GB200");
    expect(gpuGeneration({ gpuName: "B200 SXM 180GB" })).toBe("B200");
    expect(gpuGeneration({ gpuName: "H100 PCIe 80GB" })).toBe("H100");
    expect(gpuGeneration({ gpuName: "MI300X OAM 192GB" })).toBe("MI300X");
    expect(gpuGeneration({ gpuName: "A10G" })).toBe("A10G");
    // GH100 is the die, no generation listed: the name itself, not "H100" inside it.
    expect(gpuGeneration({ gpuName: "GH100" })).toBe("GH100");
  });
});

describe("run powers and link bandwidths within physical bounds", () => {
  it("run.boardPower within 10 W–5 kW and run.nodePower within 100 W–200 kW, naming the field", () => {
    // "700 kW" a board: energy 1000× off (700e3 / 700 W).
    expect(message(hardware({ run: { boardPower: "700 kW" } }))).toBe('mine.json: field "run.boardPower": 700 kW is outside 10 W to 5 kW, the plausible range per GPU (a unit slip?)');
    expect(message(hardware({ run: { nodePower: "10.2 MW" } }))).toBe('mine.json: field "run.nodePower": 10.2 MW is outside 100 W to 200 kW, the plausible range per node (a unit slip?)');
    expect(message(hardware({ run: { nodePower: "10.2 W" } }))).toMatch(/"run\.nodePower": 10\.2 W is outside/);
    expect(message(hardware({ run: { boardPower: "5 kW", nodePower: "200 kW" } }))).toBe("");
  });

  it("network at least 100 Mb/s and at most 200 GB/s per GPU; the in-node link at least 500 MB/s", () => {
    // 1 b/s = 0.125 B/s, below Fast Ethernet's 12.5 MB/s.
    expect(message(hardware({ network: { bandwidth: "1 b/s" } }))).toBe('mine.json: field "network.bandwidth": 1 b/s is outside 12.5 MB/s to 200 GB/s, the plausible range per GPU (a unit slip?)');
    expect(message(hardware({ node: { link: { bandwidth: "1 b/s" } } }))).toBe('mine.json: field "node.link.bandwidth": 1 b/s is outside 500 MB/s to 100 TB/s, the plausible range per GPU (a unit slip?)');
    // 400 GB/s = 3.2 Tb/s, 4× ConnectX-8's 800 Gb/s: bits read as bytes.
    expect(message(hardware({ network: { bandwidth: "400 GB/s" } }))).toMatch(/"network\.bandwidth": 400 GB\/s is above 200 GB\/s \(1\.6 Tb\/s\) per GPU.*"400 Gb\/s"/);
    expect(message(hardware({ network: { bandwidth: "100 Mb/s" }, node: { link: { bandwidth: "500 MB/s" } } }))).toBe("");
    expect(message(hardware({ network: { bandwidth: "1.6 Tb/s" } }))).toBe("");
  });

  it("run checkpoint and staging bandwidths at least 1 MB/s", () => {
    expect(message(hardware({ run: { checkpointBandwidth: "1e-30 B/s" } }))).toMatch(/"run\.checkpointBandwidth": "1e-30 B\/s" is out of range; give an aggregate write bandwidth from 1 MB\/s to 100 TB\/s/);
    expect(message(hardware({ run: { stagingBandwidth: "999 kB/s" } }))).toMatch(/"run\.stagingBandwidth": "999 kB\/s" is out of range; give a per-GPU device-to-host bandwidth from 1 MB\/s/);
    expect(message(hardware({ run: { checkpointBandwidth: "1 MB/s", stagingBandwidth: "1 MB/s" } }))).toBe("");
  });
});

describe("16-bit peaks: dense, below fp8, fp16 at bf16's", () => {
  it("bf16 at or above fp8 is the sparse figure: refused naming gpu.peak.bf16", () => {
    // H100: 989 dense, 1979 sparse bf16; fp8 1979 dense. 1979 ≥ 1979.
    expect(message(hardware({ gpu: { peak: { bf16: "1979 TFLOP/s" } } }))).toMatch(/^mine\.json: field "gpu\.peak\.bf16" \(1979 TFLOP\/s\) is not below "gpu\.peak\.fp8" \(1979 TFLOP\/s\).*sparse \(2:4\)/);
    expect(message(hardware({ gpu: { peak: { fp16: "1979 TFLOP/s" } } }))).toMatch(/"gpu\.peak\.fp16" \(1979 TFLOP\/s\) is not below/);
  });

  it("fp16 beside bf16: within 10% where fp8 exists, within 2× before it (MI100 92.3 of 184.6)", () => {
    // 1100 / 989 = 1.112 > 1.1
    expect(message(hardware({ gpu: { peak: { fp16: "1100 TFLOP/s" } } }))).toMatch(/"gpu\.peak\.bf16" \(989 TFLOP\/s\) and "gpu\.peak\.fp16" \(1100 TFLOP\/s\) differ by more than 10%/);
    expect(message(hardware({ gpu: { peak: { fp16: "1080 TFLOP/s" } } }))).toBe(""); // 1.092
    expect(message(hardware({ gpu: { peak: { bf16: "92.3 TFLOP/s", fp16: "184.6 TFLOP/s", fp8: null } } }))).toBe("");
    expect(message(hardware({ gpu: { peak: { bf16: "92 TFLOP/s", fp16: "184.6 TFLOP/s", fp8: null } } }))).toMatch(/differ by more than 2×/);
  });
});
