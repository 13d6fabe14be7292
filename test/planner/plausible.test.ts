// Figures outside the plausible range of a GPU (planner/schema/plausible.ts) are unit slips, refused
// naming the field, the value as written and the range; a cap above the rated power is refused.
import { describe, expect, it } from "vitest";
import { engineOver as engine, message } from "../engines/engine-file.js";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { PLAUSIBLE } from "../../planner/schema/plausible.js";
import { MIN_EFFICIENCY } from "../../src/profile/tables.js";
import { rawHardware } from "./fixtures.js";

function hardware(over: Record<string, unknown>) {
  const merged = resolveExtends({ name: "mine", extends: "dgx-h100", ...over }, rawHardware, "mine.json");
  if (!merged.ok) return merged;
  return parseHardwareFile(merged.value, "mine.json");
}

describe("hardware figures outside a GPU's plausible range", () => {
  it("unit slips of bandwidth, peak, memory and power are refused naming the field, the value and the range", () => {
    const slip = "the plausible range per GPU (a unit slip?)";
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ memoryBandwidth: "3350 TB/s" }, `field "gpu.memoryBandwidth": 3350 TB/s is outside 100 MB/s to 100 TB/s, ${slip}`],
      [{ memoryBandwidth: "3350 kB/s" }, `field "gpu.memoryBandwidth": 3350 kB/s is outside 100 MB/s to 100 TB/s, ${slip}`],
      [{ peak: { bf16: "989 PFLOP/s" } }, `field "gpu.peak.bf16": 989 PFLOP/s is outside 1 GFLOP/s to 100 PFLOP/s, ${slip}`],
      [{ peak: { fp8: "1979 kFLOP/s" } }, `field "gpu.peak.fp8": 1979 kFLOP/s is outside 1 GFLOP/s to 100 PFLOP/s, ${slip}`],
      [{ memory: "80 TB" }, `field "gpu.memory": 80 TB is outside 100 MB to 4 TB, ${slip}`],
      [{ powerLimit: "500 mW", ratedPower: "700 W" }, `field "gpu.powerLimit": 500 mW is outside 10 W to 5 kW, ${slip}`],
      [{ powerLimit: 1, ratedPower: 700 }, `field "gpu.powerLimit": 1 W is outside 10 W to 5 kW, ${slip}`],
      [{ powerLimit: 1e-300, ratedPower: 700 }, `field "gpu.powerLimit": 1e-300 W is outside 10 W to 5 kW, ${slip}`],
      // A rating far below the cap turned the derating off (powerThrottle: limit ≥ rated is 1).
      [{ powerLimit: 500, ratedPower: 1e-300 }, `field "gpu.ratedPower": 1e-300 W is outside 10 W to 5 kW, ${slip}`],
      // 700 kW: a node's power in the wrong unit, not a GPU's.
      [{ powerLimit: 500, ratedPower: "700 kW" }, `field "gpu.ratedPower": 700 kW is outside 10 W to 5 kW, ${slip}`],
    ];
    for (const [gpu, text] of cases) expect(message(hardware({ gpu })), JSON.stringify(gpu)).toBe(`mine.json: ${text}`);
  });

  it("efficiencies positive but absurdly small are refused; the floor calibrate writes loads", () => {
    const range = "is outside 0.0001 to 1, the plausible range of an efficiency (a typo?)";
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ matmulEfficiency: { source: "t", points: [[1e9, 1e-300], [1e12, 0.6]] } }, `field "gpu.matmulEfficiency.points": 1e-300 (at 1000000000 FLOPs) ${range}`],
      [{ attentionEfficiency: 1e-300 }, `field "gpu.attentionEfficiency": 1e-300 ${range}`],
      [{ memoryBandwidthEfficiency: 5e-5 }, `field "gpu.memoryBandwidthEfficiency": 0.00005 ${range}`],
      [{ fp8Efficiency: 1e-7 }, `field "gpu.fp8Efficiency": 1e-7 ${range}`],
    ];
    for (const [gpu, text] of cases) expect(message(hardware({ gpu })), JSON.stringify(gpu)).toBe(`mine.json: ${text}`);
    // The floor is calibrate's (src/profile/tables.ts); it bounds the figures as written, so a
    // capped part may derate them below it: 1e-4 × cbrt(500/700) = 8.94e-5.
    expect(MIN_EFFICIENCY).toBe(PLAUSIBLE.efficiency.min);
    const floor = hardware({ gpu: { attentionEfficiency: 1e-4, powerLimit: 500, ratedPower: 700 } });
    expect(message(floor)).toBe("");
    if (floor.ok) expect(floor.value.attentionEfficiency).toBeCloseTo(8.939e-5, 8);
  });

  it("figures at the bounds load", () => {
    const r = hardware({ gpu: { memory: "4 TB", memoryBandwidth: "100 TB/s", peak: { bf16: "100 PFLOP/s", fp16: "100 PFLOP/s", fp8: null }, powerLimit: 10, ratedPower: "5 kW" } });
    expect(message(r)).toBe("");
    // cbrt(10/5000) = 0.126, by hand
    if (r.ok) expect(r.value.computeThrottle).toBeCloseTo(0.12599, 5);
    expect(message(hardware({ gpu: { memoryBandwidth: "100 MB/s", memory: "100 MB", reserve: "10 MB" } }))).toBe("");
    // (bf16 and fp16 at the floor together: a 16-bit peak not below fp8's, or fp16 far from bf16, is a sparse slip)
    expect(message(hardware({ gpu: { peak: { bf16: "1 GFLOP/s", fp16: "1 GFLOP/s", fp8: "2 GFLOP/s", tf32: "1 GFLOP/s" } } }))).toBe("");
    expect(message(hardware({ gpu: { memoryBandwidth: "99 MB/s" } }))).toMatch(/"gpu\.memoryBandwidth": 99 MB\/s is outside/);
  });

  it("a cap above the rated power is refused naming both (a board cannot be set above it); at the rating it is no cap", () => {
    expect(message(hardware({ gpu: { powerLimit: 900, ratedPower: 700 } }))).toBe(
      'mine.json: field "gpu.powerLimit" (900 W) is above "gpu.ratedPower" (700 W): a board cannot be set above its rated power, so it is no cap',
    );
    expect(message(hardware({ gpu: { powerLimit: "0.9 kW", ratedPower: "700 W" } }))).toMatch(/"gpu\.powerLimit" \(0\.9 kW\) is above "gpu\.ratedPower" \(700 W\)/);
    // A cap below a rating far below it (the 500 W part "rated" at 100 W): refused, not priced at 500 W's clocks.
    expect(message(hardware({ gpu: { powerLimit: 500, ratedPower: 100 } }))).toMatch(/"gpu\.powerLimit" \(500 W\) is above "gpu\.ratedPower" \(100 W\)/);
    const at = hardware({ gpu: { powerLimit: 700, ratedPower: 700 } });
    expect(message(at)).toBe("");
    if (at.ok) expect(at.value.computeThrottle).toBeUndefined();
  });
});

describe("engine efficiencies", () => {
  it("gemmEfficiency and attention efficiencies below 1e-4 are refused naming the field and value", () => {
    expect(message(engine({ gemmEfficiency: 1e-300 }))).toBe('mine.json: field "gemmEfficiency": 1e-300 is outside 0.0001 to 1, the plausible range of an efficiency (a typo?)');
    expect(message(engine({ attention: { efficiency: { H100: 1e-300 } } }))).toBe(
      'mine.json: field "attention.efficiency.H100": 1e-300 is outside 0.0001 to 1, the plausible range of an efficiency (a typo?)',
    );
    expect(message(engine({ gemmEfficiency: 1e-4, attention: { efficiency: { H100: 1e-4 } } }))).toBe("");
  });
});

describe("an NVLink or Infinity Fabric rate in bits", () => {
  // QA: "900 Gb/s" (NVLink 4's 900 GB/s total with the NIC's b) loaded as 112.5 GB/s, an eighth,
  // and priced every tensor-parallel group on it: vendors rate these links in bytes a second.
  it("is refused naming the field, the value and the unit; the same link in bytes loads", () => {
    const link = (bandwidth: string, kind = "nvlink") => hardware({ node: { gpusPerNode: 8, link: { kind, bandwidth: { value: bandwidth, source: "t" } } } });
    for (const v of ["900 Gb/s", "3600Gb/s", "3.6 Tb/s"])
      expect(message(link(v)), v).toBe(`mine.json: field "node.link.bandwidth": "${v}" is in bits; NVLink is rated in bytes, each way (NVLink 4: 450 GB/s): write it like "450 GB/s" (B, not b)`);
    expect(message(link("448 Gb/s", "infinity-fabric"))).toContain("Infinity Fabric is rated in bytes");
    const ok = link("450 GB/s");
    expect(ok.ok && ok.value.intra.bandwidth).toBe(450e9);
    // a PCIe link and the network may be written in bits (NICs are: 400 Gb/s)
    const pcie = link("504 Gb/s", "pcie"); // PCIe 5.0 x16, 63 GB/s each way (hardware.md)
    expect(pcie.ok && pcie.value.intra.bandwidth).toBe(63e9);
  });
});
