// Context parallel's per-step merge, against hand counts of the stacks' code: torch's ring
// attention (torch.distributed.tensor.experimental._attention, as torchtitan and the worker's ring
// run it) folds each step's partial output into an fp32 running one eagerly and concatenates
// K/V and their gradients every step — 40 bytes an output element forward, 58 backward, per step
// after the first, under either rotate method; Transformer Engine's p2p ring merges in one fused
// 16-bit kernel (6 and 18), and its all_gather and a2a variants merge nothing. What travels:
// torchtitan repeats K/V to the query heads before SDPA and torch passes dK/dV in fp32, its
// all-gather waited after the first step; Transformer Engine keeps the K/V heads, 16 bits, and
// gathers before attention.
import { describe, expect, it } from "vitest";
import { layerTimes } from "../../planner/cost/compute.js";
import { cpMergeTraffic } from "../../planner/cost/engine-terms.js";
import { cpCallExposed, cpCalls } from "../../planner/cost/context.js";
import type { Engine } from "../../planner/engine.js";
import { parseEngineFile } from "../../planner/schema/engine.js";
import type { CpComm, Training } from "../../planner/types.js";
import { builtinEngineRaw, loadEngine } from "../../src/load-engine.js";
import { hardware, preset } from "../planner/fixtures.js";

const engine = (name: string) => loadEngine(name, undefined);
const hw = hardware("h100-96g-500w");
const m = preset("llama3-8b"); // 32 query heads × 128 = 4096 wide
const seqLen = 262144;
const training = (e: Engine | undefined): Training => ({ gpus: 8, globalBatch: 1, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true, engine: e });
const layer = (e: Engine | undefined, comm: CpComm, cp = 8) => layerTimes(m, hw, training(e), 1, 1, false, { cp, split: "zigzag", comm });
const noMerge = (e: Engine): Engine => ({ ...e, contextParallel: { ...e.contextParallel, stepwise: [] } });

// One cp rank's attention output: b · s/cp · a·d = 1 × 32,768 × 4,096 elements.
const ELEMENTS = 32768 * 4096;
const seconds = (bytes: number) => bytes / (hw.memoryBandwidth * hw.memoryBandwidthEfficiency);

describe("context parallel's merge traffic", () => {
  it("each built-in engine states it: torch's eager fp32 merge for torchtitan, TE's fused 16-bit one for Megatron-Core", () => {
    const cp = Object.fromEntries(["megatron-core", "torchtitan", "torchtitan-compile", "paraplan"].map((n) => [n, engine(n).contextParallel]));
    expect(cp["megatron-core"]).toEqual({ stepwise: ["ring"], mergeBytes: { forward: 6, backward: 18 }, kvHeads: "kv", dkvBytes: 2, gatherOverlapsStep: false, allgatherKeeps: [] });
    expect(cp.torchtitan).toEqual({ stepwise: ["ring", "allgather"], mergeBytes: { forward: 40, backward: 58 }, kvHeads: "query", dkvBytes: 4, gatherOverlapsStep: true, allgatherKeeps: [] });
    expect(cp["torchtitan-compile"]).toEqual(cp.torchtitan);
    // The worker's all-gather variant is its own single, synchronous gather at the K/V width, whose
    // attention keeps the gathered K/V (cp-kept.test.ts); its ring is torch's.
    expect(cp.paraplan).toEqual({ stepwise: ["ring"], mergeBytes: { forward: 40, backward: 58 }, kvHeads: "kv", dkvBytes: 2, gatherOverlapsStep: false, allgatherKeeps: ["gathered-kv", "chunk-outputs"] });
  });

  it("torchtitan at cp 8: 7 merges of 40 and 58 bytes over the rank's 32,768 × 4,096 outputs", () => {
    const t = engine("torchtitan");
    const bytes = cpMergeTraffic(t, "allgather", 8, ELEMENTS);
    expect(bytes.forward).toBe(40 * 134217728 * 7); // 37,580,963,840 B
    expect(bytes.backward).toBe(58 * 134217728 * 7);
    const withMerge = layer(t, "allgather");
    const without = layer(noMerge(t), "allgather");
    expect(withMerge.forward - without.forward).toBeCloseTo(seconds(37580963840), 9);
    expect(withMerge.backward - without.backward).toBeCloseTo(seconds(58 * 134217728 * 7), 9);
    // ≈ 19 ms a layer forward at 2.4 TB/s: a few per cent of the layer's ring attention.
    expect(withMerge.forward - without.forward).toBeGreaterThan(0.01);
    expect((withMerge.forward - without.forward) / withMerge.forward).toBeLessThan(0.1);
  });

  it("Megatron-Core: its p2p ring merges at 6 and 18 bytes; all_gather and a2a attend at once", () => {
    const mc = engine("megatron-core");
    expect(layer(mc, "ring").forward - layer(noMerge(mc), "ring").forward).toBeCloseTo(seconds(6 * ELEMENTS * 7), 9);
    expect(layer(mc, "ring").backward - layer(noMerge(mc), "ring").backward).toBeCloseTo(seconds(18 * ELEMENTS * 7), 9);
    expect(layer(mc, "allgather")).toEqual(layer(noMerge(mc), "allgather"));
    expect(layer(mc, "a2a")).toEqual(layer(noMerge(mc), "a2a"));
    // No engine prices as Megatron-Core.
    expect(layer(undefined, "ring")).toEqual(layer(mc, "ring"));
  });

  it("nothing at cp 1, and the steps grow as cp − 1", () => {
    const t = engine("torchtitan");
    expect(cpMergeTraffic(t, "ring", 1, ELEMENTS)).toEqual({ forward: 0, backward: 0 });
    expect(cpMergeTraffic(t, "ring", 2, ELEMENTS).forward * 7).toBe(cpMergeTraffic(t, "ring", 8, ELEMENTS).forward);
  });
});

describe("what context parallel sends", () => {
  // Llama 3 8B at 262,144 tokens, cp 8, tp 1, one sequence: K and V of the whole sequence are
  // 2 · 262,144 · width · 2 bytes — width 32 × 128 = 4,096 repeated (torchtitan), 8 × 128 = 1,024 not.
  const plan = (cpComm: CpComm) => ({ cp: 8, tp: 1, microBatch: 1, cpComm, cpSplit: "zigzag" as const });
  const calls = (e: Engine | undefined, comm: CpComm) => cpCalls(m, { seqLen, engine: e }, plan(comm));

  it("torchtitan's all-gather: 4 GiB of K/V at the query width, dK/dV reduced in fp32 (8 GiB)", () => {
    expect(calls(engine("torchtitan"), "allgather")).toEqual([
      { kind: "allGather", bytes: 4294967296, forward: 1, backward: 1, what: "kv" },
      { kind: "reduceScatter", bytes: 8589934592, forward: 0, backward: 1, what: "dkv" },
    ]);
  });

  it("Megatron-Core's: 1 GiB of K/V at the key/value width, 16-bit dK/dV", () => {
    expect(calls(engine("megatron-core"), "allgather")).toEqual([
      { kind: "allGather", bytes: 1073741824, forward: 1, backward: 1, what: "kv" },
      { kind: "reduceScatter", bytes: 1073741824, forward: 0, backward: 1, what: "dkv" },
    ]);
    expect(calls(undefined, "allgather")).toEqual(calls(engine("megatron-core"), "allgather"));
  });

  it("the ring's backward: K/V and dK/dV each step, fp32 dK/dV counting twice (3 × 7 sends' bytes against 2 × 7)", () => {
    expect(calls(engine("torchtitan"), "ring")).toEqual([{ kind: "p2p", bytes: 4294967296 / 8, forward: 7, backward: 21, what: "kv" }]);
    expect(calls(engine("megatron-core"), "ring")).toEqual([{ kind: "p2p", bytes: 1073741824 / 8, forward: 7, backward: 14, what: "kv" }]);
  });

  it("torch's gather hides behind the first attention step, paying only the slowdown; Megatron's is exposed", () => {
    // 1 s of gather beside a 3 s step at slowdown 0.2: 0.2 s; beside a 0.5 s step: 0.5 + 0.2 · 0.5.
    expect(cpCallExposed("allGather", 1, 3, 0.2, true)).toBeCloseTo(0.2, 12);
    expect(cpCallExposed("allGather", 1, 0.5, 0.2, true)).toBeCloseTo(0.6, 12);
    expect(cpCallExposed("reduceScatter", 1, 3, 0.2, true)).toBeCloseTo(0.2, 12);
    expect(cpCallExposed("allGather", 1, 3, 0.2, false)).toBe(1);
    expect(cpCallExposed("allToAll", 1, 3, 0.2, true)).toBe(1);
  });
});

describe("engine files: contextParallel", () => {
  const raw = () => structuredClone(builtinEngineRaw("megatron-core")) as Record<string, unknown>;

  it("absent: Megatron-Core's merge", () => {
    const r = raw();
    delete r.contextParallel;
    const p = parseEngineFile(r, "mine.json");
    expect(p.ok && p.value.contextParallel).toEqual({ stepwise: ["ring"], mergeBytes: { forward: 6, backward: 18 }, kvHeads: "kv", dkvBytes: 2, gatherOverlapsStep: false, allgatherKeeps: [] });
  });

  it("an unknown exchange is refused, naming the field", () => {
    const r = raw();
    r.contextParallel = { stepwise: ["ring", "p2p"], mergeForwardBytes: 6, mergeBackwardBytes: 18 };
    const p = parseEngineFile(r, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(/^bad\.json: .*contextParallel\.stepwise/);
  });

  it("a negative byte count is refused, naming the field", () => {
    const r = raw();
    r.contextParallel = { stepwise: ["ring"], mergeForwardBytes: -1, mergeBackwardBytes: 18 };
    const p = parseEngineFile(r, "bad.json");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toContain("contextParallel.mergeForwardBytes");
  });
});
