// Query/key norms over the whole projections (OLMo 2, OLMoE: transformers Olmo2Attention and
// OlmoeAttention normalise q_proj(x) and k_proj(x) whole) under paraplan's worker: it builds them
// (executor/worker/model.py Attention, test/worker/test_model_facts.py) at tp 1 only, a
// tensor-parallel rank holding a part of each projection (spec.py validate). Its profile says so
// (supports.qkNorm head and full, qkNormFullWithTensorParallel false): the search ranks tp 1 plans,
// a fixed --tp above 1 is exit 2 (rule qk_norm_tp), and olmoe-1b-7b, which no built-in engine
// planned, plans on it.
import { describe, expect, it } from "vitest";
import { checkFixed, checkTraining } from "../../planner/constraints.js";
import { workerRefusal } from "../../planner/layout/capabilities.js";
import { search } from "../../planner/search.js";
import { totalParams } from "../../planner/model.js";
import type { ModelSpec, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { runCli } from "../cli/helpers.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, engine: string): Training => ({
  gpus, globalBatch, seqLen: 4096, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: loadEngine(engine),
});
/** Llama 3 8B with OLMo 2's norms over the projections (a dense model: no MoE rule restricts tp). */
const olmo2ish: ModelSpec = { ...preset("llama3-8b"), name: "llama3-8b-qk-full", qkNorm: "full" };

describe.each(["paraplan", "paraplan-compile"])("engine %s, query/key norms over the whole projections", (engine) => {
  const t = training(16, 64, engine);

  it("searches tp 1 only, counting the tp > 1 layouts under qk_norm_tp; per-head norms keep tp > 1", () => {
    const r = search(olmo2ish, H100, t, {}, { top: 20, keepAll: true });
    expect(r.plans.length).toBeGreaterThan(0);
    for (const p of r.all!) expect(p.tp).toBe(1);
    expect(r.rejected.qk_norm_tp).toBeGreaterThan(0);
    // the worker's own check accepts every plan ranked, and refuses tp 2
    const ctx = { precision: "bf16" as const, globalBatch: 64, seqLen: 4096, ffnHidden: olmo2ish.ffnHidden, gpus: 16, gpusPerNode: 8, qkNormFull: true };
    for (const p of r.plans) expect(workerRefusal(p, ctx)).toBeNull();
    expect(workerRefusal({ ...r.plans[0]!, tp: 2, dp: r.plans[0]!.dp / 2 }, ctx)?.code).toBe("worker_qk_norm");
    const head = search({ ...olmo2ish, qkNorm: "head" }, H100, t, {}, { top: 20 });
    expect(head.plans.some((p) => p.tp > 1)).toBe(true);
    expect(head.rejected.qk_norm_tp).toBeUndefined();
  });

  it("a fixed --tp 2 is refused naming the flag; megatron-core, which builds per-head norms only, refuses the model", () => {
    expect(checkFixed(olmo2ish, t, { tp: 2 })).toMatchObject({ code: "qk_norm_tp", flag: "--tp", message: expect.stringContaining("tp 2: this engine normalises queries and keys over the whole projections at tp 1 only") });
    expect(checkFixed(olmo2ish, t, { tp: 1 })).toBeNull();
    expect(checkTraining(olmo2ish, H100, t)).toBeNull();
    expect(checkTraining(olmo2ish, H100, training(16, 64, "megatron-core"))?.message).toContain("builds query/key norms over each head only");
  });
});

describe("olmoe-1b-7b", () => {
  it("its norms' weights are the projections' widths a layer, 16 × (2048 + 2048) (planner/model.ts qkNormParams)", () => {
    const m = preset("olmoe-1b-7b");
    expect(totalParams(m, 4096) - totalParams({ ...m, qkNorm: undefined }, 4096)).toBe(16 * (16 * 128 + 16 * 128));
  });

  it("plans on paraplan's worker engine, at tp 1; a fixed --tp 2 is exit 2 naming it", async () => {
    const r = await runCli(["plan", "--model", "olmoe-1b-7b", "--gpus", "64", "--engine", "paraplan", "--json", "--top", "5"]);
    expect(r.code, r.stderr).toBe(0);
    const plans = (JSON.parse(r.stdout) as { plans: { tp: number }[] }).plans;
    expect(plans.length).toBe(5);
    for (const p of plans) expect(p.tp).toBe(1);
    const tp2 = await runCli(["plan", "--model", "olmoe-1b-7b", "--gpus", "64", "--engine", "paraplan", "--tp", "2"]);
    expect(tp2.code).toBe(2);
    // (its experts' rule comes first: the worker runs MoE models at tp 1 as well)
    expect(tp2.stderr).toContain("--tp: tp 2: this engine runs mixture-of-experts models at tp 1 only");
  });
});
