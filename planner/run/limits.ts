// The bounds a whole-run figure must lie within, the same whether a flag (src/run-args.ts) or a
// profile's "run" section (planner/schema/hardware.ts) gives it: a figure one of them refuses is
// not taken from the other.

export interface RunLimit {
  min: number;
  /** Whether `min` itself is allowed (a restart of 0 s bounds what faster restarts could win; a
   *  bandwidth of 0 writes nothing). */
  minIncluded: boolean;
  max: number;
  /** The range in words, for messages. */
  words: string;
  /** What the figure is, for "give …" in messages (absent: the range alone). */
  what?: string;
}

export const RUN_LIMITS = {
  // Facility / IT energy (ISO/IEC 30134-2:2016): at least 1 by definition; 10 is a facility
  // spending nine times its IT load on cooling and power, beyond any published one (Meta 1.09).
  pue: { min: 1, minIncluded: true, max: 10, words: "from 1 to 10, like 1.1", what: "a PUE" },
  // At most one interruption per 100 GPU-hours: Llama 3's 419 in 54 days on 16,384 GPUs were
  // 2·10⁻⁵ (Dubey et al. 2024 §3.3.4); 10⁻² is a GPU failing every four days. (A profile's only.)
  failuresPerGpuHour: { min: 0, minIncluded: true, max: 0.01, words: "from 0 to 0.01 (one a GPU every 100 hours), like 2e-5", what: "failures per GPU-hour" },
  // Seconds: zero to a hundred years (parse.ts parseDuration's bound).
  restartTime: { min: 0, minIncluded: true, max: 100 * 365 * 86400, words: "from 0 to 100 years, like 10min" },
  // Bytes/s: the fastest published checkpoint storage is a few TB/s (Llama 3's Tectonic 2 TB/s
  // sustained, 7 peak, §3.3.1; DeepSeek 3FS ≈ 6.6 TiB/s read: formulas-scale.md §4.4); 100 TB/s,
  // fifteen times that, is a unit slip, not a cluster.
  // The floor, 1 MB/s, is a hundredth of one hard disk's sequential write (~100-250 MB/s): below
  // it a 1 TB checkpoint takes 12 days, a unit slip ("1e-30 B/s" priced a write at 10^18 years).
  checkpointBandwidth: { min: 1e6, minIncluded: true, max: 100e12, words: "from 1 MB/s to 100 TB/s, like 2 TB/s", what: "an aggregate write bandwidth" },
  // Bytes/s per GPU: NVLink-C2C, the fastest device-to-host link of the profiles, is 900 GB/s
  // (hardware-2026.md); 10 TB/s is a unit slip.
  // The floor, 1 MB/s, as the checkpoint's: a 250th of PCIe 1.0 x1 (250 MB/s), the slowest
  // device-to-host path any GPU has.
  stagingBandwidth: { min: 1e6, minIncluded: true, max: 10e12, words: "from 1 MB/s to 10 TB/s, like 64 GB/s", what: "a per-GPU device-to-host bandwidth" },
} as const satisfies Record<string, RunLimit>;

/** "give <what> <range>", said after what is wrong with a figure. */
export const giveWithin = (l: Pick<RunLimit, "words" | "what">): string => `give ${l.what ? `${l.what} ` : ""}${l.words}`;

/** What is wrong with `v` outside `l`, or null within it: below a floor of 0 or more it is
 *  negative (a negative failure rate was told zod's "expected number to be >=0"), at a floor of 0
 *  left out it must be above zero, else it is out of range. The flags and the profile alike. */
export function outsideLimit(v: number, l: Pick<RunLimit, "min" | "minIncluded" | "max">): string | null {
  if (withinLimit(v, l)) return null;
  if (v < 0 && l.min >= 0) return "is negative";
  return v === 0 && l.min === 0 ? "must be above zero" : "is out of range";
}

/** Whether `v` lies within `l`. */
export function withinLimit(v: number, l: Pick<RunLimit, "min" | "minIncluded" | "max">): boolean {
  return (l.minIncluded ? v >= l.min : v > l.min) && v <= l.max;
}
