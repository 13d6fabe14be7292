// Calibration on synthetic run directories whose measured step times come from the planner with
// known scale factors on the profile's efficiencies: the fit must recover them.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrateCommand } from "../../src/commands/calibrate.js";
import { loadModel, loadProfile } from "../../src/load.js";
import { type Multipliers, bounds, fitScales, heldReason, predictStep, scaledHardware } from "../../src/profile/calibrate/fit.js";
import { type RunCase, readRun } from "../../src/profile/calibrate/runs.js";
import { readProfile } from "../../src/profile/files.js";
import type { ModelSpec, Plan } from "../../planner/index.js";
import { ROOT, capture, tmp } from "./helpers.js";

interface Spec {
  model: Partial<ModelSpec>;
  plan: Partial<Plan>;
  globalBatch: number;
  fused?: boolean;
}

const PLAN: Plan = { tp: 1, pp: 1, dp: 2, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };

/** Seven runs of different shapes: attention-heavy (long sequences), memory-bound-heavy (narrow
 *  layers, unfused softmax), matmul-heavy (wide layers). */
const SPECS: Spec[] = [
  { model: {}, plan: { microBatch: 4 }, globalBatch: 8 },
  { model: { defaultSeqLen: 512 }, plan: { microBatch: 1 }, globalBatch: 4, fused: false },
  { model: { hidden: 512, heads: 8, ffnHidden: 2048, defaultSeqLen: 64 }, plan: { microBatch: 2 }, globalBatch: 8 },
  { model: { hidden: 128, heads: 2, ffnHidden: 512, defaultSeqLen: 1024 }, plan: { microBatch: 1 }, globalBatch: 2 },
  { model: { hidden: 1024, heads: 16, ffnHidden: 4096, defaultSeqLen: 128, layers: 2 }, plan: { tp: 2, dp: 1, microBatch: 2 }, globalBatch: 4 },
  { model: { hidden: 32, heads: 2, ffnHidden: 128, defaultSeqLen: 256 }, plan: { microBatch: 8 }, globalBatch: 16, fused: false },
  { model: { defaultSeqLen: 128 }, plan: { pp: 2, dp: 1, microBatch: 1 }, globalBatch: 8 },
];

/** A run directory as paraplan execute writes it, with a measured step time. */
function writeRun(dir: string, s: Spec, measured: (c: RunCase) => number, profile = "cpu"): RunCase {
  const model = { ...loadModel("tiny"), ...s.model };
  model.kvHeads = model.heads;
  const plan = { ...PLAN, ...s.plan };
  const gpus = plan.tp * plan.pp * plan.dp;
  mkdirSync(dir, { recursive: true });
  const planJson: Record<string, unknown> = { model: model.name, profile, device: "cpu", gpus, nnodes: 1, globalBatch: s.globalBatch, seqLen: model.defaultSeqLen, precision: "bf16", plans: [plan] };
  if (s.fused === false) planJson.fusedAttention = false;
  writeFileSync(join(dir, "plan.json"), JSON.stringify(planJson));
  // launch.json's model in the file form: its seqLen is the model file's key.
  const { globalBatch: _g, gpus: _n, defaultSeqLen: seqLen, ...rest } = model;
  const launchModel = { ...rest, seqLen };
  writeFileSync(join(dir, "launch.json"), JSON.stringify({ version: 1, device: "cpu", model: launchModel, plan, training: { globalBatch: s.globalBatch, seqLen, precision: "bf16" } }));
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ plan, measured: { stepTime: 1 } }));
  const c = readRun(dir);
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ plan, measured: { stepTime: measured(c) } }));
  return readRun(dir);
}

const TRUE: Multipliers = { matmul: 1 / 0.4, attention: 1 / 0.15, memory: 1 / 0.7 };

function runs(specs: Spec[], x: Multipliers, profile = "cpu"): { dirs: string[]; cases: RunCase[] } {
  const hw = loadProfile(profile);
  const root = tmp("paraplan-cal-");
  const dirs = specs.map((_, i) => join(root, `run${i + 1}`));
  const cases = specs.map((s, i) => writeRun(dirs[i]!, s, (c) => predictStep(scaledHardware(hw, x), c), profile));
  return { dirs, cases };
}

describe("run directories", () => {
  it("read model, plan, training and the measured step; metrics.jsonl when there is no summary", () => {
    const { dirs, cases } = runs(SPECS.slice(0, 2), TRUE);
    expect(cases[0]).toMatchObject({ profile: "cpu", gpusPerNode: 2, plan: { dp: 2, microBatch: 4 }, training: { gpus: 2, globalBatch: 8, fusedAttention: true } });
    expect(cases[1]!.training.fusedAttention).toBe(false);
    // Predicted with the worker's engine profile, as execute predicted the run: an old run that
    // does not record it is the eager worker's (launch.json execution.compile absent).
    expect(cases[0]!.training.engine?.name).toBe("paraplan");
    expect(cases[0]!.assumed.join()).toMatch(/engine paraplan \(the run does not record it\)/);
    const d = dirs[0]!;
    const planJson = JSON.parse(readFileSync(join(d, "plan.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(d, "plan.json"), JSON.stringify({ ...planJson, engine: "paraplan-compile" }));
    expect([readRun(d).training.engine?.name, readRun(d).assumed]).toEqual(["paraplan-compile", []]);
    writeFileSync(join(d, "plan.json"), JSON.stringify(planJson));
    const summary = JSON.parse(readFileSync(join(d, "summary.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(d, "summary.json"), JSON.stringify({ ...summary, execution: { engine: "paraplan-compile" } }));
    expect(readRun(d).training.engine?.name).toBe("paraplan-compile");
    writeFileSync(join(d, "plan.json"), JSON.stringify({ ...planJson, engine: "no-such-engine" }));
    expect(() => readRun(d)).toThrow(/no-such-engine/);
    writeFileSync(join(d, "plan.json"), JSON.stringify(planJson));
    // Without summary.json: the mean over the steps the worker times for 6 steps (executor/worker/
    // main.py timed_steps: not the warm-up 1, the instrumented 2 nor the traced 6), (0.2 + 0.3 +
    // 0.25) / 3 = 0.25; the median of steps 2.. would be 0.3.
    rmSync(join(d, "summary.json"));
    const launch = JSON.parse(readFileSync(join(d, "launch.json"), "utf8")) as { training: Record<string, unknown> };
    writeFileSync(join(d, "launch.json"), JSON.stringify({ ...launch, training: { ...launch.training, steps: 6 } }));
    writeFileSync(join(d, "metrics.jsonl"), [0.9, 0.5, 0.2, 0.3, 0.25, 0.7].map((t, i) => JSON.stringify({ step: i + 1, stepTime: t })).join("\n") + "\n");
    expect(readRun(d).measured).toBeCloseTo(0.25, 12);
    // A summary that records no step time is corrupt, not a reason to fall back.
    writeFileSync(join(d, "summary.json"), "{}");
    expect(() => readRun(d)).toThrow(/summary\.json: corrupt summary: measured\.stepTime is undefined/);
  });
});

describe("the fit", () => {
  it("recovers three known factors from seven runs of different shapes", () => {
    const { cases } = runs(SPECS, TRUE);
    const hw = loadProfile("cpu");
    const fit = fitScales(hw, cases);
    expect(fit.mode).toBe("separate");
    expect(fit.fitted).toEqual(["matmul", "attention", "memory"]);
    expect(fit.multipliers.matmul).toBeCloseTo(TRUE.matmul, 6);
    expect(fit.multipliers.attention).toBeCloseTo(TRUE.attention, 6);
    expect(fit.multipliers.memory).toBeCloseTo(TRUE.memory, 6);
    fit.after.forEach((t, i) => expect(t / cases[i]!.measured).toBeCloseTo(1, 9));
    fit.before.forEach((t, i) => expect(Math.abs(t / cases[i]!.measured - 1)).toBeGreaterThan(0.2));
  });

  it("two runs cannot separate the factors: one common factor, recovered when the truth is common", () => {
    const x = { matmul: 3, attention: 3, memory: 3 };
    const { cases } = runs(SPECS.slice(0, 2), x);
    const fit = fitScales(loadProfile("cpu"), cases);
    expect(fit.mode).toBe("common");
    expect(fit.multipliers.matmul).toBeCloseTo(3, 8);
    expect(fit.multipliers.memory).toBe(fit.multipliers.matmul);
    expect(fit.notes.join()).toMatch(/2 run\(s\) cannot separate matmul, attention, memory/);
    expect(() => fitScales(loadProfile("cpu"), cases, { mode: "separate" })).toThrow(/need at least 3 runs/);
  });

  it("keeps every efficiency in (0, 1]: runs faster than efficiency 1 allows stop at the bound", () => {
    const hw = loadProfile("cpu");
    const { cases } = runs(SPECS.slice(0, 3), { matmul: 0.2, attention: 0.2, memory: 0.2 });
    const fit = fitScales(hw, cases, { mode: "common" });
    const b = bounds(hw);
    expect(fit.multipliers.matmul).toBeCloseTo(Math.max(b.matmul[0], b.attention[0], b.memory[0]), 12);
    expect(fit.atBound).toEqual(["matmul", "attention", "memory"]);
    const s = scaledHardware(hw, fit.multipliers);
    for (const e of [...s.matmul.points.map((p) => p[1]), s.attentionEfficiency, s.memoryBandwidthEfficiency]) expect(e).toBeLessThanOrEqual(1 + 1e-12);
    expect(fit.notes.join()).toMatch(/held at efficiency 1/);
  });
});

describe("a fit a hair inside its bound", () => {
  // QA: scale.matmul 1.4285712960 (1/0.7; the top matmul point 0.9999999) with atBound [] — the
  // relative tolerance 1e-9 missed the bound by ~1e-7.
  it("is held at the bound, says so, and writes efficiency 1 exactly", () => {
    const hw = loadProfile("cpu");
    const b = bounds(hw);
    // The common factor's lower bound is the largest knob's (bounds: multiplier = efficiency, so
    // the knob at its top point reaches 1); the truth sits 5e-8 inside it.
    const L = Math.max(b.matmul[0], b.attention[0], b.memory[0]);
    const near = L * (1 + 5e-8);
    const { cases } = runs(SPECS.slice(0, 3), { matmul: near, attention: near, memory: near });
    const fit = fitScales(hw, cases, { mode: "common" });
    expect(fit.multipliers.matmul).toBe(L);
    expect(fit.atBound).toEqual(["matmul", "attention", "memory"]);
    expect(fit.notes).toContain("matmul: held at efficiency 1 (the runs were faster than the profile allows even then)");
    // The knob that set L now writes efficiency exactly 1; none above.
    const s = scaledHardware(hw, fit.multipliers);
    const effs = [Math.max(...s.matmul.points.map((p) => p[1])), s.attentionEfficiency, s.memoryBandwidthEfficiency];
    expect(Math.max(...effs)).toBe(1);
    // A truth 1e-4 inside the bound is fitted, not held: the tolerance is 1e-6.
    const inside = L * (1 + 1e-4);
    const free = fitScales(hw, runs(SPECS.slice(0, 3), { matmul: inside, attention: inside, memory: inside }).cases, { mode: "common" });
    expect(free.atBound).toEqual([]);
    expect(free.multipliers.matmul / inside).toBeCloseTo(1, 7);
  });
});

describe("paraplan calibrate", () => {
  it("writes a profile extending the runs' profile with the fitted data, and prints errors before and after", () => {
    const { dirs } = runs(SPECS, TRUE);
    const out = join(tmp(), "cpu-cal.json");
    const c = capture();
    expect(calibrateCommand([...dirs, "--out", out], c.io)).toBe(0);
    const text = c.stdout();
    expect(text).toMatch(/calibrating cpu on 7 run\(s\)/);
    expect(text).toMatch(/matmul efficiency table \(its highest point\) × 0\.4: 0\.7 → 0\.28/);
    expect(text).toMatch(/attention efficiency × 0\.15: 0\.1 → 0\.015/);
    expect(text).toMatch(/memory-bound efficiency × 0\.7: 0\.6 → 0\.42/);
    expect(text).toMatch(/mean \|error\|: before \d+%, after 0\.0% \(in-sample\)$/m);
    expect(text).toMatch(/run1 .* \+0\.0%$/m);
    const p = readProfile(out);
    expect(p.raw).toMatchObject({ name: "cpu-cal", extends: "cpu", measured: true, measuredFields: ["gpu.matmulEfficiency", "gpu.attentionEfficiency", "gpu.memoryBandwidthEfficiency"] });
    expect(p.hw.attentionEfficiency).toBeCloseTo(0.015, 6);
    expect(p.hw.intra).toEqual(loadProfile("cpu").intra);
  });

  it("--json; a profile given as a file is written whole; runs of different profiles need --profile", () => {
    const a = runs(SPECS.slice(0, 3), TRUE);
    const b = runs(SPECS.slice(3, 4), TRUE, "dgx-h100");
    const out = join(tmp(), "x.json");
    const c = capture();
    expect(calibrateCommand([...a.dirs, "--json", "--out", out, "--profile", join(process.cwd(), "profiles", "hardware", "cpu.json")], c.io)).toBe(0);
    const j = JSON.parse(c.stdout());
    expect(j.runs).toHaveLength(3);
    expect(j.meanAbsError.after).toBeLessThan(j.meanAbsError.before);
    const written = readProfile(out).raw as Record<string, unknown>;
    expect(written.extends).toBeUndefined();
    expect(written.network).toBeDefined();
    expect(() => calibrateCommand([...a.dirs, b.dirs[0]!], capture().io)).toThrow(/different profiles \(cpu, dgx-h100\)/);
  });

  it("writes by default to a git-ignored local-*.json, says where, and never overwrites paraplan's own files", () => {
    const { dirs } = runs(SPECS.slice(0, 3), TRUE);
    const hwDir = join(ROOT, "profiles", "hardware");
    const expected = join(hwDir, "local-cpu-calibrated.json");
    const c = capture();
    try {
      expect(calibrateCommand(dirs, c.io)).toBe(0);
      expect(c.stdout()).toContain(`wrote ${expected} (extends cpu)`);
      expect(c.stdout()).toMatch(/git ignores profiles\/hardware\/local-\*\.json/);
      expect(c.stdout()).toMatch(/--profile local-cpu-calibrated$/m);
      expect(execFileSync("git", ["check-ignore", expected], { cwd: ROOT, encoding: "utf8" }).trim()).toBe(expected);
    } finally {
      rmSync(expected, { force: true });
      rmSync(join(hwDir, "cpu-calibrated.json"), { force: true }); // the old default
    }
    const builtin = join(hwDir, "cpu.json");
    const before = readFileSync(builtin, "utf8");
    expect(() => calibrateCommand([...dirs, "--out", builtin], capture().io)).toThrow(/--out .*cpu\.json is one of paraplan's own files/);
    expect(readFileSync(builtin, "utf8")).toBe(before);
  });

  it("bad input is a UserError", () => {
    expect(() => calibrateCommand([], capture().io)).toThrow(/at least one run directory/);
    expect(() => calibrateCommand(["/nonexistent/run"], capture().io)).toThrow(/does not exist/);
    expect(() => calibrateCommand([tmp(), "--fit", "x"], capture().io)).toThrow(/--fit/);
    expect(() => calibrateCommand([tmp()], capture().io)).toThrow(/no plan\.json/);
    // A run's file where its directory is meant: said to be a file, the directory to give named
    // (QA: run1/plan.json was told "no plan.json; is it a run directory").
    const { dirs } = runs(SPECS.slice(0, 1), TRUE);
    const file = join(dirs[0]!, "plan.json");
    expect(() => calibrateCommand([file], capture().io)).toThrow(`"${file}" is a file, not a run directory; give the run directory that holds it, "${dirs[0]}"`);
  });
});

describe("--fit auto never writes a separate factor held at its bound", () => {
  // The cpu profile: attention efficiency 0.1, memory-bound 0.6, matmul table top 0.7. A
  // multiplier x divides the efficiency, so efficiency 1 is x = 0.1 (attention), 0.6 (memory),
  // 0.7 (matmul); a common factor's lower bound is the largest, 0.7 (bounds()).
  it("a separate factor at its bound falls back to one common factor, said in one note", () => {
    const hw = loadProfile("cpu");
    // Attention truly at x = 0.05 (efficiency 0.1 / 0.05 = 2, impossible): a separate fit holds
    // attention at 1 and absorbs the rest in matmul and memory (QA's tiny CPU runs: attention
    // × 10 → 1.0, memory-bound → 1.0).
    const { cases } = runs(SPECS, { matmul: 3, attention: 0.05, memory: 3 });
    const separate = fitScales(hw, cases, { mode: "separate" });
    expect(separate.atBound).toContain("attention");
    expect(separate.heldAt.attention).toBe("one");
    const auto = fitScales(hw, cases);
    expect(auto.mode).toBe("common");
    expect(auto.atBound).toEqual([]);
    // One factor for all three, strictly inside [0.7, …]: no written efficiency is 1.
    expect(auto.multipliers.attention).toBe(auto.multipliers.matmul);
    expect(auto.multipliers.matmul).toBeGreaterThan(0.7);
    expect(auto.notes.filter((n) => /one common factor fitted instead/.test(n))).toEqual([
      "separate factors put attention at efficiency 1 (not a measurement): one common factor fitted instead",
    ]);
  });

  it("where one common factor is held too, writes it marked as held, with a note saying why (as --fit common)", () => {
    const hw = loadProfile("cpu");
    // Truth x = 0.2 for all: matmul (bound 0.7) and memory (0.6) cannot reach it, attention (0.1)
    // can; one common factor stops at 0.7, the matmul table's top point at efficiency 1, keeping
    // the three figures' proportions (attention 0.1 / 0.7 = 0.143, memory 0.6 / 0.7 = 0.857).
    const { dirs, cases } = runs(SPECS.slice(0, 3), { matmul: 0.2, attention: 0.2, memory: 0.2 });
    const auto = fitScales(hw, cases);
    expect(auto.mode).toBe("common");
    expect(auto.multipliers.matmul).toBeCloseTo(0.7, 6);
    expect(auto.multipliers.attention).toBe(auto.multipliers.matmul);
    expect(auto.notes.some((n) => /^separate factors put matmul at efficiency 1, .*one common factor fitted instead$/.test(n))).toBe(true);
    expect(auto.notes.some((n) => /^the common factor is held at its bound \(.*\): the runs ask for more than the profile's peaks allow/.test(n))).toBe(true);
    for (const mode of [[], ["--fit", "common"]]) {
      const out = join(tmp(), `held${mode.length}.json`);
      expect(calibrateCommand([...dirs, ...mode, "--out", out], capture().io)).toBe(0);
      const gpu = (readProfile(out).raw as { gpu: Record<string, { source: string }> }).gpu;
      expect(gpu.matmulEfficiency!.source).toMatch(/held at its bound \(efficiency 1: the runs were faster than the profile allows even then\), not a fitted figure$/);
    }
  });
});

describe("a factor held at its bound says what the runs measured", () => {
  // QA: --fit separate held attention at efficiency 1 with the note "the runs were faster than the
  // profile allows even then" where every run was slower than predicted: the note described the
  // degenerate fit, not the measurement.
  it("--fit separate, every run slower than predicted: attention held at 1 is said to offset the other factors", () => {
    const hw = loadProfile("cpu");
    // matmul and memory 3 × slower, attention 0.09 (a tenth faster than efficiency 1 allows,
    // cpu's 0.1): every run but the attention-heavy fourth (left out) is slower than predicted.
    const { dirs, cases } = runs(SPECS.filter((_, i) => i !== 3), { matmul: 3, attention: 0.09, memory: 3 });
    const fit = fitScales(hw, cases, { mode: "separate" });
    fit.before.forEach((t, i) => expect(cases[i]!.measured).toBeGreaterThan(t));
    expect(fit.heldAt.attention).toBe("one");
    const note = fit.notes.find((n) => n.startsWith("attention: held at efficiency 1"));
    expect(note).toBe(
      "attention: held at efficiency 1 (every run was slower than predicted; the fit pushed attention past efficiency 1 to offset the factors fitted beside it, not a measurement; --fit common keeps the figures' proportions)",
    );
    expect(fit.notes.join()).not.toMatch(/faster than the profile allows/);
    const out = join(tmp(), "sep.json");
    const c = capture();
    expect(calibrateCommand([...dirs, "--fit", "separate", "--out", out], c.io)).toBe(0);
    expect(c.stdout()).toContain("every run was slower than predicted");
    const gpu = (readProfile(out).raw as { gpu: Record<string, { source: string }> }).gpu;
    expect(gpu.attentionEfficiency!.source).toMatch(/held at its bound \(efficiency 1: every run was slower than predicted; .*\), not a fitted figure$/);
  });

  it("heldReason counts the runs on each side of the prediction", () => {
    // measured 2, 3, 1 against predicted 1, 1, 2: two slower, one faster.
    expect(heldReason("matmul", "one", [2, 3, 1], [1, 1, 2], false)).toBe(
      "2 of 3 runs were slower than predicted, 1 faster; the fit pushed matmul past efficiency 1 as the least-squares compromise between them, not a measurement",
    );
    expect(heldReason("memory", "floor", [1, 1], [2, 3], true)).toMatch(/^every run was faster than predicted; the fit pushed memory below that to offset/);
    expect(heldReason("memory", "floor", [3, 4], [2, 3], true)).toBe("the runs were slower than that allows");
    expect(heldReason("matmul", "one", [1, 2], [2, 3], true)).toBe("the runs were faster than the profile allows even then");
  });
});
