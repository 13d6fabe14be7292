// Parts that share a calibrated part's die take its fitted figures by reference, not by a copy that
// goes stale at the next refit: before, the H200, H800 and H100 PCIe profiles kept dgx-h100's
// pre-calibration table (0.74 plateau against the fitted 0.634) and attention efficiency (0.5 against
// 0.189), and the fsdp and torchtitan engines an H200 attention prior (0.14, 0.3) beside their fitted
// H100 figure (0.176, 0.189), so the same kernels on the same SM were priced up to 2.6× apart.
import { describe, expect, it } from "vitest";
import { SAME_SM, engineAttentionFigure, gpuGeneration } from "../../planner/engine.js";
import { attentionEfficiency } from "../../planner/cost/engine-terms.js";
import { loadEngine } from "../../src/load-engine.js";
import { loadProfile } from "../../src/load.js";
import { fileHardware } from "../planner/fixtures.js";

const profile = (name: string) => loadProfile(name, undefined);
const engine = (name: string) => loadEngine(name, undefined);

describe("hardware profiles on a calibrated die", () => {
  it.each([
    ["hgx-h200", "dgx-h100"],
    ["h800", "dgx-h100"],
    ["h100-pcie", "dgx-h100"],
    ["dgx-a100-40g", "dgx-a100-80g"],
    ["a100-pcie", "dgx-a100-80g"],
  ])("%s takes %s's fitted matmul table, attention and fp8 figures", (name, ref) => {
    const [hw, base] = [profile(name), profile(ref)];
    expect(hw.matmul.points).toEqual(base.matmul.points);
    expect(hw.attentionEfficiency).toBe(base.attentionEfficiency);
    expect(hw.fp8Efficiency).toBe(base.fp8Efficiency);
    // By reference in the file, so a refit written into the referenced profile reaches it.
    const gpu = (fileHardware(name) as { gpu: Record<string, { sameAs?: string }> }).gpu;
    for (const f of ["matmulEfficiency", "attentionEfficiency"]) expect(gpu[f]!.sameAs, f).toBe(ref);
    expect(hw.sources["gpu.attentionEfficiency"]).toContain(`as ${ref}'s figure`);
  });

  it("the calibrated H100 figures, not the priors they were fitted from", () => {
    const h200 = profile("hgx-h200");
    expect(h200.attentionEfficiency).toBeLessThan(0.5); // the prior before the fit
    expect(h200.matmul.points.at(-1)![1]).toBeLessThan(0.74);
    expect(h200.sources["gpu.attentionEfficiency"]).toMatch(/^fitted on calibration rows/);
  });
});

describe("engine attention figures on a generation sharing the H100's SM", () => {
  it("H200 and H800 are their own generations whose die is the H100's", () => {
    expect(gpuGeneration({ gpuName: "H200 SXM 141GB" })).toBe("H200");
    expect(gpuGeneration({ gpuName: "H800 SXM 80GB" })).toBe("H800");
    expect(SAME_SM).toEqual({ H200: "H100", H800: "H100" });
  });

  it.each(["fsdp", "torchtitan", "torchtitan-compile", "paraplan", "paraplan-compile"])("%s prices its kernel on an H200 and an H800 at its H100 figure", (name) => {
    const e = engine(name);
    const h100 = e.attention.efficiency.H100!;
    expect(h100).toBeGreaterThan(0);
    expect(engineAttentionFigure(e, "H200")).toBe(h100);
    for (const p of ["hgx-h200", "h800"]) expect(attentionEfficiency(profile(p), e), p).toBe(h100);
  });

  it("a generation on another die keeps the hardware profile's figure; no engine falls back for an A100", () => {
    const e = engine("torchtitan-compile"); // lists H100 only: A100 comes from torchtitan
    expect(engineAttentionFigure(e, "B200")).toBeUndefined();
    const b200 = profile("dgx-b200");
    expect(attentionEfficiency(b200, e)).toBe(b200.attentionEfficiency);
    expect(engineAttentionFigure(engine("fsdp"), "A100")).toBe(engine("fsdp").attention.efficiency.A100);
  });
});
