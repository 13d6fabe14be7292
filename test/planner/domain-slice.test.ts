// --gpus-per-domain (src/domain-slice.ts): 64 of each GB200 NVL72 rack's 72 GPUs, so that
// power-of-two groups tile the racks. Links as the profile gives them: NVLink 900 GB/s at 0.8,
// 3 µs; network 50 GB/s at 0.85, the leaf's 4 µs; NVLS 0.53, 25 µs (flat from 8 GPUs up).
import { describe, expect, it } from "vitest";
import { allReduceChoice } from "../../planner/cost/tuner.js";
import { place } from "../../planner/layout/groups.js";
import { onDomainsOf } from "../../src/domain-slice.js";
import { usd } from "../../src/format/run-text.js";
import { runCli } from "../cli/helpers.js";
import { expectRel, hardware } from "./fixtures.js";

const nvl72 = hardware("gb200-nvl72");
const S = 7.9e9; // bytes all-reduced, llama3-70b's fp32 gradients of one tp 4 · pp 8 rank, about

describe("a 64-GPU slice of each NVL72 rack", () => {
  const hw = onDomainsOf(nvl72, 64, "gb200-nvl72");

  it("keeps the nodes and links, and each tier above the rack its count of racks", () => {
    expect(hw.fabric!.nvlinkDomain).toBe(64);
    // the scalable unit: 8 racks (576 / 72), 8 · 64 GPUs of them
    expect(hw.fabric!.leaf!.gpus).toBe(512);
    expect([hw.gpusPerNode, hw.intra, hw.inter]).toEqual([nvl72.gpusPerNode, nvl72.intra, nvl72.inter]);
    expect(onDomainsOf(nvl72, 72, "gb200-nvl72")).toBe(nvl72);
  });

  it("tp 4 · dp 16 on 512 GPUs: the second dp group (ranks 64, 68, …, 124) is one rack's, reduced by NVLS", () => {
    const sliced = place(hw, { tp: 4, cp: 1, dp: 16, pp: 8, ep: 1, etp: 1 }).dp;
    expect([sliced.link!.topology!.perDomain, sliced.link!.topology!.domains]).toEqual([16, 1]);
    const c = allReduceChoice(S, 16, sliced.link!);
    // NVLS: each GPU sends and receives S once at 900 GB/s · 0.53, 25 µs (planner/cost/tuner.ts):
    // 25e-6 + 7.9e9 / 477e9 = 16.59 ms; a ring on NVLink would take 2·15·3 µs + (30/16)·S/720e9 = 20.7 ms.
    expect(c.algorithm).toBe("nvls");
    expectRel(c.time, 25e-6 + S / (900e9 * 0.53), 1e-12);
    // On whole racks the same group holds 2 ranks of rack 0 (64, 68) and 14 of rack 1: it crosses the network.
    const whole = place(nvl72, { tp: 4, cp: 1, dp: 16, pp: 8, ep: 1, etp: 1 }).dp;
    expect(whole.link!.topology!.domains).toBe(2);
    expect(allReduceChoice(S, 16, whole.link!).time).toBeGreaterThan(3 * c.time);
  });

  it("is refused where the profile has no multi-node domain, or it is not whole nodes of it", () => {
    expect(() => onDomainsOf(hardware("dgx-h100"), 8, "dgx-h100")).toThrow(/--gpus-per-domain 8: dgx-h100's NVLink domain is its node of 8 GPUs/);
    expect(() => onDomainsOf(nvl72, 66, "gb200-nvl72")).toThrow(/--gpus-per-domain 66: not whole nodes of 4 GPUs/);
    expect(() => onDomainsOf(nvl72, 80, "gb200-nvl72")).toThrow(/more than the 72 GPUs/);
  });
});

describe("plan --gpus-per-domain", () => {
  it("says the slice in the header and --json, and prices the plan on it", async () => {
    const args = ["plan", "--model", "llama3-70b", "--profile", "gb200-nvl72", "--gpus", "512", "--tp", "4", "--pp", "8", "--dp", "16", "--zero", "0", "--micro-batch", "1", "--recompute", "none", "--simulate-top", "0"];
    const sliced = await runCli([...args, "--gpus-per-domain", "64", "--json"]);
    expect(sliced.code, sliced.stderr).toBe(0);
    const j = JSON.parse(sliced.stdout);
    expect([j.cluster.gpusPerDomain, j.cluster.nvlinkDomain]).toEqual([64, 72]);
    const whole = JSON.parse((await runCli([...args, "--json"])).stdout);
    // The same degrees: with 8 stages of 64 GPUs, a rack is a stage's dp group (tp-cp-dp-pp) or
    // holds whole pipelines (tp-cp-pp-dp, 16 of 4 ranks): the search keeps the faster, pp inside the
    // racks, and the step is shorter than on whole racks, where both kinds of group straddle them.
    expect([j.plans[0].order, whole.plans[0].order]).toEqual(["tp-cp-pp-dp", "tp-cp-dp-pp"]);
    expect(j.plans[0].orderReason).toMatch(/pp inside an NVLink domain at 900 GB\/s/);
    expect(j.plans[0].time.ppComm).toBeLessThan(whole.plans[0].time.ppComm / 4);
    expect(j.plans[0].time.step).toBeLessThan(whole.plans[0].time.step);
    const text = await runCli([...args, "--gpus-per-domain", "64"]);
    expect(text.stdout).toContain("gb200-nvl72: 128 nodes × 4 (64 GPUs of each 72-GPU NVLink domain)");
    const bad = await runCli([...args, "--profile", "dgx-h100", "--gpus-per-domain", "8"]);
    expect([bad.code, bad.stderr.trim().split("\n").length]).toEqual([2, 1]);
  });
  it("--sweep-gpus says the slice in its header and --json, as plan does (it said \"4 GPUs a node\" alone)", async () => {
    const args = ["plan", "--model", "llama3-8b", "--profile", "gb200-nvl72", "--tokens", "1T", "--sweep-gpus", "64,128", "--gpus-per-domain", "64"];
    const text = await runCli(args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split("\n")[0]).toContain("on 64, 128 × B200 (GB200) 186GB — gb200-nvl72: 4 GPUs a node (64 GPUs of each 72-GPU NVLink domain), NVLink");
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    expect(j.cluster).toEqual({ gpusPerNode: 4, gpusPerDomain: 64, nvlinkDomain: 72 });
    // without the flag: neither
    const whole = await runCli(args.slice(0, -2));
    expect(whole.stdout.split("\n")[0]).not.toContain("NVLink domain)");
    expect(JSON.parse((await runCli([...args.slice(0, -2), "--json"])).stdout).cluster).toBeUndefined();
  });

  it("--tokens on a slice says the racks it holds, idle GPUs included, beside the GPUs used (it said the used alone)", async () => {
    const args = ["plan", "--model", "llama3-8b", "--profile", "gb200-nvl72", "--gpus", "512", "--gpus-per-domain", "64", "--tokens", "1T", "--price", "3", "--top", "1", "--simulate-top", "0"];
    const j = JSON.parse((await runCli([...args, "--json"])).stdout).run;
    // 512 GPUs at 64 a rack: 512 / 64 = 8 racks of 72 = 576 GPUs held, 64 idle; 576/512 = 1.125×
    expect(j.held).toMatchObject({ domains: 8, of: 72, gpus: 576, idle: 64 });
    expect(j.held.gpuHours).toBeCloseTo(j.gpuHours * 1.125, 6);
    expect(j.held.cost).toBeCloseTo(j.gpuHours * 1.125 * 3, 4);
    const text = (await runCli(args)).stdout;
    expect(text).toMatch(/GPU-hours · cost \$[0-9.]+k at \$3\/GPU-hour \(the 512 GPUs used\)\n  held: 8 NVLink domains of 72 GPUs = 576 GPUs, 64 of them idle: /);
    // whole racks (no slice): no such line, no field
    const wholeArgs = args.filter((a, i) => a !== "--gpus-per-domain" && args[i - 1] !== "--gpus-per-domain");
    expect((await runCli(wholeArgs)).stdout).not.toContain("held:");
    expect(JSON.parse((await runCli([...wholeArgs, "--json"])).stdout).run.held).toBeUndefined();
    // 144 GPUs at 72 a rack: two whole racks, none idle, no line
    const full = ["plan", "--model", "llama3-8b", "--profile", "gb200-nvl72", "--gpus", "144", "--gpus-per-domain", "72", "--tokens", "1T", "--top", "1", "--simulate-top", "0"];
    expect((await runCli(full)).stdout).not.toContain("held:");
    // 100 GPUs at 64 a rack: 2 racks, 144 GPUs held, 44 idle
    const part = JSON.parse((await runCli([...full.slice(0, 5), "--gpus", "100", "--gpus-per-domain", "64", ...full.slice(9), "--json"])).stdout).run;
    expect(part.held).toMatchObject({ domains: 2, gpus: 144, idle: 44 });
  });

  it("--sweep-gpus on a slice prices each count on the racks it holds, as the held: line (it priced the GPUs used, under whole racks)", async () => {
    const args = ["plan", "--model", "llama3-8b", "--profile", "gb200-nvl72", "--gpus-per-domain", "64", "--sweep-gpus", "64,128", "--tokens", "1T", "--price", "3", "--deadline", "30d"];
    const j = JSON.parse((await runCli([...args, "--json"])).stdout);
    // 64 GPUs: 1 rack of 72, 8 idle (×72/64); 128: 2 racks, 144 GPUs, 16 idle (×144/128); both 1.125×
    const [a, b] = j.points.map((p: { run: { gpuHours: number; cost: number; held: unknown } }) => p.run);
    expect(a.held).toMatchObject({ domains: 1, of: 72, gpus: 72, idle: 8 });
    expect(b.held).toMatchObject({ domains: 2, of: 72, gpus: 144, idle: 16 });
    for (const r of [a, b]) {
      expect(r.held.gpuHours).toBeCloseTo(r.gpuHours * 1.125, 6);
      expect(r.held.cost).toBeCloseTo(r.gpuHours * 1.125 * 3, 4);
    }
    expect(j.deadline).toMatchObject({ gpus: 64, costOf: "held" });
    // the same as plan --gpus 64's held: line and run.held (one count's figures, not a sweep's of its own)
    const one = JSON.parse((await runCli(["plan", "--model", "llama3-8b", "--profile", "gb200-nvl72", "--gpus-per-domain", "64", "--gpus", "64", "--tokens", "1T", "--price", "3", "--json"])).stdout);
    expect(one.run.held.cost).toBeCloseTo(a.held.cost, 4);
    const text = (await runCli(args)).stdout;
    expect(text).toContain("GPU-hours and cost count the GPUs held: whole 72-GPU NVLink domains, idle GPUs included");
    const row = text.split("\n").find((l) => /^ 128   144  /.test(l));
    expect(row, text).toContain(usd(b.held.cost));
    expect(text).toContain("cost (USD, the NVLink domains held)");
    expect(text).toMatch(/deadline 30.0 days: the cheapest count that meets it is 64 GPUs, [0-9.]+ days, \$[0-9.]+k for the 1 NVLink domain held, 72 GPUs;/);
    expect(text).toContain(`days, ${usd(a.held.cost)} for the 1 NVLink domain held`);
    // whole racks: no held column, no field, the deadline's cost on the GPUs used
    const whole = args.filter((x, i) => x !== "--gpus-per-domain" && args[i - 1] !== "--gpus-per-domain");
    expect((await runCli(whole)).stdout).not.toContain("held");
    const wj = JSON.parse((await runCli([...whole, "--json"])).stdout);
    expect([wj.points[0].run.held, wj.deadline.costOf]).toEqual([undefined, undefined]);
  });
});
