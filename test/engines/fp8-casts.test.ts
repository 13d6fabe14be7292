// The fp8 recipes' casts around each linear, against hand counts of Llama 3 8B's layer: torchao's
// tensorwise dynamic scaling (torchtitan) casts input and weight every forward and, having saved
// them in high precision, again in the backward, plus the output gradient for both backward GEMMs
// (5 bytes an element a cast under torch.compile: amax read 2, cast read 2 write 1; 8 for the
// gradient's two layouts with one amax); Transformer Engine casts in one pass and caches weights
// (3 a forward input on average, 4 a gradient). Under sequence parallelism the column-parallel
// inputs are cast on the shard before the all-gather and reused in the backward.
import { describe, expect, it } from "vitest";
import { layerTimes } from "../../planner/cost/compute.js";
import { fp8CastTraffic } from "../../planner/cost/engine-terms.js";
import type { Engine } from "../../planner/engine.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import type { Training } from "../../planner/types.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string) => loadEngine(name, undefined);
const hw = hardware("h100-96g-500w");
const m = preset("llama3-8b"); // h 4096, 32 query and 8 key/value heads of 128, f 14336
const training = (e: Engine | undefined, precision: Training["precision"] = "fp8"): Training => ({ gpus: 8, globalBatch: 16, seqLen: 8192, precision, fusedAttention: true, overlapGradReduce: true, engine: e });
const noCasts = (e: Engine): Engine => ({ ...e, fp8: { ...e.fp8, castBytes: { forwardInput: 0, forwardWeight: 0, backwardGrad: 0, backwardInput: 0, backwardWeight: 0 } } });
const seconds = (bytes: number) => bytes / (hw.memoryBandwidth * hw.memoryBandwidthEfficiency);

// One layer on one GPU, micro-batch 2 × 8,192 = 16,384 tokens, tp 1:
//   inputs  QKV 4096, output projection 4096, gate and up one 4096 input, down 14336 → T × 26,624
//   weights 4096×6144 + 4096×4096 + 2·4096×14336 + 14336×4096 = 218,103,808
//   outputs QKV 6144, projection 4096, gate and up 2 × 14336, down 4096 → T × 43,008
const T = 16384;
const INPUTS = T * 26624; // 436,207,616
const WEIGHTS = 218103808;
const OUTPUTS = T * 43008; // 704,643,072

describe("fp8 cast traffic", () => {
  it("each recipe states its bytes: torchao's per cast, Transformer Engine's one pass and cached weights", () => {
    expect(engine("torchtitan-compile").fp8.castBytes).toEqual({ forwardInput: 5, forwardWeight: 5, backwardGrad: 8, backwardInput: 5, backwardWeight: 5 });
    expect(engine("megatron-core").fp8.castBytes).toEqual({ forwardInput: 3, forwardWeight: 0, backwardGrad: 4, backwardInput: 0, backwardWeight: 0 });
    // llm-foundry calls TE's linears without is_first_microbatch: the weight is cast every forward.
    expect(engine("fsdp").fp8.castBytes.forwardWeight).toBe(4);
    expect(engine("torchtitan").fp8.castBytes.forwardInput).toBeGreaterThan(engine("torchtitan-compile").fp8.castBytes.forwardInput);
  });

  it("torchtitan-compile, Llama 3 8B: 5·(inputs + weights) forward, 8·outputs + 5·(inputs + weights) backward", () => {
    const e = engine("torchtitan-compile");
    const forward = 5 * INPUTS + 5 * WEIGHTS; // 3,271,557,120 B
    const backward = 8 * OUTPUTS + 5 * INPUTS + 5 * WEIGHTS; // 8,908,701,696 B
    expect(forward).toBe(3271557120);
    expect(backward).toBe(8908701696);
    const withCasts = layerTimes(m, hw, training(e), 1, 2, false);
    const without = layerTimes(m, hw, training(noCasts(e)), 1, 2, false);
    expect(withCasts.forward - without.forward).toBeCloseTo(seconds(forward), 9);
    expect(withCasts.backward - without.backward).toBeCloseTo(seconds(backward), 9);
  });

  it("Transformer Engine (no engine prices as Megatron-Core): 3 a forward input, 4 a gradient, nothing else", () => {
    const withCasts = layerTimes(m, hw, training(undefined), 1, 2, false);
    const without = layerTimes(m, hw, training(noCasts(engine("megatron-core"))), 1, 2, false);
    expect(withCasts.forward - without.forward).toBeCloseTo(seconds(3 * INPUTS), 9);
    expect(withCasts.backward - without.backward).toBeCloseTo(seconds(4 * OUTPUTS), 9);
  });

  it("tp 8 with sequence parallelism: QKV and gate/up inputs cast on the 1/8 shard, not again in the backward", () => {
    const e = engine("torchtitan-compile");
    const gathered = T * (4096 + 4096); // QKV's and gate/up's inputs, the layer's h-wide input
    const local = T * (4096 / 8 + 14336 / 8); // the projection's and down's tp-sharded inputs
    const weights = WEIGHTS / 8;
    const outputs = T * (6144 / 8 + 4096 + (2 * 14336) / 8 + 4096);
    const forward = 5 * (gathered / 8 + local) + 5 * weights;
    const backward = 8 * outputs + 5 * local + 5 * weights;
    const withCasts = layerTimes(m, hw, training(e), 8, 2, true);
    const without = layerTimes(m, hw, training(noCasts(e)), 8, 2, true);
    expect(withCasts.forward - without.forward).toBeCloseTo(seconds(forward), 9);
    expect(withCasts.backward - without.backward).toBeCloseTo(seconds(backward), 9);
  });

  it("nothing in bf16, nor on a stack without fp8 matmuls", () => {
    const gemms = [{ m: T, n: 6144, k: 4096, count: 1 }];
    expect(fp8CastTraffic("bf16", engine("torchtitan-compile"), gemms)).toEqual({ forward: 0, backward: 0 });
    expect(fp8CastTraffic("fp8", engine("megatron-2021"), gemms)).toEqual({ forward: 0, backward: 0 });
  });
});

describe("engine files: fp8.castBytes", () => {
  const raw = () => structuredClone(builtinEngineRaw("megatron-core")) as { fp8: Record<string, unknown> };

  it("absent: Transformer Engine's", () => {
    const r = raw();
    delete r.fp8.castBytes;
    const p = parseEngineFile(r, "mine.json");
    expect(p.ok && p.value.fp8.castBytes).toEqual({ forwardInput: 3, forwardWeight: 0, backwardGrad: 4, backwardInput: 0, backwardWeight: 0 });
  });

  it("an unknown key is refused, naming it", () => {
    const r = raw();
    r.fp8.castBytes = { forwardInput: 3, forwardWeight: 0, backwardGrad: 4, backwardInput: 0, backwardWeight: 0, backwardBias: 1 };
    const p = parseEngineFile(r, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain("backwardBias");
  });
});
