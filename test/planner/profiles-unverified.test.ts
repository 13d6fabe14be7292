// Figures shared/reference/hardware-2026.md lists under "Values still unverified (no vendor
// document opened)" are priors in the profiles that use them: their source says so and carries
// [status: unverified]. (QA: B200/GB200 dense BF16, the 8 TB/s HBM of both, GB200's 1,200 W,
// MI300X's HBM bandwidth, BF16/FP8 peaks and Infinity Fabric split, and the DGX H100/H200 10.2 kW
// were tagged "secondary", the status of the reference's table, and plan --tokens printed that
// tag for the 1,200 W and 10.2 kW it priced energy with.)
import { describe, expect, it } from "vitest";
import { rawHardware } from "./fixtures.js";

// The reference's list, item by item, as profile fields (hardware-2026.md, last section):
const UNVERIFIED: Record<string, string[]> = {
  // "H800 dense BF16/FP8 rates and HBM size/bandwidth (assumed equal to H100 SXM)"
  h800: ["gpu.peak.bf16", "gpu.peak.fp16", "gpu.peak.fp8", "gpu.memory", "gpu.memoryBandwidth"],
  // "B200/GB200 dense BF16 figures"; "B200 HBM bandwidth (8 vs 7.7 TB/s ...)"
  "dgx-b200": ["gpu.peak.bf16", "gpu.peak.fp16", "gpu.memoryBandwidth"],
  // "... and GB200's 1,200 W per GPU"; "GB200 NVL72 ... HBM bandwidth 8 TB/s per GPU"
  "gb200-nvl72": ["gpu.peak.bf16", "gpu.peak.fp16", "gpu.memoryBandwidth", "run.boardPower"],
  // "MI300X HBM bandwidth, BF16/FP8 peaks and the Infinity Fabric link split"
  mi300x: ["gpu.memoryBandwidth", "gpu.peak.bf16", "gpu.peak.fp16", "gpu.peak.fp8", "node.link.bandwidth"],
};

const at = (o: unknown, path: string): { source?: string } => path.split(".").reduce((n: any, k) => n?.[k], o) as { source?: string };

describe("figures the reference lists as unverified are flagged as priors", () => {
  for (const [name, paths] of Object.entries(UNVERIFIED))
    it(`${name}: ${paths.join(", ")}`, () => {
      for (const p of paths) expect(at(rawHardware(name), p).source, `${name} ${p}`).toMatch(/\[status: unverified\]$/);
    });

  it("DGX H100/H200 10.2 kW node power (a third-party copy of the user guide): said unverified, a prior", () => {
    for (const name of ["dgx-h100", "hgx-h200"]) {
      const s = at(rawHardware(name), "run.nodePower").source!;
      expect(s, name).toContain("10.2 kW");
      expect(s, name).toMatch(/unverified/);
      expect(s, name).toMatch(/prior/);
    }
  });
});
