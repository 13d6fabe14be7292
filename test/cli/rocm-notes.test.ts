// What plan and export say on the MI300X profile about figures measured only on NVIDIA parts:
// the tensor-parallel overlap's share (fitted on H100 runs, profiles/engines tensorParallel
// .commOverlap) is priced, and said to be unmeasured on ROCm, not left for the user to guess.
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const PLAN = ["plan", "--model", "llama3-70b", "--gpus", "64", "--tp-comm-overlap", "--top", "1", "--simulate-top", "0", "--json"];

describe("tensor-parallel overlap on the MI300X", () => {
  it("plan --profile mi300x --tp-comm-overlap says the overlap figure (0.544, megatron-core's H100 fit) is unmeasured on ROCm", async () => {
    const r = await runCli([...PLAN, "--profile", "mi300x"]);
    expect(r.code, r.stderr).toBe(0);
    const assumed = JSON.parse(r.stdout).assumed as string[];
    expect(assumed).toContainEqual(
      "tensor-parallel overlap on MI300X at engine megatron-core's figure (0.544 of the collectives hidden), fitted on NVIDIA H100 runs: unmeasured on ROCm, where Transformer Engine's userbuffers arrived only in 2026 (ROCm/TransformerEngine #367)",
    );
  });

  it("not on an NVIDIA profile, nor on the MI300X without the overlap", async () => {
    const h100 = JSON.parse((await runCli([...PLAN, "--profile", "dgx-h100"])).stdout).assumed as string[];
    expect(h100.some((a) => a.startsWith("tensor-parallel overlap on"))).toBe(false);
    const off = JSON.parse((await runCli(PLAN.filter((a) => a !== "--tp-comm-overlap").concat("--profile", "mi300x"))).stdout).assumed as string[];
    expect(off.some((a) => a.startsWith("tensor-parallel overlap on"))).toBe(false);
  });

  it("export --format megatron writes --tp-comm-overlap for the MI300X and says the same in a note", async () => {
    // (--tp 8: left to the search the best plan is tp 1 there, ZeRO-3 with full recompute of 8 of the 80 layers)
    const r = await runCli(["export", "--format", "megatron", "--model", "llama3-70b", "--profile", "mi300x", "--gpus", "64", "--tp", "8", "--tp-comm-overlap"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("--tp-comm-overlap");
    expect(r.stderr).toContain("note: tensor-parallel overlap on MI300X at engine megatron-core's figure (0.544 of the collectives hidden), fitted on NVIDIA H100 runs: unmeasured on ROCm");
  });
});
