// The optional `fabric` block of a hardware profile: what lies beyond one node and one flat
// network. Every figure may carry its source, like the rest of the file.
//   "fabric": {
//     "nvlinkDomain": 72,                                  GPUs one NVLink domain reaches (GB200 NVL72)
//     "nvls":  { "efficiency": 0.61, "latency": "25 us" },  NVLink SHARP all-reduce in the domain
//               ("scaleByGroupSize": [[4, 0.899], [8, 1]]: × efficiency by the GPUs reducing)
//     "leaf":  { "gpus": 256, "latency": "4 us" },          rail-optimised leaf tier (one switch hop)
//     "pod":   { "gpus": 3072, "oversubscription": 7 },     full bisection inside, r:1 above
//     "sharp": { "efficiency": 0.9, "latency": "10 us" }    SHARP reduction in the network switches
//   }
// Absent: the node is the NVLink domain and the network is flat (the profiles before fabrics).
import type { z } from "zod";
import type { Fabric, InNetworkReduction, NvlsReduction } from "../types.js";
import { type FigureIn } from "./figure.js";

/** The block's zod schema, built inside hardware.ts's lazy schemas (zod is loaded on first use). */
export function fabricSchema(zz: typeof z, figure: <T extends z.ZodTypeAny>(v: T) => z.ZodTypeAny) {
  const quantity = figure(zz.string().min(1));
  const fraction = figure(zz.number().gt(0).lte(1));
  const count = figure(zz.number().int().positive());
  const bySize = figure(zz.array(zz.tuple([zz.number().int().min(2), zz.number().gt(0).lte(1)])).min(1));
  const reduction = zz.object({ efficiency: fraction, latency: quantity }).strict();
  // (only NVLS has a table: the SHARP tuner term reads one figure, so a table there was ignored)
  const nvls = zz.object({ efficiency: fraction, latency: quantity, scaleByGroupSize: bySize.optional() }).strict();
  return zz
    .object({
      nvlinkDomain: count.optional(),
      nvls: nvls.optional(),
      leaf: zz.object({ gpus: count, latency: quantity }).strict().optional(),
      pod: zz.object({ gpus: count, oversubscription: figure(zz.number().min(1)) }).strict().optional(),
      sharp: reduction.optional(),
    })
    .strict();
}

interface ReductionIn {
  efficiency: FigureIn<number>;
  latency: FigureIn<string>;
}
export interface FabricIn {
  nvlinkDomain?: FigureIn<number>;
  nvls?: ReductionIn & { scaleByGroupSize?: FigureIn<[number, number][]> };
  leaf?: { gpus: FigureIn<number>; latency: FigureIn<string> };
  pod?: { gpus: FigureIn<number>; oversubscription: FigureIn<number> };
  sharp?: ReductionIn;
}

/** Resolve the block with the profile's own figure readers (sources recorded under `fabric.…`);
 *  the tiers must nest: node ⊆ NVLink domain ⊆ leaf ⊆ pod. Returns the fabric or a message. */
export function resolveFabric(
  f: FabricIn,
  gpusPerNode: number,
  fig: <T>(path: string, x: FigureIn<T>) => T,
  seconds: (path: string, x: FigureIn<string>) => number,
): Fabric | string {
  const reduction = (path: string, r: ReductionIn | undefined): InNetworkReduction | null =>
    r ? { efficiency: fig(`${path}.efficiency`, r.efficiency), latency: seconds(`${path}.latency`, r.latency) } : null;
  const nvls: NvlsReduction | null = reduction("fabric.nvls", f.nvls);
  if (nvls && f.nvls?.scaleByGroupSize !== undefined) {
    const path = "fabric.nvls.scaleByGroupSize";
    const pts = fig(path, f.nvls.scaleByGroupSize);
    if (pts.some((q, i) => i > 0 && q[0] <= pts[i - 1]![0])) return `field "${path}": the group sizes must ascend, each once`;
    // fabric.nvls.efficiency is the largest listed group's figure, the others a share of it.
    if (pts[pts.length - 1]![1] !== 1) return `field "${path}": the largest group size's factor must be 1 (fabric.nvls.efficiency is its figure)`;
    nvls.scaleByGroupSize = pts;
  }
  const fabric: Fabric = {
    nvlinkDomain: f.nvlinkDomain === undefined ? gpusPerNode : fig("fabric.nvlinkDomain", f.nvlinkDomain),
    nvls,
    leaf: f.leaf ? { gpus: fig("fabric.leaf.gpus", f.leaf.gpus), latency: seconds("fabric.leaf.latency", f.leaf.latency) } : null,
    pod: f.pod ? { gpus: fig("fabric.pod.gpus", f.pod.gpus), oversubscription: fig("fabric.pod.oversubscription", f.pod.oversubscription) } : null,
    sharp: reduction("fabric.sharp", f.sharp),
  };
  const tiers: [string, number][] = [["node.gpusPerNode", gpusPerNode], ["fabric.nvlinkDomain", fabric.nvlinkDomain]];
  if (fabric.leaf) tiers.push(["fabric.leaf.gpus", fabric.leaf.gpus]);
  if (fabric.pod) tiers.push(["fabric.pod.gpus", fabric.pod.gpus]);
  for (let i = 1; i < tiers.length; i++) {
    const [inner, a] = tiers[i - 1]!;
    const [outer, b] = tiers[i]!;
    if (b % a !== 0) return `field "${outer}": ${b} GPUs is not a whole number of ${inner} blocks of ${a}`;
  }
  return fabric;
}
