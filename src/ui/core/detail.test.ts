import { describe, expect, it } from "vitest";
import { type Plan, evaluatePlan } from "../../../planner/index.js";
import { sessionOf } from "../test-utils.js";
import { allDetailLines } from "./detail-lines.js";
import { MEMORY_KEYS, bubbleLine, bytesShown, detailView, flopRate, planDiff, shortPlan } from "./detail.js";

const gpt3 = sessionOf("gpt3-like", 128, 8).request;
const plan = (p: Partial<Plan>) =>
  evaluatePlan(gpt3.model, gpt3.hw, gpt3.training, { tp: 8, pp: 16, dp: 8, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 1, microBatch: 1, recompute: "selective", sequenceParallel: true, schedule: "1f1b", ...p });

describe("the plan detail's view-model", () => {
  it("stacks the memory parts against the capacity, one row per part", () => {
    const p = plan({});
    const v = detailView(p, gpt3.hw, gpt3.training, null, 80);
    expect(v.memoryRows.map((r) => r.label)).toEqual(["weights", "gradients", "optimizer", "activations", "other"]);
    const cells = v.memoryBar.reduce((n, s) => n + s.width, 0);
    expect(cells).toBe(80 - 26);
    const used = v.memoryBar.filter((s) => s.key !== "free").reduce((n, s) => n + s.width, 0);
    expect(used).toBe(Math.round((p.memory.total / p.memory.capacity) * cells));
    for (const k of MEMORY_KEYS) expect(v.memoryRows.find((r) => r.key === k)!.bar).toHaveLength(cells);
    expect(v.memoryHeader).toMatch(/^memory per GPU \(first stage, the fullest\): [\d.]+ GiB of 79\.6 GiB \(\d+%\)$/);
  });

  it("breaks the step time down, in the width, with a legend of the non-zero parts", () => {
    const p = plan({});
    const v = detailView(p, gpt3.hw, gpt3.training, null, 80);
    expect(v.timeBar.reduce((n, s) => n + s.width, 0)).toBe(78);
    const legend = v.timeLegend.flat().map((i) => i.text);
    expect(legend.some((t) => t.startsWith("█ compute "))).toBe(true);
    expect(legend.some((t) => t.startsWith("╳ bubble "))).toBe(true);
    for (const line of v.timeLegend) expect(line.map((i) => i.text).join("  ").length).toBeLessThanOrEqual(78);
  });

  it("names each group's link: tp on NVLink, pp and dp over the network across nodes", () => {
    const v = detailView(plan({}), gpt3.hw, gpt3.training, null, 80);
    expect(v.comms.map((c) => c.text)).toEqual([
      expect.stringMatching(/^tp  8 ranks\s+NVLink 450 GB\/s\s+[\d.]+ m?s$/),
      expect.stringMatching(/^pp  16 stages\s+network 50\.0 GB\/s\s+[\d.]+ m?s$/),
      expect.stringMatching(/^dp  8 replicas\s+network 50\.0 GB\/s\s+([\d.]+ m?s exposed|fully overlapped)$/),
    ]);
    const single = detailView(plan({ tp: 8, pp: 1, dp: 128, cp: 1, ep: 1, etp: 1, vpp: 1 }), gpt3.hw, gpt3.training, null, 80);
    expect(single.comms[1]!.text).toMatch(/^pp  1 stage\s+no communication$/);
    expect(single.bubble).toBe("bubble: none (no pipeline)");
  });

  it("a dp ring of 8 ranks a node: 8×50.0 GB/s per GPU (the heading says per GPU), the time still within 60 columns", () => {
    const v = detailView(plan({ tp: 1, pp: 1, dp: 1024 }), gpt3.hw, gpt3.training, null, 60);
    const dp = v.comms.find((c) => c.link.group === "dp")!.text;
    expect(dp).toMatch(/^dp  1024 replicas network 8×50\.0 GB\/s\s+([\d.]+ m?s exposed|fully overlapped)$/);
    expect(`  ${dp}`.length).toBeLessThanOrEqual(60);
    expect(allDetailLines(v).some((l) => l.kind === "text" && l.text === "communication per step (group, link per GPU, time)")).toBe(true);
  });

  it("says what one GPU puts on the wire per step, from the plan's wire", () => {
    // gpt3-like (h 12288, 96 layers, s 2048), tp 8 · pp 16 · dp 8, micro-batch 1, SP: 1536/8 = 192
    // micro-batches × 6 layers × 2 passes × (2 all-gathers + 2 reduce-scatters) = 9,216 calls of
    // one 2·2048·12288-byte activation (48 MiB): 432 GiB on the tp group.
    const v = detailView(plan({}), gpt3.hw, gpt3.training, null, 200, gpt3.model);
    expect(v.wire).toMatch(/^on the wire per GPU and step: tp 432 GiB in 9,216 calls · pp [\d.]+ GiB in [\d,]+ calls · dp [\d.]+ GiB in 2 calls$/);
    expect(detailView(plan({}), gpt3.hw, gpt3.training, null, 80).wire).toBeNull();
  });

  it("states the bubble's share of the step and the pipeline it comes from", () => {
    const p = plan({ vpp: 2, schedule: "interleaved" });
    expect(bubbleLine(p, gpt3.training)).toMatch(/^bubble [\d.]+ m?s = [\d.]+% of the step \(16 stages, 2 chunks each, 192 micro-batches\)$/);
    // QA (mixtral-8x7b, batch 8 on dp 8): "(4 stages, 1 micro-batches)". 1,536 / (8 · 192) = 1.
    expect(bubbleLine(plan({ dp: 8, microBatch: 192 }), gpt3.training)).toMatch(/\(16 stages, 1 micro-batch\)$/);
  });

  it("shows what changed from the previous plan, and nothing for the same plan", () => {
    const a = plan({});
    const b = plan({ tp: 4, dp: 16, zero: 2 });
    const [dims, figures] = planDiff(a, b);
    expect(dims).toBe("vs previous: tp 8→4, dp 8→16, ZeRO 1→2");
    const rel = ((b.tokensPerSecond - a.tokensPerSecond) / a.tokensPerSecond) * 100;
    expect(figures).toContain(`tokens/s ${rel >= 0 ? "+" : "−"}${Math.abs(rel).toFixed(1)}%`);
    expect(figures).toMatch(/memory\/GPU [+−][\d.]+ GiB · step [+−][\d.]+ m?s · MFU [+−][\d.]+ pts/);
    expect(planDiff(a, a)).toEqual([]);
    expect(detailView(b, gpt3.hw, gpt3.training, a, 80).diff).toHaveLength(2);
    expect(shortPlan(a)).toBe("tp 8 · pp 16 · dp 8 · ZeRO-1 · mb 1 · recompute sel · SP · 1F1B");
  });
});

// QA: a CPU plan's detail said "weights 0.00 GiB" and "0 TFLOP/s per GPU".
describe("a CPU plan's figures in units that show them", () => {
  it("bytes below 0.01 GiB in MiB or KiB, FLOP/s below 1 TFLOP/s in GFLOP/s or MFLOP/s", () => {
    expect([bytesShown(436_992), bytesShown(5 * 2 ** 20), bytesShown(0.5 * 2 ** 30), bytesShown(0), bytesShown(80 * 2 ** 30)]).toEqual(["426.8 KiB", "5.0 MiB", "0.50 GiB", "0.00 GiB", "80.0 GiB"]);
    expect([flopRate(312.4), flopRate(1), flopRate(0.0342), flopRate(0.000_512)]).toEqual(["312 TFLOP/s", "1 TFLOP/s", "34.2 GFLOP/s", "512 MFLOP/s"]);
    const tiny = sessionOf("tiny", 1, 1, undefined, "cpu").request;
    const p = evaluatePlan(tiny.model, tiny.hw, tiny.training, { tp: 1, pp: 1, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 8, recompute: "none", sequenceParallel: false, schedule: "1f1b" });
    const v = detailView(p, tiny.hw, tiny.training, null, 100);
    // tiny: per layer 4h²+4h (attention) + 2hf+f+h (MLP) + 4h (norms) = 16,640 + 33,088 + 256 =
    // 49,984, × 4 layers = 199,936; + V·h 16,384 + positions 32·64 2,048 + final norm 128 =
    // 218,496 parameters × 2 bytes (bf16) = 436,992 B = 426.75 KiB.
    expect(p.memory.weights).toBe(436_992);
    expect(v.memoryRows.find((r) => r.key === "weights")!.value).toBe("426.8 KiB");
    expect(v.timeHeader).toMatch(/ · [\d.]+ [GM]FLOP\/s per GPU$/);
    expect(v.timeHeader).not.toMatch(/ 0 TFLOP/);
    expect(v.timeHeader.endsWith(`${flopRate(p.tflopsPerGpu)} per GPU`)).toBe(true);
  });
});
