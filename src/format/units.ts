// Human-readable numbers for terminal output (display only; all arithmetic stays in planner/).
import type { Hardware, LinkKind } from "../../planner/types.js";

/** The node link's name as vendors write it. */
export const linkName = (kind: LinkKind): string => ({ nvlink: "NVLink", pcie: "PCIe", "infinity-fabric": "Infinity Fabric" })[kind];

/** The node's link where some group can use it; null where each NVLink domain (the node, without
 *  a fabric) holds one GPU, so every group crosses the network (QA: a 1-GPU-a-node profile's header
 *  quoted NVLink 450 GB/s). The plan header and --json's cluster.intraNodeLink say the same. */
export function intraNodeLink(hw: Pick<Hardware, "gpusPerNode" | "intra" | "fabric">): { kind: LinkKind; bandwidth: number } | null {
  return (hw.fabric?.nvlinkDomain ?? hw.gpusPerNode) > 1 ? { kind: hw.intra.kind as LinkKind, bandwidth: hw.intra.bandwidth } : null;
}
/** A number with thousands separators and exactly `digits` decimals ("3,406,246,413.5"). */
export function grouped(n: number, digits = 0): string {
  // As toLocaleString("en-US") writes it, without loading ICU's number formatting at a CLI's
  // start (~20–45 ms of `plan`): ICU rounds the shortest decimal form of n half away from zero
  // (1.005 → "1.01", where toFixed's binary rounding gives "1.00"), so round that string here.
  const text = String(Math.abs(n));
  if (!Number.isFinite(n) || !/^\d+(\.\d+)?$/.test(text) || !Number.isInteger(digits) || digits < 0 || digits > 20)
    return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const [whole, frac = ""] = text.split(".") as [string, string?];
  let units = BigInt(whole + frac.slice(0, digits).padEnd(digits, "0")); // n in units of 10^-digits
  if ((frac[digits] ?? "0") >= "5") units += 1n;
  const s = units.toString().padStart(digits + 1, "0");
  const intPart = s.slice(0, s.length - digits).replace(/\B(?=(\d{3})+$)/g, ",");
  const sign = n < 0 || Object.is(n, -0) ? "-" : "";
  return `${sign}${intPart}${digits > 0 ? `.${s.slice(s.length - digits)}` : ""}`;
}

export function gib(bytes: number): string {
  const g = bytes / 2 ** 30;
  return g >= 100 ? `${grouped(g)} GiB` : g >= 10 ? `${g.toFixed(1)} GiB` : `${g.toFixed(2)} GiB`;
}

/** A measured size: GiB from 1 GiB, below it MiB, below 1 MiB KiB (a small CPU run's peak is not
 *  "0.00 GiB"); `paraplan execute` and the interactive planner's run screen print it so. */
export function size(bytes: number): string {
  return bytes >= 2 ** 30 ? gib(bytes) : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Bytes in GiB as the other screens print them; below 0.01 GiB, which "0.00 GiB" would hide (a
 *  CPU plan's weights), in MiB or KiB (size). */
export const bytesShown = (b: number): string => (b > 0 && b < 0.01 * 2 ** 30 ? size(b) : gib(b));

/** Model FLOP/s per device: whole TFLOP/s from 1 on (a GPU's), below that GFLOP/s or MFLOP/s to
 *  three figures (a CPU core's), where "0 TFLOP/s" would hide it. */
export function flopRate(tflops: number): string {
  if (tflops >= 1) return `${tflops.toFixed(0)} TFLOP/s`;
  return tflops * 1e3 >= 1 ? `${(tflops * 1e3).toPrecision(3)} GFLOP/s` : `${(tflops * 1e6).toPrecision(3)} MFLOP/s`;
}

/** TFLOP/s in a column headed so: grouped whole from 1 on, below it three figures (0.0342), not 0. */
export const tflopsCell = (tflops: number): string => (tflops >= 1 || tflops === 0 ? grouped(tflops) : String(Number(tflops.toPrecision(3))));

export function seconds(s: number): string {
  if (s === 0) return "0";
  if (s >= 100) return `${grouped(s)} s`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(s >= 0.1 ? 0 : 1)} ms`;
  return `${(s * 1e6).toFixed(0)} us`;
}

/** "1 step", "2 steps", "1 CUDA device": a count and its noun, singular for exactly one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** An integer with thousands separators, as toLocaleString("en-US") writes it (without loading
 *  ICU's number formatting, ~20 ms at a CLI's start). */
export function count(n: number): string {
  const r = Math.round(n);
  if (!Number.isSafeInteger(r) || Object.is(r, -0)) return r.toLocaleString("en-US");
  return String(r).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** 175B, 1.3B, 24,000T; beyond a million of the largest unit (10^18) scientific: 2.4e31. The unit
 *  is the one the rounded figure is under 1,000 of: Gemma 3 1B's 999,885,952 parameters are 1.0B,
 *  not "1,000M" (QA), and 99.96M is 100M, not "100.0M". */
export function compact(n: number): string {
  if (Math.abs(n) >= 1e18) return n.toExponential(1).replace("e+", "e");
  const units: [number, string][] = [[1, ""], [1e3, "k"], [1e6, "M"], [1e9, "B"], [1e12, "T"]];
  const shown = (i: number): string => {
    const x = n / units[i]![0];
    return i === 0 ? x.toFixed(0) : `${Math.abs(x) >= 99.95 ? grouped(x) : x.toFixed(1)}${units[i]![1]}`;
  };
  let i = units.length - 1;
  while (i > 0 && Math.abs(n) < units[i]![0]) i--;
  // (rounding up to 1,000 of a unit is 1.0 of the next)
  return i < units.length - 1 && Math.abs(Number(shown(i).replace(/[^0-9.]/g, ""))) >= 1000 ? shown(i + 1) : shown(i);
}

/** Most fraction digits a share just under 100% is given (99.999999%) before it is said as "<100%". */
const MAX_PERCENT_DIGITS = 6;

/** 53.2%, 1902.6%; separators from five digits on (4,276,654,011.7%). A share below 100% that
 *  would round to it takes the digits that show it is below (99.96%, not 100.0%: QA, a goodput of
 *  0.99963 read as all of the time); beyond MAX_PERCENT_DIGITS it is "<100%". */
export function percent(x: number, digits = 1): string {
  const v = 100 * x;
  if (v < 100 && Number(v.toFixed(digits)) >= 100) {
    for (let d = digits + 1; d <= MAX_PERCENT_DIGITS; d++) if (Number(v.toFixed(d)) < 100) return `${v.toFixed(d)}%`;
    return "<100%";
  }
  return `${Math.abs(v) >= 1e4 ? grouped(v, digits) : v.toFixed(digits)}%`;
}

export function bandwidth(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e9).toFixed(bytesPerSecond >= 1e11 ? 0 : 1)} GB/s`;
}

/** Left- or right-aligned fixed-width table. A last column without a heading (a marker, the
 *  sweep's ◀) has no rule under it: a lone "-" at the rule's end read as a stray column. (A first
 *  one, the row labels' column, keeps its rule.) */
export function table(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((w, i) => (header[i] === "" && i === header.length - 1 ? "" : "-".repeat(w)))), ...rows.map(line)].join("\n");
}
