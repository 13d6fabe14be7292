// The collective tuner (planner/cost/tuner.ts) against hand computations: NVLink 450 GB/s at
// 0.8, 3 µs; network 50 GB/s at 0.85, 6 µs (dgx-h100's figures).
import { describe, expect, it } from "vitest";
import { allReduceTime } from "../../planner/cost/collectives.js";
import { allReduceChoice, allReduceOptions, latencyFree, reductionEfficiency } from "../../planner/cost/tuner.js";
import { place } from "../../planner/layout/groups.js";
import type { GroupTopology, Link } from "../../planner/types.js";
import { expectRel, hardware, rawHardware } from "./fixtures.js";
import { mergeProfiles, parseHardwareFile } from "../../planner/schema/hardware.js";

const nvl: Link = { kind: "nvlink", bandwidth: 450e9, latency: 3e-6, efficiency: 0.8 };
const net: Link = { kind: "network", bandwidth: 50e9, latency: 6e-6, efficiency: 0.85 };
const topo = (perDomain: number, domains: number, extra: Partial<GroupTopology> = {}): GroupTopology => ({
  perDomain, domains, intra: nvl, nvls: null, sharp: null, ...extra,
});
const GB = 1e9;

describe("collective algorithms at scale", () => {
  it("without a topology an all-reduce is the ring, as before", () => {
    expect(allReduceTime(GB, 32, net)).toBe(2 * 31 * 6e-6 + ((2 * 31) / 32) * (GB / (50e9 * 0.85)));
  });

  it("NVLS wins a large all-reduce inside one NVLink domain", () => {
    const link = { ...nvl, topology: topo(8, 1, { nvls: { efficiency: 0.61, latency: 25e-6 } }) };
    const ring = 14 * 3e-6 + (14 / 8) * (GB / 360e9); // 4.903 ms
    const nvls = 25e-6 + GB / (450e9 * 0.61); // 3.668 ms
    const c = allReduceChoice(GB, 8, link);
    expect(c.algorithm).toBe("nvls");
    expectRel(c.time, nvls, 1e-12);
    expect(nvls).toBeLessThan(ring);
  });

  it("NVLS by group size: H100's busbw 370 GB/s at 4 GPUs against 480 at 8 (formulas-scale.md §5.2)", () => {
    // algbw 370/1.5 = 246.7 and 480/1.75 = 274.3 GB/s of 450: 0.548 and 0.610.
    const nvls = { efficiency: 0.61, latency: 25e-6, byGroupSize: [[4, 0.548], [8, 0.61]] as const };
    expect(reductionEfficiency(nvls, 8)).toBe(0.61);
    expect(reductionEfficiency(nvls, 4)).toBe(0.548);
    expect(reductionEfficiency(nvls, 2)).toBe(0.548); // flat outside the points
    expect(reductionEfficiency(nvls, 72)).toBe(0.61);
    // 6 GPUs: log2(6/4) = 0.585 of the way from 4 to 8.
    expectRel(reductionEfficiency(nvls, 6), 0.548 + 0.062 * Math.log2(1.5), 1e-12);
    // A tensor-parallel group of 4 in a domain of 8: S / (450 GB/s × 0.548) + 25 µs, not 0.61's.
    const four = allReduceChoice(GB, 4, { ...nvl, topology: topo(4, 1, { nvls }) });
    expect(four.algorithm).toBe("nvls");
    expectRel(four.time, 25e-6 + GB / (450e9 * 0.548), 1e-12);
    // The profiles that carry NVLS give the table (h800: its 8-GPU 0.61, ×0.90 at 4).
    expect(hardware("h800").fabric?.nvls?.byGroupSize).toEqual([[4, 0.549], [8, 0.61]]);
  });

  it("hierarchical (NVLink reduce-scatter, network all-reduce of S/g, NVLink all-gather) beats a flat ring over 4 nodes", () => {
    const link = { ...net, topology: topo(8, 4) };
    const ring = 62 * 6e-6 + (62 / 32) * (GB / 42.5e9); // 45.96 ms
    const hier = 2 * (7 * 3e-6 + (7 / 8) * (GB / 360e9)) + (6 * 6e-6 + (6 / 4) * (GB / 8 / 42.5e9)); // 9.351 ms
    const opts = Object.fromEntries(allReduceOptions(GB, 32, link, link.topology).map((o) => [o.algorithm, o.time]));
    expectRel(opts.ring!, ring, 1e-12);
    expectRel(opts.hierarchical!, hier, 1e-12);
    expect(allReduceChoice(GB, 32, link).algorithm).toBe("hierarchical");
    expectRel(allReduceTime(GB, 32, link), hier, 1e-12);
  });

  it("tree wins a small all-reduce over 1,024 nodes: log2 latency against the ring's linear one", () => {
    const link = { ...net, topology: topo(1, 1024) };
    const bytes = 8192;
    const ring = 2 * 1023 * 6e-6 + ((2 * 1023) / 1024) * (bytes / 42.5e9); // 12.28 ms
    const tree = 2 * (Math.log2(1024) * 6e-6) + (2 * bytes) / (0.92 * 42.5e9); // 0.1204 ms
    const opts = Object.fromEntries(allReduceOptions(bytes, 1024, link, link.topology).map((o) => [o.algorithm, o.time]));
    expectRel(opts.ring!, ring, 1e-12);
    expectRel(opts.tree!, tree, 1e-12);
    expect(allReduceChoice(bytes, 1024, link).algorithm).toBe("tree");
    // Tree's bus bandwidth is 0.92 of the link's: it costs 2S/R·(1/0.92 − 1023/1024) more than
    // the ring, which makes up the ring's 12.28 ms of latency only above ≈ 2.97 GB.
    expect(allReduceChoice(GB, 1024, link).algorithm).toBe("tree");
    expect(allReduceChoice(4 * GB, 1024, link).algorithm).toBe("ring");
  });

  it("SHARP halves what each rank sends across the network", () => {
    const link = { ...net, topology: topo(8, 4, { sharp: { efficiency: 0.9, latency: 10e-6 } }) };
    const sharp = 2 * (7 * 3e-6 + (7 / 8) * (GB / 360e9)) + 10e-6 + GB / 8 / (50e9 * 0.9); // 7.691 ms
    const c = allReduceChoice(GB, 32, link);
    expect(c.algorithm).toBe("sharp");
    expectRel(c.time, sharp, 1e-12);
  });

  it("the simulator's bandwidth term drops every latency the algorithms carry", () => {
    const link = { ...net, topology: topo(8, 4, { nvls: { efficiency: 0.61, latency: 25e-6 }, sharp: { efficiency: 0.9, latency: 10e-6 } }) };
    const free = latencyFree(link);
    expect([free.latency, free.topology!.intra.latency, free.topology!.nvls!.latency, free.topology!.sharp!.latency]).toEqual([0, 0, 0, 0]);
    expect(allReduceTime(GB, 32, link)).toBeGreaterThan(allReduceTime(GB, 32, free));
  });

  it("profiles without a fabric carry no topology: their groups keep the ring (calibration unchanged)", () => {
    const p = place(hardware("dgx-h100"), { tp: 2, cp: 1, dp: 16, pp: 1, ep: 1, etp: 1 });
    expect(p.dp.link!.topology).toBeUndefined();
  });
});

describe("an NVLS table in a profile", () => {
  it("group sizes out of order are refused naming the field", () => {
    const raw = mergeProfiles(rawHardware("h800"), { fabric: { nvls: { byGroupSize: { value: [[8, 0.61], [4, 0.55]], source: "test" } } } });
    const r = parseHardwareFile(raw, "mine.json");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('mine.json: field "fabric.nvls.byGroupSize": the group sizes must ascend, each once');
    const bad = parseHardwareFile(mergeProfiles(rawHardware("h800"), { fabric: { nvls: { byGroupSize: { value: [[4, 1.5]], source: "test" } } } }), "mine.json");
    expect(bad.ok).toBe(false);
  });
});
