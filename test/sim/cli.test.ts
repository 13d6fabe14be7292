// `paraplan plan` with simulation: re-ranking of the closed form's top K, --timeline and
// --trace-out, in-process through main().
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { isOneLine, removeTempFiles, runCli, tempFile } from "../cli/helpers.js";

afterAll(removeTempFiles);

// GPT-3 1.3B on 16 H100 with 64 sequences: the closed form's best plans gather the 206 MB tied
// embedding before the first forward and reduce its gradient after the last backward; the
// simulation sees both exposed and re-orders the plans.
const base = ["plan", "--model", "gpt3-1.3b", "--gpus", "16", "--global-batch", "64"];

describe("re-ranking by simulation", () => {
  const sim = JSON.parse(runCli([...base, "--top", "5", "--json"]).stdout);
  const closed = JSON.parse(runCli([...base, "--top", "5", "--json", "--simulate-top", "0"]).stdout);

  // (issue 17: `imbalance` added, the simulated idle time beyond the schedule's bubble)
  it("adds simulated {step, bubble, imbalance, exposedComm} to every plan and says whether the order changed", () => {
    expect(typeof sim.reranked).toBe("boolean");
    for (const p of sim.plans) {
      expect(Object.keys(p.simulated).sort()).toEqual(["bubble", "exposedComm", "imbalance", "step"]);
      expect(p.simulated.step).toBeGreaterThan(0);
    }
    for (let i = 1; i < sim.plans.length; i++) expect(sim.plans[i].simulated.step).toBeGreaterThanOrEqual(sim.plans[i - 1].simulated.step);
  });

  it("keeps the closed form's fields, and reranked is true exactly when the listed order differs", () => {
    const key = (p: Record<string, unknown>) => ["tp", "pp", "dp", "vpp", "zero", "microBatch", "recompute", "sequenceParallel", "schedule"].map((k) => p[k]).join(",");
    expect(sim.reranked).toBe(sim.plans.map(key).join(";") !== closed.plans.map(key).join(";"));
    expect(sim.reranked).toBe(true);
    for (const p of sim.plans) expect(p.time.step).toBeGreaterThan(0);
  });

  it("--simulate-top 0 leaves the output as the closed form had it", () => {
    expect(closed).not.toHaveProperty("reranked");
    for (const p of closed.plans) expect(p).not.toHaveProperty("simulated");
  });

  it("the text report says the order changed", () => {
    const r = runCli([...base, "--top", "5"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/simulated the top 20 step by step: order changed/);
  });
});

describe("--timeline and --trace-out", () => {
  const fixed = [...base, "--pp", "2", "--tp", "2", "--vpp", "1", "--schedule", "1f1b", "--top", "1", "--simulate-top", "1"];

  it("--timeline draws one row per stage within 80 columns, with a legend", () => {
    const r = runCli([...fixed, "--timeline"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const rows = lines.filter((l) => /^stage \d \|/.test(l));
    expect(rows.length).toBe(2);
    for (const l of rows) expect(l.length).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain("f forward");
  });

  it("--trace-out writes Chrome trace JSON with events on every stage", () => {
    const path = tempFile("trace.json", "");
    const r = runCli([...fixed, "--trace-out", path, "--json"]);
    expect(r.code).toBe(0);
    const trace = JSON.parse(readFileSync(path, "utf8"));
    const pids = new Set(trace.traceEvents.filter((e: { ph: string }) => e.ph === "X").map((e: { pid: number }) => e.pid));
    expect([...pids].sort()).toEqual([0, 1]);
  });

  it("an unwritable --trace-out path is a one-line error naming the flag", () => {
    const r = runCli([...fixed, "--trace-out", "/nonexistent/dir/trace.json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(isOneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain("--trace-out");
  });

  it("--simulate-top takes a non-negative integer", () => {
    const r = runCli([...base, "--simulate-top", "-1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--simulate-top");
  });
});
