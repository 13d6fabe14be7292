// What an engine changes in the cost model (planner/cost/engine-terms.ts), each against a hand
// computation, and that the default engine, megatron-core, changes nothing.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import { layerMemoryBoundBytes, layerTimes } from "../../planner/cost/compute.js";
import { bufferBytes, stageMemory } from "../../planner/cost/memory.js";
import { exposedOverlap } from "../../planner/cost/engine-terms.js";
import { attentionWidth, headDim, layerMatrixParams } from "../../planner/model.js";
import type { Engine } from "../../planner/engine.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { loadCalibrationRows, predictRow } from "../../bench/calibration.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string): Engine => loadEngine(name, undefined);
const h100 = hardware("dgx-h100");
const a100 = hardware("dgx-a100-80g");
const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, globalBatch: number, seqLen: number, e?: Engine, precision: Training["precision"] = "bf16"): Training => ({
  gpus, globalBatch, seqLen, precision, fusedAttention: e ? e.attention.kernel !== "materialised" : true, overlapGradReduce: e ? e.dataParallel.overlapGradReduce : true, ...(e ? { engine: e } : {}),
});

describe("megatron-core, the default, prices exactly as before engines existed", () => {
  const core = engine("megatron-core");
  const cases: Array<[string, number, number, number, Partial<Plan>]> = [
    ["gpt3-175b", 1024, 1536, 2048, { tp: 8, pp: 16, dp: 8, microBatch: 1, sequenceParallel: true }],
    ["gpt3-175b", 1024, 1536, 2048, { tp: 8, pp: 8, vpp: 4, dp: 16, zero: 1, microBatch: 2, recompute: "selective", schedule: "interleaved" }],
    ["llama3-8b", 64, 512, 8192, { tp: 2, dp: 32, zero: 3, microBatch: 1, recompute: "full" }],
    ["llama3-70b", 64, 256, 4096, { tp: 8, pp: 4, dp: 2, zero: 2, microBatch: 1, recompute: "full" }],
    ["tiny", 2, 8, 32, { dp: 2, microBatch: 4 }],
  ];
  it.each(cases)("%s on %i GPUs: every figure of evaluatePlan the same (bf16 and fp16)", (name, gpus, batch, seq, p) => {
    const m = preset(name);
    for (const precision of ["bf16", "fp16"] as const) {
      const before = evaluatePlan(m, h100, training(gpus, batch, seq, undefined, precision), plan(p));
      const after = evaluatePlan(m, h100, training(gpus, batch, seq, core, precision), plan(p));
      expect(after).toEqual(before);
    }
  });

  it("a search ranks and prices the same plans", () => {
    const m = preset("gpt3-1.3b");
    const a = search(m, h100, training(16, 64, 2048), {}, { top: 5 });
    const b = search(m, h100, training(16, 64, 2048, core), {}, { top: 5 });
    expect(b.plans).toEqual(a.plans);
    // megatron-core runs 1F1B and interleaved only: the zero-bubble and GPipe candidates go.
    expect(b.searched).toBeLessThan(a.searched);
  });

  it("searches only the pipeline schedules the stack runs; a fixed schedule is evaluated as asked", () => {
    const m = preset("gpt3-175b");
    const schedules = (e: Engine | undefined, fixed = {}) =>
      new Set((search(m, h100, training(256, 512, 2048, e), { tp: 8, pp: 8, ...fixed }, { top: 1, keepAll: true }).all ?? []).map((p) => p.schedule));
    expect([...schedules(core)].sort()).toEqual(["1f1b", "interleaved"]);
    expect([...schedules(engine("megatron-2021"))].sort()).toEqual(["1f1b", "interleaved"]);
    expect([...schedules(engine("megatron-deepspeed"))]).toEqual(["1f1b"]);
    expect([...schedules(engine("torchtitan"))].sort()).toEqual(["1f1b", "dualpipev", "gpipe", "interleaved", "zb1p", "zbv"]);
    expect([...schedules(core, { schedule: "zb1p" })]).toEqual(["zb1p"]);
  });

  it("the calibration rows carry their source's engine; megatron-core's rows predict as they did without an engine (same schedule)", () => {
    // Rows now carry every source's engine (bench/calibration/engine-of-row.ts), not only MEG21's and
    // megatron-core's; the flags are the engine's own, and the default engine still prices as none.
    for (const row of loadCalibrationRows()) {
      expect(row.training.engine?.name).toBe(row.engine);
      const old2021 = row.engine === "megatron-2021" || row.engine === "megatron-deepspeed";
      // Before engines: fusedAttention and overlapGradReduce were false exactly on the 2021 stacks.
      expect([row.training.fusedAttention, row.training.overlapGradReduce]).toEqual([!old2021, !old2021]);
      // Tensor-parallel overlap switched on exactly where the run had it (rows.ts tpCommOverlapOf).
      // (torchtitan's async TP: the TT24 rows whose notes name AsyncTP, 12-18)
      const asyncTp = row.source === "TT24" && Number(row.id.slice(5)) >= 12;
      expect(row.training.engine?.tensorParallel.overlapNeedsSp, row.id).toBe(row.source === "MEG24" || row.source === "DGXC" || asyncTp);
      if (row.engine !== "megatron-core") continue;
      // (fp8 rows aside: the recipe's weight copies and transposes are an engine's, none without one
      // (cost/engine-terms.ts fp8ExtraBytes), so with fp32 gradients DGXC-FP8-128's no-recompute plan
      // fits only without an engine; the rows themselves run the recipe's bf16 gradients.)
      if (row.training.precision === "fp8") continue;
      const { engine: _e, ...flags } = row.training;
      // Without an engine every schedule is searched: fix the one megatron-core's search chose
      // (megatron-core as it loads: the overlap switch is the row's, not the default's).
      const withEngine = predictRow({ ...row, training: { ...row.training, engine: engine("megatron-core") } });
      const fixed = { ...row.fixed, schedule: withEngine.plan!.schedule };
      expect(withEngine.predicted).toBe(predictRow({ ...row, fixed, training: flags }).predicted);
    }
  });
});

describe("launch-bound layers", () => {
  it("a layer whose kernels take less GPU time than the host takes to issue them costs kernels × launch cost", () => {
    const m = preset("tiny");
    const tt = engine("torchtitan");
    const t = layerTimes(m, h100, training(1, 8, 32, tt), 1, 1, false);
    // Hand: 40 kernels × the launch cost forward; backward issues 2 × as many. The launch costs are
    // fitted on TT24 (bench/calibration), in microseconds.
    const launch = tt.launch.perKernel;
    const launchC = engine("torchtitan-compile").launch.perKernel;
    expect(launch).toBeGreaterThan(0.5e-6);
    expect(launch).toBeLessThan(30e-6);
    expect(t.forward).toBeCloseTo(40 * launch, 12);
    expect(t.backward).toBeCloseTo(80 * launch, 12);
    const compiled = layerTimes(m, h100, training(1, 8, 32, engine("torchtitan-compile")), 1, 1, false);
    expect(compiled.forward).toBeCloseTo(14 * launchC, 12);
    // megatron-core's host cost is in the calibrated profiles: the GPU's work alone.
    const core = layerTimes(m, h100, training(1, 8, 32, engine("megatron-core")), 1, 1, false);
    expect(core.forward).toBe(layerTimes(m, h100, training(1, 8, 32), 1, 1, false).forward);
    expect(core.forward).toBeLessThan(40e-6);
  });

  it("large GEMMs hide the launches: a 175B layer is not launch-bound under any engine", () => {
    const m = preset("gpt3-175b");
    const t = layerTimes(m, h100, training(8, 8, 2048, engine("torchtitan")), 8, 1, true);
    expect(t.forward).toBeGreaterThan(40 * 8e-6);
  });

  it("fsdp and eager engines are slower than megatron-core on a small model at micro-batch 1", () => {
    const m = preset("gpt3-125m");
    const p = plan({ dp: 8, zero: 3, microBatch: 1 });
    const core = evaluatePlan(m, h100, training(8, 64, 2048, engine("megatron-core")), p).time.step;
    for (const name of ["fsdp", "torchtitan", "paraplan"]) {
      const step = evaluatePlan(m, h100, training(8, 64, 2048, engine(name)), p).time.step;
      expect(step, name).toBeGreaterThan(core * 1.05);
    }
    const best = (name: string) => search(m, h100, training(8, 64, 2048, engine(name)), { microBatch: 1 }, { top: 1 }).plans[0]!.time.step;
    expect(best("fsdp")).toBeGreaterThan(best("megatron-core"));
    expect(best("torchtitan-compile")).toBeLessThan(best("torchtitan"));
  });
});

describe("element-wise traffic, attention, overlap, fp8", () => {
  it("unfused groups move their traffic factor × the fused bytes", () => {
    const m = preset("llama3-8b");
    const tt = engine("torchtitan");
    const T = 2 * 4096;
    const h = m.hidden;
    const fused = { norm: 8 * T * h, residual: 12 * T * h, act: 6 * T * m.ffnHidden, rope: 4 * T * (attentionWidth(m) + m.kvHeads * headDim(m)) };
    const hand = fused.norm * 6 + fused.residual * 2 + fused.act * 2 + fused.rope * 4;
    expect(layerMemoryBoundBytes(m, { seqLen: 4096, fusedAttention: true, engine: tt }, 1, 2, false)).toBe(hand);
    expect(layerMemoryBoundBytes(m, { seqLen: 4096, fusedAttention: true, engine: engine("megatron-core") }, 1, 2, false)).toBe(
      fused.norm + fused.residual + fused.act + fused.rope,
    );
  });

  it("the attention kernel's efficiency is the engine's for the GPU generation, else the profile's", () => {
    const m = preset("llama3-8b");
    const att = (hw: typeof h100, e?: Engine) => {
      const t = layerTimes(m, hw, training(8, 8, 4096, e), 1, 1, false);
      return t.attentionCore;
    };
    // Causal flash attention computes (n+1)/(2n) of the convention's s² work with n = 4096/128
    // query blocks (planner/cost/causal.ts, Dao 2023 §3.1.1): 33/64 here.
    const flops = ((4 * 4096 * 4096 * attentionWidth(m)) * 33) / 64;
    // An engine's own figure for each generation (synthetic, unlike any profile's), else the profile's.
    const base = engine("torchtitan");
    const e: Engine = { ...base, attention: { ...base.attention, efficiency: { A100: 0.41, H100: 0.27 } } };
    expect(att(h100, e)).toBeCloseTo(flops / (h100.peak.bf16 * 0.27), 12);
    expect(att(a100, e)).toBeCloseTo(flops / (a100.peak.bf16 * 0.41), 12);
    expect(att(h100, { ...e, attention: { ...e.attention, efficiency: { A100: 0.41 } } })).toBeCloseTo(flops / (h100.peak.bf16 * h100.attentionEfficiency), 12);
    expect(att(h100, engine("megatron-core"))).toBeCloseTo(flops / (h100.peak.bf16 * h100.attentionEfficiency), 12);
  });

  it("a hidden collective slows the compute beside it by overlapSlowdown × the overlapped time", () => {
    const e = engine("fsdp");
    const s = e.overlapSlowdown; // fitted on MPT (bench/calibration), bounded to [0, 0.5]
    expect(s).toBeGreaterThan(0);
    expect(exposedOverlap(1, 3, e)).toBeCloseTo(s, 12);
    expect(exposedOverlap(3, 1, e)).toBeCloseTo(2 + s, 12);
    // megatron-core now carries Lee et al.'s 18.9% too (the planner's default): 2 exposed + 0.189 × 1.
    expect(exposedOverlap(3, 1, engine("megatron-core"))).toBeCloseTo(2 + 0.189, 12);
    expect(exposedOverlap(3, 1, engine("megatron-2021"))).toBe(2);
    const m = preset("llama3-8b");
    const p = plan({ dp: 64, zero: 3, microBatch: 2 });
    const base = { ...e, overlapSlowdown: 0 };
    const slowed = evaluatePlan(m, h100, training(64, 512, 4096, e), p).time.dpComm;
    expect(slowed).toBeGreaterThan(evaluatePlan(m, h100, training(64, 512, 4096, base), p).time.dpComm);
    // Without prefetch the gathers are exposed whole.
    const noPrefetch = { ...e, dataParallel: { ...e.dataParallel, prefetchLayers: 0 } };
    expect(evaluatePlan(m, h100, training(64, 512, 4096, noPrefetch), p).time.dpComm).toBeGreaterThan(slowed);
  });

  // prefetchLayers 40 on a 32-layer stage held 41 unsharded layers, more than the model has
  // (1000: 438 GiB a GPU, no plan fitting). Llama 3 8B's layer: 4096·(4096 + 2·1024) + 4096² +
  // 3·4096·14336 = 218,103,808 parameters, 2 bytes each unsharded.
  it("ZeRO-3 holds at most the stage's layers unsharded, however deep the prefetch", () => {
    expect(layerMatrixParams(preset("llama3-8b"))).toBe(218_103_808);
    const e = engine("fsdp");
    const deep = (n: number) => ({ ...e, dataParallel: { ...e.dataParallel, prefetchLayers: n } });
    const t = (x: Engine) => ({ precision: "bf16" as const, engine: x });
    const m = preset("llama3-8b");
    expect(bufferBytes(m, 1, 64, 3, t(deep(40)), 32) - bufferBytes(m, 1, 64, 3, t(deep(1)), 32)).toBe(30 * 2 * 218_103_808);
    expect(bufferBytes(m, 1, 64, 3, t(deep(1000)), 32)).toBe(bufferBytes(m, 1, 64, 3, t(deep(31)), 32));
    // pp 4: 8 layers a stage
    expect(bufferBytes(m, 1, 16, 3, t(deep(40)), 8) - bufferBytes(m, 1, 16, 3, t(deep(1)), 8)).toBe(6 * 2 * 218_103_808);
  });

  it("the fp8 recipe's weight copies and scaling state are in memory; torchao's adds none", () => {
    const m = preset("llama3-8b");
    const p = plan({ tp: 1, dp: 1, microBatch: 1, recompute: "full" });
    const mem = (e?: Engine) => stageMemory(m, h100, training(1, 1, 4096, e, "fp8"), p, "only").total;
    const extra = (2 * layerMatrixParams(m) * m.layers + 64 * 4 * m.layers) * (1 + h100.fragmentation);
    expect(mem(engine("megatron-core")) - mem(undefined)).toBeCloseTo(extra, 0);
    // torchao keeps no copies: torchtitan in fp8 holds what it holds in bf16 (its loss and
    // gradient buffers differ from the default engine's, cost/engine-terms.ts, not its fp8).
    const tt = engine("torchtitan");
    expect(mem(tt)).toBe(stageMemory(m, h100, training(1, 1, 4096, tt), p, "only").total);
    // In bf16 nothing is added.
    const bf = (e?: Engine) => stageMemory(m, h100, training(1, 1, 4096, e), p, "only").total;
    expect(bf(engine("megatron-core"))).toBe(bf(undefined));
  });

  it("paraplan's worker runs fp8 as torchtitan does (torchao Float8 block linears): compiled, its fp8 step is faster than its bf16 one", () => {
    // executor/worker/fp8.py converts the block linears on CUDA; before, the engine said "no fp8"
    // and `execute --precision fp8` predicted 16-bit matmuls for a run of fp8 ones.
    const m = preset("llama3-8b");
    const p = plan({ tp: 1, dp: 8, zero: 3, microBatch: 1 });
    const step = (name: string, precision: Training["precision"]) => evaluatePlan(m, h100, training(8, 8, 4096, engine(name), precision), p).time.compute;
    expect(engine("paraplan").fp8.matmuls).toBe(engine("torchtitan").fp8.matmuls);
    expect(step("paraplan-compile", "fp8")).toBeLessThan(0.9 * step("paraplan-compile", "bf16"));
    expect(step("paraplan-compile", "fp8") / step("paraplan-compile", "bf16")).toBeCloseTo(step("torchtitan-compile", "fp8") / step("torchtitan-compile", "bf16"), 1);
    // Eager, torchao's casts are separate kernels (abs, max, upcast, scale, clamp, cast: 33 bytes an
    // element) and the weights are cast every micro-batch: at 4,096 tokens they outweigh the fp8
    // GEMMs' saving, as torchao's README warns (it asks for torch.compile).
    expect(step("paraplan", "fp8")).toBeGreaterThan(step("paraplan", "bf16"));
  });

  it("paraplan's worker reduces ZeRO-0/1 gradients after the backward where DDP does not fit (tp or pp > 1), overlapped elsewhere", () => {
    // executor/worker/parallel.py: DDP (bucketed, overlapped) at tp = pp = 1; GradReplicator (one
    // bucketed all-reduce after backward) with tp > 1 or pp > 1; FSDP2 (overlapped) at ZeRO 2/3.
    const m = preset("gpt3-1.3b");
    const worker = engine("paraplan");
    const eager = { ...worker, dataParallel: { ...worker.dataParallel, reduceAfterBackwardWith: [] } };
    const dp = (e: Engine, p: Partial<Plan>) => evaluatePlan(m, h100, training(32, 64, 2048, e), plan({ microBatch: 1, ...p })).time.dpComm;
    const noOverlap = { ...worker, dataParallel: { ...worker.dataParallel, overlapGradReduce: false } };
    // tp 2 · dp 16 at ZeRO 0: exposed as when the engine never overlaps.
    expect(dp(worker, { tp: 2, dp: 16 })).toBeCloseTo(dp(noOverlap, { tp: 2, dp: 16 }), 12);
    expect(dp(worker, { tp: 2, dp: 16 })).toBeGreaterThan(dp(eager, { tp: 2, dp: 16 }));
    expect(dp(worker, { pp: 2, dp: 16, zero: 1 })).toBeCloseTo(dp(noOverlap, { pp: 2, dp: 16, zero: 1 }), 12);
    // DDP's own layout and FSDP2 stay overlapped.
    expect(dp(worker, { dp: 32 })).toBeCloseTo(dp(eager, { dp: 32 }), 12);
    expect(dp(worker, { tp: 2, dp: 16, zero: 3 })).toBeCloseTo(dp(eager, { tp: 2, dp: 16, zero: 3 }), 12);
    expect(dp(worker, { dp: 32 })).toBeLessThan(dp(noOverlap, { dp: 32 }));
  });
});
