// Figures of a hardware profile that each look plausible alone (./plausible.ts) but contradict one
// another: a node's power below its GPUs' boards, a PCIe link faster than any PCIe, a NIC faster
// than the PCIe link its traffic crosses. Checked on the profile as resolved (its `extends` merged),
// so a figure a file changes is held against those it inherits; the message names the field the
// file itself set (`own`: the file before `extends`), the one to correct, and gives both figures.
import type { Hardware } from "../types.js";
import { showBound } from "./plausible.js";

/** The fastest PCIe x16 link, each way: PCIe 6.0 runs 64 GT/s a lane (PCI-SIG, PCI Express 6.0
 *  Base Specification, January 2022: twice 5.0's 32 GT/s), 16 lanes × 64 Gb/s = 128 GB/s each way
 *  before the FLIT framing. PCIe 5.0 x16, the fastest link of today's GPU slots (H100 PCIe, the
 *  profiles' device-to-host copies), is about 63 GB/s each way (128b/130b encoding:
 *  shared/reference/hardware.md). Above 128 GB/s a "pcie" link is NVLink or Infinity Fabric
 *  mislabelled, or a bidirectional figure for a one-way one. */
export const PCIE_X16_MAX = 128e9;

/** Whether the file as written sets the field at `path` (dot-separated). Unknown (no file): false. */
function sets(own: unknown, path: string): boolean {
  let x = own;
  for (const k of path.split(".")) {
    if (typeof x !== "object" || x === null || !(k in x)) return false;
    x = (x as Record<string, unknown>)[k];
  }
  return true;
}

/** The first of `fields` the file sets, else the first (the figure the rule is about). */
const blamed = (own: unknown, fields: readonly string[]) => fields.find((f) => sets(own, f)) ?? fields[0]!;

/** The first contradiction among the profile's figures, as a message naming a field, or null.
 *  `written`: each figure as the file wrote it ("1 kW"), for the messages. */
export function inconsistentFigure(hw: Hardware, written: Record<string, unknown>, own: unknown): string | null {
  const shown = (path: string, v: number, q: "watts" | "bytes/s") => {
    const w = written[path];
    return typeof w === "string" ? w : showBound(v, q);
  };
  // Node power: the README's --power node is a whole node's power divided by its GPUs, which draw
  // up to their board power (a capped board up to its cap, as the board basis prices it). A node
  // rated below its GPUs' boards (DGX H100: 10.2 kW holds 8 × 700 W = 5.6 kW) priced the node
  // basis below the board one: 1 kW for 8 H100s was 125 W a GPU against 700 W.
  const run = hw.run ?? {};
  const capped = run.boardPower !== undefined && hw.powerLimit !== undefined && hw.powerLimit < run.boardPower;
  const board = capped || run.boardPower === undefined ? hw.powerLimit : run.boardPower;
  const boardField = capped || run.boardPower === undefined ? "gpu.powerLimit" : "run.boardPower";
  if (run.nodePower !== undefined && board !== undefined && run.nodePower < hw.gpusPerNode * board) {
    const field = blamed(own, ["run.nodePower", boardField, "node.gpusPerNode"]);
    const node = shown("run.nodePower", run.nodePower, "watts");
    const product = `node.gpusPerNode × ${boardField}, ${hw.gpusPerNode} × ${shown(boardField, board, "watts")} = ${showBound(hw.gpusPerNode * board, "watts")}`;
    const what = field === "run.nodePower" ? `field "run.nodePower" (${node}) is below ${product}` : `field "${field}" (${field === "node.gpusPerNode" ? hw.gpusPerNode : shown(field, board, "watts")}) puts ${product}, above "run.nodePower" (${node})`;
    return `${what}: a node draws at least its GPUs' board power (DGX H100: 10.2 kW for 8 × 700 W), and --power node divides the node's among them; give the whole node's power, or these GPUs' board power`;
  }
  if (hw.intra.kind !== "pcie") return null;
  const link = shown("node.link.bandwidth", hw.intra.bandwidth, "bytes/s");
  if (hw.intra.bandwidth > PCIE_X16_MAX) {
    const field = blamed(own, ["node.link.bandwidth", "node.link.kind"]);
    const what = field === "node.link.bandwidth" ? `field "node.link.bandwidth" (${link}) is` : `field "node.link.kind" ("pcie"): "node.link.bandwidth" (${link}) is`;
    return (
      `${what} above ${showBound(PCIE_X16_MAX, "bytes/s")} each way, PCIe 6.0 x16's, the fastest PCIe link (PCIe 5.0 x16: about 63 GB/s); ` +
      `a faster in-node link is NVLink ("nvlink") or Infinity Fabric ("infinity-fabric"), else give the PCIe link's bandwidth each way`
    );
  }
  // Each GPU's network traffic crosses its PCIe link to the NIC (GPUDirect RDMA through the PCIe
  // switch), so on a PCIe node it moves no faster than that link.
  if (hw.inter.bandwidth > hw.intra.bandwidth) {
    const field = blamed(own, ["network.bandwidth", "node.link.bandwidth", "node.link.kind"]);
    const w = written["network.bandwidth"];
    const net = typeof w === "string" && showBound(hw.inter.bandwidth, "bytes/s") !== w ? `${w} = ${showBound(hw.inter.bandwidth, "bytes/s")}` : showBound(hw.inter.bandwidth, "bytes/s");
    const what =
      field === "network.bandwidth" ? `field "network.bandwidth" (${net} per GPU) is above "node.link.bandwidth" (${link})`
      : field === "node.link.bandwidth" ? `field "node.link.bandwidth" (${link}) is below "network.bandwidth" (${net} per GPU)`
      : `field "node.link.kind" ("pcie"): "network.bandwidth" (${net} per GPU) is above "node.link.bandwidth" (${link})`;
    return `${what}: on a PCIe node each GPU's network traffic crosses its PCIe link to the NIC, so a GPU's network bandwidth is at most its PCIe link's`;
  }
  return null;
}
