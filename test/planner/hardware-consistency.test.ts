// QA: figures that contradict one another were each accepted. A node of 8 H100s at 1 kW priced
// --power node at 125 W a GPU (board basis 700 W); dgx-b200 with run.boardPower 3000 W kept its
// 14.3 kW node (1,788 W a GPU against 3,000); a PCIe H100 with a 1600 Gb/s NIC moved 200 GB/s over
// a 63 GB/s PCIe link; dgx-h100's 450 GB/s link relabelled "pcie" printed "PCIe 450 GB/s".
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { message } from "../engines/engine-file.js";
import { parseHardwareFile, resolveExtends } from "../../planner/index.js";
import { PCIE_X16_MAX } from "../../planner/schema/consistency.js";
import { runCli } from "../cli/helpers.js";
import { tempDir } from "../tmp-dirs.js";
import { builtinHardwareNames, hardware as builtin, rawHardware } from "./fixtures.js";

/** A file extending `base` with `over`, parsed as a user's file is: `own` is the file itself. */
function mine(base: string, over: Record<string, unknown>) {
  const own = { name: "mine", extends: base, ...over };
  const merged = resolveExtends(own, rawHardware, "mine.json");
  if (!merged.ok) return merged;
  return parseHardwareFile(merged.value, "mine.json", own);
}

describe("run.nodePower at least node.gpusPerNode × the board power", () => {
  it("1 kW for dgx-h100's 8 × 700 W = 5.6 kW: refused naming run.nodePower, with both figures", () => {
    expect(message(mine("dgx-h100", { run: { nodePower: "1 kW" } }))).toMatch(
      /^mine\.json: field "run\.nodePower" \(1 kW\) is below node\.gpusPerNode × run\.boardPower, 8 × 700 W = 5\.6 kW: /,
    );
  });

  it("run.boardPower 3000 W under dgx-b200's inherited 14.3 kW (8 × 3000 W = 24 kW): refused naming boardPower, the field the file set", () => {
    expect(message(mine("dgx-b200", { run: { boardPower: "3000 W" } }))).toMatch(
      /^mine\.json: field "run\.boardPower" \(3000 W\) puts node\.gpusPerNode × run\.boardPower, 8 × 3000 W = 24 kW, above "run\.nodePower" \(14\.3 kW\): /,
    );
  });

  it("node.gpusPerNode 16 under dgx-h100's 10.2 kW (16 × 700 W = 11.2 kW): refused naming gpusPerNode", () => {
    expect(message(mine("dgx-h100", { node: { gpusPerNode: 16 } }))).toMatch(/^mine\.json: field "node\.gpusPerNode" \(16\) puts node\.gpusPerNode × run\.boardPower, 16 × 700 W = 11\.2 kW, above "run\.nodePower" \(10\.2 kW\)/);
  });

  it("exactly 8 × 700 W = 5.6 kW is taken; a board capped at 500 W holds a node of 4.5 kW (≥ 8 × 500 W), not 3.9 kW", () => {
    expect(message(mine("dgx-h100", { run: { nodePower: "5.6 kW" } }))).toBe("");
    expect(message(mine("dgx-h100", { run: { nodePower: "5599 W" } }))).toMatch(/"run\.nodePower" \(5599 W\) is below/);
    // h100-96g-500w: gpu.powerLimit 500 W, run.boardPower 500 W.
    expect(message(mine("h100-96g-500w", { run: { nodePower: "4.5 kW" } }))).toBe("");
    expect(message(mine("h100-96g-500w", { run: { nodePower: "3.9 kW" } }))).toMatch(/"run\.nodePower" \(3\.9 kW\) is below node\.gpusPerNode × run\.boardPower, 8 × 500 W = 4 kW/);
  });

  it("the CLI: exit 2, one line naming the field; --power node on a valid node is its power ÷ 8", async () => {
    const dir = tempDir();
    const np2 = join(dir, "np2.json");
    writeFileSync(np2, JSON.stringify({ name: "np2", extends: "dgx-h100", run: { nodePower: "1 kW" } }));
    const r = await runCli(["plan", "--model", "llama3-8b", "--gpus", "16", "--profile", np2, "--tokens", "1T", "--power", "node"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/np2\.json: field "run\.nodePower" \(1 kW\) is below .* 5\.6 kW/);
    const ok = await runCli(["plan", "--model", "llama3-8b", "--gpus", "16", "--tokens", "1T", "--power", "node", "--top", "1", "--simulate-top", "0", "--json"]);
    expect(JSON.parse(ok.stdout).run.power.wattsPerGpu).toBe(10200 / 8); // DGX H100: 10.2 kW for 8 GPUs
  });
});

describe("a PCIe node link: at most PCIe 6.0 x16, and the network per GPU at most the link", () => {
  it("the bound is PCIe 6.0 x16: 16 lanes × 64 GT/s ÷ 8 bits = 128 GB/s each way", () => {
    expect(PCIE_X16_MAX).toBe((16 * 64e9) / 8);
  });

  it("dgx-h100's 450 GB/s NVLink relabelled pcie: refused naming node.link.kind (the file set only it); a bandwidth the file gives is named", () => {
    expect(message(mine("dgx-h100", { node: { link: { kind: "pcie" } } }))).toMatch(/^mine\.json: field "node\.link\.kind" \("pcie"\): "node\.link\.bandwidth" \(450 GB\/s\) is above 128 GB\/s each way, PCIe 6\.0 x16's/);
    expect(message(mine("h100-pcie", { node: { link: { bandwidth: "200 GB/s" } } }))).toMatch(/^mine\.json: field "node\.link\.bandwidth" \(200 GB\/s\) is above 128 GB\/s each way/);
    expect(message(mine("h100-pcie", { node: { link: { bandwidth: "128 GB/s" } } }))).toBe("");
  });

  it("h100-pcie (PCIe 5.0 x16, 63 GB/s) with 1600 Gb/s (200 GB/s) a GPU: refused naming network.bandwidth; 504 Gb/s (63 GB/s) is taken", () => {
    expect(message(mine("h100-pcie", { network: { bandwidth: "1600 Gb/s" } }))).toMatch(
      /^mine\.json: field "network\.bandwidth" \(1600 Gb\/s = 200 GB\/s per GPU\) is above "node\.link\.bandwidth" \(63 GB\/s\): on a PCIe node/,
    );
    expect(message(mine("h100-pcie", { network: { bandwidth: "504 Gb/s" } }))).toBe("");
    expect(message(mine("h100-pcie", { network: { bandwidth: "505 Gb/s" } }))).toMatch(/"network\.bandwidth"/);
    // The link lowered below the inherited network (12.5 GB/s): the link is the field named.
    expect(message(mine("h100-pcie", { node: { link: { bandwidth: "10 GB/s" } } }))).toMatch(/^mine\.json: field "node\.link\.bandwidth" \(10 GB\/s\) is below "network\.bandwidth" \(100 Gb\/s = 12\.5 GB\/s per GPU\)/);
  });

  it("an NVLink node's network is not held to the NVLink figure", () => {
    expect(message(mine("dgx-h100", { network: { bandwidth: "800 Gb/s" } }))).toBe("");
  });
});

describe("every built-in profile meets the rules", () => {
  it.each(builtinHardwareNames())("%s", (name) => {
    const hw = builtin(name);
    const r = hw.run ?? {};
    const board = Math.min(r.boardPower ?? Infinity, hw.powerLimit ?? Infinity);
    if (r.nodePower !== undefined && board !== Infinity) expect(r.nodePower).toBeGreaterThanOrEqual(hw.gpusPerNode * board);
    if (hw.intra.kind === "pcie") {
      expect(hw.intra.bandwidth).toBeLessThanOrEqual(128e9);
      expect(hw.inter.bandwidth).toBeLessThanOrEqual(hw.intra.bandwidth);
    }
  });
  it("dgx-h100: 10.2 kW ≥ 8 × 700 W; h100-pcie: 12.5 GB/s network under its 63 GB/s PCIe 5.0 x16 link", () => {
    const [dgx, pcie] = [builtin("dgx-h100"), builtin("h100-pcie")];
    expect([dgx.run?.nodePower, dgx.gpusPerNode, dgx.run?.boardPower]).toEqual([10200, 8, 700]);
    expect([pcie.intra.kind, pcie.intra.bandwidth, pcie.inter.bandwidth]).toEqual(["pcie", 63e9, 12.5e9]);
  });
});
