// A measured profile's attention figure gives way to the engine's kernel figure for that GPU
// (planner/cost/engine-terms.ts attentionEfficiency), and the header says so: QA found a user's
// figure unused without a word. profiles/hardware/measured/h200.json measured torch's SDPA at 0.5;
// torchtitan's H100 figure (fitted on TT24, profiles/engines/torchtitan.json) is its H200 one too
// (planner/gpu-generation.ts SAME_SM).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/load.js";
import { runCli } from "./helpers.js";

const titanH100 = JSON.parse(readFileSync(join(packageRoot(), "profiles", "engines", "torchtitan.json"), "utf8")).attention.efficiency.H100.value as number;

const PROFILE = "profiles/hardware/measured/h200.json";
const args = ["plan", "--model", "llama3-8b", "--gpus", "8", "--profile", PROFILE, "--top", "1", "--simulate-top", "0", "--json"];

describe("a measured profile's attention under an engine with its own kernel figure", () => {
  it("is said among the assumptions, with both figures", async () => {
    const r = await runCli([...args, "--engine", "torchtitan"]);
    expect(r.code, r.stderr).toBe(0);
    const line = (JSON.parse(r.stdout).assumed as string[]).find((a) => a.startsWith("attention at engine"));
    expect(titanH100).not.toBe(0.5);
    expect(line).toBe(`attention at engine torchtitan's kernel figure for H200 (${titanH100}), not the profile's measured 0.5 (the engine's figure is its own kernel's; the profiler times torch's SDPA)`);
  });

  it("is not said where the engine has no figure of its own (megatron-core takes the profile's)", async () => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout).assumed as string[]).some((a) => a.startsWith("attention at engine"))).toBe(false);
  });
});

// QA: a hand-written profile's figure went unused without a word too (0.9 and 0.1 priced alike
// under fsdp, whose H100 kernel figure wins); a built-in profile's is the engine's to replace.
describe("a hand-written profile's attention under an engine with its own kernel figure", () => {
  const dir = mkdtempSync(join(tmpdir(), "paraplan-attn-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "ae.json");
  writeFileSync(file, JSON.stringify({ name: "ae", extends: "dgx-h100", gpu: { attentionEfficiency: { value: 0.9, source: "my benchmark" } } }));
  const fsdpH100 = JSON.parse(readFileSync(join(packageRoot(), "profiles", "engines", "fsdp.json"), "utf8")).attention.efficiency.H100.value as number;
  const said = async (profile: string, engine: string) => {
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "8", "--profile", profile, "--engine", engine, "--top", "1", "--simulate-top", "0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout).assumed as string[]).find((a) => a.startsWith("attention at engine"));
  };
  it("is said, with both figures, not as measured", async () => {
    expect(await said(file, "fsdp")).toBe(`attention at engine fsdp's kernel figure for H100 (${fsdpH100}), not the profile's 0.9 (the engine's figure is its own kernel's)`);
  });
  it("not for a built-in profile, nor where the engine takes the profile's figure", async () => {
    expect(await said("dgx-h100", "fsdp")).toBeUndefined();
    expect(await said(file, "megatron-core")).toBeUndefined();
  });
});
