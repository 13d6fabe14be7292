// Three engine and hardware figures, each against a hand computation: the tensor-parallel overlap
// Megatron's --tp-comm-overlap switches on (closed form and simulator alike, and the rule that it
// needs sequence parallel), fp8 GEMMs' efficiency relative to the 16-bit table, and the bytes the
// cross-entropy moves per logit.
import { describe, expect, it } from "vitest";
import { evaluatePlan } from "../../planner/evaluate.js";
import { search } from "../../planner/search.js";
import { gemmTime, hbm, headTimes, layerTimes } from "../../planner/cost/compute.js";
import { layerGemms, logitsGemm } from "../../planner/cost/flops.js";
import { paddedVocab } from "../../planner/model.js";
import { simulate } from "../../planner/sim/simulate.js";
import { checkLayout } from "../../planner/space.js";
import type { Engine } from "../../planner/engine.js";
import { withOverrides } from "../../planner/engine-overrides.js";
import type { Plan, Training } from "../../planner/types.js";
import { loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";
import { runCli } from "../cli/helpers.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../tmp-dirs.js";

const engine = (name: string): Engine => loadEngine(name, undefined);
const h100 = hardware("dgx-h100");
const plan = (p: Partial<Plan>): Plan => ({ tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b", ...p });
const training = (gpus: number, globalBatch: number, seqLen: number, e: Engine, precision: Training["precision"] = "bf16"): Training => ({
  gpus, globalBatch, seqLen, precision, fusedAttention: true, overlapGradReduce: true, engine: e,
});

describe("--tp-comm-overlap (Engine.tensorParallel.commOverlap)", () => {
  const core = engine("megatron-core");
  const on = withOverrides(core, { tpCommOverlap: true });
  const m = preset("gpt3-175b");
  const p = plan({ tp: 8, pp: 8, dp: 16, microBatch: 1, sequenceParallel: true });

  it("hides commOverlap of the tensor-parallel time and slows the GEMMs beside it by overlapSlowdown", () => {
    expect(core.tensorParallel.overlap).toBe(0);
    expect(on.tensorParallel.overlap).toBe(core.tensorParallel.commOverlap);
    const o = on.tensorParallel.overlap;
    expect(o).toBeGreaterThan(0.5);
    expect(o).toBeLessThanOrEqual(1);
    const off = evaluatePlan(m, h100, training(1024, 1536, 2048, core), p).time;
    const with_ = evaluatePlan(m, h100, training(1024, 1536, 2048, on), p).time;
    // Hand: exposed = c·(1 − o) + s·c·o (cost/engine-terms.ts exposedTensorParallel).
    expect(with_.tpComm).toBeCloseTo(off.tpComm * (1 - o) + core.overlapSlowdown * off.tpComm * o, 9);
    expect(with_.compute).toBe(off.compute);
  });

  // An engine file hiding 0.8 without the switch and 0.2 with it: --tp-comm-overlap took 0.2 and
  // the step grew (llama3-8b tp 2 · pp 2: 10.08 s → 10.28 s).
  it("the switch hides at least what the stack hides without it", () => {
    const mine = { ...core, tensorParallel: { ...core.tensorParallel, overlap: 0.8, commOverlap: 0.2 } };
    expect(withOverrides(mine, { tpCommOverlap: true }).tensorParallel.overlap).toBe(0.8);
    const off = evaluatePlan(m, h100, training(1024, 1536, 2048, mine), p).time.step;
    expect(evaluatePlan(m, h100, training(1024, 1536, 2048, withOverrides(mine, { tpCommOverlap: true })), p).time.step).toBe(off);
  });

  it("the simulator charges the same exposed tensor-parallel time per layer as the closed form", () => {
    const t0 = training(1024, 1536, 2048, core);
    const t1 = training(1024, 1536, 2048, on);
    const o = on.tensorParallel.overlap;
    const factor = 1 - o + core.overlapSlowdown * o;
    const a = simulate(m, h100, t0, p).stages[0]!.tpComm;
    const b = simulate(m, h100, t1, p).stages[0]!.tpComm;
    // The layers' tp collectives scale by the factor; the embedding's and head's stay (as in the
    // closed form, which hides only "tp-layer").
    expect(a).toBeGreaterThan(0);
    expect(b).toBeLessThan(a);
    expect(b).toBeGreaterThanOrEqual(a * factor - 1e-12);
  });

  it("needs sequence parallel: the search keeps only sequence-parallel plans at tp > 1; a fixed plan without it is refused by code", () => {
    const t = training(64, 256, 2048, on);
    const r = search(preset("gpt3-13b"), h100, t, {}, { top: 50 });
    expect(r.plans.length).toBeGreaterThan(0);
    const tps = new Set(r.plans.map((x) => x.tp));
    expect([...tps].some((tp) => tp > 1)).toBe(true);
    for (const x of r.plans) if (x.tp > 1) expect(x.sequenceParallel).toBe(true);
    const bad = checkLayout(preset("gpt3-13b"), t, 8, plan({ tp: 4, dp: 16, sequenceParallel: false }));
    expect(bad?.code).toBe("tp_overlap_sp");
    expect(checkLayout(preset("gpt3-13b"), t, 8, plan({ tp: 4, dp: 16, sequenceParallel: true }))).toBeNull();
    // tp = 1 has nothing to overlap.
    expect(checkLayout(preset("gpt3-13b"), t, 8, plan({ dp: 64 }))).toBeNull();
  });

  it("the CLI: a stack without the switch, or --no-sequence-parallel with it, is exit 2 naming the flag; Megatron's export writes it", async () => {
    const fsdp = await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--engine", "fsdp", "--tp-comm-overlap"]);
    expect(fsdp.code).toBe(2);
    expect(fsdp.stderr).toMatch(/^paraplan: --tp-comm-overlap: the fsdp engine has no tensor-parallel communication overlap/);
    const noSp = await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--tp", "4", "--no-sequence-parallel", "--tp-comm-overlap"]);
    expect(noSp.code).toBe(2);
    expect(noSp.stderr).toBe("paraplan: --tp-comm-overlap and --no-sequence-parallel contradict each other (the overlap needs sequence parallel); give one");
    // Without --tp the pair is refused too, not searched with every tp > 1 rejected (which left
    // tp 1 as the only "fit", the overlap switched on for nothing).
    const noSpAny = await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--tp-comm-overlap", "--no-sequence-parallel"]);
    expect([noSpAny.code, noSpAny.errCalls.length]).toEqual([2, 1]);
    expect(noSpAny.stderr).toMatch(/^paraplan: --tp-comm-overlap and --no-sequence-parallel contradict each other/);
    const ok = await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--tp", "4", "--tp-comm-overlap", "--simulate-top", "0"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/engine megatron-core \(default; tensor-parallel communication overlapped\)/);
    const json = JSON.parse((await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--tp-comm-overlap", "--simulate-top", "0", "--json"])).stdout);
    expect([json.engine, json.tpCommOverlap]).toEqual(["megatron-core", true]);
    expect(json.plans.every((p: { tp: number; sequenceParallel: boolean }) => p.tp === 1 || p.sequenceParallel)).toBe(true);
    // An engine file whose stack never runs sequence parallel (or no tensor parallel) cannot
    // overlap: it got "searched as it runs: no sequence parallel" above a plan with sp yes.
    const dir = tempDir();
    for (const [file, supports, what] of [["nosp.json", { sequenceParallel: "never" }, "sequence"], ["notp.json", { tensorParallel: false }, "tensor"]] as const) {
      writeFileSync(join(dir, file), JSON.stringify({ name: "mine", extends: "megatron-core", supports }));
      const r = await runCli(["plan", "--model", "gpt3-13b", "--gpus", "64", "--engine", join(dir, file), "--tp-comm-overlap"]);
      expect([r.code, r.stderr.trim().split("\n").length]).toEqual([2, 1]);
      expect(r.stderr).toMatch(new RegExp(`^paraplan: --tp-comm-overlap: the mine engine runs no ${what} parallel`));
    }
    const ex = await runCli(["export", "--format", "megatron", "--model", "gpt3-13b", "--gpus", "64", "--tp", "4", "--tp-comm-overlap"]);
    expect(ex.code).toBe(0);
    expect(ex.stdout).toMatch(/--sequence-parallel/);
    expect(ex.stdout).toMatch(/--tp-comm-overlap/);
  });
});

describe("fp8 GEMMs (Hardware.fp8Efficiency)", () => {
  it("a layer's GEMMs run at the fp8 peak times fp8Efficiency times the 16-bit table's efficiency", () => {
    const m = preset("gpt3-175b");
    const core = engine("megatron-core");
    const f = h100.fp8Efficiency!;
    expect(f).toBeGreaterThanOrEqual(0.5);
    expect(f).toBeLessThanOrEqual(1);
    const t = training(1024, 1536, 2048, core, "fp8");
    const full = { ...h100, fp8Efficiency: 1 };
    // Hand: the layer's GEMMs (compute-bound at this size) at peak.fp8 · f against peak.fp8 · 1.
    const gemms = (peak: number) => layerGemms(m, 8, 2048).reduce((s, g) => s + gemmTime(h100, peak, g.m, g.n, g.k, g.count), 0);
    const d = layerTimes(m, h100, t, 8, 1, true).forward - layerTimes(m, full, t, 8, 1, true).forward;
    expect(d).toBeCloseTo(gemms(h100.peak.fp8! * f) - gemms(h100.peak.fp8!), 9);
    expect(d).toBeGreaterThan(0);
  });
});

describe("the loss's bytes per logit (Engine.lossBytes)", () => {
  it("the head's forward and backward move the engine's bytes per logit beside the logits GEMM", () => {
    const m = preset("llama3-8b");
    for (const [name, fwd, bwd] of [["megatron-core", 38, 14], ["megatron-2021", 38, 14], ["fsdp", 18, 26], ["torchtitan", 18, 26]] as const) {
      const e = engine(name);
      expect(e.lossBytes).toEqual({ forward: fwd, backward: bwd });
      const t = training(8, 64, 8192, e);
      const h = headTimes(m, h100, t, 2, 1);
      const v = paddedVocab(m.vocab, 2);
      const g = logitsGemm(m, 2, 8192, v);
      // The logits GEMM at the engine's share of the table (Engine.gemmEfficiency: 1 but for the
      // 2021 stack's older libraries).
      const gemm = gemmTime(h100, h100.peak.bf16 * e.gemmEfficiency, g.m, g.n, g.k, g.count);
      // Hand: 8192 tokens × V/2 logits on each of 2 tensor-parallel ranks.
      expect(h.forward).toBeCloseTo(gemm + hbm(h100, (fwd * 8192 * v) / 2), 12);
      expect(h.backward).toBeCloseTo(2 * gemm + hbm(h100, (bwd * 8192 * v) / 2), 12);
    }
  });
});
