// paraplan's own worker runs mixture-of-experts models at tp 1, without expert tensor parallel,
// with expert parallel beside ZeRO 0 only, and builds neither latent attention nor multi-token
// prediction (executor/worker/spec.py moe_checks). Its engine profile says so as data
// (supports.moeWithTensorParallel, expertTensorParallel, zeroWithExpertParallel, latentAttention,
// multiTokenPrediction), so `plan --engine paraplan` ranks only plans `execute` can run: before,
// every one of Mixtral's top 10 on 16 GPUs had tp 2 and was refused by execute.
import { describe, expect, it } from "vitest";
import { checkFixed, checkTraining } from "../../planner/constraints.js";
import { workerRefusal } from "../../planner/layout/capabilities.js";
import { search } from "../../planner/search.js";
import type { Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, engine: string): Training => ({
  gpus, globalBatch, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: loadEngine(engine),
});

describe.each(["paraplan", "paraplan-compile"])("engine %s on Mixtral 8x7B", (engine) => {
  const mx = preset("mixtral-8x7b");
  const t = training(16, 64, engine);

  it("searches tp 1, etp 1 and ZeRO 0 beside ep > 1 only, and counts the tp > 1 layouts under moe_tp", () => {
    const r = search(mx, H100, t, {}, { top: 20, keepAll: true });
    expect(r.plans.length).toBeGreaterThan(0);
    for (const p of r.all!) {
      expect(p.tp).toBe(1);
      expect(p.etp).toBe(1);
      if (p.ep > 1) expect(p.zero).toBe(0);
    }
    expect(r.rejected.moe_tp).toBeGreaterThan(0);
    // The worker's own capability check (a separate statement of the same limits) accepts every
    // plan the search ranks: what plan shows, execute runs.
    for (const p of r.plans) {
      expect(workerRefusal(p, { precision: "bf16", globalBatch: 64, seqLen: 4096, ffnHidden: mx.ffnHidden, gpus: 16, gpusPerNode: 8, experts: 8 })).toBeNull();
    }
  });

  it("refuses a fixed tp, etp, or ZeRO beside ep that the worker does not run, naming the flag", () => {
    expect(checkFixed(mx, t, { tp: 2 })).toMatchObject({ code: "moe_tp", flag: "--tp" });
    expect(checkFixed(mx, t, { etp: 2 })).toMatchObject({ code: "engine_unsupported", flag: "--etp" });
    expect(checkFixed(mx, t, { ep: 2, zero: 1 })).toMatchObject({ code: "engine_unsupported", flag: "--zero", message: expect.stringContaining("beside ZeRO 0 only, not 1") });
    expect(checkFixed(mx, t, { ep: 2, zero: 0 })).toBeNull();
    expect(checkFixed(mx, t, { ep: 1, zero: 3 })).toBeNull();
  });
});

describe("models the worker does not build", () => {
  it("DeepSeek-V3's latent attention is refused under paraplan and priced under megatron-core", () => {
    const ds = preset("deepseek-v3");
    expect(checkTraining(ds, H100, training(256, 256, "paraplan"))).toMatchObject({ code: "engine_unsupported", flag: "--engine", message: expect.stringContaining("multi-head latent attention") });
    expect(checkTraining(ds, H100, training(256, 256, "megatron-core"))).toBeNull();
  });
  it("a dense model is untouched by the MoE limits: tp > 1 stays searched under paraplan", () => {
    const r = search(preset("llama3-8b"), H100, training(16, 64, "paraplan"), {}, { top: 20 });
    expect(r.plans.some((p) => p.tp > 1)).toBe(true);
    expect(r.rejected.moe_tp).toBeUndefined();
  });
});
