// The intra-node link of a measured profile: one α and B fitted per link class over its
// collectives jointly (collective-fit.ts linkFigures), written as node.link latency and
// collectiveEfficiency (B over the link's rate, nccl-tests' busbw / link bandwidth), B no more
// than the large-message bus bandwidth measured. The written pair is then checked against every
// point it was fitted to: where it mispredicts one by more than FIT_TOLERANCE, a warning says so.
// One rank has no interconnect to measure: the base profile's link figures stay, and are not
// listed as measured.
import type { Hardware } from "../../planner/index.js";
import { type CollectiveFit, type LinkClass, type LinkFigures, linkFigures, predictedTime } from "./collective-fit.js";
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
  /** The written α and B against each point they were fitted to (absent: nothing written). */
  check?: FitCheck;
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
  const figures = linkFigures(i.m.collectives, classifier(i.device, i.detected, baseKind));
  const fits = figures.flatMap((f) => f.fits);
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
    } else {
      // The base's rate is that of another kind of link (an NVLink base measured over PCIe): a
      // profile keeping it would state a PCIe link at NVLink speed, which the profile check
      // refuses (planner/schema/consistency.ts). The measured rate is what is known of this one.
      notes.push(`the ${kind} link's rate was not reported by nvidia-smi: its bandwidth is the measured ${fmt.bandwidth(fig.bandwidth)} per rank (efficiency 1), not ${i.baseName}'s ${baseKind} ${fmt.bandwidth(rate)}`);
      rate = fig.bandwidth;
      link.bandwidth = { value: fmt.bandwidth(rate), source: `${i.by}: fitted per-rank bandwidth over the ${kind} link (nvidia-smi reported no link rate)` };
      measured.push("node.link.bandwidth");
    }
  }
  let efficiency = fig.bandwidth / rate;
  if (fig.capped) notes.push(`the joint fit's B was above the large-message bus bandwidth measured (${fmt.bandwidth(fig.busbw)} per rank): B set to it, α refitted`);
  if (efficiency > 1) {
    notes.push(`the measured ${fmt.bandwidth(fig.bandwidth)} per rank exceeds the link rate ${fmt.bandwidth(rate)} of ${i.baseName}: bandwidth set to the measured rate, efficiency 1`);
    rate = fig.bandwidth;
    efficiency = 1;
    link.bandwidth = { value: fmt.bandwidth(rate), source: `${i.by}: fitted per-rank bandwidth, above ${i.baseName}'s stated rate` };
    if (!measured.includes("node.link.bandwidth")) measured.push("node.link.bandwidth");
  }
  const ops = [...new Set(fig.samples.map((f) => f.op))].join(", ");
  const ranks = [...new Set(fig.samples.map((f) => f.ranks))].sort((a, b) => a - b).join(", ");
  const sizes = fig.samples.map((s) => s.bytes);
  const span = `${fmtBytes(Math.min(...sizes))}–${fmtBytes(Math.max(...sizes))}`;
  const collectives = new Set(fig.samples.map((s) => `${s.op}/${s.ranks}/${s.pair?.join("-") ?? ""}`)).size;
  const how = `one least-squares fit of log t to t = L·α + W·M/B over ${fig.samples.length} points of ${collectives} collectives over ${nodeClass} (${ops}; ${span}; groups of ${ranks} ranks), L and W the ring factors of nccl-tests PERFORMANCE.md (all-reduce 2(n−1)α + 2(n−1)/n·M/B)${fig.capped ? `; B capped at the large-message busbw and α refitted` : ""}`;
  link.latency = { value: fmt.latency(fig.alpha), source: `${i.by}: α, ${how}` };
  link.collectiveEfficiency = {
    value: Number(efficiency.toPrecision(3)),
    source: `${i.by}: fitted B ${fmt.bandwidth(fig.bandwidth)} per rank (large-message busbw ${fmt.bandwidth(fig.busbw)}) of ${fmt.bandwidth(rate)}; ${how}`,
  };
  // The pair as written (rounded as the file holds it), against each point it was fitted to.
  const check = fitCheck(fig.samples, parseFloat(fmt.latency(fig.alpha)) * 1e-6, Number(efficiency.toPrecision(3)) * (link.bandwidth === undefined ? rate : parseFloat(fmt.bandwidth(rate)) * 1e9));
  if (check.worst && Math.abs(check.worst.error) > FIT_TOLERANCE) notes.push(fitWarning(check, nodeClass));
  if (figures.length > 1)
    for (const f of figures.filter((x) => x.link !== nodeClass))
      notes.push(`${f.link} (GPU groups that share it): α ${fmt.latency(f.alpha)}, B ${fmt.bandwidth(f.bandwidth)} per rank — the profile's single intra-node link is the node-wide ${nodeClass}`);
  return { link, measured, notes, figures, fits, check, node: { link: nodeClass, kind, alpha: fig.alpha, achieved: fig.bandwidth, rate, efficiency } };
}

/** How far the written α and B may mispredict a point they were fitted to before the profiler
 *  warns: 25%, above the 20% run-to-run spread at which it calls a machine noisy (build.ts
 *  NOISY_SPREAD), so that what it flags is the one-pair model not fitting this link's collectives
 *  (gloo's reduce-scatter at half its all-gather's bus bandwidth; NCCL's small-message protocols),
 *  not the noise of a quiet machine. */
export const FIT_TOLERANCE = 0.25;

export interface FitPoint {
  sample: CollectiveSample;
  predicted: number;
  /** (predicted − measured) / measured. */
  error: number;
}

export interface FitCheck {
  points: FitPoint[];
  /** Those beyond FIT_TOLERANCE. */
  off: FitPoint[];
  worst: FitPoint | null;
}

/** Each sample's time as α and B predict it (the planner's ring forms), against the measured. */
export function fitCheck(samples: readonly CollectiveSample[], alpha: number, bandwidth: number): FitCheck {
  const points = samples.map((sample) => {
    const predicted = predictedTime(sample, alpha, bandwidth);
    return { sample, predicted, error: (predicted - sample.seconds) / sample.seconds };
  });
  const worst = points.reduce<FitPoint | null>((w, p) => (w === null || Math.abs(p.error) > Math.abs(w.error) ? p : w), null);
  return { points, off: points.filter((p) => Math.abs(p.error) > FIT_TOLERANCE), worst };
}

const ms = (s: number) => (s >= 1e-3 ? `${Number((s * 1e3).toPrecision(3))} ms` : `${Number((s * 1e6).toPrecision(3))} us`);
const who = (s: CollectiveSample) => `${s.op} ${s.pair ? `ranks ${s.pair.join("-")}` : `n=${s.ranks}`} ${fmtBytes(s.bytes)}`;

/** One line, as the profiler's other noise warnings: how many points the written pair misses by
 *  more than the tolerance, and the worst. */
function fitWarning(c: FitCheck, link: LinkClass): string {
  const w = c.worst!;
  return `warning: the ${link} link's α and B mispredict ${c.off.length} of its ${c.points.length} measured collectives by more than ${Math.round(FIT_TOLERANCE * 100)}% (worst: ${who(w.sample)} measured ${ms(w.sample.seconds)}, predicted ${ms(w.predicted)}, ${w.error > 0 ? "+" : ""}${Math.round(w.error * 100)}%); the planner prices every collective on it with this one pair, so its communication may be off by as much`;
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
