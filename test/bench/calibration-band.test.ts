// The step-time error a whole run's range is drawn at (src/calibration-band.ts runBand), on a made-up
// envelope whose figures make each rule visible: inside the runs the engine's own band; beyond them
// in degree the widest out-of-sample miss known, never narrower than the engine's own; beyond them
// in kind, or with no out-of-sample record anywhere, none, and why.
import { describe, expect, it } from "vitest";
import { runBand, widestValidation } from "../../src/calibration-band.js";
import { type EngineEnvelope, type Envelope, calibrationStanding, planOutside } from "../../src/calibration-standing.js";
import { loadModel } from "../../src/load.js";
import type { Training } from "../../planner/index.js";

const engine = (over: Partial<EngineEnvelope>): EngineEnvelope => ({
  runs: 10,
  sources: ["X"],
  profiles: ["dgx-h100"],
  seqLen: [2048, 4096],
  gpus: [64, 1024],
  paramsB: [1, 200],
  precisions: ["bf16"],
  moe: false,
  contextParallel: false,
  pipeline: true,
  accuracy: { mean: 0.03, max: 0.1, losoMean: 0.05 },
  ...over,
});
const validation = (max: number) => ({ label: "V's tables", runs: 5, seqLen: [4096, 65536] as [number, number], mean: max / 2, max });
// a: 10% worst in sample, 25% out of sample; b: two runs, 2% worst, 8% left out, no out-of-sample
// record; c: 30% worst in sample, none out of sample.
const env: Envelope = {
  source: "made up",
  engines: {
    a: engine({ validation: validation(0.25) }),
    b: engine({ runs: 2, accuracy: { mean: 0.01, max: 0.02, losoMean: 0.08 } }),
    c: engine({ accuracy: { mean: 0.1, max: 0.3, losoMean: 0.12 } }),
  },
  profiles: { "dgx-h100": ["a", "b", "c"] },
};
// gpt3-175b: 174.6B parameters, inside 1–200B.
const gpt3 = loadModel("gpt3-175b");
const training = (t: Partial<Training> = {}): Training => ({ gpus: 512, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true, ...t });
const standing = (name: string, t: Partial<Training> = {}, e: Envelope = env, model = gpt3) =>
  calibrationStanding({ engine: name, engineIsFile: false, profile: "dgx-h100", profileIsFile: false, model, training: training(t) }, e);
const band = (name: string, t: Partial<Training> = {}, e: Envelope = env) => runBand(standing(name, t, e), name, [], e);

describe("runBand", () => {
  it("inside the runs: the larger of the widest miss and the left-out mean (a 10%; b's two runs 8%, left out)", () => {
    expect(band("a")).toEqual({ band: 0.1, basis: "a's widest miss on its 10 published runs", short: "a's error on its published runs" });
    expect(band("b")).toMatchObject({ band: 0.08, basis: "b's mean miss on its published runs predicted without their own source" });
  });

  it("beyond them in degree: the widest out-of-sample miss known (a's 25%), for b too; c's own 30% is wider and stays", () => {
    expect(widestValidation(env)).toEqual({ engine: "a", validation: validation(0.25) });
    const a = band("a", { seqLen: 8192 });
    expect(a).toMatchObject({ band: 0.25 });
    expect(a.band !== null && a.basis).toBe("the worst miss known beyond fitted runs, a on V's tables, which nothing was fitted to; the request lies beyond a's 10 published runs in degree: sequence of 8,192 tokens");
    const b = band("b", { gpus: 4096 });
    expect(b).toMatchObject({ band: 0.25 });
    expect(b.band !== null && b.basis).toContain("a on V's tables, which nothing was fitted to (b has no such runs); the request lies beyond b's 2 published runs in degree: 4,096 GPUs");
    const c = band("c", { gpus: 4096, seqLen: 8192 });
    expect(c).toMatchObject({ band: 0.3 });
    expect(c.band !== null && c.basis).toBe("c's widest miss on its 10 published runs, no narrower than the worst miss known beyond fitted runs (25.0%, a on V's tables, which nothing was fitted to); the request lies beyond c's 10 published runs in degree: sequence of 8,192 tokens; 4,096 GPUs");
  });

  it("beyond them in kind, alone or beside degree: none, naming only what no run has", () => {
    expect(band("a", { precision: "fp8" })).toEqual({ band: null, why: "the step's error is unknown where no published run of a reaches: fp8 training" });
    const moe = runBand(standing("a", { seqLen: 8192 }, env, loadModel("mixtral-8x7b")), "a", [], env);
    expect(moe).toEqual({ band: null, why: "the step's error is unknown where no published run of a reaches: a mixture of experts (its runs are dense models)" });
  });

  it("what the plan uses beyond the runs counts as the request's: context parallel none of a's runs had", () => {
    const s = standing("a");
    expect(runBand(s, "a", planOutside({ cp: 2, pp: 1, schedule: "1f1b" }, s), env)).toEqual({ band: null, why: "the step's error is unknown where no published run of a reaches: context parallel" });
    expect(runBand(s, "a", planOutside({ cp: 1, pp: 4, schedule: "interleaved" }, s), env)).toMatchObject({ band: 0.1 });
  });

  it("with no out-of-sample record anywhere, a request beyond the runs in degree gets none: how far extrapolation misses is unknown", () => {
    const bare: Envelope = { ...env, engines: { a: engine({}) } };
    expect(band("a", {}, bare)).toMatchObject({ band: 0.1 });
    expect(band("a", { seqLen: 8192 }, bare)).toEqual({
      band: null,
      why: "the request lies beyond a's 10 published runs in degree: sequence of 8,192 tokens, and no published run nothing was fitted to says how far the cost model's extrapolation misses",
    });
  });

  it("an engine no published run calibrates: none, the standing's own words", () => {
    expect(band("z")).toEqual({ band: null, why: "z: no published run calibrates this engine (its figures are priors)" });
  });
});
