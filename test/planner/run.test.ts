// The whole run (planner/run/): Young/Daly intervals and goodput against hand-computed values,
// the run estimate's arithmetic and the input parsers.
import { describe, expect, it } from "vitest";
import {
  type SweepPoint,
  checkpointPlan,
  cheapestWithin,
  resolveRunFigures,
  scalingOf,
  sweepPoint,
  dalyInterval,
  goodputOf,
  jobMtbf,
  DURATION_UNITS,
  parseDuration,
  parseGpuList,
  parseTokens,
  runEstimate,
  runStall,
  youngInterval,
} from "../../planner/run/index.js";
import { parseHardwareFile } from "../../planner/schema/hardware.js";
import { search } from "../../planner/search.js";
import { simulateTop } from "../../planner/sim/rescore.js";
import { hardware, preset, rawHardware, RUN_BASE } from "./fixtures.js";

const MIN = 60;
const H = 3600;

describe("checkpoint interval (Young 1974, Daly 2006)", () => {
  it("Young: √(2δM) = √(2 · 300 s · 86,400 s) = 7,200 s", () => {
    expect(youngInterval(300, 24 * H)).toBeCloseTo(7200, 9);
  });

  it("Daly reproduces his Fig. 3–5 (δ = 5 min; M = 24 h, 6 h, 15 min → 117, 57, 9.1 min)", () => {
    // Hand: √(2·300·86400) = 7200; x = 300/172800 = 0.0017361; 7200·(1 + √x/3 + x/9) − 300 = 7001.39 s = 116.69 min.
    expect(dalyInterval(5 * MIN, 24 * H) / MIN).toBeCloseTo(116.69, 2);
    expect(dalyInterval(5 * MIN, 6 * H) / MIN).toBeCloseTo(56.71, 2);
    expect(dalyInterval(5 * MIN, 15 * MIN) / MIN).toBeCloseTo(9.14, 2);
    // δ ≥ 2M: checkpoint once per MTBF.
    expect(dalyInterval(3 * H, H)).toBe(H);
  });

  it("goodput from Daly's expected wall time: M = 24 h, R = 10 min, δ = 5 min, τ = 7001.39 s → 0.91261", () => {
    // Hand: (τ+δ)/M = 0.0845068, e^x − 1 = 0.0881801; e^{R/M} = 1.0069686; 86400 · 1.0069686 · 0.0881801 = 7671.7;
    // 7001.39 / 7671.7 = 0.91261.
    expect(goodputOf(7001.388888888888, 300, 600, 24 * H)).toBeCloseTo(0.91261, 5);
  });

  it("agrees within 1% with Meta's first-order ETTR estimate at Llama 3's scale (Kokolis et al. 2025)", () => {
    // E[ETTR] ≈ (1 − (u0 + Δt/2)/M) / (1 + w/Δt): M = 1.8 h, w = 2.84 s (5.68 TB at 2 TB/s), u0 = 10 min.
    const M = 1.8 * H;
    const w = 2.84;
    const tau = dalyInterval(w, M);
    const meta = (1 - (600 + tau / 2) / M) / (1 + w / tau);
    expect(Math.abs(goodputOf(tau, w, 600, M) - meta)).toBeLessThan(0.01);
  });

  it("without failures goodput is τ/(τ+δ); with faster failures it falls", () => {
    expect(goodputOf(900, 100, 600, Infinity)).toBeCloseTo(0.9, 12);
    expect(goodputOf(900, 100, 600, 10 * H)).toBeLessThan(goodputOf(900, 100, 600, 100 * H));
  });
});

const base = RUN_BASE;

describe("checkpointing under failures", () => {
  it("job MTBF is 1/(N·rate): 1,000 GPUs at 1e-4 per GPU-hour → 10 h", () => {
    expect(jobMtbf(1000, 1e-4)).toBeCloseTo(36000, 6);
    expect(jobMtbf(8, 0)).toBe(Infinity);
  });

  it("sync: blocks for the write (1 TB at 10 GB/s = 100 s), Daly's interval, goodput by hand", () => {
    const c = checkpointPlan(base);
    expect(c.blocking).toBeCloseTo(100, 9);
    expect(c.persist).toBeCloseTo(100, 9);
    // Hand: √(2·100·36000) = 2683.28; x = 100/72000; ×(1 + √x/3 + x/9) = ×1.012577 → 2717.03 − 100 = 2617.03 s.
    expect(c.interval).toBeCloseTo(2617.03, 1);
    expect(c.goodput).toBeCloseTo(0.91198, 4);
    // Loss per interruption, M·(1 − g·(1 + δ/τ)): 36000 · (1 − 0.91198 · 1.038211) = 1914.2 s, the
    // wall-clock time neither training nor writing over wall/M interruptions; first order
    // (formulas-scale §4.2) it is (τ + δ)/2 + R = 1958.5 s, 2.3% more.
    expect(c.lostPerFailure).toBeCloseTo(1914.2, 0);
    expect(Math.abs(c.lostPerFailure / ((2617.03 + 100) / 2 + 600) - 1)).toBeLessThan(0.025);
  });

  it("async: blocks only for the device-to-host copy; the write sets the interval when longer than the optimum", () => {
    const c = checkpointPlan({ ...base, mode: "async" });
    expect(c.blocking).toBeCloseTo(0.1, 9);
    expect(c.persist).toBeCloseTo(100, 9);
    // Daly's optimum for δ = 0.1 s is 84.8 s, shorter than the 100 s write.
    expect(c.intervalIsPersist).toBe(true);
    expect(c.interval).toBeCloseTo(100, 9);
    // Hand: 100 / (36000 · e^{700/36000} · (e^{100.1/36000} − 1)) = 0.97840 (restart 600 s + the 100 s write).
    expect(c.goodput).toBeCloseTo(0.9784, 4);
    // 36000 · (1 − 0.97840 · (1 + 0.1/100)) = 742.3 s; first order (τ + δ)/2 + R + the write = 750.05 s.
    expect(c.lostPerFailure).toBeCloseTo(742.3, 0);
  });

  // At 10 MB/s async came out 344 days against sync's 223: its interval stretched to the write
  // and an interruption lost the write in flight. Async may always wait for each write instead.
  it("async on storage too slow to overlap waits for each write, as sync: never worse than sync", () => {
    // 1 TB at 10 MB/s: a 100,000 s write against a 10 h MTBF (at 100 MB/s async still wins).
    const slow = { ...base, checkpointBandwidth: 1e7 };
    expect(checkpointPlan({ ...base, checkpointBandwidth: 1e8, mode: "async" }).asyncWaits).toBeUndefined();
    const sync = checkpointPlan(slow);
    const async = checkpointPlan({ ...slow, mode: "async" });
    expect(async.asyncWaits).toBe(true);
    expect(async.goodput).toBe(sync.goodput);
    expect(async.blocking).toBe(sync.blocking);
    // On fast storage async overlaps and wins, as before.
    const fast = checkpointPlan({ ...base, mode: "async" });
    expect(fast.asyncWaits).toBeUndefined();
    expect(fast.goodput).toBeGreaterThan(checkpointPlan(base).goodput);
  });

  // A checkpoint falls between optimizer steps (Megatron's --save-interval counts iterations): the
  // interval printed as "every 26.56 s of compute" beside 50.8 s steps could not be run.
  it("the interval is whole steps, at least one: a 5,000 s step against Daly's 2,617 s optimum checkpoints every step", () => {
    const c = checkpointPlan(base, 5000);
    expect(c.optimum).toBeCloseTo(2617.03, 1);
    expect([c.intervalSteps, c.interval]).toEqual([1, 5000]);
    // Daly 2006 (formulas-scale.md §4.2) at τ = 5000: 5000 / (36000 · e^{600/36000} · (e^{5100/36000} − 1)) = 0.897503.
    expect(c.goodput).toBeCloseTo(0.897503, 6);
    // 1.8 s steps: 2617.03 / 1.8 = 1453.9; of 1,453 and 1,454 steps Daly's goodput prefers 1,454.
    const fine = checkpointPlan(base, 1.8);
    expect(fine.intervalSteps).toBe(1454);
    expect(fine.interval).toBeCloseTo(1454 * 1.8, 9);
    expect(fine.goodput).toBeCloseTo(0.9119776, 7);
  });

  it("async: whole steps no sooner than the write is on storage (100 s write, 30 s steps → 4 steps, not 3)", () => {
    const c = checkpointPlan({ ...base, mode: "async" }, 30);
    expect([c.intervalSteps, c.interval, c.intervalIsPersist]).toEqual([4, 120, true]);
    // 120 / (36000 · e^{700/36000} · (e^{120.1/36000} − 1)) = 0.978293.
    expect(c.goodput).toBeCloseTo(0.978293, 6);
  });

  it("a GPU's own copy bounds the write when the storage is faster than the GPUs", () => {
    const c = checkpointPlan({ ...base, gpus: 8, checkpointBytes: 8e9, checkpointBandwidth: 1e13, checkpointBytesPerGpu: 1e9, stagingBandwidth: 1e9 });
    expect(c.persist).toBeCloseTo(1, 9);
  });
});

describe("runEstimate", () => {
  it("no failures: 1e4 steps × 1.8 s = 5 h on 1,000 GPUs → 5,000 GPU-hours, 3 MWh, $10,000", () => {
    const r = runEstimate(1.8, { ...base, failuresPerGpuHour: 0 });
    expect(r.steps).toBe(1e4);
    expect(r.goodput).toBe(1);
    expect(r.wallSeconds).toBeCloseTo(18000, 6);
    expect(r.days).toBeCloseTo(18000 / 86400, 9);
    expect(r.gpuHours).toBeCloseTo(5000, 6);
    // 5000 GPU-h × 500 W × PUE 1.2 = 3,000 kWh = 3 MWh.
    expect(r.energyMWh).toBeCloseTo(3, 9);
    expect(r.cost).toBeCloseTo(10000, 6);
    expect(r.failures).toBe(0);
    expect(r.lostSeconds).toBe(0);
    // No interruption expected: no loss per one to give (it read the 600 s restart).
    expect(r.checkpoint.lostPerFailure).toBeNaN();
  });

  it("with failures: wall = ideal / goodput, interruptions = N · hours · rate", () => {
    const r = runEstimate(1.8, base);
    // Hand: 18000 / 0.911978 = 19737.3 s; 1000 · 5.4826 h · 1e-4 = 0.54826.
    expect(r.wallSeconds).toBeCloseTo(19737.3, 0);
    expect(r.gpuHours).toBeCloseTo(5482.59, 1);
    expect(r.failures).toBeCloseTo(0.548259, 5);
    expect(r.lostSeconds).toBeCloseTo(r.failures * r.checkpoint.lostPerFailure, 6);
    expect(runEstimate(1.8, { ...base, price: null, powerPerGpu: null })).toMatchObject({ cost: null, energyMWh: null });
  });
});

describe("runStall: a run whose goodput is under 1% is refused, naming its figures", () => {
  it("M = 3600 / (1000 · 0.03564) = 101 s against a 10 min restart: \"101 s\", not \"1.0e+2 s\"", () => {
    // δ = 1 TB / 10 TB/s = 0.1 s (each GPU's 1 GB at 10 GB/s too); Daly's τ ≈ √(2·0.1·101) = 4.5 s;
    // T_w/T_s = 101·e^{600/101}·(e^{4.6/101} − 1)/4.5 ≈ 400: goodput ≈ 0.25%.
    const e = runEstimate(1.8, { ...base, failuresPerGpuHour: 3600 / (101 * 1000), checkpointBandwidth: 1e13 });
    expect(e.checkpoint.jobMtbf).toBeCloseTo(101, 9);
    expect(e.goodput).toBeGreaterThan(0.002);
    expect(e.goodput).toBeLessThan(0.003);
    expect(runStall(e, 600)?.message).toBe(
      `the run hardly progresses (goodput ${(100 * e.goodput).toFixed(1)}%): interruptions every 101 s on average against a restart of 10 min and a checkpoint write of 0.10 s; check the failure rate, the restart time and the checkpoint bandwidth`,
    );
  });
});

// The failure rate's figures (Llama 3, Kokolis et al.) are checked in run-short.test.ts.

describe("parsers", () => {
  it("token counts", () => {
    expect(parseTokens("15.6T")).toEqual({ ok: true, value: 15.6e12 });
    expect(parseTokens("300B")).toEqual({ ok: true, value: 300e9 });
    expect(parseTokens("2e12")).toEqual({ ok: true, value: 2e12 });
    expect(parseTokens("500m")).toEqual({ ok: true, value: 500e6 });
    for (const bad of ["", "T", "-5T", "0", "1.5X", "abc", "1e20"]) expect(parseTokens(bad).ok, bad).toBe(false);
    // Whole tokens only: 1.5 and 2.0005k (2,000.5) are not; 1.5k (1,500), 1.0005k (1,000.5 → no),
    // 15.6T read as the literal 15.6e12 = 15,600,000,000,000 (15.6 × 1e12 is 15,600,000,000,000.002).
    for (const frac of ["1.5", "2.0005k", "1.0005k", "2.5e0"]) expect(parseTokens(frac), frac).toEqual({ ok: false, message: `"${frac}" is not a whole number of tokens; write a count like 2, 1.5k or 15.6T` });
    expect(parseTokens("1.5k")).toEqual({ ok: true, value: 1500 });
    expect(parseTokens("15.6T").ok && Number.isInteger(15.6e12)).toBe(true);
    expect(parseTokens("1.5e1")).toEqual({ ok: true, value: 15 });
    expect(parseTokens("2.5e-1k")).toEqual({ ok: true, value: 250 });
  });

  it("durations", () => {
    expect(parseDuration("90d")).toEqual({ ok: true, value: 90 * 86400 });
    expect(parseDuration("12h", ["h", "d", "w"])).toEqual({ ok: true, value: 12 * 3600 });
    expect(parseDuration("2w")).toEqual({ ok: true, value: 2 * 604800 });
    expect(parseDuration("10min")).toEqual({ ok: true, value: 600 });
    for (const bad of ["90", "d", "0d", "-1d", "5y"]) expect(parseDuration(bad).ok, bad).toBe(false);
    expect(parseDuration("30s", ["h", "d", "w"]).ok).toBe(false);
    // Zero is a duration, refused as one ("must be above zero") unless asked for (--restart-time).
    expect(parseDuration("0d")).toEqual({ ok: false, message: '"0d" must be above zero' });
    expect(parseDuration("0s", ["s", "min", "m", "h"], true)).toEqual({ ok: true, value: 0 });
    // Exponents read as --tokens reads them: 1e9h = 3.6e12 s, past 100 years (3.1536e9 s), is too
    // long as 1000000h (3.6e9 s) is, not "not a duration"; 1e400h overflows to Infinity: too long.
    for (const long of ["1e9h", "1000000h", "1e400h"]) expect(parseDuration(long), long).toEqual({ ok: false, message: `"${long}" is too long: at most 100 years` });
    expect(parseDuration("1.5e1min")).toEqual({ ok: true, value: 900 });
    // The units' names, singular or plural, as a profile writes them (mathjs took "1 day").
    expect(parseDuration("1 day")).toEqual({ ok: true, value: 86400 });
    expect(parseDuration("3 hours", ["h", "d", "w"])).toEqual({ ok: true, value: 3 * 3600 });
    expect(parseDuration("2 weeks")).toEqual({ ok: true, value: 2 * 604800 });
    expect(parseDuration("1 day", ["s", "min", "m", "h"]).ok).toBe(false); // days not taken there
    // Zero in any unit, or none; a negative one said as such (it was "not a duration").
    expect(parseDuration("0", DURATION_UNITS, true)).toEqual({ ok: true, value: 0 });
    expect(parseDuration("0")).toEqual({ ok: false, message: '"0" must be above zero' });
    expect(parseDuration("0s", ["h", "d", "w"])).toEqual({ ok: false, message: '"0s" must be above zero' });
    expect(parseDuration("-1d")).toEqual({ ok: false, message: '"-1d" is negative; give a duration above zero, like 90d' });
    expect(parseDuration("10 Minutes")).toMatchObject({ ok: false, message: expect.stringMatching(/Minutes is not minutes/) });
  });

  it("GPU lists: powers of two between the bounds, or a comma list; bounded", () => {
    expect(parseGpuList("256..16384", 1 << 20)).toEqual({ ok: true, value: [256, 512, 1024, 2048, 4096, 8192, 16384] });
    expect(parseGpuList("300..1000", 1 << 20)).toEqual({ ok: true, value: [512] });
    expect(parseGpuList("4096, 256,1000,256", 1 << 20)).toEqual({ ok: true, value: [256, 1000, 4096] });
    for (const bad of ["16384..256", "0..8", "a,b", "8..", "1..2000000", "3..3"]) expect(parseGpuList(bad, 1 << 20).ok, bad).toBe(false);
    expect(parseGpuList(Array.from({ length: 30 }, (_, i) => i + 1).join(","), 1 << 20).ok).toBe(false);
  });
});

describe("cheapestWithin (the deadline's pick)", () => {
  const point = (gpus: number, days: number, cost: number | null, gpuHours: number) =>
    ({ gpus, run: { wallSeconds: days * 86400, cost, gpuHours } }) as unknown as SweepPoint;

  it("the cheapest count that meets the deadline, else null", () => {
    const pts = [point(256, 120, 100, 1), point(512, 61, 105, 2), point(1024, 31, 110, 3), point(2048, 16, 140, 4)];
    expect(cheapestWithin(pts, 90 * 86400)?.gpus).toBe(512);
    expect(cheapestWithin(pts, 20 * 86400)?.gpus).toBe(2048);
    expect(cheapestWithin(pts, 10 * 86400)).toBeNull();
  });

  it("without a price, by GPU-hours", () => {
    const pts = [point(256, 50, null, 300), point(512, 26, null, 310)];
    expect(cheapestWithin(pts, 60 * 86400)?.gpus).toBe(256);
  });

  it("at a price of 0 every count costs $0: fewer GPU-hours decide, as without a price (the same order at any price)", () => {
    const pts = [point(256, 50, 0, 300), point(512, 26, 0, 310)];
    expect(cheapestWithin(pts, 60 * 86400)?.gpus).toBe(256);
    // Equal GPU-hours too: the shorter run.
    expect(cheapestWithin([point(256, 50, 0, 300), point(512, 25, 0, 300)], 60 * 86400)?.gpus).toBe(512);
  });

  it("counts the GPUs each count holds per GPU it uses (--gpus-per-domain: whole racks, idle GPUs included)", () => {
    // 512 at 64 a rack holds 8 racks of 72 (×1.125): $100 used, $112.5 held; 520 holds 9 (648
    // GPUs, ×1.246): $95 used, $118.4 held. On the GPUs used 520 looked cheaper; held, 512 is.
    const pts = [point(512, 30, 100, 10), point(520, 29, 95, 9.5)];
    const held = (gpus: number) => (Math.ceil(gpus / 64) * 72) / gpus;
    expect(cheapestWithin(pts, 60 * 86400)?.gpus).toBe(520);
    expect(cheapestWithin(pts, 60 * 86400, held)?.gpus).toBe(512);
    // without a price, the GPU-hours held: 11.25 against 11.84
    expect(cheapestWithin([point(512, 30, null, 10), point(520, 29, null, 9.5)], 60 * 86400, held)?.gpus).toBe(512);
  });
});

describe("a profile's run section", () => {
  const withRun = (run: unknown) => ({ ...(rawHardware("dgx-h100") as object), run });

  it("parses each figure to SI with its source; figures left out stay absent", () => {
    const r = parseHardwareFile(withRun({ nodePower: { value: "10.2 kW", source: "guide" }, restartTime: "10 min", checkpointBandwidth: "500 GB/s", pue: 1.2 }), "x.json");
    if (!r.ok) throw new Error(r.message);
    expect(r.value.run).toEqual({ nodePower: 10200, restartTime: 600, checkpointBandwidth: 5e11, pue: 1.2 });
    expect(r.value.sources["run.nodePower"]).toBe("guide");
  });

  // A power-capped part extending dgx-h100 inherited its 700 W board power: energy at 700 W for
  // a board that draws at most 500.
  it("the board power is at most the part's power limit", () => {
    const raw = rawHardware("dgx-h100") as { gpu: object };
    const capped = parseHardwareFile({ ...raw, gpu: { ...raw.gpu, powerLimit: 500, ratedPower: 700 } }, "x.json");
    if (!capped.ok) throw new Error(capped.message);
    expect(capped.value.run?.boardPower).toBe(700);
    const f = resolveRunFigures(capped.value, "board", {});
    expect(f.power?.value).toBe(500);
    expect(f.power?.source).toMatch(/^gpu\.powerLimit 500 W, below run\.boardPower 700 W/);
    // with units, as the run section's powers take them ("500 W" was "expected number")
    const units = parseHardwareFile({ ...raw, gpu: { ...raw.gpu, powerLimit: "0.5 kW", ratedPower: { value: "700 W", source: "TDP" } } }, "x.json");
    if (!units.ok) throw new Error(units.message);
    expect([units.value.powerLimit, units.value.computeThrottle]).toEqual([500, capped.value.computeThrottle]);
    const zero = parseHardwareFile({ ...raw, gpu: { ...raw.gpu, powerLimit: "0 W", ratedPower: 700 } }, "x.json");
    expect(zero.ok ? "" : zero.message).toBe('x.json: field "gpu.powerLimit": "0 W" must be above zero; give a GPU\'s board power from 10 W to 5 kW, like 700 W');
    // A board cannot be set above its rated power: 800 W of 700 (was priced as 700 W) is refused.
    const above = parseHardwareFile({ ...raw, gpu: { ...raw.gpu, powerLimit: 800, ratedPower: 700 } }, "x.json");
    expect(above.ok ? "" : above.message).toBe('x.json: field "gpu.powerLimit" (800 W) is above "gpu.ratedPower" (700 W): a board cannot be set above its rated power, so it is no cap');
    const atRating = parseHardwareFile({ ...raw, gpu: { ...raw.gpu, powerLimit: 700, ratedPower: 700 } }, "x.json");
    if (!atRating.ok) throw new Error(atRating.message);
    expect([resolveRunFigures(atRating.value, "board", {}).power?.value, atRating.value.computeThrottle]).toEqual([700, undefined]);
  });

  it("refuses a figure in the wrong unit, a PUE below 1 and unknown keys, naming the field", () => {
    const bad = (run: unknown) => {
      const r = parseHardwareFile(withRun(run), "x.json");
      return r.ok ? "" : r.message;
    };
    expect(bad({ boardPower: "700 GB" })).toMatch(/run\.boardPower/);
    expect(bad({ pue: 0.9 })).toMatch(/run\.pue/);
    expect(bad({ mtbf: 3 })).toMatch(/unknown field "mtbf"/);
    expect(bad({ stagingBandwidth: "0 GB/s" })).toMatch(/field "run\.stagingBandwidth": "0 GB\/s" must be above zero/);
  });
});

describe("sweepPoint: the best plan at one count", () => {
  const m = preset("gpt3-350m");
  const hw = hardware("dgx-h100");
  const t = { gpus: 16, globalBatch: 256, seqLen: 2048, precision: "bf16" as const, fusedAttention: true, overlapGradReduce: true };
  const f = resolveRunFigures(hw, "board", {});

  it("keeps the fastest of the closed form's best 3 as simulated, and times the run by its simulated step", () => {
    const p = sweepPoint(m, hw, t, {}, f, { tokens: 30e9, price: 2, mode: "sync" });
    const top = search(m, hw, t, {}, { top: 3 }).plans;
    const r = simulateTop(m, hw, t, top);
    expect(p.simulated).toBe(true);
    expect(p.plan).toEqual(top[r.fastest]);
    expect(p.step).toBe(r.simulated[r.fastest]!.step);
    // Whole steps: ⌈30e9 / (256 · 2048)⌉ = 57,221.
    expect(p.run!.idealSeconds).toBeCloseTo(57_221 * p.step, 6);
    expect(p.tokensPerGpuSecond).toBeCloseTo((256 * 2048) / p.step / 16, 9);
    expect(p.mfu).toBeCloseTo((p.plan!.mfu * p.plan!.time.step) / p.step, 12);
  });

  it("scaling is per-GPU throughput against the smallest count with a plan", () => {
    const pt = (gpus: number, tokensPerGpuSecond: number, plan: boolean) => ({ gpus, tokensPerGpuSecond, plan: plan ? {} : null }) as unknown as SweepPoint;
    expect(scalingOf([pt(8, 0, false), pt(16, 1000, true), pt(32, 900, true)])).toEqual([null, 1, 0.9]);
  });
});
