// `--gpus-per-domain N`: a job that uses N GPUs of each multi-node NVLink domain. GB200 NVL72
// racks are 18 compute trays of 4 GPUs in one 72-GPU NVLink domain (DGX SuperPOD GB200 RA,
// "Network Fabrics"; shared/reference/hardware-2026.md); jobs commonly run 16 trays of each rack,
// 64 GPUs, so that power-of-two tp · cp · dp groups tile the racks, the other trays idle or spare.
// On 72-GPU domains such groups do not tile: the plan prices the worst group, the one split across
// two racks (README "Placement"), which a 64-GPU slice avoids.
import type { Hardware } from "../planner/index.js";
import { UserError } from "./errors.js";

/** The profile's hardware with `perDomain` GPUs used of each NVLink domain: whole nodes of it,
 *  the fabric's outer tiers (leaf, pod) keeping their count of domains, so a 576-GPU scalable unit
 *  of 8 NVL72 racks is 8 · 64 = 512 GPUs at 64 a rack. Links and node power are the node's, as
 *  every used tray is a whole node. `profileName` names the profile in the message. */
export function onDomainsOf(hw: Hardware, perDomain: number, profileName: string): Hardware {
  const flag = `--gpus-per-domain ${perDomain}`;
  const domain = hw.fabric?.nvlinkDomain ?? hw.gpusPerNode;
  if (hw.fabric === undefined || domain <= hw.gpusPerNode)
    throw new UserError(`${flag}: ${profileName}'s NVLink domain is its node of ${hw.gpusPerNode} GPUs; the flag slices NVLink domains of several nodes (gb200-nvl72's 72 GPUs): use --gpus for fewer GPUs`);
  if (perDomain > domain) throw new UserError(`${flag}: more than the ${domain} GPUs of ${profileName}'s NVLink domain`);
  if (perDomain % hw.gpusPerNode !== 0)
    throw new UserError(`${flag}: not whole nodes of ${hw.gpusPerNode} GPUs (${profileName}'s nodes are used whole; e.g. ${Math.max(hw.gpusPerNode, perDomain - (perDomain % hw.gpusPerNode))})`);
  if (perDomain === domain) return hw;
  const f = hw.fabric;
  // A tier above the domain holds a whole number of domains (planner/schema/fabric.ts): that many
  // slices now.
  const scaled = (gpus: number) => (gpus / domain) * perDomain;
  return {
    ...hw,
    fabric: {
      ...f,
      nvlinkDomain: perDomain,
      leaf: f.leaf && { ...f.leaf, gpus: scaled(f.leaf.gpus) },
      pod: f.pod && { ...f.pod, gpus: scaled(f.pod.gpus) },
    },
  };
}

/** The header's words for a slice: "64 GPUs of each 72-GPU NVLink domain". */
export function domainSliceText(used: number, of: number): string {
  return `${used} GPUs of each ${of}-GPU NVLink domain`;
}

/** The NVLink domain the header and --json's cluster name where it spans several nodes
 *  (gb200-nvl72: 72 GPUs on 4-GPU trays), else undefined: a DGX's domain is its node. */
export function multiNodeDomain(hw: Pick<Hardware, "gpusPerNode" | "fabric">): number | undefined {
  const domain = hw.fabric?.nvlinkDomain;
  return domain !== undefined && domain > hw.gpusPerNode ? domain : undefined;
}

/** The header's parenthesis after "N nodes × k": the slice (--gpus-per-domain), else the
 *  multi-node NVLink domain the nodes form ("72-GPU NVLink domains"; QA: "144 nodes × 4,
 *  NVLink 900 GB/s" read as NVLink inside each 4-GPU tray only), else nothing. */
export function domainNote(hw: Pick<Hardware, "gpusPerNode" | "fabric">, slice?: { used: number; of: number }): string {
  if (slice) return ` (${domainSliceText(slice.used, slice.of)})`;
  const domain = multiNodeDomain(hw);
  return domain === undefined ? "" : ` (${domain}-GPU NVLink domains)`;
}

/** What a sliced job holds (--gpus-per-domain): the NVLink domains its GPUs occupy, every GPU of
 *  them, and the run's GPU-hours and cost counting the idle ones (`cost` null without --price).
 *  The run's own figures count the GPUs used (README "A slice of each domain"); a rack is rented
 *  or held whole, so the text says both. (QA: 512 GPUs at 64 of 72 printed 115k GPU-hours, $344k,
 *  alone, for eight racks of 576 GPUs: 129k GPU-hours and $387k held.) */
export function heldBySlice(gpus: number, slice: { used: number; of: number }, gpuHours: number, cost: number | null): Held {
  const domains = Math.ceil(gpus / slice.used);
  const held = domains * slice.of;
  const scale = held / gpus;
  return { domains, of: slice.of, gpus: held, idle: held - gpus, gpuHours: gpuHours * scale, cost: cost === null ? null : cost * scale };
}

/** The NVLink domains a sliced job holds (heldBySlice). */
export interface Held {
  domains: number;
  /** GPUs in each domain. */
  of: number;
  gpus: number;
  idle: number;
  gpuHours: number;
  cost: number | null;
}
