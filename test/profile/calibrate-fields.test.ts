// A run directory's recorded training fields are checked before calibration prices the run with
// them (src/profile/calibrate/plan-fields.ts, the schema of src/plan-file-fields.ts): a corrupt plan.json field is exit 2 naming the
// field and the run, no profile written (a seqLen of 1e12 was fitted into one at +2.98e21 %); and
// metrics.jsonl's steps are whole and each once.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { readRun } from "../../src/profile/calibrate/runs.js";
import { capture, tmp } from "./helpers.js";

// tp 1 · pp 1 · dp 2: 2 ranks, as plan.json's gpus 2 records.
const PLAN = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 4, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
const FIELDS = { model: "tiny", profile: "cpu", device: "cpu", gpus: 2, nnodes: 1, globalBatch: 8, seqLen: 32, precision: "bf16" };

function writeRun(dir: string, over: Record<string, unknown>, o: { metrics?: string; stepTime?: number } = { stepTime: 0.05 }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "plan.json"), JSON.stringify({ ...FIELDS, ...over, plans: [PLAN] }));
  writeFileSync(join(dir, "launch.json"), JSON.stringify({ version: 1, device: "cpu", plan: PLAN, training: { globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5 } }));
  if (o.stepTime !== undefined) writeFileSync(join(dir, "summary.json"), JSON.stringify({ plan: PLAN, steps: 5, device: "cpu", profile: "cpu", measured: { stepTime: o.stepTime } }));
  if (o.metrics !== undefined) writeFileSync(join(dir, "metrics.jsonl"), o.metrics);
  return dir;
}

const lines = (steps: number[]) => steps.map((s) => JSON.stringify({ step: s, stepTime: 0.05 })).join("\n") + "\n";

describe("calibrate: a run's recorded fields", () => {
  it("each corrupt plan.json field is exit 2 naming plan.json, the field and the run; nothing written", async () => {
    const root = tmp();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ seqLen: 1e12 }, "seqLen", /1000000000000 must be at most 16,777,216/],
      [{ seqLen: 1.5 }, "seqLen", /1\.5 must be a whole number/],
      [{ globalBatch: 1.5 }, "globalBatch", /must be a whole number/],
      [{ globalBatch: 1e308 }, "globalBatch", /must be at most 2,147,483,648/],
      [{ profile: "" }, "profile", /"" must be a hardware profile name or \.json file/],
      [{ optimizerStates: "fp16" }, "optimizerStates", /"fp16" must be "fp32" or "bf16"/],
      [{ precision: 42 }, "precision", /42 must be one of "bf16", "fp16", "fp8"/],
      [{ precision: "fp32" }, "precision", /"fp32" must be one of/],
      [{ gpus: 1e308 }, "gpus", /must be at most 1,048,576/],
      [{ gpus: 1.5 }, "gpus", /must be a whole number/],
      [{ nnodes: 0.5 }, "nnodes", /must be a whole number|must be positive/],
      [{ fusedAttention: "yes" }, "fusedAttention", /"yes" must be true or false/],
      [{ overlapGradReduce: 5 }, "overlapGradReduce", /5 must be true or false/],
      [{ moeImbalance: 0.5 }, "moeImbalance", /0\.5 must be at least 1/],
      [{ moeImbalance: "high" }, "moeImbalance", /"high" must be a number/],
      // tp 1 · dp 2 is 2 ranks, not the 1 recorded.
      [{ gpus: 1 }, "gpus", /1, but its plan's tp·cp·pp·dp is 2 ranks/],
      // 2 ranks over 3 nodes: 2 mod 3 ≠ 0.
      [{ nnodes: 3 }, "nnodes", /2 ranks do not split evenly over 3 nodes/],
    ];
    for (const [k, [over, field, why]] of cases.entries()) {
      const dir = writeRun(join(root, `r${k}`), over);
      const out = join(root, `o${k}.json`);
      const c = capture();
      const code = await main(["calibrate", dir, "--out", out], c.io);
      expect([code, c.err.length], JSON.stringify(over)).toEqual([2, 1]);
      expect(c.err[0]).toContain(`paraplan: ${dir}/plan.json: corrupt field "${field}": `);
      expect(c.err[0]).toMatch(why);
      expect(existsSync(out)).toBe(false);
    }
  });

  it("the recorded fields as execute writes them are read as written", () => {
    const ok = writeRun(join(tmp(), "ok"), { precision: "fp16", fusedAttention: false, overlapGradReduce: true });
    // (an fp16 run: launch.json says so too, as execute writes it; ./calibrate-agree.test.ts)
    writeFileSync(join(ok, "launch.json"), JSON.stringify({ version: 1, device: "cpu", plan: PLAN, training: { globalBatch: 8, seqLen: 32, precision: "fp16", steps: 5 } }));
    const r = readRun(ok);
    expect([r.training.gpus, r.training.seqLen, r.training.globalBatch, r.training.precision, r.training.fusedAttention, r.training.overlapGradReduce, r.gpusPerNode]).toEqual([2, 32, 8, "fp16", false, true, 2]);
    // Review: the imbalance execute recorded (--moe-imbalance 1.0) was left out, the run priced at
    // the default 1.25; absent, the default stays implicit
    expect(readRun(writeRun(join(tmp(), "moe"), { moeImbalance: 1 })).training.moeImbalance).toBe(1);
    expect(r.training.moeImbalance).toBeUndefined();
  });

  it("a launch.json training field is named with its place in launch.json", () => {
    const dir = writeRun(join(tmp(), "lt"), { seqLen: undefined });
    writeFileSync(join(dir, "launch.json"), JSON.stringify({ version: 1, device: "cpu", plan: PLAN, training: { globalBatch: 8, seqLen: -4, steps: 5 } }));
    expect(() => readRun(dir)).toThrow(`${dir}/launch.json: corrupt field "training.seqLen": -4 must be positive`);
  });
});

describe("calibrate: metrics.jsonl's steps", () => {
  // 5 steps: the worker times steps 3 and 4 (main.py timed_steps).
  it("a step twice, a fractional step or one beyond training.steps is exit 2 naming the line", () => {
    const root = tmp();
    const twice = writeRun(join(root, "twice"), {}, { metrics: lines([1, 2, 3, 4, 4, 5]) });
    expect(() => readRun(twice)).toThrow(`${twice}/metrics.jsonl:5: step 4 is recorded twice (first on line 4)`);
    const frac = writeRun(join(root, "frac"), {}, { metrics: lines([1, 2, 3, 3.5, 4, 5]) });
    expect(() => readRun(frac)).toThrow(`${frac}/metrics.jsonl:4: step is 3.5, not a whole step from 1 to 5 (launch.json training.steps)`);
    const beyond = writeRun(join(root, "beyond"), {}, { metrics: lines([1, 2, 3, 4, 5, 6]) });
    expect(() => readRun(beyond)).toThrow(`${beyond}/metrics.jsonl:6: step is 6, not a whole step`);
    // Each step once: the mean of steps 3 and 4, both 0.05 s.
    expect(readRun(writeRun(join(root, "ok"), {}, { metrics: lines([1, 2, 3, 4, 5]) })).measured).toBeCloseTo(0.05, 12);
  });
});
