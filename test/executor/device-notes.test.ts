// CPU ranks beyond the cores share them: 4 ranks on 2 cores measured +2814% against the plan with
// no word said. chooseDevice notes it whenever --device cpu runs more ranks than this machine has
// cores (src/app/device.ts).
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { chooseDevice } from "../../src/app/device.js";

describe("CPU ranks and cores", () => {
  const cores = availableParallelism();
  const input = (ranks: number) => ({ flag: "cpu" as const, profile: undefined, here: [], forOtherMachines: false, nnodes: 1, ranks });

  it("more ranks than cores: a note with the sharing factor", () => {
    const notes = chooseDevice(input(2 * cores)).notes;
    expect(notes.some((n) => n.includes(`${2 * cores} CPU ranks on ${cores === 1 ? "1 core share it" : `${cores} cores share them`}`) && n.includes("2.0×"))).toBe(true);
  });

  it("as many ranks as cores: no such note", () => {
    expect(chooseDevice(input(cores)).notes.some((n) => n.includes("share them"))).toBe(false);
  });
});

describe("an AMD profile on a node where nvidia-smi lists nothing", () => {
  it("says ROCm GPUs are not detected, whatever the device", () => {
    for (const flag of [undefined, "cuda" as const]) {
      const notes = chooseDevice({ flag, profile: "mi300x", here: [], forOtherMachines: false, nnodes: 1, ranks: 8 }).notes;
      expect(notes, String(flag)).toContainEqual(expect.stringContaining("profile mi300x is an AMD GPU (MI300X OAM 192GB): paraplan finds GPUs with nvidia-smi only, so ROCm GPUs are not detected here"));
    }
    // an NVIDIA profile gets no such note
    const h100 = chooseDevice({ flag: undefined, profile: "dgx-h100", here: [], forOtherMachines: false, nnodes: 1, ranks: 8 }).notes;
    expect(h100.some((n) => n.includes("AMD GPU"))).toBe(false);
  });
});
