// The launcher's side of the worker's context parallel (issue 14): cp, cpComm and cpSplit travel in
// the launch spec's plan, and what the worker cannot run is refused before launch with the worker's
// codes and reasons (executor/worker/spec.py cp_checks says the same; test/worker/test_context.py
// runs the rest).
import { describe, expect, it } from "vitest";
import type { Plan } from "../../planner/index.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import { type CapabilityContext, workerRefusal } from "../../planner/layout/capabilities.js";
import { loadModel } from "../../src/load.js";
import { buildSpec } from "../../executor/spec.js";

const ctx: CapabilityContext = { precision: "bf16", globalBatch: 8, seqLen: 32, ffnHidden: 256, gpus: 4, gpusPerNode: 8, device: "cpu" };
const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, ...p });
const code = (p: Partial<Plan>, c: Partial<CapabilityContext> = {}) => workerRefusal(plan(p), { ...ctx, ...c })?.code ?? null;

describe("the worker's context parallel", () => {
  it("writes cp with its exchange and split (defaults filled in) into the launch spec's plan", () => {
    const spec = buildSpec({ runDir: "/r", device: "cpu", model: loadModel("tiny"), plan: plan({ cp: 2, dp: 2, microBatch: 2 }), globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5 });
    expect(spec.plan).toMatchObject({ cp: 2, dp: 2, cpComm: "allgather", cpSplit: "zigzag" });
    const ring = buildSpec({ runDir: "/r", device: "cuda", model: loadModel("tiny"), plan: plan({ cp: 2, cpComm: "ring", cpSplit: "contiguous" }), globalBatch: 8, seqLen: 32, precision: "bf16", steps: 5 });
    expect(ring.plan).toMatchObject({ cp: 2, cpComm: "ring", cpSplit: "contiguous" });
    const none = buildSpec({ runDir: "/r", device: "cpu", model: loadModel("tiny"), plan: ONE_PLAN, globalBatch: 8, seqLen: 32, precision: "bf16", steps: 1 });
    expect(none.plan).not.toHaveProperty("cpComm");
  });

  it("runs the all-gather variant anywhere and torch's ring on CUDA", () => {
    expect(code({ cp: 2 })).toBeNull(); // allgather, zigzag: the defaults
    expect(code({ cp: 2, dp: 2, cpComm: "allgather", cpSplit: "contiguous" })).toBeNull();
    expect(code({ cp: 2, tp: 2, sequenceParallel: true })).toBeNull(); // 16 tokens a shard, tp 2 | 16
    expect(code({ cp: 2, cpComm: "ring" }, { device: "cuda" })).toBeNull();
  });

  it("refuses Ulysses, ring on CPU, MoE and uneven chunks by code, with the reason", () => {
    expect(code({ cp: 2, cpComm: "a2a" })).toBe("worker_cp_comm");
    expect(workerRefusal(plan({ cp: 2, cpComm: "a2a" }), ctx)?.reason).toMatch(/Ulysses all-to-all.*use the allgather exchange/);
    expect(code({ cp: 2, cpComm: "a2a" }, { device: "cuda" })).toBe("worker_cp_comm");
    expect(code({ cp: 2, cpComm: "ring" })).toBe("worker_cp_comm");
    expect(workerRefusal(plan({ cp: 2, cpComm: "ring" }), ctx)?.reason).toMatch(/CUDA only.*NotImplementedError/);
    expect(code({ cp: 2 }, { experts: 4 })).toBe("worker_cp_moe");
    // zigzag cuts 2·cp = 6 chunks: 32 tokens do not split; contiguous needs cp = 3 | 36
    expect(code({ cp: 3 }, { seqLen: 32 })).toBe("worker_cp_seq");
    expect(code({ cp: 3, cpSplit: "contiguous" }, { seqLen: 36 })).toBeNull();
    expect(code({ cp: 3 }, { seqLen: 36 })).toBeNull(); // 6 | 36
    expect(code({ cp: 2, tp: 3, sequenceParallel: true }, { seqLen: 40, ffnHidden: 258 })).toBe("worker_cp_seq"); // a shard of 20 tokens, 3 ∤ 20
    // cp 1 carries no exchange: nothing to refuse
    expect(code({ cp: 1, cpComm: "a2a" })).toBeNull();
  });
});
