// GPU generations: the key of an engine's per-generation figures (planner/engine.ts
// Engine.attention.efficiency), read from a hardware profile's GPU name.
import type { Hardware } from "./types.js";

/** The GPU generation an engine's per-generation figures are keyed by, from the profile's GPU name:
 *  the most specific (longest) one named, not the leftmost ("B200 (GB200) 186GB" is GB200). */
export function gpuGeneration(hw: Pick<Hardware, "gpuName">): string {
  const all = [...hw.gpuName.matchAll(GENERATION)].map((m) => m[1]!.toUpperCase());
  return all.reduce<string | undefined>((a, g) => (a === undefined || g.length > a.length ? g : a), undefined) ?? hw.gpuName;
}

/** The generations an engine's per-generation figures may name (gpuGeneration's). */
export const GPU_GENERATIONS: readonly string[] = ["A100", "H100", "H200", "H800", "H20", "L40S", "L40", "B200", "B100", "GB200", "V100", "A10", "A10G", "MI300", "MI300X"];
const GENERATION = new RegExp(`\\b(${GPU_GENERATIONS.slice().sort((a, b) => b.length - a.length).join("|")})\\b`, "gi");

/** Generations built on another's die and SM, whose kernels reach the same fraction of the same
 *  16-bit peak: the H200 is the H100's GH100 with more and faster HBM (NVIDIA H200 datasheet
 *  2024), the H800 the H100 SXM's compute with NVLink cut (Zhao et al., ISCA 2025 §4.1). An
 *  engine that lists no figure of its own for them uses the H100's, so a refit of the H100 figure
 *  carries over. (Not the H20: the same SM at a fraction of the clocks and units.) */
export const SAME_SM: Readonly<Record<string, string>> = { H200: "H100", H800: "H100" };
