// A plan file's recorded training fields have one reader (src/plan-file-fields.ts): `--plan`
// (export, execute: src/plan-file-settings.ts) and `calibrate` (src/profile/calibrate/plan-fields.ts)
// accept and refuse the same values with the same reason. They had two: calibrate bounded
// globalBatch at the model file's 16,777,216 while --global-batch and --plan allow 2^31, so a run
// planned with --global-batch 20,000,000 could be executed but not calibrated.
import { describe, expect, it } from "vitest";
import { planFileSettings } from "../../src/plan-file-settings.js";
import { runFields } from "../../src/profile/calibrate/plan-fields.js";

const DIR = "/runs/r1";
/** A run directory's plan.json as execute writes it (executor/prepare.ts), with `over`. */
const planJson = (over: Record<string, unknown>) => ({ model: "tiny", profile: "cpu", device: "cpu", gpus: 2, nnodes: 1, globalBatch: 8, seqLen: 32, precision: "bf16", overlapGradReduce: true, engine: "paraplan", plans: [{}], ...over });

/** Why each reader refuses `over` (null: it accepts the file). */
function refusals(over: Record<string, unknown>): [string | null, string | null] {
  const why = (f: () => unknown) => {
    try {
      f();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  return [why(() => planFileSettings(planJson(over), `${DIR}/plan.json`)), why(() => runFields(planJson(over), DIR, "plan.json"))];
}

describe("a plan file's recorded fields: one schema for --plan and calibrate", () => {
  it("reads the file as execute writes it, the same values in both", () => {
    const s = planFileSettings(planJson({ moeImbalance: 1.5 }), "p.json");
    const f = runFields(planJson({ moeImbalance: 1.5 }), DIR, "plan.json");
    expect([s.seqLen?.value, s.globalBatch?.value, s.precision?.value, s.overlapGradReduce?.value, s.moeImbalance?.value, s.engine?.value, s.profile?.value]).toEqual([32, 8, "bf16", true, 1.5, "paraplan", "cpu"]);
    expect([f.seqLen, f.globalBatch, f.precision, f.overlapGradReduce, f.moeImbalance, f.engine, f.profile]).toEqual([32, 8, "bf16", true, 1.5, "paraplan", "cpu"]);
  });

  it("refuses each corrupt field in both, naming it, with the same reason", () => {
    const cases: [string, unknown, string][] = [
      ["seqLen", 1e12, `1000000000000 must be at most 16,777,216 (paraplan's bound, README "Inputs")`],
      ["seqLen", 1.5, "1.5 must be a whole number"],
      ["globalBatch", 0, "0 must be positive"],
      ["globalBatch", 2 ** 31 + 1, `2147483649 must be at most 2,147,483,648 (paraplan's bound, README "Inputs")`],
      ["precision", "fp32", `"fp32" must be one of "bf16", "fp16", "fp8"`],
      ["fusedAttention", "yes", `"yes" must be true or false`],
      ["overlapGradReduce", 1, "1 must be true or false"],
      ["gradReduceBytes", 3, "3 must be 2 or 4 (bytes per gradient element)"],
      ["tpCommOverlap", "on", `"on" must be true or false`],
      ["moeImbalance", 0.5, "0.5 must be at least 1"],
      ["moeImbalance", 65, "65 must be at most 64"],
      ["optimizerStates", "fp16", `"fp16" must be "fp32" or "bf16"`],
      ["engine", 7, "7 must be an engine name or .json file"],
      ["engine", " ", `" " must be an engine name or .json file`],
      ["profile", "", `"" must be a hardware profile name or .json file`],
    ];
    for (const [field, value, reason] of cases) {
      const [plan, calibrate] = refusals({ [field]: value });
      expect(plan, `${field} ${String(value)}`).toBe(`--plan ${DIR}/plan.json: field "${field}": ${reason}; fix the file`);
      expect(calibrate, `${field} ${String(value)}`).toBe(`${DIR}/plan.json: corrupt field "${field}": ${reason}; the run cannot be calibrated as recorded`);
    }
  });

  it("accepts the flags' own bounds in both: 16,777,216 tokens, a global batch of 2^31", () => {
    expect(refusals({ seqLen: 16_777_216, globalBatch: 2 ** 31 })).toEqual([null, null]);
    // (between the model file's batch bound and the flag's: calibrate refused it before)
    expect(refusals({ globalBatch: 20_000_000 })).toEqual([null, null]);
    expect(refusals({ gradReduceBytes: 2, optimizerStates: "bf16", tpCommOverlap: false, fusedAttention: false })).toEqual([null, null]);
  });
});
