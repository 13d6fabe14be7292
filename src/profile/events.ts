// The profiler's events (executor/profiler/common.py): one JSON object per line after the
// prefix `PARAPLAN_PROFILE `, gathered into the measurements a profile is built from.
export const PREFIX = "PARAPLAN_PROFILE ";

export interface MatmulSample {
  dtype: "bf16" | "fp16" | "tf32" | "fp8" | "fp32";
  m: number;
  n: number;
  k: number;
  flops: number;
  seconds: number;
}

/** Repeatability of a timing (executor/profiler/common.py time_call's `samples`): each repeated
 *  batch's seconds per call, and (max − min) / median of them. Absent from older profilers. */
export interface Repeats {
  repeats?: number[];
  spread?: number;
}

export interface ByteSample extends Repeats {
  name: string;
  bytes: number;
  seconds: number;
}

export interface AttentionSample extends Repeats {
  batch: number;
  heads: number;
  seq: number;
  headDim: number;
  flops: number;
  seconds: number;
}

export type CollectiveOp = "all_reduce" | "all_gather" | "reduce_scatter" | "send_recv";

export interface CollectiveSample {
  op: CollectiveOp;
  ranks: number;
  bytes: number;
  seconds: number;
  /** send_recv: the two ranks. */
  pair?: [number, number];
}

export interface Versions {
  torch: string;
  python?: string;
  cuda: string | null;
  threads?: number;
  deviceName?: string;
  capability?: number[];
}

export interface Measurements {
  versions: Versions | null;
  matmul: MatmulSample[];
  copy: ByteSample[];
  kernels: ByteSample[];
  attention: AttentionSample[];
  collectives: CollectiveSample[];
  skipped: { phase: string; label: string; reason: string }[];
  /** Ranks the collectives ran on (0: not run). */
  world: number;
}

export const emptyMeasurements = (): Measurements => ({
  versions: null,
  matmul: [],
  copy: [],
  kernels: [],
  attention: [],
  collectives: [],
  skipped: [],
  world: 0,
});

export type ProfileEvent = Record<string, unknown> & { event: string };

export function parseProfileLine(line: string): ProfileEvent | null {
  const at = line.indexOf(PREFIX);
  if (at < 0) return null;
  try {
    const v = JSON.parse(line.slice(at + PREFIX.length)) as unknown;
    return typeof v === "object" && v !== null && typeof (v as ProfileEvent).event === "string" ? (v as ProfileEvent) : null;
  } catch {
    return null;
  }
}

const pos = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x > 0;

const repeatsOf = (ev: ProfileEvent): Repeats => ({
  ...(Array.isArray(ev.repeats) && ev.repeats.every(pos) ? { repeats: ev.repeats as number[] } : {}),
  ...(typeof ev.spread === "number" && Number.isFinite(ev.spread) && ev.spread >= 0 ? { spread: ev.spread } : {}),
});

/** Add one event's result to `m`; events with missing or non-positive figures are ignored. */
export function collect(m: Measurements, ev: ProfileEvent): void {
  switch (ev.event) {
    case "versions":
      m.versions = ev as unknown as Versions;
      break;
    case "matmul":
      if (pos(ev.flops) && pos(ev.seconds)) m.matmul.push(ev as unknown as MatmulSample);
      break;
    case "copy":
      if (pos(ev.bytes) && pos(ev.seconds)) m.copy.push({ name: "copy", bytes: ev.bytes, seconds: ev.seconds, ...repeatsOf(ev) });
      break;
    case "kernel":
      if (pos(ev.bytes) && pos(ev.seconds)) m.kernels.push({ name: String(ev.name), bytes: ev.bytes, seconds: ev.seconds, ...repeatsOf(ev) });
      break;
    case "attention":
      if (pos(ev.flops) && pos(ev.seconds)) m.attention.push(ev as unknown as AttentionSample);
      break;
    case "collective":
      if (pos(ev.bytes) && pos(ev.seconds) && pos(ev.ranks)) m.collectives.push(ev as unknown as CollectiveSample);
      break;
    case "world":
      if (pos(ev.world)) m.world = ev.world;
      break;
    case "skipped":
      m.skipped.push({ phase: String(ev.phase), label: String(ev.label), reason: String(ev.reason) });
      break;
  }
}
