// Compiled or eager (issue 15): the --compile / --no-compile flags, the launch spec's `execution`
// (compiled by default on CUDA, eager on CPU ranks), and the summary's report of what ran (mode,
// compile time apart from the step time, fast paths, the engine profile that describes it).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Training, evaluatePlan, type Plan } from "../../planner/index.js";
import { executionLine, executionOf } from "../../executor/execution.js";
import { buildSpec, defaultCompile } from "../../executor/spec.js";
import { buildSummary } from "../../executor/summary.js";
import { parseExecuteArgs } from "../../src/execute-args.js";
import { summaryText } from "../../src/format/execute-text.js";
import { loadModel, loadProfile } from "../../src/load.js";
import { build, run, tmp } from "./e2e-helpers.js";

const tiny = loadModel("tiny");
const plan: Plan = { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const spec = (device: "cpu" | "cuda", compile?: boolean) =>
  buildSpec({ runDir: "/r", device, model: tiny, plan, globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5, compile });

describe("--compile / --no-compile", () => {
  it("parse to true, false, or undefined (the device's default), and refuse both", () => {
    expect(parseExecuteArgs(["--model", "tiny", "--compile"]).compile).toBe(true);
    expect(parseExecuteArgs(["--model", "tiny", "--no-compile"]).compile).toBe(false);
    expect(parseExecuteArgs(["--model", "tiny"]).compile).toBeUndefined();
    expect(() => parseExecuteArgs(["--model", "tiny", "--compile", "--no-compile"])).toThrow(/--compile and --no-compile/);
  });

  it("the launch spec carries the choice: compiled on CUDA, eager on CPU unless asked", () => {
    expect(defaultCompile("cuda")).toBe(true);
    expect(defaultCompile("cpu")).toBe(false);
    expect(spec("cuda").execution).toEqual({ compile: true });
    expect(spec("cpu").execution).toEqual({ compile: false });
    expect(spec("cuda", false).execution).toEqual({ compile: false });
    expect(spec("cpu", true).execution).toEqual({ compile: true });
  });
});

describe("the summary's execution report", () => {
  const worker = {
    mode: "compiled", compiledBlocks: 24, compileRequested: true, eagerReason: null, optimizer: "fused",
    fsdpMixedPrecision: null, float8Linears: null, compileTime: 41.25, dynamoCompileTime: 30.5,
    sdpaBackends: ["flash"], sdpaSource: "measured step",
  };

  it("reads the worker's execution object and names the engine profile", () => {
    const e = executionOf({ execution: worker })!;
    expect(e).toMatchObject({ mode: "compiled", engine: "paraplan-compile", compileTime: 41.25, optimizer: "fused", sdpaBackends: ["flash"] });
    expect(executionOf({ execution: { ...worker, mode: "eager" } })!.engine).toBe("paraplan");
    expect(executionOf({})).toBeNull();
    expect(executionLine(e)).toBe("execution: compiled per block (24 blocks; compile 41.3 s, excluded from the step time) · AdamW fused · attention flash — engine profile paraplan-compile");
    expect(executionLine({ ...e, mode: "eager", eagerReason: "schedule zbv: no compile", engine: "paraplan" })).toMatch(/^execution: eager \(schedule zbv: no compile\)/);
  });

  it("is in the summary and its text, beside the step time that leaves compilation out", () => {
    const hw = loadProfile("dgx-h100");
    const t: Training = { gpus: 1, globalBatch: 8, seqLen: 32, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const r = evaluatePlan(tiny, hw, t, plan);
    const s = buildSummary({
      model: tiny, hw, profile: "dgx-h100", training: t, result: r, device: "cuda", runDir: "/runs/x", steps: 5,
      worker: { stepTime: 0.01, tokensPerSecond: 25600, peakMemory: 1e9, flopsPerStep: 1e9, loss: [5.5], comms: {}, extra: { compileTime: 41.25, execution: worker } },
    });
    expect(s.execution?.mode).toBe("compiled");
    expect(s.execution?.compileTime).toBe(41.25);
    expect(s.measured.stepTime).toBe(0.01);
    expect(summaryText(s)).toContain("execution: compiled per block (24 blocks; compile 41.3 s, excluded from the step time)");
  });
});

describe("execute --print-launch writes the choice into launch.json", () => {
  beforeAll(() => build(), 120_000);

  it("CPU ranks: eager by default, compiled with --compile", async () => {
    const cwd = tmp();
    for (const [flags, compile] of [[[], false], [["--compile"], true]] as const) {
      const dir = join(cwd, compile ? "c" : "e");
      const r = await run(["--model", "tiny", "--device", "cpu", "--gpus", "1", ...flags, "--print-launch", "--run-dir", dir], { cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, "launch.json"), "utf8")).execution).toEqual({ compile });
    }
  });
});
