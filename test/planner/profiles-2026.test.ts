// The 2026 built-in profiles (shared/reference/hardware-2026.md): each figure cited with a status,
// the fabric figures that matter, and tensor parallel across GB200 NVL72's 72-GPU NVLink domain.
import { describe, expect, it } from "vitest";
import { allReduceChoice } from "../../planner/cost/tuner.js";
import { efficiencyAt } from "../../planner/efficiency.js";
import { topologyOf } from "../../planner/layout/fabric.js";
import { place } from "../../planner/layout/groups.js";
import { buildLayout } from "../../planner/layout/layout.js";
import { search } from "../../planner/search.js";
import { evaluatePlan, peakFlops, wireLinks } from "../../planner/evaluate.js";
import type { Plan, Training } from "../../planner/types.js";
import { runCli } from "../cli/helpers.js";
import { onNodesOf } from "../../src/plan-request.js";
import { expectRel, hardware, preset, rawHardware } from "./fixtures.js";

const NEW = ["dgx-b200", "gb200-nvl72", "h800", "mi300x"];

function sources(node: unknown, path = ""): [string, string][] {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return [];
  const o = node as Record<string, unknown>;
  if ("source" in o && typeof o.source === "string") return [[path, o.source]];
  return Object.entries(o).flatMap(([k, v]) => sources(v, path ? `${path}.${k}` : k));
}

describe.each(NEW)("built-in profile %s", (name) => {
  it("every figure names its source and a status (primary, secondary or unverified)", () => {
    const all = sources(rawHardware(name));
    expect(all.length).toBeGreaterThanOrEqual(18);
    for (const [path, source] of all) expect(source, `${name}: ${path}`).toMatch(/ \[status: (primary|secondary|unverified)\]$/);
    for (const [field, source] of Object.entries(hardware(name).sources)) expect(source, field).not.toContain("no source given");
  });
});

describe("2026 figures", () => {
  it("H800: H100 compute, NVLink 200 GB/s each way (400 total); H100 is 450", () => {
    const h800 = hardware("h800");
    expect(h800.peak.bf16).toBe(hardware("dgx-h100").peak.bf16);
    // the H100's memory as nvidia-smi reports it (81,559 MiB), not 80e9 bytes: 6.5% less
    expect(h800.memory).toBe(hardware("dgx-h100").memory);
    expect(h800.memory).toBe(81559 * 2 ** 20);
    expect(h800.intra.bandwidth).toBe(200e9);
    expect(hardware("dgx-h100").intra.bandwidth).toBe(450e9);
    expect(h800.fabric?.nvls?.efficiency).toBe(0.61);
  });

  it("B200 and GB200: NVLink 5 at 900 GB/s each way, 400 Gb/s per GPU; NVL72 one 72-GPU domain of 4-GPU trays", () => {
    const b = hardware("dgx-b200");
    const g = hardware("gb200-nvl72");
    expect([b.intra.bandwidth, g.intra.bandwidth, b.inter.bandwidth, g.inter.bandwidth]).toEqual([900e9, 900e9, 50e9, 50e9]);
    // (a scalable unit is 31 nodes, 248 GPUs: its 32nd slot feeds UFM, B200 RA Table 4)
    expect([b.gpusPerNode, b.fabric?.nvlinkDomain, b.fabric?.leaf?.gpus]).toEqual([8, 8, 248]);
    expect([g.gpusPerNode, g.fabric?.nvlinkDomain, g.fabric?.leaf?.gpus]).toEqual([4, 72, 576]);
    // nvidia-smi's memory.total (as dgx-h100's 81559 MiB), not the marketing "180/186 GB" read as
    // decimal bytes, which made each part 6–7% smaller than it is
    expect([b.memory, g.memory]).toEqual([183359 * 2 ** 20, 189471 * 2 ** 20]);
    expect(hardware("mi300x").memory).toBe(205822885888); // rocm-smi: 192 GiB less 320 MiB
  });

  it("MI300X: 0.6 of H100's efficiencies, so a large GEMM runs at 0.79 of H100's rate, inside the 0.72–0.83 measured end to end", () => {
    const mi = hardware("mi300x");
    const h = hardware("dgx-h100");
    expect(mi.matmul.points.map(([x, y]) => [x, y / 0.6])).toEqual(h.matmul.points.map(([x, y]) => [x, expect.closeTo(y, 12)]));
    expect(mi.attentionEfficiency).toBeCloseTo(0.6 * h.attentionEfficiency, 12);
    // a 1e12-FLOP bf16 GEMM: 1307.4 × 0.6 e against 989 e TFLOP/s = 0.793 of H100's rate, within
    // ROCm/TransformerEngine #72 (250 / 300–345) and #78 (717–747 / 952): 0.72–0.83
    const ratio = (mi.peak.bf16 * efficiencyAt(mi.matmul, 1e12)) / (h.peak.bf16 * efficiencyAt(h.matmul, 1e12));
    expect(ratio).toBeCloseTo((1307.4 * 0.6) / 989, 2);
    expect(ratio).toBeGreaterThan(0.72);
    expect(ratio).toBeLessThan(0.83);
  });

  it("MI300X: Infinity Fabric mesh, a group of n uses n − 1 of the 7 links (64 GB/s each way each)", () => {
    const hw = hardware("mi300x");
    expect(hw.intra.kind).toBe("infinity-fabric");
    expect(hw.fabric).toBeUndefined();
    const d = (tp: number) => ({ tp, cp: 1, dp: 8 / tp, pp: 1, ep: 1, etp: 1 });
    expect(place(hw, d(2)).tp.link!.bandwidth).toBeCloseTo(64e9, 0);
    expect(place(hw, d(4)).tp.link!.bandwidth).toBeCloseTo(192e9, 0);
    expect(place(hw, d(8)).tp.link!.bandwidth).toBe(448e9);
  });

  it("MI300X: a pipeline's send and a cp ring's hop cross the one link between the two GPUs, whatever the group's size", () => {
    const hw = hardware("mi300x");
    // 448 GB/s each way over the 7 peer links = 64 GB/s each way per link (hardware-2026.md: "one
    // peer pair gets a single link (~64 GB/s each way)"); a pp group of 8 on one node used to get
    // all 448 GB/s for each send, a pp group of 4 its 3 links' 192 GB/s.
    for (const pp of [2, 4, 8]) expect(place(hw, { tp: 1, cp: 1, dp: 8 / pp, pp, ep: 1, etp: 1 }).pp.link!.bandwidth, `pp ${pp}`).toBeCloseTo(64e9, 0);
    const cp = wireLinks(hw, place(hw, { tp: 1, cp: 8, dp: 1, pp: 1, ep: 1, etp: 1 }));
    expect(cp.cpRing.link.bandwidth).toBeCloseTo(64e9, 0);
    expect(cp.cp.link.bandwidth).toBe(448e9); // the cp group's all-gathers keep the 7 links
    // On NVSwitch every pair gets the GPU's whole NVLink.
    expect(place(hardware("dgx-b200"), { tp: 1, cp: 1, dp: 1, pp: 8, ep: 1, etp: 1 }).pp.link!.bandwidth).toBe(900e9);
  });

  it("MI300X: a ring across nodes with k ranks a node gets k NICs, capped by the k − 1 mesh links between them", () => {
    const hw = hardware("mi300x");
    const dp = (tp: number) => place(hw, { tp, cp: 1, dp: 32 / tp, pp: 1, ep: 1, etp: 1 }).dp.link!.bandwidth;
    // tp 4: 2 dp ranks a node, min(2 · 50, 1 · 64) = 64 GB/s (the two NICs' 100 was priced before)
    expect(dp(4)).toBeCloseTo(64e9, 0);
    // tp 2: 4 a node, min(4 · 50, 3 · 64 = 192) = 192; tp 1: 8 a node, min(400, 448) = 400
    expect(dp(2)).toBeCloseTo(192e9, 0);
    expect(dp(1)).toBe(400e9);
    // NVSwitch (B200): 2 a node keep both NICs, 100 GB/s
    expect(place(hardware("dgx-b200"), { tp: 4, cp: 1, dp: 8, pp: 1, ep: 1, etp: 1 }).dp.link!.bandwidth).toBe(100e9);
  });

  it("MI300X: 4 GPUs used of each 8 (execute on the GPUs present, the planner's GPUs/node) reach 3 peers: 192 GB/s, not 448", () => {
    const four = onNodesOf(hardware("mi300x"), 4);
    // (4 − 1) of the 7 links at 64 GB/s each way = 192 GB/s
    expect(four.intra.bandwidth).toBeCloseTo(192e9, 0);
    expect(place(four, { tp: 4, cp: 1, dp: 1, pp: 1, ep: 1, etp: 1 }).tp.link!.bandwidth).toBeCloseTo(192e9, 0);
    expect(place(four, { tp: 2, cp: 1, dp: 2, pp: 1, ep: 1, etp: 1 }).tp.link!.bandwidth).toBeCloseTo(64e9, 0);
    // NVSwitch: every GPU keeps its whole NVLink however many of the node are used
    expect(onNodesOf(hardware("dgx-b200"), 4).intra.bandwidth).toBe(900e9);
    const whole = hardware("mi300x");
    expect(onNodesOf(whole, 8)).toBe(whole);
  });

  it("MI300X: llama3-8b at pp 8 on one node, 8 micro-batches: pipeline comm 16 sends of 64 MiB at 64 GB/s × 0.7", () => {
    const m = preset("llama3-8b");
    const t: Training = { gpus: 8, globalBatch: 8, seqLen: 8192, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
    const plan: Plan = { tp: 1, pp: 8, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "none", sequenceParallel: false, schedule: "1f1b" };
    // act = 2 B · 1 · 8192 · 4096 = 67,108,864 B; 2 sends (activation, gradient) × 8 micro-batches;
    // each α + M/(B·e) = 3 µs + 67,108,864 / (64e9 · 0.7) = 1.50096 ms: 24.015 ms (at 448 GB/s it
    // was 3.47 ms). llama3-8b's embeddings are untied: no tied-embedding all-reduce.
    const each = 3e-6 + 67108864 / (64e9 * 0.7);
    expectRel(evaluatePlan(m, hardware("mi300x"), t, plan).time.ppComm, 16 * each, 1e-12);
  });
});

describe("precision on the 2026 parts", () => {
  it("--precision fp8 prices and counts MFU against each part's dense fp8 peak, twice its bf16", () => {
    const t = (precision: Training["precision"]): Training => ({ gpus: 8, globalBatch: 8, seqLen: 2048, precision, fusedAttention: true, overlapGradReduce: true });
    // B200 4.5 PF (72 PF sparse per DGX / 8 / 2), GB200 5 PF, MI300X 2,614.9 TF, H800 1,979 TF (hardware-2026.md)
    expect(peakFlops(hardware("dgx-b200"), t("fp8"))).toBe(4500e12);
    expect(peakFlops(hardware("gb200-nvl72"), t("fp8"))).toBe(5000e12);
    expect(peakFlops(hardware("mi300x"), t("fp8"))).toBeCloseTo(2614.9e12, 0);
    expect(peakFlops(hardware("h800"), t("fp8"))).toBe(1979e12);
    expect(peakFlops(hardware("dgx-b200"), t("bf16"))).toBe(2250e12);
  });

  it("fp4 and MXFP8, which no profile gives a peak for, are refused, not priced at another precision's", async () => {
    for (const p of ["fp4", "mxfp8", "nvfp4"]) {
      const r = await runCli(["plan", "--model", "llama3-8b", "--profile", "dgx-b200", "--gpus", "8", "--precision", p]);
      expect(r.code, p).toBe(2);
      expect(r.stderr).toContain(`--precision: "${p}" is not one of bf16, fp16, fp8`);
    }
  });
});

describe("gpt3-175b on 144 GB200 (two NVL72 racks)", () => {
  const m = preset("gpt3-175b");
  const hw = hardware("gb200-nvl72");
  const t: Training = { gpus: 144, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
  // (no sequence parallel: tp 24 does not divide the 2,048 tokens, layout rule sp_seq)
  const plan: Plan = { tp: 24, pp: 6, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "full", sequenceParallel: false, schedule: "1f1b" };

  it("tp 24 spans six 4-GPU trays yet stays inside one NVLink domain: valid, priced on NVLink", () => {
    const built = buildLayout(m, hw, t, plan);
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    const tp = built.layout.placement.tp;
    expect([tp.where, tp.level, tp.link!.kind, tp.link!.bandwidth]).toEqual(["node", "domain", "nvlink", 900e9]);
    // The same tp on 8-GPU nodes without the domain breaks the rule.
    const dgx = buildLayout(m, hardware("dgx-b200"), t, plan);
    expect(dgx.ok ? [] : dgx.issues.map((i) => i.code)).toEqual(["tp_spans_nodes"]);
  });

  it("tp 48 would cross the racks' boundary (ranks 48–95 straddle 72): rejected, naming the NVLink domain", () => {
    const built = buildLayout(m, hw, t, { ...plan, tp: 48, pp: 3 });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.issues[0]!.message).toBe("tp 48 groups would cross the boundaries of 72-GPU NVLink domains (tensor parallel stays inside an NVLink domain)");
  });

  it("the search can choose tp above 8 (asked for tp 12 or 24, it finds fitting plans)", () => {
    for (const tp of [12, 24]) {
      const r = search(m, hw, t, { tp }, { top: 1 });
      expect(r.plans[0]?.tp, `tp ${tp}`).toBe(tp);
      expect(r.rejected.tp_spans_nodes ?? 0).toBe(0);
    }
  });

  it("plan --model gpt3-175b --profile gb200-nvl72 --gpus 144 --tp 24 prints the plan and its rank order", async () => {
    const r = await runCli(["plan", "--model", "gpt3-175b", "--profile", "gb200-nvl72", "--gpus", "144", "--tp", "24", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const best = JSON.parse(r.stdout).plans[0];
    expect(best.tp).toBe(24);
    expect(best.order).toMatch(/^tp-cp-(dp-pp|pp-dp)$/);
  });
});

// Groups whose blocks do not tile the 72-GPU domains: the worst group sets the price (a ring runs
// at its slowest link). Links as the profile gives them: NVLink 900 GB/s at 0.8, 3 µs; network
// 50 GB/s at 0.85, the leaf's 4 µs; NVLS 0.53, 25 µs.
describe("dp groups that straddle the NVL72 racks unevenly (576 GB200, pp 9)", () => {
  const hw = hardware("gb200-nvl72");
  const S = 7.9e9; // llama3-70b's fp32 gradients of one tp 4 · pp 9 rank, about
  const R = 50e9 * 0.85;

  it("tp 4 · dp 16: the group at ranks 64, 68, …, 124 holds 2 ranks of rack 0 and 14 of rack 1, so no NVLS", () => {
    const dp = place(hw, { tp: 4, cp: 1, dp: 16, pp: 9, ep: 1, etp: 1 }).dp;
    expect([dp.where, dp.level]).toEqual(["mixed", "leaf"]);
    expect([dp.link!.topology!.perDomain, dp.link!.topology!.domains]).toEqual([2, 2]);
    // Hierarchical (formulas-scale.md §5.2): reduce-scatter and all-gather over the 2 ranks of rack
    // 0 on NVLink, all-reduce of S/2 across the 2 racks, one rail each.
    const hier = 2 * (3e-6 + (1 / 2) * (S / (900e9 * 0.8))) + (2 * 4e-6 + (S / 2) / R); // 103.9 ms
    const c = allReduceChoice(S, 16, dp.link!);
    expect(c.algorithm).toBe("hierarchical");
    expectRel(c.time, hier, 1e-12);
    // Not the in-rack NVLS of rank 0's group (16.6 ms), which no crossing group can use.
    expect(c.time).toBeGreaterThan(6 * (25e-6 + S / (900e9 * 0.53)));
  });

  it("tp 8 · dp 8: the group at ranks 64, 72, …, 120 has one rank in rack 0: a ring on the network", () => {
    const dp = place(hw, { tp: 8, cp: 1, dp: 8, pp: 9, ep: 1, etp: 1 }).dp;
    expect([dp.link!.topology!.perDomain, dp.link!.topology!.domains]).toEqual([1, 2]);
    const c = allReduceChoice(S, 8, dp.link!);
    expect(c.algorithm).toBe("ring");
    expectRel(c.time, 2 * 7 * 4e-6 + ((2 * 7) / 8) * (S / R), 1e-12); // 325 ms
  });

  it("groups that tile the domains keep rank 0's shape", () => {
    expect(topologyOf({ size: 16, stride: 4 }, 64, 72)).toEqual({ perDomain: 16, domains: 1 });
    expect(topologyOf({ size: 16, stride: 2 }, 32, 8)).toEqual({ perDomain: 4, domains: 4 });
    expect(topologyOf({ size: 9, stride: 72 }, 648, 72)).toEqual({ perDomain: 1, domains: 9 });
    expect(topologyOf({ size: 18, stride: 4 }, 576, 72)).toEqual({ perDomain: 18, domains: 1 });
  });
});
