// torchtitan's memory as its code keeps it (profiles/engines/torchtitan.json): per-op SAC
// (cost/op-sac.ts), the eager fp32 cross-entropy's logits, FSDP2's fp32 gradient accumulation
// under pipelining — each against a hand count of the tensors, and the torchtitan benchmark's
// measured peaks (benchmarks/llama3_h100_202412_torchtitan.md @ b5bcd76, Tables 1 and 3).
import { describe, expect, it } from "vitest";
import { opSacLayerBytes, opSacRecomputeGemms } from "../../planner/cost/op-sac.js";
import { layerActivationBytes } from "../../planner/cost/activations.js";
import { gemmFlops, recomputeFlopsPerStep } from "../../planner/cost/flops.js";
import { stageMemory } from "../../planner/cost/memory.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import type { Engine } from "../../planner/engine.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import type { Plan, Training } from "../../planner/types.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { loadCalibrationRows, predictRow } from "../../bench/calibration.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string): Engine => loadEngine(name, undefined);
const m = preset("llama3-8b");
const GiB = 2 ** 30;
const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, globalBatch: number, seqLen: number, e: Engine): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e,
});

describe("per-op SAC: every second matmul's output saved", () => {
  it("Llama 3.1 8B, 2 × 8192 tokens: input, wq, wv, w1, w2 outputs, SDPA output and its log-sum-exp", () => {
    // Per token, bf16: block input 4096 + wq 4096 + wv 1024 + w1 14336 + w2 4096 + SDPA 4096 =
    // 31,744 elements × 2 B, plus the fp32 log-sum-exp of 32 heads (128 B): 63,616 B.
    const T = 2 * 8192;
    expect(opSacLayerBytes(m, 2, { seqLen: 8192, tp: 1, sequenceParallel: false })).toBe(63_616 * T);
    // What the planner keeps for "selective" on torchtitan, against Megatron's 34·s·b·h on the same
    // layer (no dropout: 8 replicated + 26 split coefficients, Korthikanti et al. 2022 Table 2).
    const o = { seqLen: 8192, tp: 1, sequenceParallel: false, recompute: "selective" as const, fusedAttention: true };
    expect(layerActivationBytes(m, 2, { ...o, selective: "alternate-matmuls" })).toBe(63_616 * T);
    expect(layerActivationBytes(m, 2, o)).toBe(34 * T * 4096);
  });

  it("tp 8 with sequence parallel: column outputs 1/8, row outputs are full-width partial sums, reduce-scatter outputs saved", () => {
    // input 512 + wq 512 + wv 128 + w1 1792 + w2 4096 (partial) + 2 reduce-scatters 2·512 + SDPA 512
    // = 8,576 elements × 2 B + 4·32/8 = 16 B of log-sum-exp: 17,168 B per token.
    expect(opSacLayerBytes(m, 1, { seqLen: 8192, tp: 8, sequenceParallel: true })).toBe(17_168 * 8192);
  });

  it("recomputes wk, wo and w3: 2·4096·(1024 + 4096 + 14336) FLOPs per token", () => {
    const perToken = 2 * 4096 * (1024 + 4096 + 14336);
    expect(opSacRecomputeGemms(m, 1, 1).reduce((s, g) => s + gemmFlops(g), 0)).toBe(perToken);
    const t = training(8, 16, 8192, engine("torchtitan"));
    expect(recomputeFlopsPerStep(m, t, "selective")).toBe(32 * 16 * 8192 * perToken);
  });
});

describe("torchtitan's peak memory against its benchmark", () => {
  const tt = engine("torchtitan");
  const hw = hardware("h100-96g-500w");

  it("Table 1 (FSDP 8, local batch 2, selective AC): activations by hand, total within 10% of 82.4 / 77.0 GiB", () => {
    const p = plan({ dp: 8, zero: 3, microBatch: 2, recompute: "selective" });
    const mem = stageMemory(m, hw, training(8, 16, 8192, tt), p, "only");
    // 32 blocks × 63,616 B × 16,384 tokens; the block whose backward runs re-materialises the rest
    // of its 34·s·b·h; the loss: 12 B per logit (bf16 logits, their fp32 copy and log-softmax,
    // then its gradient and the logits' fp32 gradient) × 16,384 × 128,256; the final norm's input
    // 2 B × 16,384 × 4096.
    const hand = 32 * 63_616 * 16_384 + (34 * 4096 - 63_616) * 16_384 + 12 * 16_384 * 128_256 + 2 * 16_384 * 4096;
    expect(mem.activations).toBe(hand);
    for (const measured of [82.4, 77.0]) expect(Math.abs(mem.total / GiB - measured) / measured).toBeLessThan(0.1);
  });

  it("the calibration rows of Tables 1 and 3 fit their 96 GB parts and are predicted within 10%", () => {
    const rows = loadCalibrationRows().filter((r) => ["TT24-01", "TT24-02", "TT24-08", "TT24-09"].includes(r.id));
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      const p = predictRow(r);
      expect(p.status).toBe("ok");
      expect(Math.abs(p.memory! - r.measuredMemory!) / r.measuredMemory!).toBeLessThan(0.1);
    }
  });

  it("ZeRO-1 under pipelining: the unsharded gradient is accumulated in fp32 (4 B per parameter)", () => {
    const p = plan({ pp: 4, dp: 8, zero: 1, microBatch: 1, recompute: "full" });
    const t = training(32, 64, 8192, tt);
    // Against a 16-bit buffer (Megatron-Core with --grad-reduce-in-bf16): same weights (2 B) and
    // optimizer states, the gradient buffer doubles; Megatron-Core's own bf16 default is fp32 too.
    const core16 = { ...t, engine: withOverrides(engine("megatron-core"), { gradReduceInBf16: true }) };
    const a = stageMemory(m, hw, t, p, "first");
    const b = stageMemory(m, hw, core16, p, "first");
    expect(a.weights).toBe(b.weights);
    expect(a.gradients).toBe(2 * b.gradients);
    expect(a.gradients).toBe(2 * a.weights);
    expect(stageMemory(m, hw, { ...t, engine: engine("megatron-core") }, p, "first").gradients).toBe(a.gradients);
  });
});

describe("DTensor tensor parallelism keeps the all-gathered inputs", () => {
  it("Llama 3.1 70B, tp 8 + SP, 16 × 8192 tokens, full recompute: the re-run layer and the output layer hold whole inputs", () => {
    const m70 = preset("llama3-70b");
    const hw = hardware("h100-96g-500w");
    const p = plan({ tp: 8, dp: 32, zero: 3, microBatch: 16, recompute: "full", sequenceParallel: true });
    const tt = engine("torchtitan");
    const noGather = { ...tt, tensorParallel: { ...tt.tensorParallel, savesGatheredInput: false } };
    const a = stageMemory(m70, hw, training(256, 512, 8192, tt), p, "only").activations;
    const b = stageMemory(m70, hw, training(256, 512, 8192, noGather), p, "only").activations;
    // QKV and MLP inputs of the recomputed layer (2 × 2·T·h) and the output layer's input
    // (2·T·h), whole instead of 1/8: 6·T·h·7/8 bytes with T = 131,072, h = 8192.
    expect(a - b).toBe(6 * 131_072 * 8192 * (7 / 8));
    // Table 4 of the benchmark: 71.9 GiB (2D), 67.6 GiB (with async TP).
    const total = stageMemory(m70, hw, training(256, 512, 8192, tt), p, "only").total / GiB;
    expect(Math.abs(total - 67.6) / 67.6).toBeLessThan(0.1);
  });
});

describe("engine files without the activation fields", () => {
  it("parse with Megatron's behaviour: attention-core selective, 4 B logits, fp32 gradient buffer and reduction (bf16 rule)", () => {
    const raw = structuredClone(builtinEngineRaw("megatron-core")) as Record<string, unknown>;
    delete raw.activations;
    const p = parseEngineFile(raw, "old.json");
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.selectiveRecompute).toBe("attention-core");
    expect(p.value.logitBytes).toBe(4);
    expect(p.value.dataParallel.gradBufferBytes).toBe(4);
    expect(p.value.dataParallel.gradReduceBytes).toBe(4);
  });

  it("an unknown selective recompute is refused, naming the field", () => {
    const raw = structuredClone(builtinEngineRaw("megatron-core")) as Record<string, unknown>;
    raw.activations = { selectiveRecompute: "everything" };
    const p = parseEngineFile(raw, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain("selectiveRecompute");
  });
});
