// An engine file's per-GPU keys (attention.efficiency: { "H100": 0.45 }) are matched without case
// (the GPU's name is upper-cased to find its generation, planner/engine.ts). Each file is brought
// to upper-case keys before `extends` merges it, so that a file's "h100" replaces its base's "H100"
// rather than sitting beside it; two keys of one file that differ only in case are one key given
// twice, and which of the two figures was meant cannot be told (JSON's last-wins picked one).
import { GPU_GENERATIONS } from "../engine.js";
import type { Parsed } from "./result.js";

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

/** The file with its known GPU generations' keys upper-cased (an unknown key is left as written,
 *  for the parser to name as a typo), or a message naming two keys that differ only in case. */
export function generationKeys(raw: unknown, origin: string): Parsed<unknown> {
  if (!isObj(raw) || !isObj(raw.attention) || !isObj(raw.attention.efficiency)) return { ok: true, value: raw };
  const out: Json = {};
  const seen = new Map<string, string>();
  for (const [k, v] of Object.entries(raw.attention.efficiency)) {
    const up = k.toUpperCase();
    const before = seen.get(up);
    if (before !== undefined) return { ok: false, message: `${origin}: field "attention.efficiency": "${before}" and "${k}" are the same GPU generation given twice; keep one` };
    seen.set(up, k);
    out[GPU_GENERATIONS.includes(up) ? up : k] = v;
  }
  return { ok: true, value: { ...raw, attention: { ...raw.attention, efficiency: out } } };
}
