// The paraplan engines' activation memory (issue 12 §1): the worker's tensor lists under bf16
// autocast, eager and compiled (planner/cost/activations.ts), held to what its blocks kept on one H200
// (bench/results/engine-facts-NVIDIA-H200/engine-facts-memory-warm.json: memory allocated after
// the forward of 4- and 2-layer models, bench/gpu_engine_facts.py), and the CPU ranks' hardware,
// where no launch bound applies.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ActivationOptions, layerActivationBytes } from "../../planner/cost/activations.js";
import { launchBound } from "../../planner/cost/engine-terms.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { ROOT, hardware, model } from "../planner/fixtures.js";

const FACTS = join(ROOT, "bench", "results", "engine-facts-NVIDIA-H200");
type Kept = { bytesPerTokenHidden: number };
const warm = JSON.parse(readFileSync(join(FACTS, "engine-facts-memory-warm.json"), "utf8")) as { quick: boolean; results: Record<string, Kept> };
const first = JSON.parse(readFileSync(join(FACTS, "engine-facts.json"), "utf8")) as { results: Record<string, Kept> };

// The four blocks measured (bench/gpu_engine_facts.py spec()): hidden, heads, kv heads, ffn, seq
// 2048; no dropout, as the worker (executor/worker/model.py).
const gpt = (kvHeads: number, ffnHidden: number) =>
  model({ layers: 2, hidden: 2048, heads: 16, kvHeads, ffnHidden, vocab: 50304, seqLen: 2048, mlp: "gelu", positional: "learned", dropout: false });
const llama = (kvHeads: number, ffnHidden: number) =>
  model({ layers: 2, hidden: 3072, heads: 24, kvHeads, ffnHidden, vocab: 128256, seqLen: 2048, mlp: "swiglu", positional: "rope", dropout: false });
const SHAPES = [
  ["memory/gpt/none", gpt(16, 8192), 1],
  ["memory-other/gpt/none/eager", gpt(4, 6144), 2],
  ["memory/llama/none", llama(8, 8192), 1],
  ["memory-other/llama/none/eager", llama(24, 12288), 2],
] as const;

const opts = (tensors: ActivationOptions["tensors"], recompute: ActivationOptions["recompute"] = "none"): ActivationOptions =>
  ({ seqLen: 2048, tp: 1, sequenceParallel: false, recompute, fusedAttention: true, selective: "attention-core", tensors, residualBytes: tensors === "autocast-eager" ? 4 : 2 });

describe("the eager worker's activations under bf16 autocast", () => {
  it("were measured on real shapes, after cuBLAS's workspace was allocated", () => {
    expect(warm.quick).toBe(false);
  });

  it.each(SHAPES)("%s: the derived list within 0.5 % of the bytes measured", (key, m, b) => {
    const perTokenHidden = layerActivationBytes(m, b, opts("autocast-eager")) / (b * 2048 * m.hidden);
    const measured = warm.results[key]!.bytesPerTokenHidden;
    expect(Math.abs(perTokenHidden / measured - 1), key).toBeLessThan(0.005);
  });

  it.each(SHAPES)("%s compiled: the measured decomposition within 0.5 % on each of the four blocks", (key, m, b) => {
    const compiledKey = key.endsWith("/eager") ? key.replace(/eager$/, "compiled") : `${key}/compiled`;
    const perTokenHidden = layerActivationBytes(m, b, opts("autocast-compiled")) / (b * 2048 * m.hidden);
    expect(Math.abs(perTokenHidden / warm.results[compiledKey]!.bytesPerTokenHidden - 1), compiledKey).toBeLessThan(0.005);
  });

  it("Korthikanti's 16-bit list, the default, is 20–47 % below what the eager worker keeps", () => {
    // GPT, 4h MLP, no dropout: 4 + 2 + 2 (norm, QKV and MLP inputs) + 2 + 4 + 2 + 16 (Q, K+V,
    // projection input, GELU in and out) = 32 (Korthikanti et al. 2022 §4.1, flash: no scores).
    expect(layerActivationBytes(SHAPES[0][1], 1, opts(undefined)) / (2048 * 2048)).toBe(32);
    for (const [key, m, b] of SHAPES) {
      const ratio = layerActivationBytes(m, b, opts("16-bit")) / (b * 2048 * m.hidden) / warm.results[key]!.bytesPerTokenHidden;
      expect(ratio, key).toBeGreaterThan(0.5);
      expect(ratio, key).toBeLessThan(0.81);
    }
  });

  it("full recompute keeps the fp32 block input: 4 bytes, as measured (4.0 GPT, 3.9 Llama)", () => {
    for (const [style, m] of [["gpt", SHAPES[0][1]], ["llama", SHAPES[2][1]]] as const) {
      const bytes = layerActivationBytes(m, 1, opts("autocast-eager", "full")) / (2048 * m.hidden);
      expect(bytes).toBe(4);
      expect(Math.abs(first.results[`memory/${style}/full`]!.bytesPerTokenHidden / bytes - 1), style).toBeLessThan(0.03);
    }
  });

  it("the engines: paraplan the eager list, paraplan-compile the compiled one, both an fp32 residual; Megatron-Core 16 bits", () => {
    const p = loadEngine("paraplan", undefined), c = loadEngine("paraplan-compile", undefined), mc = loadEngine("megatron-core", undefined);
    expect([p.activationTensors, p.residualBytes]).toEqual(["autocast-eager", 4]);
    expect([c.activationTensors, c.residualBytes]).toEqual(["autocast-compiled", 4]);
    expect([mc.activationTensors, mc.residualBytes]).toEqual(["16-bit", 2]);
  });

  it("the worker's loss peaks at the engines' 12 bytes a logit, as measured (12.14 GPT, 12.09 Llama)", () => {
    const loss = JSON.parse(readFileSync(join(FACTS, "engine-facts-memory-2.json"), "utf8")) as { results: Record<string, { bytesPerLogit: number }> };
    for (const name of ["paraplan", "paraplan-compile"]) {
      const bytes = loadEngine(name, undefined).logitBytes;
      expect(bytes, name).toBe(12);
      for (const style of ["gpt", "llama"]) expect(Math.abs(loss.results[`loss/${style}`]!.bytesPerLogit / bytes - 1), style).toBeLessThan(0.02);
    }
  });

  it("an unknown tensor list or a 3-byte residual is refused, naming the field", () => {
    for (const [field, value] of [["tensors", "fp32"], ["residualBytes", 3]] as const) {
      const r = structuredClone(builtinEngineRaw("megatron-core")) as Record<string, unknown>;
      r.activations = { [field]: value };
      const p = parseEngineFile(r, "bad.json");
      expect(p.ok, field).toBe(false);
      if (!p.ok) expect(p.message).toMatch(new RegExp(`^bad\\.json: .*activations\\.${field}`));
    }
  });
});

describe("CPU ranks run their own ops: no launch bound", () => {
  it("the cpu profile says so; a GPU profile does not", () => {
    expect(hardware("cpu").hostRunsOps).toBe(true);
    expect(hardware("hgx-h200").hostRunsOps).toBeUndefined();
  });

  it("launchBound: max(work, kernels × perKernel) on a GPU, the work alone on CPU ranks", () => {
    const e = loadEngine("paraplan", undefined); // 29 µs a kernel
    expect(launchBound(1e-3, 100, e, hardware("hgx-h200"))).toBeCloseTo(100 * 29e-6, 12);
    expect(launchBound(1e-3, 100, e, hardware("cpu"))).toBe(1e-3);
    expect(launchBound(1e-2, 100, e, hardware("hgx-h200"))).toBe(1e-2);
  });
});

// The worker's per-op SAC (executor/worker/fastpaths.py sac_context_fn saves aten.mm / addmm and
// the functional collectives' outputs; the checkpoint keeps the block input): counted by hand.
describe("the worker's per-op selective recompute (selectiveRecompute matmul-outputs)", () => {
  const opts = (tp: number, sequenceParallel: boolean): ActivationOptions => ({ seqLen: 2048, tp, sequenceParallel, fusedAttention: true, recompute: "selective", selective: "matmul-outputs", tensors: "autocast-compiled", residualBytes: 4 });
  const perTokenHidden = (m: ReturnType<typeof gpt>, tp = 1, sp = false) => layerActivationBytes(m, 1, opts(tp, sp)) / (2048 * m.hidden);
  it("GPT (4h MLP): 4 (fp32 input) + 2 × (3h + h + 4h + h)/h = 22; Llama 3.2 3B (GQA 24/8, f = 8192): 4 + 2 × (1 + 2/3 + 1 + 2 × 8/3 + 1) = 22", () => {
    expect(perTokenHidden(gpt(16, 8192))).toBeCloseTo(22, 10);
    expect(perTokenHidden(llama(8, 8192))).toBeCloseTo(22, 10);
  });
  it("tp 2 with sequence parallel, GPT: input 4/2, outputs (3/2 + 1 + 2 + 1) and two reduce-scatters (1/2 each) at 2 bytes, two gathered fp32 norm outputs (4 each): 2 + 11 + 2 + 8 = 23", () => {
    expect(perTokenHidden(gpt(16, 8192), 2, true)).toBeCloseTo(23, 10);
  });
  it("is the paraplan engines' selective, priced against the two recorded selective runs in test/bench/gpu-report.test.ts", () => {
    expect(loadEngine("paraplan").selectiveRecompute).toBe("matmul-outputs");
    expect(loadEngine("paraplan-compile").selectiveRecompute).toBe("matmul-outputs");
  });
});
