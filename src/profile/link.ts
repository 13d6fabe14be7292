// The intra-node link of a measured profile: α and B fitted per link class from the collectives
// (collective-fit.ts), written as node.link latency and collectiveEfficiency (B over the link's
// rate, nccl-tests' busbw / link bandwidth). One rank has no interconnect to measure: the base
// profile's link figures stay, and are not listed as measured.
import type { Hardware } from "../../planner/index.js";
import { type CollectiveFit, type LinkClass, type LinkFigures, fitAll, linkFigures } from "./collective-fit.js";
import { type Detected, detectedLinkRate } from "./detect.js";
import type { CollectiveSample, Measurements } from "./events.js";
import { fmt } from "./files.js";
import { groupLinkKind } from "./topo.js";

export interface NodeLink {
  link: LinkClass;
  kind: "nvlink" | "pcie";
  alpha: number;
  /** Fitted per-rank bandwidth B, bytes/s. */
  achieved: number;
  /** The link's rate the efficiency is relative to, bytes/s. */
  rate: number;
  efficiency: number;
}

export interface LinkPart {
  /** Overrides for node.link (empty when nothing was measured). */
  link: Record<string, unknown>;
  measured: string[];
  notes: string[];
  figures: LinkFigures[];
  fits: CollectiveFit[];
  node: NodeLink | null;
}

/** The link class each sample ran over: loopback for CPU ranks; from topo -m for GPUs (rank r on
 *  GPU r, torchrun's local rank order); the base profile's kind when topology is unknown. */
export function classifier(device: "cuda" | "cpu", d: Detected, baseKind: "nvlink" | "pcie"): (s: CollectiveSample) => LinkClass {
  if (device === "cpu") return () => "loopback";
  const t = d.topology;
  if (!t) return () => baseKind;
  return (s) => {
    const ranks = s.pair ?? Array.from({ length: s.ranks }, (_, i) => i);
    const rows = ranks.map((r) => t.gpus.indexOf(r)).filter((i) => i >= 0);
    return rows.length === ranks.length ? groupLinkKind(t, rows) : baseKind;
  };
}

export interface LinkInput {
  device: "cuda" | "cpu";
  detected: Detected;
  base: Hardware;
  baseName: string;
  m: Measurements;
  /** Source prefix: "measured by paraplan profile on HOST DATE". */
  by: string;
  /** Ranks the collectives were to run on. */
  ranks: number;
}

export function linkPart(i: LinkInput): LinkPart {
  const baseKind = i.base.intra.kind === "nvlink" ? "nvlink" : "pcie";
  const empty = (note: string): LinkPart => ({ link: {}, measured: [], notes: [note], figures: [], fits: [], node: null });
  const keep = `node.link keeps ${i.baseName}'s figures (not measured)`;
  if (i.ranks < 2) return empty(`one ${i.device === "cpu" ? "rank" : "GPU"}: no interconnect to measure; ${keep}`);
  if (i.m.world < 2 || i.m.collectives.length === 0) return empty(`no collectives were measured; ${keep}`);
  const fits = fitAll(i.m.collectives, classifier(i.device, i.detected, baseKind));
  const figures = linkFigures(fits);
  // The node-wide class: what the group of all ranks runs over.
  const all = fits.find((f) => f.ranks === i.m.world && f.op !== "send_recv");
  const nodeClass: LinkClass = all?.link ?? figures[0]?.link ?? "loopback";
  const fig = figures.find((f) => f.link === nodeClass);
  if (!fig) return empty(`the collectives gave no usable α–β fit; node.link keeps ${i.baseName}'s figures (not measured)`);
  const kind = nodeClass === "loopback" ? baseKind : nodeClass;
  const notes: string[] = [];
  const measured = ["node.link.latency", "node.link.collectiveEfficiency"];
  const link: Record<string, unknown> = {};
  let rate = i.base.intra.bandwidth;
  if (kind !== baseKind) {
    link.kind = kind;
    measured.push("node.link.kind");
    const detected = detectedLinkRate(i.detected);
    if (detected) {
      rate = detected.value;
      link.bandwidth = { value: fmt.bandwidth(rate), source: detected.source };
      measured.push("node.link.bandwidth");
    } else notes.push(`the ${kind} link's rate was not reported by nvidia-smi: efficiency is relative to ${i.baseName}'s ${fmt.bandwidth(rate)}`);
  }
  let efficiency = fig.bandwidth / rate;
  if (efficiency > 1) {
    notes.push(`the measured ${fmt.bandwidth(fig.bandwidth)} per rank exceeds the link rate ${fmt.bandwidth(rate)} of ${i.baseName}: bandwidth set to the measured rate, efficiency 1`);
    rate = fig.bandwidth;
    efficiency = 1;
    link.bandwidth = { value: fmt.bandwidth(rate), source: `${i.by}: fitted per-rank bandwidth, above ${i.baseName}'s stated rate` };
    if (!measured.includes("node.link.bandwidth")) measured.push("node.link.bandwidth");
  }
  const ops = [...new Set(fig.fits.map((f) => f.op))].join(", ");
  const ranks = [...new Set(fig.fits.map((f) => f.ranks))].sort((a, b) => a - b).join(", ");
  const sizes = i.m.collectives.map((s) => s.bytes);
  const span = `${fmtBytes(Math.min(...sizes))}–${fmtBytes(Math.max(...sizes))}`;
  const how = `least-squares fit of t = a + b·M per collective (${ops}; ${span}; groups of ${ranks} ranks) with the ring factors of nccl-tests PERFORMANCE.md (all-reduce 2(n−1)α + 2(n−1)/n·M/B), median over ${fig.fits.length} collectives over ${nodeClass}`;
  link.latency = { value: fmt.latency(fig.alpha), source: `${i.by}: α, ${how}` };
  link.collectiveEfficiency = {
    value: Number(efficiency.toPrecision(3)),
    source: `${i.by}: fitted B ${fmt.bandwidth(fig.bandwidth)} per rank (large-message busbw ${fmt.bandwidth(fig.busbw)}) of ${fmt.bandwidth(rate)}; ${how}`,
  };
  if (figures.length > 1)
    for (const f of figures.filter((x) => x.link !== nodeClass))
      notes.push(`${f.link} (GPU groups that share it): α ${fmt.latency(f.alpha)}, B ${fmt.bandwidth(f.bandwidth)} per rank — the profile's single intra-node link is the node-wide ${nodeClass}`);
  return { link, measured, notes, figures, fits, node: { link: nodeClass, kind, alpha: fig.alpha, achieved: fig.bandwidth, rate, efficiency } };
}

export function fmtBytes(b: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let u = 0;
  while (b >= 1024 && u < units.length - 1) {
    b /= 1024;
    u++;
  }
  return `${Number(b.toPrecision(3))} ${units[u]}`;
}
