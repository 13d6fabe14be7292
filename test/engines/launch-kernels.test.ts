// The paraplan engines' launch figures (issue 12 §1: per-kernel launch cost and kernels per
// layer) are the ones measured on one H200 (bench/gpu_engine_facts.py →
// bench/results/engine-facts-NVIDIA-H200/engine-facts.json), and a rotary block takes its own
// counts where an engine gives them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { layerKernels } from "../../planner/cost/engine-terms.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { ROOT } from "../planner/fixtures.js";

const FACTS = join(ROOT, "bench", "results", "engine-facts-NVIDIA-H200");
type Kernels = { forward: number; backward: number; raw: Record<string, { forward: number; backward: number }> };
type Step = Record<string, { microBatches: number; wall: number; busy: number; kernels: number }>;
const facts = JSON.parse(readFileSync(join(FACTS, "engine-facts.json"), "utf8")) as { device: string; results: Record<string, unknown> };
const kernels = (key: string) => facts.results[key] as Kernels;

describe("the paraplan engines' kernel counts are the measured ones", () => {
  it("the measurement is the H200's, on real shapes", () => {
    expect(facts.device).toBe("NVIDIA H200");
    expect((facts as unknown as { quick: boolean }).quick).toBe(false);
  });

  it.each([
    ["paraplan", "eager"],
    ["paraplan-compile", "compiled"],
  ])("%s: per layer = (4-layer − 2-layer kernels) / 2, GPT and Llama blocks", (name, mode) => {
    const e = loadEngine(name, undefined);
    for (const [style, positional] of [["gpt", "learned"], ["llama", "rope"]] as const) {
      const k = kernels(`kernels/${style}/${mode}`);
      const forward = (k.raw["4"]!.forward - k.raw["2"]!.forward) / 2;
      const backward = (k.raw["4"]!.backward - k.raw["2"]!.backward) / 2;
      const got = layerKernels(e, positional);
      expect(got.forward, `${name} ${style}`).toBe(forward);
      // backwardFactor is kept to two decimals: within half a hundredth of the forward count
      expect(Math.abs(got.backward - backward), `${name} ${style}`).toBeLessThanOrEqual(0.005 * forward + 1e-9);
    }
  });

  it("the host cost per kernel lies between the measured wall/kernels of the host-bound loop and the worker's own run", () => {
    for (const [name, mode, workerStep] of [["paraplan", "eager", 1.07], ["paraplan-compile", "compiled", 1.107]] as const) {
      const mb1 = (facts.results[`step/gpt/${mode}`] as Step)["1"]!;
      const loop = mb1.wall / mb1.kernels; // host-bound: the GPU idled part of it
      expect(mb1.busy).toBeLessThan(0.8 * mb1.wall);
      const worker = workerStep / (16 * (mb1.kernels / mb1.microBatches)); // 16 micro-batches a step
      const p = loadEngine(name, undefined).launch.perKernel;
      expect(p, name).toBeGreaterThanOrEqual(Math.min(loop, worker) - 1e-6);
      expect(p, name).toBeLessThanOrEqual(Math.max(loop, worker) + 1e-6);
    }
  });

  it("the micro-batch-4 loop is not host-bound (the GPU busy ≥ 90 % of it), as the model has it", () => {
    for (const mode of ["eager", "compiled"]) {
      const mb4 = (facts.results[`step/gpt/${mode}`] as Step)["4"]!;
      expect(mb4.busy / mb4.wall, mode).toBeGreaterThan(0.9);
    }
  });
});

describe("launch.rotaryBlock", () => {
  it("counts a rotary block apart where given; an engine without it counts one block", () => {
    const p = loadEngine("paraplan", undefined);
    expect(layerKernels(p, "rope")).toEqual({ forward: 61, backward: 61 * 1.77 });
    expect(layerKernels(p, "learned")).toEqual({ forward: 30, backward: 30 * 2.47 });
    const t = loadEngine("torchtitan", undefined);
    expect(layerKernels(t, "rope")).toEqual(layerKernels(t, "learned"));
    expect(layerKernels(undefined, "rope")).toEqual({ forward: 0, backward: 0 });
  });

  it("a negative count is refused, naming the field", () => {
    const r = structuredClone(builtinEngineRaw("megatron-core")) as { launch: Record<string, unknown> };
    r.launch.rotaryBlock = { kernelsPerLayer: -1, backwardFactor: 2 };
    const p = parseEngineFile(r, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(/^bad\.json: .*launch\.rotaryBlock\.kernelsPerLayer/);
  });
});
