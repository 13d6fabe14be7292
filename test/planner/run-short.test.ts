// The whole run's edges and figures against hand computations: a run shorter than its checkpoint
// interval (Daly 2006's expected time with no checkpoint), the failure rate the reference supports
// (formulas-scale.md §4.3), each profile's device-to-host copy, and a checkpoint of the states
// the engine keeps (Megatron 14 bytes a parameter, FSDP 12).
import { describe, expect, it } from "vitest";
import {
  FLEET_FAILURES_PER_GPU_HOUR,
  RUN_DEFAULTS,
  type RunInputs,
  checkpointBytes,
  checkpointPlan,
  expectedFailures,
  jobMtbf,
  resolveRunFigures,
  runEstimate,
  runStall,
} from "../../planner/run/index.js";
import { stageParamsPerGpu } from "../../planner/model.js";
import { loadEngine } from "../../src/load-engine.js";
import { builtinHardwareNames, hardware, preset, RUN_BASE } from "./fixtures.js";

const H = 3600;

const base = RUN_BASE;

describe("a run shorter than its checkpoint interval writes none (Daly 2006, formulas-scale.md §4.2)", () => {
  it("one 1.8 s step against Daly's 2,617 s interval: goodput 1.8 / (M·e^{R/M}·(e^{T/M} − 1)) = 0.983447", () => {
    // M = 3600 / (1000 · 1e-4) = 36,000 s, R = 600 s, T = 1.8 s, no write (δ = 0):
    // e^{600/36000} = 1.0168064, e^{1.8/36000} − 1 = 5.0001e-5 → 36000 · 1.0168064 · 5.0001e-5 = 1.830297 s → 1.8 / 1.830297 = 0.983447.
    const c = checkpointPlan(base, 1.8, 1.8);
    expect([c.written, c.notWritten, c.interval, c.intervalSteps]).toEqual([false, "run shorter", 1.8, 1]);
    expect(c.optimum).toBeCloseTo(2617.03, 1);
    expect(c.goodput).toBeCloseTo(0.983447, 6);
    // Lost per interruption M·(1 − g) = 36000 · 0.016553 = 595.9 s: about T/2 + R less the restarts Daly lets fail.
    expect(c.lostPerFailure).toBeCloseTo(36000 * (1 - 0.983447), 0);
  });

  it("QA's case: gpt3-like, 3M tokens = one 7.01 s step on 1,024 GPUs, storage at 10 MB/s → 7.05 s, 2.0 GPU-hours, no checkpoint", () => {
    // Kokolis's rate 6.5e-3/(8·24) per GPU-hour: M = 3600 / (1024 · 3.3854e-5) = 103,846 s; R = 600 s.
    // M·e^{R/M}·(e^{T/M} − 1) = 103846 · e^{0.0057778} · (e^{6.7504e-5} − 1) = 7.0509 s; 1,024 · 7.0509 / 3600 = 2.0056 GPU-hours.
    const i: RunInputs = { ...base, tokens: 3e6, gpus: 1024, tokensPerStep: 1536 * 2048, failuresPerGpuHour: 6.5e-3 / (8 * 24), checkpointBytes: 2.44e12, checkpointBandwidth: 1e7 };
    const e = runEstimate(7.01, i);
    expect(e.steps).toBe(1);
    expect(e.checkpoint.written).toBe(false);
    expect(e.wallSeconds).toBeCloseTo(7.0509, 3);
    expect(e.gpuHours).toBeCloseTo(2.0056, 3);
    // Nothing written, so the 68 h write neither stalls nor slows it: at 1 MB/s (a 678 h write) the same.
    const slow = runEstimate(7.01, { ...i, checkpointBandwidth: 1e6 });
    expect(runStall(slow, 600)).toBeNull();
    expect(slow.wallSeconds).toBe(e.wallSeconds);
  });

  it("a run a little longer than the interval, where one stretch without checkpoints expects less time, writes none either", () => {
    // T = 3000 s (1,667 steps of 1.8 s = 3000.6 s), δ = 100 s: checkpointing every 1,454 steps gives
    // 0.911978 (run.test.ts); no checkpoint gives 3000.6 / (36000 · 1.0168064 · (e^{3000.6/36000} − 1)) ≈ 0.94305.
    const run = 1667 * 1.8;
    const c = checkpointPlan(base, 1.8, run);
    expect([c.written, c.notWritten]).toEqual([false, "not worth it"]);
    expect(c.goodput).toBeCloseTo(run / (36000 * Math.exp(600 / 36000) * Math.expm1(run / 36000)), 12);
    expect(c.goodput).toBeGreaterThan(0.943);
    expect(c.goodput).toBeLessThan(0.9431);
  });

  it("a run long enough writes them as before: 1e4 steps of 1.8 s = 18,000 s, every 1,454 steps", () => {
    const e = runEstimate(1.8, base);
    expect([e.checkpoint.written, e.checkpoint.intervalSteps]).toEqual([true, 1454]);
    expect(e.goodput).toBeCloseTo(0.9119776, 7);
  });

  it("no failures: none written, goodput 1, the interval the run's length (not Infinity)", () => {
    const e = runEstimate(1.8, { ...base, failuresPerGpuHour: 0 });
    expect([e.checkpoint.written, e.checkpoint.notWritten, e.checkpoint.interval, e.goodput]).toEqual([false, "no failures", 18000, 1]);
  });
});

describe("the failure rate the reference supports (formulas-scale.md §4.3)", () => {
  it("Llama 3's 419 unexpected interruptions in 54 days on 16,384 H100: 419 / (54 · 24 · 16,384) = 1.97328e-5 per GPU-hour", () => {
    // Hand: 54 · 24 = 1,296 h; · 16,384 = 21,233,664 GPU-hours; 419 / 21,233,664 = 1.97328e-5.
    expect(FLEET_FAILURES_PER_GPU_HOUR).toBeCloseTo(1.97328e-5, 10);
    expect(RUN_DEFAULTS.failuresPerGpuHour.value).toBe(FLEET_FAILURES_PER_GPU_HOUR);
    const h100 = hardware("dgx-h100");
    expect(h100.run?.failuresPerGpuHour).toBeCloseTo(1.97328e-5, 10);
    expect(h100.sources["run.failuresPerGpuHour"]).toMatch(/Llama 3.*419/);
  });

  it("job MTBF 54 · 24 / 419 = 3.093 h at 16,384 GPUs (§4.3: ≈ 3.1 h); 49.49 h at 1,024; 419 interruptions in the 54 days", () => {
    expect(jobMtbf(16384, FLEET_FAILURES_PER_GPU_HOUR) / H).toBeCloseTo(3.0931, 4);
    // 1 / (1,024 · 1.97328e-5) = 49.489 h.
    expect(jobMtbf(1024, FLEET_FAILURES_PER_GPU_HOUR) / H).toBeCloseTo(49.489, 3);
    expect(expectedFailures(16384, 54 * 24, FLEET_FAILURES_PER_GPU_HOUR)).toBeCloseTo(419, 9);
  });

  it("against Kokolis et al.'s figures: their fit projects 1.80 h at 16,384 GPUs (1.7× sooner); their measured 7.9 h at 1,024 GPUs is 6.3× this rate", () => {
    // Fit: 6.5e-3 / (8 · 24) = 3.3854e-5 per GPU-hour → 1 / (16,384 · 3.3854e-5) = 1.803 h; 3.093 / 1.803 = 1.716.
    const fit = 6.5e-3 / (8 * 24);
    expect(jobMtbf(16384, fit) / H).toBeCloseTo(1.8029, 4);
    expect(jobMtbf(16384, FLEET_FAILURES_PER_GPU_HOUR) / jobMtbf(16384, fit)).toBeCloseTo(1.716, 3);
    // Measured: 1 / (7.9 · 1,024) = 1.2362e-4 per GPU-hour = 6.264 × 1.97328e-5: at 16,384 GPUs 0.494 h.
    expect(1 / (7.9 * 1024) / FLEET_FAILURES_PER_GPU_HOUR).toBeCloseTo(6.264, 3);
    // The A100 profiles keep the study's A100 fit, measured on that GPU.
    expect(hardware("dgx-a100-80g").run?.failuresPerGpuHour).toBeCloseTo(fit, 15);
  });
});

describe("each GPU profile's device-to-host copy (hardware.md, hardware-2026.md)", () => {
  it("PCIe 5.0 x16 ≈ 63 GB/s (H100 PCIe), PCIe 4.0 x16 ≈ 31.5 (A100 PCIe, L40S), NVLink-C2C 900 GB/s total = 450 each way (GB200)", () => {
    const staging = (name: string) => resolveRunFigures(hardware(name), "board", {}).stagingBandwidth;
    expect(staging("h100-pcie")).toMatchObject({ value: 63e9, from: "profile" });
    expect(staging("a100-pcie")).toMatchObject({ value: 31.5e9, from: "profile" });
    expect(staging("l40s-pcie")).toMatchObject({ value: 31.5e9, from: "profile" });
    expect(staging("gb200-nvl72")).toMatchObject({ value: 450e9, from: "profile" });
    // 10 GB of states a GPU: 10e9 / 63e9 = 0.159 s on H100 PCIe, not 10e9 / 31.5e9 = 0.317 s at the PCIe 4.0 default.
    const t = checkpointPlan({ ...base, checkpointBytesPerGpu: 10e9, stagingBandwidth: staging("h100-pcie").value, mode: "async" });
    expect(t.staging).toBeCloseTo(0.15873, 5);
  });

  it("every built-in GPU profile names its own (the CPU profile has no device to copy from)", () => {
    for (const name of builtinHardwareNames().filter((n) => n !== "cpu"))
      expect(resolveRunFigures(hardware(name), "board", {}).stagingBandwidth.from, name).toBe("profile");
  });
});

describe("the checkpoint holds the states the engine keeps", () => {
  const m = preset("llama2-7b");
  const train = (engine: string, optimizerStates?: "bf16") => ({
    gpus: 8, globalBatch: 8, seqLen: 4096, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true,
    engine: loadEngine(engine), ...(optimizerStates ? { optimizerStates } : {}),
  });
  const params = stageParamsPerGpu(m, 4096, 1, 1, m.layers, "only");

  it("Megatron: 16-bit weights + fp32 master + two fp32 moments = 2 + 4 + 8 = 14 bytes a parameter (10 with bf16 moments)", () => {
    expect(checkpointBytes(m, train("megatron-core"))).toBe(14 * params);
    expect(checkpointBytes(m, train("megatron-core", "bf16"))).toBe(10 * params);
  });

  it("FSDP, torchtitan: the sharded fp32 parameters are the master, no 16-bit copy: 4 + 4 + 4 = 12 bytes a parameter", () => {
    // Hand: llama2-7b's 6.74e9 parameters · 12 = 80.9 GB, against 94.4 GB at Megatron's 14.
    expect(checkpointBytes(m, train("fsdp"))).toBe(12 * params);
    expect(checkpointBytes(m, train("torchtitan"))).toBe(12 * params);
    expect(params).toBeGreaterThan(6.7e9);
    expect(params).toBeLessThan(6.8e9);
  });
});
