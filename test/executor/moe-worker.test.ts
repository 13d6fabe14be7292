// The launcher's side of the worker's mixtures of experts (issue 13): the MoE fields travel in the
// launch spec, and what the worker cannot run is refused before launch with the worker's reasons
// (executor/worker/spec.py moe_checks says the same).
import { describe, expect, it } from "vitest";
import type { ModelSpec, MoeSpec, Plan } from "../../planner/index.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { type CapabilityContext, workerRefusal } from "../../planner/layout/capabilities.js";
import { loadModel } from "../../src/load.js";
import { buildSpec } from "../../executor/spec.js";

const MOE: MoeSpec = { experts: 4, topK: 2, sharedExperts: 1, expertFfnHidden: 64, denseLayers: 1, layerFreq: 1, router: "softmax" };
const ctx: CapabilityContext = { precision: "bf16", globalBatch: 8, seqLen: 32, ffnHidden: 256, gpus: 4, gpusPerNode: 8, experts: 4 };
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, ...p });

describe("the worker's mixtures of experts", () => {
  it("sends the MoE fields whole, and latent attention / MTP so that the worker can refuse them", () => {
    const model: ModelSpec = { ...loadModel("tiny"), moe: MOE };
    const spec = buildSpec({ runDir: "/r", device: "cpu", model, plan: plan({ dp: 2, ep: 2, microBatch: 2 }), globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5 });
    expect(spec.model.moe).toEqual(MOE);
    expect(spec.plan).toMatchObject({ dp: 2, ep: 2, etp: 1 });
    const mla = { qLoraRank: 0, kvLoraRank: 16, qkNopeHeadDim: 8, qkRopeHeadDim: 8, vHeadDim: 8 };
    const other = buildSpec({ runDir: "/r", device: "cpu", model: { ...model, mla, mtpLayers: 1 }, plan: ONE_PLAN, globalBatch: 8, seqLen: 32, precision: "bf16", steps: 1 });
    expect(other.model.mla).toEqual(mla);
    expect(other.model.mtpLayers).toBe(1);
    expect(buildSpec({ runDir: "/r", device: "cpu", model: loadModel("tiny"), plan: ONE_PLAN, globalBatch: 8, seqLen: 32, precision: "bf16", steps: 1 }).model).not.toHaveProperty("moe");
  });

  it("runs ep folded inside dp at ZeRO 0 with tp = etp = 1 (with or without pp), and refuses the rest by reason", () => {
    expect(workerRefusal(plan({ dp: 2, ep: 2 }), ctx)).toBeNull();
    expect(workerRefusal(plan({ dp: 4, ep: 2 }), ctx)).toBeNull();
    expect(workerRefusal(plan({ pp: 2, dp: 2, ep: 2 }), ctx)).toBeNull(); // static stage shapes (pipeline.py)
    expect(workerRefusal(plan({ dp: 2, zero: 3 }), ctx)).toBeNull(); // ep 1: experts replicated, any ZeRO
    const reason = (p: Partial<Plan>, c: Partial<CapabilityContext> = {}) => workerRefusal(plan(p), { ...ctx, ...c })?.reason;
    expect(reason({ dp: 2, ep: 2, zero: 1 })).toMatch(/ZeRO 0 only .*ZeRO-1/);
    expect(reason({ tp: 2, dp: 2 })).toMatch(/tp = 1 only/);
    expect(reason({ dp: 2, etp: 2 })).toMatch(/expert tensor parallel/);
    expect(reason({ dp: 2, ep: 4 })).toMatch(/ep must divide dp/);
    expect(reason({}, { mla: true })).toMatch(/latent attention/);
    expect(reason({}, { mtpLayers: 1 })).toMatch(/multi-token-prediction/);
    // a dense model with tp 2 is none of this refusal's business
    expect(workerRefusal(plan({ tp: 2, dp: 2 }), { ...ctx, experts: 0 })).toBeNull();
  });
});
