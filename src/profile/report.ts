// What `paraplan profile` prints: the node detected, then each measured figure against the
// datasheet figure it is relative to, the notes, and where the profile was written.
import type { Built } from "./build.js";
import type { CollectiveFit } from "./collective-fit.js";
import { type Detected, describeNode } from "./detect.js";
import { fmt } from "./files.js";
import { fmtBytes } from "./link.js";

export function detectionLines(d: Detected, host: string, base: string | null): string[] {
  const lines = [`${host}: ${describeNode(d)}`];
  if (d.device === "cuda") lines.push(`driver ${d.driver ?? "unknown"}, CUDA ${d.cuda ?? "unknown"}`);
  const s = d.summary;
  if (s) {
    lines.push(`intra-node link: ${s.linkKind}${s.nvswitch ? " (NVSwitch)" : ""}`);
    if (s.nvlinkPairs.length && !s.allPairsNvlink) lines.push(`NVLink pairs: ${s.nvlinkPairs.map((p) => `${p.a}-${p.b} (NV${p.links})`).join(", ")}`);
  }
  const speeds = d.nvlink.filter((g) => g.active.length);
  if (speeds.length) {
    const g = speeds[0]!;
    lines.push(`NVLink: ${g.active.length} active links per GPU at ${(g.active[0]! / 1e9).toPrecision(5)} GB/s each way`);
  }
  lines.push(base ? `closest built-in: ${base}` : "closest built-in: none matches this GPU (pass --base NAME)");
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines;
}

function fitLine(f: CollectiveFit): string {
  const who = f.pair ? `ranks ${f.pair.join("-")}` : `n=${f.ranks}`;
  return `  ${f.op.padEnd(14)} ${who.padEnd(10)} ${f.link.padEnd(8)} α ${fmt.latency(f.alpha).padStart(9)}  B ${fmt.bandwidth(f.bandwidth).padStart(11)}  busbw@${fmtBytes(f.largestBytes)} ${fmt.bandwidth(f.largestBusbw)}`;
}

export function resultLines(b: Built): string[] {
  const out: string[] = [];
  if (b.matmul) {
    const { table, peak, dtype, side } = b.matmul;
    const pts = table.points;
    out.push(
      `matmul ${dtype}: best ${fmt.flops(table.best)} (${fmt.pct(table.best / peak)} of ${fmt.flops(peak)}), plateau ${fmt.pct(table.plateau)}; ` +
        `table of ${pts.length} points from ${pts[0]![0].toExponential(1)} to ${pts[pts.length - 1]![0].toExponential(1)} FLOPs (${table.shapes} shapes)`,
    );
    for (const s of side) out.push(`  ${s.dtype}: best ${fmt.flops(s.best)}, plateau ${fmt.pct(s.plateau)} of ${fmt.flops(s.peak)}`);
  }
  if (b.copy) out.push(`memory copy: ${fmt.bandwidth(b.copy.rate)} (${fmt.pct(b.copy.ofDatasheet)} of the profile's memory bandwidth), bytes read + written`);
  if (b.kernels)
    out.push(
      `memory-bound kernels: ${fmt.bandwidth(b.kernels.rate)} → memoryBandwidthEfficiency ${b.kernels.efficiency.toPrecision(3)} (` +
        b.kernels.each.map((k) => `${k.name} ${fmt.pct(k.efficiency)}`).join(", ") + ")",
    );
  if (b.attention) out.push(`attention: ${fmt.flops(b.attention.rate)} → attentionEfficiency ${b.attention.efficiency.toPrecision(3)}`);
  const n = b.link.node;
  if (n) {
    out.push(
      `interconnect (${n.link}): α ${fmt.latency(n.alpha)}, B ${fmt.bandwidth(n.achieved)} per rank → collectiveEfficiency ${n.efficiency.toPrecision(3)} of ${fmt.bandwidth(n.rate)}`,
    );
    for (const f of b.link.fits) out.push(fitLine(f));
  }
  for (const note of b.notes) out.push(note.startsWith("warning: ") ? note : `note: ${note}`);
  return out;
}
