// The 2026 built-in profiles (shared/reference/hardware-2026.md): each figure cited with a status,
// the fabric figures that matter, and tensor parallel across GB200 NVL72's 72-GPU NVLink domain.
import { describe, expect, it } from "vitest";
import { place } from "../../planner/layout/groups.js";
import { buildLayout } from "../../planner/layout/layout.js";
import { search } from "../../planner/search.js";
import type { Plan, Training } from "../../planner/types.js";
import { runCli } from "../cli/helpers.js";
import { hardware, preset, rawHardware } from "./fixtures.js";

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
    expect([b.gpusPerNode, b.fabric?.nvlinkDomain, b.fabric?.leaf?.gpus]).toEqual([8, 8, 256]);
    expect([g.gpusPerNode, g.fabric?.nvlinkDomain, g.fabric?.leaf?.gpus]).toEqual([4, 72, 576]);
    // nvidia-smi's memory.total (as dgx-h100's 81559 MiB), not the marketing "180/186 GB" read as
    // decimal bytes, which made each part 6–7% smaller than it is
    expect([b.memory, g.memory]).toEqual([183359 * 2 ** 20, 189471 * 2 ** 20]);
    expect(hardware("mi300x").memory).toBe(205822885888); // rocm-smi: 192 GiB less 320 MiB
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
});

describe("gpt3-175b on 144 GB200 (two NVL72 racks)", () => {
  const m = preset("gpt3-175b");
  const hw = hardware("gb200-nvl72");
  const t: Training = { gpus: 144, globalBatch: 1536, seqLen: 2048, precision: "bf16", fusedAttention: true, overlapGradReduce: true };
  const plan: Plan = { tp: 24, pp: 6, dp: 1, cp: 1, ep: 1, etp: 1, vpp: 1, zero: 0, microBatch: 1, recompute: "full", sequenceParallel: true, schedule: "1f1b" };

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
