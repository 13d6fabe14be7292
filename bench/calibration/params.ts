// The fitted parameter vector of the calibration: a few named multipliers of the profiles'
// efficiencies, each physically bounded (an efficiency never above 1). Keys:
//   matmul:<family>    the matmul efficiency table of a GPU family (a100, h100; the 500 W H100
//                      shares h100's, its power prior applied in its own profile)
//   attention:<family> the attention-core efficiency of the family
//   engine:<name>      an engine's kernel efficiency relative to Megatron's fused kernels (matmul,
//                      attention and memory-bound work together); Megatron's engines are the
//                      reference (1) so hardware and engine are not collinear.
// Prior: 1 for every key (the profile's values). A key no training row uses keeps its prior.
import type { Hardware } from "../../planner/index.js";
import type { EngineName } from "./engine-knobs.js";

export type ParamVector = Record<string, number>;

/** Engines whose kernels the hardware profiles were calibrated with (Megatron's fused kernels). */
const REFERENCE_ENGINES: readonly EngineName[] = ["megatron-core", "megatron-2021"];

export function familyOf(profile: string): string {
  if (profile.includes("a100")) return "a100";
  if (profile.includes("h100")) return "h100";
  return profile;
}

/** The keys a row's prediction depends on. */
export function keysOf(profile: string, engine: EngineName): string[] {
  const f = familyOf(profile);
  const keys = [`matmul:${f}`, `attention:${f}`];
  if (!REFERENCE_ENGINES.includes(engine)) keys.push(`engine:${engine}`);
  return keys;
}

const get = (p: ParamVector, k: string) => p[k] ?? 1;

/** The profile with its efficiencies multiplied by the vector's entries for this family and
 *  engine, each capped at 1. */
export function scaledHardware(hw: Hardware, profile: string, engine: EngineName, p: ParamVector): Hardware {
  const f = familyOf(profile);
  const e = REFERENCE_ENGINES.includes(engine) ? 1 : get(p, `engine:${engine}`);
  const mm = get(p, `matmul:${f}`) * e;
  const at = get(p, `attention:${f}`) * e;
  if (mm === 1 && at === 1 && e === 1) return hw;
  return {
    ...hw,
    matmul: { ...hw.matmul, points: hw.matmul.points.map(([x, y]) => [x, Math.min(1, y * mm)] as const) },
    attentionEfficiency: Math.min(1, hw.attentionEfficiency * at),
    memoryBandwidthEfficiency: Math.min(1, hw.memoryBandwidthEfficiency * e),
  };
}

/** Bounds of each key: efficiencies stay in (0, 1] — a matmul multiplier at most 1/(best point),
 *  an attention multiplier at most 1/attentionEfficiency; an engine multiplier between 0.3 and
 *  1.3 (an engine's kernels neither a third of Megatron's nor far beyond them). */
export function boundsOf(key: string, hws: Hardware[]): [number, number] {
  if (key.startsWith("engine:")) return [0.3, 1.3];
  const best = key.startsWith("matmul:") ? Math.max(...hws.flatMap((h) => h.matmul.points.map((q) => q[1]))) : Math.max(...hws.map((h) => h.attentionEfficiency));
  return [0.3, 1 / best];
}
