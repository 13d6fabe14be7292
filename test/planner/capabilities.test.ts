// The engines' capability rules (planner/layout/capabilities.ts): what each export format and the
// worker refuse beyond the layout rules, with codes and reasons.
import { describe, expect, it } from "vitest";
import {
  deepspeedRefusal,
  launcherRefusal,
  megatronRefusal,
  torchtitanRefusal,
  workerRefusal,
  type CapabilityContext,
} from "../../planner/layout/capabilities.js";
import { ONE_PLAN } from "../../planner/layout/layout.js";
import type { Plan } from "../../planner/types.js";

describe("engine capabilities", () => {
  const ctx: CapabilityContext = { precision: "bf16", globalBatch: 32, seqLen: 1024, ffnHidden: 3072, gpus: 16, gpusPerNode: 8 };
  const plan = (p: Partial<Plan>): Plan => ({ ...ONE_PLAN, tp: 2, pp: 2, dp: 4, ...p });

  it("a dimension an engine cannot run yet is refused by name, never dropped", () => {
    for (const refusal of [megatronRefusal, deepspeedRefusal, torchtitanRefusal, workerRefusal] as const) {
      // Every engine states context parallel now: the exports (test/export/cp.test.ts) and the
      // worker (test/executor/cp-worker.test.ts).
      if (refusal === workerRefusal) expect(refusal(plan({ dp: 2, cp: 2 }), ctx)).toBeNull();
      else expect(refusal(plan({ dp: 2, cp: 2, cpComm: "ring" }), ctx)?.code ?? null).not.toBe("dimension_unsupported");
      // (every engine runs expert parallel now: test/export/moe.test.ts, test/executor/moe-worker.test.ts)
      expect(refusal(plan({ ep: 2 }), ctx)?.code ?? null).not.toBe("dimension_unsupported");
      // paraplan's worker runs uneven stages (issue 14), Megatron-LM core_r0.14 and torchtitan 0.2 too
      // (test/export/stage-layers.test.ts); DeepSpeed refuses them with its own code.
      if (refusal === deepspeedRefusal) {
        // DeepSpeed runs exactly the split 0.16 makes by itself: 12 layers evenly over 2 stages,
        // 13 over 3 as 5, 4, 4 (the export maps another to it: test/cli/stage-layers.test.ts)
        const r = refusal(plan({ stageLayers: [5, 7] }), ctx);
        expect(r?.code).toBe("deepspeed_stage_layers");
        expect(r?.reason).toContain("DeepSpeed 0.16 splits the 12 layers over 2 stages evenly, not 5,7");
        expect(refusal(plan({ pp: 3, stageLayers: [5, 4, 4] }), ctx)).toBeNull();
        expect(refusal(plan({ pp: 3, stageLayers: [4, 4, 5] }), ctx)?.reason).toContain("as 5,4,4, not 4,4,5");
        // too large to work out in bounded time: refused, naming the ways out
        expect(refusal(plan({ pp: 100, dp: 1, tp: 1, stageLayers: Array.from({ length: 100 }, (_, i) => (i < 50 ? 101 : 100)) }), ctx)?.reason).toContain("too many to work out DeepSpeed 0.16's split: use --format megatron or torchtitan, or a --pp that divides the 10050 layers");
      }
      else expect(refusal(plan({ stageLayers: [5, 7] }), ctx)).toBeNull();
      expect(refusal(plan({}), ctx)?.code ?? null).not.toBe("dimension_unsupported");
    }
  });

  it("Megatron-LM", () => {
    // ZeRO-2/3 are Megatron-FSDP in core_r0.14 (without a pipeline); core_v0.7 has only ZeRO-1.
    expect(megatronRefusal(plan({ zero: 2, pp: 1, dp: 8 }), ctx)).toBeNull();
    expect(megatronRefusal(plan({ zero: 3, pp: 1, dp: 8 }), { ...ctx, release: "core_r0.14" })).toBeNull();
    expect(megatronRefusal(plan({ zero: 3, pp: 1, dp: 8 }), { ...ctx, release: "core_v0.7" })?.code).toBe("megatron_zero");
    expect(megatronRefusal(plan({ zero: 3 }), ctx)?.reason).toMatch(/Megatron-FSDP, whose documented compatibility is TP, CP and EP/);
    expect(megatronRefusal(plan({ zero: 1 }), ctx)).toBeNull();
    expect(megatronRefusal(plan({ schedule: "gpipe" }), ctx)?.code).toBe("megatron_gpipe");
    expect(megatronRefusal(plan({ schedule: "1f1b" }), ctx)).toBeNull();
    const v07 = { ...ctx, release: "core_v0.7" };
    // Uneven stages: core_r0.14 states [first, middle…, last]; core_v0.7 has no such flags.
    expect(megatronRefusal(plan({ pp: 4, dp: 2, stageLayers: [3, 4, 4, 3] }), { ...ctx, release: "core_r0.14" })).toBeNull();
    expect(megatronRefusal(plan({ pp: 4, dp: 2, stageLayers: [3, 4, 5, 2] }), { ...ctx, release: "core_r0.14" })?.code).toBe("megatron_stage_layers");
    expect(megatronRefusal(plan({ stageLayers: [5, 7] }), v07)?.code).toBe("megatron_stage_layers");
    // Virtual stages (vpp 2, four counts on pp 2): refused even in Megatron's first/middle/last form,
    // but for the accounted split (--account-for-embedding/loss-in-pipeline-split): 22 layers + 2
    // units over 2·2 virtual stages = 6 each, the first and the last one fewer: [5, 6, 6, 5].
    const r14 = { ...ctx, release: "core_r0.14" };
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 7] }), r14)?.code).toBe("megatron_stage_layers");
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 7] }), r14)?.reason).toContain("pp·vpp = 4 to divide the 24 layers + 2");
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [4, 7, 6, 5] }), r14)?.reason).toContain("(5,6,6,5 for pp 2 · vpp 2)");
    // whole ranks cut evenly into their virtual stages: --decoder-first/last-pipeline-num-layers
    // 10 and 12 on pp 2 · vpp 2 build 5 + 5 and 6 + 6 (virtual stages in model order: 5, 6, 5, 6)
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 5, 6] }), r14)).toBeNull();
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 5] }), r14)).toBeNull();
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 5] }), v07)?.code).toBe("megatron_stage_layers");
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved" }), v07)?.code).toBe("megatron_interleaved_pp");
    expect(megatronRefusal(plan({ pp: 4, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 2, schedule: "interleaved" }), v07)).toBeNull();
    expect(megatronRefusal(plan({ vpp: 2, schedule: "interleaved" }), ctx)).toBeNull();
  });

  it("DeepSpeed's pipeline engine", () => {
    expect(deepspeedRefusal(plan({ zero: 2 }))?.code).toBe("deepspeed_pipe_zero");
    expect(deepspeedRefusal(plan({ zero: 1 }))).toBeNull();
    expect(deepspeedRefusal(plan({ pp: 1, dp: 8, zero: 3 }))).toBeNull();
    expect(deepspeedRefusal(plan({ vpp: 2, schedule: "interleaved" }))?.code).toBe("deepspeed_pipe_interleaved");
    expect(deepspeedRefusal(plan({ schedule: "gpipe" }))?.code).toBe("deepspeed_pipe_gpipe");
    expect(deepspeedRefusal(plan({}))).toBeNull();
  });

  it("torchtitan", () => {
    expect(torchtitanRefusal(plan({}), { ...ctx, precision: "fp16" })?.code).toBe("torchtitan_fp16");
    expect(torchtitanRefusal(plan({}), ctx)).toBeNull();
    // Uneven stages need split points: 0.2 has them, main does not.
    expect(torchtitanRefusal(plan({ stageLayers: [5, 7] }), { ...ctx, release: "0.2" })).toBeNull();
    expect(torchtitanRefusal(plan({ stageLayers: [5, 7] }), { ...ctx, release: "main" })?.code).toBe("torchtitan_stage_layers");
    // 0.2's split points list virtual stages too.
    expect(torchtitanRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 7] }), { ...ctx, release: "0.2" })).toBeNull();
    // The worker builds one stage per rank.
    expect(workerRefusal(plan({ vpp: 2, schedule: "interleaved", stageLayers: [5, 6, 6, 7] }), ctx)?.code).toBe("worker_stage_layers");
  });

  it("launcher: whole nodes", () => {
    expect(launcherRefusal(plan({}), { ...ctx, gpus: 12 })?.code).toBe("launcher_whole_nodes");
    expect(launcherRefusal(plan({}), { ...ctx, gpus: 16 })).toBeNull();
    expect(launcherRefusal(plan({}), { ...ctx, gpus: 4 })).toBeNull(); // part of one node
  });

  it("the worker", () => {
    // B 32 / (dp 4 · mb 4) = 2 micro-batches < pp 4; mb 2 gives 4
    expect(workerRefusal(plan({ pp: 4, dp: 4, microBatch: 4 }), ctx)?.code).toBe("worker_microbatches");
    expect(workerRefusal(plan({ pp: 4, dp: 4, microBatch: 2 }), ctx)).toBeNull();
    expect(workerRefusal(plan({ tp: 3, sequenceParallel: true }), { ...ctx, ffnHidden: 3072 })?.code).toBe("worker_sp_seq"); // 3 ∤ 1024
    expect(workerRefusal(plan({ tp: 3, sequenceParallel: true }), { ...ctx, seqLen: 1026 })).toBeNull(); // 3 | 1026, 3 | 3072
    expect(workerRefusal(plan({ tp: 3 }), { ...ctx, ffnHidden: 1000 })?.code).toBe("worker_tp_ffn");
    expect(workerRefusal(plan({ tp: 3 }), { ...ctx, ffnHidden: 1002 })).toBeNull();
    // Zero-bubble schedules with recompute: SAC raises in the split backward, full recomputes thrice.
    for (const schedule of ["zb1p", "zbv", "dualpipev"] as const)
      for (const recompute of ["selective", "full"] as const)
        expect(workerRefusal(plan({ pp: 2, vpp: 2, schedule, recompute }), ctx)?.code).toBe("worker_zb_recompute");
    expect(workerRefusal(plan({ pp: 2, vpp: 2, schedule: "zbv", recompute: "none" }), ctx)).toBeNull();
    expect(workerRefusal(plan({ pp: 2, vpp: 2, schedule: "interleaved", recompute: "selective" }), ctx)).toBeNull();
  });
});
