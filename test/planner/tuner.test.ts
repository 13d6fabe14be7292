// The collective tuner (planner/cost/tuner.ts) against hand computations: NVLink 450 GB/s at
// 0.8, 3 µs; network 50 GB/s at 0.85, 6 µs (dgx-h100's figures).
import { describe, expect, it } from "vitest";
import { allReduceTime } from "../../planner/cost/collectives.js";
import { allReduceChoice, allReduceOptions, latencyFree, reductionEfficiency } from "../../planner/cost/tuner.js";
import { place } from "../../planner/layout/groups.js";
import { ordersToPrice } from "../../planner/layout/order.js";
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
    // algbw = busbw · n / (2(n − 1)): 370 · 4/6 = 246.67 and 480 · 8/14 = 274.29 GB/s, so 4 GPUs
    // reach 0.8993 of 8's; the table scales the profile's 8-GPU efficiency by it.
    expectRel((370 * 4) / 6 / ((480 * 8) / 14), 0.8993, 1e-4);
    const nvls = { efficiency: 0.61, latency: 25e-6, scaleByGroupSize: [[4, 0.899], [8, 1]] as const };
    expect(reductionEfficiency(nvls, 8)).toBe(0.61);
    expectRel(reductionEfficiency(nvls, 4), 0.61 * 0.899, 1e-12);
    expectRel(reductionEfficiency(nvls, 2), 0.61 * 0.899, 1e-12); // flat outside the points
    expect(reductionEfficiency(nvls, 72)).toBe(0.61);
    // 6 GPUs: log2(6/4) = 0.585 of the way from 4 to 8.
    expectRel(reductionEfficiency(nvls, 6), 0.61 * (0.899 + 0.101 * Math.log2(1.5)), 1e-12);
    // No table: the one figure at any size.
    expect(reductionEfficiency({ efficiency: 0.61, latency: 25e-6 }, 4)).toBe(0.61);
    // A tensor-parallel group of 4 in a domain of 8: S / (450 GB/s × 0.61 × 0.899) + 25 µs.
    const four = allReduceChoice(GB, 4, { ...nvl, topology: topo(4, 1, { nvls }) });
    expect(four.algorithm).toBe("nvls");
    expectRel(four.time, 25e-6 + GB / (450e9 * 0.61 * 0.899), 1e-12);
  });

  it("h800's tensor-parallel all-reduce: 4 GPUs at 0.899 of the 8-GPU NVLS figure", () => {
    const h800 = hardware("h800");
    expect(h800.fabric?.nvls?.scaleByGroupSize).toEqual([[4, 0.899], [8, 1]]);
    // By hand, 1 GB over NVLink's 200 GB/s: NVLS at 8 GPUs 25 µs + 1 GB / (200 GB/s × 0.61) =
    // 8.222 ms, at 4 GPUs 25 µs + 1 GB / (200 GB/s × 0.61 × 0.899) = 9.143 ms (was 8.222 too).
    const at = (tp: number) => place(h800, { tp, cp: 1, dp: 16 / tp, pp: 1, ep: 1, etp: 1 }).tp.link!;
    const eight = allReduceChoice(GB, 8, at(8));
    const four = allReduceChoice(GB, 4, at(4));
    expect([eight.algorithm, four.algorithm]).toEqual(["nvls", "nvls"]);
    expectRel(eight.time, 25e-6 + GB / (200e9 * 0.61), 1e-12);
    expectRel(four.time, 25e-6 + GB / (200e9 * 0.61 * 0.899), 1e-12);
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
    const p = place(hardware("dgx-a100-80g"), { tp: 2, cp: 1, dp: 16, pp: 1, ep: 1, etp: 1 });
    expect(p.dp.link!.topology).toBeUndefined();
  });

  it("DGX H100's NVLS (its fabric has nothing else): 8 GPUs all-reduce at 0.61 of 450 GB/s plus 25 µs, a 4-GPU group at 0.899 of that; one rank order, as without a fabric", () => {
    const h100 = hardware("dgx-h100");
    expect(h100.fabric).toMatchObject({ nvlinkDomain: 8, leaf: null, pod: null, sharp: null });
    const S = 1e9;
    const eight = allReduceChoice(S, 8, place(h100, { tp: 8, cp: 1, dp: 1, pp: 1, ep: 1, etp: 1 }).tp.link!);
    expect(eight.algorithm).toBe("nvls");
    expectRel(eight.time, 25e-6 + S / (450e9 * 0.61), 1e-12); // 3.67 ms
    // the ring: 2·7·3 µs + 14/8 · S/(450 GB/s · 0.8) = 4.90 ms
    expect(eight.time).toBeLessThan(2 * 7 * 3e-6 + (14 / 8) * (S / (450e9 * 0.8)));
    const four = allReduceChoice(S, 4, place(h100, { tp: 4, cp: 1, dp: 2, pp: 1, ep: 1, etp: 1 }).tp.link!);
    // NVLS 25 µs + S/(450 GB/s · 0.61 · 0.899) = 4.075 ms against the ring's 2·3·3 µs + 6/4 · S/360 GB/s = 4.185 ms
    expect(four.algorithm).toBe("nvls");
    expectRel(four.time, 25e-6 + S / (450e9 * 0.61 * 0.899), 1e-12);
    expect(ordersToPrice(h100, { tp: 8, cp: 1, dp: 4, pp: 4, ep: 1, etp: 1 })).toHaveLength(1);
  });
});

describe("an NVLS table in a profile", () => {
  const mine = (nvls: unknown) => parseHardwareFile(mergeProfiles(rawHardware("h800"), { fabric: { nvls } }), "mine.json");
  it("scales the profile's efficiency: a file recalibrating it moves the 4-GPU figure with it", () => {
    const r = mine({ efficiency: { value: 0.7, source: "test" } });
    expect(r.ok).toBe(true);
    if (r.ok) expectRel(reductionEfficiency(r.value.fabric!.nvls!, 4), 0.7 * 0.899, 1e-12);
  });
  it("group sizes out of order, a largest size not at 1, a factor above 1 are refused naming the field", () => {
    const r = mine({ scaleByGroupSize: { value: [[8, 1], [4, 0.9]], source: "test" } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('mine.json: field "fabric.nvls.scaleByGroupSize": the group sizes must ascend, each once');
    const last = mine({ scaleByGroupSize: { value: [[4, 0.9], [8, 0.95]], source: "test" } });
    expect(last.ok).toBe(false);
    if (!last.ok) expect(last.message).toBe('mine.json: field "fabric.nvls.scaleByGroupSize": the largest group size\'s factor must be 1 (fabric.nvls.efficiency is its figure)');
    expect(mine({ scaleByGroupSize: { value: [[4, 1.5]], source: "test" } }).ok).toBe(false);
  });
  it("SHARP has no table: its term reads one figure, so a table there is refused, not ignored", () => {
    const raw = mergeProfiles(rawHardware("h800"), { fabric: { sharp: { efficiency: 0.9, latency: "10 us", scaleByGroupSize: [[4, 0.9], [8, 1]] } } });
    const r = parseHardwareFile(raw, "mine.json");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('mine.json: unknown field "scaleByGroupSize" in "fabric.sharp"; remove it or check its spelling');
  });
});
