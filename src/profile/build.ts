// A measured profile: the file that `paraplan profile` writes. It `extends` the closest built-in
// (for what one node cannot measure: the network between nodes, and the datasheet peaks the
// efficiencies are relative to) and overrides what this machine gave, listing those fields in
// `measuredFields`, each with its source.
import { availableParallelism, cpus } from "node:os";
import type { Hardware } from "../../planner/index.js";
import { type Detected, describeNode } from "./detect.js";
import type { Measurements } from "./events.js";
import { fmt } from "./files.js";
import { type LinkPart, linkPart } from "./link.js";
import { type MatmulTable, achievedRate, attentionRate, clampEfficiency, matmulTable } from "./tables.js";
import { plural } from "../format/units.js";

export interface ProfileInput {
  name: string;
  host: string;
  date: string;
  baseName: string;
  base: Hardware;
  device: "cuda" | "cpu";
  detected: Detected;
  m: Measurements;
  quick: boolean;
  /** Ranks the collectives were to run on (1: nothing to measure). */
  ranks: number;
}

export interface SideDtype {
  dtype: string;
  best: number;
  plateau: number;
  peak: number;
}

export interface Built {
  profile: Record<string, unknown>;
  measuredFields: string[];
  notes: string[];
  matmul: { dtype: string; peak: number; table: MatmulTable; side: SideDtype[] } | null;
  copy: { rate: number; ofDatasheet: number } | null;
  kernels: { rate: number; efficiency: number; each: { name: string; efficiency: number }[] } | null;
  attention: { rate: number; efficiency: number } | null;
  link: LinkPart;
}

const eff = (value: number, source: string) => ({ value: Number(clampEfficiency(value).toPrecision(3)), source });

export function buildProfile(i: ProfileInput): Built {
  const by = `measured by paraplan profile on ${i.host} ${i.date}${i.quick ? " (--quick)" : ""}`;
  const measured: string[] = [];
  const notes: string[] = [];
  const gpu: Record<string, unknown> = {};
  const peak: Record<string, unknown> = {};
  const cpu = i.device === "cpu";
  const d0 = i.detected.gpus[0];
  if (!cpu && d0) {
    gpu.name = d0.name;
    gpu.memory = { value: fmt.mib(d0.memory), source: `nvidia-smi --query-gpu=memory.total on ${i.host}` };
    measured.push("gpu.name", "gpu.memory");
  }

  // Matmul: bf16 on GPUs; fp32 on CPU against the base's bf16 peak (cpu.json states it as the
  // fp32 FMA peak, bf16 matmuls running at fp32 speed on CPUs without AMX).
  const tableDtype = cpu ? "fp32" : "bf16";
  let peakBf16 = i.base.peak.bf16;
  const mine = i.m.matmul.filter((s) => s.dtype === tableDtype);
  let matmul: Built["matmul"] = null;
  if (mine.length) {
    const best = Math.max(...mine.map((s) => s.flops / s.seconds));
    if (best > peakBf16) {
      notes.push(`the fastest ${tableDtype} GEMM (${fmt.flops(best)}) beats ${i.baseName}'s peak ${fmt.flops(peakBf16)}: peak set to it`);
      peakBf16 = best;
      const src = { value: fmt.flops(best), source: `${by}: fastest ${tableDtype} GEMM, above ${i.baseName}'s stated peak` };
      for (const p of cpu ? ["bf16", "fp16", "tf32"] : ["bf16"]) {
        peak[p] = src;
        measured.push(`gpu.peak.${p}`);
      }
    }
    const table = matmulTable(mine, peakBf16)!;
    const side: SideDtype[] = [];
    for (const dtype of ["fp16", "tf32", "fp8"] as const) {
      const s = i.m.matmul.filter((x) => x.dtype === dtype);
      const p = dtype === "fp8" ? i.base.peak.fp8 : i.base.peak[dtype];
      if (s.length && p) {
        const t = matmulTable(s, p)!;
        side.push({ dtype, best: t.best, plateau: t.plateau, peak: p });
      }
    }
    const dims = (k: "m" | "n" | "k") => [...new Set(mine.map((s) => s[k]))];
    const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}..${Math.max(...xs)}`);
    const sideText = side.map((s) => `${s.dtype} plateau ${fmt.pct(s.plateau)} of ${fmt.flops(s.peak)}`).join(", ");
    gpu.matmulEfficiency = {
      source:
        `${by}: ${tableDtype} ${cpu ? "nn.Linear calls as the worker makes them (module call, op dispatch and autograd node included)" : "torch.matmul"} over ${mine.length} GEMM shapes of transformer layers (m = tokens ${range(dims("m"))}, ` +
        `n, k ${range([...dims("n"), ...dims("k")])} = hidden/tp multiples), median per half-decade of GEMM FLOPs (2mnk), ` +
        `against ${fmt.flops(peakBf16)}${peak.bf16 ? " (the measured best)" : ` (${i.baseName}'s bf16 peak)`}; ` +
        `best ${fmt.flops(table.best)}` + (sideText ? `; ${sideText}` : ""),
      points: table.points,
    };
    measured.push("gpu.matmulEfficiency");
    matmul = { dtype: tableDtype, peak: peakBf16, table, side };
  } else notes.push(`no ${tableDtype} matmul was measured: gpu.matmulEfficiency keeps ${i.baseName}'s table`);

  // HBM: copy rate (raises the datasheet figure only if it beats it), memory-bound kernels → efficiency.
  let bw = i.base.memoryBandwidth;
  const copyRate = achievedRate(i.m.copy);
  let copy: Built["copy"] = null;
  if (copyRate !== null) {
    if (copyRate > bw) {
      notes.push(`the copy (${fmt.bandwidth(copyRate)}) beats ${i.baseName}'s memory bandwidth ${fmt.bandwidth(bw)}: set to it`);
      bw = copyRate;
      gpu.memoryBandwidth = { value: fmt.bandwidth(bw), source: `${by}: device-to-device copy, bytes read + written, above ${i.baseName}'s stated rate` };
      measured.push("gpu.memoryBandwidth");
    }
    copy = { rate: copyRate, ofDatasheet: copyRate / bw };
  }
  const kernelRate = achievedRate(i.m.kernels);
  let kernels: Built["kernels"] = null;
  if (kernelRate !== null) {
    const each = i.m.kernels.map((k) => ({ name: k.name, efficiency: k.bytes / k.seconds / bw }));
    kernels = { rate: kernelRate, efficiency: kernelRate / bw, each };
    gpu.memoryBandwidthEfficiency = eff(
      kernelRate / bw,
      `${by}: ${each.map((k) => `${k.name} ${fmt.pct(k.efficiency)}`).join(", ")} of ${fmt.bandwidth(bw)}, bytes as the planner counts them ` +
        `(2 per element; total bytes / total time ${fmt.bandwidth(kernelRate)})` +
        (copy ? `; a large device copy reaches ${fmt.bandwidth(copy.rate)} (${fmt.pct(copy.ofDatasheet)}, bytes read + written)` : ""),
    );
    measured.push("gpu.memoryBandwidthEfficiency");
  }

  const attRate = attentionRate(i.m.attention);
  let attention: Built["attention"] = null;
  if (attRate !== null) {
    attention = { rate: attRate, efficiency: attRate / peakBf16 };
    const shapes = i.m.attention.map((a) => `b${a.batch}·a${a.heads}·s${a.seq}·d${a.headDim}`).join(", ");
    gpu.attentionEfficiency = eff(
      attention.efficiency,
      `${by}: causal scaled_dot_product_attention forward + backward (${shapes}), work as the planner times it (causal keys, backward 2.5×: 3.5 × 4·b·s·k̄·h), ${fmt.flops(attRate)} of ${fmt.flops(peakBf16)}`,
    );
    measured.push("gpu.attentionEfficiency");
  }
  if (Object.keys(peak).length) gpu.peak = peak;
  notes.push(...noisyNotes(i.m));

  const link = linkPart({ device: i.device, detected: i.detected, base: i.base, baseName: i.baseName, m: i.m, by, ranks: i.ranks });
  measured.push(...link.measured);
  notes.push(...link.notes);
  const node: Record<string, unknown> = {};
  if (!cpu && i.detected.gpus.length) {
    node.gpusPerNode = { value: i.detected.gpus.length, source: `nvidia-smi on ${i.host}: ${i.detected.gpus.length} GPUs` };
    measured.push("node.gpusPerNode");
  }
  if (Object.keys(link.link).length) node.link = link.link;
  // The base's node power is a whole node's, which the energy divides by the GPUs a node holds
  // (planner/run/figures.ts): on a machine of fewer (a cloud slice of one GPU) it would be an
  // 8-GPU node's power a GPU. Its per-GPU share is kept instead, scaled to the GPUs found.
  const run: Record<string, unknown> = {};
  const n = i.detected.gpus.length;
  const basePower = i.base.run?.nodePower;
  if (!cpu && n > 0 && basePower !== undefined && n !== i.base.gpusPerNode)
    run.nodePower = { value: `${(basePower * n) / i.base.gpusPerNode} W`, source: `${i.baseName}'s node power, ${basePower} W for ${i.base.gpusPerNode} GPUs, at its share for the ${n} GPU${n > 1 ? "s" : ""} found (run.nodePower is a whole node's, divided by node.gpusPerNode)` };
  // On a PCIe node each GPU's network traffic crosses its PCIe link to the NIC (the profile check,
  // planner/schema/consistency.ts): an NVLink base's network above this node's PCIe link is capped
  // at the link, the rest of the base's network kept.
  const network: Record<string, unknown> = {};
  if (link.node?.kind === "pcie" && i.base.inter.bandwidth > link.node.rate) {
    network.bandwidth = { value: fmt.bandwidth(link.node.rate), source: `${i.baseName}'s network (${fmt.bandwidth(i.base.inter.bandwidth)} per GPU) capped at this node's PCIe link: each GPU's network traffic crosses it` };
    notes.push(`network between nodes: ${i.baseName}'s figures (one node cannot measure it), its ${fmt.bandwidth(i.base.inter.bandwidth)} per GPU capped at the PCIe link's ${fmt.bandwidth(link.node.rate)}`);
  } else notes.push(`network between nodes: ${i.baseName}'s figures (one node cannot measure it)`);

  const v = i.m.versions;
  // cuda: the CUDA runtime torch was built with (what the kernels ran on); the driver's CUDA
  // version (nvidia-smi's banner) is added when it differs.
  const versions: Record<string, string> = {
    torch: v?.torch ?? "unknown",
    cuda: v?.cuda ?? i.detected.cuda ?? "none",
    driver: i.detected.driver ?? "none",
  };
  if (i.detected.cuda && i.detected.cuda !== versions.cuda) versions.driverCuda = i.detected.cuda;
  if (v?.python) versions.python = v.python;
  const what = cpu
    ? `${plural(availableParallelism(), "CPU core")} (${cpus()[0]?.model.trim() ?? "unknown model"}), ${plural(i.ranks, "gloo rank")} of ${v?.threads === undefined ? "? threads" : plural(v.threads, "thread")}`
    : describeNode(i.detected);
  const profile: Record<string, unknown> = {
    name: i.name,
    description: `Measured by paraplan profile on ${i.host} (${i.date}${i.quick ? ", --quick" : ""}): ${what}; extends ${i.baseName} for what was not measured (see measuredFields)`,
    extends: i.baseName,
    measured: true,
    measuredOn: i.date,
    versions,
    measuredFields: measured,
    ...(Object.keys(gpu).length ? { gpu } : {}),
    ...(Object.keys(node).length ? { node } : {}),
    ...(Object.keys(run).length ? { run } : {}),
    ...(Object.keys(network).length ? { network } : {}),
  };
  return { profile, measuredFields: measured, notes, matmul, copy, kernels, attention, link };
}


/** Spread of repeated timings above which the machine is called noisy: 20% (QA: three CPU runs
 *  minutes apart gave memoryBandwidthEfficiency 0.361 / 0.397 / 0.088). */
export const NOISY_SPREAD = 0.2;

/** One warning line per measurement whose repeats spread beyond NOISY_SPREAD. */
export function noisyNotes(m: Measurements): string[] {
  const each = [
    ...m.copy.map((s) => ({ what: "copy", s })),
    ...m.kernels.map((s) => ({ what: s.name, s })),
    ...m.attention.map((s) => ({ what: `attention b${s.batch}·a${s.heads}·s${s.seq}·d${s.headDim}`, s })),
  ];
  return each
    .filter(({ s }) => (s.spread ?? 0) > NOISY_SPREAD)
    .map(({ what, s }) => `warning: noisy machine: ${what} varied ${fmt.pct(s.spread!)} over ${s.repeats?.length ?? "its"} repeats (above ${fmt.pct(NOISY_SPREAD)}); its figure may not repeat, measure again on an idle machine`);
}
