// The calibration harness's statistics and fit on small hand-made data (bench/calibration/).
import { describe, expect, it } from "vitest";
import { fitParams, leaveOneSourceOut, type FitProblem } from "../../bench/calibration/fit.js";
import { groupSpearman, ranks, spearman } from "../../bench/calibration/stats.js";
import { measuredStepTime, meg21Flops } from "../../bench/calibration/measured.js";
import { engineOfRow } from "../../bench/calibration/engine-of-row.js";
import { INHERITS, foldValues, inheritedFrom, priorOf } from "../../bench/calibration/priors.js";

describe("Spearman rho", () => {
  it("ranks ties by their average rank", () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
  it("is 1 for the same order, -1 for the reverse", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it("matches 1 − 6Σd²/(n(n²−1)) for a known permutation", () => {
    // ranks 1..5 against 2,1,4,3,5: Σd² = 1+1+1+1+0 = 4, ρ = 1 − 24/120 = 0.8.
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
  });
  it("groups with fewer than four distinct configurations are left out", () => {
    const pts = [1, 2, 3, 4].map((i) => ({ group: "a", config: `c${i}`, predicted: i, measured: i }));
    const few = [1, 2, 3].map((i) => ({ group: "b", config: `c${i}`, predicted: i, measured: 4 - i }));
    const g = groupSpearman([...pts, ...few]);
    expect(g.map((x) => x.group)).toEqual(["a"]);
    expect(g[0]!.rho).toBeCloseTo(1, 12);
  });
});

// Rows whose "prediction" is work / (scale of their hardware × scale of their engine).
interface Toy {
  source: string;
  hw: string;
  engine: string;
  work: number;
  measured: number;
}
const toyProblem: FitProblem<Toy> = {
  keysOf: (r) => [`hw:${r.hw}`, `engine:${r.engine}`],
  residual: (r, p) => Math.log(r.work / ((p[`hw:${r.hw}`] ?? 1) * (p[`engine:${r.engine}`] ?? 1)) / r.measured),
  bounds: () => [0.1, 10],
};

describe("fitParams and leave-one-source-out", () => {
  // True scales: hw a 2, hw b 0.5, engine x 1 (rows of x pin the hardware), engine y 0.8.
  const truth: Record<string, number> = { "hw:a": 2, "hw:b": 0.5, "engine:x": 1, "engine:y": 0.8 };
  const row = (source: string, hw: string, engine: string, work: number): Toy => ({
    source, hw, engine, work, measured: work / (truth[`hw:${hw}`]! * truth[`engine:${engine}`]!),
  });
  const rows = [row("S1", "a", "x", 1), row("S1", "a", "x", 3), row("S2", "b", "x", 2), row("S2", "b", "x", 5), row("S3", "a", "y", 4), row("S3", "b", "y", 1)];

  it("recovers the scales of consistent data", () => {
    const f = fitParams(rows, toyProblem);
    expect(f.rms).toBeLessThan(1e-6);
    expect(f.params["hw:a"]! * f.params["engine:x"]!).toBeCloseTo(2, 5);
    expect(f.params["hw:b"]! * f.params["engine:y"]!).toBeCloseTo(0.4, 5);
  });

  it("a key only the held-out source uses is not fitted in its fold (keeps its prior)", () => {
    const folds = leaveOneSourceOut(rows, (r) => r.source, toyProblem);
    expect([...folds.keys()].sort()).toEqual(["S1", "S2", "S3"]);
    const withoutS3 = folds.get("S3")!;
    expect(withoutS3.fitted).not.toContain("engine:y");
    expect(withoutS3.params["engine:y"]).toBeUndefined();
    // The other folds see S3 and fit engine y.
    expect(folds.get("S1")!.fitted).toContain("engine:y");
  });

  it("keeps parameters within their bounds", () => {
    const far = [{ source: "S", hw: "a", engine: "x", work: 1, measured: 1e-6 }];
    const f = fitParams(far, { ...toyProblem, bounds: () => [0.5, 2] });
    for (const v of Object.values(f.params)) expect(v).toBeLessThanOrEqual(2 + 1e-12);
  });
});

describe("measured step time conventions", () => {
  it("MEG21 TFLOP/s count the recomputed forward (Narayanan et al. 2021 Eq. 3)", () => {
    const r = { id: "MEG21-01", measured_metric: "tflops_per_gpu", measured_value: "137", global_batch: "512", seq_len: "2048", layers: "24", hidden: "2304", vocab: "51200", gpus: "32" };
    expect(measuredStepTime(r)).toBeCloseTo(meg21Flops(512, 2048, 24, 2304, 51200) / (32 * 137e12), 12);
  });
  it("tokens/s per GPU: B·s / (GPUs · tokens/s), local batch × dp where the batch is not stated", () => {
    const r = { id: "TT24-04", measured_metric: "tokens_per_s_per_gpu", measured_value: "3890", global_batch: "", micro_batch: "1", dp: "8", seq_len: "32768", layers: "32", hidden: "4096", vocab: "128256", gpus: "8" };
    expect(measuredStepTime(r)).toBeCloseTo((8 * 32768) / (8 * 3890), 12);
  });
  it("each source maps to its engine (README table): NAR21T2's ZeRO-3 rows run megatron-deepspeed", () => {
    expect(engineOfRow({ id: "MEG21-01" })).toBe("megatron-2021");
    expect(engineOfRow({ id: "NAR21T2-01", zero_stage: "3", tp: "1", pp: "1" })).toBe("megatron-deepspeed");
    expect(engineOfRow({ id: "NAR21T2-07", zero_stage: "", tp: "8", pp: "8" })).toBe("megatron-2021");
    expect(engineOfRow({ id: "MPT-001" })).toBe("fsdp");
    expect(engineOfRow({ id: "TT24-01", notes: "torch.compile on" })).toBe("torchtitan-compile");
    expect(engineOfRow({ id: "TT24-02", notes: "eager" })).toBe("torchtitan");
    expect(engineOfRow({ id: "DGXC-1" })).toBe("megatron-core");
  });
});

describe("a leave-one-source-out fold's figures (bench/calibration/priors.ts)", () => {
  it("a key the fold fitted keeps its fit; one it did not, its prior", () => {
    const v = foldValues(["fsdp/slowdown", "fsdp/attention/H100"], { "fsdp/slowdown": 0.42 });
    expect(v).toEqual({ "fsdp/slowdown": 0.42, "fsdp/attention/H100": priorOf("fsdp/attention/H100") });
  });
  it("torchtitan's overlap slowdown and eager launch come from fsdp's fit in a fold without TT24; compile's through torchtitan", () => {
    const fitted = { "fsdp/slowdown": 0.47, "fsdp/launch": 6e-6, "fsdp/attention/H100": 0.17 };
    expect(inheritedFrom("torchtitan-compile/slowdown", fitted)).toBe("fsdp/slowdown");
    expect(foldValues(["torchtitan/slowdown", "torchtitan-compile/slowdown", "torchtitan/launch"], fitted)).toEqual({
      "torchtitan/slowdown": 0.47,
      "torchtitan-compile/slowdown": 0.47,
      "torchtitan/launch": 6e-6,
    });
    // A child's own fit wins over its parent's.
    expect(foldValues(["torchtitan-compile/slowdown"], { ...fitted, "torchtitan/slowdown": 0.3 })["torchtitan-compile/slowdown"]).toBe(0.3);
  });
  it("kernels are the stack's own: torchtitan's attention and compiled launch never inherit", () => {
    const fitted = { "fsdp/attention/H100": 0.17, "fsdp/launch": 6e-6, "torchtitan/launch": 7e-6 };
    expect(foldValues(["torchtitan/attention/H100", "torchtitan-compile/launch"], fitted)).toEqual({
      "torchtitan/attention/H100": priorOf("torchtitan/attention/H100"),
      "torchtitan-compile/launch": priorOf("torchtitan-compile/launch"),
    });
  });
  it("no key inherits from itself or from a non-overlapping stack", () => {
    for (const [k, parent] of Object.entries(INHERITS)) {
      expect(parent).not.toBe(k);
      expect(k.split("/")[1]).toBe(parent.split("/")[1]);
    }
  });
});
