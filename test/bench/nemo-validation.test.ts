// The out-of-sample check on NVIDIA's Megatron-Core tables (bench/validation/nemo.ts) and the
// kernel floor of megatron-core's H100 attention (bench/calibration/priors.ts FLOORS).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { modelFlopsPerStep } from "../../planner/cost/flops.js";
import { loadModel, loadProfile, packageRoot } from "../../src/load.js";
import { boundsOf } from "../../bench/calibration/params.js";
import { FLOORS } from "../../bench/calibration/priors.js";
import { predictNemo } from "../../bench/validation/nemo.js";

const rows = parse(readFileSync(join(packageRoot(), "bench", "data", "nemo-performance.csv"), "utf8"), { columns: true, skip_empty_lines: true }) as Record<string, string>[];

describe("NeMo's tables count FLOPs as the planner does", () => {
  it("each NeMo 24.07 row's TFLOP/s is the full-square model FLOPs at its stated tokens/s", () => {
    // NeMo states both figures per row: 776 TFLOP/s at 16,847 tokens/s is 46.06 GFLOP a token for
    // LLAMA2-7B at 4,096 tokens (MHA), 57.9 for LLAMA3-8B at 8,192 (GQA): flops.ts's count at the
    // unpadded vocabulary, attention over the whole s×s square.
    const stated = rows.filter((r) => r.id!.startsWith("NEMO2407"));
    expect(stated).toHaveLength(5);
    for (const r of stated) {
      const tokensPerSecond = Number(/^(\d+) tokens\/s\/GPU/.exec(r.notes!)![1]);
      const m = loadModel(r.model!);
      const seq = Number(r.seq_len);
      const perToken = modelFlopsPerStep(m, { globalBatch: 1, seqLen: seq }, m.vocab) / seq;
      // (within the rounding of the stated figures: 0.05 % at most)
      expect(Math.abs((perToken * tokensPerSecond) / 1e12 / Number(r.measured_tflops_per_gpu) - 1), r.id).toBeLessThan(0.002);
    }
  });
});

describe("every NeMo row is predicted at its stated layout", () => {
  it("14 rows, each a plan with the table's tp, pp and cp", () => {
    const out = predictNemo();
    expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    for (const [i, r] of out.entries()) {
      expect(r.predicted, r.id).not.toBeNull();
      const want = rows[i]!;
      expect(r.plan.startsWith(`tp${want.tp} pp${want.pp} `), `${r.id}: ${r.plan}`).toBe(true);
      // (the measured step: NeMo's FLOPs over the GPUs at the stated rate, seconds)
      expect(r.measured).toBeGreaterThan(1);
    }
  });
});

describe("megatron-core's H100 attention has a kernel floor", () => {
  it("the fit may not take it below flash-attn 2's H100 fraction; the other keys keep their physical bounds", () => {
    const hws = [loadProfile("dgx-h100")];
    expect(FLOORS["hw/h100/attention"]!.value).toBe(0.3);
    expect(boundsOf("hw/h100/attention", hws)).toEqual([0.3, 1]);
    // (only megatron-core's: an eager engine's kernel figure stays free above 0.1)
    expect(boundsOf("torchtitan/attention/H100", hws)).toEqual([0.1, 1]);
    expect(boundsOf("fsdp/slowdown", hws)).toEqual([0.01, 0.5]);
  });

  it("the committed dgx-h100 profile holds the floored figure and says so", () => {
    const j = JSON.parse(readFileSync(join(packageRoot(), "profiles", "hardware", "dgx-h100.json"), "utf8"));
    expect(j.gpu.attentionEfficiency.value).toBeGreaterThanOrEqual(0.3);
    expect(j.gpu.attentionEfficiency.source).toContain("at its floor 0.3");
  });
});
