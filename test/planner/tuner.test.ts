// The collective tuner (planner/cost/tuner.ts) against hand computations: NVLink 450 GB/s at
// 0.8, 3 µs; network 50 GB/s at 0.85, 6 µs (dgx-h100's figures).
import { describe, expect, it } from "vitest";
import { allReduceTime } from "../../planner/cost/collectives.js";
import { allReduceChoice, allReduceOptions, latencyFree } from "../../planner/cost/tuner.js";
import { place } from "../../planner/layout/groups.js";
import type { GroupTopology, Link } from "../../planner/types.js";
import { expectRel, hardware } from "./fixtures.js";

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
