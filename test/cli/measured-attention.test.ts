// A measured profile's attention figure gives way to the engine's kernel figure for that GPU
// (planner/cost/engine-terms.ts attentionEfficiency), and the header says so: QA found a user's
// figure unused without a word. profiles/hardware/measured/h200.json measured torch's SDPA at 0.5;
// torchtitan's H100 figure (0.179, fitted on TT24) is its H200 one too (planner/engine.ts SAME_SM).
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const PROFILE = "profiles/hardware/measured/h200.json";
const args = ["plan", "--model", "llama3-8b", "--gpus", "8", "--profile", PROFILE, "--top", "1", "--simulate-top", "0", "--json"];

describe("a measured profile's attention under an engine with its own kernel figure", () => {
  it("is said among the assumptions, with both figures", async () => {
    const r = await runCli([...args, "--engine", "torchtitan"]);
    expect(r.code, r.stderr).toBe(0);
    const line = (JSON.parse(r.stdout).assumed as string[]).find((a) => a.startsWith("attention at engine"));
    expect(line).toBe("attention at engine torchtitan's kernel figure for H200 (0.179), not the profile's measured 0.5 (the engine's figure is its own kernel's; the profiler times torch's SDPA)");
  });

  it("is not said where the engine has no figure of its own (megatron-core takes the profile's)", async () => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout).assumed as string[]).some((a) => a.startsWith("attention at engine"))).toBe(false);
  });
});
