// Context parallel in the search (issue 14's "done when"): searched with the other dimensions at
// long sequences, and the reason a cp plan wins computed from the search's cp = 1 candidates.
import { describe, expect, it } from "vitest";
import { cpWhy } from "../../planner/cp-why.js";
import { checkFixed } from "../../planner/constraints.js";
import { loadEngine } from "../../src/load-engine.js";
import { search } from "../../planner/search.js";
import type { Training } from "../../planner/types.js";
import { hardware, preset } from "./fixtures.js";

const H100 = hardware("dgx-h100");
const training = (gpus: number, globalBatch: number, seqLen: number): Training => ({
  gpus, globalBatch, seqLen, precision: "bf16", fusedAttention: true, overlapGradReduce: true,
});

describe("the search enumerates cp", () => {
  it("llama3-8b, 131,072 tokens, 64 GPUs: cp > 1 plans ranked with cp = 1 ones, every exchange priced", () => {
    const m = preset("llama3-8b");
    const t = training(64, 64, 131072);
    const r = search(m, H100, t, {}, { top: 10, keepAll: true });
    expect(r.plans.length).toBe(10);
    const all = r.all!;
    expect(all.some((p) => p.cp === 1)).toBe(true);
    expect(all.some((p) => p.cp > 1)).toBe(true);
    expect(new Set(all.filter((p) => p.cp > 1).map((p) => p.cpComm))).toEqual(new Set(["allgather", "ring", "a2a"]));
    // Zig-zag unless fixed; cp = 1 plans carry no variant.
    expect(all.every((p) => (p.cp > 1 ? p.cpSplit === "zigzag" : p.cpComm === undefined))).toBe(true);
    // Ranked by tokens/s whatever their cp.
    for (let i = 1; i < r.plans.length; i++) expect(r.plans[i - 1]!.tokensPerSecond).toBeGreaterThanOrEqual(r.plans[i]!.tokensPerSecond);
    expect(r.withoutCp!.feasible).toBeGreaterThan(0);
    // The Ulysses heads rule is counted by its code (32 heads, 8 K/V heads: cp 16 a2a never fits).
    expect(r.rejected.cp_heads).toBeGreaterThan(0);
  });
  it("short sequences leave cp at 1 (from 16,384 tokens on); a fixed --cp-comm is the only exchange", () => {
    const m = preset("llama3-8b");
    const short = search(m, H100, training(64, 64, 4096), {}, { top: 50 });
    expect(short.plans.every((p) => p.cp === 1)).toBe(true);
    expect(short.withoutCp).toBeUndefined();
    const fixed = search(m, H100, training(64, 64, 65536), { cp: 4, cpComm: "ring", cpSplit: "contiguous" }, { top: 50 });
    expect(fixed.plans.length).toBeGreaterThan(0);
    expect(fixed.plans.every((p) => p.cp === 4 && p.cpComm === "ring" && p.cpSplit === "contiguous")).toBe(true);
  });
});

describe("plans that need context parallel, and why", () => {
  it("llama3-8b at 1,048,576 tokens on 256 GPUs: only cp > 1 fits, and the line names the cp = 1 shortfall", () => {
    const m = preset("llama3-8b");
    const t = training(256, 8, 1048576);
    const r = search(m, H100, t, {}, { top: 3 });
    expect(r.plans[0]!.cp).toBeGreaterThan(1);
    expect(r.withoutCp!.feasible).toBe(0);
    // The least a cp = 1 plan needs is over the 79.6 GiB capacity.
    expect(r.withoutCp!.leastMemory).toBeGreaterThan(H100.memory);
    const why = cpWhy(m, H100, t, {}, r)!;
    expect(why).toMatch(/^without context parallel no plan fits: the best cp=1 needs \d+\.\d GiB of 79\.6 GiB per GPU/);
    expect(why).toContain(`${(r.withoutCp!.leastMemory / 2 ** 30).toFixed(1)} GiB`);
  });
  it("llama3-405b at 131,072 tokens on 16,384 GPUs, batch 128: cp > 1, many times faster than any cp = 1 plan", () => {
    // tp ≤ 8 and dp ≤ 128 (the batch) leave pp ≥ 16 of 126 layers without cp: uneven stages of 7
    // or 8 layers, one micro-batch each replica, so the pipeline is mostly bubble.
    const m = preset("llama3-405b");
    const t = training(16384, 128, 131072);
    const r = search(m, H100, t, {}, { top: 3 });
    expect(r.plans[0]!.cp).toBeGreaterThan(1);
    expect(r.withoutCp!.feasible).toBeGreaterThan(0);
    const gain = /^cp \d+ is ([\d.]+)× the tokens\/s of the best plan without context parallel/.exec(cpWhy(m, H100, t, {}, r) ?? "");
    expect(Number(gain?.[1])).toBeGreaterThan(2);
  });
  it("llama3-8b at 131,072 tokens on 4,096 GPUs, batch 8: cp > 1, as no cp = 1 layout exists", () => {
    // tp ≤ 8 and dp ≤ 8 (the batch) leave pp ≥ 64 of 32 layers: every cp = 1 layout is refused.
    const m = preset("llama3-8b");
    const t = training(4096, 8, 131072);
    const r = search(m, H100, t, {}, { top: 3 });
    expect(r.plans[0]!.cp).toBeGreaterThan(1);
    expect(r.withoutCp!.feasible).toBe(0);
    expect(cpWhy(m, H100, t, {}, r)).toMatch(/^without context parallel no layout of 4096 GPUs is valid/);
  });
  it("when cp = 1 plans fit, the line compares the best of them", () => {
    const m = preset("llama3-8b");
    const t = training(64, 64, 131072);
    const r = search(m, H100, t, {}, { top: 1 });
    expect(r.plans[0]!.cp).toBeGreaterThan(1);
    const noCp = search(m, H100, t, { cp: 1 }, { top: 1 }).plans[0]!;
    expect(noCp.tokensPerSecond).toBeLessThan(r.plans[0]!.tokensPerSecond);
    expect(cpWhy(m, H100, t, {}, r)).toContain(`${(r.plans[0]!.tokensPerSecond / noCp.tokensPerSecond).toFixed(2)}× the tokens/s of the best plan without context parallel`);
  });
});

// QA: with --attention unfused the search ranked tp 4 · cp 8 first on Megatron-Core, whose context
// parallel runs in Transformer Engine's fused kernels only (its export refused the same plan).
describe("context parallel under unfused attention", () => {
  it("is searched only where the stack runs it so (EngineSupports.contextParallelUnfused); a fixed cp is refused naming --cp", () => {
    const m = preset("llama3-8b");
    const t = { ...training(64, 64, 32768), fusedAttention: false };
    const r = search(m, H100, t, {}, { top: 5, keepAll: true });
    expect(r.all!.length).toBeGreaterThan(0);
    expect(r.all!.every((p) => p.cp === 1)).toBe(true);
    // fused, the same request searches cp
    expect(search(m, H100, { ...t, fusedAttention: true }, {}, { top: 5, keepAll: true }).all!.some((p) => p.cp > 1)).toBe(true);
    const issue = checkFixed(m, { ...t, engine: loadEngine("megatron-core") }, { cp: 2 });
    expect(issue?.flag).toBe("--cp");
    expect(issue?.message).toContain("engine megatron-core runs context parallel in fused (flash) attention kernels only");
    // an engine file that states an exchange runs unfused gets it searched
    const e = loadEngine("megatron-core");
    const ulyssesAnyKernel = { ...e, supports: { ...e.supports, contextParallelUnfused: ["a2a" as const] } };
    expect(checkFixed(m, { ...t, engine: ulyssesAnyKernel }, { cp: 2 })).toBeNull();
    const withA2a = search(m, H100, { ...t, engine: ulyssesAnyKernel }, {}, { top: 5, keepAll: true }).all!;
    expect(new Set(withA2a.filter((p) => p.cp > 1).map((p) => p.cpComm))).toEqual(new Set(["a2a"]));
  });
});
